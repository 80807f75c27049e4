"""The bench's terraform counting shim and the parsers of its log and of a run's output (no workflow runs)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tools.bench.shim import (
    TerraformCall,
    busy_seconds,
    loads_provider,
    parse_resource_times,
    parse_shim_log,
    parse_steps,
    subcommand,
    write_shim,
)


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
    assert subcommand(args) == name
    assert loads_provider(args) is loads


def test_the_shim_logs_each_command_and_passes_everything_through(tmp_path: Path):
    fake = tmp_path / "real" / "terraform"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "args:$*"\necho oops >&2\nexit 3\n')
    fake.chmod(0o755)
    log = tmp_path / "calls.log"
    shim = write_shim(tmp_path / "shim", str(fake), log)
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
    calls = parse_shim_log(log.read_text())
    assert [c.args for c in calls] == [("plan", "-out=a b.tfplan", "-no-color"), ("version",)]
    assert calls[0].exit_code == 3 and calls[0].cwd == str(workdir) and calls[0].seconds >= 0
    assert calls[0].pid > 0 and calls[0].pid != calls[1].pid
    assert [c.loads_provider for c in calls] == [True, False]  # not watched: by subcommand


def test_the_shim_log_parser_skips_broken_lines_and_sorts_by_start():
    text = "20.0\t21.5\t0\t7\t/a\tapply\x1fp\nnot a line\n10.0\t17.0\t2\t8\t/a\tplan\x1f-out=p\n"
    text += "x\ty\tz\t9\t/a\tplan\n"
    calls = parse_shim_log(text)
    assert [(c.subcommand, c.exit_code, c.seconds, c.pid) for c in calls] == [
        ("plan", 2, 7.0, 8),
        ("apply", 0, 1.5, 7),
    ]


def test_a_command_seen_starting_no_provider_does_not_count_as_provider_loading():
    assert TerraformCall(("plan",), "/x", 0, 0, 0.1, provider_launches=0).loads_provider is False
    assert TerraformCall(("output",), "/x", 0, 0, 0.1, provider_launches=1).loads_provider is True


def test_busy_seconds_is_the_union_of_intervals():
    assert busy_seconds([]) == 0
    assert busy_seconds([(0, 4), (2, 6), (10, 11), (10.5, 10.7)]) == 7


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
    assert parse_steps(log) == [("terraform plan [local]", 8.7), ("verify the local stack", 5.5)]
    assert parse_resource_times(log) == [
        ("module.k.aws_kms_key.this", "Creation", 63.0),
        ('module.b["x"].aws_s3_bucket_lifecycle_configuration.this', "Creation", 55.0),
        ("module.k.aws_kms_key.this", "Destruction", 2.0),
    ]
