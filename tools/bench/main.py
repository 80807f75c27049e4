"""The bench end to end: check the selection, set up the floor probe and the workspace, run the schedule
(each workflow's precondition, the timed run, the floor samples right after it), print and write the
report."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ssepatterns.errors import ProjectError
from ssepatterns.paths import BUILD_DIR, REPO_ROOT
from ssepatterns.provider_mirror import find_provider_mirror
from tools.bench import reencrypt
from tools.bench.figures import fmt
from tools.bench.floor import FloorProbe
from tools.bench.machine import load_average, machine_info
from tools.bench.records import RunRecord, Summary
from tools.bench.report import render_breakdown, render_table, report
from tools.bench.workflows import ROUNDS, WORKFLOWS, Workflow
from tools.bench.workspace import Workspace


def run(
    runs: int = 3,
    json_path: Path | None = None,
    *,
    test_runs: int | None = None,
    only: Sequence[str] | None = None,
    keep: bool = False,
    reencrypt_objects: int = reencrypt.DEFAULT_OBJECTS,
) -> int:
    """Measure the workflows `runs` times each (`./inv test` `test_runs` times, default `runs`), print
    the table and the breakdown, write the JSON. `only`: workflow keys to measure (default all);
    `reencrypt_objects`: how many objects the re-encryption bench seeds.
    0 when every run succeeded, 1 otherwise (targets missed still give 0: the table says so)."""
    if runs < 1 or (test_runs is not None and test_runs < 1):
        raise ProjectError("--runs must be 1 or more")
    if reencrypt_objects < 1:
        raise ProjectError("--objects must be 1 or more")
    if not Path("/proc/self").exists():
        raise ProjectError("the bench reads /proc: it runs on Linux only")
    selected = selected_workflows(only)
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
    rebench: reencrypt.ReencryptBench | None = None
    try:
        probe = FloorProbe(work / "floor", real_terraform)
        probe.prepare(REPO_ROOT)
        workspace = Workspace.create(work, real_terraform, logs)
        available = workspace.tasks()
        for summary in summaries.values():
            if summary.workflow.task[0] not in available:
                summary.skipped = f"no task `{summary.workflow.task[0]}` in ./inv --list"
        plan = schedule(selected, runs, test_runs or runs)
        for number, workflow in plan:
            summary = summaries[workflow.key]
            if summary.skipped:
                continue
            if workflow.key == "reencrypt":
                if rebench is None:
                    large_every = (
                        reencrypt.DEFAULT_LARGE_EVERY
                        if reencrypt_objects >= reencrypt.DEFAULT_LARGE_EVERY
                        else 0
                    )
                    rebench = reencrypt.ReencryptBench(workspace, reencrypt_objects, large_every)
                rebench.measure_round(number)
                continue
            _measure_once(workspace, probe, summary, number)
        machine["load_average_at_end"] = load_average()
        settings = {
            "runs": runs,
            "test_runs": test_runs or runs,
            "workflows": [w.key for w in selected],
            "where": "a temporary copy of the working tree (git ls-files -co --exclude-standard), "
            "its own emulator on a free port",
            "provider_mirror": str(find_provider_mirror(os.environ) or ""),
            "tf_plugin_cache_dir": os.environ.get("TF_PLUGIN_CACHE_DIR"),
        }
        if rebench is not None:
            settings["reencrypt_objects"] = reencrypt_objects
        result = report(
            [s for s in summaries.values() if s.workflow.key != "reencrypt"], machine, settings, probe.samples
        )
        if "reencrypt" in summaries:
            results = rebench.results if rebench is not None else None
            result["reencrypt"] = (
                results.to_json() if results else {"skipped": summaries["reencrypt"].skipped or "not run"}
            )
    finally:
        if workspace is not None:
            workspace.close()
        if keep:
            print(f"bench: kept the workspace {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    ordered = [s for s in summaries.values() if s.workflow.key != "reencrypt"]
    extra = []
    if "reencrypt" in summaries:
        results = rebench.results if rebench is not None else reencrypt.Results(reencrypt_objects, 0, 0, [])
        results.skipped = results.skipped or summaries["reencrypt"].skipped
        extra.append(reencrypt.summary_row(results))
    print("\n" + render_table(ordered, extra))
    if ordered:
        print("\n" + render_breakdown(ordered))
    if rebench is not None:
        print("\n" + reencrypt.render(rebench.results))
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nreport: {json_path}")
    failed = rebench is not None and (
        bool(rebench.results.skipped) or any(c.failures for c in rebench.results.configurations)
    )
    return 0 if all(run.ok for s in ordered for run in s.runs) and not failed else 1


def selected_workflows(only: Sequence[str] | None) -> list[Workflow]:
    """The workflows named (in their order), or every one measured by default."""
    return [w for w in WORKFLOWS if (w.by_default if only is None else w.key in only)]


def schedule(selected: Sequence[Workflow], runs: int, test_runs: int) -> list[tuple[int, Workflow]]:
    """Rounds of up, apply, verify, down (each leaves the next one's precondition), then the others."""
    chosen = {w.key: w for w in selected}
    plan = [(n, chosen[key]) for n in range(1, runs + 1) for key in ROUNDS if key in chosen]
    for workflow in selected:
        if workflow.key not in ROUNDS:
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
        f"{len(record.calls)}, floor {fmt(record.floor, ' s')}, {status}",
        flush=True,
    )
