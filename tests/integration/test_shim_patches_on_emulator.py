"""The MiniStack shim's patches at work in a real emulator: bucket policies on the SSE-C and KMS key
headers, and the emulator listening on its own port only (the patches themselves: tests/unit)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulator_support import RunningEmulator, port_open

from ssepatterns.plumbing import Clients

SSE_C_KEY = "s3:x-amz-server-side-encryption-customer-algorithm"
KMS_KEY_ID_KEY = "s3:x-amz-server-side-encryption-aws-kms-key-id"


def _user_s3(clients: Clients, user: str) -> Any:
    """An IAM user allowed s3:* by its identity policy, as an S3 client (bucket policies still apply)."""
    iam = clients("iam")
    iam.create_user(UserName=user)
    iam.put_user_policy(
        UserName=user,
        PolicyName="allow-s3",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return clients(
        "s3", {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    )


def _deny_put_policy(bucket: str, condition: dict) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                    "Condition": condition,
                }
            ],
        }
    )


def _error_code(call: Callable[[], object]) -> str:
    """The AWS error code `call` fails with.

    The exception is not kept (as pytest.raises would): its traceback holds botocore's HTTP response,
    whose connection then stays open and delays the emulator's shutdown by 30 s.
    """
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"]
    pytest.fail("the call succeeded")


@pytest.mark.emulator
def test_bucket_policy_requiring_sse_c_admits_sse_c_uploads_only(emulator: RunningEmulator) -> None:
    clients = emulator.clients
    bucket = "ssec-walkthrough"
    root = clients("s3")
    root.create_bucket(Bucket=bucket)
    root.put_bucket_policy(Bucket=bucket, Policy=_deny_put_policy(bucket, {"Null": {SSE_C_KEY: "true"}}))
    user = _user_s3(clients, "ssec-uploader")
    sse_c = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": os.urandom(32)}

    assert _error_code(lambda: user.put_object(Bucket=bucket, Key="plain", Body=b"x")) == "AccessDenied"
    reply = user.put_object(Bucket=bucket, Key="sse-c", Body=b"x", **sse_c)
    assert reply["SSECustomerAlgorithm"] == "AES256"
    assert user.get_object(Bucket=bucket, Key="sse-c", **sse_c)["Body"].read() == b"x"

    # Multipart: every request of an SSE-C upload carries the SSE-C headers, and each is checked.
    assert _error_code(lambda: user.create_multipart_upload(Bucket=bucket, Key="mp-plain")) == "AccessDenied"
    upload_id = user.create_multipart_upload(Bucket=bucket, Key="mp", **sse_c)["UploadId"]
    part = user.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=b"part", **sse_c)
    user.complete_multipart_upload(
        Bucket=bucket,
        Key="mp",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        **sse_c,
    )


@pytest.mark.emulator
def test_bucket_policy_denying_other_kms_keys(emulator: RunningEmulator) -> None:
    clients = emulator.clients
    kms = clients("kms")
    allowed, other = (kms.create_key()["KeyMetadata"]["Arn"] for _ in range(2))
    bucket = "kms-key-pinned"
    root = clients("s3")
    root.create_bucket(Bucket=bucket)
    root.put_bucket_policy(
        Bucket=bucket, Policy=_deny_put_policy(bucket, {"StringNotEquals": {KMS_KEY_ID_KEY: allowed}})
    )
    user = _user_s3(clients, "kms-uploader")

    user.put_object(Bucket=bucket, Key="ok", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=allowed)
    denied = _error_code(
        lambda: user.put_object(
            Bucket=bucket, Key="no", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=other
        )
    )
    assert denied == "AccessDenied"


@pytest.mark.emulator
def test_emulator_listens_on_its_port_only(emulator: RunningEmulator) -> None:
    assert port_open(emulator.cfg.port)
    if emulator.port_443_was_open:
        pytest.skip("something else listens on 127.0.0.1:443")
    assert not port_open(443)
