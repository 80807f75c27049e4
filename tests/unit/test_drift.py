"""Drift of BlockedEncryptionTypes: the helpers found in a state, and the buckets that differ from
what their helper set, read from a real emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from emulator_support import RunningEmulator

from ssepatterns import drift
from ssepatterns.envs import Env
from ssepatterns.errors import ProjectError

HELPER = "sse_c_encryption_type"


def _helper_resource(module: str, bucket: str, blocked: str) -> dict[str, Any]:
    """A terraform_data helper as `terraform state pull` shows it (copied from a deployed stack)."""
    return {
        "module": module,
        "mode": "managed",
        "type": "terraform_data",
        "name": HELPER,
        "provider": 'provider["terraform.io/builtin/terraform"]',
        "instances": [
            {
                "schema_version": 0,
                "attributes": {
                    "id": "4afd9aff-c640-2a69-b6e8-2c49ffde4f92",
                    "input": None,
                    "output": None,
                    "triggers_replace": {
                        "value": {"blocked": blocked, "bucket": bucket, "default_encryption": "{}"},
                        "type": [
                            "object",
                            {"blocked": "string", "bucket": "string", "default_encryption": "string"},
                        ],
                    },
                },
            }
        ],
    }


def _state(*resources: dict[str, Any]) -> str:
    return json.dumps({"version": 4, "resources": list(resources)})


def test_helpers_are_found_by_what_they_are_at_any_address() -> None:
    other_data = {
        "mode": "managed",
        "type": "terraform_data",
        "name": "something_else",
        "instances": [{"attributes": {"triggers_replace": {"value": {"zip": "x"}, "type": ["object", {}]}}}],
    }
    bucket = {
        "module": "module.a",
        "mode": "managed",
        "type": "aws_s3_bucket",
        "name": "this",
        "instances": [{}],
    }
    state = _state(
        _helper_resource('module.sse_patterns.module.bucket["sse_s3"]', "fa-125-sse-s3", "SSE-C"),
        _helper_resource("module.bucket", "single", "NONE"),
        other_data,
        bucket,
    )
    assert drift.helpers(state) == [
        drift.Helper(
            f'module.sse_patterns.module.bucket["sse_s3"].terraform_data.{HELPER}', "fa-125-sse-s3", "SSE-C"
        ),
        drift.Helper(f"module.bucket.terraform_data.{HELPER}", "single", "NONE"),
    ]


def test_counted_helpers_keep_their_index() -> None:
    resource = _helper_resource("", "b", "SSE-C")
    del resource["module"]
    resource["instances"][0]["index_key"] = 0
    assert drift.helpers(_state(resource)) == [drift.Helper(f"terraform_data.{HELPER}[0]", "b", "SSE-C")]


def test_no_state_means_no_helpers() -> None:
    assert drift.helpers("") == []
    with pytest.raises(ProjectError, match="not JSON"):
        drift.helpers("{oops")


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
