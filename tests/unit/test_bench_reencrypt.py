"""The re-encryption bench: its figures (rates, best-of, ratio, target), its table and JSON, and a round
against a fake workspace (what it runs, what it reads back, what it says when something is missing)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from ssepatterns.errors import ProjectError
from tools.bench.reencrypt import (
    ENGINE_FIELDS,
    Configuration,
    ReencryptBench,
    Results,
    Sample,
    best_of,
    ceiling_samples,
    declares_variable,
    engine_sample,
    last_line,
    options_of,
    ratio,
    render,
    summary_row,
)


def cli_report(**overrides: Any) -> dict[str, Any]:
    report = {
        "job": "rotate",
        "engine": "local",
        "workers": 16,
        "objects": 100,
        "bytes": 2_000_000,
        "seconds": 4.0,
        "objects_per_s": 25.0,
        "mb_per_s": 0.5,
        "skipped": 0,
        "failed": 0,
        "passes": 2,
        "retries": 3,
    }
    return {**report, **overrides}


def configuration(key: str, *rates: float, objects: int = 100) -> Configuration:
    engine, workers = key.rsplit("-", 1)
    return Configuration(
        key, engine, int(workers), [Sample(objects, objects * 1000, objects / rate) for rate in rates]
    )


def test_a_sample_gives_objects_and_megabytes_per_second():
    sample = Sample(objects=200, bytes=8_000_000, seconds=4.0)
    assert sample.objects_per_s == 50.0
    assert sample.mb_per_s == 2.0
    assert Sample(1, 1, 0.0).objects_per_s is None  # no rate from no time


def test_the_cli_report_is_read_into_a_sample():
    sample = engine_sample(cli_report(), "r.json", expected_objects=100)
    assert (sample.objects, sample.bytes, sample.seconds, sample.passes, sample.retries) == (
        100,
        2_000_000,
        4.0,
        2,
        3,
    )
    # skipped and failed may be lists of names: their length counts
    assert engine_sample(cli_report(skipped=["a", "b"]), "r.json").skipped == 2
    # the CLI's `copied` counts every pass's copies (a writer's object re-encrypted by pass 2 too)
    assert engine_sample(cli_report(objects=100, skipped=3, copied=99), "r.json").objects == 99
    assert engine_sample(cli_report(objects=100, skipped=3), "r.json").objects == 97


@pytest.mark.parametrize("name", ENGINE_FIELDS)
def test_a_cli_report_without_a_contract_field_is_refused_with_its_name(name):
    report = cli_report()
    del report[name]
    with pytest.raises(ProjectError, match=rf"r\.json: the --json report lacks {name}$"):
        engine_sample(report, "r.json")


def test_a_cli_report_with_failures_or_missing_objects_gives_no_figure():
    with pytest.raises(ProjectError, match="2 object"):
        engine_sample(cli_report(failed=["k1: x", "k2: y"]), "r.json")
    with pytest.raises(ProjectError, match="re-encrypted 95 of the 100 seeded objects"):
        engine_sample(cli_report(skipped=5), "r.json", expected_objects=100)
    with pytest.raises(ProjectError, match="seconds must be more than 0"):
        engine_sample(cli_report(seconds=0), "r.json")
    with pytest.raises(ProjectError, match="not a JSON object"):
        engine_sample([1, 2], "r.json")
    with pytest.raises(ProjectError, match="must be numbers"):
        engine_sample(cli_report(objects="many"), "r.json")


def test_the_ceiling_report_is_read_per_thread_count():
    data = {"samples": [{"threads": 4, "objects": 10, "bytes": 100, "seconds": 2.0}]}
    assert ceiling_samples(data, "c.json") == {4: Sample(10, 100, 2.0)}
    with pytest.raises(ProjectError, match="c.json: not a report of tools.bench.ceiling"):
        ceiling_samples({"samples": [{"threads": 4}]}, "c.json")


def test_the_ceiling_is_the_best_thread_count_by_median_and_engines_do_not_count():
    configurations = [
        configuration("ceiling-1", 50, 60, 55),
        configuration("ceiling-16", 300, 100, 290),  # median 290: the best, though one round was slow
        configuration("ceiling-64", 400, 200, 210),  # best single round, lower median (210)
        configuration("local-16", 1000),  # faster than every ceiling: still not the ceiling
    ]
    best = best_of(configurations)
    assert best is not None and best.key == "ceiling-16"
    assert best.objects_per_s == pytest.approx(290)
    assert best_of([configuration("local-4", 10)]) is None


def test_the_ratio_is_the_rate_over_the_ceiling_and_none_without_either():
    assert ratio(70.0, 100.0) == pytest.approx(0.7)
    assert ratio(None, 100.0) is None
    assert ratio(70.0, None) is None
    assert ratio(70.0, 0.0) is None


def results_with(local_16: float, ceiling_16: float = 100.0) -> Results:
    return Results(
        2000,
        500,
        8,
        [
            configuration("ceiling-16", ceiling_16),
            configuration("ceiling-1", 20),
            configuration("local-16", local_16),
            configuration("local-1", 15),
        ],
    )


def test_the_target_is_met_at_seven_tenths_of_the_ceiling_and_missed_below():
    assert results_with(70.0).met is True
    assert results_with(69.0).met is False
    assert "met (0.70)" in results_with(70.0).target_line()
    assert "missed (0.69)" in results_with(69.0).target_line()
    unmeasured = results_with(70.0)
    target = unmeasured.get("local-16")
    assert target is not None
    target.samples, target.not_measured = [], "no CLI"
    assert unmeasured.met is None
    assert unmeasured.target_line().endswith("not measured (no CLI)")


def test_the_table_shows_each_configuration_its_rates_and_ratio_and_marks_the_ceiling():
    results = results_with(80.0)
    results.configurations.append(
        Configuration("stepfunctions-16", "stepfunctions", 16, not_measured="engine not deployed")
    )
    text = render(results)
    lines = {line.split("  ")[0]: line for line in text.splitlines()}
    ceiling = lines["ceiling: bare CopyObject loop, 16 threads"]
    assert "100" in ceiling and "1.00 (ceiling)" in ceiling
    local = lines["rotate --engine local --workers 16"]
    assert local.split()[-1] == "0.80" and " 80 " in local
    assert "0.15" in lines["rotate --engine local --workers 1"]
    assert lines["rotate --engine stepfunctions (MaxConcurrency of the stack)"].endswith(
        "not measured: engine not deployed"
    )
    assert "met (0.80)" in text
    titles = [line.split("  ")[0] for line in text.splitlines()[3:8]]
    assert titles == [  # grouped by engine, workers ascending, whatever order they were measured in
        "ceiling: bare CopyObject loop, 1 threads",
        "ceiling: bare CopyObject loop, 16 threads",
        "rotate --engine local --workers 1",
        "rotate --engine local --workers 16",
        "rotate --engine stepfunctions (MaxConcurrency of the stack)",
    ]


def test_the_main_table_row_carries_the_targets_ratio_and_verdict():
    row = summary_row(results_with(50.0))
    assert row[4] == "0.50" and row[5] == ">= 0.7x ceiling" and row[6] == "no"
    assert summary_row(results_with(90.0))[6] == "yes"
    skipped = Results(2000, 500, 8, [], skipped="the stack did not come up")
    assert summary_row(skipped)[6] == "not measured: the stack did not come up"


def test_the_json_holds_the_ceiling_every_configuration_and_the_target():
    data = json.loads(json.dumps(results_with(80.0).to_json()))
    assert data["ceiling"] == {"threads": 16, "objects_per_s": 100.0, "mb_per_s": 0.1}
    local = data["configurations"]["local-16"]
    assert local["ratio_to_ceiling"] == 0.8 and local["objects_per_s"] == 80.0
    assert local["samples"][0]["seconds"] == pytest.approx(1.25)
    assert data["target"]["met"] is True and data["target"]["ratio_at_least"] == 0.7
    assert data["seed"] == {"objects": 2000, "large_every": 500, "large_mib": 8}


def test_helpers_read_options_variables_and_the_line_that_says_why(tmp_path: Path):
    assert {"workers", "engine", "json"} <= options_of(
        "  --workers=INT   n\n  -e, --engine=STRING\n  --json=STRING"
    )
    assert "workers" not in options_of("  --resume  only complete")
    (tmp_path / "variables.tf").write_text('variable "enable_reencrypt_engine" {\n  type = bool\n}\n')
    assert declares_variable(tmp_path, "enable_reencrypt_engine")
    assert not declares_variable(tmp_path, "enable_reencrypt")
    assert last_line("working\nerror: the stack is not deployed\nbye\n") == "error: the stack is not deployed"
    assert last_line("") == "(no output)"


class FakeWorkspace:
    """Answers the bench's commands as the workspace would, from canned behaviour."""

    def __init__(self, root: Path, help_text: str, rates: dict[str, float], objects: int = 100) -> None:
        self.root, self.logs = root, root / "logs"
        self.logs.mkdir(parents=True)
        (root / "terraform" / "envs" / "local").mkdir(parents=True)
        self.extra_env: dict[str, str] = {}
        self.help_text, self.rates, self.objects = help_text, rates, objects
        self.commands: list[tuple[str, ...]] = []
        self.skipped = 0  # objects the engine reports as examined but not re-encrypted
        self.copied_field = False  # the report has `copied` (the CLI's count of every pass)

    def ensure(self, precondition: str, label: str) -> bool:
        self.commands.append(("ensure", precondition))
        return True

    def _json_path(self, args: Sequence[str]) -> Path:
        return Path(args[list(args).index("--json") + 1])

    def inv(self, args: Sequence[str], label: str) -> tuple[int, float]:
        self.commands.append(tuple(args))
        log = self.logs / f"{label}.log"
        if args[-1] == "--help":
            log.write_text(self.help_text)
            return 0, 0.1
        if args[0] in ("seed-objects", "apply"):
            log.write_text("wrote\n")
            return 0, 1.0
        return self._engine(args, args[args.index("--engine") + 1])

    def _engine(self, args: Sequence[str], engine: str) -> tuple[int, float]:
        workers = int(args[args.index("--workers") + 1])
        rate = self.rates[f"{engine}-{workers}"]
        examined = self.objects + self.skipped
        report = cli_report(
            workers=workers, objects=examined, skipped=self.skipped, seconds=self.objects / rate
        )
        self._json_path(args).write_text(json.dumps(report))
        return 0, 2.0

    def python(self, args: Sequence[str], label: str) -> tuple[int, float]:
        self.commands.append(tuple(args))
        threads = int(args[args.index("--threads") + 1])
        sample = {
            "threads": threads,
            "objects": self.objects,
            "bytes": 5000,
            "seconds": self.objects / self.rates[f"ceiling-{threads}"],
        }
        self._json_path(args).write_text(
            json.dumps({"objects": self.objects, "bytes": 5000, "samples": [sample]})
        )
        return 0, 1.5


