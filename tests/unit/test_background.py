"""A task run beside a stage: its log shown whole afterwards, its failure a failure of the stage."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssepatterns import background
from ssepatterns.errors import ProjectError


def test_a_failing_task_beside_fails_the_stage_and_shows_its_output(tmp_path: Path, capsys) -> None:
    log = tmp_path / "beside.log"
    with (
        pytest.raises(ProjectError, match=r"state bucket check failed \(exit 1\)"),
        background.beside(["state-bucket", "--env", "local"], log, "state bucket check"),
    ):
        pass
    shown = capsys.readouterr().out
    assert "state-bucket is for --env aws" in shown, "its output is printed after the stage"


def test_a_passing_task_beside_passes(tmp_path: Path, capsys) -> None:
    with background.beside(["--list"], tmp_path / "list.log", "task list"):
        pass
    assert "rehearse" in capsys.readouterr().out


def test_a_failing_stage_interrupts_the_task_beside(tmp_path: Path) -> None:
    log = tmp_path / "slow.log"
    with pytest.raises(RuntimeError, match="stage failed"), background.beside(["--list"], log, "task list"):
        raise RuntimeError("stage failed")
    assert log.is_file()
