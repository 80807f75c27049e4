"""SSE-C key rotation with zero downtime: ./inv rotate-sse-c-key.

S3 keeps no SSE-C key: an object stays encrypted under the key it was written with until it is
rewritten, and a reader must know which key that was. So:

* Every object records the secret version of its key in the tag `sse-c-key-version` (readable
  without the key; written atomically with the object). The upload function tags what it writes;
  the download function reads the tag and fetches that version of the secret.
* A rotation (1) has Secrets Manager generate a new key and store it as a new version of the same
  secret, which becomes AWSCURRENT (the old one keeps AWSPREVIOUS); from then on new objects are
  written under the new key; (2) re-encrypts every object still under another key in place with
  CopyObject (copy-source SSE-C headers = its key, destination headers = the new key, metadata and
  content type copied, the tag replaced) — a copy is atomic, so each object is always readable with
  the key its tag names; it repeats passes until one finds nothing left, which catches objects a
  writer put under the old key while the pass ran; (3) retires the old version (removes AWSPREVIOUS).
* A run first looks for objects that are not under the current key (a rotation that was interrupted,
  or a key changed elsewhere, e.g. by Terraform's key_version). If there are any, it completes that
  rotation and creates no new key: starting one would move the AWSPREVIOUS label off a version those
  objects still need. Otherwise it starts a new rotation. With `resume_only` it never starts one: when
  everything is already under the current key it does nothing, and says so.
* One rotation at a time: a lock object (written with If-None-Match: *, so only one writer can create
  it) holds a lease that the running rotation renews; a later run refuses while the lease is live and
  takes over an expired one (a rotation that died), with If-Match on the stale lock's ETag.
* On the aws env a stack applied moments ago may not be effective yet (S3 bucket configurations
  are eventually consistent): the run's first write, the lock, is retried while S3 refuses it,
  bounded and visibly (ssepatterns.consistency). Elsewhere nothing is retried.

Nothing here prints, logs or returns key material.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from ssepatterns.consistency import Propagation, is_access_denied
from ssepatterns.envs import Env
from ssepatterns.errors import ProjectError
from ssepatterns.sse_c import sse_c_key, sse_c_secret

LOCK_PREFIX = ".sse-c-rotation/"
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


class Interrupted(RuntimeError):
    """Raised by the stop_after test hook, as if the process had died there."""


@dataclass
class Summary:
    started_new_rotation: bool
    current_version: str
    retired_version: str | None
    reencrypted: int = 0
    reencrypted_bytes: int = 0
    objects: int = 0
    passes: int = 0
    unreadable: list[str] = field(default_factory=list)


def _code(error: ClientError) -> str:
    code: str = error.response.get("Error", {}).get("Code", "")
    return code


class Rotation:
    """One run of the rotation against one bucket and secret."""

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
    ) -> None:
        self.s3, self.secrets, self.bucket, self.secret_arn = s3, secrets, bucket, secret_arn
        self.out, self.lease_seconds, self.clock = out, lease_seconds, clock
        # Without one (no env named), nothing is retried, as on the emulator.
        self.propagation = propagation or Propagation("unspecified", out=out)
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self._lock_etag: str | None = None
        self._lease_renewed_at = 0.0
        self._keys: dict[str, str] = {}  # version id -> key (kept in memory only)

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
        if version_id not in self._keys:
            key = sse_c_secret.fetch_key(self.secrets, self.secret_arn, version_id)
            self._keys[version_id] = key.secret_string
        return self._keys[version_id]

    def _new_version(self) -> str:
        password = self.secrets.get_random_password(**KEY_RULES)["RandomPassword"]
        sse_c_key.raw_key_bytes(password)  # a 256-bit key, or refuse before storing it
        response = self.secrets.put_secret_value(
            SecretId=self.secret_arn, SecretString=password, VersionStages=[CURRENT]
        )
        version_id: str = response["VersionId"]
        return version_id

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

    # --- the objects ------------------------------------------------------------------------------

    def objects(self) -> Iterator[dict[str, Any]]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for obj in page.get("Contents", []):
                if not obj["Key"].startswith(LOCK_PREFIX):
                    yield obj

    def _count_not_under(self, version: str) -> int:
        """Objects not under `version`'s key (an untagged object is probed with that key)."""
        stale = 0
        for obj in self.objects():
            tagged = sse_c_secret.key_version_of(self.s3, self.bucket, obj["Key"])
            if tagged == version:
                continue
            if tagged is not None or self._source_version(obj["Key"], None, [version]) is None:
                stale += 1
        return stale

    def _source_version(self, key: str, tagged: str | None, candidates: list[str]) -> str | None:
        """The version whose key decrypts the object: its tag, else the first key a HEAD accepts."""
        if tagged is not None:
            return tagged
        for version in candidates:  # written without a tag (by hand, or before tags): probe
            try:
                self.s3.head_object(
                    Bucket=self.bucket, Key=key, **sse_c_key.sse_c_params(self.key_of(version))
                )
                return version
            except ClientError as error:
                if _code(error) not in ("403", "400", "AccessDenied", "InvalidRequest", "Forbidden"):
                    raise
        return None

    def reencrypt(self, obj: dict[str, Any], source_version: str, target_version: str) -> None:
        key = obj["Key"]
        self.s3.copy_object(
            Bucket=self.bucket,
            Key=key,
            CopySource={"Bucket": self.bucket, "Key": key},
            MetadataDirective="COPY",  # metadata and content type stay as they are
            TaggingDirective="REPLACE",
            Tagging=sse_c_secret.version_tagging(target_version),
            **sse_c_key.copy_source_sse_c_params(self.key_of(source_version)),
            **sse_c_key.sse_c_params(self.key_of(target_version)),
        )

    # --- the run ----------------------------------------------------------------------------------

    def run(
        self, resume_only: bool = False, break_lock: bool = False, stop_after: int | None = None
    ) -> Summary:
        started = time.monotonic()
        versions = self.versions()
        current = next((v for v, labels in versions.items() if CURRENT in labels), None)
        if current is None:
            raise ProjectError(f"secret {self.secret_arn} has no current version: apply the stack first")
        self.acquire(current, break_lock)
        try:
            versions = self.versions()  # after the lock: another run may have rotated meanwhile
            current = next(v for v, labels in versions.items() if CURRENT in labels)
            previous = next((v for v, labels in versions.items() if PREVIOUS in labels), None)
            summary = Summary(started_new_rotation=False, current_version=current, retired_version=None)
            stale = self._count_not_under(current)
            if stale:
                # An interrupted rotation (or a key changed elsewhere): complete it, no new key. A new
                # key now would take the AWSPREVIOUS label off a version that objects still need.
                self.out(
                    f"completing an unfinished rotation: {stale} object(s) not under key version {current}"
                )
            elif resume_only:
                self.out(f"no rotation in progress: key version {current} is current")
            else:
                previous, current = current, self._new_version()
                summary.started_new_rotation, summary.current_version = True, current
                self.out(f"new key: version {current} is current (new objects use it); previous {previous}")
            candidates = (
                [current]
                + ([previous] if previous else [])
                + [v for v in versions if v not in (current, previous)]
            )
            copied = 0
            while True:
                summary.passes += 1
                done_this_pass = 0
                objects = list(self.objects())
                summary.objects = len(objects)
                summary.unreadable = []
                for obj in objects:
                    self.renew(current)
                    tagged = sse_c_secret.key_version_of(self.s3, self.bucket, obj["Key"])
                    if tagged == current:
                        continue
                    source = self._source_version(obj["Key"], tagged, candidates)
                    if source is None:
                        summary.unreadable.append(obj["Key"])
                        continue
                    if source == current:  # untagged but already under the current key: just tag it
                        self.s3.put_object_tagging(
                            Bucket=self.bucket,
                            Key=obj["Key"],
                            Tagging={"TagSet": [{"Key": sse_c_secret.KEY_VERSION_TAG, "Value": current}]},
                        )
                        continue
                    if stop_after is not None and copied >= stop_after:
                        self._lock_etag = None  # a dead process releases nothing
                        raise Interrupted(f"interrupted after {copied} objects")
                    self.reencrypt(obj, source, current)
                    copied += 1
                    done_this_pass += 1
                    summary.reencrypted += 1
                    summary.reencrypted_bytes += obj["Size"]
                    self.out(
                        f"  [{summary.reencrypted}] {obj['Key']} ({obj['Size']:,} bytes) re-encrypted; "
                        f"{summary.reencrypted_bytes:,} bytes in {time.monotonic() - started:.1f} s"
                    )
                if done_this_pass == 0:
                    break
            if summary.unreadable:
                raise ProjectError(
                    f"{len(summary.unreadable)} object(s) are under a key no secret version holds "
                    f"(e.g. {summary.unreadable[0]}); the previous version is kept, nothing was retired"
                )
            if previous is not None and previous != current:
                self.secrets.update_secret_version_stage(
                    SecretId=self.secret_arn, VersionStage=PREVIOUS, RemoveFromVersionId=previous
                )
                summary.retired_version = previous
            if summary.reencrypted == 0 and not summary.started_new_rotation:
                self.out(
                    f"nothing to re-encrypt: all {summary.objects} objects are under key version {current}"
                )
            else:
                retired = f"; version {previous} retired" if summary.retired_version else ""
                self.out(
                    f"done: {summary.reencrypted} of {summary.objects} objects re-encrypted "
                    f"({summary.reencrypted_bytes:,} bytes) in {time.monotonic() - started:.1f} s, "
                    f"{summary.passes} pass(es){retired}"
                )
            return summary
        finally:
            self.release()


