"""Key rotation, proven on the deployed stack: objects written before, during and after a rotation
are all readable with the new key, none with the old one; the functions keep working throughout.

The group runs a real rotation (./inv rotate-sse-c-key's code) against the stack's own bucket and
secret, with objects of its own under the run prefix; the other objects in the bucket are rotated too.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sse_c_key import sse_c_params
from sse_c_secret import SseCKey, fetch_key, key_version_of, version_tagging

from ssepatterns.reencrypt.job_run import LOCK_PREFIX
from ssepatterns.reencrypt.keys import KeyCache
from ssepatterns.reencrypt.local import DEFAULT_WORKERS
from ssepatterns.reencrypt.progress import Progress
from ssepatterns.reencrypt.rotation import Rotation
from ssepatterns.reencrypt.run import build_engine
from ssepatterns.reencrypt.summary import Summary
from ssepatterns.verify.marks import check
from ssepatterns.verify.observe import outcome

MIB = 1024 * 1024
pytestmark = pytest.mark.runs_last  # it changes the key the other checks use


@dataclass
class RotationRun:
    old: SseCKey
    new: SseCKey
    summary: Summary
    bodies: dict[str, bytes] = field(default_factory=dict)  # what the suite wrote, by object key
    before_count: int = 0
    before_bytes: int = 0
    after_count: int = 0
    after_bytes: int = 0
    downloads_during: list[str] = field(default_factory=list)
    stale_names: list[str] = field(default_factory=list)  # written with the old key during the rotation
    writer_errors: list[str] = field(default_factory=list)


def bucket_totals(s3, bucket: str) -> tuple[int, int]:
    objects = [
        o
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
        if not o["Key"].startswith(LOCK_PREFIX)
    ]
    return len(objects), sum(o["Size"] for o in objects)


@pytest.fixture(scope="module")
def rotation_run(target, s3, buckets, outputs, run_prefix, engine, write_sse_c) -> RotationRun:
    bucket, secret_arn = buckets["sse_c"], outputs["sse_c_key_secret"]["arn"]
    secrets = target.client("secretsmanager")
    lambda_client = target.client("lambda")
    prefix = f"{run_prefix}rotation/{engine}/"
    bodies: dict[str, bytes] = {}

    def write(name: str, size: int = 256) -> None:
        bodies[prefix + name] = write_sse_c(prefix + name, size)

    for i in range(10):
        write(f"before/{i}.txt")
    write("before/large.bin", 3 * MIB)
    lambda_client.invoke(FunctionName=outputs["functions"]["upload"], Payload=b"{}")
    old = fetch_key(secrets, secret_arn)
    before_count, before_bytes = bucket_totals(s3, bucket)

    run = RotationRun(old=old, new=old, summary=None, bodies=bodies)  # type: ignore[arg-type]
    stop = threading.Event()

    def concurrent_traffic() -> None:
        i = 0
        while not stop.is_set() and i < 100:
            try:
                write(f"during/{i}.txt")
                response = lambda_client.invoke(FunctionName=outputs["functions"]["download"], Payload=b"{}")
                run.downloads_during.append(
                    json.loads(response["Payload"].read()) if "FunctionError" not in response else "error"
                )
            except ClientError as error:
                run.writer_errors.append(error.response["Error"]["Code"])
            i += 1

    thread = threading.Thread(target=concurrent_traffic)
    thread.start()
    # Anything left unfinished first (the next run would complete it instead of rotating).
    # The engine as ./inv rotate-sse-c-key --engine runs it (the local one: 16 workers by default).
    keys = KeyCache(secrets, secret_arn)

    class StaleWriter(Progress):
        """A writer still using the key it read before the switch, while the first pass runs: a later
        pass of the same run must take its objects (or retiring the old key would lose them)."""

        armed = False

        def advance(self, outcome: Any) -> None:
            super().advance(outcome)
            if self.armed and len(run.stale_names) < 5:
                name = f"{prefix}stale/{len(run.stale_names)}.txt"
                body = name.encode() * 8
                s3.put_object(
                    Bucket=bucket,
                    Key=name,
                    Body=body,
                    Tagging=version_tagging(old.version_id),
                    **sse_c_params(old.secret_string),
                )
                run.stale_names.append(name)
                bodies[name] = body

    stale_writer = StaleWriter(enabled=False)
    copier, running = build_engine(target, engine, DEFAULT_WORKERS, keys, stale_writer)
    quiet = {"out": lambda _line: None, "propagation": target.propagation, "engine": running, "keys": keys}
    Rotation(copier, secrets, bucket, secret_arn, **quiet).run(resume_only=True)
    stale_writer.armed = True
    try:
        run.summary = Rotation(copier, secrets, bucket, secret_arn, **quiet).run()
    finally:
        stop.set()
        thread.join()
    run.new = fetch_key(secrets, secret_arn)
    run.after_count, run.after_bytes = bucket_totals(s3, bucket)
    run.before_count, run.before_bytes = before_count, before_bytes
    for i in range(3):
        write(f"after/{i}.txt")
    return run


def phase_of(name: str) -> str:
    """before, during, stale or after: the folder the fixture wrote the object in."""
    return name.rsplit("/", 2)[-2]


def read_status(s3, bucket: str, name: str, key: str, body: bytes) -> str:
    try:
        got = s3.get_object(Bucket=bucket, Key=name, **sse_c_params(key))["Body"].read()
    except ClientError as error:
        return error.response["Error"]["Code"]
    return "equal" if got == body else "different"


@check("rotation.{engine}.new-key", "rotation", "a new current key version; the previous version retired")
def test_a_new_key_version_is_current(verify, rotation_run):
    run = rotation_run
    new_version = run.new.version_id != run.old.version_id and run.summary.started_new_rotation
    retired = run.summary.retired_version == run.old.version_id
    observed = verify.observe(
        ("a new current key version" if new_version else "the same key version")
        + ("; the previous version retired" if retired else "; the previous version NOT retired")
    )
    assert observed == "a new current key version; the previous version retired"


@check(
    "rotation.{engine}.all-objects-tagged-current", "rotation", "every object records the current key version"
)
def test_every_object_records_the_current_version(verify, rotation_run, s3, buckets):
    stale = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=buckets["sse_c"])
        for o in page.get("Contents", [])
        if not o["Key"].startswith(LOCK_PREFIX)
        and key_version_of(s3, buckets["sse_c"], o["Key"]) != rotation_run.new.version_id
    ]
    verify.observe(
        f"{len(stale)} object(s) record another version"
        if stale
        else "every object records the current key version"
    )
    assert not stale, stale[:5]


@check(
    "rotation.{engine}.readable-with-new-key",
    "rotation",
    "before, during and after objects: same bytes with the new key",
)
def test_objects_from_before_during_and_after_are_readable_with_the_new_key(
    verify, rotation_run, s3, buckets
):
    results = {
        name: read_status(s3, buckets["sse_c"], name, rotation_run.new.secret_string, body)
        for name, body in rotation_run.bodies.items()
    }
    phases = {
        phase: sum(1 for n in results if phase_of(n) == phase) for phase in ("before", "during", "after")
    }
    bad = {n: r for n, r in results.items() if r != "equal"}
    verify.observe(
        f"{len(bad)} of {len(results)} not readable"
        if bad
        else "before, during and after objects: same bytes with the new key"
    )
    assert not bad, list(bad.items())[:5]
    assert all(phases.values()), f"a phase wrote nothing: {phases}"


@check("rotation.{engine}.unreadable-with-old-key", "rotation", "403 for every object with the old key")
def test_objects_are_unreadable_with_the_old_key(verify, rotation_run, s3, buckets):
    names = [n for n in rotation_run.bodies if phase_of(n) == "before"]
    codes = {
        outcome(
            lambda n=n: s3.get_object(
                Bucket=buckets["sse_c"], Key=n, **sse_c_params(rotation_run.old.secret_string)
            )
        )
        for n in names
    }
    verify.observe(f"{', '.join(sorted(codes))} for every object with the old key")
    assert {code.split()[0] for code in codes} == {"403"}, codes


@check(
    "rotation.{engine}.function2-during-and-after",
    "rotation",
    "function2 returns awstut! during and after the rotation",
)
def test_function2_keeps_working(verify, rotation_run, target, outputs):
    response = target.client("lambda").invoke(FunctionName=outputs["functions"]["download"], Payload=b"{}")
    after = json.loads(response["Payload"].read()) if "FunctionError" not in response else "error"
    during = set(rotation_run.downloads_during)
    errors = rotation_run.writer_errors or "none"
    observed = verify.observe(
        f"during: {sorted(during) or 'no call'}; after: {after}; writer errors: {errors}"
    )
    assert during == {"awstut!"} and after == "awstut!" and not rotation_run.writer_errors, observed


@check(
    "rotation.{engine}.count-and-bytes-unchanged",
    "rotation",
    "the rotation changed neither the number of objects nor their bytes",
)
def test_the_rotation_changed_no_count_or_size(verify, rotation_run):
    run = rotation_run
    during = [n for n in run.bodies if phase_of(n) in ("during", "stale")]
    # Objects written during the rotation are the only difference allowed.
    during_bytes = sum(len(run.bodies[n]) for n in during)
    same = (run.after_count - len(during), run.after_bytes - during_bytes) == (
        run.before_count,
        run.before_bytes,
    )
    observed = verify.observe(
        "the rotation changed neither the number of objects nor their bytes"
        if same
        else f"before {run.before_count} objects/{run.before_bytes} bytes, "
        f"after {run.after_count}/{run.after_bytes} (with {len(during)} written during it)"
    )
    assert same, observed


@check(
    "rotation.{engine}.old-key-writers-caught",
    "rotation",
    "objects written with the old key during the rotation: under the new key after it",
)
def test_objects_written_with_the_old_key_during_the_rotation_are_caught(verify, rotation_run, s3, buckets):
    run = rotation_run
    caught = {
        name: read_status(s3, buckets["sse_c"], name, run.new.secret_string, run.bodies[name])
        for name in run.stale_names
    }
    bad = {n: r for n, r in caught.items() if r != "equal"}
    observed = verify.observe(
        f"{len(bad)} of {len(caught)} not under the new key"
        if bad or not caught
        else "objects written with the old key during the rotation: under the new key after it"
    )
    assert len(caught) == 5 and not bad and run.summary.passes >= 2, observed
