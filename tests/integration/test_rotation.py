"""SSE-C key rotation against a real emulator: complete, interrupted and resumed under parallelism,
concurrent writes, concurrent runs refused, and idempotent when there is nothing left to do.
(Multipart copies, versioned buckets, injected 503s, migrations: test_reencrypt_engine.py.)"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulator_support import RunningEmulator
from sse_c_sandbox import SseCSandbox

from ssepatterns.reencrypt.job_run import CURRENT, LOCK_KEY, PREVIOUS, RotationLocked
from ssepatterns.reencrypt.keys import KeyCache
from ssepatterns.reencrypt.local import Interrupted, LocalEngine
from ssepatterns.reencrypt.progress import Progress
from ssepatterns.reencrypt.rotation import Rotation
from ssepatterns.sse_c import sse_c_key, sse_c_secret

pytestmark = pytest.mark.emulator

MIB = 1024 * 1024


class Stack(SseCSandbox):
    """The sandbox, as the stack's SSE-C bucket: rotated, interrupted and resumed."""

    def engine(self, workers: int = 4, **kwargs: Any) -> LocalEngine:
        return LocalEngine(self.s3, KeyCache(self.secrets, self.secret_arn), workers=workers, **kwargs)

    def rotation(self, **kwargs: Any) -> Rotation:
        kwargs.setdefault("engine", self.engine())
        return Rotation(self.s3, self.secrets, self.name, self.secret_arn, out=lambda _line: None, **kwargs)

    def labels(self) -> dict[str, list[str]]:
        return self.rotation().versions()

    def status(self, name: str, secret_string: str) -> str:
        try:
            self.read(name, secret_string)
        except ClientError as error:
            return error.response["Error"]["Code"]
        return "OK"

    def assert_all_under(self, key: sse_c_secret.SseCKey) -> None:
        names = [o["Key"] for o in self.s3.list_objects_v2(Bucket=self.name).get("Contents", [])]
        assert sorted(names) == sorted(self.bodies), "objects lost or left over (a lock?)"
        for name, body in self.bodies.items():
            assert sse_c_secret.key_version_of(self.s3, self.name, name) == key.version_id, name
            assert self.read(name, key.secret_string) == body, name


@pytest.fixture
def stack(emulator: RunningEmulator) -> Stack:
    return Stack(emulator)


def test_rotation_reencrypts_every_object_and_retires_the_old_key(stack: Stack):
    for i in range(8):
        stack.write(f"small/{i}.txt")
    stack.write("large/a.bin", size=3 * MIB)
    stack.write("untagged.txt", tagged=False)  # written before tags, or by hand: found by probing
    old = stack.current()
    summary = stack.rotation().run()
    new = stack.current()

    assert summary.started_new_rotation and new.version_id != old.version_id
    assert summary.reencrypted == 10 and summary.reencrypted_bytes == sum(
        len(b) for b in stack.bodies.values()
    )
    stack.assert_all_under(new)
    assert {stack.status(name, old.secret_string) for name in stack.bodies} == {"AccessDenied"}
    head = stack.s3.head_object(
        Bucket=stack.name, Key="small/0.txt", **sse_c_key.sse_c_params(new.secret_string)
    )
    assert (head["ContentType"], head["Metadata"]) == ("text/x-test", {"origin": "test"})
    assert not any(PREVIOUS in labels for labels in stack.labels().values()), "old version not retired"
    assert summary.retired_version == old.version_id


def test_an_interrupted_parallel_rotation_is_completed_by_running_again_with_no_object_copied_twice(
    stack: Stack,
):
    total = 40
    for i in range(total):
        stack.write(f"obj/{i}.txt")
    old = stack.current()
    clock = [time.time()]
    with pytest.raises(Interrupted):  # 8 workers; the copies in flight when it stops still finish
        stack.rotation(clock=lambda: clock[0], engine=stack.engine(workers=8, stop_after=10)).run()
    new = stack.current()
    versions_after_crash = stack.labels()
    tags = [sse_c_secret.key_version_of(stack.s3, stack.name, f"obj/{i}.txt") for i in range(total)]
    done = tags.count(new.version_id)
    assert 10 <= done < total and tags.count(old.version_id) == total - done
    assert PREVIOUS in versions_after_crash[old.version_id]
    for i in range(total):  # half-way, every object is readable with the key its tag names
        key = new if tags[i] == new.version_id else old
        assert stack.read(f"obj/{i}.txt", key.secret_string) == stack.bodies[f"obj/{i}.txt"]

    # The dead run's lease is still live: a new run refuses...
    with pytest.raises(RotationLocked, match="another key rotation is running"):
        stack.rotation(clock=lambda: clock[0]).run()
    # ...and once it has expired, takes over and completes the same rotation, with no new key.
    clock[0] += 120
    summary = stack.rotation(clock=lambda: clock[0], engine=stack.engine(workers=8)).run()
    # Exactly the rest: the done ones refuse the old key and are skipped, none is copied twice.
    assert not summary.started_new_rotation and (summary.reencrypted, summary.skipped) == (total - done, done)
    assert set(stack.labels()) <= set(versions_after_crash)  # no new version was created
    assert stack.current().version_id == new.version_id
    stack.assert_all_under(new)


def test_with_nothing_in_progress_resume_only_does_nothing_and_says_so(stack: Stack):
    stack.write("a.txt")
    stack.rotation().run()
    key = stack.current()
    lines: list[str] = []
    summary = Rotation(
        stack.s3, stack.secrets, stack.name, stack.secret_arn, out=lines.append, engine=stack.engine()
    ).run(resume_only=True)
    assert (summary.started_new_rotation, summary.reencrypted) == (False, 0)
    assert stack.current().version_id == key.version_id
    assert any("nothing to re-encrypt: all 1 objects are under key version" in line for line in lines), lines
    stack.assert_all_under(key)


def test_objects_written_during_a_rotation_are_never_lost(stack: Stack):
    for i in range(20):
        stack.write(f"before/{i}.txt", size=64 * 1024)
    old = stack.current()
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        i = 0
        try:
            while not stop.is_set() and i < 200:
                stack.write(f"during/{i}.txt")  # the current key at the time of each write
                i += 1
        except BaseException as error:  # surfaced below
            errors.append(error)

    class LateWriter(Progress):
        """A writer that read the key before the switch and writes after the pass listed the objects."""

        def advance(self, outcome: Any) -> None:
            super().advance(outcome)
            if "late.txt" not in stack.bodies:
                stack.s3.put_object(
                    Bucket=stack.name,
                    Key="late.txt",
                    Body=b"late",
                    Tagging=sse_c_secret.version_tagging(old.version_id),
                    **sse_c_key.sse_c_params(old.secret_string),
                )
                stack.bodies["late.txt"] = b"late"

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        engine = stack.engine(workers=8, progress=LateWriter(enabled=False))
        summary = stack.rotation(engine=engine).run()
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    assert summary.passes >= 2  # the late object was caught by a further pass of the same run
    stack.write("after.txt")
    assert any(name.startswith("during/") for name in stack.bodies)
    stack.assert_all_under(stack.current())


def test_a_second_concurrent_run_is_refused(stack: Stack):
    stack.write("a.txt")
    holder = stack.rotation()
    holder.acquire(stack.current().version_id)
    try:
        with pytest.raises(RotationLocked, match="another key rotation is running"):
            stack.rotation().run()
    finally:
        holder.release()
    assert stack.s3.list_objects_v2(Bucket=stack.name, Prefix=LOCK_KEY).get("KeyCount", 0) == 0
    assert CURRENT in stack.labels()[stack.current().version_id]
