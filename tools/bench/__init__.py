"""./inv bench: how long the daily workflows take, next to the floor that terraform itself sets.

Every terraform command that touches the AWS provider pays seconds of provider start-up (a 700 MB binary
that builds its schema on every launch). That floor, not our code, should dominate, so each workflow is
measured next to its floor, in the same run, and only the ratio is compared (these machines are noisy).

What is measured. Each workflow runs as a subprocess `./inv <task>`, exactly what a user types, N times
(median reported), from its own precondition, which is set up untimed before each run:

    cold up      ./inv up      emulator stopped, no emulator state, no .terraform/, no state, no build/:
                               a fresh clone whose virtualenvs ./inv has already made
    warm apply   ./inv apply   the stack up, nothing changed
    test-plan    ./inv test-plan  (any state; it plans in its own copy against its own emulator)
    verify       ./inv verify  the stack up
    down         ./inv down    the stack up
    test         ./inv test    the stack down, emulator stopped, .terraform/ current

Where. Never in this checkout: the bench copies the working tree (tracked and untracked, not ignored
files: `git ls-files -co --exclude-standard`, so uncommitted work is measured too) to a temporary folder,
links the existing virtualenvs into it, and runs there with an emulator on a free port and state of its
own. The user's emulator, Terraform state and build/ are never touched, so there is nothing to refuse.

Counting. A shim named `terraform` goes first on PATH: it logs each command (start, end, exit code, its
pid, directory, arguments) and runs the real binary. A watcher thread scans /proc for processes carrying
the run's marker variable: emulator launchers, and provider plugins, each attributed to the terraform
command that started it (the plugin's grandparent is that command's shim). A command is provider-loading
when it was seen starting the provider (Terraform 1.11 with hashicorp/aws 5.100: validate 2 plugin
starts, plan 3, plan -destroy 4, apply of a saved plan 2, show -json 1; output, init, fmt, version 0,
though each still spends ~0.55 s hashing the provider package); unwatched, by its subcommand.

The floor model. For one run of a workflow:

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

Runtime on 2 cores: about 12 minutes for run(3, test_runs=1); each more ./inv test run adds 2.5 minutes.
Linux only (/proc). Every run's output is kept in build/bench/logs/; the report goes to
build/bench/bench.json unless a path is given.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ssepatterns import tables
from ssepatterns.emulator import control
from ssepatterns.errors import ProjectError
from ssepatterns.paths import BUILD_DIR, REPO_ROOT
from ssepatterns.provider_mirror import find_provider_mirror
from ssepatterns.working_copy import copy_working_tree

PROVIDER_LOADING = frozenset(
    {"plan", "apply", "destroy", "validate", "refresh", "import", "show", "console", "test"}
)
MARKER_VAR = "SSE_BENCH_MARKER"  # inherited by everything a run starts; how /proc tells them apart
RUN_TIMEOUT = 30 * 60  # seconds; a hung workflow must not hang the bench
_LAUNCHER_MARK = "ssepatterns.emulator.launcher"
_PROVIDER_MARK = "terraform-provider-"


# --- the workflows ---------------------------------------------------------------------------------


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


WORKFLOWS: tuple[Workflow, ...] = (
    Workflow("up-cold", "cold up", ("up",), "cold", Target("ratio", 2.8)),
    Workflow("apply-warm", "warm apply (no changes)", ("apply",), "up", Target("ratio", 1.2)),
    Workflow("verify", "verify", ("verify",), "up", Target("seconds", 15)),
    Workflow("down", "down", ("down",), "up"),
    Workflow("test-plan", "test-plan (both envs)", ("test-plan",), "any", Target("seconds", 25)),
    Workflow("test", "test (everything)", ("test",), "down"),
)
# Run as rounds (up, apply, verify, down leave each other's preconditions behind); the rest after.
_ROUNDS = ("up-cold", "apply-warm", "verify", "down")


# --- terraform commands: the counting shim and its log -------------------------------------------------


@dataclass(frozen=True)
class TerraformCall:
    args: tuple[str, ...]
    cwd: str
    exit_code: int
    started: float  # epoch seconds
    seconds: float
    pid: int = 0  # the shim's: the provider plugins' grandparent
    provider_launches: int | None = None  # plugin starts seen under this command; None: not watched

    @property
    def subcommand(self) -> str:
        return subcommand(self.args)

    @property
    def loads_provider(self) -> bool:
        """Seen starting the provider, or (not watched) a subcommand that does. The observation wins:
        a `plan` of a configuration without providers (a unit test's) costs no start-up."""
        if self.provider_launches is not None:
            return self.provider_launches > 0
        return loads_provider(self.args)


def subcommand(args: Sequence[str]) -> str:
    """The subcommand: the first argument that is not a global option (-chdir=..., -version)."""
    return next((arg for arg in args if not arg.startswith("-")), "")


def loads_provider(args: Sequence[str]) -> bool:
    name = subcommand(args)
    if name == "providers":
        return "schema" in args
    return name in PROVIDER_LOADING


SHIM_TEMPLATE = """#!/bin/bash
# terraform counting shim written by tools.bench: log this command, then run the real terraform.
# An apply's output also goes through a line stamper (the time each line was printed): where the
# apply walk spent its time. bash for pipefail; the real terraform stays this shell's child (a
# pipeline's simple command is exec'd in the forked child), so its plugins' grandparent is still $$.
start=$(date +%s.%N)
sub=
for arg in "$@"; do case $arg in -*) ;; *) sub=$arg; break ;; esac; done
if [ "$sub" = apply ]; then
  set -o pipefail
  {real} "$@" | {python} -S -I {stamper} {log}.$$.lines
  rc=$?
else
  {real} "$@"
  rc=$?
fi
end=$(date +%s.%N)
IFS=$(printf '\\037')
printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$start" "$end" "$rc" "$$" "$PWD" "$*" >> {log}
exit $rc
"""

# Copies stdin to stdout line by line as it comes, and each line with the time it came to a file.
STAMPER = """import sys, time
with open(sys.argv[1], "a", encoding="utf-8") as stamps:
    for line in sys.stdin.buffer:
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
        stamps.write("%.3f\\t%s\\n" % (time.time(), line.decode("utf-8", "replace").rstrip()))
"""


def write_shim(directory: Path, real_terraform: str, log: Path) -> Path:
    """A `terraform` in `directory` that appends one line per command to `log` and runs the real one;
    an apply's output lines also go, stamped with their time, to `<log>.<shim pid>.lines`."""
    directory.mkdir(parents=True, exist_ok=True)
    stamper = directory / "stamp_lines.py"
    stamper.write_text(STAMPER)
    shim = directory / "terraform"
    shim.write_text(
        SHIM_TEMPLATE.format(
            real=shlex.quote(real_terraform),
            log=shlex.quote(str(log)),
            python=shlex.quote(sys.executable),
            stamper=shlex.quote(str(stamper)),
        )
    )
    shim.chmod(0o755)
    return shim


def parse_shim_log(text: str) -> list[TerraformCall]:
    """The commands in a shim log; a malformed line (an argument with a newline in it) is skipped."""
    calls = []
    for line in text.splitlines():
        fields = line.split("\t", 5)
        if len(fields) != 6:
            continue
        try:
            start, end, code, pid = float(fields[0]), float(fields[1]), int(fields[2]), int(fields[3])
        except ValueError:
            continue
        args = tuple(arg for arg in fields[5].split("\x1f") if arg)
        calls.append(TerraformCall(args, fields[4], code, start, max(end - start, 0.0), pid))
    return sorted(calls, key=lambda call: call.started)


def busy_seconds(intervals: Iterable[tuple[float, float]]) -> float:
    """Length of the union of (start, end) intervals: wall time during which any command ran."""
    total = 0.0
    current: tuple[float, float] | None = None
    for start, end in sorted(intervals):
        if current is None or start > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = (start, end)
        else:
            current = (current[0], max(current[1], end))
    if current is not None:
        total += current[1] - current[0]
    return total


# --- what the workflow's own output says about where the time went -----------------------------------

_STEP = re.compile(r"^<== (?P<title>.+?)(?:: failed after | \()(?P<seconds>\d+(?:\.\d+)?) s\)?$")
_RESOURCE = re.compile(
    r"^(?P<address>\S.*?): (?P<action>Creation|Destruction|Modifications|Read) complete after "
    r"(?:(?P<m>\d+)m)?(?P<s>\d+)s"
)


def parse_steps(log: str) -> list[tuple[str, float]]:
    """(title, seconds) of each step the tasks announced (ssepatterns.steps prints `<== title (N s)`)."""
    return [
        (match["title"], float(match["seconds"])) for line in log.splitlines() if (match := _STEP.match(line))
    ]


def parse_resource_times(log: str, minimum: float = 1.0) -> list[tuple[str, str, float]]:
    """(address, action, seconds) of resources terraform reported as taking at least `minimum`, slowest
    first: where an apply spends the time the provider's start-up does not explain."""
    found = []
    for line in log.splitlines():
        match = _RESOURCE.match(line)
        if match:
            seconds = int(match["m"] or 0) * 60 + int(match["s"])
            if seconds >= minimum:
                found.append((match["address"], match["action"], float(seconds)))
    return sorted(found, key=lambda item: -item[2])


# --- the critical path of an apply ---------------------------------------------------------------------
#
# The apply walk is the wall time from the first resource operation an apply starts to the last one it
# completes (from the shim's stamped lines: "X: Creating..." to "X: Creation complete after ..."). The
# dependencies are the ones Terraform recorded in the state for each resource instance. The longest
# provider-imposed chain is the longest path through those dependencies where each resource weighs
# the time the provider spent on it (its API calls and its own polling and propagation waits: the KMS
# key's ~12 s, a function's polling until Active), and a resource that runs our code (terraform_data:
# the BlockedEncryptionTypes helper) weighs nothing. walk / chain is then 1 when nothing in the walk
# waited for anything but the provider, and grows with every wait of ours and every resource queued
# behind one it does not need.

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_OPERATION = re.compile(
    r"^(?P<address>[^\s:][^:]*?): (?:(?P<start>Creating|Modifying|Destroying|Reading)\.\.\.|"
    r"(?P<end>Creation|Modifications|Destruction|Read) complete after)"
)
_INSTANCE_KEY = re.compile(r"\[[^\]]*\]")
OURS = ("terraform_data.", "null_resource.")  # resources whose time is our code (a provisioner)


@dataclass(frozen=True)
class Operation:
    address: str  # the resource instance, as terraform prints it
    started: float  # epoch seconds
    ended: float

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def provider_imposed(self) -> bool:
        return not _resource_part(self.address).startswith(OURS)


def parse_operations(stamped: str) -> list[Operation]:
    """The resource operations of an apply from its stamped output (`<epoch>\\t<line>`), in start order;
    one that never completed (a failed or killed apply) is left out."""
    started: dict[str, float] = {}
    done: list[Operation] = []
    for line in stamped.splitlines():
        stamp, _, text = line.partition("\t")
        match = _OPERATION.match(_ANSI.sub("", text).strip())
        if not match:
            continue
        try:
            when = float(stamp)
        except ValueError:
            continue
        address = match["address"]
        if match["start"]:
            started.setdefault(address, when)
        elif address in started:
            done.append(Operation(address, started.pop(address), when))
    return sorted(done, key=lambda op: op.started)


def _resource_part(address: str) -> str:
    """`aws_s3_bucket.this` of `module.a["k"].module.b.aws_s3_bucket.this[0]`."""
    parts = re.split(r"\.(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", address)  # dots outside quoted keys
    while parts and parts[0] == "module":
        parts = parts[2:]
    return ".".join(parts)


def state_dependencies(state: dict[str, Any]) -> dict[str, set[str]]:
    """Instance address -> the resource addresses it depends on, as recorded in a Terraform state."""
    found: dict[str, set[str]] = {}
    for resource in state.get("resources", []):
        prefix = f"{resource['module']}." if resource.get("module") else ""
        base = (
            prefix
            + ("data." if resource.get("mode") == "data" else "")
            + f"{resource['type']}.{resource['name']}"
        )
        for instance in resource.get("instances", []):
            key = instance.get("index_key")
            address = base if key is None else f"{base}[{json.dumps(key)}]"
            found[address] = set(instance.get("dependencies", []))
    return found


@dataclass(frozen=True)
class CriticalPath:
    walk_seconds: float
    chain_seconds: float  # provider-imposed
    chain: tuple[tuple[str, float, bool], ...]  # (address, seconds, provider-imposed), in order

    @property
    def ratio(self) -> float | None:
        return self.walk_seconds / self.chain_seconds if self.chain_seconds > 0 else None

    def to_json(self) -> dict[str, Any]:
        return {
            "apply_walk_seconds": round(self.walk_seconds, 2),
            "provider_chain_seconds": round(self.chain_seconds, 2),
            "critical_path_ratio": _rounded(self.ratio),
            "chain": [
                {"address": address, "seconds": round(seconds, 2), "provider_imposed": imposed}
                for address, seconds, imposed in self.chain
            ],
        }


def critical_path(operations: Sequence[Operation], dependencies: dict[str, set[str]]) -> CriticalPath | None:
    """The apply walk and the longest provider-imposed chain through `dependencies` (see above)."""
    if not operations:
        return None
    by_address = {op.address: op for op in operations}

    def instances_of(resource: str) -> list[str]:  # a dependency names a resource; count/for_each expand it
        return [a for a in by_address if a == resource or _INSTANCE_KEY.fullmatch(a.removeprefix(resource))]

    best: dict[str, tuple[float, str | None]] = {}  # address -> (chain seconds ending here, predecessor)
    for op in operations:  # in start order: whatever it depends on ran (and completed) before it
        weight = op.seconds if op.provider_imposed else 0.0
        before = [
            (best[d][0], d)
            for resource in dependencies.get(op.address, ())
            for d in instances_of(resource)
            if d in best
        ]
        top = max(
            before,
            default=(0.0, None),
            key=lambda item: (item[0], by_address[item[1]].ended if item[1] else 0.0),
        )
        best[op.address] = (top[0] + weight, top[1])
    # The heaviest chain; of equal ones, the one that ends last (it shows what of ours followed).
    end = max(best, key=lambda address: (best[address][0], by_address[address].ended))
    chain: list[tuple[str, float, bool]] = []
    cursor: str | None = end
    while cursor is not None:
        op = by_address[cursor]
        chain.append((cursor, op.seconds, op.provider_imposed))
        cursor = best[cursor][1]
    walk = max(op.ended for op in operations) - min(op.started for op in operations)
    return CriticalPath(walk, best[end][0], tuple(reversed(chain)))


# --- one run and the summary of a workflow -------------------------------------------------------------


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
            "floor_seconds": _rounded(self.floor),
            "launch_floor_seconds": _rounded(self.launch_floor),
            "validate_seconds": _rounded(self.validate_seconds),
            "validate_provider_launches": self.validate_launches,
            "emulator_start_seconds": _rounded(self.emulator_start_seconds),
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
            "floor_with_waits_seconds": _rounded(self.floor_with_waits),
            "critical_path": None if self.critical_path is None else self.critical_path.to_json(),
            "load_average": self.load_average,
            "log": self.log,
        }


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


