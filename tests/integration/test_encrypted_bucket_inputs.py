"""The identity inputs of encrypted-bucket (the BlockedEncryptionTypes helper's profile and role), validated
by a real `terraform plan` of its variables.tf alone (no provider)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ssepatterns.paths import TERRAFORM_DIR
from ssepatterns.plumbing import scrubbed_environ


def plan_variables(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    """`terraform plan` of encrypted-bucket's variables.tf alone: its validation blocks, no provider."""
    shutil.copy(TERRAFORM_DIR / "modules" / "encrypted-bucket" / "variables.tf", tmp_path / "variables.tf")
    args = [
        f"-var={name}={value}" for name, value in {"bucket_name": "abc", "sse_c": "deny", **variables}.items()
    ]
    env = {
        **scrubbed_environ(("AWS_", "SSE_PATTERNS_")),
        "TF_DATA_DIR": str(tmp_path / ".terraform"),
        "TF_IN_AUTOMATION": "1",
    }
    return subprocess.run(
        ["terraform", "plan", "-input=false", "-no-color", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


ROLE_ARN_MESSAGE = "assume_role_arn must be null or an IAM role ARN"
PROFILE_MESSAGE = "aws_profile must be null or a profile name (not empty)."


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs terraform on PATH")
@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"assume_role_arn": "arn:aws:iam::123456789012:role/deployer"}, None),
        ({"assume_role_arn": "arn:aws-us-gov:iam::123456789012:role/path/deployer"}, None),
        ({"assume_role_arn": "arn:aws:iam::12345:role/deployer"}, ROLE_ARN_MESSAGE),
        ({"assume_role_arn": "arn:aws:iam::123456789012:user/deployer"}, ROLE_ARN_MESSAGE),
        ({"assume_role_arn": "deployer"}, ROLE_ARN_MESSAGE),
        ({"aws_profile": "deployer"}, None),
        ({"aws_profile": ""}, PROFILE_MESSAGE),
        ({"aws_profile": " "}, PROFILE_MESSAGE),
    ],
    ids=[
        "role-arn",
        "role-arn-govcloud-with-path",
        "role-arn-short-account",
        "user-arn",
        "role-name-only",
        "profile",
        "profile-empty",
        "profile-blank",
    ],
)
def test_identity_inputs_are_validated(
    tmp_path: Path, variables: dict[str, str], message: str | None
) -> None:
    result = plan_variables(tmp_path, **variables)
    output = " ".join((result.stdout + result.stderr).split())  # terraform wraps long messages
    if message is None:
        assert result.returncode == 0, output
    else:
        assert result.returncode != 0 and message in output, output
