"""./inv verify: run the post-apply suite against a deployed stack and write its reports.

The suite runs in a pytest subprocess whose output is shown live and kept in a log. Afterwards the
log and both reports are searched for the SSE-C key (raw and base64): a report that leaked the key
would be worse than no report, so that is a failure of its own.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ssepatterns.errors import ProjectError
from ssepatterns.paths import BUILD_DIR, REPO_ROOT
from ssepatterns.verify.observe import artifact_texts, holding_key
from ssepatterns.verify.target import open_target

SUITE = REPO_ROOT / "tests" / "postapply"


@dataclass(frozen=True)
class VerifyPaths:
    json: Path
    junit: Path
    log: Path

    @classmethod
    def for_env(cls, env: str, json: str | None = None, junit: str | None = None) -> VerifyPaths:
        reports = BUILD_DIR / "reports"
        return cls(
            json=Path(json).resolve() if json else reports / f"verify-{env}.json",
            junit=Path(junit).resolve() if junit else reports / f"verify-{env}.xml",
            log=reports / f"verify-{env}.log",
        )


def pytest_command(env: str, region: str | None, paths: VerifyPaths) -> list[str]:
    command = [sys.executable, "-m", "pytest", str(SUITE), "-q", "-p", "no:cacheprovider"]
    command += ["--sse-env", env, "--sse-report-json", str(paths.json), "--junitxml", str(paths.junit)]
    command += ["-o", "junit_suite_name=sse-patterns-verify", "-o", "junit_family=xunit2"]
    if region:
        command += ["--sse-region", region]
    return command


def run(env: str, region: str | None = None, json: str | None = None, junit: str | None = None) -> None:
    paths = VerifyPaths.for_env(env, json, junit)
    for path in (paths.json, paths.junit, paths.log):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)  # never leave an old report that looks like this run's
    rc = _tee(pytest_command(env, region, paths), paths.log)
    _check_no_key_material(env, region, paths)
    print(f"reports: {paths.json}, {paths.junit}")
    if rc != 0:
        raise ProjectError(f"verification of the {env} stack failed (pytest exit {rc}): see the table above")


def _tee(command: list[str], log: Path) -> int:
    with (
        log.open("w") as sink,
        subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            sink.write(line)
        return proc.wait()


def _check_no_key_material(env: str, region: str | None, paths: VerifyPaths) -> None:
    target = open_target(env, region)
    try:
        secrets = target.client("secretsmanager")
        key = secrets.get_secret_value(SecretId=target.outputs["sse_c_key_secret"]["arn"])["SecretString"]
    finally:
        target.close()
    found = holding_key(key, artifact_texts([paths.log, paths.json, paths.junit]))
    if found:
        raise ProjectError(f"the SSE-C key appears in {', '.join(found)}: delete those files")
    print("key material: absent from the verification output and both reports")
