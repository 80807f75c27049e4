"""The waits for eventual consistency: bounded, visible, only on the aws env, never against a denial."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ssepatterns.consistency import (
    Propagation,
    is_access_denied,
    is_function_not_ready,
    retry,
)
from ssepatterns.reencrypt.rotation import Rotation
from ssepatterns.verify.observe import DENIED, OK, allowed, denied


def client_error(code: str, status: int = 403, operation: str = "AssumeRole") -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


class FakeClock:
    """Time that passes only when slept (and by `per_call` for each call that is timed)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def failing(times: int, error: Exception, result: object = "done"):
    """A call that raises `error` `times` times, then returns `result`; counts its calls."""
    calls = []

    def call():
        calls.append(1)
        if len(calls) <= times:
            raise error
        return result

    call.calls = calls
    return call


def propagation(env: str = "aws", budget: float = 90.0) -> tuple[Propagation, FakeClock, list[str]]:
    clock, lines = FakeClock(), []
    return Propagation(env, budget=budget, out=lines.append, clock=clock, sleep=clock.sleep), clock, lines


def test_a_transient_error_is_retried_until_the_call_succeeds_and_each_wait_is_printed():
    waits, clock, lines = propagation()
    call = failing(3, client_error("AccessDenied"))
    assert waits.retry(call, is_access_denied, "IAM", "sts:AssumeRole") == "done"
    assert len(call.calls) == 4
    assert clock.sleeps == [2.0, 4.0, 8.0]
    assert lines == [
        "waiting for IAM to propagate… (AccessDenied from sts:AssumeRole, 0 s)",
        "waiting for IAM to propagate… (AccessDenied from sts:AssumeRole, 2 s)",
        "waiting for IAM to propagate… (AccessDenied from sts:AssumeRole, 6 s)",
    ]


def test_it_gives_up_at_the_budget_with_the_last_error():
    waits, clock, lines = propagation(budget=90)
    errors = iter([client_error("AccessDenied", operation=f"Call{i}") for i in range(100)])

    def call():
        raise next(errors)

    with pytest.raises(ClientError) as raised:
        waits.retry(call, is_access_denied, "IAM", "sts:AssumeRole")
    assert clock.now == 90.0  # slept exactly up to the budget, never past it
    assert sum(clock.sleeps) == 90.0 and max(clock.sleeps) == 10.0
    last = raised.value.operation_name
    assert last == f"Call{len(clock.sleeps)}"  # the error of the last attempt, not of the first
    assert lines[-1] == "gave up waiting for IAM to propagate (AccessDenied from sts:AssumeRole, 90 s)"
    assert any("gave up" in note for note in raised.value.__notes__)


def test_a_case_after_one_that_waited_its_budget_does_not_wait_for_the_same_thing_again():
    waits, clock, lines = propagation(budget=30)
    with pytest.raises(ClientError):
        waits.retry(failing(1000, client_error("AccessDenied")), is_access_denied, "IAM")
    spent = clock.now
    with pytest.raises(ClientError):
        waits.retry(failing(1000, client_error("AccessDenied")), is_access_denied, "IAM")
    assert clock.now == spent
    assert lines[-1].startswith("not waiting for IAM again")
    # Something else still gets its own budget.
    assert waits.retry(failing(1, client_error("AccessDenied")), is_access_denied, "Lambda") == "done"


def test_an_error_that_is_not_transient_is_raised_at_once():
    waits, clock, lines = propagation()
    call = failing(5, client_error("NoSuchBucket", 404))
    with pytest.raises(ClientError):
        waits.retry(call, is_access_denied, "IAM")
    assert len(call.calls) == 1 and clock.sleeps == [] and lines == []


@pytest.mark.parametrize("env", ["local", "unspecified", ""])
def test_the_local_env_never_retries(env):
    waits, clock, lines = propagation(env)
    call = failing(1, client_error("AccessDenied"))
    with pytest.raises(ClientError):
        waits.retry(call, is_access_denied, "IAM")
    assert len(call.calls) == 1 and clock.sleeps == [] and lines == []
    observed = failing(0, None, result="200 OK")
    assert waits.until(observed, lambda seen: seen == DENIED, "the bucket settings") == "200 OK"
    assert len(observed.calls) == 1 and clock.sleeps == []


