"""A copy of the working tree to run ./inv in, apart from the checkout: its own emulator state,
Terraform state and build/ (the bench's workflows, the fault tests)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

_GENERATED = (
    ".git",
    ".venv*",
    ".ministack",
    "build",
    ".terraform",
    "*.tfstate*",
    "*.tfplan",
    "__pycache__",
    ".*_cache",
)


def copy_working_tree(source: Path, target: Path) -> None:
    """Tracked and untracked, not ignored files of `source` (what a commit of it now would hold); without
    git (an unpacked archive), everything but the generated folders. The virtualenvs are linked, not
    copied: ./inv in the copy rebuilds one only if its requirements changed."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=source,
            capture_output=True,
            check=True,
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(*_GENERATED))
    else:
        for name in filter(None, listing.split("\0")):
            origin = source / name
            if origin.is_file():  # a deleted file is still listed until the deletion is staged
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target / name)
    for venv in (".venv", ".venv-checkov"):
        if (source / venv).is_dir():
            (target / venv).symlink_to(source / venv)
