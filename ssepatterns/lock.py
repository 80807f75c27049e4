"""./inv lock: regenerate the pinned requirements files from their top-level inputs.

Each `<name>.in` is installed into a fresh virtualenv (the interpreter ./inv runs on), and `pip freeze`
of it becomes `<name>.txt` under a fixed header: every transitive dependency pinned, nothing
of the machine's own site-packages. The same inputs on the same day give the same file; a newer
release of a transitive dependency shows up as a one-line diff to review. `--check` writes nothing
and fails when a file differs from what it would be.
"""

from __future__ import annotations

import difflib
import subprocess
import sys
import tempfile
from pathlib import Path

from ssepatterns.errors import ProjectError
from ssepatterns.paths import REPO_ROOT
from ssepatterns.steps import step

INPUTS = ("requirements.in", "requirements-checkov.in")
HEADER = (
    "# Generated from {source} (pip freeze of a fresh virtualenv); pinned, all transitive dependencies.\n"
    "# Regenerate: ./inv lock\n"
)


def frozen(source: Path) -> str:
    """The requirements file `source` (an .in file) locks to, as text."""
    with tempfile.TemporaryDirectory(prefix="sse-lock-") as folder:
        venv = Path(folder) / "venv"
        _run([sys.executable, "-m", "venv", str(venv)], f"create a virtualenv for {source.name}")
        python = str(venv / "bin" / "python")
        _run(
            [
                python,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                "-r",
                str(source),
            ],
            f"install {source.name}",
        )
        freeze = _run(
            [python, "-m", "pip", "freeze", "--all", "--exclude", "pip", "--exclude", "setuptools"],
            "pip freeze",
        )
    pins = [line for line in freeze.splitlines() if line.strip()]  # in pip freeze's own (sorted) order
    return HEADER.format(source=source.name) + "\n".join(pins) + "\n"


def lock(check: bool = False) -> list[str]:
    """Regenerate (or, with check, compare) every requirements file; the ones that differ."""
    differing = []
    for name in INPUTS:
        source = REPO_ROOT / name
        target = source.with_suffix(".txt")
        with step(f"lock {name} -> {target.name}"):
            text = frozen(source)
            current = target.read_text(encoding="utf-8") if target.exists() else ""
            if text != current:
                differing.append(target.name)
                diff = difflib.unified_diff(
                    current.splitlines(), text.splitlines(), target.name, "locked", lineterm=""
                )
                print("\n".join(list(diff)[2:]) or "(whitespace only)")
                if not check:
                    target.write_text(text, encoding="utf-8")
            else:
                print(f"    {target.name}: unchanged")
    return differing


def _run(argv: list[str], what: str) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise ProjectError(f"{what} failed (exit {result.returncode}):\n{tail}")
    return result.stdout
