"""Re-encrypt one SSE-C object: the per-object step of every re-encryption job and engine.

One implementation for both engines: the local engine (ssepatterns.reencrypt) calls `process` from
its worker threads, and the Distributed Map's Lambda (lambda_src/reencrypt) calls it for each item of
its batch. Two jobs:

* rotate:  SSE-C under an older secret version -> SSE-C under the current version, same bucket, same
           key; the object's tag is replaced by the new version's (atomically, with the copy).
* migrate: SSE-C -> the destination bucket's default encryption (e.g. SSE-KMS with the CMK), same
           key; the source's other tags are kept, and MIGRATED_FROM_TAG records the source's ETag,
           so a re-run skips what is already migrated. With delete_source the source is deleted only
           after the copy is verified (size and checksum).

Idempotence: every object's key version is its tag, so a resumed run copies nothing twice. By default
a rotation copies at once with the key the object is expected to be under (the previous version) and
reads the tag only when that key is refused (403, already re-encrypted): one request in the common
case, and the key-version tag becomes the object's only tag (as rotations always did). With keep_tags
it reads each object's tags first and keeps the others: two requests per object. An object larger than the
multipart threshold is copied part by part (UploadPartCopy), since one CopyObject stops at 5 GiB.

Nothing here logs, returns or embeds a key: an Outcome carries names, sizes and error codes only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from sse_c_key import copy_source_sse_c_params, sse_c_params
from sse_c_secret import KEY_VERSION_TAG, SseCKeyUnavailable

Client = Any  # a boto3 client: boto3 ships no types
KeyOf = Callable[[str], str]  # secret version id -> the key (cached by the caller)

ROTATE, MIGRATE = "rotate", "migrate"
MIGRATED_FROM_TAG = "sse-c-migrated-from-etag"
GIB, MIB = 1024**3, 1024**2
COPY_OBJECT_LIMIT = 5 * GIB  # S3's limit for one CopyObject
MIN_PART, MAX_PART, MAX_PARTS = 5 * MIB, 5 * GIB, 10_000  # S3's multipart limits
DEFAULT_PART_SIZE = 512 * MIB
WRONG_KEY = ("AccessDenied", "403", "Forbidden")  # a read with another SSE-C key
CHANGED = ("PreconditionFailed", "412")  # the source changed between listing and copy

KEYS_LISTED = 20  # at most this many object names in a result's lists (the counts are exact)
COPIED, SKIPPED, UNREADABLE, FAILED = "copied", "skipped", "unreadable", "failed"
IGNORED = "ignored"  # not data: the run's own lock (an engine whose listing includes it passes it here)
CONTROL_PREFIX = ".sse-c-rotation/"


@dataclass(frozen=True)
class Job:
    """What to do with each object: JSON-serialisable, so a Step Functions execution carries it."""

    kind: str
    source_bucket: str
    destination_bucket: str
    # rotate: the version every object must end under; migrate: None (the destination's default).
    target_version: str | None
    # The versions an object may be under, the most likely first (rotate: previous, then older).
    candidates: tuple[str, ...]
    multipart_threshold: int = COPY_OBJECT_LIMIT
    part_size: int = DEFAULT_PART_SIZE
    delete_source: bool = False
    # rotate: False (as rotations always were): copy at once with the previous key (one request), and
    # the key-version tag becomes the object's only tag. True: read its tags first and keep the others
    # (two requests per object).
    keep_tags: bool = False

    def __post_init__(self) -> None:
        if self.kind not in (ROTATE, MIGRATE):
            raise ValueError(f"unknown job {self.kind!r}: rotate or migrate")
        if self.kind == ROTATE and (
            self.target_version is None or self.source_bucket != self.destination_bucket
        ):
            raise ValueError("a rotation re-encrypts in place, to a target version")
        if self.kind == MIGRATE and self.source_bucket == self.destination_bucket:
            raise ValueError("a migration copies to another bucket")
        if not MIN_PART <= self.multipart_threshold <= COPY_OBJECT_LIMIT:
            raise ValueError(f"the multipart threshold must be {MIN_PART:,} to {COPY_OBJECT_LIMIT:,} bytes")
        if not MIN_PART <= self.part_size <= MAX_PART:
            raise ValueError(f"the part size must be {MIN_PART:,} to {MAX_PART:,} bytes")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["candidates"] = list(self.candidates)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        return cls(**{**data, "candidates": tuple(data["candidates"])})


@dataclass
class Outcome:
    key: str
    status: str
    bytes: int = 0
    multipart: bool = False
    detail: str = ""  # why skipped/unreadable/failed: codes and names, never key material
    etag: str = ""  # of the object as this run left it (for the next pass's bookkeeping)
    last_modified: int | None = None  # of the copy, in whole seconds (None after a multipart copy)
    again: bool = False  # changed between listing and copy: a later pass must look at it again
    source_deleted: bool = False  # migrate --delete-source: the source went, after a verified copy
    retries: int = 0  # how often botocore retried the copy's requests (503 SlowDown, throttling)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PassResult:
    examined: int = 0
    copied: int = 0
    bytes: int = 0
    multipart: int = 0
    skipped: int = 0
    again: int = 0  # changed since listed: a later pass takes them
    deleted: int = 0  # sources deleted after a verified copy (migrate --delete-source)
    retries: int = 0  # requests botocore retried (503 SlowDown, throttling), from the responses
    unreadable: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "key: reason" (no key material)
    unreadable_count: int = 0
    failed_count: int = 0

    def add(self, outcome: Outcome) -> None:
        if outcome.status == IGNORED:
            return
        self.examined += 1
        self.retries += outcome.retries
        self.deleted += int(outcome.source_deleted)
        if outcome.status == COPIED:
            self.copied += 1
            self.bytes += outcome.bytes
            self.multipart += int(outcome.multipart)
        elif outcome.status == SKIPPED:
            self.skipped += 1
            self.again += int(outcome.again)
        elif outcome.status == UNREADABLE:
            self.unreadable_count += 1
            if len(self.unreadable) < KEYS_LISTED:
                self.unreadable.append(outcome.key)
        else:
            self.failed_count += 1
            if len(self.failed) < KEYS_LISTED:
                self.failed.append(f"{outcome.key}: {outcome.detail}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def merge(self, other: PassResult) -> None:
        for name in ("examined", "copied", "bytes", "multipart", "skipped", "again", "deleted", "retries"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.unreadable_count += other.unreadable_count
        self.failed_count += other.failed_count
        self.unreadable = (self.unreadable + other.unreadable)[:KEYS_LISTED]
        self.failed = (self.failed + other.failed)[:KEYS_LISTED]


@dataclass
class _Source:
    key: str
    size: int
    version: str  # the secret version whose key decrypts it
    tags: dict[str, str] = field(default_factory=dict)


def _code(error: ClientError) -> str:
    code: str = error.response.get("Error", {}).get("Code", "")
    return code


def _tags(s3: Client, bucket: str, key: str) -> dict[str, str]:
    tag_set = s3.get_object_tagging(Bucket=bucket, Key=key).get("TagSet", [])
    return {t["Key"]: t["Value"] for t in tag_set}


def _probe(s3: Client, bucket: str, key: str, candidates: tuple[str, ...], key_of: KeyOf) -> str | None:
    """The version whose key a HEAD accepts (an object written without a tag), or None."""
    for version in candidates:
        try:
            s3.head_object(Bucket=bucket, Key=key, **sse_c_params(key_of(version)))
            return version
        except ClientError as error:
            if _code(error) not in (*WRONG_KEY, "400", "InvalidRequest"):
                raise
    return None


def _tagging(tags: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(tags)


def _destination_tags(job: Job, source: _Source, source_etag: str) -> dict[str, str]:
    if job.kind == ROTATE:
        assert job.target_version is not None
        return {**source.tags, KEY_VERSION_TAG: job.target_version}
    kept = {k: v for k, v in source.tags.items() if k != KEY_VERSION_TAG}
    return {**kept, MIGRATED_FROM_TAG: source_etag.strip('"')}


def _destination_sse(job: Job, key_of: KeyOf) -> dict[str, str]:
    # A migration sends no encryption headers: S3 applies the destination bucket's default encryption.
    return sse_c_params(key_of(job.target_version)) if job.kind == ROTATE and job.target_version else {}


def _retries(response: dict[str, Any]) -> int:
    attempts: int = response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
    return attempts


def _copy(s3: Client, job: Job, source: _Source, etag: str, key_of: KeyOf) -> tuple[str, int, int | None]:
    """CopyObject (one request); the destination's ETag and time, and the retries it took."""
    response = s3.copy_object(
        Bucket=job.destination_bucket,
        Key=source.key,
        CopySource={"Bucket": job.source_bucket, "Key": source.key},
        CopySourceIfMatch=etag,  # exactly the object examined: a writer's newer one waits for a later pass
        MetadataDirective="COPY",  # metadata and content type stay as they are
        TaggingDirective="REPLACE",
        Tagging=_tagging(_destination_tags(job, source, etag)),
        **copy_source_sse_c_params(key_of(source.version)),
        **_destination_sse(job, key_of),
    )
    result = response["CopyObjectResult"]
    stamp = result.get("LastModified")
    return result["ETag"], _retries(response), int(stamp.timestamp()) if stamp is not None else None


