"""The local engine: a bounded pool of threads, each running the shared per-object step.

* One client for all threads (botocore clients are thread-safe), with a connection pool as large as
  the pool of workers and botocore's "standard" retry mode: exponential backoff with full jitter on
  503 SlowDown, throttling and transient errors, up to RETRY_ATTEMPTS attempts. Retries are counted
  from the responses (ResponseMetadata.RetryAttempts), so a report shows when S3 pushed back.
* One secret fetch per key version (KeyCache).
* At most 2 x workers objects in flight: memory stays flat for any bucket size.
* Later passes look only at objects whose listing changed since this run last left them (ETag and
  LastModified): an object a writer put meanwhile, under whichever key. So a pass after a complete
  one costs one listing, not a request per object.
* Ctrl-C (or the stop_after test hook) stops submitting, lets the copies in flight finish (each is
  atomic) and raises Interrupted: a re-run resumes, and copies none of what was done.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from botocore.config import Config

from ssepatterns.reencrypt.keys import KeyCache
from ssepatterns.reencrypt.passes import PassResult
from ssepatterns.reencrypt.progress import Progress
from ssepatterns.sse_c import sse_c_reencrypt

RETRY_ATTEMPTS = 10
# Measured on this machine (./inv bench --only reencrypt, docs/performance.md): the emulator's copy
# rate rises to 16 threads and is flat beyond; on AWS the rate is latency x concurrency, so more help.
DEFAULT_WORKERS = 16
MAX_WORKERS = 256


class Interrupted(RuntimeError):
    """The run stopped before the pass ended: Ctrl-C, or the stop_after test hook, which plays a process
    that died there (simulated_death: it releases nothing, as a killed process would not)."""

    def __init__(self, message: str, simulated_death: bool = False) -> None:
        super().__init__(message)
        self.simulated_death = simulated_death


def client_config(workers: int) -> Config:
    return Config(
        max_pool_connections=workers + 2,
        retries={"mode": "standard", "total_max_attempts": RETRY_ATTEMPTS},
    )


def listing(s3: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if not item["Key"].startswith(sse_c_reencrypt.CONTROL_PREFIX):  # the run's own lock
                yield item


Fingerprint = tuple[str, int, int | None]  # ETag, size, LastModified (whole seconds; None: unknown)


def _seconds(stamp: Any) -> int | None:
    return int(stamp.timestamp()) if hasattr(stamp, "timestamp") else None


def _fingerprint(item: dict[str, Any]) -> Fingerprint:
    return (item.get("ETag", ""), int(item["Size"]), _seconds(item.get("LastModified")))


def _unchanged(left: Fingerprint | None, listed: Fingerprint) -> bool:
    """The listing still shows the object as this run left it. After a multipart copy the time is not
    known (CompleteMultipartUpload does not return it): its ETag and size must do."""
    return left is not None and left[:2] == listed[:2] and left[2] in (None, listed[2])


class LocalEngine:
    name = "local"

    def __init__(
        self,
        s3: Any,
        keys: KeyCache,
        workers: int = DEFAULT_WORKERS,
        progress: Progress | None = None,
        stop_after: int | None = None,
    ) -> None:
        if not 1 <= workers <= MAX_WORKERS:
            raise ValueError(f"--workers must be 1 to {MAX_WORKERS}")
        self.s3, self.keys, self.workers = s3, keys, workers
        self.progress = progress or Progress(enabled=False)
        self.stop_after = stop_after  # test hook: stop as if interrupted after this many copies
        self._left: dict[str, Fingerprint] = {}  # key -> the listing as this run left the object
        self._copied_total = 0
        self._lock = threading.Lock()

    def _todo(self, job: sse_c_reencrypt.Job, prefix: str) -> list[dict[str, Any]]:
        items = []
        for item in listing(self.s3, job.source_bucket, prefix):
            if not _unchanged(self._left.get(item["Key"]), _fingerprint(item)):
                items.append(item)
        return items

    def _remember(
        self, job: sse_c_reencrypt.Job, item: dict[str, Any], outcome: sse_c_reencrypt.Outcome
    ) -> None:
        if outcome.again or outcome.status not in (sse_c_reencrypt.COPIED, sse_c_reencrypt.SKIPPED):
            return
        if job.kind == sse_c_reencrypt.MIGRATE or outcome.status == sse_c_reencrypt.SKIPPED:
            self._left[item["Key"]] = _fingerprint(item)  # the source as listed is done
        else:  # rewritten in place: the copy's own ETag and time
            self._left[item["Key"]] = (outcome.etag, outcome.bytes, outcome.last_modified)

    def run_pass(self, job: sse_c_reencrypt.Job, prefix: str) -> PassResult:
        result = PassResult()
        items = self._todo(job, prefix)
        self.progress.start(len(items), sum(int(i["Size"]) for i in items))

        def work(item: dict[str, Any]) -> tuple[dict[str, Any], sse_c_reencrypt.Outcome]:
            return item, sse_c_reencrypt.process(self.s3, job, item, self.keys.key_of)

        pending: set[Future[tuple[dict[str, Any], sse_c_reencrypt.Outcome]]] = set()
        queue = iter(items)
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="reencrypt")
        stopping = False
        try:
            while True:
                while not stopping and len(pending) < 2 * self.workers:
                    item = next(queue, None)
                    if item is None:
                        break
                    pending.add(pool.submit(work, item))
                if not pending:
                    break
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    item, outcome = future.result()
                    result.add(outcome)
                    self._remember(job, item, outcome)
                    self.progress.advance(outcome)
                    if outcome.status == sse_c_reencrypt.COPIED:
                        self._copied_total += 1
                        if self.stop_after is not None and self._copied_total >= self.stop_after:
                            stopping = True
                if stopping and not pending:
                    raise Interrupted(
                        f"interrupted after {self._copied_total} object(s)", simulated_death=True
                    )
        except KeyboardInterrupt:
            stopping = True
            for future in pending:
                future.cancel()
            wait(pending)  # the copies in flight finish: each is atomic either way
            raise Interrupted(
                f"interrupted after {self._copied_total} object(s) re-encrypted; run again to resume"
            ) from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self.progress.finish()
        return result
