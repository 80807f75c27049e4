"""The Lambda zips are reproducible: same sources, same bytes; different sources, different bytes."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from ssepatterns.errors import ProjectError
from ssepatterns.lambda_zip import build_all, build_package
from ssepatterns.paths import LAMBDA_SRC_DIR


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    for folder, name, text in [
        ("upload", "index.py", "UPLOAD = 1\n"),
        ("download", "index.py", "DOWNLOAD = 1\n"),
        ("shared", "sse_c_key.py", "KEY = 1\n"),
        ("shared", "sse_c_secret.py", "SECRET = 1\n"),
    ]:
        (src / folder).mkdir(parents=True, exist_ok=True)
        (src / folder / name).write_text(text)
    return src


def test_same_sources_give_same_bytes_whatever_the_mtimes_and_modes(sources: Path, tmp_path: Path):
    first = build_package("upload", sources, tmp_path / "a")
    for path in sources.rglob("*.py"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
        path.chmod(0o600)
    second = build_package("upload", sources, tmp_path / "b")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256 == second.sha256


def test_changed_source_changes_the_zip(sources: Path, tmp_path: Path):
    before = build_package("upload", sources, tmp_path)
    (sources / "shared" / "sse_c_key.py").write_text("KEY = 2\n")
    after = build_package("upload", sources, tmp_path)
    assert after.sha256 != before.sha256 and after.changed


def test_unchanged_zip_is_not_rewritten(sources: Path, tmp_path: Path):
    first = build_package("upload", sources, tmp_path)
    mtime = first.path.stat().st_mtime_ns
    second = build_package("upload", sources, tmp_path)
    assert not second.changed and second.path.stat().st_mtime_ns == mtime


def test_entries_are_sorted_with_fixed_time_and_mode(sources: Path, tmp_path: Path):
    (sources / "upload" / "__pycache__").mkdir()
    (sources / "upload" / "__pycache__" / "index.cpython-311.py").write_text("junk")
    package = build_package("upload", sources, tmp_path)
    with zipfile.ZipFile(package.path) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == ["index.py", "sse_c_key.py", "sse_c_secret.py"]
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert stat.S_IMODE(info.external_attr >> 16) == 0o644


def test_a_name_in_both_folders_is_refused(sources: Path, tmp_path: Path):
    (sources / "shared" / "index.py").write_text("clash")
    with pytest.raises(ProjectError, match="index.py is in both"):
        build_package("upload", sources, tmp_path)


def test_the_real_handlers_package_with_the_shared_helpers(tmp_path: Path):
    packages = {p.name: p for p in build_all(LAMBDA_SRC_DIR, tmp_path)}
    assert sorted(packages) == ["download", "reencrypt", "upload"]
    for name in ("upload", "download", "reencrypt"):
        with zipfile.ZipFile(packages[name].path) as archive:
            names = archive.namelist()
        assert names == ["index.py", "sse_c_key.py", "sse_c_reencrypt.py", "sse_c_secret.py"]
    assert len({package.sha256 for package in packages.values()}) == 3
