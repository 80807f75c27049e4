"""Bad input gets one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ssepatterns.emulator import control
from ssepatterns.paths import REPO_ROOT
from ssepatterns.plumbing import scrubbed_environ


def run_inv(
    *args: str, env: dict[str, str] | None = None, path: str | None = None, root: Path = REPO_ROOT
) -> subprocess.CompletedProcess:
    child_env = scrubbed_environ(("AWS_",))
    if env:
        child_env.update(env)
    if path is not None:
        child_env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "ssepatterns.cli", "--search-root", str(root), *args],  # as ./inv runs it
        cwd=root,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_clean_failure(result: subprocess.CompletedProcess, message: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert message in output, output
    assert "Traceback" not in output, output


@pytest.fixture
def no_aws_config(tmp_path: Path) -> dict[str, str]:
    """An AWS environment with no credentials anywhere (and no instance metadata to ask)."""
    return {
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.mark.parametrize(
    ("args", "value"),
    [(("seed-objects", "--count", "many"), "'many'"), (("rotate-sse-c-key", "--workers", "1.5"), "'1.5'")],
)
def test_a_number_option_given_something_else(args: tuple[str, ...], value: str):
    assert_clean_failure(run_inv(*args), f"error: {value} is not a whole number, which that option takes")


def test_reencryption_options_are_checked_before_anything_runs():
    assert_clean_failure(
        run_inv("rotate-sse-c-key", "--engine", "batch"), "--engine batch: one of local, stepfunctions"
    )
    assert_clean_failure(run_inv("migrate-sse-c"), "--to-bucket NAME is required")


def test_unknown_env():
    assert_clean_failure(run_inv("plan", "--env", "prod"), "unknown env 'prod': choose one of local, aws")


def test_aws_env_without_credentials(no_aws_config):
    result = run_inv("plan", "--env", "aws", "--region", "eu-west-1", env=no_aws_config)
    assert_clean_failure(result, "no AWS credentials found for --env aws")


def test_aws_env_without_region(no_aws_config):
    assert_clean_failure(
        run_inv("plan", "--env", "aws", env=no_aws_config), "no AWS region configured for --env aws"
    )


def test_region_is_for_the_aws_env_only():
    assert_clean_failure(run_inv("plan", "--region", "eu-west-1"), "--region applies to --env aws only")


def test_local_env_needs_the_emulator_running(tmp_path: Path):
    port = str(control.free_port())
    result = run_inv(
        "plan", env={"SSE_PATTERNS_EMULATOR_PORT": port, "SSE_PATTERNS_EMULATOR_STATE_DIR": str(tmp_path)}
    )
    assert_clean_failure(result, f"the emulator is not running on port {port}: run ./inv up")


def test_invalid_emulator_port():
    result = run_inv("emulator.status", env={"SSE_PATTERNS_EMULATOR_PORT": "http"})
    assert_clean_failure(result, "SSE_PATTERNS_EMULATOR_PORT")


def test_emulator_port_in_use_by_something_else(tmp_path: Path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = str(squatter.getsockname()[1])
        # Its own state folder: an emulator of the checkout's may be running, which start() would report.
        isolated = {"SSE_PATTERNS_EMULATOR_PORT": port, "SSE_PATTERNS_EMULATOR_STATE_DIR": str(tmp_path)}
        result = run_inv("emulator.start", env=isolated)
    assert_clean_failure(result, f"port {port} on 127.0.0.1 is in use by another process")


def test_terraform_missing(tmp_path: Path):
    # PATH without terraform (but with this interpreter's folder, as ./inv has it).
    result = run_inv("validate", path=str(Path(sys.executable).parent))
    assert_clean_failure(result, "terraform not found on PATH; install Terraform >= 1.11")


def test_missing_var_file(no_aws_config, tmp_path: Path):
    result = run_inv("plan", "--env", "aws", "--var-file", str(tmp_path / "team.tfvars"), env=no_aws_config)
    assert_clean_failure(result, f"variable file {tmp_path / 'team.tfvars'} not found")


def test_unreadable_var_file(no_aws_config, tmp_path: Path):
    bad = tmp_path / "team.tfvars"
    bad.write_text('allowed_account_ids = "111122223333"\n')  # a string, not a list
    result = run_inv("apply", "--env", "aws", "--var-file", str(bad), env=no_aws_config)
    assert_clean_failure(result, "allowed_account_ids must be a list of account id strings")


def test_missing_profile_is_not_silently_replaced(no_aws_config, tmp_path: Path):
    result = run_inv(
        "plan", "--env", "aws", "--region", "eu-west-1", env={**no_aws_config, "TF_VAR_profile": "nope"}
    )
    assert_clean_failure(result, "AWS profile 'nope' not found in your AWS config")


def test_state_bucket_is_for_the_aws_env():
    assert_clean_failure(run_inv("state-bucket", "--env", "local"), "state-bucket is for --env aws")


NEW_TASKS = """
from invoke import task

from ssepatterns.errors import ProjectError


@task
def new_task(c):
    raise ProjectError("bad input to a task with no error handling of its own")
"""


def test_a_task_without_a_decorator_of_its_own_is_covered(tmp_path: Path):
    """No task carries an error decorator: the Executor that invoke.yaml names does it for every task,
    so a new one, written bare, is covered as it stands."""
    (tmp_path / "tasks.py").write_text(NEW_TASKS)
    shutil.copy(REPO_ROOT / "invoke.yaml", tmp_path / "invoke.yaml")
    with_project = {"PYTHONPATH": str(REPO_ROOT)}
    result = run_inv("new-task", env=with_project, root=tmp_path)
    assert_clean_failure(result, "error: bad input to a task with no error handling of its own")
    assert result.returncode == 1 and result.stderr.strip().count("\n") == 0, result.stderr
    # The teeth: without the project's configuration the same task ends in a traceback.
    (tmp_path / "invoke.yaml").unlink()
    assert "Traceback" in run_inv("new-task", env=with_project, root=tmp_path).stderr


def test_no_task_of_tasks_py_handles_errors_itself():
    """Every task reaches the one mechanism: none is wrapped by a decorator of its own."""
    source = (REPO_ROOT / "tasks.py").read_text()
    assert "except ProjectError" not in source
    assert (REPO_ROOT / "invoke.yaml").read_text().count("ssepatterns.executor.OneLineErrors") == 1
