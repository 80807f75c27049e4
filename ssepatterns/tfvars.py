"""The input values a root module will see, read the way Terraform reads them (python-hcl2).

./inv must act as the principal Terraform acts as (profile, assume_role_arn) and refuse a wrong account
before Terraform starts, so it reads the same sources, in Terraform's order of precedence (later wins):
TF_VAR_<name> environment variables, terraform.tfvars, terraform.tfvars.json, *.auto.tfvars and
*.auto.tfvars.json in lexical order, then every --var-file in the order given. `-var` on the command line
is not used by ./inv. Only literal values are understood; that is all a variable file may hold.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ssepatterns import hcl
from ssepatterns.errors import ProjectError

ENV_PREFIX = "TF_VAR_"


def default_files(workdir: Path) -> list[Path]:
    """The variable files Terraform loads by itself from a root module's folder."""
    found = [workdir / "terraform.tfvars", workdir / "terraform.tfvars.json"]
    auto = sorted(
        [*workdir.glob("*.auto.tfvars"), *workdir.glob("*.auto.tfvars.json")], key=lambda path: path.name
    )
    return [path for path in [*found, *auto] if path.is_file()]


def read_file(path: Path) -> dict[str, Any]:
    """The values of one variable file (HCL or JSON); a clear error when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ProjectError(f"cannot read variable file {path}: {error.strerror}") from None
    if path.name.endswith(".json"):
        try:
            values = json.loads(text)
        except ValueError as error:
            raise ProjectError(f"variable file {path} is not valid JSON: {error}") from None
    else:
        try:
            values = hcl.values(text, str(path))
        except hcl.HclError as error:
            raise ProjectError(f"variable file {error}") from None
    if not isinstance(values, dict):
        raise ProjectError(f"variable file {path} must assign variables (name = value)")
    return values


def values(
    workdir: Path, var_files: Sequence[Path] = (), environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Every value set for the root module in `workdir`, later sources overriding earlier ones.

    TF_VAR_ values are strings as given (Terraform converts them to the variable's type); only the
    identity inputs are read from them here, and those are strings or lists given as HCL.
    """
    result: dict[str, Any] = {}
    for name, raw in (environ or {}).items():
        if name.startswith(ENV_PREFIX):
            result[name[len(ENV_PREFIX) :]] = _env_value(raw)
    for path in [*default_files(workdir), *var_files]:
        if not path.is_file():
            raise ProjectError(f"variable file {path} not found")
        result.update(read_file(path))
    return result


def _env_value(raw: str) -> Any:
    """A TF_VAR_ value: a list or map is written in HCL (["a", "b"]), anything else is the string."""
    if raw.lstrip().startswith(("[", "{")):
        try:
            return hcl.values(f"v = {raw}")["v"]
        except (hcl.HclError, KeyError):
            return raw
    return raw
