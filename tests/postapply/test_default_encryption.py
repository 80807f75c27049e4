"""Uploads without encryption headers get each bucket's default; the buckets are configured so.

On AWS a bucket's encryption configuration is fresh after an apply (S3 bucket configurations are
eventually consistent): an upload that does not get the expected default yet is tried again within
the budget of ssepatterns.consistency (it can only pass once the default is the expected one).
"""

from __future__ import annotations

import json

import pytest

from ssepatterns.verify.marks import check, not_applicable
from ssepatterns.verify.observe import bucket_default, round_trip
from ssepatterns.verify.patterns import Pattern, over_patterns

BODY = b"default encryption check\n"
BUCKET_SETTINGS = "the bucket settings"


def expected_round_trip(encryption: str) -> str:
    return f"PUT {encryption}, HEAD {encryption}, body equal"


def default_round_trip(target, s3, bucket: str, key: str, settled) -> str:
    """round_trip without encryption headers, observed again on AWS until `settled` (or the budget)."""
    return target.propagation.until(
        lambda: round_trip(s3, bucket, key, BODY), settled, BUCKET_SETTINGS, f"s3:PutObject {bucket}"
    )


def dsse_on_put_and_head(observed: str) -> bool:
    algorithms = [part.split()[1] for part in observed.split(", ")[:2] if len(part.split()) > 1]
    return algorithms == ["aws:kms:dsse", "aws:kms:dsse"] and observed.endswith("body equal")


@pytest.fixture(scope="module")
def aws_managed_key(target, outputs) -> tuple[str, str]:
    """(what S3 should report as the key, how we know). On AWS the alias resolves to the key's ARN;
    MiniStack has no AWS managed keys and echoes the alias ARN the bucket default names."""
    alias_arn = outputs["aws_managed_s3_key_alias_arn"]
    if target.on_emulator:
        return alias_arn, "emulator: alias ARN echoed"
    kms = target.client("kms")
    return kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["Arn"], "AWS: alias/aws/s3 resolved"


def default_upload_expected(pattern: Pattern) -> str:
    """The report's expectation for an upload without headers, by the kind of pattern."""
    if pattern.algorithm == "aws:kms:dsse":
        return "aws:kms:dsse on PUT and HEAD; body read back equal"
    if pattern.kms_key == "aws_managed":
        return (
            "aws:kms with the account's aws/s3 key (AWS: key ARN from describe-key; emulator: the alias ARN)"
        )
    if pattern.kms_key == "customer_managed":
        return "aws:kms with exactly the CMK's ARN"
    return expected_round_trip(str(pattern.algorithm))


@over_patterns(lambda pattern: pattern.algorithm is not None)
@check("{pattern}.default-upload", "{pattern}", default_upload_expected)
def test_default_upload(verify, target, s3, outputs, run_prefix, aws_managed_key, pattern):
    key = f"{run_prefix}default.txt"
    if pattern.algorithm == "aws:kms:dsse":
        observed = verify.observe(default_round_trip(target, s3, pattern.bucket, key, dsse_on_put_and_head))
        # The key is checked separately: MiniStack does not report one for DSSE.
        assert dsse_on_put_and_head(observed), observed
        return
    if pattern.kms_key == "aws_managed":
        arn, how = aws_managed_key
        wanted = expected_round_trip(f"aws:kms {arn}")
        observed = default_round_trip(target, s3, pattern.bucket, key, wanted.__eq__)
        verify.observe(f"{observed} ({how})")
    else:
        arn = pattern.key_arn(outputs)
        wanted = expected_round_trip(f"{pattern.algorithm} {arn}" if arn else str(pattern.algorithm))
        observed = verify.observe(default_round_trip(target, s3, pattern.bucket, key, wanted.__eq__))
    assert observed == wanted


@over_patterns(lambda pattern: pattern.algorithm == "aws:kms:dsse")
@check("{pattern}.default-upload-key", "{pattern}", "aws:kms:dsse with exactly the CMK's ARN")
def test_dsse_default_upload_key(verify, target, s3, outputs, run_prefix, pattern):
    if target.on_emulator:
        not_applicable("MiniStack reports no KMS key id for DSSE-KMS objects")
    expected = expected_round_trip(f"aws:kms:dsse {pattern.key_arn(outputs)}")
    observed = verify.observe(
        default_round_trip(target, s3, pattern.bucket, f"{run_prefix}default-key.txt", expected.__eq__)
    )
    assert observed == expected


