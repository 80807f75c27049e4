"""The bench's schedule."""

from __future__ import annotations

from tools.bench.main import schedule, selected_workflows
from tools.bench.workflows import WORKFLOWS


def test_the_schedule_runs_rounds_first_then_the_standalone_workflows():
    plan = schedule(WORKFLOWS, runs=2, test_runs=1)
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
        (1, "reencrypt"),
        (2, "reencrypt"),
    ]


def test_the_re_encryption_bench_runs_only_when_named():
    assert "reencrypt" not in [w.key for w in selected_workflows(None)]
    assert [w.key for w in selected_workflows(["reencrypt"])] == ["reencrypt"]
    assert [w.key for w in selected_workflows(["verify", "reencrypt"])] == ["verify", "reencrypt"]
