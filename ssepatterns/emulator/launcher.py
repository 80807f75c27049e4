"""Process entry point of the local emulator: `python -m ssepatterns.emulator.launcher`.

Checks that the installed MiniStack is the release the shim was written against, applies the shim,
then runs MiniStack in the foreground of this process. `ministack --detach` is never used: it would
start a fresh hypercorn process that has none of the patches. Configuration comes from the environment
that `ssepatterns.emulator.control.start` prepares.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from importlib import metadata
from pathlib import Path
from types import FrameType, ModuleType

from ssepatterns.emulator import control, shim

EXIT_WRONG_VERSION = 2


def installed_ministack_version() -> str | None:
    """The installed MiniStack distribution's version, or None when it is not installed."""
    try:
        return metadata.version("ministack")
    except metadata.PackageNotFoundError:
        return None


def save_on_signal(app: ModuleType) -> None:
    """On SIGUSR1, write every service's state as MiniStack does at shutdown, then touch the marker.

    Why: MiniStack 1.5.33 saves its state only in its lifespan shutdown (`ministack.app`, the
    `lifespan.shutdown` branch: `save_all(_build_persistence_save_dict())`) and has no endpoint to save
    on demand, so a killed emulator loses everything since it started. The same two functions are
    called here, scheduled on the event loop (between requests, never in the middle of one), so
    `./inv` can save after each apply and a crash loses only what came after.
    """
    marker = Path(os.environ[control.SAVED_MARKER_ENV_VAR])

    def save() -> None:
        app.save_all(app._build_persistence_save_dict())
        marker.write_text(f"{time.time()}\n")

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not serving yet: nothing runs beside us
            save()
            return
        loop.call_soon(save)

    signal.signal(control.SAVE_SIGNAL, on_signal)


def main() -> int:
    installed = installed_ministack_version()
    if installed != shim.PINNED_MINISTACK_VERSION:
        print(
            f"error: the emulator shim is pinned to ministack=={shim.PINNED_MINISTACK_VERSION} but "
            f"{'no ministack' if installed is None else f'ministack=={installed}'} is installed; "
            "install the pinned version into the project venv, or re-validate ssepatterns/emulator/shim.py "
            "against the new release and update the pin",
            file=sys.stderr,
        )
        return EXIT_WRONG_VERSION
    shim.apply()
    from ministack import app  # imported after the version check: the import itself configures MiniStack

    sys.argv = [sys.argv[0]]  # MiniStack parses argv; make sure it never sees --detach or --stop
    save_on_signal(app)
    app.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