@over_patterns(lambda pattern: pattern.bucket_key)
@check("{pattern}.bucket-key-on-objects", "{pattern}", "upload without headers: HEAD says BucketKeyEnabled")
def test_bucket_key_is_used_for_objects(verify, target, s3, run_prefix, pattern):
    if target.on_emulator:
        not_applicable("MiniStack does not return x-amz-server-side-encryption-bucket-key-enabled")
    key = f"{run_prefix}bucket-key.txt"

    def head() -> str:
        s3.put_object(Bucket=pattern.bucket, Key=key, Body=BODY)
        enabled = s3.head_object(Bucket=pattern.bucket, Key=key).get("BucketKeyEnabled")
        return "HEAD says BucketKeyEnabled" if enabled else "HEAD says no Bucket Key"

    expected = "HEAD says BucketKeyEnabled"
    observed = verify.observe(
        target.propagation.until(head, expected.__eq__, BUCKET_SETTINGS, f"s3:PutObject {pattern.bucket}")
    )
    assert observed == expected


@over_patterns(lambda pattern: pattern.algorithm is not None)
@check("{pattern}.bucket-config", "{pattern}", "{pattern.configured}")
def test_bucket_config(verify, s3, outputs, pattern):
    observed = verify.observe(bucket_default(s3.get_bucket_encryption(Bucket=pattern.bucket)))
    arn = pattern.key_arn(outputs)
    on = "on" if pattern.bucket_key else "off"
    assert observed == f"{pattern.algorithm}{' ' + arn if arn else ''}, bucket key {on}"


@over_patterns(lambda pattern: True)
@check("{pattern}.sse-c-block-setting", "{pattern}", "BlockedEncryptionTypes = {pattern.blocked}")
def test_sse_c_block_setting(verify, s3, pattern):
    config = s3.get_bucket_encryption(Bucket=pattern.bucket)
    rules = config["ServerSideEncryptionConfiguration"]["Rules"]
    types = sorted(
        {t for rule in rules for t in rule.get("BlockedEncryptionTypes", {}).get("EncryptionType", [])}
    )
    observed = verify.observe(f"BlockedEncryptionTypes = {', '.join(types) or 'absent'}")
    assert observed == f"BlockedEncryptionTypes = {pattern.blocked}"


@check(
    "sse-kms-cmk.key-policy",
    "sse-kms-cmk",
    "use allowed only with kms:CallerAccount = <account> and kms:ViaService = s3.<region>.<dns suffix>",
)
def test_cmk_key_policy_restricts_use_to_s3_in_this_region(verify, target, outputs):
    kms = target.client("kms")
    policy = json.loads(
        kms.get_key_policy(KeyId=outputs["customer_managed_key"]["arn"], PolicyName="default")["Policy"]
    )
    conditions = [
        s.get("Condition", {}).get("StringEquals", {})
        for s in policy["Statement"]
        if s["Effect"] == "Allow" and "kms:ViaService" in s.get("Condition", {}).get("StringEquals", {})
    ]
    found = [
        f"kms:CallerAccount = {c.get('kms:CallerAccount')} and kms:ViaService = {c.get('kms:ViaService')}"
        for c in conditions
    ]
    observed = verify.observe("; ".join(found) or "no statement conditioned on kms:ViaService")
    via_service = target.service_name("s3")  # s3.<region>.<the partition's DNS suffix>
    expected = f"kms:CallerAccount = {outputs['account_id']} and kms:ViaService = {via_service}"
    assert found == [expected], observed


@check("sse-kms-cmk.key-rotation", "sse-kms-cmk", "automatic key rotation enabled")
def test_cmk_rotation_is_enabled(verify, target, outputs):
    kms = target.client("kms")
    enabled = kms.get_key_rotation_status(KeyId=outputs["customer_managed_key"]["arn"])["KeyRotationEnabled"]
    observed = verify.observe(
        "automatic key rotation enabled" if enabled else "automatic key rotation disabled"
    )
    assert enabled, observed
