"""./inv bench --only reencrypt: the re-encryption engines next to the ceiling of this emulator.

Setup (untimed): the stack up in the bench's workspace, then `./inv seed-objects --count N --large-every
K --large-mib M` once (default 2,000 objects of 1 KiB, every 500th of 8 MiB instead). The object set is
the same for every measurement: a rotation re-encrypts every object again, and the ceiling copies them
onto themselves under the current key.

Each round measures, in pairs so that the noise of the machine falls on both sides alike:

    ceiling      python -m tools.bench.ceiling --threads T: a bare ThreadPoolExecutor CopyObject loop
                 (SSE-C source and destination headers, in place) as the operator principal, a client
                 whose pool holds T connections (tools/bench/ceiling.py), for T = 1, 4, 16, 64
    local W      ./inv rotate-sse-c-key --workers W --engine local --json PATH, as the user runs it,
                 for W = 1, 4, 16, 64; its `seconds` (the passes only) from PATH
    stepfunctions  the same with --engine stepfunctions, when the engine is deployed (the local env
                 declares enable_reencrypt_engine; the bench then applies with it true); otherwise the
                 row says "not measured: engine not deployed", with no figure

Figures: objects/s and MB/s of each configuration (median of the rounds); the ceiling is the best
thread count's median objects/s; ratio = objects/s / ceiling objects/s. Target (issue 10): rotate
--workers 16 with the local engine at >= 0.7 x the ceiling.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from ssepatterns import tables
from ssepatterns.errors import ProjectError
from ssepatterns.reencrypt.summary import REPORT_FIELDS
from tools.bench.figures import median, rounded
from tools.bench.machine import load_average

THREADS: tuple[int, ...] = (1, 4, 16, 64)  # the ceiling's thread counts, and the local engine's workers
ORDER: tuple[int, ...] = (16, 1, 4, 64)  # the order of the pairs in a round: the target's pair first
TARGET_WORKERS = 16
TARGET_RATIO = 0.7
STEPFUNCTIONS_WORKERS = 16
ENGINE_VARIABLE = "enable_reencrypt_engine"
DEFAULT_OBJECTS, DEFAULT_LARGE_EVERY, DEFAULT_LARGE_MIB = 2000, 500, 8
# What the CLI's --json must hold (the contract of the engine's CLI, issue 10).
ENGINE_FIELDS = REPORT_FIELDS


# --- the pure parts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One measurement: objects and bytes re-encrypted in `seconds`."""

    objects: int
    bytes: int
    seconds: float
    passes: int = 1
    retries: int = 0
    skipped: int = 0
    failed: int = 0
    wall_seconds: float | None = None  # of the whole command (Python start-up, secret rotation included)
    load_average: float | None = None  # 1-minute load average when it started (other work on the machine)

    @property
    def objects_per_s(self) -> float | None:
        return self.objects / self.seconds if self.seconds > 0 else None

    @property
    def mb_per_s(self) -> float | None:
        return self.bytes / self.seconds / 1e6 if self.seconds > 0 else None

    def to_json(self) -> dict[str, Any]:
        return {
            "objects": self.objects,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "objects_per_s": rounded(self.objects_per_s, 1),
            "mb_per_s": rounded(self.mb_per_s, 2),
            "passes": self.passes,
            "retries": self.retries,
            "skipped": self.skipped,
            "failed": self.failed,
            "wall_seconds": rounded(self.wall_seconds),
            "load_average": self.load_average,
        }


