"""The tasks' side of re-encryption: ./inv rotate-sse-c-key, ./inv migrate-sse-c, ./inv seed-objects.

They act as the principal the checks run as (the operator on the emulator), pick the engine, and
write the --json report (also when the run refuses to retire a key, before it exits non-zero).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssepatterns.envs import Env
from ssepatterns.errors import ProjectError
from ssepatterns.reencrypt import local
from ssepatterns.reencrypt.job_run import JobRun
from ssepatterns.reencrypt.keys import KeyCache
from ssepatterns.reencrypt.local import Interrupted, LocalEngine
from ssepatterns.reencrypt.migration import Migration
from ssepatterns.reencrypt.passes import Engine
from ssepatterns.reencrypt.progress import Progress
from ssepatterns.reencrypt.rotation import Rotation
from ssepatterns.reencrypt.summary import Summary
from ssepatterns.sse_c import sse_c_key, sse_c_reencrypt, sse_c_secret
from ssepatterns.verify.target import Target, open_target

ENGINES = ("local", "stepfunctions")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Options:
    """What both jobs take on the command line."""

    engine: str = "local"
    workers: int = 0  # the local engine's threads (0: DEFAULT_WORKERS); the map sets its own
    prefix: str = ""
    json: str | None = None
    multipart_threshold_mib: int = sse_c_reencrypt.COPY_OBJECT_LIMIT // MIB
    break_lock: bool = False

    def check(self) -> None:
        if self.engine not in ENGINES:
            raise ProjectError(f"--engine {self.engine}: one of {', '.join(ENGINES)}")
        if self.workers and not 1 <= self.workers <= local.MAX_WORKERS:
            raise ProjectError(f"--workers {self.workers}: 1 to {local.MAX_WORKERS}")
        low, high = sse_c_reencrypt.MIN_PART // MIB, sse_c_reencrypt.COPY_OBJECT_LIMIT // MIB
        if not low <= self.multipart_threshold_mib <= high:
            raise ProjectError(f"--multipart-threshold-mib {self.multipart_threshold_mib}: {low} to {high}")
        if self.json is not None and Path(self.json).is_dir():
            raise ProjectError(f"--json {self.json} is a folder: give a file name")

    @property
    def multipart_threshold(self) -> int:
        return self.multipart_threshold_mib * MIB

    @property
    def part_size(self) -> int:
        # Parts as large as the threshold (at most the default): a lowered threshold gives several parts.
        return max(sse_c_reencrypt.MIN_PART, min(sse_c_reencrypt.DEFAULT_PART_SIZE, self.multipart_threshold))


def deployed_engines(outputs: dict[str, Any]) -> list[str]:
    """The engines the stack can run: local always, stepfunctions when enable_reencrypt_engine is on."""
    return ["local"] + (["stepfunctions"] if outputs.get("reencrypt_engine") else [])


def build_engine(
    target: Target, name: str, workers: int, keys: KeyCache, progress: Progress
) -> tuple[Any, Engine]:
    """The S3 client the job's own requests use, and the engine `name`."""
    s3 = target.client("s3", config=local.client_config(workers))
    if name == "stepfunctions":
        from ssepatterns.reencrypt.stepfunctions import engine_from_outputs

        return s3, engine_from_outputs(target.outputs, target.client("stepfunctions"), progress)
    return s3, LocalEngine(s3, keys, workers=workers, progress=progress)


def _finish(summary: Summary, options: Options) -> Summary:
    if options.json:
        summary.write(Path(options.json))
    if summary.refused:
        raise ProjectError(summary.refused)
    return summary


def _run(env: Env, options: Options, job: type[JobRun], label: str, **arguments: Any) -> Summary:
    """Open the stack, build the engine, run the job with its own `arguments` (those of run() apart),
    write the report; an interruption is one clear line."""
    options.check()
    target = open_target(env)
    try:
        secrets = target.client("secretsmanager")
        secret_arn = target.outputs["sse_c_key_secret"]["arn"]
        keys = KeyCache(secrets, secret_arn)
        if options.engine == "stepfunctions" and options.workers:
            print("--workers is the local engine's: the Step Functions engine runs the map's MaxConcurrency")
        workers = options.workers or local.DEFAULT_WORKERS
        s3, engine = build_engine(target, options.engine, workers, keys, Progress(label=label))
        run_arguments = {name: arguments.pop(name) for name in ("resume_only",) if name in arguments}
        runner = job(
            s3,
            secrets,
            target.outputs["buckets"]["sse_c"]["name"],
            secret_arn,
            propagation=target.propagation,
            engine=engine,
            keys=keys,
            prefix=options.prefix,
            multipart_threshold=options.multipart_threshold,
            part_size=options.part_size,
            **arguments,
        )
        try:
            summary = runner.run(break_lock=options.break_lock, **run_arguments)
        except Interrupted as stopped:
            raise ProjectError(str(stopped)) from None
        return _finish(summary, options)
    finally:
        target.close()


def rotate(
    env: Env,
    options: Options,
    resume_only: bool = False,
    allow_unreadable_noncurrent: bool = False,
    keep_tags: bool = False,
) -> Summary:
    return _run(
        env,
        options,
        Rotation,
        "re-encrypting",
        resume_only=resume_only,
        allow_unreadable_noncurrent=allow_unreadable_noncurrent,
        keep_tags=keep_tags,
    )


def migrate(env: Env, options: Options, to_bucket: str, delete_source: bool = False) -> Summary:
    if not to_bucket:
        raise ProjectError("--to-bucket NAME is required (e.g. the SSE-KMS CMK bucket: ./inv outputs)")
    return _run(
        env, options, Migration, "migrating", destination_bucket=to_bucket, delete_source=delete_source
    )


def seed(env: Env, count: int, large_every: int, large_mib: int, out: Callable[[str], None] = print) -> None:
    """N objects under seed/ in the SSE-C bucket, written like the upload function writes (current key,
    key version tag); every `large_every`-th one `large_mib` MiB. Written by a thread pool."""
    from concurrent.futures import ThreadPoolExecutor

    target = open_target(env)
    try:
        workers = local.DEFAULT_WORKERS
        s3 = target.client("s3", config=local.client_config(workers))
        secrets = target.client("secretsmanager")
        bucket = target.outputs["buckets"]["sse_c"]["name"]
        key = sse_c_secret.fetch_key(secrets, target.outputs["sse_c_key_secret"]["arn"])

        def write(i: int) -> int:
            size = large_mib * MIB if large_every and (i + 1) % large_every == 0 else 1024
            body = (f"seed object {i}\n".encode() * (size // 14 + 1))[:size]
            s3.put_object(
                Bucket=bucket,
                Key=f"seed/{i:05d}.txt",
                Body=body,
                ContentType="text/plain",
                Tagging=sse_c_secret.version_tagging(key.version_id),
                **sse_c_key.sse_c_params(key.secret_string),
            )
            return size

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            total = sum(pool.map(write, range(count)))
        elapsed = time.monotonic() - started
        out(f"wrote {count} objects ({total:,} bytes) to s3://{bucket}/seed/ in {elapsed:.1f} s")
    finally:
        target.close()
