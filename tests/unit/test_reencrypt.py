"""The re-encryption engine's pure parts: jobs, part ranges, pass bookkeeping, the report, the options,
the progress lines, and the key cache (one read per version, whatever the threads)."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest

from ssepatterns.errors import ProjectError
from ssepatterns.reencrypt import local
from ssepatterns.reencrypt.keys import KeyCache
from ssepatterns.reencrypt.passes import MAX_PASSES, PassResult, run_passes
from ssepatterns.reencrypt.progress import Progress
from ssepatterns.reencrypt.run import Options
from ssepatterns.reencrypt.summary import REPORT_FIELDS, Summary
from ssepatterns.sse_c import sse_c_reencrypt as r

MIB = 1024 * 1024


def test_a_job_survives_json_and_refuses_what_cannot_be():
    job = r.Job(r.ROTATE, "b", "b", "v2", ("v1", "v0"), multipart_threshold=8 * MIB, part_size=8 * MIB)
    assert r.Job.from_dict(json.loads(json.dumps(job.to_dict()))) == job
    with pytest.raises(ValueError, match="in place"):
        r.Job(r.ROTATE, "a", "b", "v2", ())
    with pytest.raises(ValueError, match="another bucket"):
        r.Job(r.MIGRATE, "a", "a", None, ())
    with pytest.raises(ValueError, match="multipart threshold"):
        r.Job(r.ROTATE, "b", "b", "v2", (), multipart_threshold=MIB)
    with pytest.raises(ValueError, match="unknown job"):
        r.Job("copy", "a", "b", None, ())


def test_part_ranges_cover_the_object_exactly_and_stay_within_10000_parts():
    ranges = r.part_ranges(14 * MIB, 6 * MIB)
    assert ranges == [(0, 6 * MIB - 1), (6 * MIB, 12 * MIB - 1), (12 * MIB, 14 * MIB - 1)]
    huge = 5 * 1024**4  # 5 TiB, S3's largest object
    many = r.part_ranges(huge, r.MIN_PART)
    assert len(many) <= r.MAX_PARTS and many[-1][1] == huge - 1
    assert all(b[0] == a[1] + 1 for a, b in zip(many, many[1:], strict=False))


def test_the_control_prefix_is_ignored_and_not_counted():
    outcome = r.process(
        None, r.Job(r.ROTATE, "b", "b", "v2", ()), {"Key": ".sse-c-rotation/lock", "Size": 1}, str
    )
    result = PassResult()
    result.add(outcome)
    assert outcome.status == r.IGNORED and result.examined == 0


def test_a_pass_result_counts_each_outcome_and_lists_at_most_20_names():
    result = PassResult()
    result.add(r.Outcome("a", r.COPIED, 10, multipart=True, retries=2))
    result.add(r.Outcome("b", r.SKIPPED, again=True))
    for i in range(25):
        result.add(r.Outcome(f"f{i}", r.FAILED, detail="CopyObject: AccessDenied"))
    assert (result.examined, result.copied, result.bytes, result.multipart, result.retries) == (
        27,
        1,
        10,
        1,
        2,
    )
    assert (result.skipped, result.again, result.failed_count, len(result.failed)) == (1, 1, 25, 20)
    assert result.failed[0] == "f0: CopyObject: AccessDenied"


class ScriptedEngine:
    name, workers = "local", 2

    def __init__(self, *results: PassResult) -> None:
        self.results = list(results)

    def run_pass(self, job: r.Job, prefix: str) -> PassResult:
        return self.results.pop(0)


JOB = r.Job(r.ROTATE, "b", "b", "v2", ("v1",))


def test_passes_repeat_until_one_copies_nothing_and_count_the_first_passes_objects():
    first = PassResult(examined=10, copied=9, skipped=1, bytes=90)
    second = PassResult(examined=2, copied=2, bytes=20)  # written under the old key meanwhile
    third = PassResult(examined=0)
    lines: list[str] = []
    totals = run_passes(ScriptedEngine(first, second, third), JOB, "", lines.append)
    assert (totals.passes, totals.objects, totals.copied, totals.bytes, totals.skipped) == (3, 10, 11, 110, 1)
    assert lines == ["pass 2: 2 object(s) written meanwhile re-encrypted"]


def test_an_object_that_changed_mid_copy_forces_another_pass():
    totals = run_passes(
        ScriptedEngine(PassResult(examined=1, skipped=1, again=1), PassResult()), JOB, "", print
    )
    assert totals.passes == 2


def test_failures_stop_the_passes_and_writers_that_never_stop_are_refused():
    failing = PassResult(examined=1, failed_count=1, failed=["a: x"])
    assert run_passes(ScriptedEngine(failing), JOB, "", print).failed_count == 1
    endless = ScriptedEngine(*[PassResult(examined=1, copied=1) for _ in range(MAX_PASSES)])
    with pytest.raises(ProjectError, match="a writer still uses an old key version"):
        run_passes(endless, JOB, "", print)


def test_the_report_has_the_issues_fields_and_is_written_whole(tmp_path: Path):
    summary = Summary(started_new_rotation=True, current_version="v2", retired_version="v1", workers=16)
    summary.reencrypted, summary.reencrypted_bytes, summary.seconds, summary.objects = (
        200,
        2_000_000,
        0.5,
        200,
    )
    path = tmp_path / "out" / "r.json"
    summary.write(path)
    data = json.loads(path.read_text())
    for field in REPORT_FIELDS:  # the issue's list: job, engine, workers, objects, bytes, seconds, ...
        assert field in data, field
    assert len(REPORT_FIELDS) == 10 and "objects_per_s" in REPORT_FIELDS
    assert (data["objects_per_s"], data["mb_per_s"], data["bytes"], data["failed"]) == (
        400.0,
        4.0,
        2_000_000,
        0,
    )
    assert not list(path.parent.glob("*.tmp"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (Options(engine="lambda"), "--engine lambda: one of local, stepfunctions"),
        (Options(workers=-1), "--workers -1: 1 to 256"),
        (Options(workers=257), "--workers 257: 1 to 256"),
        (Options(multipart_threshold_mib=4), "--multipart-threshold-mib 4: 5 to 5120"),
    ],
)
def test_bad_options_are_one_clear_error(options: Options, message: str):
    with pytest.raises(ProjectError, match=message):
        options.check()


def test_a_json_path_that_is_a_folder_is_refused(tmp_path: Path):
    with pytest.raises(ProjectError, match="is a folder"):
        Options(json=str(tmp_path)).check()


def test_a_lowered_threshold_gives_parts_of_its_size():
    assert Options(multipart_threshold_mib=8).part_size == 8 * MIB
    assert Options().part_size == r.DEFAULT_PART_SIZE


def test_plain_progress_lines_show_objects_bytes_rate_and_eta(monkeypatch: pytest.MonkeyPatch):
    stream = io.StringIO()
    progress = Progress(stream=stream)
    assert not progress.terminal  # a StringIO is not a terminal: plain lines, as in CI
    monkeypatch.setattr("ssepatterns.reencrypt.progress.PLAIN_EVERY_SECONDS", 0.0)
    progress.start(4, 4_000_000)
    for _ in range(2):
        progress.advance(r.Outcome("k", r.COPIED, 1_000_000))
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("re-encrypting 1/4 objects [") and "obj/s" in lines[0]
    assert "2.0 MB of 4.0 MB" in lines[-1] and "<" in lines[-1]  # elapsed<remaining: the ETA


def test_disabled_progress_writes_nothing():
    stream = io.StringIO()
    progress = Progress(enabled=False, stream=stream)
    progress.start(1, 1)
    progress.advance(r.Outcome("k", r.COPIED, 1))
    progress.finish()
    assert stream.getvalue() == ""


def test_the_key_cache_reads_each_version_once_whatever_the_threads():
    reads: list[str] = []

    class Secrets:
        def get_secret_value(self, SecretId: str, VersionId: str) -> dict[str, str]:
            reads.append(VersionId)
            return {"SecretString": "k" * 32, "VersionId": VersionId}

    cache = KeyCache(Secrets(), "arn")
    threads = [threading.Thread(target=cache.key_of, args=(f"v{i % 2}",)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(reads) == ["v0", "v1"] and cache.fetches == 2
    assert "k" * 32 not in repr(cache)


def test_the_engines_clients_retry_with_backoff_and_pool_a_connection_per_worker():
    config = local.client_config(16)
    assert config.retries == {"mode": "standard", "total_max_attempts": local.RETRY_ATTEMPTS}
    assert config.max_pool_connections >= 16
    with pytest.raises(ValueError, match="--workers must be 1 to 256"):
        local.LocalEngine(None, None, workers=0)  # type: ignore[arg-type]


class FakeS3:
    """Enough of S3 for the local engine: a listing, and copies that succeed (counted)."""

    def __init__(self, count: int) -> None:
        import datetime

        self.now = datetime.datetime(2026, 12, 4, tzinfo=datetime.UTC)
        self.items = [
            {"Key": f"o/{i}", "Size": 1, "ETag": f'"{i}"', "LastModified": self.now} for i in range(count)
        ]
        self.copies: list[str] = []
        self.lock = threading.Lock()

    def get_paginator(self, name: str) -> FakeS3:
        return self

    def paginate(self, **_: object) -> list[dict[str, object]]:
        return [{"Contents": self.items}]

    def get_object_tagging(self, **_: object) -> dict[str, object]:
        return {"TagSet": [{"Key": "sse-c-key-version", "Value": "v1"}]}

    def copy_object(self, **request: object) -> dict[str, object]:
        with self.lock:
            self.copies.append(str(request["Key"]))
        return {"CopyObjectResult": {"ETag": '"new"', "LastModified": self.now}, "ResponseMetadata": {}}


def test_ctrl_c_lets_the_copies_in_flight_finish_and_says_how_to_resume():
    class CtrlCAfterFive(Progress):
        def advance(self, outcome: r.Outcome) -> None:
            super().advance(outcome)
            if self._done == 5:
                raise KeyboardInterrupt

    s3 = FakeS3(200)
    engine = local.LocalEngine(s3, KeyCache(None, "arn"), workers=4, progress=CtrlCAfterFive(enabled=False))
    engine.keys.key_of = lambda version: "k" * 32  # type: ignore[method-assign]
    with pytest.raises(local.Interrupted, match="run again to resume") as stopped:
        engine.run_pass(JOB, "")
    assert not stopped.value.simulated_death  # a clean stop: the job releases its lock
    # No new copies were started after Ctrl-C: at most the ones in flight (2 x workers) beyond the 5.
    assert 5 <= len(s3.copies) <= 5 + 2 * 4, len(s3.copies)
    assert len(set(s3.copies)) == len(s3.copies)
