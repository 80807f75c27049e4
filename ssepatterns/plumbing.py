"""Plumbing shared by the tasks, the tooling and the tests: environment scrubbing, the teeing runner
(a child's output shown live, captured, and kept in a log), and closing the boto3 clients one made.

(A free port for a throwaway emulator is ssepatterns.emulator.control.free_port; the emulator's boto3
clients are control.client and control.clients, the latter a Clients.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, TextIO


def scrubbed_environ(
    prefixes: Sequence[str], names: Collection[str] = (), base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """`base` (default os.environ) without every variable whose name starts with one of `prefixes`
    (e.g. "AWS_", "TF_VAR_", "SSE_PATTERNS_") or is one of `names`. Never changes `base`."""
    inherited = os.environ if base is None else base
    dropped = tuple(prefixes)
    return {
        name: value for name, value in inherited.items() if not name.startswith(dropped) and name not in names
    }


class Clients:
    """Makes boto3 clients with `make` (same arguments) and closes every one it made at close(), or at
    the end of a `with` block. Close them before an emulator stops: each idle keep-alive TLS connection
    of an open client delays its graceful stop by 30 s (ssepatterns.emulator.control.stop)."""

    def __init__(self, make: Callable[..., Any]) -> None:
        self._make = make
        self._open: list[Any] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        made = self._make(*args, **kwargs)
        self._open.append(made)
        return made

    def close(self) -> None:
        for made in self._open:
            made.close()
        self._open.clear()

    def __enter__(self) -> Clients:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


@dataclass(frozen=True)
class Teed:
    """What tee() saw: the exit code and everything the child wrote (stderr is "" when merged)."""

    returncode: int
    stdout: str
    stderr: str


def tee(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    show_stdout: bool = True,
    show_stderr: bool = True,
    merge_stderr: bool = False,
    stdin: int | None = subprocess.DEVNULL,
) -> Teed:
    """Run `command` in `cwd` and wait for it. Its output is captured and, line by line as it arrives,
    shown (stdout on sys.stdout when `show_stdout`, stderr on sys.stderr when `show_stderr`) and
    written to `log` when given. `merge_stderr`: stderr joins stdout (one stream, in its order).
    `stdin`: DEVNULL by default (never wait on a prompt); None inherits ours.

    On Ctrl-C the child got the same SIGINT: tee waits for it to stop (terraform then releases its
    state lock and writes its partial state), then raises the KeyboardInterrupt.
    """
    sink = log.open("w", encoding="utf-8") if log is not None else None
    lock = threading.Lock()
    out: list[str] = []
    err: list[str] = []

    def pump(pipe: IO[str], show: bool, shown_on: TextIO, chunks: list[str]) -> None:
        for line in pipe:
            chunks.append(line)
            with lock:
                if show:
                    shown_on.write(line)
                    shown_on.flush()
                if sink is not None:
                    sink.write(line)
                    sink.flush()

    try:
        with subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        ) as proc:
            assert proc.stdout is not None
            pumps = [threading.Thread(target=pump, args=(proc.stdout, show_stdout, sys.stdout, out))]
            if proc.stderr is not None:
                pumps.append(threading.Thread(target=pump, args=(proc.stderr, show_stderr, sys.stderr, err)))
            for thread in pumps:
                thread.start()
            try:
                rc = proc.wait()
            except KeyboardInterrupt:
                proc.wait()
                raise
            finally:
                for thread in pumps:
                    thread.join()
    finally:
        if sink is not None:
            sink.close()
    return Teed(rc, "".join(out), "".join(err))
