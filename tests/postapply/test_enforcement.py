"""The bucket policies' guards: a header that asks for the wrong encryption is AccessDenied; the right
one, sent explicitly, is let through (so is no header at all: see test_default_encryption).

On AWS a just-applied bucket policy may take a moment (S3 bucket configurations are eventually
consistent, ssepatterns.consistency): a denial is final at once, an upload let through that should be
denied is tried again within the budget, and so is a refused upload that should pass.
"""

from __future__ import annotations

import pytest
from sse_c_key import sse_c_params

from ssepatterns.verify.marks import check, not_applicable
from ssepatterns.verify.observe import (
    DENIED,
    DENY_SSE_C_SID,
    OK,
    allowed,
    bucket_policy_statement,
    denied,
    deny_sse_c_statement,
    statement_summary,
)
from ssepatterns.verify.patterns import over_patterns

BUCKET_SETTINGS = "the bucket settings"
BODY = b"enforcement check\n"


@pytest.fixture(scope="module")
def other_key_arn(target) -> str:
    """A KMS key ARN in this account and region that is not the bucket's (it need not exist: the
    bucket policy is evaluated before S3 looks at the key)."""
    return target.arn("kms", "key/00000000-0000-4000-8000-000000000000")


def _put(judge, target, s3, bucket: str, key: str, **headers) -> str:
    """The outcome of a PutObject with these headers, as `judge` (observe.denied or .allowed) sees it."""
    return judge(
        target.propagation,
        lambda: s3.put_object(Bucket=bucket, Key=key, Body=BODY, **headers),
        BUCKET_SETTINGS,
        f"s3:PutObject {bucket}",
    )


def put_denied(target, s3, bucket: str, key: str, **headers) -> str:
    """The outcome of a PutObject with these headers that the bucket policy must refuse."""
    return _put(denied, target, s3, bucket, key, **headers)


def put_allowed(target, s3, bucket: str, key: str, **headers) -> str:
    """The outcome of a PutObject with these headers that the bucket policy must let through."""
    return _put(allowed, target, s3, bucket, key, **headers)


@over_patterns(lambda pattern: pattern.algorithm is not None)
@check("{pattern}.other-algorithm-denied", "{pattern}", DENIED)
def test_other_algorithm_is_denied(verify, target, s3, run_prefix, pattern):
    headers = {"ServerSideEncryption": pattern.other_algorithm}
    observed = put_denied(target, s3, pattern.bucket, f"{run_prefix}other-alg.txt", **headers)
    assert verify.observe(observed) == DENIED


@over_patterns(lambda pattern: pattern.kms_key is not None)
@check("{pattern}.other-kms-key-denied", "{pattern}", DENIED)
def test_other_kms_key_is_denied(verify, target, s3, run_prefix, other_key_arn, pattern):
    headers = {"ServerSideEncryption": pattern.algorithm, "SSEKMSKeyId": other_key_arn}
    observed = put_denied(target, s3, pattern.bucket, f"{run_prefix}other-key.txt", **headers)
    assert verify.observe(observed) == DENIED


@over_patterns(lambda pattern: pattern.kms_key == "customer_managed")
@check("{pattern}.kms-without-key-id-denied", "{pattern}", DENIED + " (S3 would use aws/s3, not the CMK)")
def test_kms_header_without_key_id_is_denied(verify, target, s3, run_prefix, pattern):
    headers = {"ServerSideEncryption": pattern.algorithm}
    observed = put_denied(target, s3, pattern.bucket, f"{run_prefix}no-key-id.txt", **headers)
    assert verify.observe(observed) == DENIED


@over_patterns(lambda pattern: pattern.sse_c == "deny")
@check(
    "{pattern}.sse-c-upload-denied",
    "{pattern}",
    f"{DENIED}; bucket policy read back: {statement_summary(deny_sse_c_statement('<bucket ARN>'))}",
)
def test_sse_c_upload_is_denied_on_other_buckets(verify, target, s3, run_prefix, sse_c_key, pattern):
    """On AWS, S3's own SSE-C block (BlockedEncryptionTypes = SSE-C) refuses the same upload with the
    same 403, so the refusal alone does not show the policy's deny: the policy is read back too (as
    the principal under test) and must hold the deny statement, on every env."""
    refused = put_denied(target, s3, pattern.bucket, f"{run_prefix}sse-c.txt", **sse_c_params(sse_c_key))
    statement = target.propagation.until(
        lambda: bucket_policy_statement(s3, pattern.bucket, DENY_SSE_C_SID),
        lambda seen: not seen.startswith("no bucket policy"),
        BUCKET_SETTINGS,
        f"s3:GetBucketPolicy {pattern.bucket}",
    )
    observed = verify.observe(f"{refused}; bucket policy read back: {statement}")
    expected = statement_summary(deny_sse_c_statement(pattern.arn))
    assert observed == f"{DENIED}; bucket policy read back: {expected}"


@over_patterns(lambda pattern: pattern.algorithm is not None)
@check(
    "{pattern}.matching-headers-allowed",
    "{pattern}",
    OK + " (the bucket's own algorithm and key, named explicitly)",
)
def test_matching_headers_are_allowed(verify, target, s3, outputs, run_prefix, pattern):
    if pattern.algorithm == "aws:kms:dsse" and target.on_emulator:
        not_applicable("MiniStack rejects an aws:kms:dsse request header (400 InvalidArgument)")
    headers = {"ServerSideEncryption": pattern.algorithm}
    arn = pattern.key_arn(outputs)
    if arn:
        headers["SSEKMSKeyId"] = arn
    observed = put_allowed(target, s3, pattern.bucket, f"{run_prefix}explicit.txt", **headers)
    assert verify.observe(observed) == OK
