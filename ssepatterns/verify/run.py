"""./inv verify: run the post-apply suite against a deployed stack and write its reports.

The suite runs in a pytest subprocess whose output is shown live and kept in a log. Afterwards the
log and both reports are searched for the SSE-C key (raw and base64): a report that leaked the key
would be worse than no report, so that is a failure of its own.
"""

from __future__ import annotations

import json as json_module
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssepatterns.envs import Env, to_spec
from ssepatterns.errors import ProjectError
from ssepatterns.key_scan import artifact_texts, holding_key
from ssepatterns.paths import BUILD_DIR, REPO_ROOT
from ssepatterns.plumbing import tee
from ssepatterns.verify.target import open_target, read_outputs

SUITE = REPO_ROOT / "tests" / "postapply"


@dataclass(frozen=True)
class VerifyPaths:
    json: Path
    junit: Path
    log: Path

    @classmethod
    def for_env(cls, label: str, json: str | None = None, junit: str | None = None) -> VerifyPaths:
        reports = BUILD_DIR / "reports"
        json_path = Path(json).resolve() if json else reports / f"verify-{label}.json"
        return cls(
            json=json_path,
            junit=Path(junit).resolve() if junit else reports / f"verify-{label}.xml",
            log=json_path.with_suffix(".log"),
        )


def pytest_command(env: Env, target_file: Path, paths: VerifyPaths) -> list[str]:
    command = [sys.executable, "-m", "pytest", str(SUITE), "-q", "-p", "no:cacheprovider"]
    command += ["--sse-env", env.name, "--sse-target", str(target_file)]
    command += ["--sse-report-json", str(paths.json), "--junitxml", str(paths.junit)]
    command += ["-o", "junit_suite_name=sse-patterns-verify", "-o", "junit_family=xunit2"]
    return command


def run(env: Env, json: str | None = None, junit: str | None = None) -> dict[str, int]:
    """Run the suite against env; its summary {passed, failed, not_applicable}. Raises on a failure."""
    paths = VerifyPaths.for_env(env.label, json, junit)
    for path in (paths.json, paths.junit, paths.log):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)  # never leave an old report that looks like this run's
    outputs = read_outputs(env)
    open_target(env, outputs=outputs).close()  # not deployed, or too old: one line before pytest starts
    # How the pytest process resolves the same env (and principal), and the outputs it need not read
    # again: a private file, not the environment (the local env's outputs hold the operator's keys).
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec:
        os.chmod(spec.name, 0o600)
        json_module.dump({**to_spec(env), "outputs": outputs}, spec)
    try:
        command = pytest_command(env, Path(spec.name), paths)
        rc = tee(command, cwd=REPO_ROOT, log=paths.log, merge_stderr=True, stdin=None).returncode
    finally:
        Path(spec.name).unlink(missing_ok=True)
    _check_no_key_material(env, paths, outputs)
    print(f"reports: {paths.json}, {paths.junit}")
    summary = summary_of(paths.json)
    if rc != 0:
        raise ProjectError(
            f"verification of the {env.label} stack failed (pytest exit {rc}): see the table above"
        )
    return summary


def summary_of(report: Path) -> dict[str, int]:
    """{passed, failed, not_applicable} of a JSON report (zeros when it was not written)."""
    try:
        return dict(json_module.loads(report.read_text(encoding="utf-8"))["summary"])
    except (OSError, ValueError, KeyError):
        return {"passed": 0, "failed": 0, "not_applicable": 0}


def _check_no_key_material(env: Env, paths: VerifyPaths, outputs: dict[str, Any]) -> None:
    target = open_target(env, outputs=outputs)
    try:
        secrets = target.client("secretsmanager")
        key = secrets.get_secret_value(SecretId=target.outputs["sse_c_key_secret"]["arn"])["SecretString"]
    finally:
        target.close()
    found = holding_key(key, artifact_texts([paths.log, paths.json, paths.junit]))
    if found:
        raise ProjectError(f"the SSE-C key appears in {', '.join(found)}: delete those files")
    print("key material: absent from the verification output and both reports")
