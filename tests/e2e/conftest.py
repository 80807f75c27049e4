"""Fixtures for checks against the deployed local stack (run by ./inv test after ./inv up).

They fail, never skip, when the stack is not there: a check that did not run has not passed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from ssepatterns import stack
from ssepatterns.emulator import control
from ssepatterns.envs import local_env

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lambda_src" / "shared"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def env():
    target = local_env()
    assert target.emulator is not None
    if not control.status(target.emulator).running:
        pytest.fail("the emulator is not running: run ./inv up first", pytrace=False)
    return target


@pytest.fixture(scope="session")
def outputs(env) -> dict[str, Any]:
    values = stack.outputs(env, stack.terraform_for(env, echo=False))
    if "buckets" not in values:
        pytest.fail("the local stack is not deployed: run ./inv up first", pytrace=False)
    return values


@pytest.fixture(scope="session")
def operator_session(env, outputs) -> boto3.session.Session:
    """A session of the non-root operator user: MiniStack's root would bypass every policy."""
    creds = outputs["operator_credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["access_key_id"],
        aws_secret_access_key=creds["secret_access_key"],
        region_name=outputs["region"],
    )


@pytest.fixture(scope="session")
def client_factory(env, outputs):
    def make(session: boto3.session.Session, service: str):
        return session.client(
            service,
            endpoint_url=outputs["endpoint"],
            verify=str(env.emulator.ca_bundle),
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
        )

    return make


@pytest.fixture(scope="session")
def operator_s3(operator_session, client_factory):
    return client_factory(operator_session, "s3")


@pytest.fixture(scope="session")
def sse_c_key(operator_session, client_factory, outputs) -> str:
    secrets = client_factory(operator_session, "secretsmanager")
    return secrets.get_secret_value(SecretId=outputs["sse_c_key_secret"]["arn"])["SecretString"]