ENGINE_HELP = "Options:\n  --engine=STRING\n  --json=STRING\n  --workers=INT\n"
RATES = {
    f"{engine}-{n}": rate * n**0.5
    for n in (1, 4, 16, 64)
    for engine, rate in (("ceiling", 100.0), ("local", 80.0))
}


def test_a_round_runs_each_ceiling_and_engine_pair_and_reads_their_reports(tmp_path: Path):
    workspace = FakeWorkspace(tmp_path, ENGINE_HELP, RATES)
    bench = ReencryptBench(workspace, objects=100, large_every=50, large_mib=2, out=lambda _: None)
    bench.measure_round(1)
    bench.measure_round(2)
    assert ("seed-objects", "--count", "100", "--large-every", "50", "--large-mib", "2") in workspace.commands
    assert sum(1 for c in workspace.commands if c[0] == "seed-objects") == 1  # seeded once: the same objects
    runs = [c for c in workspace.commands if c[0] in ("-m", "rotate-sse-c-key") and "--help" not in c]
    warmup, runs = runs[0], runs[1:]  # one untimed rotation after seeding, before any figure
    assert warmup[:5] == ("rotate-sse-c-key", "--workers", "16", "--engine", "local")
    assert warmup[-1].endswith("reencrypt-setup-warmup.json")
    assert runs[:2] == [
        ("-m", "tools.bench.ceiling", "--threads", "16", "--json", runs[0][-1]),
        ("rotate-sse-c-key", "--workers", "16", "--engine", "local", "--json", runs[1][-1]),
    ]
    assert len(runs) == 16  # 4 pairs x 2 rounds; no stepfunctions
    results = bench.results
    best = results.ceiling
    assert best is not None and best.workers == 64 and best.objects_per_s == pytest.approx(800)
    target = results.target
    assert target is not None and len(target.samples) == 2
    assert results.ratio_of(target) == pytest.approx(320 / 800)
    assert results.met is False
    stepfunctions = results.get("stepfunctions-16")
    assert stepfunctions is not None
    assert stepfunctions.not_measured.startswith("engine not deployed")
    assert "TF_VAR_enable_reencrypt_engine" not in workspace.extra_env


