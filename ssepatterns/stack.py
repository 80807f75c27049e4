"""Deploy, inspect and remove the stack of one env with as few terraform commands as it needs.

Each terraform command pays several seconds of AWS-provider start-up on a small machine, so:
init only when the working directory is not current; one `plan -out` and an `apply` of that saved
plan only when the plan has changes; outputs without a provider (`terraform output -json`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ssepatterns import drift, lambda_zip
from ssepatterns.emulator import control
from ssepatterns.envs import Env, with_venv_on_path, without_endpoint_overrides
from ssepatterns.errors import ProjectError
from ssepatterns.leftovers import find_leftovers
from ssepatterns.paths import BUILD_DIR, EXAMPLES_DIR, REPO_ROOT, TERRAFORM_DIR
from ssepatterns.plumbing import Clients
from ssepatterns.provider_mirror import (
    AWS_PROVIDER_VERSION,
    MIRROR_ENV_VAR,
    candidate_dirs,
    find_provider_mirror,
)
from ssepatterns.steps import step
from ssepatterns.terraform import Terraform, TerraformError

# Outputs that carry credentials: never printed, never written to reports.
SENSITIVE_OUTPUTS = frozenset({"operator_credentials"})


def terraform_for(env: Env, echo: bool = True) -> Terraform:
    return Terraform(
        env.workdir, env=env.process_env, echo=echo, data_dir=env.data_dir, unlock_command=unlock_command(env)
    )


def unlock_command(env: Env) -> str:
    """The ./inv command that releases a lock of env's state ("{lock_id}" left to fill in)."""
    where = f" --region {env.region}" if env.name != "local" else ""
    return f"./inv unlock --env {env.name}{where} --lock-id {{lock_id}}"


def ensure_init(env: Env, tf: Terraform) -> None:
    backend_config: list[str] = []
    reconfigure = False
    if env.backend is not None:
        backend_config = env.backend.init_config
        if env.backend.settings_file is not None and env.identity is not None and env.data_dir is not None:
            backend_config.append(str(_identity_backend_file(env)))
        reconfigure = _backend_moves(env, tf)
    _ensure_init(env.label, tf, env.process_env, backend_config, reconfigure=reconfigure)


def _identity_backend_file(env: Env) -> Path:
    """The backend acts as the same principal as the provider: its profile and role, as a settings
    file of their own in the region's data folder (they are per user, the bucket is per account)."""
    assert env.identity is not None and env.data_dir is not None
    lines = []
    if env.identity.profile:
        lines.append(f"profile = {json.dumps(env.identity.profile)}")
    if env.identity.assume_role_arn:
        lines += [
            "assume_role = {",
            f"  role_arn     = {json.dumps(env.identity.assume_role_arn)}",
            '  session_name = "sse-patterns-terraform"',
            "}",
        ]
    path = env.data_dir / "identity.s3.tfbackend"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(line + "\n" for line in lines)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def _backend_moves(env: Env, tf: Terraform) -> bool:
    """True when the data folder was initialised for the same state before (only the identity may
    differ: re-initialise with -reconfigure); an error when it pointed at other state, which
    -reconfigure would silently leave behind."""
    assert env.backend is not None
    where = tf.dot_dir / "ssepatterns-backend.txt"
    now = env.backend.describe()
    before = where.read_text(encoding="utf-8").strip() if where.is_file() else None
    if before is not None and before != now:
        raise ProjectError(
            f"the {env.label} data folder {tf.dot_dir} was initialised for {before}, not {now}: "
            "move the state with `terraform init -migrate-state` there, or remove the folder"
        )
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_text(now + "\n", encoding="utf-8")
    return before is not None


def init_plain(label: str, tf: Terraform, process_env: Mapping[str, str]) -> None:
    """init with the root's own backend settings (none to add): a copied tree, a bootstrap."""
    _ensure_init(label, tf, process_env)


def _ensure_init(
    label: str,
    tf: Terraform,
    process_env: Mapping[str, str],
    backend_config: Sequence[str] = (),
    backend: bool = True,
    reconfigure: bool = False,
) -> None:
    tf.require_version()
    if not tf.needs_init(backend_config, backend):
        return
    mirror = find_provider_mirror(process_env)
    source = f"offline, provider mirror {mirror}" if mirror else "from the Terraform registry"
    with step(f"terraform init [{label}] ({source})"):
        try:
            tf.init(
                plugin_dir=mirror, backend_config=backend_config, backend=backend, reconfigure=reconfigure
            )
        except TerraformError as error:
            if mirror is not None:
                raise
            looked = ", ".join(str(d) for d in candidate_dirs(process_env))
            raise ProjectError(
                f"no provider available: hashicorp/aws {AWS_PROVIDER_VERSION} is in no filesystem mirror "
                f"(looked in {looked}; set {MIRROR_ENV_VAR} to one) and the Terraform registry could not "
                f"provide it:\n{error}"
            ) from None


