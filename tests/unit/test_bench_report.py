"""The bench's figures: the floor model, summaries of runs, the table, the breakdown, the JSON report."""

from __future__ import annotations

import json

import pytest

from tools.bench.figures import median
from tools.bench.floor import floor_seconds
from tools.bench.records import RunRecord, Summary
from tools.bench.report import render_breakdown, render_table, report
from tools.bench.shim import TerraformCall
from tools.bench.workflows import Target, Workflow

APPLY = Workflow("apply-warm", "warm apply", ("apply",), "up", Target("ratio", 1.2))
VERIFY = Workflow("verify", "verify", ("verify",), "up", Target("seconds", 15))


def call(*args: str, seconds: float = 1.0, started: float = 0.0) -> TerraformCall:
    return TerraformCall(tuple(args), "/x", 0, started, seconds)


def record(seconds: float, *calls: TerraformCall, validate: float | None = 5.0, code: int = 0) -> RunRecord:
    return RunRecord("apply-warm", seconds, code, calls=list(calls), validate_seconds=validate)


def test_floor_is_provider_commands_times_validate_plus_emulator_starts():
    assert floor_seconds(2, 6.0, 1, 0.5) == 12.5
    assert floor_seconds(1, 6.0, 0, None) == 6.0
    assert floor_seconds(0, None, 0, None) is None  # nothing to compare with: no ratio
    assert floor_seconds(2, None, 0, None) is None  # a missing sample is not a zero floor
    assert floor_seconds(0, None, 1, None) is None


def test_median_ignores_missing_values():
    assert median([3.0, None, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0]) == 2.5
    assert median([None]) is None


def test_a_summary_compares_the_median_with_the_median_floor_of_successful_runs():
    plan = call("plan", seconds=8)
    summary = Summary(
        APPLY,
        [
            record(9.0, call("version"), plan, validate=6.0),
            record(12.0, call("version"), plan, validate=8.0),
            record(10.0, call("version"), plan, validate=7.0),
            record(99.0, plan, code=1),  # failed: left out of every median
        ],
    )
    assert summary.median_seconds == 10.0 and summary.floor == 7.0
    assert summary.ratio == pytest.approx(10 / 7)
    assert summary.met is False
    assert summary.counts() == "1/2"
    assert summary.median_run is summary.runs[2]


def test_when_every_run_failed_the_figures_come_from_the_failed_runs_and_say_so():
    summary = Summary(APPLY, [record(20.0, call("plan"), validate=8.0, code=1), record(0.0, code=-1)])
    assert summary.median_seconds == 20.0 and summary.floor == 8.0
    assert "no (2/2 runs failed, figures from them)" in render_table([summary])
    assert report([summary], {}, {}, {})["workflows"]["apply-warm"]["figures_from_failed_runs"] is True


def test_targets_in_seconds_need_no_floor():
    summary = Summary(VERIFY, [record(11.0, call("output"), validate=None), record(13.0, validate=None)])
    assert summary.floor is None and summary.ratio is None
    assert summary.met is True
    assert summary.counts() == "0/0-1"
    assert Target("seconds", 15).describe() == "< 15 s" and Target("ratio", 1.3).describe() == "<= 1.3x floor"


def test_the_table_has_the_issue_columns_and_says_what_failed_or_was_skipped():
    measured = Summary(APPLY, [record(12.0, call("plan"), validate=6.0), record(1.0, code=2)])
    skipped = Summary(VERIFY, [], skipped="no task `verify`")
    lines = render_table([measured, skipped]).splitlines()
    assert lines[0].split() == [
        "workflow",
        "tf",
        "cmds",
        "(provider/all)",
        "median",
        "s",
        "floor",
        "s",
        "ratio",
    ] + [
        "target",
        "met?",
    ]
    assert lines[2].split()[:9] == ["warm", "apply", "1/1", "12.0", "6.0", "2.00", "<=", "1.2x", "floor"]
    assert "no (1/2 runs failed)" in lines[2]
    assert "skipped: no task `verify`" in lines[3]


def test_the_breakdown_splits_terraform_time_from_the_rest():
    run = RunRecord(
        "apply-warm",
        12.0,
        0,
        calls=[call("version", seconds=0.1, started=0), call("plan", seconds=10, started=1)]
        + [call("output", seconds=1, started=5)],  # overlaps the plan: not counted twice
        validate_seconds=6.0,
        validate_launches=2,
        provider_launches=3,
        steps=[("terraform plan [local]", 10.2), ("build Lambda zips", 0.1)],
        slow_resources=[("module.k.aws_kms_key.this", "Creation", 13.0)],
    )
    text = render_breakdown([Summary(APPLY, [run])])
    # the launch floor: 3 provider starts at 6.0 s / 2 starts of a bare validate
    assert text.splitlines()[2].split() == ["warm", "apply", "12.0", "10.0", "0.1", "1.9", "0", "3", "9.0"]
    assert "terraform plan [local] 10.2 s; build Lambda zips 0.1 s" in text
    assert "creation 13 s  module.k.aws_kms_key.this" in text


def test_the_report_is_json_with_runs_medians_floors_ratios_and_the_machine():
    summary = Summary(APPLY, [record(12.0, call("version"), call("plan"), validate=6.0)])
    data = json.loads(json.dumps(report([summary], {"cpus": 2}, {"runs": 1}, {"terraform_validate": [6.0]})))
    workflow = data["workflows"]["apply-warm"]
    assert (workflow["median_seconds"], workflow["floor_seconds"], workflow["ratio"]) == (12.0, 6.0, 2.0)
    assert workflow["terraform_subcommands"] == {"version": 1, "plan": 1}
    assert workflow["met"] is False and workflow["command"] == "./inv apply"
    assert workflow["runs"][0]["terraform_commands"][1]["loads_provider"] is True
    assert data["machine"] == {"cpus": 2} and data["floor_samples"] == {"terraform_validate": [6.0]}
