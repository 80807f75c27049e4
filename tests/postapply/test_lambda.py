"""The walkthrough's two functions, and the least privilege of their role shown by acting as it."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from botocore.exceptions import ClientError

from ssepatterns.verify.marks import check
from ssepatterns.verify.observe import OK, outcome


def invoke(lambda_client, name: str) -> tuple[bool, object]:
    response = lambda_client.invoke(FunctionName=name, Payload=b"{}")
    payload = json.loads(response["Payload"].read() or b"null")
    return "FunctionError" not in response, payload


@pytest.fixture(scope="module")
def lambda_client(target):
    return target.client("lambda")


@check("lambda.upload-function", "sse-c", "function1 succeeds, object written with SSE-C AES256")
def test_upload_function(verify, lambda_client, outputs):
    ok, payload = invoke(lambda_client, outputs["functions"]["upload"])
    if ok:
        observed = f"function1 succeeds, object written with SSE-C {payload.get('sse_customer_algorithm')}"
    else:
        observed = (
            f"function1 failed: {payload.get('errorMessage') if isinstance(payload, dict) else payload}"
        )
    verify.observe(observed)
    assert observed == "function1 succeeds, object written with SSE-C AES256"


@check(
    "lambda.object-is-sse-c",
    "sse-c",
    "400 InvalidRequest (the function's object is unreadable without the key)",
)
def test_function_object_needs_the_key(verify, s3, buckets, outputs):
    observed = verify.observe(
        outcome(lambda: s3.get_object(Bucket=buckets["sse_c"], Key=outputs["functions"]["object_key"]))
    )
    assert observed == "400 InvalidRequest"


@check("lambda.download-function", "sse-c", "function2 returns awstut!")
def test_download_function(verify, lambda_client, outputs):
    ok, payload = invoke(lambda_client, outputs["functions"]["download"])
    observed = verify.observe(f"function2 returns {payload}" if ok else f"function2 failed: {payload}")
    assert observed == "function2 returns awstut!"


@pytest.fixture(scope="module")
def role_session(target, outputs) -> boto3.session.Session:
    """A session as the functions' role (the stack lets the verifying principal assume it)."""
    sts = target.client("sts")
    for attempt in range(6):  # IAM is eventually consistent on AWS: a fresh trust policy may lag
        try:
            creds = sts.assume_role(
                RoleArn=outputs["functions"]["role_arn"], RoleSessionName="sse-patterns-verify"
            )
            break
        except ClientError as error:
            if attempt == 5 or error.response["Error"]["Code"] != "AccessDenied":
                raise
            time.sleep(5)
    creds = creds["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=outputs["region"],
    )


@check("lambda.role-reads-its-secret", "sse-c", OK + " (control: the role can do its job)")
def test_role_reads_its_own_secret(verify, target, role_session, outputs):
    secrets = target.client("secretsmanager", session=role_session)
    observed = verify.observe(
        outcome(lambda: secrets.get_secret_value(SecretId=outputs["sse_c_key_secret"]["arn"]))
    )
    assert observed == OK


@check("lambda.role-other-bucket-denied", "sse-c", "403 AccessDenied")
def test_role_cannot_read_another_bucket(verify, target, role_session, buckets):
    s3_as_role = target.client("s3", session=role_session)
    observed = verify.observe(
        outcome(lambda: s3_as_role.get_object(Bucket=buckets["sse_s3"], Key="anything.txt"))
    )
    assert observed == "403 AccessDenied"


@check(
    "lambda.role-other-secret-denied", "sse-c", "AccessDeniedException (HTTP 400 on AWS, 403 on the emulator)"
)
def test_role_cannot_read_another_secret(verify, target, role_session, outputs):
    secrets = target.client("secretsmanager", session=role_session)
    other = outputs["sse_c_key_secret"]["arn"].replace(
        f":secret:{outputs['sse_c_key_secret']['name']}-", ":secret:another-secret-"
    )
    observed = verify.observe(outcome(lambda: secrets.get_secret_value(SecretId=other)))
    assert observed.split()[-1] == "AccessDeniedException", observed


@check("lambda.role-cannot-write-other-bucket", "sse-c", "403 AccessDenied")
def test_role_cannot_write_another_bucket(verify, target, role_session, buckets, run_prefix):
    s3_as_role = target.client("s3", session=role_session)
    observed = verify.observe(
        outcome(
            lambda: s3_as_role.put_object(
                Bucket=buckets["sse_kms_cmk"], Key=f"{run_prefix}role.txt", Body=b"x"
            )
        )
    )
    assert observed == "403 AccessDenied"
