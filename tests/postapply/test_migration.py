"""Migration SSE-C -> SSE-KMS, proven on the deployed stack: objects of the run's own prefix (one of
them large enough for a multipart copy) are migrated into the CMK bucket by ./inv migrate-sse-c's
code while a writer adds objects and function2 keeps answering; a re-run copies nothing; a run with
delete_source removes the sources only after verifying each copy."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ssepatterns.reencrypt.keys import KeyCache
from ssepatterns.reencrypt.local import DEFAULT_WORKERS
from ssepatterns.reencrypt.migration import Migration
from ssepatterns.reencrypt.progress import Progress
from ssepatterns.reencrypt.run import build_engine
from ssepatterns.reencrypt.summary import Summary
from ssepatterns.verify.marks import check, not_applicable

MIB = 1024 * 1024
THRESHOLD = 6 * MIB  # lowered, so that the 7 MiB object goes through UploadPartCopy


@dataclass
class MigrationRun:
    first: Summary
    again: Summary
    deleting: Summary | None  # None: this engine may not delete sources
    bodies: dict[str, bytes] = field(default_factory=dict)
    written_during: list[str] = field(default_factory=list)
    downloads_during: list[str] = field(default_factory=list)
    sources_left: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def migration_run(target, s3, buckets, outputs, run_prefix, engine, write_sse_c) -> MigrationRun:
    source, destination = buckets["sse_c"], buckets["sse_kms_cmk"]
    secret_arn = outputs["sse_c_key_secret"]["arn"]
    secrets = target.client("secretsmanager")
    lambda_client = target.client("lambda")
    prefix = f"{run_prefix}migration/{engine}/"
    bodies: dict[str, bytes] = {}
    written_during: list[str] = []

    def write(name: str, size: int = 256) -> None:
        bodies[prefix + name] = write_sse_c(prefix + name, size)

    for i in range(10):
        write(f"before/{i}.txt")
    write("before/large.bin", 7 * MIB)

    class WriterDuringThePass(Progress):
        """Objects that arrive while the first pass runs: a later pass must take them."""

        def advance(self, outcome: Any) -> None:
            super().advance(outcome)
            if len(written_during) < 5:
                name = f"during/{len(written_during)}.txt"
                write(name)
                written_during.append(prefix + name)

    keys = KeyCache(secrets, secret_arn)

    def migration(**kwargs: Any) -> Migration:
        progress = kwargs.pop("progress", None) or Progress(enabled=False)
        copier, running = build_engine(target, engine, DEFAULT_WORKERS, keys, progress)
        return Migration(
            copier,
            secrets,
            source,
            secret_arn,
            out=lambda _line: None,
            propagation=target.propagation,
            engine=running,
            keys=keys,
            prefix=prefix,
            multipart_threshold=THRESHOLD,
            part_size=THRESHOLD,
            destination_bucket=destination,
            **kwargs,
        )

    downloads: list[str] = []
    stop = threading.Event()

    def function2() -> None:
        while not stop.is_set() and len(downloads) < 50:
            response = lambda_client.invoke(FunctionName=outputs["functions"]["download"], Payload=b"{}")
            downloads.append(
                json.loads(response["Payload"].read()) if "FunctionError" not in response else "error"
            )

    thread = threading.Thread(target=function2)
    thread.start()
    try:
        first = migration(progress=WriterDuringThePass(enabled=False)).run()
    finally:
        stop.set()
        thread.join()
    again = migration().run()
    may_delete = engine == "local" or bool(outputs["reencrypt_engine"].get("allow_delete_source"))
    deleting = migration(delete_source=True).run() if may_delete else None
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=source, Prefix=prefix).get("Contents", [])]
    return MigrationRun(first, again, deleting, bodies, written_during, downloads, left)


CHECKED_UNDER_THE_CMK = (
    "every object, the large one and those written during it too: same bytes under the CMK"
)


@check("migration.{engine}.under-the-cmk", "migration", CHECKED_UNDER_THE_CMK)
def test_every_object_is_in_the_cmk_bucket_under_the_cmk(verify, migration_run, s3, buckets, outputs):
    key_arn = outputs["customer_managed_key"]["arn"]
    wrong: dict[str, str] = {}
    for name, body in migration_run.bodies.items():
        try:
            got = s3.get_object(Bucket=buckets["sse_kms_cmk"], Key=name)  # no SSE-C key any more
        except ClientError as error:
            wrong[name] = error.response["Error"]["Code"]
            continue
        encryption = (got.get("ServerSideEncryption"), got.get("SSEKMSKeyId"))
        same = got["Body"].read() == body
        if not same or encryption != ("aws:kms", key_arn):
            wrong[name] = f"{encryption}, same bytes: {same}"
    multipart = migration_run.first.multipart
    verify.observe(f"{len(wrong)} of {len(migration_run.bodies)} wrong" if wrong else CHECKED_UNDER_THE_CMK)
    assert not wrong, list(wrong.items())[:5]
    assert multipart == 1 and len(migration_run.written_during) == 5 and migration_run.first.passes >= 2


@check(
    "migration.{engine}.rerun-copies-nothing",
    "migration",
    "a second run copies nothing: every object already migrated",
)
def test_a_rerun_copies_nothing(verify, migration_run):
    again = migration_run.again
    observed = verify.observe(
        "a second run copies nothing: every object already migrated"
        if again.reencrypted == 0 and again.skipped == len(migration_run.bodies)
        else f"the second run copied {again.reencrypted} and skipped {again.skipped}"
    )
    assert observed == "a second run copies nothing: every object already migrated"


@check(
    "migration.{engine}.sources-deleted-after-verification",
    "migration",
    "with delete_source: every source deleted, each after its copy was verified",
)
def test_delete_source_removes_the_sources_after_verifying(verify, migration_run):
    deleting = migration_run.deleting
    if deleting is None:
        not_applicable("the engine was deployed without reencrypt_allow_delete_source, so it refuses deletes")
    done = deleting.deleted_sources == len(migration_run.bodies) and not migration_run.sources_left
    observed = verify.observe(
        "with delete_source: every source deleted, each after its copy was verified"
        if done and not deleting.failed_count
        else f"{deleting.deleted_sources} deleted, {deleting.failed_count} failed, "
        f"{len(migration_run.sources_left)} left"
    )
    assert observed == "with delete_source: every source deleted, each after its copy was verified"


@check(
    "migration.{engine}.function2-during", "migration", "function2 returns awstut! throughout the migration"
)
def test_function2_answers_during_the_migration(verify, migration_run):
    during = sorted(set(migration_run.downloads_during))
    observed = verify.observe(f"during: {during or 'no call'}")
    assert during == ["awstut!"], observed
