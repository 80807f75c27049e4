"""What every re-encryption run shares: the secret's versions, one key cache, the engine, and the lock.

One run at a time per bucket (a rotation and a migration exclude each other too: a rotation retires
a key version a migration may still need): a lock object under LOCK_PREFIX in the source bucket
(written with If-None-Match: *, so only one writer can create it) holds a lease that the running job
renews in the background; a later run refuses while the lease is live and takes over an expired one
(a run that died), with If-Match on the stale lock's ETag.

On the aws env a stack applied moments ago may not be effective yet (S3 bucket configurations are
eventually consistent): the run's first write, the lock, is retried while S3 refuses it, bounded and
visibly (ssepatterns.consistency). Elsewhere nothing is retried.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from ssepatterns.consistency import Propagation, is_access_denied
from ssepatterns.errors import ProjectError
from ssepatterns.reencrypt.keys import KeyCache
from ssepatterns.reencrypt.local import Interrupted, LocalEngine
from ssepatterns.reencrypt.passes import Engine, Totals, run_passes
from ssepatterns.reencrypt.summary import Summary
from ssepatterns.sse_c import sse_c_key, sse_c_reencrypt, sse_c_secret

LOCK_PREFIX = sse_c_reencrypt.CONTROL_PREFIX
LOCK_KEY = LOCK_PREFIX + "lock"
LEASE_TAG = "lease-expires"
OWNER_TAG = "owner"
DEFAULT_LEASE_SECONDS = 60.0
CURRENT, PREVIOUS = "AWSCURRENT", "AWSPREVIOUS"
# The secret's generation rules (as the Terraform module's ephemeral random password).
KEY_RULES = {
    "PasswordLength": 32,
    "ExcludePunctuation": True,
    "ExcludeUppercase": True,
    "ExcludeLowercase": False,
    "ExcludeNumbers": False,
    "IncludeSpace": False,
    "RequireEachIncludedType": True,
}


class RotationLocked(ProjectError):
    """Another rotation holds a live lease on the lock."""


def _code(error: ClientError) -> str:
    code: str = error.response.get("Error", {}).get("Code", "")
    return code


class JobRun:
    """A run of a re-encryption job against one bucket and secret: the secret's versions, the keys,
    the engine, and the lock that lets one run at a time."""

    def __init__(
        self,
        s3: Any,
        secrets: Any,
        bucket: str,
        secret_arn: str,
        out: Callable[[str], None] = print,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        clock: Callable[[], float] = time.time,
        propagation: Propagation | None = None,
        engine: Engine | None = None,
        keys: KeyCache | None = None,
        prefix: str = "",
        multipart_threshold: int = sse_c_reencrypt.COPY_OBJECT_LIMIT,
        part_size: int = sse_c_reencrypt.DEFAULT_PART_SIZE,
    ) -> None:
        self.s3, self.secrets, self.bucket, self.secret_arn = s3, secrets, bucket, secret_arn
        self.keys = keys or KeyCache(secrets, secret_arn)
        self.engine: Engine = engine or LocalEngine(s3, self.keys, workers=1)
        self.prefix, self.multipart_threshold, self.part_size = prefix, multipart_threshold, part_size
        self._lease_error: Exception | None = None
        self.out, self.lease_seconds, self.clock = out, lease_seconds, clock
        # Without one (no env named), nothing is retried, as on the emulator.
        self.propagation = propagation or Propagation("unspecified", out=out)
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self._lock_etag: str | None = None
        self._lease_renewed_at = 0.0

    # --- the secret ---------------------------------------------------------------------------

    def versions(self) -> dict[str, list[str]]:
        """Secret version id -> staging labels (deprecated versions included, where AWS keeps them)."""
        versions: dict[str, list[str]] = {}
        request: dict[str, Any] = {"SecretId": self.secret_arn, "IncludeDeprecated": True}
        while True:  # botocore has no paginator for ListSecretVersionIds
            page = self.secrets.list_secret_version_ids(**request)
            versions.update({v["VersionId"]: v.get("VersionStages", []) for v in page["Versions"]})
            if not page.get("NextToken"):
                return versions
            request["NextToken"] = page["NextToken"]

    def key_of(self, version_id: str) -> str:
        return self.keys.key_of(version_id)

    def usable(self, version_id: str) -> bool:
        """The version holds a key (MiniStack, for one, keeps a version without a value for a secret
        created empty): only those are candidates, and only a usable AWSPREVIOUS is a rotation to complete."""
        try:
            self.key_of(version_id)
        except sse_c_secret.SseCKeyUnavailable:
            return False
        return True

    # --- the lock -------------------------------------------------------------------------------

    def _lock_args(self, key_version: str) -> dict[str, Any]:
        expires = self.clock() + self.lease_seconds
        body = json.dumps({"owner": self.owner, "lease_expires": expires}).encode()
        return {
            "Bucket": self.bucket,
            "Key": LOCK_KEY,
            "Body": body,
            "Tagging": f"{OWNER_TAG}={self.owner}&{LEASE_TAG}={expires:.0f}",
            # The bucket policy requires SSE-C on every upload, the lock included.
            **sse_c_key.sse_c_params(self.key_of(key_version)),
        }

    def acquire_current(self, break_lock: bool = False) -> tuple[str, dict[str, list[str]]]:
        """Take the job lock with the current key version; returns it and the versions read before."""
        versions = self.versions()
        current = next((v for v, labels in versions.items() if CURRENT in labels), None)
        if current is None:
            raise ProjectError(f"secret {self.secret_arn} has no current version: apply the stack first")
        self.acquire(current, break_lock)
        return current, versions

    def acquire(self, key_version: str, break_lock: bool = False) -> None:
        try:
            # The run's first write: on AWS a fresh bucket's SSE-C setting or policy may lag behind.
            self._lock_etag = self.propagation.retry(
                lambda: self.s3.put_object(IfNoneMatch="*", **self._lock_args(key_version))["ETag"],
                is_access_denied,
                what="the bucket settings",
                action=f"s3:PutObject {self.bucket}/{LOCK_KEY}",
            )
        except ClientError as error:
            if _code(error) not in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise
            self._take_over(key_version, break_lock)
        self._lease_renewed_at = self.clock()

    def _take_over(self, key_version: str, break_lock: bool) -> None:
        head_tags = self.s3.get_object_tagging(Bucket=self.bucket, Key=LOCK_KEY)["TagSet"]
        tags = {t["Key"]: t["Value"] for t in head_tags}
        expires = float(tags.get(LEASE_TAG, "0"))
        if expires > self.clock() and not break_lock:
            raise RotationLocked(
                f"another key rotation is running ({tags.get(OWNER_TAG, 'unknown owner')}, lease until "
                f"{time.strftime('%H:%M:%S', time.localtime(expires))}); wait for it, or if it died, "
                f"run again after its lease expires (or with --break-lock)"
            )
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=LOCK_KEY).get("Contents", [])
        stale_etag = next((o["ETag"] for o in listed if o["Key"] == LOCK_KEY), None)
        self.out(f"taking over the lock of a rotation that stopped ({tags.get(OWNER_TAG, 'unknown owner')})")
        try:
            args = self._lock_args(key_version)
            self._lock_etag = self.s3.put_object(IfMatch=stale_etag, **args)["ETag"] if stale_etag else None
        except ClientError as error:
            if _code(error) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise RotationLocked("another run took over the stale rotation lock first") from None
            raise
        if self._lock_etag is None:  # the stale lock vanished meanwhile: create it afresh
            self.acquire(key_version)

    def renew(self, key_version: str) -> None:
        if self.clock() - self._lease_renewed_at < self.lease_seconds / 3:
            return
        try:
            self._lock_etag = self.s3.put_object(IfMatch=self._lock_etag, **self._lock_args(key_version))[
                "ETag"
            ]
        except ClientError as error:
            if _code(error) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise RotationLocked("lost the rotation lock to another run (lease expired?)") from None
            raise
        self._lease_renewed_at = self.clock()

    def release(self) -> None:
        if self._lock_etag is not None:
            self.s3.delete_object(Bucket=self.bucket, Key=LOCK_KEY)
            self._lock_etag = None

    # --- the run ----------------------------------------------------------------------------------

    def run(self, break_lock: bool = False) -> Summary:
        raise NotImplementedError  # each job: Rotation, Migration

    def passes(self, job: sse_c_reencrypt.Job, key_version: str) -> tuple[Totals, float]:
        """The job's passes on the engine, the lease renewed meanwhile: their totals and seconds. The
        stop_after test hook plays a killed process: the lock stays, as a killed process leaves it."""
        stop_renewing = self._keep_lease(key_version)
        started = time.monotonic()
        try:
            totals = run_passes(self.engine, job, self.prefix, self.out)
            if self._lease_error is not None:
                raise RotationLocked(f"lost the lock during the run: {self._lease_error}")
            return totals, time.monotonic() - started
        except Interrupted as stopped:
            if stopped.simulated_death:
                self._lock_etag = None  # so release() releases nothing
            raise
        finally:
            stop_renewing.set()

    def _keep_lease(self, key_version: str) -> threading.Event:
        """Renew the lease in the background while the passes run (a pass can outlast a lease)."""
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(self.lease_seconds / 3):
                try:
                    self.renew(key_version)
                except Exception as error:  # the run notices at its next step
                    self._lease_error = error
                    return

        threading.Thread(target=renew, name="rotation-lease", daemon=True).start()
        return stop
