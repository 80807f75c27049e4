"""Read the SSE-C key from Secrets Manager with errors that say what is wrong, without the key."""

from __future__ import annotations

from botocore.exceptions import ClientError


class SseCKeyUnavailable(RuntimeError):
    """The function cannot get the SSE-C key: a missing secret, no permission, no value."""


def fetch_secret_string(secretsmanager, secret_arn: str) -> str:
    try:
        response = secretsmanager.get_secret_value(SecretId=secret_arn)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise SseCKeyUnavailable(f"secret {secret_arn} does not exist or has no current value") from None
        if code in ("AccessDeniedException", "AccessDenied"):
            raise SseCKeyUnavailable(f"this function's role may not read secret {secret_arn}") from None
        raise SseCKeyUnavailable(f"cannot read secret {secret_arn}: {code or 'error'}") from None
    value = response.get("SecretString")
    if not value:
        raise SseCKeyUnavailable(f"secret {secret_arn} has no string value")
    return value
