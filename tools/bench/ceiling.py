"""The ceiling of a re-encryption against this emulator: a bare thread-pool CopyObject loop.

Every object under the prefix is copied onto itself with the SSE-C headers of a re-encryption (copy-source
key and destination key, both the current one, so the objects stay readable and their tags stay true),
metadata and tags copied, as the principal the stack's checks use (ssepatterns.verify.target.open_target:
the operator user on the emulator), by a ThreadPoolExecutor of N threads sharing one client whose
connection pool holds N. No listing, no tag reads, no bookkeeping, no progress: only the requests any
engine must make. The listing and the one secret read happen before the clock starts.

Run by the bench inside its workspace (so it reaches the workspace's emulator and stack):

    python -m tools.bench.ceiling --threads 1,4,16,64 --prefix seed/ --json PATH

PATH gets {"objects", "bytes", "samples": [{"threads", "objects", "bytes", "seconds"}, ...]}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from ssepatterns.errors import ProjectError
from ssepatterns.sse_c import sse_c_key, sse_c_secret

RETRY_ATTEMPTS = 10  # as the local engine: a 503 SlowDown is retried, not a failure


def client_config(threads: int) -> Config:
    return Config(
        max_pool_connections=threads + 2, retries={"mode": "standard", "max_attempts": RETRY_ATTEMPTS}
    )


def list_objects(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        items.extend(page.get("Contents", []))
    return items


def copy_loop(s3: Any, bucket: str, keys: Sequence[str], secret_string: str, threads: int) -> float:
    """Copy every key onto itself with `threads` threads; the seconds it took."""
    source = sse_c_key.copy_source_sse_c_params(secret_string)
    destination = sse_c_key.sse_c_params(secret_string)

    def copy(key: str) -> None:
        try:
            s3.copy_object(
                Bucket=bucket,
                Key=key,
                CopySource={"Bucket": bucket, "Key": key},
                MetadataDirective="COPY",
                TaggingDirective="COPY",
                **source,
                **destination,
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "error")
            raise ProjectError(
                f"ceiling: CopyObject {bucket}/{key} failed ({code}): is it under the current key?"
            ) from None

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ceiling") as pool:
        started = time.monotonic()
        for _ in pool.map(copy, keys):
            pass
        return time.monotonic() - started


def measure(threads: Sequence[int], prefix: str) -> dict[str, Any]:
    from ssepatterns.envs import local_env
    from ssepatterns.verify.target import open_target

    target = open_target(local_env())
    try:
        bucket = target.outputs["buckets"]["sse_c"]["name"]
        secret_arn = target.outputs["sse_c_key_secret"]["arn"]
        key = sse_c_secret.fetch_key(target.client("secretsmanager"), secret_arn)
        items = list_objects(target.client("s3"), bucket, prefix)
        if not items:
            raise ProjectError(f"ceiling: no objects under s3://{bucket}/{prefix}: seed them first")
        keys = [item["Key"] for item in items]
        total = sum(int(item["Size"]) for item in items)
        samples = []
        for count in threads:
            s3 = target.client("s3", config=client_config(count))
            seconds = copy_loop(s3, bucket, keys, key.secret_string, count)
            samples.append(
                {"threads": count, "objects": len(keys), "bytes": total, "seconds": round(seconds, 3)}
            )
        return {"objects": len(keys), "bytes": total, "samples": samples}
    finally:
        target.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.ceiling", description=__doc__.split("\n")[0])
    parser.add_argument("--threads", default="1,4,16,64", help="comma-separated thread counts")
    parser.add_argument("--prefix", default="seed/")
    parser.add_argument("--json", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        threads = [int(part) for part in args.threads.split(",") if part.strip()]
        if not threads or min(threads) < 1:
            raise ValueError
    except ValueError:
        print(f"ceiling: --threads must be positive integers, got {args.threads!r}", file=sys.stderr)
        return 2
    try:
        result = measure(threads, args.prefix)
    except ProjectError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    for sample in result["samples"]:
        rate = sample["objects"] / sample["seconds"] if sample["seconds"] else 0.0
        threads, objects, seconds = sample["threads"], sample["objects"], sample["seconds"]
        print(f"ceiling {threads} threads: {objects} objects in {seconds:.2f} s, {rate:.0f}/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