def engine_sample(data: Any, source: str, expected_objects: int | None = None) -> Sample:
    """A Sample from the CLI's --json report; a ProjectError naming `source` when it is not one, when an
    object failed, or when fewer objects than were seeded were re-encrypted."""
    if not isinstance(data, dict):
        raise ProjectError(f"{source}: the --json report is not a JSON object")
    missing = [name for name in ENGINE_FIELDS if name not in data]
    if missing:
        raise ProjectError(f"{source}: the --json report lacks {', '.join(missing)}")
    try:
        examined, skipped = int(data["objects"]), _count(data["skipped"])
        sample = Sample(
            # re-encrypted: the CLI's `copied` (every pass), else what the first pass did not skip
            objects=int(data.get("copied", examined - skipped)),
            bytes=int(data["bytes"]),
            seconds=float(data["seconds"]),
            passes=int(data["passes"]),
            retries=int(data["retries"]),
            skipped=skipped,
            failed=_count(data["failed"]),
        )
    except (TypeError, ValueError):
        raise ProjectError(f"{source}: objects, bytes, seconds, passes and retries must be numbers") from None
    if sample.seconds <= 0:
        raise ProjectError(f"{source}: seconds must be more than 0, got {sample.seconds}")
    if sample.failed:
        raise ProjectError(f"{source}: {sample.failed} object(s) failed to re-encrypt")
    if expected_objects is not None and sample.objects < expected_objects:
        raise ProjectError(
            f"{source}: re-encrypted {sample.objects} of the {expected_objects} seeded objects"
        )
    return sample


def _count(value: Any) -> int:
    """A count the report may give as a number or as a list of names."""
    return len(value) if isinstance(value, list) else int(value)


def ceiling_samples(data: Any, source: str) -> dict[int, Sample]:
    """Threads -> Sample from tools.bench.ceiling's --json."""
    try:
        return {
            int(item["threads"]): Sample(int(item["objects"]), int(item["bytes"]), float(item["seconds"]))
            for item in data["samples"]
        }
    except (TypeError, KeyError, ValueError):
        raise ProjectError(f"{source}: not a report of tools.bench.ceiling") from None


@dataclass
class Configuration:
    """One thing measured each round: the ceiling at T threads, or an engine at W workers."""

    key: str  # "ceiling-16", "local-16", "stepfunctions-16"
    engine: str  # "ceiling", "local" or "stepfunctions"
    workers: int
    samples: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # one line each
    not_measured: str = ""  # why there is no figure at all (e.g. "engine not deployed")

    @property
    def title(self) -> str:
        if self.engine == "ceiling":
            return f"ceiling: bare CopyObject loop, {self.workers} threads"
        if self.engine == "stepfunctions":  # its concurrency is the map's, from the stack
            return "rotate --engine stepfunctions (MaxConcurrency of the stack)"
        return f"rotate --engine {self.engine} --workers {self.workers}"

    @property
    def objects_per_s(self) -> float | None:
        return median(sample.objects_per_s for sample in self.samples)

    @property
    def mb_per_s(self) -> float | None:
        return median(sample.mb_per_s for sample in self.samples)

    @property
    def seconds(self) -> float | None:
        return median(sample.seconds for sample in self.samples)


def best_of(configurations: Sequence[Configuration]) -> Configuration | None:
    """The ceiling configuration with the highest median objects/s (None when none was measured)."""
    measured = [c for c in configurations if c.engine == "ceiling" and c.objects_per_s is not None]
    return max(measured, key=lambda c: c.objects_per_s or 0.0) if measured else None


def ratio(rate: float | None, ceiling: float | None) -> float | None:
    return rate / ceiling if rate is not None and ceiling else None


