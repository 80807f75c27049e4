"""Process entry point of the local emulator: `python -m ssepatterns.emulator.launcher`.

Checks that the installed MiniStack is the release the shim was written against, applies the shim,
then runs MiniStack in the foreground of this process. `ministack --detach` is never used: it would
start a fresh hypercorn process that has none of the patches. Configuration comes from the environment
that `ssepatterns.emulator.control.start` prepares.
"""

from __future__ import annotations

import sys
from importlib import metadata

from ssepatterns.emulator import shim

EXIT_WRONG_VERSION = 2


def installed_ministack_version() -> str | None:
    """The installed MiniStack distribution's version, or None when it is not installed."""
    try:
        return metadata.version("ministack")
    except metadata.PackageNotFoundError:
        return None


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
    app.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
