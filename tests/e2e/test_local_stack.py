"""The foundation's promises, checked on the emulator as the non-root operator user."""

from __future__ import annotations

import base64
import io
import json
import uuid
import zipfile

import pytest
from botocore.exceptions import ClientError
from sse_c_key import sse_c_params

from ssepatterns.paths import ENVS_DIR


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return excinfo.value.response["Error"]["Code"]


@pytest.fixture
def object_key(operator_s3, outputs):
    """A fresh key per test; whatever the test wrote is removed afterwards."""
    key = f"e2e/{uuid.uuid4()}.txt"
    yield key
    for bucket in outputs["buckets"].values():
        operator_s3.delete_object(Bucket=bucket["name"], Key=key)


def test_operator_is_not_root(operator_session, client_factory):
    arn = client_factory(operator_session, "sts").get_caller_identity()["Arn"]
    assert ":user/" in arn and not arn.endswith(":root")


def test_plain_upload_to_sse_c_bucket_is_denied(operator_s3, outputs, object_key):
    with pytest.raises(ClientError) as excinfo:
        operator_s3.put_object(Bucket=outputs["buckets"]["sse_c"]["name"], Key=object_key, Body=b"plain")
    assert error_code(excinfo) == "AccessDenied"


def test_sse_c_upload_to_sse_c_bucket_round_trips(operator_s3, outputs, object_key, sse_c_key):
    bucket = outputs["buckets"]["sse_c"]["name"]
    params = sse_c_params(sse_c_key)
    put = operator_s3.put_object(Bucket=bucket, Key=object_key, Body=b"sse-c body", **params)
    assert put["SSECustomerAlgorithm"] == "AES256"
    assert put["SSECustomerKeyMD5"] == params["SSECustomerKeyMD5"]
    got = operator_s3.get_object(Bucket=bucket, Key=object_key, **params)
    assert got["Body"].read() == b"sse-c body"


def test_sse_c_upload_to_sse_s3_bucket_is_denied(operator_s3, outputs, object_key, sse_c_key):
    with pytest.raises(ClientError) as excinfo:
        operator_s3.put_object(
            Bucket=outputs["buckets"]["sse_s3"]["name"], Key=object_key, Body=b"x", **sse_c_params(sse_c_key)
        )
    assert error_code(excinfo) == "AccessDenied"


def test_upload_then_download_function_returns_awstut(operator_session, client_factory, outputs):
    functions = outputs["functions"]
    lambda_client = client_factory(operator_session, "lambda")
    results = []
    for name in (functions["upload"], functions["download"]):
        response = lambda_client.invoke(FunctionName=name, Payload=b"{}")
        payload = response["Payload"].read().decode()
        assert "FunctionError" not in response, f"{name} failed: {payload}"
        results.append(json.loads(payload))
    upload_result, download_result = results
    assert upload_result["sse_customer_algorithm"] == "AES256"
    assert download_result == "awstut!"


def test_function_results_carry_no_key_material(operator_session, client_factory, outputs, sse_c_key):
    lambda_client = client_factory(operator_session, "lambda")
    response = lambda_client.invoke(FunctionName=outputs["functions"]["upload"], Payload=b"{}")
    payload = response["Payload"].read().decode()
    for secret in key_forms(sse_c_key):
        assert secret not in payload


def key_forms(key: str) -> list[str]:
    return [key, base64.b64encode(key.encode()).decode()]


def test_state_and_saved_plan_hold_no_key_material(env, sse_c_key):
    state = (ENVS_DIR / "local" / "terraform.tfstate").read_text()
    assert "sse_c_key_secret" in state  # the right file, with the stack in it
    plan_texts = []
    with zipfile.ZipFile(io.BytesIO(env.plan_file.read_bytes())) as plan:
        plan_texts = [plan.read(name).decode("latin-1") for name in plan.namelist()]
    for secret in key_forms(sse_c_key):
        assert secret not in state
        for text in plan_texts:
            assert secret not in text