def test_without_the_engine_cli_only_the_ceiling_is_measured_and_the_rows_say_why(tmp_path: Path):
    workspace = FakeWorkspace(tmp_path, "Options:\n  --resume\n  --break-lock\n", RATES)
    bench = ReencryptBench(workspace, objects=100, out=lambda _: None)
    bench.measure_round(1)
    assert not [c for c in workspace.commands if c[0] == "rotate-sse-c-key" and "--help" not in c]
    local = bench.results.get("local-16")
    assert local is not None and not local.samples
    assert local.not_measured == (
        "./inv rotate-sse-c-key has no --workers, --engine, --json (the engine's CLI is not merged)"
    )
    assert bench.results.ceiling is not None
    assert "not measured (./inv rotate-sse-c-key has no --workers" in bench.results.target_line()


def test_a_declared_engine_variable_deploys_the_engine_and_measures_it(tmp_path: Path):
    rates = {**RATES, "stepfunctions-16": 40.0}
    workspace = FakeWorkspace(tmp_path, ENGINE_HELP, rates)
    (tmp_path / "terraform" / "envs" / "local" / "variables.tf").write_text(
        'variable "enable_reencrypt_engine" {}\n'
    )
    bench = ReencryptBench(workspace, objects=100, out=lambda _: None)
    bench.measure_round(1)
    assert workspace.extra_env == {"TF_VAR_enable_reencrypt_engine": "true"}
    assert ("apply",) in workspace.commands
    stepfunctions = bench.results.get("stepfunctions-16")
    assert stepfunctions is not None and stepfunctions.objects_per_s == pytest.approx(40)


