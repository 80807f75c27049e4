"""The deployed encryption patterns, as the stack's outputs describe them.

The pattern registry is `local.patterns` of the sse-patterns module; `outputs.buckets` carries each
entry (algorithm, kms_key, bucket_key, sse_c) with the bucket it made. The checks after apply are
parametrized over these (`over_patterns`), so a pattern added to the registry is checked without a
test of its own. What each check expects follows from the entry, never from the bucket's own outputs:
the ARNs a bucket must name come from the key's outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from ssepatterns.errors import ProjectError

ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
# Another algorithm to ask for: what the bucket policy must refuse on a bucket of this one.
_OTHER_ALGORITHM = {"AES256": "aws:kms", "aws:kms": "AES256", "aws:kms:dsse": "aws:kms"}
_KEY_PLACEHOLDER = {"aws_managed": "<alias/aws/s3 ARN>", "customer_managed": "<CMK ARN>"}
REGISTRY_FIELDS = ("algorithm", "kms_key", "bucket_key", "sse_c")


@dataclass(frozen=True)
class Pattern:
    key: str  # of outputs.buckets: sse_kms_cmk
    bucket: str
    arn: str
    algorithm: str | None  # the bucket's default encryption; None: none of its own
    kms_key: str | None  # "aws_managed", "customer_managed" or None
    bucket_key: bool
    sse_c: str  # "require" or "deny"

    def __str__(self) -> str:
        return self.id

    @property
    def id(self) -> str:
        """How checks and reports name it: sse-kms-cmk."""
        return self.key.replace("_", "-")

    @property
    def other_algorithm(self) -> str:
        if self.algorithm is None:
            raise ValueError(f"{self.id} has no default encryption of its own")
        return _OTHER_ALGORITHM[self.algorithm]

    @property
    def configured(self) -> str:
        """Its encryption configuration as a check expects it: 'aws:kms <CMK ARN>, bucket key on'."""
        key = _KEY_PLACEHOLDER.get(self.kms_key or "", "")
        return f"{self.algorithm}{' ' + key if key else ''}, bucket key {'on' if self.bucket_key else 'off'}"

    @property
    def blocked(self) -> str:
        """Its BlockedEncryptionTypes: NONE where SSE-C is required, SSE-C elsewhere."""
        return "NONE" if self.sse_c == "require" else "SSE-C"

    def key_arn(self, outputs: Mapping[str, Any]) -> str | None:
        """The KMS key ARN its configuration must name, from the key's outputs (not the bucket's)."""
        if self.kms_key == "aws_managed":
            return str(outputs["aws_managed_s3_key_alias_arn"])
        if self.kms_key == "customer_managed":
            return str(outputs["customer_managed_key"]["arn"])
        return None


def deployed(outputs: Mapping[str, Any]) -> list[Pattern]:
    """The patterns of a stack's outputs, in key order (stable check ids)."""
    found = []
    for key, bucket in sorted(outputs["buckets"].items()):
        missing = [field for field in REGISTRY_FIELDS if field not in bucket]
        if missing:
            raise ProjectError(
                f"the stack's outputs.buckets.{key} lacks {', '.join(missing)} "
                "(applied by an older version): run ./inv apply"
            )
        if bucket["algorithm"] not in (*ALGORITHMS, None):
            raise ProjectError(f"outputs.buckets.{key}: unknown algorithm {bucket['algorithm']!r}")
        found.append(
            Pattern(
                key=key,
                bucket=str(bucket["name"]),
                arn=str(bucket["arn"]),
                algorithm=bucket["algorithm"],
                kms_key=bucket["kms_key"],
                bucket_key=bool(bucket["bucket_key"]),
                sse_c=str(bucket["sse_c"]),
            )
        )
    return found


def over_patterns(select: Callable[[Pattern], bool]) -> pytest.MarkDecorator:
    """Run the check once per deployed pattern that `select` takes, as its `pattern` argument (the
    suite's conftest parametrizes it at collection, from the stack's outputs)."""
    return pytest.mark.over_patterns.with_args(select)  # with_args: a function argument is not the decorated
