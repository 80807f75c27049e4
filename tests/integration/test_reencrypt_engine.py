"""The re-encryption engine against a real emulator: multipart copies, versioned buckets, backoff on
injected 503s, migrations (idempotent, verified before a source is deleted), one secret read per key
version, and no key in the progress output or the JSON report."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from emulator_support import RunningEmulator
from sse_c_sandbox import SseCSandbox

from ssepatterns import key_scan
from ssepatterns.reencrypt import local
from ssepatterns.reencrypt.job_run import CURRENT, PREVIOUS
from ssepatterns.reencrypt.local import LocalEngine
from ssepatterns.reencrypt.migration import Migration
from ssepatterns.reencrypt.progress import Progress
from ssepatterns.reencrypt.rotation import Rotation
from ssepatterns.sse_c import sse_c_key, sse_c_reencrypt, sse_c_secret

pytestmark = pytest.mark.emulator

MIB = 1024 * 1024


class Bucket(SseCSandbox):
    """The sandbox, its objects also tagged team=blue (a tag a rotation replaces unless --keep-tags)."""

    other_tagging = "team=blue"

    def engine(self, workers: int = 4, **kwargs: Any) -> LocalEngine:
        return LocalEngine(self.s3, self.keys, workers=workers, **kwargs)

    def rotation(self, **kwargs: Any) -> Rotation:
        kwargs.setdefault("engine", self.engine())
        return Rotation(
            self.s3, self.secrets, self.name, self.secret_arn, out=lambda _l: None, keys=self.keys, **kwargs
        )

    def labels(self) -> dict[str, list[str]]:
        return self.rotation().versions()


def test_an_object_larger_than_the_threshold_goes_through_multipart_copy(emulator: RunningEmulator):
    bucket = Bucket(emulator)
    bucket.write("big.bin", size=14 * MIB)  # 3 parts of 6 MiB with a 6 MiB threshold
    bucket.write("small.txt")
    summary = bucket.rotation(multipart_threshold=6 * MIB, part_size=6 * MIB).run()
    new = bucket.current()
    assert (summary.reencrypted, summary.multipart) == (2, 1)
    assert bucket.read("big.bin", new.secret_string) == bucket.bodies["big.bin"]
    head = bucket.s3.head_object(
        Bucket=bucket.name, Key="big.bin", **sse_c_key.sse_c_params(new.secret_string)
    )
    assert (head["ContentType"], head["Metadata"]) == ("text/x-test", {"origin": "test"})
    assert head["ETag"].endswith('-3"'), head["ETag"]  # really three parts
    assert sse_c_secret.key_version_of(bucket.s3, bucket.name, "big.bin") == new.version_id
    assert not bucket.s3.list_multipart_uploads(Bucket=bucket.name).get("Uploads"), "an upload left open"


def test_a_versioned_bucket_keeps_the_old_key_while_noncurrent_versions_need_it(emulator: RunningEmulator):
    bucket = Bucket(emulator, versioned=True)
    for i in range(3):
        bucket.write(f"v/{i}.txt")
    old = bucket.current()
    summary = bucket.rotation().run()
    new = bucket.current()
    # The copies onto themselves left each old version behind, noncurrent, under the old key.
    assert summary.reencrypted == 3 and summary.retired_version is None
    assert summary.noncurrent_under_previous is not None and summary.noncurrent_under_previous.count == 3
    assert (
        "3 noncurrent version(s) under key version" in summary.refused
        and "--allow-unreadable" in summary.refused
    )
    assert PREVIOUS in bucket.labels()[old.version_id], "retired although noncurrent versions need it"
    assert all(bucket.read(n, new.secret_string) == b for n, b in bucket.bodies.items())

    # Said explicitly: retire it anyway (the run completes the same rotation, no new key).
    summary = bucket.rotation(allow_unreadable_noncurrent=True).run()
    assert not summary.started_new_rotation and summary.retired_version == old.version_id
    assert not summary.refused and PREVIOUS not in bucket.labels()[old.version_id]
    assert CURRENT in bucket.labels()[new.version_id]


def test_an_unversioned_bucket_retires_the_old_key(emulator: RunningEmulator):
    bucket = Bucket(emulator)
    bucket.write("a.txt")
    old = bucket.current()
    summary = bucket.rotation().run()
    assert summary.retired_version == old.version_id and not summary.refused
    assert summary.noncurrent_under_previous is not None and summary.noncurrent_under_previous.count == 0


def _slow_down(s3: Any, times: int) -> list[int]:
    """Answer the first `times` CopyObject requests with 503 SlowDown, before they reach the emulator."""
    sent: list[int] = []

    def refuse(request: Any, **_: Any) -> AWSResponse | None:
        sent.append(1)
        if len(sent) > times:
            return None
        body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
        raw = io.BytesIO(body)
        raw.stream = lambda **_kw: iter([body])  # type: ignore[attr-defined]
        return AWSResponse(request.url, 503, {"Content-Type": "application/xml"}, raw)

    s3.meta.events.register("before-send.s3.CopyObject", refuse)
    return sent


def test_copies_back_off_and_retry_on_503_slow_down(emulator: RunningEmulator):
    bucket = Bucket(emulator, config=local.client_config(workers=4))
    for i in range(6):
        bucket.write(f"o/{i}.txt")
    sent = _slow_down(bucket.s3, times=5)
    summary = bucket.rotation().run()
    assert summary.retries == 5 and summary.reencrypted == 6 and not summary.refused
    assert len(sent) == 11  # 6 copies, 5 of them refused once first
    new = bucket.current()
    assert all(bucket.read(n, new.secret_string) == b for n, b in bucket.bodies.items())


def test_without_retries_the_503s_fail_the_objects_and_nothing_is_retired(emulator: RunningEmulator):
    # The same injection with retries off: proves the test above passes because of the backoff.
    bucket = Bucket(emulator, config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    for i in range(3):
        bucket.write(f"o/{i}.txt")
    old = bucket.current()
    _slow_down(bucket.s3, times=2)
    summary = bucket.rotation().run()
    assert summary.failed_count == 2 and "SlowDown" in summary.failed[0] and summary.retired_version is None
    assert "could not be re-encrypted" in summary.refused and PREVIOUS in bucket.labels()[old.version_id]


def _kms_bucket(emulator: RunningEmulator) -> str:
    kms, s3 = emulator.clients("kms"), emulator.clients("s3")
    key_id = kms.create_key(Description="migration destination")["KeyMetadata"]["KeyId"]
    name = f"dest-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id}}
            ]
        },
    )
    return name


def _migration(bucket: Bucket, destination: str, **kwargs: Any) -> Migration:
    kwargs.setdefault("engine", bucket.engine(workers=4))
    return Migration(
        bucket.s3,
        bucket.secrets,
        bucket.name,
        bucket.secret_arn,
        out=lambda _l: None,
        keys=bucket.keys,
        destination_bucket=destination,
        **kwargs,
    )


def test_a_migration_copies_to_the_destinations_encryption_and_a_rerun_copies_nothing(
    emulator: RunningEmulator,
):
    bucket = Bucket(emulator)
    for i in range(5):
        bucket.write(f"m/{i}.txt")
    bucket.write("m/big.bin", size=7 * MIB)
    destination = _kms_bucket(emulator)
    summary = _migration(bucket, destination, multipart_threshold=6 * MIB, part_size=6 * MIB).run()
    assert (summary.reencrypted, summary.multipart, summary.deleted_sources) == (6, 1, 0)
    for name, body in bucket.bodies.items():
        got = bucket.s3.get_object(Bucket=destination, Key=name)  # no SSE-C key: the bucket's KMS key
        assert got["ServerSideEncryption"] == "aws:kms" and got["Body"].read() == body, name
        tags = {
            t["Key"]: t["Value"] for t in bucket.s3.get_object_tagging(Bucket=destination, Key=name)["TagSet"]
        }
        assert tags.get("team") == "blue" and sse_c_secret.KEY_VERSION_TAG not in tags, tags
        assert sse_c_reencrypt.MIGRATED_FROM_TAG in tags
    assert bucket.read("m/0.txt", bucket.current().secret_string) == bucket.bodies["m/0.txt"]  # source kept

    again = _migration(bucket, destination).run()
    assert (again.reencrypted, again.skipped, again.objects) == (0, 6, 6)


def test_delete_source_deletes_only_after_a_verified_copy(emulator: RunningEmulator):
    bucket = Bucket(emulator)
    for i in range(4):
        bucket.write(f"d/{i}.txt")
    destination = _kms_bucket(emulator)
    _migration(bucket, destination).run()
    # Corrupt one copy, keeping its "migrated" tag: a re-run with --delete-source must catch it.
    tags = bucket.s3.get_object_tagging(Bucket=destination, Key="d/1.txt")["TagSet"]
    bucket.s3.put_object(Bucket=destination, Key="d/1.txt", Body=b"not the same bytes at all")
    bucket.s3.put_object_tagging(Bucket=destination, Key="d/1.txt", Tagging={"TagSet": tags})
    summary = _migration(bucket, destination, delete_source=True).run()
    assert summary.deleted_sources == 3 and summary.failed_count == 1
    assert "copy not verified: size" in summary.failed[0] and "d/1.txt" in summary.failed[0]
    left = [o["Key"] for o in bucket.s3.list_objects_v2(Bucket=bucket.name).get("Contents", [])]
    assert left == ["d/1.txt"], left  # the lock is gone too


def test_a_migration_refuses_its_own_bucket_and_a_missing_one(emulator: RunningEmulator):
    from ssepatterns.errors import ProjectError

    bucket = Bucket(emulator)
    with pytest.raises(ProjectError, match="the SSE-C bucket itself"):
        _migration(bucket, bucket.name)
    with pytest.raises(ProjectError, match="no such bucket"):
        _migration(bucket, f"missing-{uuid.uuid4().hex[:8]}").run()


def test_one_secret_read_per_key_version_and_no_key_in_progress_or_report(
    emulator: RunningEmulator, tmp_path: Path
):
    from ssepatterns.reencrypt.summary import REPORT_FIELDS, Summary

    bucket = Bucket(emulator)
    for i in range(30):
        bucket.write(f"k/{i}.txt")
    old = bucket.current()
    stream = io.StringIO()
    lines: list[str] = []
    progress = Progress(stream=stream)
    progress.terminal = False  # the plain lines CI shows
    engine = bucket.engine(workers=8, progress=progress)
    summary: Summary = Rotation(
        bucket.s3,
        bucket.secrets,
        bucket.name,
        bucket.secret_arn,
        out=lines.append,
        keys=bucket.keys,
        engine=engine,
    ).run()
    new = bucket.current()
    report = tmp_path / "r.json"
    summary.write(report)
    data = json.loads(report.read_text())
    assert bucket.keys.fetches == 2, "one GetSecretValue per key version, for all 8 workers"
    assert set(REPORT_FIELDS) <= set(data)
    assert (data["job"], data["engine"], data["workers"], data["objects"], data["copied"]) == (
        "rotate",
        "local",
        8,
        30,
        30,
    )
    texts = {"progress": stream.getvalue(), "lines": "\n".join(lines), "report": report.read_text()}
    assert "30/30 objects" in texts["progress"], texts["progress"]
    for key in (old.secret_string, new.secret_string):
        assert not key_scan.holding_key(key, {n: t.encode() for n, t in texts.items()})


def test_keep_tags_keeps_the_other_tags_and_by_default_the_version_tag_is_the_only_one(
    emulator: RunningEmulator,
):
    bucket = Bucket(emulator)
    bucket.write("kept.txt")  # tagged with its key version and team=blue
    bucket.rotation(keep_tags=True).run()  # --keep-tags
    tags = {
        t["Key"]: t["Value"]
        for t in bucket.s3.get_object_tagging(Bucket=bucket.name, Key="kept.txt")["TagSet"]
    }
    assert tags == {sse_c_secret.KEY_VERSION_TAG: bucket.current().version_id, "team": "blue"}

    summary = bucket.rotation().run()  # the default: one request per object
    tags = {
        t["Key"]: t["Value"]
        for t in bucket.s3.get_object_tagging(Bucket=bucket.name, Key="kept.txt")["TagSet"]
    }
    assert summary.reencrypted == 1 and tags == {sse_c_secret.KEY_VERSION_TAG: bucket.current().version_id}
    assert bucket.read("kept.txt", bucket.current().secret_string) == bucket.bodies["kept.txt"]
