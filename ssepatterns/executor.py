"""The Executor every ./inv command runs its tasks with (invoke.yaml: tasks.executor_class): the one
place where a ProjectError becomes one line on stderr and exit code 1. A task needs no decorator of its
own, so a new one cannot forget it. (Its own module: the tooling's other processes, such as the
emulator's launcher, import ssepatterns.errors without paying for invoke.)"""

from __future__ import annotations

from typing import Any

from invoke import Executor, Exit, ParserContext, Result, Task

from ssepatterns.errors import ProjectError


class OneLineErrors(Executor):
    """invoke's Executor, but a ProjectError from any task (or a task it calls) ends the command with
    `error: <message>` on stderr and exit code 1 instead of a traceback."""

    def execute(self, *tasks: str | tuple[str, dict[str, Any]] | ParserContext) -> dict[Task[Any], Result]:
        try:
            return super().execute(*tasks)
        except ProjectError as error:
            raise Exit(f"error: {error}", code=1) from None
