"""The local env's world, kept coherent: the emulator's state and the local Terraform state.

Two faults leave them apart, and `./inv plan/apply/up` on the local env looks for both first:

- **The emulator died without a stop** (killed, crashed, the machine went to sleep and was reset).
  The sign: its pid file outlived it, which `control.start` records in `unclean-stop.json`. MiniStack
  then restarts with its state as last saved. ./inv saves it after every apply, verification and
  destroy (`control.save`), so when that save is newer than the Terraform state, nothing Terraform
  knows of was lost: one line says so and the plan repairs the rest (drift.py). When the save is
  older than the Terraform state, the emulator has lost resources Terraform still records.
- **A terraform run was killed mid-way** (SIGKILL: no unlock). The sign: Terraform's lock info file
  `.terraform.tfstate.lock.info` is left beside the state while no process holds the state's lock.
  What it had created since its last state snapshot exists in the emulator and not in the state.

In both incoherent cases ./inv rebuilds the world: the emulator's state, S3 data and the local
Terraform state are moved (never deleted) to `<emulator state>/lost-<time>/`, the emulator restarts
empty, and the plan creates the stack afresh. It says so in one line, with where the old world went.
Anything else (no state yet, a clean stop) is left alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import time
from collections.abc import Iterator

from ssepatterns.emulator import control
from ssepatterns.paths import ENVS_DIR

LOCAL_DIR = ENVS_DIR / "local"
STATE_FILE = LOCAL_DIR / "terraform.tfstate"
LOCK_INFO = LOCAL_DIR / ".terraform.tfstate.lock.info"


def reconcile(cfg: control.EmulatorConfig) -> str | None:
    """Make the emulator and the local Terraform state agree before a plan; the one line that says
    what was found and done, or None when there was nothing to do."""
    unclean = _pop_unclean_stop(cfg)
    killed = _killed_run()
    if not STATE_FILE.exists():
        return None  # nothing recorded: whatever the emulator has, the next apply starts from zero
    if killed is not None:
        return _rebuild(cfg, f"a terraform run was killed mid-way ({killed})")
    if unclean is None:
        return None
    applied = STATE_FILE.stat().st_mtime
    saved = unclean.get("last_saved")
    if saved is None or saved < applied:
        return _rebuild(
            cfg,
            f"the emulator (pid {unclean.get('pid')}) was not stopped cleanly and restarted with its state "
            f"as saved {_when(saved)}, older than the last apply ({_when(applied)})",
        )
    return (
        f"the emulator (pid {unclean.get('pid')}) was not stopped cleanly; its state as saved "
        f"{_when(saved)} includes the last apply ({_when(applied)}): changes after that save are lost, "
        "the plan repairs the rest"
    )


def _pop_unclean_stop(cfg: control.EmulatorConfig) -> dict[str, float | int | None] | None:
    try:
        record = json.loads(cfg.unclean_stop_file.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        record = {"pid": None, "last_saved": None}  # unreadable: assume the worst
    cfg.unclean_stop_file.unlink(missing_ok=True)
    return record if isinstance(record, dict) else {"pid": None, "last_saved": None}


def _killed_run() -> str | None:
    """What the lock info of a killed run says, if one is left and no live run holds the lock."""
    if not LOCK_INFO.exists() or not STATE_FILE.exists():
        return None
    with _state_lock_free() as free:
        if not free:
            return None  # a live terraform run holds it: not ours to judge
    try:
        info = json.loads(LOCK_INFO.read_text())
    except (OSError, ValueError):
        return "its lock info is unreadable"
    operation, who = info.get("Operation", "an operation"), info.get("Who", "someone")
    return f"{operation} by {who} at {info.get('Created', '?')}"


@contextlib.contextmanager
def _state_lock_free() -> Iterator[bool]:
    """Whether Terraform's lock of the local state (an fcntl lock on the state file) is free."""
    with STATE_FILE.open("rb") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.lockf(handle, fcntl.LOCK_UN)


def _rebuild(cfg: control.EmulatorConfig, reason: str) -> str:
    lost = cfg.state_dir / time.strftime("lost-%Y%m%d-%H%M%S")
    lost.mkdir(parents=True, exist_ok=True)
    control.stop(cfg)
    for folder in ("state", "s3"):
        if (cfg.state_dir / folder).exists():
            shutil.move(str(cfg.state_dir / folder), str(lost / folder))
    terraform = lost / "terraform"
    terraform.mkdir()
    for path in LOCAL_DIR.glob("*.tfstate*"):
        shutil.move(str(path), str(terraform / path.name))
    LOCK_INFO.unlink(missing_ok=True)
    cfg.saved_marker.unlink(missing_ok=True)
    control.start(cfg)
    return f"{reason}: moved the emulator's state and the local Terraform state to {lost}; deploying afresh"


def _when(timestamp: float | None) -> str:
    return "never" if timestamp is None else time.strftime("%H:%M:%S", time.localtime(timestamp))
