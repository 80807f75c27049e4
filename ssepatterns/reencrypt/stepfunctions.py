"""The Step Functions engine: one pass is one execution of the re-encryption state machine.

The state machine (terraform/modules/sse-c-reencrypt) is a Distributed Map over the source bucket's
listing under a prefix; each batch of objects is one invocation of lambda_src/reencrypt, which runs
the shared per-object step and returns the batch's counts. This driver starts the execution with
{"job": Job.to_dict(), "prefix": prefix}, shows progress from the map run's item counts
(ListMapRuns, DescribeMapRun) while it polls DescribeExecution, and adds the batches' counts up into
one PassResult. A failed, timed-out or aborted execution is a ProjectError with its error and cause.

Deployed only with TF_VAR_enable_reencrypt_engine=true: engine_from_outputs refuses clearly otherwise.
Neither the input nor anything this reads holds key material: the function reads the keys itself.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from botocore.exceptions import ClientError

from ssepatterns.errors import ProjectError
from ssepatterns.reencrypt.passes import PassResult
from ssepatterns.reencrypt.progress import Progress
from ssepatterns.sse_c import sse_c_reencrypt

__all__ = ["StepFunctionsEngine", "engine_from_outputs"]

POLL_SECONDS = 2.0
NOT_DEPLOYED = "the re-encryption engine is not deployed: TF_VAR_enable_reencrypt_engine=true ./inv apply"
CAUSE_CHARACTERS = 300  # of an execution's cause in the error line
COUNT_FIELDS = tuple(f.name for f in fields(PassResult))


def _code(error: ClientError) -> str:
    code: str = error.response.get("Error", {}).get("Code", "error")
    return code


def _cause(cause: str) -> str:
    """One line: a Lambda error's cause is JSON ({"errorType", "errorMessage", "trace"})."""
    try:
        parsed = json.loads(cause)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        cause = f"{parsed.get('errorType', 'Error')}: {parsed['errorMessage']}"
    line = " ".join(cause.split())
    return line if len(line) <= CAUSE_CHARACTERS else line[: CAUSE_CHARACTERS - 1] + "…"


def aggregate(output: Any) -> PassResult:
    """The map's output (one counts object per batch) added up as one PassResult."""
    if not isinstance(output, list):
        raise ProjectError(
            f"the re-encryption execution returned {type(output).__name__}, not a list of batch counts"
        )
    total = PassResult()
    for number, batch in enumerate(output, start=1):
        if not isinstance(batch, dict) or set(batch) != set(COUNT_FIELDS):
            shown = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
            raise ProjectError(
                f"batch {number} of the re-encryption execution returned {shown}, not the counts "
                f"{', '.join(COUNT_FIELDS)} (is the function's code the one this driver expects? ./inv apply)"
            )
        total.merge(PassResult(**batch))
    return total


class StepFunctionsEngine:
    """Runs each pass as one execution of the state machine; `workers` is the map's MaxConcurrency."""

    name = "stepfunctions"

    def __init__(
        self,
        sfn: Any,
        state_machine_arn: str,
        source_bucket: str,
        workers: int,
        progress: Progress | None = None,
        poll_seconds: float = POLL_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        allow_delete_source: bool = False,
    ) -> None:
        self.sfn, self.state_machine_arn, self.source_bucket = sfn, state_machine_arn, source_bucket
        self.allow_delete_source = allow_delete_source
        self.workers = workers
        self.progress = progress or Progress(enabled=False)
        self.poll_seconds, self.sleep = poll_seconds, sleep

    def run_pass(self, job: sse_c_reencrypt.Job, prefix: str) -> PassResult:
        if job.delete_source and not self.allow_delete_source:
            raise ProjectError(
                "the re-encryption engine may not delete sources (deployed without "
                "reencrypt_allow_delete_source): TF_VAR_reencrypt_allow_delete_source=true ./inv apply, "
                "or migrate with the local engine"
            )
        if job.source_bucket != self.source_bucket:
            raise ProjectError(
                f"the re-encryption engine lists {self.source_bucket}, not {job.source_bucket}: "
                "its state machine and function are scoped to that bucket"
            )
        name = f"{job.kind}-{uuid.uuid4().hex[:12]}"
        request = json.dumps({"job": job.to_dict(), "prefix": prefix})
        try:
            arn = self.sfn.start_execution(stateMachineArn=self.state_machine_arn, name=name, input=request)[
                "executionArn"
            ]
        except ClientError as error:
            raise ProjectError(
                f"could not start the re-encryption state machine {self.state_machine_arn}: {_code(error)}"
            ) from None
        described = self._wait(arn)
        status = described["status"]
        if status != "SUCCEEDED":
            failure = described.get("error") or "no error given"
            cause = _cause(described.get("cause") or "no cause given")
            raise ProjectError(
                f"the re-encryption execution {name} {status.lower().replace('_', ' ')}: {failure}: {cause}"
            )
        if described.get("outputDetails", {}).get("included") is False or described.get("output") is None:
            raise ProjectError(
                f"the re-encryption execution {name} succeeded but its output is not available"
            )
        return aggregate(json.loads(described["output"]))

    def _wait(self, execution_arn: str) -> dict[str, Any]:
        """DescribeExecution until the execution ends, the map run's item counts as progress."""
        map_run: str | None = None
        total = done = 0
        started = False
        try:
            while True:
                described: dict[str, Any] = self.sfn.describe_execution(executionArn=execution_arn)
                if map_run is None:
                    runs = self.sfn.list_map_runs(executionArn=execution_arn).get("mapRuns", [])
                    map_run = runs[0]["mapRunArn"] if runs else None
                if map_run is not None:
                    counts = self.sfn.describe_map_run(mapRunArn=map_run).get("itemCounts", {})
                    if not started and counts.get("total") is not None:
                        total, started = int(counts["total"]), True
                        self.progress.start(total, 0)
                    finished = sum(
                        int(counts.get(k, 0)) for k in ("succeeded", "failed", "timedOut", "aborted")
                    )
                    for _ in range(done, min(finished, total)):
                        self.progress.advance(sse_c_reencrypt.Outcome("", sse_c_reencrypt.SKIPPED))
                    done = max(done, min(finished, total))
                if described["status"] != "RUNNING":
                    return described
                self.sleep(self.poll_seconds)
        except ClientError as error:
            raise ProjectError(
                f"could not follow the re-encryption execution {execution_arn}: {_code(error)}"
            ) from None
        finally:
            if started:
                self.progress.finish()


def engine_from_outputs(
    outputs: Mapping[str, Any], sfn_client: Any, progress: Progress | None = None
) -> StepFunctionsEngine:
    """The engine of a deployed stack (its Terraform outputs), or a ProjectError saying how to deploy it."""
    engine = outputs.get("reencrypt_engine")
    if not engine:
        raise ProjectError(NOT_DEPLOYED)
    try:
        return StepFunctionsEngine(
            sfn_client,
            state_machine_arn=engine["state_machine_arn"],
            source_bucket=engine["source_bucket"],
            workers=int(engine["max_concurrency"]),
            progress=progress,
            allow_delete_source=bool(engine.get("allow_delete_source", False)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProjectError(
            f"the stack's reencrypt_engine output is incomplete ({exc!r}): ./inv apply"
        ) from None