@dataclass
class Results:
    objects: int
    large_every: int
    large_mib: int
    configurations: list[Configuration]
    seeded: dict[str, Any] = field(default_factory=dict)  # objects and bytes the ceiling listed
    skipped: str = ""  # why nothing was measured

    def get(self, key: str) -> Configuration | None:
        return next((c for c in self.configurations if c.key == key), None)

    @property
    def ceiling(self) -> Configuration | None:
        return best_of(self.configurations)

    def ratio_of(self, configuration: Configuration) -> float | None:
        best = self.ceiling
        return ratio(configuration.objects_per_s, best.objects_per_s if best else None)

    @property
    def target(self) -> Configuration | None:
        return self.get(f"local-{TARGET_WORKERS}")

    @property
    def met(self) -> bool | None:
        target = self.target
        value = None if target is None else self.ratio_of(target)
        return None if value is None else value >= TARGET_RATIO

    def target_line(self) -> str:
        target, met = self.target, self.met
        text = f"target: rotate --workers {TARGET_WORKERS} (local engine) >= {TARGET_RATIO:g} x the ceiling: "
        if target is None or met is None:
            why = (target.not_measured or "; ".join(target.failures[:1])) if target else "not selected"
            return text + f"not measured ({why or 'no figure'})"
        value = self.ratio_of(target)
        assert value is not None
        return text + ("met" if met else "missed") + f" ({value:.2f})"

    def to_json(self) -> dict[str, Any]:
        best = self.ceiling
        return {
            "seed": {"objects": self.objects, "large_every": self.large_every, "large_mib": self.large_mib},
            "listed": self.seeded,
            "skipped": self.skipped or None,
            "ceiling": None
            if best is None
            else {
                "threads": best.workers,
                "objects_per_s": rounded(best.objects_per_s, 1),
                "mb_per_s": rounded(best.mb_per_s, 2),
            },
            "configurations": {
                c.key: {
                    "title": c.title,
                    "engine": c.engine,
                    "workers": c.workers,
                    "not_measured": c.not_measured or None,
                    "failures": c.failures,
                    "samples": [sample.to_json() for sample in c.samples],
                    "median_seconds": rounded(c.seconds, 3),
                    "objects_per_s": rounded(c.objects_per_s, 1),
                    "mb_per_s": rounded(c.mb_per_s, 2),
                    "ratio_to_ceiling": rounded(self.ratio_of(c)),
                }
                for c in self.configurations
            },
            "target": {
                "configuration": f"local-{TARGET_WORKERS}",
                "ratio_at_least": TARGET_RATIO,
                "met": self.met,
                "text": self.target_line(),
            },
        }


def render(results: Results) -> str:
    """The re-encryption table: configuration, runs, median s, objects/s, MB/s, ratio to the ceiling."""
    if results.skipped:
        return f"re-encryption: not measured: {results.skipped}"
    best = results.ceiling
    rows: list[tuple[str, ...]] = [
        ("re-encryption", "runs", "median s", "objects/s", "MB/s", "ratio to ceiling")
    ]
    for c in displayed(results.configurations):
        if c.not_measured:
            rows.append((c.title, "-", "-", "-", "-", f"not measured: {c.not_measured}"))
            continue
        runs = f"{len(c.samples)}" + (f" ({len(c.failures)} failed)" if c.failures else "")
        value = results.ratio_of(c)
        marker = " (ceiling)" if c is best else ""
        rows.append(
            (
                c.title,
                runs,
                "-" if c.seconds is None else f"{c.seconds:.2f}",
                "-" if c.objects_per_s is None else f"{c.objects_per_s:.0f}",
                "-" if c.mb_per_s is None else f"{c.mb_per_s:.1f}",
                ("-" if value is None else f"{value:.2f}") + marker,
            )
        )
    listed = results.seeded
    large = f"every {results.large_every}th {results.large_mib} MiB" if results.large_every else "none large"
    header = (
        f"{listed.get('objects', results.objects)} objects, {(listed.get('bytes') or 0) / 1e6:.1f} MB "
        f"({large}); median of the rounds; ceiling = the best thread count"
    )
    failures = [f"  {c.key}: {line}" for c in results.configurations for line in c.failures]
    return "\n".join(
        [header, tables.columns(rows), results.target_line(), *(["failures:", *failures] if failures else [])]
    )


ENGINES = ("ceiling", "local", "stepfunctions")


def displayed(configurations: Sequence[Configuration]) -> list[Configuration]:
    """The table's order: the ceiling's thread counts, then each engine's worker counts, ascending (they
    are measured in pairs, ceiling and engine, for the noise to fall on both alike)."""
    return sorted(configurations, key=lambda c: (ENGINES.index(c.engine), c.workers))


def summary_row(results: Results) -> tuple[str, str, str, str, str, str, str]:
    """The row of the bench's main table (workflow, tf cmds, median s, floor s, ratio, target, met?): the
    target configuration, its ratio to the ceiling measured in the same run."""
    title = f"re-encryption (rotate --workers {TARGET_WORKERS} vs ceiling)"
    target = f">= {TARGET_RATIO:g}x ceiling"
    configuration = results.target
    if results.skipped or configuration is None or configuration.objects_per_s is None:
        why = results.skipped or (configuration.not_measured if configuration else "") or "no figure"
        return (title, "-", "-", "-", "-", target, f"not measured: {why}")
    value = results.ratio_of(configuration)
    met = results.met
    return (
        title,
        "-",
        "-" if configuration.seconds is None else f"{configuration.seconds:.1f}",
        "-",
        "-" if value is None else f"{value:.2f}",
        target,
        "-" if met is None else ("yes" if met else "no"),
    )


