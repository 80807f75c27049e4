"""The pytest plugin behind the post-apply suite: each test is one check, reported as a table row.

A check is a test marked `@check(id, pattern, expected)` (ssepatterns.verify.marks) that records what
it observed with `verify.observe(...)` and asserts it. A check that cannot apply to the target calls
`not_applicable(reason)`: it is reported as not applicable, never as passed; any other skip is turned
into a failure, because a check that did not run has not passed. The table is printed at the end of
the run and the JSON report written where --sse-report-json says.

Loaded by tests/postapply/conftest.py with pytest_plugins, after that conftest has imported TARGET and
live_printer from here; it has no assert to rewrite, so pytest is told not to try (PYTEST_DONT_REWRITE),
which would only warn that the module was imported already.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

from ssepatterns.verify.report import (
    FAILED,
    NOT_APPLICABLE,
    NOT_APPLICABLE_PREFIX,
    PASSED,
    CheckResult,
    Report,
)

OBSERVED = pytest.StashKey[str]()
RESULTS = pytest.StashKey[list[CheckResult]]()
TARGET = pytest.StashKey[Any]()  # the Target, set by the suite's target fixture


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sse-patterns verification")
    group.addoption("--sse-env", default="local", help="env to verify: local (default) or aws")
    group.addoption(
        "--sse-target", default=None, help="JSON file naming the env to resolve (./inv verify writes it)"
    )
    group.addoption("--sse-report-json", default=None, help="write the JSON report here")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "check(id, pattern, expected): a verification check (report row)")
    config.addinivalue_line("markers", "runs_last: a check that changes the stack, run after all the others")
    config.addinivalue_line("markers", "over_patterns(select): run once per deployed pattern select takes")
    config.stash[RESULTS] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("check") is None:
            raise pytest.UsageError(f"{item.nodeid} is in tests/postapply but is not marked @check")
    # Checks that change the stack (a key rotation) run after all the others.
    items.sort(key=lambda item: item.get_closest_marker("runs_last") is not None)


def live_printer(config: pytest.Config) -> Callable[[str], None]:
    """A line printed at once, past pytest's output capture: the waits for eventual consistency
    (ssepatterns.consistency) must be visible while they happen, not after the check."""

    def out(line: str) -> None:
        capture = config.pluginmanager.getplugin("capturemanager")
        terminal = config.pluginmanager.getplugin("terminalreporter")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            if terminal is not None:
                terminal.write_line(line)
            else:
                print(line, flush=True)

    return out


class Recorder:
    def __init__(self, item: pytest.Item) -> None:
        self._item = item

    def observe(self, observed: str) -> str:
        self._item.stash[OBSERVED] = observed
        return observed


@pytest.fixture
def verify(request: pytest.FixtureRequest) -> Recorder:
    return Recorder(request.node)


@pytest.fixture(scope="session")
def run_prefix() -> str:
    """Every object the suite writes lives under this prefix and is deleted at the end."""
    return f"verify/{uuid.uuid4().hex[:12]}/"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    marker = item.get_closest_marker("check")
    if marker is None or (report.when != "call" and not (report.when == "setup" and not report.passed)):
        return report
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        if reason.startswith(NOT_APPLICABLE_PREFIX):
            status, observed = NOT_APPLICABLE, reason
        else:  # a plain skip would hide a check that did not run
            status, observed = FAILED, f"skipped without being not applicable: {reason}"
            report.outcome = "failed"
    else:
        status = PASSED if report.passed else FAILED
        observed = item.stash.get(OBSERVED, "")
        if report.failed and not observed:
            observed = _failure_summary(report)
    # A parametrized check fills its fields from its parameters: @check("{pattern}.x", "{pattern}", ...),
    # or a field is a function of them.
    params = getattr(getattr(item, "callspec", None), "params", {})
    fields = {
        name: value(**params) if callable(value := marker.kwargs[name]) else str(value).format(**params)
        for name in ("id", "pattern", "expected")
    }
    item.config.stash[RESULTS].append(
        CheckResult(title=item.name, status=status, observed=observed, **fields)
    )
    return report


def _failure_summary(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    return (crash.message if crash else str(report.longrepr)).splitlines()[0][:300]


def _report(config: pytest.Config) -> Report | None:
    results = config.stash.get(RESULTS, [])
    if not results:
        return None
    target = config.stash.get(TARGET, None)
    endpoint = target.endpoint if target is not None else None
    env = config.getoption("--sse-env")
    if target is not None:
        env = target.env.label + (" (rehearsal, emulator)" if target.env.rehearsal else "")
    return Report(env=env, endpoint=endpoint, checks=list(results))


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: pytest.ExitCode, config: pytest.Config
) -> None:
    report = _report(config)
    if report is None:
        return
    terminalreporter.section(f"verification of the {report.env} stack")
    terminalreporter.write_line(report.table())
    terminalreporter.write_line("")
    terminalreporter.write_line(f"verify: {report.summary_line()}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    report = _report(session.config)
    path = session.config.getoption("--sse-report-json")
    if report is not None and path:
        report.write_json(Path(path))
