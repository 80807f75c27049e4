"""The plan suite's terminal summary (a pytest plugin, see conftest.py): how many terraform commands the
session ran, and when each ran, from the moment the first one started; checkov's counts for each plan."""

from __future__ import annotations

from collections import Counter

import pytest

from .fixtures import COMMANDS, SCANS, SETUP_SECONDS
from .workspace import ENVS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    scans = config.stash.get(SCANS, None)
    if scans:
        terminalreporter.write_sep("-", "checkov over the plans")
        for key, summary in sorted(scans.items()):
            terminalreporter.write_line(f"  {key:<22} {summary}")
    commands = config.stash.get(COMMANDS, None)
    if not commands:
        return
    first = min(c.started for c in commands)
    done = {c.label: c.started + c.seconds - first for c in commands}
    counts = Counter(command.name for command in commands)
    by_name = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    envs = [label for label in ENVS if label in done]
    terminalreporter.write_sep("-", "terraform commands of the plan suite")
    terminalreporter.write_line(
        f"{len(commands)} commands ({by_name}), {sum(c.seconds for c in commands):.1f} s of command time "
        f"in {max(done.values()):.1f} s wall time"
        + (
            f"; {' and '.join(envs)} planned and shown after {max(done[e] for e in envs):.1f} s"
            if envs
            else ""
        )
        + f" (setup before: {config.stash.get(SETUP_SECONDS, 0.0):.1f} s for emulator, zips, deploying role)"
    )
    for c in sorted(commands, key=lambda c: c.started):
        start, end = c.started - first, c.started + c.seconds - first
        terminalreporter.write_line(f"  {c.name:<5} {c.label:<12} from {start:5.1f} s to {end:5.1f} s")
