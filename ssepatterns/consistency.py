"""Waiting, bounded and visibly, for what AWS documents as eventually consistent.

On a real account a just-applied stack is not effective everywhere at once: IAM is eventually
consistent (AssumeRole of a new role, or a new role's credentials, may be AccessDenied for a while),
a new function is Pending before it can be invoked, and S3 bucket configurations (policy, encryption,
the SSE-C block) have an eventual consistency model. The checks and the key rotation therefore retry
those cases on the aws env, for at most `budget` seconds per case, printing one line per wait:

    waiting for IAM to propagate… (AccessDenied from sts:AssumeRole, 12 s)

Anywhere else (the local emulator applies synchronously) a call runs once and fails fast.

Only a result that propagation can still change is retried. A check that expects success retries
the documented transient failure (AccessDenied of a fresh role, a Pending function). A check that
expects a denial never retries the denial: at most, where AWS documents that policy changes
propagate, it retries "allowed although it should be denied", which can only turn into a pass once
the deny is effective, never the other way round.

Once one case has waited its whole budget for something (`what`), later cases in the same run do
not wait for it again: propagation is a matter of time since the change, and that time has passed.
So a stack that is really broken fails after one budget, not after one budget per check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from botocore.exceptions import ClientError

T = TypeVar("T")

DEFAULT_BUDGET = 90.0  # seconds per case
RETRYING_ENVS = frozenset({"aws"})
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException"})


class NotYet(Exception):
    """A result that propagation may still change: `seen` describes it, `value` is the result."""

    def __init__(self, seen: str, value: Any = None) -> None:
        super().__init__(seen)
        self.seen, self.value = seen, value


def error_code(error: BaseException) -> str:
    return error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""


def is_access_denied(error: BaseException) -> bool:
    """AccessDenied (S3, STS) or AccessDeniedException (KMS, Secrets Manager, Lambda)."""
    return error_code(error) in ACCESS_DENIED_CODES


def is_function_not_ready(error: BaseException) -> bool:
    """A function that Lambda is still creating or updating (state Pending, or an update in progress)."""
    return error_code(error) in ("ResourceConflictException", "ResourceNotReadyException")


def describe(error: BaseException) -> str:
    if isinstance(error, NotYet):
        return error.seen
    if isinstance(error, ClientError):
        return error_code(error) or str(error)
    return f"{type(error).__name__}: {error}"


@dataclass
class Propagation:
    """The waits of one run against one env (its give-ups are remembered for the rest of the run)."""

    env_name: str
    budget: float = DEFAULT_BUDGET
    out: Callable[[str], None] = print
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    first_delay: float = 2.0
    max_delay: float = 10.0
    exhausted: set[str] = field(default_factory=set)

    @property
    def retries(self) -> bool:
        return self.env_name in RETRYING_ENVS

    def retry(
        self,
        fn: Callable[[], T],
        is_transient: Callable[[BaseException], bool],
        what: str,
        action: str | None = None,
    ) -> T:
        """fn(), again while it raises an error `is_transient` accepts, until the budget is spent;
        then the last error is raised. Off the aws env, fn() once."""
        if not self.retries:
            return fn()
        started = self.clock()
        delay = self.first_delay
        while True:
            try:
                return fn()
            except Exception as error:
                if not is_transient(error):
                    raise
                elapsed = self.clock() - started
                remaining = 0.0 if what in self.exhausted else self.budget - elapsed
                seen = describe(error) + (f" from {action}" if action else "")
                if remaining <= 0:
                    if what in self.exhausted:
                        line = f"not waiting for {what} again ({seen}): a case already waited its budget"
                    else:
                        self.exhausted.add(what)
                        line = f"gave up waiting for {what} to propagate ({seen}, {elapsed:.0f} s)"
                    self.out(line)
                    error.add_note(line)
                    raise
                self.out(f"waiting for {what} to propagate… ({seen}, {elapsed:.0f} s)")
                self.sleep(min(delay, remaining))
                delay = min(delay * 2, self.max_delay)

    def until(
        self,
        observe: Callable[[], T],
        settled: Callable[[T], bool],
        what: str,
        action: str | None = None,
        seen: Callable[[T], str] = str,
        is_transient: Callable[[BaseException], bool] = lambda _error: False,
    ) -> T:
        """observe(), again while its result is not `settled` (or it raises an error `is_transient`
        accepts), until the budget is spent; returns the last result. Off the aws env, observe() once."""

        def attempt() -> T:
            value = observe()
            if not settled(value):
                raise NotYet(seen(value), value)
            return value

        try:
            return self.retry(attempt, lambda e: isinstance(e, NotYet) or is_transient(e), what, action)
        except NotYet as unsettled:
            return cast(T, unsettled.value)  # attempt() raised it with the last observe() result


def retry(
    fn: Callable[[], T],
    is_transient: Callable[[BaseException], bool],
    env_name: str,
    what: str,
    action: str | None = None,
    budget: float = DEFAULT_BUDGET,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    out: Callable[[str], None] = print,
) -> T:
    """One case, on its own (see Propagation.retry)."""
    return Propagation(env_name, budget=budget, out=out, clock=clock, sleep=sleep).retry(
        fn, is_transient, what, action
    )
