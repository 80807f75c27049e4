"""The plans of the session as jobs: started at once in two thread pools (the env plans, and the others
at a lower CPU priority), awaited by the fixtures that need them."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from .planned import PlannedEnv

BACKGROUND_JOBS = 3  # invalid-input plans and the mutant plan
BACKGROUND_NICENESS = 10


class PlanJobs:
    """Futures of the session's plans, by key; results are awaited by the fixtures that need them.

    The two env plans run in a pool of their own; the others (invalid inputs, the mutant) in a pool
    whose threads, and so whose terraform processes, run at a lower CPU priority: on a small machine
    they all compete for the same cores, and the env plans are what most tests wait for.
    """

    def __init__(self, main: ThreadPoolExecutor, background: ThreadPoolExecutor) -> None:
        self._pools = {False: main, True: background}
        self._jobs: dict[tuple[str, str], Future[Any]] = {}

    def submit(self, key: tuple[str, str], job: Callable[[], Any], background: bool = False) -> None:
        self._jobs[key] = self._pools[background].submit(job)

    def finished(self, kind: str) -> list[Any]:
        """The results of the jobs of one kind that ended without an error, by key."""
        return [
            job.result()
            for (job_kind, _), job in sorted(self._jobs.items())
            if job_kind == kind and job.done() and job.exception() is None
        ]

    def result(self, key: tuple[str, str]) -> Any:
        if key not in self._jobs:
            raise KeyError(f"no plan job {key}: the fixture that schedules it was not requested")
        return self._jobs[key].result()


def lower_priority() -> None:
    """Lower this worker thread's CPU priority (Linux: per thread, inherited by the processes it starts)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)


class PlannedEnvs:
    """The plan of each env, awaited on first use, so that one env's failure fails only its tests."""

    def __init__(self, jobs: PlanJobs) -> None:
        self._jobs = jobs

    def __getitem__(self, env: str) -> PlannedEnv:
        return self._jobs.result(("plan", env))

    def planned_so_far(self) -> list[PlannedEnv]:
        """The envs whose plan was scheduled and succeeded (a failed one is its tests' failure)."""
        return list(self._jobs.finished("plan"))


class PlannedEngineEnvs:
    """The plan of each env with the re-encryption engine switched on (ENGINE_ON), awaited on first use."""

    def __init__(self, jobs: PlanJobs) -> None:
        self._jobs = jobs

    def __getitem__(self, env: str) -> PlannedEnv:
        return self._jobs.result(("engine", env))


class PlannedExamples:
    """The plan of each example, awaited on first use."""

    def __init__(self, jobs: PlanJobs) -> None:
        self._jobs = jobs

    def __getitem__(self, name: str) -> PlannedEnv:
        return self._jobs.result(("example", name))
