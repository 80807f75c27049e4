"""Processes a run starts, seen through /proc: emulator launchers and provider plugins carrying the run's
marker variable, each plugin attributed to the terraform command (its shim) that started it."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

MARKER_VAR = "SSE_BENCH_MARKER"  # inherited by everything a run starts; how /proc tells them apart
_LAUNCHER_MARK = "ssepatterns.emulator.launcher"
_PROVIDER_MARK = "terraform-provider-"


class ProcessWatcher:
    """Counts emulator launchers and provider plugins started by one run (they carry its marker)."""

    def __init__(self, marker: str, interval: float = 0.1) -> None:
        self._entry = f"{MARKER_VAR}={marker}".encode()
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-watcher", daemon=True)
        self.emulators: set[int] = set()
        self.providers: dict[int, int] = {}  # plugin pid -> its grandparent (the shim around terraform)

    def __enter__(self) -> ProcessWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.scan()  # whatever appeared since the last tick

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.scan()

    def scan(self) -> None:
        for pid, cmdline in _processes():
            if _LAUNCHER_MARK in cmdline and pid not in self.emulators and self._carries_marker(pid):
                self.emulators.add(pid)
            elif _PROVIDER_MARK in cmdline and pid not in self.providers and self._carries_marker(pid):
                self.providers[pid] = _parent(_parent(pid))

    def launches_by_shim(self) -> Counter[int]:
        return Counter(self.providers.values())

    def _carries_marker(self, pid: int) -> bool:
        try:
            return self._entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            return False


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _processes() -> Iterator[tuple[int, str]]:
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ")
                    yield int(entry.name), cmdline.decode(errors="replace")


def stop_marked_emulators(prefix: str) -> None:
    """Stop emulators a run started and left behind (an interrupted test session): by pid, ours only."""
    entry = f"{MARKER_VAR}={prefix}".encode()
    for pid, cmdline in _processes():
        if _LAUNCHER_MARK not in cmdline:
            continue
        with contextlib.suppress(OSError):
            if any(item.startswith(entry) for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")):
                os.killpg(pid, signal.SIGTERM)