def part_ranges(size: int, part_size: int) -> list[tuple[int, int]]:
    """Inclusive byte ranges of the parts; the part size grows so that no more than 10,000 are needed."""
    part = max(part_size, -(-size // MAX_PARTS))
    return [(start, min(start + part, size) - 1) for start in range(0, size, part)] or [(0, -1)]


def _multipart_copy(
    s3: Client, job: Job, source: _Source, etag: str, key_of: KeyOf
) -> tuple[str, int, int | None]:
    """CreateMultipartUpload + UploadPartCopy per range + Complete; aborted on any failure."""
    source_sse = sse_c_params(key_of(source.version))
    head = s3.head_object(Bucket=job.source_bucket, Key=source.key, IfMatch=etag, **source_sse)
    destination_sse = _destination_sse(job, key_of)
    create: dict[str, Any] = {
        "Bucket": job.destination_bucket,
        "Key": source.key,
        "Metadata": head.get("Metadata", {}),
        "Tagging": _tagging(_destination_tags(job, source, etag)),
        **destination_sse,
    }
    for name in ("ContentType", "ContentEncoding", "ContentDisposition", "ContentLanguage", "CacheControl"):
        if head.get(name):
            create[name] = head[name]
    upload_id = s3.create_multipart_upload(**create)["UploadId"]
    retries = 0
    try:
        parts = []
        for number, (first, last) in enumerate(part_ranges(source.size, job.part_size), start=1):
            response = s3.upload_part_copy(
                Bucket=job.destination_bucket,
                Key=source.key,
                UploadId=upload_id,
                PartNumber=number,
                CopySource={"Bucket": job.source_bucket, "Key": source.key},
                CopySourceRange=f"bytes={first}-{last}",
                CopySourceIfMatch=etag,
                **copy_source_sse_c_params(key_of(source.version)),
                **destination_sse,
            )
            parts.append({"PartNumber": number, "ETag": response["CopyPartResult"]["ETag"]})
            retries += _retries(response)
        done = s3.complete_multipart_upload(
            Bucket=job.destination_bucket,
            Key=source.key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
            **destination_sse,
        )
    except BaseException:
        s3.abort_multipart_upload(Bucket=job.destination_bucket, Key=source.key, UploadId=upload_id)
        raise
    _ensure_tags(s3, job.destination_bucket, source.key, create["Tagging"])
    completed: str = done["ETag"]
    return completed, retries + _retries(done), None


def _ensure_tags(s3: Client, bucket: str, key: str, tagging: str) -> None:
    """The tags CreateMultipartUpload was given, on the completed object. AWS applies them with the
    upload; MiniStack 1.5.33 drops them (docs/emulator.md), and an object under the new key tagged
    with the old version would send readers to the wrong key. One GetObjectTagging per large object."""
    from urllib.parse import parse_qsl

    wanted = dict(parse_qsl(tagging, keep_blank_values=True))
    if _tags(s3, bucket, key) != wanted:
        s3.put_object_tagging(
            Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in wanted.items()]}
        )


