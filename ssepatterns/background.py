"""A task run beside another: its own process, its output kept in a log and shown when it ends.

`./inv test` runs the rehearsal of the aws env (own emulator, own folders) beside the end-to-end stage
of the local env: most of either is waiting on the provider's polling, so together they take little
longer than the longer of the two. The log is printed whole afterwards, so the two never interleave.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from ssepatterns.errors import ProjectError
from ssepatterns.paths import REPO_ROOT


@contextlib.contextmanager
def beside(task: list[str], log: Path, title: str, grace: float = 120) -> Iterator[None]:
    """Run `./inv <task>` in the background for the duration of the block, then wait for it, print its
    log and fail if it failed. If the block fails, the task is interrupted (SIGINT: it cleans up its
    emulator) and waited for."""
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "invoke", "--search-root", str(REPO_ROOT), *task]
    with log.open("w", encoding="utf-8") as sink:
        proc = subprocess.Popen(
            command, cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT
        )
    print(f"    {title}: started beside this stage (log {log})", flush=True)
    try:
        yield
    except BaseException:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    rc = proc.wait()
    print(f"==> {title} (ran beside the stage above): its output", flush=True)
    sys.stdout.write(log.read_text(encoding="utf-8", errors="replace"))
    sys.stdout.flush()
    if rc != 0:
        raise ProjectError(f"{title} failed (exit {rc}): see its output above, or {log}")
