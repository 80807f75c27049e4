"""The bucket policies' guards: a header that asks for the wrong encryption is AccessDenied; the right
one, sent explicitly, is let through (so is no header at all: see test_default_encryption)."""

from __future__ import annotations

import pytest
from sse_c_key import sse_c_params

from ssepatterns.verify.marks import check, not_applicable
from ssepatterns.verify.observe import OK, outcome

DENIED = "403 AccessDenied"
BODY = b"enforcement check\n"

# pattern -> (its algorithm, another algorithm to ask for)
ALGORITHMS = {
    "sse-s3": ("AES256", "aws:kms"),
    "sse-kms-aws-managed": ("aws:kms", "AES256"),
    "sse-kms-cmk": ("aws:kms", "AES256"),
    "dsse-kms": ("aws:kms:dsse", "aws:kms"),
}
KMS_PATTERNS = ["sse-kms-aws-managed", "sse-kms-cmk", "dsse-kms"]


def bucket_of(buckets: dict[str, str], pattern: str) -> str:
    return buckets[pattern.replace("-", "_")]


def bucket_key_arn(outputs, pattern: str) -> str:
    if pattern == "sse-kms-aws-managed":
        return outputs["aws_managed_s3_key_alias_arn"]
    return outputs["customer_managed_key"]["arn"]


@pytest.fixture(scope="module")
def other_key_arn(outputs) -> str:
    """A KMS key ARN in this account and region that is not the bucket's (it need not exist: the
    bucket policy is evaluated before S3 looks at the key)."""
    return f"arn:aws:kms:{outputs['region']}:{outputs['account_id']}:key/00000000-0000-4000-8000-000000000000"


def put(s3, bucket: str, key: str, **headers) -> str:
    """The outcome of a PutObject with these headers ('200 OK', '403 AccessDenied', ...)."""
    return outcome(lambda: s3.put_object(Bucket=bucket, Key=key, Body=BODY, **headers))


@pytest.mark.parametrize("pattern", list(ALGORITHMS))
@check("{pattern}.other-algorithm-denied", "{pattern}", DENIED)
def test_other_algorithm_is_denied(verify, s3, buckets, run_prefix, pattern):
    other = ALGORITHMS[pattern][1]
    observed = put(s3, bucket_of(buckets, pattern), f"{run_prefix}other-alg.txt", ServerSideEncryption=other)
    assert verify.observe(observed) == DENIED


@pytest.mark.parametrize("pattern", KMS_PATTERNS)
@check("{pattern}.other-kms-key-denied", "{pattern}", DENIED)
def test_other_kms_key_is_denied(verify, s3, buckets, run_prefix, other_key_arn, pattern):
    headers = {"ServerSideEncryption": ALGORITHMS[pattern][0], "SSEKMSKeyId": other_key_arn}
    observed = put(s3, bucket_of(buckets, pattern), f"{run_prefix}other-key.txt", **headers)
    assert verify.observe(observed) == DENIED


@pytest.mark.parametrize("pattern", ["sse-kms-cmk", "dsse-kms"])
@check("{pattern}.kms-without-key-id-denied", "{pattern}", DENIED + " (S3 would use aws/s3, not the CMK)")
def test_kms_header_without_key_id_is_denied(verify, s3, buckets, run_prefix, pattern):
    headers = {"ServerSideEncryption": ALGORITHMS[pattern][0]}
    observed = put(s3, bucket_of(buckets, pattern), f"{run_prefix}no-key-id.txt", **headers)
    assert verify.observe(observed) == DENIED


@pytest.mark.parametrize("pattern", list(ALGORITHMS))
@check("{pattern}.sse-c-upload-denied", "{pattern}", DENIED)
def test_sse_c_upload_is_denied_on_other_buckets(verify, s3, buckets, run_prefix, sse_c_key, pattern):
    observed = put(s3, bucket_of(buckets, pattern), f"{run_prefix}sse-c.txt", **sse_c_params(sse_c_key))
    assert verify.observe(observed) == DENIED


@pytest.mark.parametrize("pattern", list(ALGORITHMS))
@check(
    "{pattern}.matching-headers-allowed",
    "{pattern}",
    OK + " (the bucket's own algorithm and key, named explicitly)",
)
def test_matching_headers_are_allowed(verify, target, s3, buckets, outputs, run_prefix, pattern):
    if pattern == "dsse-kms" and target.on_emulator:
        not_applicable("MiniStack rejects an aws:kms:dsse request header (400 InvalidArgument)")
    headers = {"ServerSideEncryption": ALGORITHMS[pattern][0]}
    if pattern in KMS_PATTERNS:
        headers["SSEKMSKeyId"] = bucket_key_arn(outputs, pattern)
    observed = put(s3, bucket_of(buckets, pattern), f"{run_prefix}explicit.txt", **headers)
    assert verify.observe(observed) == OK
