"""Download the test object from the SSE-C bucket with the key it was written with.

Environment: BUCKET_NAME, OBJECT_KEY, SECRET_ARN. The object's tag names the secret version of its
key (objects without one are read with the current key), so downloads keep working while a key
rotation re-encrypts objects. Returns the object's text (awstut!). A missing secret or object
raises an error whose message says which (no key material).
"""

import os
from typing import Any

import boto3
from botocore.exceptions import ClientError
from sse_c_key import sse_c_params
from sse_c_secret import SseCKeyUnavailable, fetch_key, key_version_of

CHARSET = "utf-8"

bucket_name = os.environ["BUCKET_NAME"]
object_key = os.environ["OBJECT_KEY"]
secret_arn = os.environ["SECRET_ARN"]

secretsmanager_client = boto3.client("secretsmanager")
s3_client = boto3.client("s3")


class DownloadFailed(RuntimeError):
    """S3 did not return the object."""


def _failure(error: ClientError) -> DownloadFailed:
    code = error.response.get("Error", {}).get("Code", "error")
    if code in ("NoSuchKey", "404"):
        reason = "the object does not exist (run the upload function first)"
    elif code in ("AccessDenied", "403"):
        # Without s3:ListBucket (least privilege) S3 answers 403 for a missing object too.
        reason = "access denied: the object is missing, or it was written with another key"
    else:
        reason = code
    return DownloadFailed(f"download of s3://{bucket_name}/{object_key} failed: {reason}")


# A rotation may re-encrypt the object (and retire its old key) between reading its tag and reading
# the object; the copy replaces both atomically, so reading the tag again gives the key that works.
ATTEMPTS = 3


def lambda_handler(event: dict[str, Any], context: object) -> str:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            version_id = key_version_of(s3_client, bucket_name, object_key)
        except ClientError as error:
            raise _failure(error) from None
        try:
            key = fetch_key(secretsmanager_client, secret_arn, version_id)
        except SseCKeyUnavailable:
            if version_id is None or attempt == ATTEMPTS:
                raise
            continue  # that version was retired meanwhile: the object has moved to a newer key
        try:
            response = s3_client.get_object(
                Bucket=bucket_name, Key=object_key, **sse_c_params(key.secret_string)
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("AccessDenied", "403") and attempt < ATTEMPTS:
                continue  # re-encrypted meanwhile: read its tag again
            raise _failure(error) from None
        body: bytes = response["Body"].read()
        return body.decode(CHARSET)
    raise AssertionError("unreachable")  # pragma: no cover - every path above returns or raises
