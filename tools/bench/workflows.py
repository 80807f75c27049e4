"""The workflows the bench times (each one `./inv <task>` from its own precondition) and their targets."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """A goal from the issue: a ratio to the floor (kind "ratio") or an absolute time (kind "seconds")."""

    kind: str
    limit: float

    def describe(self) -> str:
        return f"<= {self.limit:g}x floor" if self.kind == "ratio" else f"< {self.limit:g} s"

    def met(self, median: float | None, ratio: float | None) -> bool | None:
        if self.kind == "ratio":
            return None if ratio is None else ratio <= self.limit
        return None if median is None else median < self.limit


@dataclass(frozen=True)
class Workflow:
    key: str
    title: str
    task: tuple[str, ...]
    precondition: str  # "cold", "up", "down" or "any"
    target: Target | None = None
    by_default: bool = True  # measured by a plain ./inv bench; otherwise only when named in --only


WORKFLOWS: tuple[Workflow, ...] = (
    Workflow("up-cold", "cold up", ("up",), "cold", Target("ratio", 2.8)),
    Workflow("apply-warm", "warm apply (no changes)", ("apply",), "up", Target("ratio", 1.2)),
    Workflow("verify", "verify", ("verify",), "up", Target("seconds", 15)),
    Workflow("down", "down", ("down",), "up"),
    Workflow("test-plan", "test-plan (both envs)", ("test-plan",), "any", Target("seconds", 25)),
    Workflow("test", "test (everything)", ("test",), "down"),
    # Not one timed command: the ceiling and each engine, one round per run (tools/bench/reencrypt.py).
    Workflow("reencrypt", "re-encryption", ("rotate-sse-c-key",), "up", by_default=False),
)
# Run as rounds (up, apply, verify, down leave each other's preconditions behind); the rest after.
ROUNDS = ("up-cold", "apply-warm", "verify", "down")
