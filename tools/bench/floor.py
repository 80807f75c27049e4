"""The floor model: what a workflow cannot avoid paying. For one run of a workflow:

    floor = P x V + E x S

P: provider-loading terraform commands the run issued; V: seconds of a bare `terraform validate` of the
local env (in a separate copy of terraform/, provider loaded, no API call), measured right after the
run; E: emulator start-ups the run performed; S: seconds of one emulator start-up (fresh state folder,
free port, until healthy), measured right after the run. The workflow's floor is the median over runs
of this; ratio = median seconds / floor. Beside it, the launch floor counts plugin starts instead of
commands (L x V / plugin starts of that validate + E x S), because a plan starts the provider three
times where validate starts it twice: a plan doing nothing at all is ~1.5 x V. Commands that run in
parallel (test-plan) are all counted, so a ratio below 1 is possible there; a workflow without
provider-loading commands or emulator start-ups (verify) has no floor, only a target in seconds.

FloorProbe takes both samples (V and S) right after a run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from ssepatterns.emulator import control
from ssepatterns.errors import ProjectError
from ssepatterns.provider_mirror import find_provider_mirror
from tools.bench.watcher import MARKER_VAR, ProcessWatcher


def floor_seconds(
    provider_commands: int,
    validate_seconds: float | None,
    emulator_starts: int,
    emulator_start_seconds: float | None,
) -> float | None:
    """P x V + E x S (see the module docstring); None when a needed sample is missing or nothing counts."""
    if provider_commands and validate_seconds is None:
        return None
    if emulator_starts and emulator_start_seconds is None:
        return None
    floor = provider_commands * (validate_seconds or 0.0) + emulator_starts * (emulator_start_seconds or 0.0)
    return floor or None


class FloorProbe:
    """Bare `terraform validate` of the local env in a separate copy of terraform/, and a bare emulator
    start-up: what a workflow cannot avoid paying."""

    def __init__(self, work: Path, real_terraform: str) -> None:
        self.work = work
        self.terraform = real_terraform
        self.envdir = work / "terraform" / "envs" / "local"
        self.samples: dict[str, list[float]] = {
            "terraform_validate": [],
            "validate_provider_launches": [],
            "emulator_start": [],
        }

    def prepare(self, source: Path) -> None:
        shutil.copytree(
            source / "terraform",
            self.work / "terraform",
            ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "*.tfplan"),
        )
        command = [self.terraform, "init", "-input=false", "-no-color", "-lockfile=readonly"]
        mirror = find_provider_mirror(os.environ)
        if mirror:
            command.append(f"-plugin-dir={mirror}")
        self._terraform(command, "terraform init for the floor probe")

    def validate(self) -> tuple[float, int]:
        """Seconds of a bare validate, and how many times it started the provider plugin."""
        marker = uuid.uuid4().hex
        with ProcessWatcher(marker) as watcher:
            started = time.monotonic()
            self._terraform([self.terraform, "validate", "-no-color"], "bare terraform validate", marker)
            seconds = time.monotonic() - started
        self.samples["terraform_validate"].append(round(seconds, 2))
        self.samples["validate_provider_launches"].append(len(watcher.providers))
        return seconds, len(watcher.providers)

    def emulator_start(self) -> float:
        state = Path(tempfile.mkdtemp(prefix="emulator-", dir=self.work))
        cfg = control.EmulatorConfig(port=control.free_port(), state_dir=state)
        started = time.monotonic()
        try:
            control.start(cfg)
            seconds = time.monotonic() - started
        finally:
            control.stop(cfg)
            shutil.rmtree(state, ignore_errors=True)
        self.samples["emulator_start"].append(round(seconds, 2))
        return seconds

    def _terraform(self, command: list[str], what: str, marker: str = "") -> None:
        env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", MARKER_VAR: marker}
        if not Path(env.get("TF_CLI_CONFIG_FILE", "/")).is_file():
            env.pop("TF_CLI_CONFIG_FILE", None)  # as ssepatterns.terraform does: a missing one only warns
        result = subprocess.run(
            command, cwd=self.envdir, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        if result.returncode != 0:
            raise ProjectError(f"{what} failed (exit {result.returncode}):\n{result.stderr[-2000:]}")
