"""Invalid inputs stop `terraform plan` with the validation block's precise message.

Table-driven: each case is one plan of the local env against the running emulator with some
variables set; several variables can be wrong in one case, and every expected message must appear.
The cases run in parallel (each terraform command spends seconds starting the AWS provider).
"""

from __future__ import annotations

import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ssepatterns.paths import BUILD_DIR, TERRAFORM_DIR
from ssepatterns.terraform import Terraform, TerraformError

CASES = {
    "uppercase prefix, the walkthrough's python3.8, bad architecture, object key and region": (
        {
            "prefix": "Fa-125",
            "lambda_runtime": "python3.8",
            "lambda_architecture": "sparc",
            "object_key": "/test.txt",
            "region": "moon-1",
        },
        [
            "prefix may contain only lowercase letters, digits and hyphens (no uppercase",
            "runtime must be a Python runtime AWS Lambda accepts for new functions",
            "architecture must be arm64 or x86_64",
            "object_key must be 1 to 1024 characters and must not start with '/'",
            "region must be an AWS region name such as us-east-1",
        ],
    ),
    "prefix with .. and a leading hyphen": (
        {"prefix": "-fa..125"},
        ['and ".." is never valid', "prefix must not begin or end with a hyphen"],
    ),
    "reserved and too long prefix": (
        {"prefix": "xn--" + "a" * 40},
        [
            "prefix must not start with xn--, sthree- or amzn-s3-demo-",
            "prefix is too long: the longest bucket name, <prefix>-sse-kms-aws-managed, must fit in 63 "
            "characters, so prefix may have at most 43 characters",
        ],
    ),
}


def workspace_copy(tmp: Path) -> Path:
    """The terraform/ tree without state, sharing the local env's .terraform: a plan per copy runs in
    parallel with the others (one state lock each) and never touches the deployed stack's state."""
    root = tmp / "terraform"
    shutil.copytree(TERRAFORM_DIR, root, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    (root / "envs" / "local" / ".terraform").symlink_to(TERRAFORM_DIR / "envs" / "local" / ".terraform")
    return root / "envs" / "local"


def plan_error(env, variables: dict[str, str], tmp: Path) -> str:
    workdir = workspace_copy(tmp)
    package_dir = os.path.relpath(BUILD_DIR / "lambda", workdir)
    tf = Terraform(workdir, env=env.process_env, echo=False)
    try:
        tf.plan(
            out=tmp / "plan.tfplan",
            variables={**env.variables, "lambda_package_dir": package_dir, **variables},
        )
    except TerraformError as error:
        return error.output
    return ""


@pytest.fixture(scope="module")
def failures(env, outputs, tmp_path_factory):
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {
            name: pool.submit(plan_error, env, variables, tmp_path_factory.mktemp("case"))
            for name, (variables, _) in CASES.items()
        }
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_invalid_input_fails_plan_with_its_message(failures, case):
    message = re.sub(r"\s+", " ", failures[case])  # terraform wraps long messages
    assert message, f"plan with {CASES[case][0]} succeeded; a validation block is missing"
    for expected in CASES[case][1]:
        assert expected in message, f"{expected!r} not in: {message[:3000]}"
