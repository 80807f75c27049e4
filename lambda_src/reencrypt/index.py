"""Re-encrypt one batch of listed objects: the Task of the re-encryption engine's Distributed Map.

Event: {"Items": [item, ...]} as the Map's ItemBatcher sends it on AWS, or a single item (MiniStack
implements no ItemBatcher: docs/emulator.md). Each item is what the Map's ItemSelector builds from a
ListObjectsV2 entry: {"Key", "Size", "Etag", "job"}, the job (sse_c_reencrypt.Job.to_dict) taken from
the execution's input; every item of one batch carries the same job.

Environment: SECRET_ARN, the secret whose versions are the SSE-C keys. One Secrets Manager read per
key version per container (the cache below outlives an invocation).

Returns counts only (the fields of ssepatterns.reencrypt.passes.PassResult): examined, copied,
bytes, multipart, skipped, again, retries, unreadable_count, failed_count, and at most
KEYS_LISTED object names (unreadable) and "name: reason" lines (failed). Never key material.
"""

import os
import threading
from typing import Any

import boto3
from botocore.config import Config
from sse_c_reencrypt import CONTROL_PREFIX, Job, PassResult, process
from sse_c_secret import fetch_key

RETRY_ATTEMPTS = 10  # botocore "standard" mode: backoff with jitter on 503 SlowDown and throttling

secret_arn = os.environ["SECRET_ARN"]

secretsmanager_client = boto3.client("secretsmanager")
s3_client = boto3.client(
    "s3", config=Config(retries={"mode": "standard", "total_max_attempts": RETRY_ATTEMPTS})
)

_keys: dict[str, str] = {}  # secret version id -> key, for the container's lifetime; never logged
_keys_lock = threading.Lock()


def key_of(version_id: str) -> str:
    with _keys_lock:
        if version_id not in _keys:
            _keys[version_id] = fetch_key(secretsmanager_client, secret_arn, version_id).secret_string
        return _keys[version_id]


def items_of(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The batch's items: ItemBatcher's {"Items": [...]} (AWS) or one item (MiniStack)."""
    if "Items" in event:
        items: list[dict[str, Any]] = event["Items"]
        return items
    if "Key" in event:
        return [event]
    raise ValueError('the event is neither a batch ({"Items": [...]}) nor one listed object ({"Key": ...})')


def job_of(items: list[dict[str, Any]]) -> Job | None:
    """The batch's one job (None for an empty batch); items carrying different jobs are an error."""
    jobs = {repr(sorted(item["job"].items())) for item in items if "job" in item}
    if len(items) and (len(jobs) != 1 or any("job" not in item for item in items)):
        raise ValueError("every item of a batch must carry the same job (the Map's ItemSelector adds it)")
    return Job.from_dict(items[0]["job"]) if items else None


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    items = [item for item in items_of(event) if not str(item.get("Key", "")).startswith(CONTROL_PREFIX)]
    result = PassResult()
    job = job_of(items)
    if job is not None:
        for item in items:
            result.add(process(s3_client, job, item, key_of))
    return result.to_dict()