def _copied(s3: Client, job: Job, source: _Source, etag: str, key_of: KeyOf) -> Outcome:
    """Copy (multipart above the threshold): the outcome of a copy that worked."""
    multipart = source.size > job.multipart_threshold
    copy = _multipart_copy if multipart else _copy
    new_etag, retries, last_modified = copy(s3, job, source, etag, key_of)
    return Outcome(
        source.key,
        COPIED,
        source.size,
        multipart,
        etag=new_etag,
        last_modified=last_modified,
        retries=retries,
    )


def _checksums(head: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in head.items() if k.startswith("Checksum") and k != "ChecksumType" and v}


def _stream_sha256(s3: Client, bucket: str, key: str, **extra: Any) -> str:
    digest = hashlib.sha256()
    for chunk in s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].iter_chunks(8 * MIB):
        digest.update(chunk)
    return digest.hexdigest()


def verify_copy(s3: Client, job: Job, source: _Source, key_of: KeyOf) -> str:
    """'' when the destination has the source's size and checksum, else what differs.

    The stored full-object checksums are compared where both objects have the same one (a copy keeps
    the source's); otherwise (a multipart copy, an object written without a checksum) both bodies are
    read and hashed."""
    source_sse = sse_c_params(key_of(source.version))
    source_head = s3.head_object(
        Bucket=job.source_bucket, Key=source.key, ChecksumMode="ENABLED", **source_sse
    )
    destination_head = s3.head_object(Bucket=job.destination_bucket, Key=source.key, ChecksumMode="ENABLED")
    if source_head["ContentLength"] != destination_head["ContentLength"]:
        return f"size {destination_head['ContentLength']} != {source_head['ContentLength']}"
    source_sums, destination_sums = _checksums(source_head), _checksums(destination_head)
    common = sorted(set(source_sums) & set(destination_sums))
    full_object = (
        source_head.get("ChecksumType", "FULL_OBJECT")
        == "FULL_OBJECT"
        == destination_head.get("ChecksumType", "FULL_OBJECT")
    )
    if common and full_object:
        return "" if all(source_sums[c] == destination_sums[c] for c in common) else f"{common[0]} differs"
    source_sha = _stream_sha256(s3, job.source_bucket, source.key, **source_sse)
    return "" if source_sha == _stream_sha256(s3, job.destination_bucket, source.key) else "SHA-256 differs"


