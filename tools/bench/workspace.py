"""The workspace: a copy of the working tree where the workflows run, with the counting shim first on
PATH and an emulator of its own; it brings the copy into each workflow's precondition (untimed) and
times one run."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ssepatterns.emulator import control
from ssepatterns.errors import ProjectError
from ssepatterns.paths import REPO_ROOT
from ssepatterns.working_copy import copy_working_tree
from tools.bench.critical_path import CriticalPath, critical_path, parse_operations, state_dependencies
from tools.bench.machine import load_average
from tools.bench.records import RunRecord
from tools.bench.shim import parse_resource_times, parse_shim_log, parse_steps, write_shim
from tools.bench.watcher import MARKER_VAR, ProcessWatcher, stop_marked_emulators
from tools.bench.workflows import Workflow

RUN_TIMEOUT = 30 * 60  # seconds; a hung workflow must not hang the bench


PORT_VAR = "SSE_PATTERNS_BENCH_PORT"  # the bench's emulator port (default: a free one)


def bench_port() -> int:
    raw = os.environ.get(PORT_VAR, "").strip()
    if not raw:
        return control.free_port()
    if not raw.isdigit() or not 1024 <= int(raw) <= 65535:
        raise ProjectError(f"{PORT_VAR} must be an integer from 1024 to 65535, got {raw!r}")
    return int(raw)


class Workspace:
    """A copy of the working tree where the workflows run, with the shim on PATH and its own emulator."""

    def __init__(self, root: Path, real_terraform: str, logs: Path) -> None:
        self.root = root
        self.logs = logs
        self.port = bench_port()
        self.marker_prefix = uuid.uuid4().hex[:12]
        self.shim_log = root.parent / "terraform-calls.log"
        write_shim(root.parent / "shim", real_terraform, self.shim_log)
        self.emulator = control.EmulatorConfig(port=self.port, state_dir=root / ".ministack")
        self.state = "unknown"  # of the stack: "up", "down" or "unknown"
        self.extra_env: dict[str, str] = {}  # for every later command (e.g. a TF_VAR_ the bench sets)
        self._count = 0

    @classmethod
    def create(cls, parent: Path, real_terraform: str, logs: Path) -> Workspace:
        root = parent / "checkout"
        copy_working_tree(REPO_ROOT, root)
        workspace = cls(root, real_terraform, logs)
        rc, _ = workspace.inv(("--list",), "setup-list")
        if rc != 0:
            raise ProjectError(f"./inv --list failed in the bench copy: see {workspace.logs}/setup-list.log")
        return workspace

    def env(self, marker: str) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(self.root.parent / "shim"), env.get("PATH", os.defpath)])
        env[control.PORT_ENV_VAR] = str(self.port)
        env[control.STATE_DIR_ENV_VAR] = str(self.emulator.state_dir)
        env[MARKER_VAR] = marker
        env.update(self.extra_env)
        return env

    def tasks(self) -> set[str]:
        log = self.logs / "setup-list.log"
        return set(re.findall(r"^ {2}(\S+)", log.read_text(), re.MULTILINE)) if log.is_file() else set()

    def inv(self, args: Sequence[str], label: str) -> tuple[int, float]:
        """Run ./inv args in the copy, output to logs/label.log; (exit code, seconds)."""
        rc, seconds, _ = self._run(args, label)
        return rc, seconds

    def python(self, args: Sequence[str], label: str) -> tuple[int, float]:
        """Run the project's Python (its .venv) with args in the copy, as inv() does."""
        rc, seconds, _ = self._run(args, label, program=str(self.root / ".venv" / "bin" / "python"))
        return rc, seconds

    def measure(self, workflow: Workflow, run_number: int) -> RunRecord:
        """One timed run of the workflow, its terraform commands and process starts counted."""
        label = f"{workflow.key}-{run_number}"
        self.shim_log.write_text("")
        for stale in self.shim_log.parent.glob(self.shim_log.name + ".*.lines"):
            stale.unlink()
        load = load_average()
        rc, seconds, watcher = self._run(workflow.task, label)
        log_path = self.logs / f"{label}.log"
        text = log_path.read_text(errors="replace")
        return RunRecord(
            workflow=workflow.key,
            seconds=seconds,
            exit_code=rc,
            calls=[
                replace(call, provider_launches=watcher.launches_by_shim()[call.pid])
                for call in parse_shim_log(self.shim_log.read_text())
            ],
            emulator_starts=len(watcher.emulators),
            provider_launches=len(watcher.providers),
            steps=parse_steps(text),
            slow_resources=parse_resource_times(text)[:10],
            critical_path=self._critical_path(),
            load_average=load,
            log=str(log_path),
        )

    def _critical_path(self) -> CriticalPath | None:
        """Of the applies the last run made, with the dependencies the local env's state records."""
        stamped = "\n".join(
            path.read_text(errors="replace")
            for path in sorted(self.shim_log.parent.glob(self.shim_log.name + ".*.lines"))
        )
        state_file = self.root / "terraform" / "envs" / "local" / "terraform.tfstate"
        try:
            state = json.loads(state_file.read_text())
        except (OSError, ValueError):
            state = {}
        return critical_path(parse_operations(stamped), state_dependencies(state))

    def _run(
        self, args: Sequence[str], label: str, program: str | None = None
    ) -> tuple[int, float, ProcessWatcher]:
        self._count += 1
        marker = f"{self.marker_prefix}-{self._count}"
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{label}.log", "w") as log, ProcessWatcher(marker) as watcher:
            started = time.monotonic()
            proc = subprocess.Popen(
                [program or str(self.root / "inv"), *args],
                cwd=self.root,
                env=self.env(marker),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: a timeout or Ctrl-C here stops all of it
            )
            try:
                rc = proc.wait(timeout=RUN_TIMEOUT)
            except BaseException:
                _terminate_group(proc)
                raise
            seconds = time.monotonic() - started
        return rc, seconds, watcher

    # -- preconditions (untimed) ---------------------------------------------------------------------

    def make_cold(self) -> None:
        """Emulator stopped; no emulator state, no .terraform/, no state, no build/."""
        control.stop(self.emulator)
        for path in (
            self.emulator.state_dir,
            self.root / "build",
            self.root / "terraform" / "envs" / "local" / ".terraform",
        ):
            shutil.rmtree(path, ignore_errors=True)
        for state in (self.root / "terraform" / "envs" / "local").glob("terraform.tfstate*"):
            state.unlink()
        self.state = "down"

    def ensure(self, precondition: str, label: str) -> bool:
        """Bring the copy into the precondition; False (and a log) when that failed."""
        if precondition == "cold":
            self.make_cold()
            return True
        if precondition == "up" and self.state != "up":
            # Deployed is enough: not `up`, whose verify stage may fail without the stack being down.
            rc, _ = self.inv(("emulator.start",), f"{label}-setup-emulator")
            if rc == 0:
                rc, _ = self.inv(("apply",), f"{label}-setup-apply")
            self.state = "up" if rc == 0 else "unknown"
            return rc == 0
        if precondition == "down" and self.state != "down":
            rc, _ = self.inv(("down",), f"{label}-setup-down")
            if rc != 0:
                self.make_cold()
            self.state = "down"
        return True

    def after(self, workflow: Workflow, ok: bool) -> None:
        """The stack's state after a workflow ran."""
        if workflow.key in ("up-cold", "apply-warm"):
            self.state = "up" if ok else "unknown"  # verify changes no resource: the state stays
        elif workflow.key in ("down", "test"):
            self.state = "down" if ok else "unknown"

    def close(self) -> None:
        with contextlib.suppress(ProjectError, OSError):
            control.stop(self.emulator)
        stop_marked_emulators(self.marker_prefix)


def _terminate_group(proc: subprocess.Popen[Any]) -> None:
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait)
            return
