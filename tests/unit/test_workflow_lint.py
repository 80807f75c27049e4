"""The workflow lint of ./inv lint: the repository's workflows are clean, and a planted error of
each kind is reported, one line per finding, by the tool that owns it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ssepatterns import workflow_lint
from ssepatterns.errors import ProjectError

CI_WORKFLOW = workflow_lint.WORKFLOWS_DIR / "ci.yml"
PINNED_CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"


def _planted(tmp_path: Path, replace: str, by: str) -> Path:
    """A copy of the workflows with one edit to ci.yml (which must apply exactly once)."""
    folder = tmp_path / "workflows"
    shutil.copytree(workflow_lint.WORKFLOWS_DIR, folder)
    text = CI_WORKFLOW.read_text(encoding="utf-8")
    assert text.count(replace) == 1, f"{replace!r} is not in ci.yml exactly once"
    (folder / "ci.yml").write_text(text.replace(replace, by), encoding="utf-8")
    return folder


def test_the_repositorys_workflows_have_no_findings() -> None:
    assert workflow_lint.findings() == []


def test_an_unknown_key_is_an_actionlint_finding(tmp_path: Path) -> None:
    folder = _planted(
        tmp_path, "    timeout-minutes: 40\n", "    timeout-minutes: 40\n    timeout-minute: 40\n"
    )
    found = workflow_lint.findings(folder)
    assert len(found) == 1, found
    assert "[actionlint syntax-check]" in found[0] and '"timeout-minute"' in found[0]
    assert "workflows/ci.yml:" in found[0].split(" ")[0]  # where: path:line:column


def test_an_unpinned_action_is_a_zizmor_finding(tmp_path: Path) -> None:
    folder = _planted(tmp_path, PINNED_CHECKOUT, "actions/checkout@v7")
    found = workflow_lint.findings(folder)
    assert any("[zizmor unpinned-uses]" in line for line in found), found
    assert all("\n" not in line for line in found)


def test_no_workflows_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="no workflow files"):
        workflow_lint.findings(tmp_path)
