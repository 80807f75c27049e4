"""The walkthrough's two functions, and the least privilege of their role shown by acting as it.

On AWS a just-applied stack needs a moment (ssepatterns.consistency): a new function is Pending, a
new role cannot be assumed at once, and its credentials are AccessDenied until IAM has propagated.
Those cases are retried on the aws env; the role's denials are only retried while the role is still
*allowed* what it should be denied (IAM documents that policy changes propagate), never the denial.
"""

from __future__ import annotations

import json
import re

import boto3
import pytest

from ssepatterns.consistency import is_access_denied, is_function_not_ready
from ssepatterns.verify.marks import check
from ssepatterns.verify.observe import DENIED, OK, denied, outcome

IAM = "IAM"
FUNCTIONS = "the functions and their role"
# How the functions report a refusal of their role (lambda_src): the key unreadable, an upload refused,
# a download denied.
ROLE_REFUSED = re.compile(r"AccessDenied|access denied|may not read")


def invoke(target, lambda_client, name: str) -> tuple[bool, object]:
    """(succeeded, payload) of one invocation. On AWS a function still Pending, or failing because its
    fresh role is not yet effective, is invoked again (bounded, see ssepatterns.consistency)."""

    def call() -> tuple[bool, object]:
        response = lambda_client.invoke(FunctionName=name, Payload=b"{}")
        payload = json.loads(response["Payload"].read() or b"null")
        return "FunctionError" not in response, payload

    def message(result: tuple[bool, object]) -> str:
        payload = result[1]
        return str(payload.get("errorMessage", payload) if isinstance(payload, dict) else payload)

    return target.propagation.until(
        call,
        settled=lambda result: result[0] or not ROLE_REFUSED.search(message(result)),
        what=FUNCTIONS,
        action=f"lambda:InvokeFunction {name}",
        seen=lambda result: f"function error: {message(result)}",
        is_transient=is_function_not_ready,
    )


@pytest.fixture(scope="module")
def lambda_client(target):
    return target.client("lambda")


@check("lambda.upload-function", "sse-c", "function1 succeeds, object written with SSE-C AES256")
def test_upload_function(verify, target, lambda_client, outputs):
    ok, payload = invoke(target, lambda_client, outputs["functions"]["upload"])
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
def test_download_function(verify, target, lambda_client, outputs):
    ok, payload = invoke(target, lambda_client, outputs["functions"]["download"])
    observed = verify.observe(f"function2 returns {payload}" if ok else f"function2 failed: {payload}")
    assert observed == "function2 returns awstut!"


@pytest.fixture(scope="module")
def role_session(target, outputs) -> boto3.session.Session:
    """A session as the functions' role (the stack lets the verifying principal assume it), once its
    credentials work: on AWS a fresh role may be AccessDenied on AssumeRole, then on what it may do.
    Without that wait the denials below could pass only because the role does nothing yet."""
    sts = target.client("sts")
    role_arn = outputs["functions"]["role_arn"]
    creds = target.propagation.retry(
        lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="sse-patterns-verify"),
        is_access_denied,
        what=IAM,
        action="sts:AssumeRole",
    )["Credentials"]
    session = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=outputs["region"],
    )
    secrets = target.client("secretsmanager", session=session)
    target.propagation.retry(
        lambda: secrets.get_secret_value(SecretId=outputs["sse_c_key_secret"]["arn"]),
        is_access_denied,
        what=IAM,
        action="secretsmanager:GetSecretValue as the role",
    )
    return session


def denied_as_role(target, call, action: str, is_expected=lambda observed: observed == DENIED) -> str:
    """The outcome of a call the role must be denied. On AWS an outcome that is *not* the denial is
    observed again while IAM may still be propagating (IAM documents that policy changes take time);
    the denial is final at once."""
    return denied(target.propagation, call, IAM, action, is_expected)


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
        denied_as_role(
            target,
            lambda: s3_as_role.get_object(Bucket=buckets["sse_s3"], Key="anything.txt"),
            action="s3:GetObject as the role",
        )
    )
    assert observed == DENIED


@check(
    "lambda.role-other-secret-denied", "sse-c", "AccessDeniedException (HTTP 400 on AWS, 403 on the emulator)"
)
def test_role_cannot_read_another_secret(verify, target, role_session, outputs):
    secrets = target.client("secretsmanager", session=role_session)
    other = outputs["sse_c_key_secret"]["arn"].replace(
        f":secret:{outputs['sse_c_key_secret']['name']}-", ":secret:another-secret-"
    )
    observed = verify.observe(
        denied_as_role(
            target,
            lambda: secrets.get_secret_value(SecretId=other),
            action="secretsmanager:GetSecretValue as the role",
            is_expected=lambda observed: observed.split()[-1] == "AccessDeniedException",
        )
    )
    assert observed.split()[-1] == "AccessDeniedException", observed


@check("lambda.role-cannot-write-other-bucket", "sse-c", "403 AccessDenied")
def test_role_cannot_write_another_bucket(verify, target, role_session, buckets, run_prefix):
    s3_as_role = target.client("s3", session=role_session)
    key = f"{run_prefix}role.txt"
    observed = verify.observe(
        denied_as_role(
            target,
            lambda: s3_as_role.put_object(Bucket=buckets["sse_kms_cmk"], Key=key, Body=b"x"),
            action="s3:PutObject as the role",
        )
    )
    assert observed == DENIED
