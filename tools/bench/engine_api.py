"""A rotation through the Python API of the local engine, for the bench while the CLI lacks --workers.

What `./inv rotate-sse-c-key --workers N --engine local --json PATH` is to do, minus its lock and its
checks for an unfinished rotation: a new secret version becomes AWSCURRENT, every object under the
prefix is re-encrypted from the previous version's key to it by ssepatterns.reencrypt.local.LocalEngine
(run_passes: passes until one copies nothing), then the previous version is retired. `seconds` covers
the passes only, as the CLI's. Run by the bench inside its workspace:

    python -m tools.bench.engine_api --workers 16 --json PATH

PATH gets the fields of the CLI's --json (tools.bench.reencrypt.ENGINE_FIELDS).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ssepatterns.errors import ProjectError


def rotate(workers: int, prefix: str) -> dict[str, Any]:
    from ssepatterns.envs import local_env
    from ssepatterns.reencrypt.keys import KeyCache
    from ssepatterns.reencrypt.local import LocalEngine, client_config
    from ssepatterns.reencrypt.passes import run_passes
    from ssepatterns.reencrypt.rotation import CURRENT, KEY_RULES, PREVIOUS
    from ssepatterns.sse_c import sse_c_reencrypt, sse_c_secret
    from ssepatterns.verify.target import open_target

    target = open_target(local_env())
    try:
        bucket = target.outputs["buckets"]["sse_c"]["name"]
        secret_arn = target.outputs["sse_c_key_secret"]["arn"]
        secrets = target.client("secretsmanager")
        previous = sse_c_secret.fetch_key(secrets, secret_arn).version_id
        password = secrets.get_random_password(**KEY_RULES)["RandomPassword"]
        current = secrets.put_secret_value(
            SecretId=secret_arn, SecretString=password, VersionStages=[CURRENT]
        )["VersionId"]
        job = sse_c_reencrypt.Job(sse_c_reencrypt.ROTATE, bucket, bucket, current, (previous,))
        engine = LocalEngine(
            target.client("s3", config=client_config(workers)), KeyCache(secrets, secret_arn), workers
        )
        started = time.monotonic()
        totals = run_passes(engine, job, prefix, out=lambda _: None)
        seconds = time.monotonic() - started
        if totals.failed_count or totals.unreadable_count:
            raise ProjectError(
                f"{totals.failed_count} failed, {totals.unreadable_count} unreadable (e.g. "
                f"{(totals.failed + totals.unreadable + [''])[0]}); version {previous} kept"
            )
        secrets.update_secret_version_stage(
            SecretId=secret_arn, VersionStage=PREVIOUS, RemoveFromVersionId=previous
        )
        return {
            "job": "rotate",
            "engine": "local (Python API)",
            "workers": workers,
            "objects": totals.objects,
            "bytes": totals.bytes,
            "seconds": round(seconds, 3),
            "objects_per_s": round(totals.copied / seconds, 1) if seconds else None,
            "mb_per_s": round(totals.bytes / seconds / 1e6, 2) if seconds else None,
            "skipped": totals.skipped,
            "failed": totals.failed_count,
            "passes": totals.passes,
            "retries": totals.retries,
            "copied": totals.copied,
        }
    finally:
        target.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench.engine_api", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--prefix", default="seed/")
    parser.add_argument("--json", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        result = rotate(args.workers, args.prefix)
    except (ProjectError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"rotated: {result['copied']} objects in {result['seconds']} s, {result['objects_per_s']}/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
