"""Versioned buckets: a copy onto itself leaves the noncurrent versions as they were, under their
old key, so retiring that key's secret version would make them unreadable forever.

`noncurrent_versions_under` counts them (from each version's key-version tag; an untagged noncurrent
version counts too, since nothing shows it is not under that key) and `refusal` says what to do.
A bucket that never had versioning has no noncurrent versions, and costs one GetBucketVersioning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ssepatterns.sse_c import sse_c_secret

EXAMPLES = 5


@dataclass
class Noncurrent:
    count: int = 0
    untagged: int = 0
    examples: list[str] = field(default_factory=list)  # "key (version id)"

    def __bool__(self) -> bool:
        return self.count > 0


def noncurrent_versions_under(s3: Any, bucket: str, prefix: str, key_version: str) -> Noncurrent:
    found = Noncurrent()
    if s3.get_bucket_versioning(Bucket=bucket).get("Status") not in ("Enabled", "Suspended"):
        return found
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for version in page.get("Versions", []):
            if version.get("IsLatest"):
                continue
            tags = s3.get_object_tagging(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
            tagged = next(
                (t["Value"] for t in tags.get("TagSet", []) if t["Key"] == sse_c_secret.KEY_VERSION_TAG), None
            )
            if tagged not in (key_version, None):
                continue
            found.count += 1
            found.untagged += int(tagged is None)
            if len(found.examples) < EXAMPLES:
                found.examples.append(f"{version['Key']} ({version['VersionId']})")
    return found


def refusal(bucket: str, key_version: str, noncurrent: Noncurrent) -> str:
    untagged = f", {noncurrent.untagged} of them untagged" if noncurrent.untagged else ""
    return (
        f"bucket {bucket} is versioned and keeps {noncurrent.count} noncurrent version(s) under key version "
        f"{key_version}{untagged} (e.g. {', '.join(noncurrent.examples)}); retiring that version would make "
        f"them unreadable forever, so it stays AWSPREVIOUS and the current versions are all re-encrypted. "
        f"Delete or expire those versions (e.g. a NoncurrentVersionExpiration lifecycle rule) and run again, "
        f"or run again with --allow-unreadable-noncurrent to retire it anyway"
    )
