"""The verification report: one row per check, as a terminal table and as JSON."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ssepatterns import tables

PASSED, FAILED, NOT_APPLICABLE = "passed", "failed", "not_applicable"
STATUSES = (PASSED, FAILED, NOT_APPLICABLE)
# A check that cannot apply to the target calls pytest.skip with this prefix; any other skip is a failure.
NOT_APPLICABLE_PREFIX = "not applicable"


@dataclass(frozen=True)
class CheckResult:
    id: str
    pattern: str
    title: str
    status: str
    expected: str
    observed: str


@dataclass
class Report:
    env: str
    endpoint: str | None
    checks: list[CheckResult] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {status: sum(1 for c in self.checks if c.status == status) for status in STATUSES}

    def summary_line(self) -> str:
        s = self.summary()
        return f"{s[PASSED]} passed, {s[FAILED]} failed ({s[NOT_APPLICABLE]} not applicable on {self.env})"

    def to_json(self) -> str:
        return json.dumps(
            {
                "env": self.env,
                "endpoint": self.endpoint,
                "summary": self.summary(),
                "checks": [asdict(c) for c in self.checks],
            },
            indent=2,
        )

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n")

    def table(self, width: int | None = None) -> str:
        width = width or max(100, shutil.get_terminal_size((140, 20)).columns)
        headers = ("pattern", "check", "expected", "observed", "result")
        rows = [(c.pattern, c.id, c.expected, c.observed, _result(c.status)) for c in self.checks]
        fixed = sum(max(len(row[i]) for row in [headers, *rows]) for i in (0, 1, 4))
        # expected and observed share what is left, wrapped rather than cut.
        free = max(30, width - fixed - 4 * 3)
        return tables.columns([headers, *rows], separator=" | ", wrap={2: free // 2, 3: free - free // 2})


def _result(status: str) -> str:
    return {PASSED: "PASS", FAILED: "FAIL", NOT_APPLICABLE: "n/a"}[status]
