"""The bench's /proc watcher, on fake terraform commands behind the shim: provider starts attributed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tools.bench.critical_path import parse_operations
from tools.bench.shim import parse_shim_log, write_shim
from tools.bench.watcher import MARKER_VAR, ProcessWatcher

# The watcher reads /proc (the bench is Linux only).
pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="the watcher reads /proc")


def _shimmed_fake_terraform(tmp_path: Path, body: str, marker: str) -> tuple[Path, dict[str, str]]:
    """A fake terraform (its script `body`, {plugin} a fake provider plugin) behind the bench's shim:
    (the shim's log, the environment that puts the shim first)."""
    real = tmp_path / "real"
    real.mkdir()
    plugin = real / "terraform-provider-fake"
    plugin.write_text("#!/bin/sh\nsleep 0.6\n")
    fake = real / "terraform"
    fake.write_text("#!/bin/sh\n" + body.format(plugin=plugin))
    for script in (plugin, fake):
        script.chmod(0o755)
    log = tmp_path / "calls.log"
    shim = write_shim(tmp_path / "shim", str(fake), log)
    return log, {
        **os.environ,
        "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}",
        MARKER_VAR: marker,
    }


def test_provider_starts_are_attributed_to_the_terraform_command_that_made_them(tmp_path: Path):
    log, env = _shimmed_fake_terraform(
        tmp_path, 'if [ "$1" = plan ]; then {plugin}; {plugin}; fi\nexit 0\n', "m1"
    )

    with ProcessWatcher("m1", interval=0.05) as watcher:
        for args in (["plan"], ["output"]):
            subprocess.run(["terraform", *args], env=env, check=True)

    calls = parse_shim_log(log.read_text())
    launches = watcher.launches_by_shim()
    assert [launches[c.pid] for c in calls] == [2, 0]
    assert len(watcher.providers) == 2 and not watcher.emulators


def test_an_apply_goes_through_the_line_stamper_with_its_exit_code_and_provider_starts_kept(tmp_path: Path):
    body = '{plugin}\necho "a.b: Creating..."\necho "a.b: Creation complete after 0s"\nexit 4\n'
    log, env = _shimmed_fake_terraform(tmp_path, body, "m2")

    with ProcessWatcher("m2", interval=0.05) as watcher:
        result = subprocess.run(["terraform", "apply", "p.tfplan"], env=env, capture_output=True, text=True)

    assert (result.returncode, result.stdout) == (4, "a.b: Creating...\na.b: Creation complete after 0s\n")
    (call,) = parse_shim_log(log.read_text())
    assert watcher.launches_by_shim()[call.pid] == 1  # the plugin's grandparent is still the shim
    stamped = Path(f"{log}.{call.pid}.lines").read_text()
    (operation,) = parse_operations(stamped)
    assert operation.address == "a.b" and operation.started >= call.started and operation.seconds >= 0
