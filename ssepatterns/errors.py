"""Errors the tasks report to the user as one clear line and a non-zero exit, never a traceback
(the one place that turns them into that line: ssepatterns.executor)."""


class ProjectError(Exception):
    """Something the user can act on: bad input, a missing tool, an emulator that will not start."""
