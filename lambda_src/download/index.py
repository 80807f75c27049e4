"""Download the test object from the SSE-C bucket with the key from Secrets Manager.

Environment: BUCKET_NAME, OBJECT_KEY, SECRET_ARN. Returns the object's text (awstut!).
A missing secret or object raises an error whose message says which (no key material).
"""

import os

import boto3
from botocore.exceptions import ClientError
from sse_c_key import sse_c_params
from sse_c_secret import fetch_secret_string

CHARSET = "utf-8"

bucket_name = os.environ["BUCKET_NAME"]
object_key = os.environ["OBJECT_KEY"]
secret_arn = os.environ["SECRET_ARN"]

secretsmanager_client = boto3.client("secretsmanager")
s3_client = boto3.client("s3")


class DownloadFailed(RuntimeError):
    """S3 did not return the object."""


def lambda_handler(event, context):
    key_params = sse_c_params(fetch_secret_string(secretsmanager_client, secret_arn))
    try:
        response = s3_client.get_object(Bucket=bucket_name, Key=object_key, **key_params)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        if code in ("NoSuchKey", "404"):
            reason = "the object does not exist (run the upload function first)"
        elif code in ("AccessDenied", "403"):
            # Without s3:ListBucket (least privilege) S3 answers 403 for a missing object too.
            reason = "access denied: the object is missing, or it was written with another key"
        else:
            reason = code
        raise DownloadFailed(f"download of s3://{bucket_name}/{object_key} failed: {reason}") from None
    return response["Body"].read().decode(CHARSET)