def test_the_module_level_retry_is_the_same_wait():
    clock, lines = FakeClock(), []
    call = failing(2, client_error("ResourceConflictException", 409, "Invoke"))
    result = retry(
        call,
        is_function_not_ready,
        "aws",
        "Lambda",
        "lambda:InvokeFunction",
        clock=clock,
        sleep=clock.sleep,
        out=lines.append,
    )
    assert result == "done" and clock.sleeps == [2.0, 4.0]
    assert (
        lines[0]
        == "waiting for Lambda to propagate… (ResourceConflictException from lambda:InvokeFunction, 0 s)"
    )
    lines.clear()
    with pytest.raises(ClientError):
        retry(failing(1, client_error("AccessDenied")), is_access_denied, "local", "IAM", out=lines.append)
    assert lines == []


def outcomes(*seen: str):
    """A call whose successive outcomes are `seen` (a denial raised as S3 would, OK returned)."""
    remaining = list(seen)
    calls = []

    def call():
        calls.append(1)
        current = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        if current == OK:
            return {"ResponseMetadata": {"HTTPStatusCode": 200}}
        status, code = current.split()
        raise client_error(code, int(status))

    call.calls = calls
    return call


def test_an_expected_denial_is_never_retried_and_never_slowed():
    waits, clock, lines = propagation()
    call = outcomes(DENIED)
    assert denied(waits, call, "the bucket settings", "s3:PutObject") == DENIED
    assert len(call.calls) == 1 and clock.sleeps == [] and lines == []


def test_allowed_although_it_should_be_denied_is_retried_until_the_deny_is_effective():
    waits, clock, lines = propagation()
    call = outcomes(OK, OK, DENIED)
    assert denied(waits, call, "the bucket settings", "s3:PutObject b") == DENIED
    assert len(call.calls) == 3
    assert lines[0] == "waiting for the bucket settings to propagate… (200 OK from s3:PutObject b, 0 s)"


def test_a_deny_that_never_comes_is_a_failure_after_the_budget_not_a_pass():
    waits, clock, lines = propagation(budget=20)
    assert denied(waits, outcomes(OK), "the bucket settings", "s3:PutObject") == OK
    assert clock.now == 20 and lines[-1].startswith("gave up waiting for the bucket settings")


def test_a_request_that_must_pass_retries_a_refusal_but_not_another_error():
    waits, clock, _ = propagation()
    assert allowed(waits, outcomes(DENIED, OK), "the bucket settings", "s3:PutObject") == OK
    other = outcomes("400 InvalidArgument")
    assert allowed(waits, other, "the bucket settings", "s3:PutObject") == "400 InvalidArgument"
    assert len(other.calls) == 1


def test_the_rotation_retries_its_first_write_on_aws_only():
    class S3:
        def __init__(self, refusals: int) -> None:
            self.calls, self.refusals = 0, refusals

        def put_object(self, **kwargs):
            self.calls += 1
            if self.calls <= self.refusals:
                raise client_error("AccessDenied", operation="PutObject")
            return {"ETag": '"lock"'}

    class Secrets:
        def get_secret_value(self, **kwargs):
            return {"SecretString": "0123456789abcdefghijklmnopqrstuv", "VersionId": "v1"}

    waits, clock, lines = propagation()
    s3 = S3(refusals=2)
    Rotation(s3, Secrets(), "bucket", "arn", out=lines.append, propagation=waits).acquire("v1")
    assert s3.calls == 3 and len(lines) == 2 and "s3:PutObject bucket/.sse-c-rotation/lock" in lines[0]

    s3 = S3(refusals=1)
    with pytest.raises(ClientError):
        Rotation(s3, Secrets(), "bucket", "arn", out=lines.append).acquire("v1")  # no env: no retries
    assert s3.calls == 1
