"""The Step Functions engine's driver against a fake Step Functions client: the execution's input, the
polling with the map run's item counts as progress, the batches added up into one PassResult, and
clear one-line errors (a failed execution, another bucket, an engine not deployed)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sse_c_reencrypt import ROTATE, Job

from ssepatterns.errors import ProjectError
from ssepatterns.reencrypt.passes import PassResult
from ssepatterns.reencrypt.progress import Progress
from ssepatterns.reencrypt.stepfunctions import (
    NOT_DEPLOYED,
    StepFunctionsEngine,
    aggregate,
    engine_from_outputs,
)

ARN = "arn:aws:states:us-east-1:111122223333:stateMachine:fa-125-sse-c-reencrypt"
MAP_RUN = "arn:aws:states:us-east-1:111122223333:mapRun:fa-125-sse-c-reencrypt/ReEncryptObjects:1"
BUCKET = "fa-125-sse-c"
JOB = Job(ROTATE, BUCKET, BUCKET, "new-version", ("old-version",))


def counts(**values: Any) -> dict[str, Any]:
    """A batch's result as the function returns it (PassResult.to_dict), with `values` set."""
    return {**PassResult().to_dict(), **values}


class FakeStepFunctions:
    """Runs `polls` DescribeExecution answers, then the final one; the map run advances each poll."""

    def __init__(self, final: dict[str, Any], polls: int = 3, total: int = 6) -> None:
        self.final, self.polls, self.total = final, polls, total
        self.started: list[dict[str, Any]] = []
        self.described = 0

    def start_execution(self, **request: Any) -> dict[str, Any]:
        self.started.append(request)
        return {"executionArn": f"{ARN}:{request['name']}".replace(":stateMachine:", ":execution:")}

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        self.described += 1
        if self.described <= self.polls:
            return {"executionArn": executionArn, "status": "RUNNING"}
        return {"executionArn": executionArn, **self.final}

    def list_map_runs(self, executionArn: str) -> dict[str, Any]:
        return {"mapRuns": [{"mapRunArn": MAP_RUN}]}

    def describe_map_run(self, mapRunArn: str) -> dict[str, Any]:
        done = min(self.total, self.described * 2)
        return {"itemCounts": {"total": self.total, "succeeded": done, "running": self.total - done}}


def engine(fake: FakeStepFunctions, progress: Progress | None = None) -> StepFunctionsEngine:
    return StepFunctionsEngine(fake, ARN, BUCKET, workers=40, progress=progress, sleep=lambda _s: None)


def test_a_pass_is_one_execution_whose_batches_are_added_up() -> None:
    output = [
        counts(examined=3, copied=2, bytes=20, skipped=1),
        counts(examined=3, copied=3, bytes=30, retries=2),
    ]
    fake = FakeStepFunctions({"status": "SUCCEEDED", "output": json.dumps(output)})
    result = engine(fake).run_pass(JOB, "data/")
    assert json.loads(fake.started[0]["input"]) == {"job": JOB.to_dict(), "prefix": "data/"}
    assert fake.started[0]["stateMachineArn"] == ARN
    assert fake.described == 4  # polled until it ended
    assert result == PassResult(examined=6, copied=5, bytes=50, skipped=1, retries=2)


def test_progress_follows_the_map_runs_item_counts() -> None:
    fake = FakeStepFunctions({"status": "SUCCEEDED", "output": json.dumps([counts(examined=6)])}, polls=2)
    stream = io.StringIO()
    progress = Progress(enabled=True, stream=stream)
    engine(fake, progress).run_pass(JOB, "")
    assert "6/6 objects" in stream.getvalue()


def test_a_failed_execution_is_one_line_with_its_error_and_cause() -> None:
    cause = json.dumps(
        {"errorType": "SseCKeyUnavailable", "errorMessage": "version v1 does not exist", "trace": ["a"]}
    )
    fake = FakeStepFunctions({"status": "FAILED", "error": "SseCKeyUnavailable", "cause": cause})
    with pytest.raises(ProjectError) as raised:
        engine(fake).run_pass(JOB, "")
    message = str(raised.value)
    assert "failed: SseCKeyUnavailable: SseCKeyUnavailable: version v1 does not exist" in message
    assert "\n" not in message and "trace" not in message


@pytest.mark.parametrize("status", ["TIMED_OUT", "ABORTED"])
def test_an_execution_that_did_not_succeed_is_refused(status: str) -> None:
    fake = FakeStepFunctions({"status": status})
    with pytest.raises(
        ProjectError, match=f"{status.lower().replace('_', ' ')}: no error given: no cause given"
    ):
        engine(fake).run_pass(JOB, "")


def test_a_job_for_another_bucket_is_refused_before_starting() -> None:
    fake = FakeStepFunctions({"status": "SUCCEEDED", "output": "[]"})
    other = Job(ROTATE, "another-bucket", "another-bucket", "new-version", ("old-version",))
    with pytest.raises(ProjectError, match="lists fa-125-sse-c, not another-bucket"):
        engine(fake).run_pass(other, "")
    assert fake.started == []


def test_a_batch_without_the_counts_is_refused() -> None:
    with pytest.raises(ProjectError, match="batch 2 of the re-encryption execution returned"):
        aggregate([counts(examined=1), {"StatusCode": 200, "Payload": counts()}])
    with pytest.raises(ProjectError, match="not a list"):
        aggregate({"Error": "x"})


def test_names_stay_capped_across_batches() -> None:
    batches = [counts(failed_count=15, failed=[f"k{b}-{n}: x" for n in range(15)]) for b in range(2)]
    result = aggregate(batches)
    assert result.failed_count == 30 and len(result.failed) == 20


def test_an_engine_not_deployed_says_how_to_deploy_it() -> None:
    with pytest.raises(ProjectError, match="^" + NOT_DEPLOYED.replace(".", r"\.") + "$"):
        engine_from_outputs({"reencrypt_engine": None}, object())
    with pytest.raises(ProjectError, match="not deployed"):
        engine_from_outputs({}, object())
    assert "TF_VAR_enable_reencrypt_engine=true ./inv apply" in NOT_DEPLOYED


def test_an_engine_from_the_outputs() -> None:
    outputs = {
        "reencrypt_engine": {
            "state_machine_arn": ARN,
            "function_name": "fa-125-sse-c-reencrypt",
            "source_bucket": BUCKET,
            "destination_buckets": ["fa-125-sse-kms-cmk"],
            "max_concurrency": 40,
        }
    }
    made = engine_from_outputs(outputs, sfn_client := object())
    assert (made.name, made.workers, made.state_machine_arn, made.source_bucket) == (
        "stepfunctions",
        40,
        ARN,
        BUCKET,
    )
    assert made.sfn is sfn_client
    with pytest.raises(ProjectError, match="incomplete"):
        engine_from_outputs({"reencrypt_engine": {"state_machine_arn": ARN}}, object())


def test_a_migration_that_deletes_sources_is_refused_unless_the_engine_may_delete():
    job = Job("migrate", BUCKET, "fa-125-sse-kms-cmk", None, ("v1",), delete_source=True)
    engine = StepFunctionsEngine(None, "arn:aws:states:us-east-1:1:stateMachine:sm", BUCKET, workers=4)
    with pytest.raises(ProjectError, match="may not delete sources"):
        engine.run_pass(job, "")
