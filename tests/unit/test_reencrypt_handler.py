"""The re-encryption engine's function (lambda_src/reencrypt): both input shapes (ItemBatcher's batch on
AWS, one item on MiniStack), the job each item carries, the counts it returns (the fields of PassResult,
so the driver can add them up), and one Secrets Manager read per key version per container."""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from sse_c_reencrypt import COPIED, FAILED, KEYS_LISTED, MIGRATE, SKIPPED, UNREADABLE, Job, Outcome

from ssepatterns.paths import LAMBDA_SRC_DIR
from ssepatterns.reencrypt.passes import PassResult
from ssepatterns.reencrypt.stepfunctions import aggregate

SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:fa-125-AbCdEf"
VERSION = "11111111-2222-4333-8444-555555555555"
KEY = "0123456789abcdefghijklmnopqrstuv"
JOB = Job(MIGRATE, "fa-125-sse-c", "fa-125-sse-kms-cmk", None, (VERSION,))


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SECRET_ARN", SECRET_ARN)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    spec = importlib.util.spec_from_file_location(
        "handler_reencrypt", LAMBDA_SRC_DIR / "reencrypt" / "index.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def item(key: str, job: Job = JOB, size: int = 10) -> dict[str, Any]:
    """What the map's ItemSelector builds from a ListObjectsV2 entry."""
    return {"Key": key, "Size": size, "Etag": f'"{key}-etag"', "job": job.to_dict()}


@pytest.fixture
def processed(handler: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Job, dict[str, Any]]]:
    """Replaces the per-object step: records its calls; the key names the outcome."""
    calls: list[tuple[Job, dict[str, Any]]] = []

    def process(s3: Any, job: Job, listed: dict[str, Any], key_of: Any) -> Outcome:
        calls.append((job, listed))
        status = listed["Key"].split("-")[0]
        return Outcome(
            listed["Key"],
            status,
            bytes=listed["Size"] if status == COPIED else 0,
            multipart=listed["Size"] > 100,
            detail="CopyObject: AccessDenied" if status == FAILED else "",
            again=listed["Key"].endswith("again"),
            retries=1,
        )

    monkeypatch.setattr(handler, "process", process)
    return calls


def test_a_batch_of_items_as_the_item_batcher_sends_it(handler: Any, processed: list[Any]) -> None:
    batch = [item("copied-a"), item("copied-b", size=200), item("skipped-again"), item("failed-c")]
    counts = handler.lambda_handler({"Items": batch}, None)
    assert [listed["Key"] for _, listed in processed] == ["copied-a", "copied-b", "skipped-again", "failed-c"]
    assert all(job == JOB for job, _ in processed)
    assert counts == {
        "examined": 4,
        "copied": 2,
        "bytes": 210,
        "multipart": 1,
        "skipped": 1,
        "again": 1,
        "retries": 4,
        "deleted": 0,
        "unreadable": [],
        "failed": ["failed-c: CopyObject: AccessDenied"],
        "unreadable_count": 0,
        "failed_count": 1,
    }


def test_one_item_as_ministack_sends_it(handler: Any, processed: list[Any]) -> None:
    counts = handler.lambda_handler(item("copied-a", size=7), None)
    assert [(job, listed["Key"]) for job, listed in processed] == [(JOB, "copied-a")]
    assert (counts["examined"], counts["copied"], counts["bytes"]) == (1, 1, 7)


def test_the_rotation_lock_is_never_re_encrypted(handler: Any, processed: list[Any]) -> None:
    counts = handler.lambda_handler({"Items": [item(".sse-c-rotation/lock"), item("copied-a")]}, None)
    assert [listed["Key"] for _, listed in processed] == ["copied-a"]
    assert counts["examined"] == 1
    assert handler.lambda_handler(item(".sse-c-rotation/lock"), None)["examined"] == 0


def test_items_of_one_batch_must_carry_one_job(handler: Any, processed: list[Any]) -> None:
    other = Job(MIGRATE, "fa-125-sse-c", "fa-125-dsse-kms", None, (VERSION,))
    with pytest.raises(ValueError, match="same job"):
        handler.lambda_handler({"Items": [item("copied-a"), item("copied-b", job=other)]}, None)
    without = {k: v for k, v in item("copied-b").items() if k != "job"}
    with pytest.raises(ValueError, match="same job"):
        handler.lambda_handler({"Items": [item("copied-a"), without]}, None)
    assert processed == []  # refused before any object is touched


def test_an_event_that_is_neither_shape_is_refused(handler: Any, processed: list[Any]) -> None:
    with pytest.raises(ValueError, match="neither a batch"):
        handler.lambda_handler({"job": JOB.to_dict()}, None)


def test_names_are_capped_and_counts_exact(handler: Any, processed: list[Any]) -> None:
    batch = [item(f"unreadable-{n}") for n in range(KEYS_LISTED + 5)]
    counts = handler.lambda_handler({"Items": batch}, None)
    assert counts["unreadable_count"] == KEYS_LISTED + 5
    assert counts["unreadable"] == [f"unreadable-{n}" for n in range(KEYS_LISTED)]


def test_the_counts_are_what_pass_result_counts(handler: Any, processed: list[Any]) -> None:
    """The driver adds the batches up as PassResults: the function must count as PassResult.add does."""
    keys = ["copied-a", "skipped-again", "skipped-b", "failed-c", "unreadable-d", "copied-e"]
    batches = [
        handler.lambda_handler({"Items": [item(k, size=n * 50) for n, k in enumerate(keys[:3])]}, None),
        handler.lambda_handler(
            {"Items": [item(k, size=n * 50) for n, k in enumerate(keys[3:], start=3)]}, None
        ),
    ]
    expected = PassResult()
    for n, key in enumerate(keys):
        status = key.split("-")[0]
        expected.add(
            Outcome(
                key,
                status,
                bytes=n * 50 if status == COPIED else 0,
                multipart=n * 50 > 100,
                detail="CopyObject: AccessDenied" if status == FAILED else "",
                again=key.endswith("again"),
                retries=1,
            )
        )
    assert aggregate(batches) == expected
    assert {SKIPPED, UNREADABLE} <= {key.split("-")[0] for key in keys}


def test_one_secret_read_per_key_version_per_container(handler: Any) -> None:
    handler.secretsmanager_client = boto3.client("secretsmanager", region_name="us-east-1")
    stub = Stubber(handler.secretsmanager_client)
    stub.add_response(
        "get_secret_value",
        {"ARN": SECRET_ARN, "Name": "fa-125", "VersionId": VERSION, "SecretString": KEY},
        {"SecretId": SECRET_ARN, "VersionId": VERSION},
    )
    with stub:
        assert handler.key_of(VERSION) == KEY
        assert handler.key_of(VERSION) == KEY  # the stub has no second response: a second read fails
    stub.assert_no_pending_responses()
