"""Allow or block SSE-C on one bucket: set BlockedEncryptionTypes in its encryption configuration.

Usage: put_blocked_encryption_types.py BUCKET   (env BLOCKED_ENCRYPTION_TYPE=NONE|SSE-C, AWS_REGION)

Since April 2026 S3 blocks SSE-C writes on new general purpose buckets unless the bucket's
encryption configuration says BlockedEncryptionTypes = {"EncryptionType": ["NONE"]} (an empty
list does not unblock). hashicorp/aws gained that argument only in 6.22, so Terraform runs this
from a terraform_data provisioner. The current rules are kept as they are (Terraform's, or the
SSE-S3 default S3 applies to every bucket); only the BlockedEncryptionTypes element is set.
Credentials and endpoint come from the standard AWS environment of the terraform process.
"""

import os
import sys

ALLOWED_TYPES = ("NONE", "SSE-C")
# What S3 applies to a bucket that has no encryption configuration of its own (since 2023).
S3_DEFAULT_RULE = {
    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
    "BucketKeyEnabled": False,
}


def fail(message: str) -> None:
    print(f"put_blocked_encryption_types: {message}", file=sys.stderr)
    sys.exit(1)


def current_rules(s3, bucket: str) -> list[dict]:
    from botocore.exceptions import ClientError

    try:
        config = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ServerSideEncryptionConfigurationNotFoundError":
            return [dict(S3_DEFAULT_RULE)]
        raise
    return config["Rules"]


def main(argv: list[str]) -> None:
    if len(argv) != 2 or not argv[1]:
        fail("usage: put_blocked_encryption_types.py BUCKET")
    bucket = argv[1]
    blocked = os.environ.get("BLOCKED_ENCRYPTION_TYPE", "")
    if blocked not in ALLOWED_TYPES:
        fail(f"BLOCKED_ENCRYPTION_TYPE must be one of {', '.join(ALLOWED_TYPES)}, got {blocked!r}")
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        fail("boto3 is not importable by this python3; run through ./inv, which puts its virtualenv on PATH")

    try:
        s3 = boto3.client("s3")
        rules = current_rules(s3, bucket)
        for rule in rules:
            rule["BlockedEncryptionTypes"] = {"EncryptionType": [blocked]}
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules})
        written = current_rules(s3, bucket)
    except (BotoCoreError, ClientError) as error:
        fail(f"bucket {bucket}: {error}")

    observed = {tuple(rule.get("BlockedEncryptionTypes", {}).get("EncryptionType", [])) for rule in written}
    if observed != {(blocked,)}:
        fail(
            f"bucket {bucket}: BlockedEncryptionTypes reads back as {sorted(observed)}, expected [{blocked}]"
        )
    verb = "allowed" if blocked == "NONE" else "blocked"
    print(f"bucket {bucket}: SSE-C {verb} (BlockedEncryptionTypes = {blocked})")


if __name__ == "__main__":
    main(sys.argv)
