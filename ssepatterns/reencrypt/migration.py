"""SSE-C -> another bucket's default encryption (./inv migrate-sse-c), e.g. into the SSE-KMS CMK bucket.

Since April 2026 AWS blocks SSE-C on new buckets by default, and teams move SSE-C data to SSE-KMS:
the same rewrite as a rotation, with another destination. Each object is copied under the same key
with no encryption headers, so S3 applies the destination's default encryption; the destination
object records the source's ETag (MIGRATED_FROM_TAG), so a re-run skips what is already migrated.
Sources are deleted only with delete_source, each after its copy is verified (size and checksum).
The lock is the rotation's (ssepatterns.reencrypt.job_run): a rotation could otherwise retire a key
version this run still needs.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ssepatterns.errors import ProjectError
from ssepatterns.reencrypt.job_run import PREVIOUS, JobRun
from ssepatterns.reencrypt.passes import problems
from ssepatterns.reencrypt.summary import Summary
from ssepatterns.sse_c import sse_c_reencrypt


def destination_encryption(s3: Any, bucket: str) -> str:
    """The destination's default encryption ("aws:kms <key>", "AES256", ...), or a clear refusal."""
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchBucket", "404"):
            raise ProjectError(f"--to-bucket {bucket}: no such bucket") from None
        if code in ("AccessDenied", "403"):
            raise ProjectError(f"--to-bucket {bucket}: may not read its encryption settings") from None
        raise ProjectError(
            f"--to-bucket {bucket}: {code or 'error'} reading its default encryption"
        ) from None
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
    return " ".join(filter(None, [default.get("SSEAlgorithm", ""), default.get("KMSMasterKeyID", "")]))


class Migration(JobRun):
    def __init__(
        self, *args: Any, destination_bucket: str, delete_source: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if destination_bucket == self.bucket:
            raise ProjectError("--to-bucket is the SSE-C bucket itself: a migration copies to another bucket")
        self.destination_bucket, self.delete_source = destination_bucket, delete_source

    def run(self, break_lock: bool = False) -> Summary:
        encryption = destination_encryption(self.s3, self.destination_bucket)
        current, versions = self.acquire_current(break_lock)
        try:
            previous = [v for v, labels in self.versions().items() if PREVIOUS in labels and self.usable(v)]
            others = [v for v in versions if v != current and v not in previous and self.usable(v)]
            job = sse_c_reencrypt.Job(
                kind=sse_c_reencrypt.MIGRATE,
                source_bucket=self.bucket,
                destination_bucket=self.destination_bucket,
                target_version=None,
                candidates=(current, *previous, *others),
                multipart_threshold=self.multipart_threshold,
                part_size=self.part_size,
                delete_source=self.delete_source,
            )
            summary = Summary(
                started_new_rotation=False,
                current_version=current,
                retired_version=None,
                job="migrate",
                engine=self.engine.name,
                workers=self.engine.workers,
                source_bucket=self.bucket,
                destination_bucket=self.destination_bucket,
                prefix=self.prefix,
            )
            self.out(
                f"migrating s3://{self.bucket}/{self.prefix} to s3://{self.destination_bucket} ({encryption})"
            )
            totals, summary.seconds = self.passes(job, current)
            summary.absorb(totals)
            summary.deleted_sources = totals.deleted
            summary.refused = problems(totals, "migrated", "their sources are kept")
            self.out(summary.line())
            return summary
        finally:
            self.release()
