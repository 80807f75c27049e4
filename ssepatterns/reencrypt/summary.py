"""What a re-encryption run did: the summary line, and the JSON of --json (same fields for every job
and engine). Names, counts, sizes and secret version ids only: never key material."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ssepatterns.reencrypt.passes import Totals
from ssepatterns.reencrypt.versioned import Noncurrent

# What every report holds at least (issue 10's contract: the bench and CI read them).
# fmt: off
REPORT_FIELDS = (
    "job", "engine", "workers", "objects", "bytes", "seconds", "objects_per_s", "mb_per_s",
    "skipped", "failed",
)
# fmt: on


@dataclass
class Summary:
    started_new_rotation: bool
    current_version: str
    retired_version: str | None
    job: str = "rotate"
    engine: str = "local"
    workers: int = 1
    source_bucket: str = ""
    destination_bucket: str = ""
    prefix: str = ""
    keep_tags: bool = False  # rotate --keep-tags: the objects' other tags were kept
    objects: int = 0  # examined by the first pass
    reencrypted: int = 0  # copied, by every pass
    reencrypted_bytes: int = 0
    multipart: int = 0
    skipped: int = 0
    retries: int = 0
    passes: int = 0
    seconds: float = 0.0  # the passes only: not start-up, the lock or the secret
    unreadable: list[str] = field(default_factory=list)
    unreadable_count: int = 0
    failed: list[str] = field(default_factory=list)
    failed_count: int = 0
    deleted_sources: int = 0
    noncurrent_under_previous: Noncurrent | None = None
    refused: str = ""  # why nothing was retired (or a source kept): the run exits non-zero

    def absorb(self, totals: Totals) -> None:
        self.objects, self.reencrypted, self.reencrypted_bytes = totals.objects, totals.copied, totals.bytes
        self.multipart, self.skipped, self.retries, self.passes = (
            totals.multipart,
            totals.skipped,
            totals.retries,
            totals.passes,
        )
        self.unreadable, self.unreadable_count = totals.unreadable, totals.unreadable_count
        self.failed, self.failed_count = totals.failed, totals.failed_count

    @property
    def objects_per_s(self) -> float:
        return self.reencrypted / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        verb = "migrated" if self.job == "migrate" else "re-encrypted"
        retired = f"; version {self.retired_version} retired" if self.retired_version else ""
        if self.reencrypted == 0 and not self.started_new_rotation and not self.refused:
            if self.job == "migrate":
                return f"nothing to migrate: all {self.objects} objects are migrated already"
            under = f"under key version {self.current_version}"
            return f"nothing to re-encrypt: all {self.objects} objects are {under}{retired}"
        return (
            f"done: {self.reencrypted} of {self.objects} objects {verb} ({self.reencrypted_bytes:,} bytes, "
            f"{self.multipart} multipart) in {self.seconds:.1f} s, {self.objects_per_s:,.0f} objects/s, "
            f"{self.workers} worker(s) on the {self.engine} engine, {self.passes} pass(es), "
            f"{self.retries} retried request(s){retired}"
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["bytes"] = data.pop("reencrypted_bytes")
        data["copied"] = data.pop("reencrypted")
        data["seconds"] = round(self.seconds, 3)
        data["objects_per_s"] = round(self.objects_per_s, 1)
        data["mb_per_s"] = round(self.reencrypted_bytes / self.seconds / 1e6, 3) if self.seconds > 0 else 0.0
        data["failed_names"], data["failed"] = data.pop("failed"), self.failed_count
        data["unreadable_names"], data["unreadable"] = data.pop("unreadable"), self.unreadable_count
        data.pop("failed_count")
        data.pop("unreadable_count")
        return data

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n")
        temporary.replace(path)  # a reader never sees half a report