def test_a_failing_engine_run_is_a_failure_of_its_row_not_a_figure(tmp_path: Path):
    workspace = FakeWorkspace(tmp_path, ENGINE_HELP, RATES, objects=100)
    original = workspace.inv

    def inv(args: Sequence[str], label: str) -> tuple[int, float]:
        if "--workers" in args and args[args.index("--workers") + 1] == "4":
            (workspace.logs / f"{label}.log").write_text("re-encrypting\nerror: 3 object(s) failed\n")
            return 1, 1.0
        return original(args, label)

    workspace.inv = inv  # type: ignore[method-assign]
    bench = ReencryptBench(workspace, objects=100, out=lambda _: None)
    bench.measure_round(1)
    local4 = bench.results.get("local-4")
    assert local4 is not None and not local4.samples
    assert local4.failures == [
        "round 1: ./inv rotate-sse-c-key --workers 4 --engine local failed (exit 1): "
        "error: 3 object(s) failed"
    ]
    assert "local-4: round 1" in render(bench.results)


@pytest.mark.parametrize("copied_field", [False, True])
def test_the_rate_counts_the_objects_re_encrypted_not_those_skipped(tmp_path: Path, copied_field: bool):
    workspace = FakeWorkspace(tmp_path, ENGINE_HELP, RATES, objects=100)
    workspace.copied_field = copied_field
    workspace.skipped = 25  # e.g. a writer's objects already under the new key
    bench = ReencryptBench(workspace, objects=100, out=lambda _: None)
    bench.measure_round(1)
    target = bench.results.target
    assert target is not None and target.samples[0].objects == 100 and target.samples[0].skipped == 25
    assert target.objects_per_s == pytest.approx(RATES["local-16"])


def test_when_the_warm_up_rotation_fails_the_engine_rows_say_why_and_only_the_ceiling_runs(tmp_path: Path):
    workspace = FakeWorkspace(tmp_path, ENGINE_HELP, RATES)
    original = workspace.inv
    rotations: list[str] = []

    def inv(args: Sequence[str], label: str) -> tuple[int, float]:
        if args[0] == "rotate-sse-c-key" and "--help" not in args:
            rotations.append(label)
            (workspace.logs / f"{label}.log").write_text("sse_c_secret.SseCKeyUnavailable: no string value\n")
            return 1, 0.5
        return original(args, label)

    workspace.inv = inv  # type: ignore[method-assign]
    bench = ReencryptBench(workspace, objects=100, out=lambda _: None)
    bench.measure_round(1)
    assert rotations == ["reencrypt-setup-warmup"]  # no timed rotation after the warm-up failed
    local = bench.results.get("local-16")
    assert local is not None and not local.samples and not local.failures
    assert local.not_measured.startswith("the untimed warm-up rotation failed: ./inv rotate-sse-c-key")
    assert local.not_measured.endswith("SseCKeyUnavailable: no string value")
    assert bench.results.ceiling is not None
