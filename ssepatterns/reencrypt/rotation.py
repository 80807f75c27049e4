"""SSE-C key rotation with zero downtime: ./inv rotate-sse-c-key.

S3 keeps no SSE-C key: an object stays encrypted under the key it was written with until it is
rewritten, and a reader must know which key that was. So:

* Every object records the secret version of its key in the tag `sse-c-key-version` (readable
  without the key; written atomically with the object). The upload function tags what it writes;
  the download function reads the tag and fetches that version of the secret.
* A rotation (1) has Secrets Manager generate a new key and store it as a new version of the same
  secret, which becomes AWSCURRENT (the old one keeps AWSPREVIOUS); from then on new objects are
  written under the new key; (2) re-encrypts every object still under another key in place, through
  an engine (ssepatterns.reencrypt: the local thread pool or the Step Functions Distributed Map),
  whose per-object step (lambda_src/shared/sse_c_reencrypt.py) copies atomically, so each object is
  always readable with the key its tag names; passes repeat until one finds nothing left, which
  catches objects a writer put under the old key while a pass ran; (3) retires the old version
  (removes AWSPREVIOUS) — unless the bucket keeps noncurrent versions under it (a versioned bucket:
  a copy onto itself leaves them as they were), which retiring would make unreadable forever: then it
  refuses, says how many, and keeps the version (--allow-unreadable-noncurrent retires it anyway).
* Every completed rotation retires AWSPREVIOUS, so a run that finds a version labelled AWSPREVIOUS
  completes that rotation (interrupted, or a key changed elsewhere, e.g. by Terraform's key_version)
  and creates no new key. With `resume_only` it never starts one.
* One run at a time, and the lock that says so: ssepatterns.reencrypt.job_run.

Nothing here prints, logs or returns key material.
"""

from __future__ import annotations

from typing import Any

from ssepatterns.reencrypt.job_run import CURRENT, KEY_RULES, PREVIOUS, JobRun
from ssepatterns.reencrypt.passes import problems
from ssepatterns.reencrypt.summary import Summary
from ssepatterns.reencrypt.versioned import noncurrent_versions_under, refusal
from ssepatterns.sse_c import sse_c_key, sse_c_reencrypt


class Rotation(JobRun):
    """One run of the rotation against one bucket and secret."""

    def __init__(
        self, *args: Any, allow_unreadable_noncurrent: bool = False, keep_tags: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.allow_unreadable_noncurrent, self.keep_tags = allow_unreadable_noncurrent, keep_tags

    def _new_version(self) -> str:
        password = self.secrets.get_random_password(**KEY_RULES)["RandomPassword"]
        sse_c_key.raw_key_bytes(password)  # a 256-bit key, or refuse before storing it
        response = self.secrets.put_secret_value(
            SecretId=self.secret_arn, SecretString=password, VersionStages=[CURRENT]
        )
        version_id: str = response["VersionId"]
        return version_id

    def run(self, break_lock: bool = False, resume_only: bool = False) -> Summary:
        current, versions = self.acquire_current(break_lock)
        try:
            versions = self.versions()  # after the lock: another run may have rotated meanwhile
            current = next(v for v, labels in versions.items() if CURRENT in labels)
            previous = next(
                (v for v, labels in versions.items() if PREVIOUS in labels and self.usable(v)), None
            )
            summary = Summary(
                started_new_rotation=False,
                current_version=current,
                retired_version=None,
                engine=self.engine.name,
                workers=self.engine.workers,
                source_bucket=self.bucket,
                destination_bucket=self.bucket,
                prefix=self.prefix,
                keep_tags=self.keep_tags,
            )
            if previous is not None:
                # Every completed rotation retires AWSPREVIOUS, so one still labelled is an interrupted
                # rotation (or a key changed elsewhere, e.g. Terraform's key_version): complete it, with
                # no new key, which would take the label off a version that objects still need.
                self.out(f"completing an unfinished rotation: version {previous} -> {current}")
            elif resume_only:
                self.out(f"no rotation in progress: key version {current} is current")
            else:
                previous, current = current, self._new_version()
                summary.started_new_rotation, summary.current_version = True, current
                self.out(f"new key: version {current} is current (new objects use it); previous {previous}")
            older = [v for v in versions if v not in (current, previous) and self.usable(v)]
            job = sse_c_reencrypt.Job(
                kind=sse_c_reencrypt.ROTATE,
                source_bucket=self.bucket,
                destination_bucket=self.bucket,
                target_version=current,
                candidates=tuple(([previous] if previous else []) + older),
                multipart_threshold=self.multipart_threshold,
                part_size=self.part_size,
                keep_tags=self.keep_tags,
            )
            totals, summary.seconds = self.passes(job, current)
            summary.absorb(totals)
            summary.refused = problems(totals, "re-encrypted", f"version {previous} is kept, nothing retired")
            if not summary.refused and previous is not None and previous != current:
                summary.noncurrent_under_previous = noncurrent_versions_under(
                    self.s3, self.bucket, self.prefix, previous
                )
                if summary.noncurrent_under_previous and not self.allow_unreadable_noncurrent:
                    summary.refused = refusal(self.bucket, previous, summary.noncurrent_under_previous)
                else:
                    self.secrets.update_secret_version_stage(
                        SecretId=self.secret_arn, VersionStage=PREVIOUS, RemoveFromVersionId=previous
                    )
                    summary.retired_version = previous
                    if summary.noncurrent_under_previous:
                        self.out(
                            f"{summary.noncurrent_under_previous.count} noncurrent version(s) under version "
                            f"{previous} are now unreadable (--allow-unreadable-noncurrent)"
                        )
            self.out(summary.line())
            return summary
        finally:
            self.release()
