"""Drift of BlockedEncryptionTypes on a real emulator: the buckets that differ from what their helper set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from emulator_support import RunningEmulator

from ssepatterns import drift
from ssepatterns.envs import Env

pytestmark = pytest.mark.emulator


def _env(emulator: RunningEmulator) -> Env:
    cfg = emulator.cfg
    return Env(
        name="local", workdir=Path("."), process_env={}, variables={"region": cfg.region}, emulator=cfg
    )


def _bucket(emulator: RunningEmulator, name: str, blocked: str | None, encrypted: bool = True) -> None:
    s3 = emulator.clients("s3")
    s3.create_bucket(Bucket=name)
    if not encrypted:
        s3.delete_bucket_encryption(Bucket=name)
        return
    rule: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    if blocked is not None:
        rule["BlockedEncryptionTypes"] = {"EncryptionType": [blocked]}
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [rule]})


def test_drift_is_every_bucket_that_lacks_its_helpers_setting(emulator: RunningEmulator) -> None:
    _bucket(emulator, "drift-as-wanted", "SSE-C")
    _bucket(emulator, "drift-none-set", "NONE")  # wants SSE-C: set NONE out of band
    _bucket(emulator, "drift-absent", None)  # the setting lost (e.g. an emulator restored from older state)
    _bucket(emulator, "drift-none-wanted", "NONE")
    _bucket(emulator, "drift-unencrypted", None, encrypted=False)
    helpers = [
        drift.Helper("a", "drift-as-wanted", "SSE-C"),
        drift.Helper("b", "drift-none-set", "SSE-C"),
        drift.Helper("c", "drift-absent", "SSE-C"),
        drift.Helper("d", "drift-none-wanted", "NONE"),
        drift.Helper("e", "drift-no-such-bucket", "SSE-C"),
        drift.Helper("f", "drift-unencrypted", "SSE-C"),
    ]
    found = drift.drifted(_env(emulator), helpers)
    assert {d.helper.address: d.found for d in found} == {
        "b": "BlockedEncryptionTypes NONE",
        "c": "BlockedEncryptionTypes absent",
        "e": "no bucket",
        "f": "BlockedEncryptionTypes absent",  # S3 answers with its default SSE-S3 configuration
    }
    (none_set,) = [d for d in found if d.helper.address == "b"]
    assert none_set.describe() == (
        "drift: drift-none-set has BlockedEncryptionTypes NONE, the configuration wants "
        "BlockedEncryptionTypes SSE-C: its helper is replaced in this plan"
    )


def test_a_default_encryption_other_than_the_configured_one_replaces_the_helper(
    emulator: RunningEmulator,
) -> None:
    """Terraform repairs it by rewriting the configuration, which drops BlockedEncryptionTypes: the
    helper must run after that rewrite, in the same apply."""
    _bucket(emulator, "drift-config-as-wanted", "SSE-C")  # AES256, bucket key off
    _bucket(emulator, "drift-config-changed", "SSE-C")  # AES256, but configured aws:kms
    aes256 = {"sse_algorithm": "AES256", "kms_key_arn": None, "bucket_key_enabled": False}
    kms = {"sse_algorithm": "aws:kms", "kms_key_arn": "arn:aws:kms:us-east-1:000000000000:key/k"}
    helpers = [
        drift.Helper("a", "drift-config-as-wanted", "SSE-C", aes256),
        drift.Helper("b", "drift-config-changed", "SSE-C", {**kms, "bucket_key_enabled": True}),
        drift.Helper("c", "drift-config-changed", "SSE-C", None),  # no configuration of Terraform's
    ]
    (found,) = drift.drifted(_env(emulator), helpers)
    assert found.helper.address == "b"
    assert found.describe() == (
        "drift: drift-config-changed has default encryption AES256, bucket key off, the configuration "
        "wants aws:kms arn:aws:kms:us-east-1:000000000000:key/k, bucket key on (Terraform rewrites it, "
        "dropping the SSE-C setting): its helper is replaced in this plan"
    )
