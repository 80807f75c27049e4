"""What the bench prints and writes: the table of the issue, the breakdown of the median runs, the JSON
report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ssepatterns import tables
from tools.bench.critical_path import resource_part
from tools.bench.figures import fmt, fmt_ratio
from tools.bench.records import Summary


def render_table(summaries: Sequence[Summary], extra: Sequence[Sequence[str]] = ()) -> str:
    """The issue's table: workflow, terraform commands, median, floor, ratio, target, met; `extra`: rows
    of workflows measured otherwise (re-encryption: its ratio is to the ceiling, not to a floor)."""
    header = ("workflow", "tf cmds (provider/all)", "median s", "floor s", "ratio", "target", "met?")
    rows: list[Sequence[str]] = [header]
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
                fmt(summary.median_seconds),
                fmt(summary.floor),
                fmt_ratio(summary.ratio),
                "-" if target is None else target.describe(),
                verdict,
            )
        )
    rows.extend(extra)
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
                fmt(run.launch_floor),
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
                f"{path.chain_seconds:.1f} s (walk/chain {fmt_ratio(path.ratio)}; median of runs "
                f"{fmt_ratio(summary.critical_path_ratio)}): "
                + " -> ".join(
                    f"{resource_part(address)} {seconds:.1f} s" + ("" if imposed else " (ours)")
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