def median(values: Iterable[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


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
        return f"{_span(loading)}/{_span(every)}"

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
            "median_seconds": _rounded(self.median_seconds),
            "floor_seconds": _rounded(self.floor),
            "ratio": _rounded(self.ratio),
            "apply_walk_seconds": _rounded(self._critical("walk_seconds")),
            "provider_chain_seconds": _rounded(self._critical("chain_seconds")),
            "critical_path_ratio": _rounded(self.critical_path_ratio),
            "floor_with_waits_seconds": _rounded(self.floor_with_waits),
            "ratio_to_floor_with_waits": _rounded(
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


def _span(values: Sequence[int]) -> str:
    return str(values[0]) if len(values) == 1 else f"{values[0]}-{values[-1]}"


def _rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _fmt(value: float | None, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.1f}{suffix}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


# --- rendering ----------------------------------------------------------------------------------------


def render_table(summaries: Sequence[Summary]) -> str:
    """The issue's table: workflow, terraform commands, median, floor, ratio, target, met."""
    header = ("workflow", "tf cmds (provider/all)", "median s", "floor s", "ratio", "target", "met?")
    rows = [header]
    for summary in summaries:
        target = summary.workflow.target
        met = summary.met
        if summary.skipped:
            rows.append((summary.workflow.title, "-", "-", "-", "-", "-", f"skipped: {summary.skipped}"))
            continue
        failed = len(summary.runs) - len(summary.ok_runs)
        verdict = "-" if met is None else ("yes" if met else "no")
        if failed:
            verdict += f" ({failed}/{len(summary.runs)} runs failed" + (
                ", figures from them)" if failed == len(summary.runs) else ")"
            )
        rows.append(
            (
                summary.workflow.title,
                summary.counts(),
                _fmt(summary.median_seconds),
                _fmt(summary.floor),
                _ratio(summary.ratio),
                "-" if target is None else target.describe(),
                verdict,
            )
        )
    return tables.columns(rows)


def render_breakdown(summaries: Sequence[Summary]) -> str:
    """Where the median run's time went: terraform (provider-loading / other), the rest, start-ups."""
    rows: list[tuple[str, ...]] = [
        (
            "workflow",
            "median s",
            "tf provider-loading s",
            "tf other s",
            "outside tf s",
            "emulators",
            "provider starts",
            "launch floor s",
        )
    ]
    details: list[str] = []
    for summary in summaries:
        run = summary.median_run
        if run is None:
            continue
        loading, other = run.terraform_seconds()
        rows.append(
            (
                summary.workflow.title,
                f"{run.seconds:.1f}",
                f"{loading:.1f}",
                f"{other:.1f}",
                f"{max(run.seconds - loading - other, 0.0):.1f}",
                str(run.emulator_starts),
                str(run.provider_launches),
                _fmt(run.launch_floor),
            )
        )
        slow_steps = sorted(run.steps, key=lambda step: -step[1])[:6]
        if slow_steps:
            details.append(
                f"{summary.workflow.title}: " + "; ".join(f"{title} {sec:.1f} s" for title, sec in slow_steps)
            )
        for address, action, seconds in run.slow_resources[:5]:
            details.append(f"    {action.lower()} {seconds:.0f} s  {address}")
        path = run.critical_path
        if path is not None:
            details.append(
                f"    apply walk {path.walk_seconds:.1f} s, longest provider-imposed chain "
                f"{path.chain_seconds:.1f} s (walk/chain {_ratio(path.ratio)}; median of runs "
                f"{_ratio(summary.critical_path_ratio)}): "
                + " -> ".join(
                    f"{_resource_part(address)} {seconds:.1f} s" + ("" if imposed else " (ours)")
                    for address, seconds, imposed in path.chain
                )
            )
    return tables.columns(rows) + (
        "\n\nslowest steps of the median run:\n" + "\n".join(details) if details else ""
    )


def report(
    summaries: Sequence[Summary],
    machine: dict[str, Any],
    settings: dict[str, Any],
    samples: dict[str, list[Any]],
) -> dict[str, Any]:
    return {
        "schema": 1,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "settings": settings,
        "floor_model": "floor = provider-loading terraform commands x median bare `terraform validate` "
        "+ emulator start-ups x emulator start-up time, both sampled right after each run",
        "floor_samples": samples,
        "workflows": {summary.workflow.key: summary.to_json() for summary in summaries},
    }


# --- the machine --------------------------------------------------------------------------------------


def machine_info(terraform: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": _proc_field("/proc/cpuinfo", "model name"),
        "memory_gib": None,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "terraform": None,
        "aws_provider": None,
        "ministack": None,
        "load_average_at_start": _load_average(),
    }
    memory = _proc_field("/proc/meminfo", "MemTotal")
    if memory and memory.split()[0].isdigit():
        info["memory_gib"] = round(int(memory.split()[0]) / 2**20, 1)
    with contextlib.suppress(OSError, ValueError, KeyError, subprocess.SubprocessError):
        out = subprocess.run(
            [terraform, "version", "-json"], capture_output=True, text=True, timeout=30
        ).stdout
        info["terraform"] = json.loads(out)["terraform_version"]
    lock = REPO_ROOT / "terraform" / "envs" / "local" / ".terraform.lock.hcl"
    with contextlib.suppress(OSError):
        found = re.search(
            r'"registry.terraform.io/hashicorp/aws"\s*\{\s*version\s*=\s*"([^"]+)"', lock.read_text()
        )
        info["aws_provider"] = found[1] if found else None
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        info["ministack"] = version("ministack")
    return info


def _proc_field(path: str, name: str) -> str | None:
    with contextlib.suppress(OSError):
        for line in Path(path).read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == name:
                return value.strip()
    return None


def _load_average() -> float | None:
    with contextlib.suppress(OSError, AttributeError):
        return round(os.getloadavg()[0], 2)
    return None


# --- processes a run starts, seen through /proc ---------------------------------------------------------


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


def _stop_marked_emulators(prefix: str) -> None:
    """Stop emulators a run started and left behind (an interrupted test session): by pid, ours only."""
    entry = f"{MARKER_VAR}={prefix}".encode()
    for pid, cmdline in _processes():
        if _LAUNCHER_MARK not in cmdline:
            continue
        with contextlib.suppress(OSError):
            if any(item.startswith(entry) for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")):
                os.killpg(pid, signal.SIGTERM)


# --- the workspace: a copy of the checkout, its own emulator --------------------------------------------


class Workspace:
    """A copy of the working tree where the workflows run, with the shim on PATH and its own emulator."""

    def __init__(self, root: Path, real_terraform: str, logs: Path) -> None:
        self.root = root
        self.logs = logs
        self.port = control.free_port()
        self.marker_prefix = uuid.uuid4().hex[:12]
        self.shim_log = root.parent / "terraform-calls.log"
        write_shim(root.parent / "shim", real_terraform, self.shim_log)
        self.emulator = control.EmulatorConfig(port=self.port, state_dir=root / ".ministack")
        self.state = "unknown"  # of the stack: "up", "down" or "unknown"
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
        return env

    def tasks(self) -> set[str]:
        log = self.logs / "setup-list.log"
        return set(re.findall(r"^ {2}(\S+)", log.read_text(), re.MULTILINE)) if log.is_file() else set()

    def inv(self, args: Sequence[str], label: str) -> tuple[int, float]:
        """Run ./inv args in the copy, output to logs/label.log; (exit code, seconds)."""
        rc, seconds, _ = self._run(args, label)
        return rc, seconds

    def measure(self, workflow: Workflow, run_number: int) -> RunRecord:
        """One timed run of the workflow, its terraform commands and process starts counted."""
        label = f"{workflow.key}-{run_number}"
        self.shim_log.write_text("")
        for stale in self.shim_log.parent.glob(self.shim_log.name + ".*.lines"):
            stale.unlink()
        load = _load_average()
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

    def _run(self, args: Sequence[str], label: str) -> tuple[int, float, ProcessWatcher]:
        self._count += 1
        marker = f"{self.marker_prefix}-{self._count}"
        self.logs.mkdir(parents=True, exist_ok=True)
        with open(self.logs / f"{label}.log", "w") as log, ProcessWatcher(marker) as watcher:
            started = time.monotonic()
            proc = subprocess.Popen(
                [str(self.root / "inv"), *args],
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
        _stop_marked_emulators(self.marker_prefix)


def _terminate_group(proc: subprocess.Popen[Any]) -> None:
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait)
            return


# --- the floor probes -----------------------------------------------------------------------------------


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


# --- the bench ------------------------------------------------------------------------------------------


def run(
    runs: int = 3,
    json_path: Path | None = None,
    *,
    test_runs: int | None = None,
    only: Sequence[str] | None = None,
    keep: bool = False,
) -> int:
    """Measure the workflows `runs` times each (`./inv test` `test_runs` times, default `runs`), print
    the table and the breakdown, write the JSON. `only`: workflow keys to measure (default all).
    0 when every run succeeded, 1 otherwise (targets missed still give 0: the table says so)."""
    if runs < 1 or (test_runs is not None and test_runs < 1):
        raise ProjectError("--runs must be 1 or more")
    if not Path("/proc/self").exists():
        raise ProjectError("the bench reads /proc: it runs on Linux only")
    selected = [w for w in WORKFLOWS if only is None or w.key in only]
    unknown = set(only or ()) - {w.key for w in WORKFLOWS}
    if unknown:
        raise ProjectError(f"unknown workflow(s) {sorted(unknown)}: choose from {[w.key for w in WORKFLOWS]}")
    real_terraform = shutil.which("terraform")
    if real_terraform is None:
        raise ProjectError("terraform not found on PATH: install Terraform >= 1.11")
    json_path = Path(json_path) if json_path else BUILD_DIR / "bench" / "bench.json"
    logs = BUILD_DIR / "bench" / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    machine = machine_info(real_terraform)
    print(
        f"bench: {machine['cpus_usable']} CPUs ({machine['cpu_model']}), {machine['memory_gib']} GiB, "
        f"load average {machine['load_average_at_start']}; logs in {logs}",
        flush=True,
    )

    work = Path(tempfile.mkdtemp(prefix="sse-bench-"))
    summaries = {w.key: Summary(w, []) for w in selected}
    workspace: Workspace | None = None
    try:
        probe = FloorProbe(work / "floor", real_terraform)
        probe.prepare(REPO_ROOT)
        workspace = Workspace.create(work, real_terraform, logs)
        available = workspace.tasks()
        for summary in summaries.values():
            if summary.workflow.task[0] not in available:
                summary.skipped = f"no task `{summary.workflow.task[0]}` in ./inv --list"
        plan = _schedule(selected, runs, test_runs or runs)
        for number, workflow in plan:
            summary = summaries[workflow.key]
            if summary.skipped:
                continue
            _measure_once(workspace, probe, summary, number)
        machine["load_average_at_end"] = _load_average()
        settings = {
            "runs": runs,
            "test_runs": test_runs or runs,
            "workflows": [w.key for w in selected],
            "where": "a temporary copy of the working tree (git ls-files -co --exclude-standard), "
            "its own emulator on a free port",
            "provider_mirror": str(find_provider_mirror(os.environ) or ""),
            "tf_plugin_cache_dir": os.environ.get("TF_PLUGIN_CACHE_DIR"),
        }
        result = report(list(summaries.values()), machine, settings, probe.samples)
    finally:
        if workspace is not None:
            workspace.close()
        if keep:
            print(f"bench: kept the workspace {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    ordered = list(summaries.values())
    print("\n" + render_table(ordered))
    print("\n" + render_breakdown(ordered))
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nreport: {json_path}")
    return 0 if all(run.ok for s in ordered for run in s.runs) else 1


def _schedule(selected: Sequence[Workflow], runs: int, test_runs: int) -> list[tuple[int, Workflow]]:
    """Rounds of up, apply, verify, down (each leaves the next one's precondition), then the others."""
    chosen = {w.key: w for w in selected}
    plan = [(n, chosen[key]) for n in range(1, runs + 1) for key in _ROUNDS if key in chosen]
    for workflow in selected:
        if workflow.key not in _ROUNDS:
            count = test_runs if workflow.key == "test" else runs
            plan += [(n, workflow) for n in range(1, count + 1)]
    return plan


def _measure_once(workspace: Workspace, probe: FloorProbe, summary: Summary, number: int) -> None:
    workflow = summary.workflow
    label = f"{workflow.key}-{number}"
    if not workspace.ensure(workflow.precondition, label):
        print(f"  {workflow.title} run {number}: precondition failed, see {label}-setup-*.log", flush=True)
        summary.runs.append(RunRecord(workflow.key, 0.0, -1, log=str(workspace.logs)))
        return
    record = workspace.measure(workflow, number)
    workspace.after(workflow, record.ok)
    if record.provider_commands:
        record.validate_seconds, record.validate_launches = probe.validate()
    if record.emulator_starts:
        record.emulator_start_seconds = probe.emulator_start()
    summary.runs.append(record)
    status = "ok" if record.ok else f"FAILED (exit {record.exit_code}, see {record.log})"
    print(
        f"  {workflow.title} run {number}: {record.seconds:.1f} s, terraform {record.provider_commands}/"
        f"{len(record.calls)}, floor {_fmt(record.floor, ' s')}, {status}",
        flush=True,
    )


if __name__ == "__main__":  # development: python -m tools.bench [runs] [workflow ...]
    sys.exit(run(int(sys.argv[1]) if len(sys.argv) > 1 else 1, None, only=sys.argv[2:] or None))
