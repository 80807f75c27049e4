"""Reproducible Lambda zips: same sources -> same bytes.

hashicorp/archive is not available offline here, so the zips are built in Python. Entries are
sorted, every entry has the same timestamp (1980-01-01, the zip epoch) and mode (0644), and the
entries are stored uncompressed (the sources are a few KB; deflate output may differ between zlib
builds), so the zip's hash (Terraform's source_code_hash) changes only when a source file does, on
any machine. A zip whose bytes would not change is not rewritten.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ssepatterns.errors import ProjectError
from ssepatterns.paths import BUILD_DIR, LAMBDA_SRC_DIR

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--

# Each function's zip: its own folder plus the shared helpers, all at the zip's root.
FUNCTIONS = ("upload", "download", "reencrypt")
SHARED = "shared"
PACKAGE_DIR = BUILD_DIR / "lambda"


@dataclass(frozen=True)
class BuiltPackage:
    name: str
    path: Path
    sha256: str
    changed: bool


def source_files(*folders: Path) -> dict[str, Path]:
    """Python sources of the folders by their name in the zip; a name in two folders is an error."""
    files: dict[str, Path] = {}
    for folder in folders:
        if not folder.is_dir():
            raise ProjectError(f"Lambda source folder {folder} does not exist")
        for path in sorted(folder.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            name = path.relative_to(folder).as_posix()
            if name in files:
                raise ProjectError(
                    f"{name} is in both {files[name].parent} and {folder}: one zip cannot hold both"
                )
            files[name] = path
    if not files:
        raise ProjectError(f"no Python sources in {', '.join(str(f) for f in folders)}")
    return files


def zip_bytes(files: dict[str, Path]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = FILE_MODE << 16
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3  # Unix, so the mode above is honoured
            archive.writestr(info, files[name].read_bytes())
    return buffer.getvalue()


def build_package(name: str, src_dir: Path = LAMBDA_SRC_DIR, out_dir: Path = PACKAGE_DIR) -> BuiltPackage:
    data = zip_bytes(source_files(src_dir / name, src_dir / SHARED))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.zip"
    changed = not path.exists() or path.read_bytes() != data
    if changed:
        tmp = path.with_suffix(".zip.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return BuiltPackage(name=name, path=path, sha256=hashlib.sha256(data).hexdigest(), changed=changed)


def build_all(src_dir: Path = LAMBDA_SRC_DIR, out_dir: Path = PACKAGE_DIR) -> list[BuiltPackage]:
    return [build_package(name, src_dir, out_dir) for name in FUNCTIONS]