def options_of(help_text: str) -> set[str]:
    """The long options an `./inv <task> --help` lists."""
    return set(re.findall(r"--([a-z][a-z0-9-]*)", help_text))


def declares_variable(terraform_dir: Path, name: str) -> bool:
    pattern = re.compile(rf'^\s*variable\s+"{re.escape(name)}"', re.MULTILINE)
    return any(pattern.search(path.read_text(errors="replace")) for path in terraform_dir.glob("*.tf"))


def last_line(text: str) -> str:
    """The line that says why a command failed: its last `error:` line, else its last non-blank one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith(("error", "inv:")) or "Error" in line]
    return (errors or lines or ["(no output)"])[-1][:300]


# --- the measurement ------------------------------------------------------------------------------


class Runner(Protocol):
    """What the measurement needs of the bench's workspace (tools.bench.workspace.Workspace)."""

    root: Path
    logs: Path
    extra_env: dict[str, str]

    def inv(self, args: Sequence[str], label: str) -> tuple[int, float]: ...

    def python(self, args: Sequence[str], label: str) -> tuple[int, float]: ...

    def ensure(self, precondition: str, label: str) -> bool: ...


class ReencryptBench:
    """Sets up the stack and the objects once, then measures a round at a time."""

    def __init__(
        self,
        runner: Runner,
        objects: int = DEFAULT_OBJECTS,
        large_every: int = DEFAULT_LARGE_EVERY,
        large_mib: int = DEFAULT_LARGE_MIB,
        out: Callable[[str], None] = print,
    ) -> None:
        self.runner, self.out = runner, out
        self.results = Results(objects, large_every, large_mib, [])
        self._ready = False

    def _configure(self) -> None:
        """The configurations, from what the workspace's CLI offers and whether the engine deploys."""
        rc, _ = self.runner.inv(("rotate-sse-c-key", "--help"), "reencrypt-setup-help")
        text = (self.runner.logs / "reencrypt-setup-help.log").read_text(errors="replace")
        options = options_of(text) if rc == 0 else set()
        cli_missing = [name for name in ("workers", "engine", "json") if name not in options]
        configurations = []
        for workers in ORDER:
            configurations.append(Configuration(f"ceiling-{workers}", "ceiling", workers))
            local = Configuration(f"local-{workers}", "local", workers)
            if cli_missing:
                flags = ", ".join(f"--{name}" for name in cli_missing)
                local.not_measured = f"./inv rotate-sse-c-key has no {flags} (the engine's CLI is not merged)"
            configurations.append(local)
        stepfunctions = Configuration(
            f"stepfunctions-{STEPFUNCTIONS_WORKERS}", "stepfunctions", STEPFUNCTIONS_WORKERS
        )
        envdir = self.runner.root / "terraform" / "envs" / "local"
        if cli_missing:
            stepfunctions.not_measured = "engine not deployed (the engine's CLI is not merged)"
        elif not declares_variable(envdir, ENGINE_VARIABLE):
            stepfunctions.not_measured = (
                f"engine not deployed (terraform/envs/local declares no {ENGINE_VARIABLE})"
            )
        else:
            self.runner.extra_env[f"TF_VAR_{ENGINE_VARIABLE}"] = "true"
        configurations.append(stepfunctions)
        self.results.configurations = configurations

    def _setup(self) -> bool:
        self._configure()
        stepfunctions = self.results.configurations[-1]
        if not self.runner.ensure("up", "reencrypt"):
            self.results.skipped = "the stack did not come up: see reencrypt-setup-*.log"
            return False
        if not stepfunctions.not_measured:
            # the engine is declared: deploy it (an apply of the stack that is up, untimed)
            rc, _ = self.runner.inv(("apply",), "reencrypt-setup-apply-engine")
            if rc != 0:
                stepfunctions.not_measured = (
                    "engine not deployed (apply with it failed: reencrypt-setup-apply-engine.log)"
                )
        results = self.results
        rc, _ = self.runner.inv(
            (
                "seed-objects",
                "--count",
                str(results.objects),
                "--large-every",
                str(results.large_every),
                "--large-mib",
                str(results.large_mib),
            ),
            "reencrypt-setup-seed",
        )
        if rc != 0:
            results.skipped = "./inv seed-objects failed: " + self._why("reencrypt-setup-seed")
            return False
        # One untimed rotation first, as the first measured one: the emulator's first pass over fresh
        # objects is slower than the next ones, and a broken engine fails here, before any figure.
        warmup = next(c for c in results.configurations if c.key == f"local-{TARGET_WORKERS}")
        if not warmup.not_measured:
            try:
                self._engine(warmup, "reencrypt-setup-warmup")
            except ProjectError as error:
                # It would fail the same way every round: the engine's rows say why, the ceiling runs.
                self.out(f"  re-encryption warm-up (untimed) failed: {error}")
                for local in results.configurations:
                    if local.engine == "local":
                        local.not_measured = f"the untimed warm-up rotation failed: {error}"
        return True

    def _why(self, label: str) -> str:
        path = self.runner.logs / f"{label}.log"
        return last_line(path.read_text(errors="replace") if path.is_file() else "")

    def measure_round(self, number: int) -> None:
        if not self._ready:
            if not self._setup():
                self.out(f"  re-encryption: not measured: {self.results.skipped}")
                return
            self._ready = True
        if self.results.skipped:
            return
        for configuration in self.results.configurations:
            if configuration.not_measured:
                continue
            label = f"reencrypt-{configuration.key}-{number}"
            load = load_average()
            try:
                sample = (
                    self._ceiling(configuration, label)
                    if configuration.engine == "ceiling"
                    else self._engine(configuration, label)
                )
            except ProjectError as error:
                configuration.failures.append(f"round {number}: {error}")
                self.out(f"  {configuration.title} round {number}: FAILED: {error}")
                if configuration.engine == "stepfunctions" and "not deployed" in str(error):
                    configuration.not_measured = "engine not deployed"
                continue
            sample = replace(sample, load_average=load)
            configuration.samples.append(sample)
            self.out(
                f"  {configuration.title} round {number}: {sample.objects} objects in "
                f"{sample.seconds:.2f} s, {sample.objects_per_s or 0:.0f} objects/s, "
                f"{sample.mb_per_s or 0:.1f} MB/s"
            )

    def _report_path(self, label: str) -> Path:
        path = self.runner.logs / f"{label}.json"
        path.unlink(missing_ok=True)
        return path

    def _ceiling(self, configuration: Configuration, label: str) -> Sample:
        path = self._report_path(label)
        args = ["-m", "tools.bench.ceiling", "--threads", str(configuration.workers), "--json", str(path)]
        rc, wall = self.runner.python(args, label)
        if rc != 0:
            raise ProjectError(f"the ceiling loop failed (exit {rc}): {self._why(label)}")
        data = _read_json(path)
        samples = ceiling_samples(data, str(path))
        sample = samples.get(configuration.workers)
        if sample is None:
            raise ProjectError(f"{path}: no sample for {configuration.workers} threads")
        self.results.seeded = {"objects": data.get("objects"), "bytes": data.get("bytes")}
        return Sample(sample.objects, sample.bytes, sample.seconds, wall_seconds=wall)

    def _engine(self, configuration: Configuration, label: str) -> Sample:
        path = self._report_path(label)
        args = [
            "rotate-sse-c-key",
            "--workers",
            str(configuration.workers),
            "--engine",
            configuration.engine,
            "--json",
            str(path),
        ]
        rc, wall = self.runner.inv(args, label)
        if rc != 0:
            raise ProjectError(f"./inv {' '.join(args[:5])} failed (exit {rc}): {self._why(label)}")
        expected = self.results.seeded.get("objects")
        sample = engine_sample(_read_json(path), str(path), int(expected) if expected else None)
        return replace(sample, wall_seconds=wall)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError:
        raise ProjectError(f"{path} was not written") from None
    except ValueError as error:
        raise ProjectError(f"{path} is not JSON ({error})") from None