def rotate(env: Env, resume_only: bool = False, break_lock: bool = False) -> Summary:
    """./inv rotate-sse-c-key: as the principal the checks run as (the operator on the emulator)."""
    from ssepatterns.verify.target import open_target

    target = open_target(env)
    try:
        rotation = Rotation(
            target.client("s3"),
            target.client("secretsmanager"),
            target.outputs["buckets"]["sse_c"]["name"],
            target.outputs["sse_c_key_secret"]["arn"],
            propagation=target.propagation,
        )
        return rotation.run(resume_only=resume_only, break_lock=break_lock)
    finally:
        target.close()


def seed(env: Env, count: int, large_every: int, large_mib: int) -> None:
    """./inv seed-objects: N objects under seed/ in the SSE-C bucket, written like the upload function
    writes (current key, key version tag); every `large_every`-th one `large_mib` MiB."""
    from ssepatterns.verify.target import open_target

    target = open_target(env)
    try:
        s3, secrets = target.client("s3"), target.client("secretsmanager")
        bucket = target.outputs["buckets"]["sse_c"]["name"]
        key = sse_c_secret.fetch_key(secrets, target.outputs["sse_c_key_secret"]["arn"])
        started, total = time.monotonic(), 0
        for i in range(count):
            size = large_mib * 1024 * 1024 if large_every and (i + 1) % large_every == 0 else 1024
            body = (f"seed object {i}\n".encode() * (size // 14 + 1))[:size]
            s3.put_object(
                Bucket=bucket,
                Key=f"seed/{i:04d}.txt",
                Body=body,
                ContentType="text/plain",
                Tagging=sse_c_secret.version_tagging(key.version_id),
                **sse_c_key.sse_c_params(key.secret_string),
            )
            total += size
        elapsed = time.monotonic() - started
        print(f"wrote {count} objects ({total:,} bytes) to s3://{bucket}/seed/ in {elapsed:.1f} s")
    finally:
        target.close()
