"""Upload the test object to the SSE-C bucket, encrypted with the key from Secrets Manager.

Environment: BUCKET_NAME, OBJECT_KEY, SECRET_ARN. The object is written with the current key and
tagged with that key's secret version, so readers (and a key rotation) know which key it needs.
Returns where it wrote and how, never the key. A missing secret or a refused upload raises an error
whose message says which (no key material).
"""

import os
from typing import Any

import boto3
from botocore.exceptions import ClientError
from sse_c_key import sse_c_params
from sse_c_secret import fetch_key, version_tagging

OBJECT_BODY = "awstut!"
CHARSET = "utf-8"
CONTENT_TYPE = "text/plain"

bucket_name = os.environ["BUCKET_NAME"]
object_key = os.environ["OBJECT_KEY"]
secret_arn = os.environ["SECRET_ARN"]

secretsmanager_client = boto3.client("secretsmanager")
s3_client = boto3.client("s3")


class UploadFailed(RuntimeError):
    """S3 refused the upload."""


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    key = fetch_key(secretsmanager_client, secret_arn)
    try:
        response = s3_client.put_object(
            Bucket=bucket_name,
            Key=object_key,
            Body=OBJECT_BODY.encode(CHARSET),
            ContentEncoding=CHARSET,
            ContentType=CONTENT_TYPE,
            Tagging=version_tagging(key.version_id),
            **sse_c_params(key.secret_string),
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise UploadFailed(f"upload of s3://{bucket_name}/{object_key} refused: {code}") from None
    return {
        "bucket": bucket_name,
        "key": object_key,
        "etag": response.get("ETag"),
        "sse_customer_algorithm": response.get("SSECustomerAlgorithm"),
        "key_version": key.version_id,
    }
