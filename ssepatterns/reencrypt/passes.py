"""Passes over a bucket: what every engine returns, and the loop that repeats them until none is needed.

An engine runs one pass of a job over the objects under a prefix (`Engine.run_pass`) and says what
it did (`PassResult`). A pass may miss an object a writer put under an old key while it ran, or
one that changed between listing and copy (`again`), so `run_passes` repeats until a pass copies
nothing and leaves nothing for later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ssepatterns.errors import ProjectError
from ssepatterns.sse_c import sse_c_reencrypt

# A pass that still copies after this many means writers keep writing under an old key: stop and say so.
MAX_PASSES = 10
PassResult = sse_c_reencrypt.PassResult  # what a pass did: one definition, shared with the Lambda


class Engine(Protocol):
    name: str  # "local" or "stepfunctions"
    workers: int

    def run_pass(self, job: sse_c_reencrypt.Job, prefix: str) -> PassResult:
        """Process every object under `prefix` of the job's source bucket once."""
        ...


@dataclass
class Totals:
    """All passes of one run: the counts of the first pass that saw each object, plus later copies."""

    passes: int = 0
    objects: int = 0  # objects examined by the first pass
    copied: int = 0
    bytes: int = 0
    multipart: int = 0
    skipped: int = 0
    deleted: int = 0
    retries: int = 0
    unreadable: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unreadable_count: int = 0
    failed_count: int = 0


def problems(totals: Totals, verb: str, kept: str) -> str:
    """Why the run must not be taken as complete ("" when nothing failed): what failed, and what was kept."""
    if totals.failed_count:
        return (
            f"{totals.failed_count} object(s) could not be {verb} (e.g. {totals.failed[0]}); {kept}; "
            "run again to retry them"
        )
    if totals.unreadable_count:
        return (
            f"{totals.unreadable_count} object(s) are under a key no secret version holds "
            f"(e.g. {totals.unreadable[0]}); {kept}"
        )
    return ""


def run_passes(
    engine: Engine, job: sse_c_reencrypt.Job, prefix: str, out: Callable[[str], None] = print
) -> Totals:
    totals = Totals()
    while True:
        totals.passes += 1
        result = engine.run_pass(job, prefix)
        if totals.passes == 1:
            totals.objects, totals.skipped = result.examined, result.skipped - result.again
        totals.copied += result.copied
        totals.bytes += result.bytes
        totals.multipart += result.multipart
        totals.retries += result.retries
        totals.deleted += result.deleted
        # What is unreadable or failed now is what the last pass found (an earlier failure may have
        # succeeded on a later pass).
        totals.unreadable, totals.unreadable_count = result.unreadable, result.unreadable_count
        totals.failed, totals.failed_count = result.failed, result.failed_count
        if totals.passes > 1 and (result.copied or result.again):
            out(f"pass {totals.passes}: {result.copied} object(s) written meanwhile re-encrypted")
        if result.failed_count:
            return totals  # the caller refuses to retire anything; a re-run retries them
        if not result.copied and not result.again:
            return totals
        if totals.passes >= MAX_PASSES:
            raise ProjectError(
                f"{MAX_PASSES} passes and objects under an old key keep appearing: a writer still uses "
                f"an old key version; stop it (or let it pick up the current key) and run again"
            )
