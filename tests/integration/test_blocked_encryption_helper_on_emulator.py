"""The BlockedEncryptionTypes helper end to end, against a real emulator: the provisioner's command
line on a new bucket, as an assumed role. Its hardening, on fakes: the unit test of the same name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ssepatterns.paths import TERRAFORM_DIR

WRAPPER = TERRAFORM_DIR / "modules" / "encrypted-bucket" / "scripts" / "put_blocked_encryption_types.sh"


@pytest.mark.emulator
def test_wrapper_sets_the_element_on_the_emulator_as_the_assumed_role(emulator: Any, tmp_path: Path) -> None:
    """The provisioner's command line on a new bucket: sh wrapper, python3 from PATH, boto3 through
    the emulator's endpoint and CA bundle, the role assumed, the configuration read back."""
    from ssepatterns.emulator.control import client_env

    s3, iam = emulator.clients("s3"), emulator.clients("iam")
    bucket = f"helper-e2e-{os.getpid()}"
    s3.create_bucket(Bucket=bucket)
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    role = f"helper-e2e-{os.getpid()}"
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    # All the helper needs (the emulator enforces IAM for anyone but its root user).
    allow = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"],
                "Resource": f"arn:aws:s3:::{bucket}",
            }
        ],
    }
    iam.put_role_policy(RoleName=role, PolicyName="helper", PolicyDocument=json.dumps(allow))
    env = {  # as ./inv has it: the virtualenv first on PATH
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        **client_env(emulator.cfg),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "BLOCKED_ENCRYPTION_TYPE": "NONE",
        "SSE_PATTERNS_AWS_PROFILE": "",
        "SSE_PATTERNS_ASSUME_ROLE_ARN": role_arn,
    }
    result = subprocess.run(
        ["/bin/sh", str(WRAPPER), bucket], env=env, capture_output=True, text=True, timeout=120
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"bucket {bucket}: SSE-C allowed (BlockedEncryptionTypes = NONE)\n",
        "",
    )
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert [r.get("BlockedEncryptionTypes") for r in rules] == [{"EncryptionType": ["NONE"]}]
