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


@check("sse-s3.default-upload", "sse-s3", expected_round_trip("AES256"))
def test_sse_s3_default_upload(verify, target, s3, buckets, run_prefix):
    expected = expected_round_trip("AES256")
    observed = verify.observe(
        default_round_trip(target, s3, buckets["sse_s3"], f"{run_prefix}default.txt", expected.__eq__)
    )
    assert observed == expected


@check("sse-s3.bucket-config", "sse-s3", "AES256, bucket key off")
def test_sse_s3_bucket_config(verify, s3, buckets):
    observed = verify.observe(bucket_default(s3.get_bucket_encryption(Bucket=buckets["sse_s3"])))
    assert observed == "AES256, bucket key off"


@pytest.fixture(scope="module")
def aws_managed_key(target, outputs) -> tuple[str, str]:
    """(what S3 should report as the key, how we know). On AWS the alias resolves to the key's ARN;
    MiniStack has no AWS managed keys and echoes the alias ARN the bucket default names."""
    alias_arn = outputs["aws_managed_s3_key_alias_arn"]
    if target.on_emulator:
        return alias_arn, "emulator: alias ARN echoed"
    kms = target.client("kms")
    return kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]["Arn"], "AWS: alias/aws/s3 resolved"


@check(
    "sse-kms-aws-managed.default-upload",
    "sse-kms-aws-managed",
    "aws:kms with the account's aws/s3 key (AWS: key ARN from describe-key; emulator: the alias ARN)",
)
def test_sse_kms_aws_managed_default_upload(verify, target, s3, buckets, run_prefix, aws_managed_key):
    key, how = aws_managed_key
    expected = expected_round_trip(f"aws:kms {key}")
    bucket = buckets["sse_kms_aws_managed"]
    observed = default_round_trip(target, s3, bucket, f"{run_prefix}default.txt", expected.__eq__)
    verify.observe(f"{observed} ({how})")
    assert observed == expected


@check(
    "sse-kms-aws-managed.bucket-config", "sse-kms-aws-managed", "aws:kms <alias/aws/s3 ARN>, bucket key off"
)
def test_sse_kms_aws_managed_bucket_config(verify, s3, buckets, outputs):
    observed = verify.observe(bucket_default(s3.get_bucket_encryption(Bucket=buckets["sse_kms_aws_managed"])))
    assert observed == f"aws:kms {outputs['aws_managed_s3_key_alias_arn']}, bucket key off"


@check("sse-kms-cmk.default-upload", "sse-kms-cmk", "aws:kms with exactly the CMK's ARN")
def test_sse_kms_cmk_default_upload(verify, target, s3, buckets, outputs, run_prefix):
    expected = expected_round_trip(f"aws:kms {outputs['customer_managed_key']['arn']}")
    observed = verify.observe(
        default_round_trip(target, s3, buckets["sse_kms_cmk"], f"{run_prefix}default.txt", expected.__eq__)
    )
    assert observed == expected


@check("sse-kms-cmk.bucket-config", "sse-kms-cmk", "aws:kms <CMK ARN>, bucket key off")
def test_sse_kms_cmk_bucket_config(verify, s3, buckets, outputs):
    observed = verify.observe(bucket_default(s3.get_bucket_encryption(Bucket=buckets["sse_kms_cmk"])))
    assert observed == f"aws:kms {outputs['customer_managed_key']['arn']}, bucket key off"


@check("dsse-kms.default-upload", "dsse-kms", "aws:kms:dsse on PUT and HEAD; body read back equal")
def test_dsse_kms_default_upload(verify, target, s3, buckets, run_prefix):
    observed = verify.observe(
        default_round_trip(target, s3, buckets["dsse_kms"], f"{run_prefix}default.txt", dsse_on_put_and_head)
    )
    # The key is checked separately: MiniStack does not report one for DSSE.
    assert dsse_on_put_and_head(observed), observed


@check("dsse-kms.default-upload-key", "dsse-kms", "aws:kms:dsse with exactly the CMK's ARN")
def test_dsse_kms_default_upload_key(verify, target, s3, buckets, outputs, run_prefix):
    if target.on_emulator:
        not_applicable("MiniStack reports no KMS key id for DSSE-KMS objects")
    expected = expected_round_trip(f"aws:kms:dsse {outputs['customer_managed_key']['arn']}")
    observed = verify.observe(
        default_round_trip(target, s3, buckets["dsse_kms"], f"{run_prefix}default-key.txt", expected.__eq__)
    )
    assert observed == expected


@check("dsse-kms.bucket-config", "dsse-kms", "aws:kms:dsse <CMK ARN>, bucket key off")
def test_dsse_kms_bucket_config(verify, s3, buckets, outputs):
    observed = verify.observe(bucket_default(s3.get_bucket_encryption(Bucket=buckets["dsse_kms"])))
    assert observed == f"aws:kms:dsse {outputs['customer_managed_key']['arn']}, bucket key off"


@pytest.mark.parametrize(
    ("pattern", "blocked"),
    [
        ("sse-s3", "SSE-C"),
        ("sse-kms-aws-managed", "SSE-C"),
        ("sse-kms-cmk", "SSE-C"),
        ("dsse-kms", "SSE-C"),
        ("sse-c", "NONE"),
    ],
)
@check("{pattern}.sse-c-block-setting", "{pattern}", "BlockedEncryptionTypes = {blocked}")
def test_sse_c_block_setting(verify, s3, buckets, pattern, blocked):
    config = s3.get_bucket_encryption(Bucket=buckets[pattern.replace("-", "_")])
    rules = config["ServerSideEncryptionConfiguration"]["Rules"]
    types = sorted(
        {t for rule in rules for t in rule.get("BlockedEncryptionTypes", {}).get("EncryptionType", [])}
    )
    observed = verify.observe(f"BlockedEncryptionTypes = {', '.join(types) or 'absent'}")
    assert observed == f"BlockedEncryptionTypes = {blocked}"


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
