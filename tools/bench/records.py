"""One run of a workflow (its terraform commands, start-ups, floor samples and critical path) and the
summary of a workflow's runs: medians, floor, ratio, target met; both as JSON."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tools.bench.critical_path import CriticalPath
from tools.bench.figures import median, rounded, span
from tools.bench.floor import floor_seconds
from tools.bench.shim import TerraformCall, busy_seconds
from tools.bench.workflows import Workflow


@dataclass
class RunRecord:
    workflow: str
    seconds: float
    exit_code: int
    calls: list[TerraformCall] = field(default_factory=list)
    emulator_starts: int = 0
    provider_launches: int = 0
    validate_seconds: float | None = None  # floor sample taken right after this run
    validate_launches: int = 0  # provider plugin starts of that bare validate (2 with Terraform 1.11)
    emulator_start_seconds: float | None = None  # floor sample taken right after this run
    steps: list[tuple[str, float]] = field(default_factory=list)
    slow_resources: list[tuple[str, str, float]] = field(default_factory=list)
    critical_path: CriticalPath | None = None  # of the run's applies, when they did anything
    load_average: float | None = None  # 1-minute load average when the run started
    log: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def provider_commands(self) -> int:
        return sum(call.loads_provider for call in self.calls)

    @property
    def floor(self) -> float | None:
        return floor_seconds(
            self.provider_commands, self.validate_seconds, self.emulator_starts, self.emulator_start_seconds
        )

    @property
    def launch_floor(self) -> float | None:
        """The floor counted in provider plugin starts instead of commands: a plan starts the provider
        three times where validate starts it twice. Reported beside the floor, not instead of it."""
        if not self.validate_launches or self.validate_seconds is None:
            return None
        per_launch = self.validate_seconds / self.validate_launches
        return floor_seconds(
            self.provider_launches, per_launch, self.emulator_starts, self.emulator_start_seconds
        )

    @property
    def floor_with_waits(self) -> float | None:
        """The floor plus the longest provider-imposed chain of the run's applies: what the run would
        take if only terraform's start-ups, the emulator's and the provider's own waits cost time."""
        if self.floor is None or self.critical_path is None:
            return None
        return self.floor + self.critical_path.chain_seconds

    def terraform_seconds(self) -> tuple[float, float]:
        """Wall time with a provider-loading terraform command running, and with only cheap ones
        running: with the rest of the run, a partition of its time even when commands overlap."""
        spans = [(call.started, call.started + call.seconds, call.loads_provider) for call in self.calls]
        loading = busy_seconds((start, end) for start, end, loads in spans if loads)
        return loading, busy_seconds((start, end) for start, end, _ in spans) - loading

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 2),
            "exit_code": self.exit_code,
            "floor_seconds": rounded(self.floor),
            "launch_floor_seconds": rounded(self.launch_floor),
            "validate_seconds": rounded(self.validate_seconds),
            "validate_provider_launches": self.validate_launches,
            "emulator_start_seconds": rounded(self.emulator_start_seconds),
            "emulator_starts": self.emulator_starts,
            "provider_launches": self.provider_launches,
            "terraform_provider_loading_seconds": round(self.terraform_seconds()[0], 2),
            "terraform_other_seconds": round(self.terraform_seconds()[1], 2),
            "terraform_commands": [
                {
                    "args": list(call.args),
                    "cwd": call.cwd,
                    "exit_code": call.exit_code,
                    "seconds": round(call.seconds, 2),
                    "loads_provider": call.loads_provider,
                    "provider_launches": call.provider_launches,
                }
                for call in self.calls
            ],
            "steps": [[title, seconds] for title, seconds in self.steps],
            "slow_resources": [list(item) for item in self.slow_resources],
            "floor_with_waits_seconds": rounded(self.floor_with_waits),
            "critical_path": None if self.critical_path is None else self.critical_path.to_json(),
            "load_average": self.load_average,
            "log": self.log,
        }


@dataclass
class Summary:
    workflow: Workflow
    runs: list[RunRecord]
    skipped: str = ""  # why the workflow was not measured, if it was not

    @property
    def ok_runs(self) -> list[RunRecord]:
        return [run for run in self.runs if run.ok]

    @property
    def measured(self) -> list[RunRecord]:
        """The successful runs; when none succeeded, the failed ones that got going (their time still
        says something, and the table flags it), rather than no figure at all."""
        return self.ok_runs or [run for run in self.runs if run.seconds > 0]

    @property
    def median_seconds(self) -> float | None:
        return median(run.seconds for run in self.measured)

    @property
    def floor(self) -> float | None:
        return median(run.floor for run in self.measured)

    @property
    def ratio(self) -> float | None:
        seconds, floor = self.median_seconds, self.floor
        return seconds / floor if seconds is not None and floor else None

    def _critical(self, figure: str) -> float | None:
        return median(
            getattr(run.critical_path, figure) for run in self.measured if run.critical_path is not None
        )

    @property
    def critical_path_ratio(self) -> float | None:
        return self._critical("ratio")

    @property
    def floor_with_waits(self) -> float | None:
        return median(run.floor_with_waits for run in self.measured)

    @property
    def met(self) -> bool | None:
        target = self.workflow.target
        return None if target is None else target.met(self.median_seconds, self.ratio)

    @property
    def median_run(self) -> RunRecord | None:
        """The successful run closest to the median: its steps explain the median."""
        seconds = self.median_seconds
        return None if seconds is None else min(self.measured, key=lambda run: abs(run.seconds - seconds))

    def counts(self) -> str:
        """provider-loading/all terraform commands; a range when runs differed."""
        runs = self.measured
        if not runs:
            return "-"
        loading = sorted({run.provider_commands for run in runs})
        every = sorted({len(run.calls) for run in runs})
        return f"{span(loading)}/{span(every)}"

    def to_json(self) -> dict[str, Any]:
        target = self.workflow.target
        run = self.median_run
        return {
            "title": self.workflow.title,
            "command": "./inv " + " ".join(self.workflow.task),
            "precondition": self.workflow.precondition,
            "skipped": self.skipped or None,
            "runs": [run.to_json() for run in self.runs],
            "failed_runs": len(self.runs) - len(self.ok_runs),
            "figures_from_failed_runs": bool(self.runs) and not self.ok_runs,
            "median_seconds": rounded(self.median_seconds),
            "floor_seconds": rounded(self.floor),
            "ratio": rounded(self.ratio),
            "apply_walk_seconds": rounded(self._critical("walk_seconds")),
            "provider_chain_seconds": rounded(self._critical("chain_seconds")),
            "critical_path_ratio": rounded(self.critical_path_ratio),
            "floor_with_waits_seconds": rounded(self.floor_with_waits),
            "ratio_to_floor_with_waits": rounded(
                self.median_seconds / self.floor_with_waits
                if self.median_seconds is not None and self.floor_with_waits
                else None
            ),
            "terraform_commands": self.counts(),
            "terraform_subcommands": dict(Counter(call.subcommand for call in run.calls)) if run else {},
            "target": None if target is None else {"kind": target.kind, "limit": target.limit},
            "target_text": None if target is None else target.describe(),
            "met": self.met,
        }