def _already_migrated(s3: Client, job: Job, key: str, etag: str) -> bool:
    try:
        tags = _tags(s3, job.destination_bucket, key)
    except ClientError as error:
        if _code(error) in ("NoSuchKey", "404", *WRONG_KEY):
            return False
        raise
    return tags.get(MIGRATED_FROM_TAG) == etag.strip('"')


def _source(s3: Client, job: Job, key: str, size: int, key_of: KeyOf) -> _Source | Outcome:
    """The object's key version and tags, from its tag (or by probing an untagged one)."""
    tags = _tags(s3, job.source_bucket, key)
    candidates = job.candidates
    if job.target_version is not None and job.target_version not in candidates:
        candidates = (job.target_version, *candidates)  # an untagged object may be under it already
    version = tags.get(KEY_VERSION_TAG) or _probe(s3, job.source_bucket, key, candidates, key_of)
    if version is None:
        return Outcome(key, UNREADABLE, detail="no candidate key version decrypts it")
    return _Source(key, size, version, tags)


def process(s3: Client, job: Job, item: dict[str, Any], key_of: KeyOf) -> Outcome:
    """Re-encrypt one listed object (item: Key, Size, ETag as ListObjectsV2 gives them)."""
    key, size, etag = item["Key"], int(item["Size"]), item.get("ETag") or item.get("Etag") or ""
    if key.startswith(CONTROL_PREFIX):
        return Outcome(key, IGNORED)
    try:
        if job.kind == ROTATE:
            return _rotate(s3, job, key, size, etag, key_of)
        return _migrate(s3, job, key, size, etag, key_of)
    except ClientError as error:
        if _code(error) in CHANGED:
            return Outcome(key, SKIPPED, detail="changed since listed (a later pass takes it)", again=True)
        if _code(error) in ("NoSuchKey", "404"):
            return Outcome(key, SKIPPED, detail="deleted since listed")
        return Outcome(key, FAILED, detail=f"{error.operation_name}: {_code(error) or 'error'}")
    except SseCKeyUnavailable as error:  # its message names the version, never the key
        return Outcome(key, FAILED, detail=str(error))


