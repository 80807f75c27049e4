"""Read the SSE-C key from Secrets Manager with errors that say what is wrong, without the key.

Every object records the secret version that encrypts it in the object tag KEY_VERSION_TAG:
object tags are readable without the SSE-C key (a HEAD of an SSE-C object is not), and they are
written atomically with the object (PutObject's x-amz-tagging, CopyObject's tagging directive), so
a reader always finds the key of the bytes it reads, during a key rotation too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

KEY_VERSION_TAG = "sse-c-key-version"

Client = Any  # a boto3 client: boto3 ships no types


class SseCKeyUnavailable(RuntimeError):
    """The function cannot get the SSE-C key: a missing secret, no permission, no value."""


@dataclass(frozen=True)
class SseCKey:
    secret_string: str  # the key itself: never log or return it
    version_id: str

    def __repr__(self) -> str:  # keeps the key out of tracebacks and logs
        return f"SseCKey(version_id={self.version_id!r})"


def fetch_key(secretsmanager: Client, secret_arn: str, version_id: str | None = None) -> SseCKey:
    """The current key (AWSCURRENT), or the key of a given secret version."""
    what = f"version {version_id} of secret {secret_arn}" if version_id else f"secret {secret_arn}"
    request = {"SecretId": secret_arn, **({"VersionId": version_id} if version_id else {})}
    try:
        response = secretsmanager.get_secret_value(**request)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise SseCKeyUnavailable(f"{what} does not exist or has no value") from None
        if code in ("AccessDeniedException", "AccessDenied"):
            raise SseCKeyUnavailable(f"this function's role may not read {what}") from None
        raise SseCKeyUnavailable(f"cannot read {what}: {code or 'error'}") from None
    value = response.get("SecretString")
    if not value:
        raise SseCKeyUnavailable(f"{what} has no string value")
    return SseCKey(secret_string=value, version_id=response["VersionId"])


def fetch_secret_string(secretsmanager: Client, secret_arn: str) -> str:
    """The current key's string (for callers that do not track versions)."""
    return fetch_key(secretsmanager, secret_arn).secret_string


def key_version_of(s3: Client, bucket: str, key: str) -> str | None:
    """The secret version recorded on an object, or None for an object written without one."""
    tags = s3.get_object_tagging(Bucket=bucket, Key=key).get("TagSet", [])
    return next((tag["Value"] for tag in tags if tag["Key"] == KEY_VERSION_TAG), None)


def version_tagging(version_id: str) -> str:
    """The x-amz-tagging value that records `version_id` on an object."""
    return f"{KEY_VERSION_TAG}={version_id}"