def validate(root: Path) -> None:
    """terraform validate needs no credentials, no endpoint and no backend: a neutral environment,
    `init -backend=false` in a data folder of its own (a root's real one keeps its backend)."""
    process_env = with_venv_on_path(without_endpoint_overrides(os.environ))
    name = root.relative_to(REPO_ROOT).as_posix()
    data_dir = BUILD_DIR / "terraform" / "validate" / name.replace("/", "-")
    tf = Terraform(root, env=process_env, data_dir=data_dir)
    _ensure_init(name, tf, process_env, backend=False)
    with step(f"terraform validate [{name}]"):
        tf.validate()


def terraform_fmt_check() -> list[str]:
    """Unformatted files under terraform/ and examples/, as paths relative to the repository."""
    Terraform(REPO_ROOT, env=os.environ).require_version()
    unformatted: list[str] = []
    for tree in (TERRAFORM_DIR, EXAMPLES_DIR):
        tf = Terraform(tree, env=os.environ)
        prefix = tree.relative_to(REPO_ROOT).as_posix()
        unformatted += [f"{prefix}/{path}" for path in tf.fmt_check(recursive=True)]
    return unformatted


def build() -> list[lambda_zip.BuiltPackage]:
    with step("build Lambda zips"):
        packages = lambda_zip.build_all()
        for package in packages:
            state = "written" if package.changed else "unchanged"
            print(f"    {package.path.name}: sha256 {package.sha256[:16]}… ({state})")
    return packages


def state_text(env: Env, tf: Terraform) -> str:
    """The state's JSON text from its backend: `terraform state pull`, or, for the local backend, its
    file in the root, which is all that pull would read (without the 0.6 s the command costs); "" before
    the first apply wrote one."""
    local = _local_state_file(env)
    if local is None:
        return tf.state_pull()
    try:
        return local.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def _local_state_file(env: Env) -> Path | None:
    """Where the local backend keeps the state of the default workspace; None when terraform has to be
    asked (a remote backend, or another workspace selected: its state lives in terraform.tfstate.d/)."""
    if env.backend is not None:
        return None
    selected = env.process_env.get("TF_WORKSPACE") or os.environ.get("TF_WORKSPACE")
    marker = env.workdir / ".terraform" / "environment"
    if selected not in (None, "", "default") or (
        marker.exists() and marker.read_text(encoding="utf-8").strip() not in ("", "default")
    ):
        return None
    return env.workdir / "terraform.tfstate"


def plan(env: Env, tf: Terraform, lock_timeout: str | None = None) -> bool:
    """Save a plan for env to env.plan_file; True when it would change something."""
    env.plan_file.parent.mkdir(parents=True, exist_ok=True)
    replace = drift.replacements(env, state_text(env, tf))  # what no plan can see: BlockedEncryptionTypes
    with step(f"terraform plan [{env.label}]"):
        return tf.plan(
            out=env.plan_file,
            variables=env.variables,
            var_files=env.var_files,
            lock_timeout=lock_timeout,
            replace=replace,
        )


def apply(env: Env, tf: Terraform) -> bool:
    """Plan and, when there is anything to do, apply that plan. True when something changed."""
    changes = plan(env, tf)
    if not changes:
        print(f"No changes: the {env.label} stack matches the configuration.")
        return False
    with step(f"terraform apply [{env.label}]"):
        try:
            tf.apply(env.plan_file)
        finally:
            save_emulator(env)
    return True


def save_emulator(env: Env) -> None:
    """On the local env, have the emulator write its state now, not only when it stops: after this, a
    crash of the emulator loses nothing that Terraform recorded (see local_world)."""
    if env.emulator is None:
        return
    try:
        control.save(env.emulator)
    except ProjectError as error:  # never instead of the error of the apply that came before
        print(f"warning: {error}; a crash of the emulator now would lose what changed since it started")


def destroy(env: Env, tf: Terraform) -> bool:
    """Destroy the stack, then check by name that nothing it created is left.

    One `terraform destroy -auto-approve` rather than a saved destroy plan and its apply: the command
    is this task's own confirmation, and it saves a provider start-up.
    """
    before = tf.outputs()
    with step(f"terraform destroy [{env.label}]"):
        try:
            tf.destroy(variables=env.variables, var_files=env.var_files)  # also after a partial apply
        finally:
            save_emulator(env)
    if "buckets" not in before:
        print(f"(the {env.label} stack had no outputs, so there is nothing to check by name)")
        return True
    with step(f"check that nothing is left [{env.label}]"):
        left = leftovers(env, before)
        if left:
            raise ProjectError(f"destroy left these behind: {', '.join(left)}")
        print("    nothing left behind (the KMS key is pending deletion, as KMS requires)")
    return True


def leftovers(env: Env, before: Mapping[str, Any]) -> list[str]:
    """What of a destroyed stack (its outputs `before`) still exists, by name."""
    with Clients(env.admin_client) as clients:
        return find_leftovers(before, clients)


def outputs(env: Env, tf: Terraform) -> dict[str, Any]:
    """The root's outputs, sensitive ones included. From the local backend's state file, which is what
    `terraform output` reads (without the 0.6 s it costs); from any other backend through terraform,
    init first."""
    local = _local_state_file(env)
    if local is None:
        ensure_init(env, tf)
        return tf.outputs()
    text = state_text(env, tf)
    try:
        return {
            name: item["value"]
            for name, item in (json.loads(text) if text else {}).get("outputs", {}).items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ProjectError(f"could not read the outputs in {local}: {exc!r}") from exc
