"""The benchmark's pure parts: counting, the floor model, summaries, rendering. No workflow is run."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tools import bench
from tools.bench import RunRecord, Summary, Target, TerraformCall, Workflow

APPLY = Workflow("apply-warm", "warm apply", ("apply",), "up", Target("ratio", 1.2))
VERIFY = Workflow("verify", "verify", ("verify",), "up", Target("seconds", 15))


def call(*args: str, seconds: float = 1.0, started: float = 0.0) -> TerraformCall:
    return TerraformCall(tuple(args), "/x", 0, started, seconds)


def record(seconds: float, *calls: TerraformCall, validate: float | None = 5.0, code: int = 0) -> RunRecord:
    return RunRecord("apply-warm", seconds, code, calls=list(calls), validate_seconds=validate)


@pytest.mark.parametrize(
    ("args", "name", "loads"),
    [
        (("plan", "-out=p"), "plan", True),
        (("-chdir=envs/local", "apply", "p.tfplan"), "apply", True),
        (("show", "-json", "p.tfplan"), "show", True),
        (("validate", "-no-color"), "validate", True),
        (("providers", "schema", "-json"), "providers", True),
        (("providers",), "providers", False),
        (("init", "-input=false"), "init", False),
        (("output", "-json"), "output", False),
        (("version", "-json"), "version", False),
        (("-version",), "", False),
    ],
)
def test_subcommands_are_split_into_provider_loading_and_cheap(args, name, loads):
    assert bench.subcommand(args) == name
    assert bench.loads_provider(args) is loads


def test_the_shim_logs_each_command_and_passes_everything_through(tmp_path: Path):
    fake = tmp_path / "real" / "terraform"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "args:$*"\necho oops >&2\nexit 3\n')
    fake.chmod(0o755)
    log = tmp_path / "calls.log"
    shim = bench.write_shim(tmp_path / "shim", str(fake), log)
    workdir = tmp_path / "work dir"
    workdir.mkdir()
    env = {**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}"}

    result = subprocess.run(
        ["terraform", "plan", "-out=a b.tfplan", "-no-color"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )
    subprocess.run(["terraform", "version"], cwd=workdir, env=env, capture_output=True, check=False)

    assert (result.returncode, result.stdout, result.stderr) == (
        3,
        "args:plan -out=a b.tfplan -no-color\n",
        "oops\n",
    )
    calls = bench.parse_shim_log(log.read_text())
    assert [c.args for c in calls] == [("plan", "-out=a b.tfplan", "-no-color"), ("version",)]
    assert calls[0].exit_code == 3 and calls[0].cwd == str(workdir) and calls[0].seconds >= 0
    assert calls[0].pid > 0 and calls[0].pid != calls[1].pid
    assert [c.loads_provider for c in calls] == [True, False]  # not watched: by subcommand


def test_the_shim_log_parser_skips_broken_lines_and_sorts_by_start():
    text = "20.0\t21.5\t0\t7\t/a\tapply\x1fp\nnot a line\n10.0\t17.0\t2\t8\t/a\tplan\x1f-out=p\n"
    text += "x\ty\tz\t9\t/a\tplan\n"
    calls = bench.parse_shim_log(text)
    assert [(c.subcommand, c.exit_code, c.seconds, c.pid) for c in calls] == [
        ("plan", 2, 7.0, 8),
        ("apply", 0, 1.5, 7),
    ]


def test_a_command_seen_starting_no_provider_does_not_count_as_provider_loading():
    assert TerraformCall(("plan",), "/x", 0, 0, 0.1, provider_launches=0).loads_provider is False
    assert TerraformCall(("output",), "/x", 0, 0, 0.1, provider_launches=1).loads_provider is True


def test_busy_seconds_is_the_union_of_intervals():
    assert bench.busy_seconds([]) == 0
    assert bench.busy_seconds([(0, 4), (2, 6), (10, 11), (10.5, 10.7)]) == 7


def test_floor_is_provider_commands_times_validate_plus_emulator_starts():
    assert bench.floor_seconds(2, 6.0, 1, 0.5) == 12.5
    assert bench.floor_seconds(1, 6.0, 0, None) == 6.0
    assert bench.floor_seconds(0, None, 0, None) is None  # nothing to compare with: no ratio
    assert bench.floor_seconds(2, None, 0, None) is None  # a missing sample is not a zero floor
    assert bench.floor_seconds(0, None, 1, None) is None


def test_median_ignores_missing_values():
    assert bench.median([3.0, None, 1.0, 2.0]) == 2.0
    assert bench.median([4.0, 1.0]) == 2.5
    assert bench.median([None]) is None


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
    assert "no (2/2 runs failed, figures from them)" in bench.render_table([summary])
    assert bench.report([summary], {}, {}, {})["workflows"]["apply-warm"]["figures_from_failed_runs"] is True


def test_targets_in_seconds_need_no_floor():
    summary = Summary(VERIFY, [record(11.0, call("output"), validate=None), record(13.0, validate=None)])
    assert summary.floor is None and summary.ratio is None
    assert summary.met is True
    assert summary.counts() == "0/0-1"
    assert Target("seconds", 15).describe() == "< 15 s" and Target("ratio", 1.3).describe() == "<= 1.3x floor"


def test_the_table_has_the_issue_columns_and_says_what_failed_or_was_skipped():
    measured = Summary(APPLY, [record(12.0, call("plan"), validate=6.0), record(1.0, code=2)])
    skipped = Summary(VERIFY, [], skipped="no task `verify`")
    lines = bench.render_table([measured, skipped]).splitlines()
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
    text = bench.render_breakdown([Summary(APPLY, [run])])
    # the launch floor: 3 provider starts at 6.0 s / 2 starts of a bare validate
    assert text.splitlines()[2].split() == ["warm", "apply", "12.0", "10.0", "0.1", "1.9", "0", "3", "9.0"]
    assert "terraform plan [local] 10.2 s; build Lambda zips 0.1 s" in text
    assert "creation 13 s  module.k.aws_kms_key.this" in text


def test_the_report_is_json_with_runs_medians_floors_ratios_and_the_machine():
    summary = Summary(APPLY, [record(12.0, call("version"), call("plan"), validate=6.0)])
    data = json.loads(
        json.dumps(bench.report([summary], {"cpus": 2}, {"runs": 1}, {"terraform_validate": [6.0]}))
    )
    workflow = data["workflows"]["apply-warm"]
    assert (workflow["median_seconds"], workflow["floor_seconds"], workflow["ratio"]) == (12.0, 6.0, 2.0)
    assert workflow["terraform_subcommands"] == {"version": 1, "plan": 1}
    assert workflow["met"] is False and workflow["command"] == "./inv apply"
    assert workflow["runs"][0]["terraform_commands"][1]["loads_provider"] is True
    assert data["machine"] == {"cpus": 2} and data["floor_samples"] == {"terraform_validate": [6.0]}


def test_steps_and_resource_times_are_read_from_the_task_output():
    log = "\n".join(
        [
            "==> terraform plan [local]",
            "<== terraform plan [local] (8.7 s)",
            "<== verify the local stack: failed after 5.5 s",
            'module.b["x"].aws_s3_bucket_lifecycle_configuration.this: Creation complete after 55s [id=x]',
            "module.k.aws_kms_key.this: Creation complete after 1m3s [id=k]",
            "aws_iam_user.operator: Creation complete after 0s [id=o]",
            "module.k.aws_kms_key.this: Destruction complete after 2s",
        ]
    )
    assert bench.parse_steps(log) == [("terraform plan [local]", 8.7), ("verify the local stack", 5.5)]
    assert bench.parse_resource_times(log) == [
        ("module.k.aws_kms_key.this", "Creation", 63.0),
        ('module.b["x"].aws_s3_bucket_lifecycle_configuration.this', "Creation", 55.0),
        ("module.k.aws_kms_key.this", "Destruction", 2.0),
    ]


def test_the_schedule_runs_rounds_first_then_the_standalone_workflows():
    plan = bench._schedule(bench.WORKFLOWS, runs=2, test_runs=1)
    assert [(n, w.key) for n, w in plan] == [
        (1, "up-cold"),
        (1, "apply-warm"),
        (1, "verify"),
        (1, "down"),
        (2, "up-cold"),
        (2, "apply-warm"),
        (2, "verify"),
        (2, "down"),
        (1, "test-plan"),
        (2, "test-plan"),
        (1, "test"),
    ]


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="the watcher reads /proc")
def _shimmed_fake_terraform(tmp_path: Path, body: str, marker: str) -> tuple[Path, dict[str, str]]:
    """A fake terraform (its script `body`, {plugin} a fake provider plugin) behind the bench's shim:
    (the shim's log, the environment that puts the shim first)."""
    real = tmp_path / "real"
    real.mkdir()
    plugin = real / "terraform-provider-fake"
    plugin.write_text("#!/bin/sh\nsleep 0.6\n")
    fake = real / "terraform"
    fake.write_text("#!/bin/sh\n" + body.format(plugin=plugin))
    for script in (plugin, fake):
        script.chmod(0o755)
    log = tmp_path / "calls.log"
    shim = bench.write_shim(tmp_path / "shim", str(fake), log)
    return log, {
        **os.environ,
        "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}",
        bench.MARKER_VAR: marker,
    }


def test_provider_starts_are_attributed_to_the_terraform_command_that_made_them(tmp_path: Path):
    log, env = _shimmed_fake_terraform(
        tmp_path, 'if [ "$1" = plan ]; then {plugin}; {plugin}; fi\nexit 0\n', "m1"
    )

    with bench.ProcessWatcher("m1", interval=0.05) as watcher:
        for args in (["plan"], ["output"]):
            subprocess.run(["terraform", *args], env=env, check=True)

    calls = bench.parse_shim_log(log.read_text())
    launches = watcher.launches_by_shim()
    assert [launches[c.pid] for c in calls] == [2, 0]
    assert len(watcher.providers) == 2 and not watcher.emulators


def test_an_apply_goes_through_the_line_stamper_with_its_exit_code_and_provider_starts_kept(tmp_path: Path):
    body = '{plugin}\necho "a.b: Creating..."\necho "a.b: Creation complete after 0s"\nexit 4\n'
    log, env = _shimmed_fake_terraform(tmp_path, body, "m2")

    with bench.ProcessWatcher("m2", interval=0.05) as watcher:
        result = subprocess.run(["terraform", "apply", "p.tfplan"], env=env, capture_output=True, text=True)

    assert (result.returncode, result.stdout) == (4, "a.b: Creating...\na.b: Creation complete after 0s\n")
    (call,) = bench.parse_shim_log(log.read_text())
    assert watcher.launches_by_shim()[call.pid] == 1  # the plugin's grandparent is still the shim
    stamped = Path(f"{log}.{call.pid}.lines").read_text()
    (operation,) = bench.parse_operations(stamped)
    assert operation.address == "a.b" and operation.started >= call.started and operation.seconds >= 0


def test_operations_pair_starts_with_completions_and_drop_what_never_completed():
    stamped = "\n".join(
        [
            '10.0\tmodule.m["k"].aws_kms_key.this: Creating...',
            "10.5\tdata.aws_iam_policy_document.x: Reading...",
            "10.6\tdata.aws_iam_policy_document.x: Read complete after 0s [id=1]",
            '12.0\tmodule.m["k"].aws_kms_key.this: Still creating... [10s elapsed]',
            '22.0\tmodule.m["k"].aws_kms_key.this: Creation complete after 12s [id=k]',
            "23.0\t\x1b[0m\x1b[1maws_lambda_function.f: Creating...\x1b[0m",
            "not stamped: Creating...",
        ]
    )
    operations = bench.parse_operations(stamped)
    assert [(op.address, op.started, op.ended) for op in operations] == [
        ('module.m["k"].aws_kms_key.this', 10.0, 22.0),
        ("data.aws_iam_policy_document.x", 10.5, 10.6),
    ]


def test_state_dependencies_are_keyed_by_instance_address():
    state = {
        "resources": [
            {
                "module": 'module.p.module.b["x"]',
                "mode": "managed",
                "type": "aws_s3_bucket_policy",
                "name": "this",
                "instances": [{"dependencies": ['module.p.module.b["x"].aws_s3_bucket.this']}],
            },
            {
                "mode": "managed",
                "type": "aws_s3_bucket",
                "name": "n",
                "instances": [{"index_key": 0}, {"index_key": "k"}],
            },
        ]
    }
    assert bench.state_dependencies(state) == {
        'module.p.module.b["x"].aws_s3_bucket_policy.this': {'module.p.module.b["x"].aws_s3_bucket.this'},
        "aws_s3_bucket.n[0]": set(),
        'aws_s3_bucket.n["k"]': set(),
    }


def test_the_critical_path_follows_dependencies_and_weighs_only_the_providers_time():
    op = bench.Operation
    operations = [
        op("module.k.aws_kms_key.this", 0.0, 12.0),
        op('module.b["s3"].aws_s3_bucket.this', 0.0, 1.0),  # independent of the key
        op('module.c["cmk"].aws_s3_bucket.this', 0.0, 1.0),
        op('module.c["cmk"].aws_s3_bucket_server_side_encryption_configuration.this[0]', 12.0, 12.5),
        op('module.c["cmk"].terraform_data.helper', 12.5, 14.0),  # ours: weighs nothing
        op("aws_lambda_function.f", 1.0, 11.0),  # waited for the bucket it does not read: 1 + 10 < 12.5
    ]
    dependencies = {
        'module.c["cmk"].aws_s3_bucket_server_side_encryption_configuration.this[0]': {
            "module.k.aws_kms_key.this",
            'module.c["cmk"].aws_s3_bucket.this',
        },
        'module.c["cmk"].terraform_data.helper': {
            'module.c["cmk"].aws_s3_bucket_server_side_encryption_configuration.this'
        },
        "aws_lambda_function.f": {'module.b["s3"].aws_s3_bucket.this'},
    }
    path = bench.critical_path(operations, dependencies)
    assert path is not None
    assert [address for address, _, _ in path.chain] == [
        "module.k.aws_kms_key.this",
        'module.c["cmk"].aws_s3_bucket_server_side_encryption_configuration.this[0]',
        'module.c["cmk"].terraform_data.helper',
    ]
    assert (path.walk_seconds, path.chain_seconds) == (14.0, 12.5)
    assert path.ratio == pytest.approx(14.0 / 12.5)
    assert path.chain[-1][2] is False  # the helper is flagged as ours
    assert bench.critical_path([], dependencies) is None