def _rotate(s3: Client, job: Job, key: str, size: int, etag: str, key_of: KeyOf) -> Outcome:
    expected = job.candidates[0] if job.candidates else None
    optimistic = not job.keep_tags and expected is not None and expected != job.target_version
    if optimistic:
        assert expected is not None
        guess = _Source(key, size, expected)
        try:
            # Optimistic: under the previous version, and tagged with it (the tag is replaced anyway).
            return _copied(s3, job, guess, etag, key_of)
        except ClientError as error:
            if _code(error) not in (*WRONG_KEY, "400", "InvalidRequest"):
                raise
    found = _source(s3, job, key, size, key_of)
    if isinstance(found, Outcome):
        return found
    if found.version == job.target_version:
        if KEY_VERSION_TAG not in found.tags:  # untagged, already under the current key: just tag it
            assert job.target_version is not None
            s3.put_object_tagging(
                Bucket=job.source_bucket,
                Key=key,
                Tagging={
                    "TagSet": [
                        {"Key": k, "Value": v}
                        for k, v in {**found.tags, KEY_VERSION_TAG: job.target_version}.items()
                    ]
                },
            )
        return Outcome(key, SKIPPED, detail="already under the target key", etag=etag)
    if optimistic and found.version == expected:
        # The tag says previous but the previous key was refused: not a key mismatch, a denial.
        return Outcome(key, FAILED, detail="CopyObject: AccessDenied with the key its tag names")
    return _copied(s3, job, found, etag, key_of)


def _migrate(s3: Client, job: Job, key: str, size: int, etag: str, key_of: KeyOf) -> Outcome:
    if _already_migrated(s3, job, key, etag):
        if job.delete_source:
            found = _source(s3, job, key, size, key_of)
            if isinstance(found, Outcome):
                return found
            return _delete_verified(
                s3, job, found, etag, key_of, Outcome(key, SKIPPED, detail="already migrated")
            )
        return Outcome(key, SKIPPED, detail="already migrated")
    found = _source(s3, job, key, size, key_of)
    if isinstance(found, Outcome):
        return found
    outcome = _copied(s3, job, found, etag, key_of)
    return _delete_verified(s3, job, found, etag, key_of, outcome) if job.delete_source else outcome


def _delete_verified(
    s3: Client, job: Job, source: _Source, etag: str, key_of: KeyOf, outcome: Outcome
) -> Outcome:
    difference = verify_copy(s3, job, source, key_of)
    if difference:
        return Outcome(source.key, FAILED, detail=f"copy not verified: {difference}; source kept")
    # Only the object that was copied: a writer's newer one under this name stays (If-Match).
    s3.head_object(
        Bucket=job.source_bucket, Key=source.key, IfMatch=etag, **sse_c_params(key_of(source.version))
    )
    s3.delete_object(Bucket=job.source_bucket, Key=source.key)
    outcome.source_deleted = True
    return outcome
