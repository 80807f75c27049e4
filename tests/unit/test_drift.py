"""Drift of BlockedEncryptionTypes: the helpers found in a state (the buckets that differ from what
their helper set, read from a real emulator: tests/integration/test_drift_on_emulator.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ssepatterns import drift
from ssepatterns.errors import ProjectError

HELPER = "sse_c_encryption_type"


def _helper_resource(
    module: str, bucket: str, blocked: str, default_encryption: str = "null"
) -> dict[str, Any]:
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
                        "value": {
                            "blocked": blocked,
                            "bucket": bucket,
                            "default_encryption": default_encryption,
                        },
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
        _helper_resource(
            'module.sse_patterns.module.bucket["sse_s3"]',
            "fa-125-sse-s3",
            "SSE-C",
            '{"aws_managed_key":false,"bucket_key_enabled":false,"kms_key_arn":null,"sse_algorithm":"AES256"}',
        ),
        _helper_resource("module.bucket", "single", "NONE"),
        other_data,
        bucket,
    )
    assert drift.helpers(state) == [
        drift.Helper(
            f'module.sse_patterns.module.bucket["sse_s3"].terraform_data.{HELPER}',
            "fa-125-sse-s3",
            "SSE-C",
            {
                "aws_managed_key": False,
                "bucket_key_enabled": False,
                "kms_key_arn": None,
                "sse_algorithm": "AES256",
            },
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
