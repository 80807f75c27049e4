"""No partition literal in the post-apply checks or the Python package: ARNs and service names are
built from the stack's outputs (partition, dns_suffix, region, account_id), so the same checks hold
in aws, aws-cn and aws-us-gov. A literal such as `arn:aws:` or `amazonaws.com` that comes back fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ssepatterns.paths import REPO_ROOT

SCANNED = ("ssepatterns", "tests/postapply")
# arn:aws:, arn:aws-cn:, arn:aws-us-gov:, ... and every partition's DNS suffix amazonaws.com(.cn).
LITERAL = re.compile(r"arn:aws(?:-[a-z-]+)?:|amazonaws\.com")


def partition_literals(root: Path, folders: tuple[str, ...] = SCANNED) -> list[str]:
    """'path:line: text' of every partition literal in the text files under `folders` of `root`."""
    found = []
    for folder in folders:
        for path in sorted((root / folder).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            try:
                text = path.read_text()
            except UnicodeDecodeError:
                continue
            for number, line in enumerate(text.splitlines(), 1):
                if LITERAL.search(line):
                    found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


def test_no_partition_literal_in_the_checks_or_the_package():
    found = partition_literals(REPO_ROOT)
    assert not found, "build these from the stack's outputs (partition, dns_suffix):\n" + "\n".join(found)


@pytest.mark.parametrize(
    "line",
    [
        'arn = f"arn:aws:kms:{region}:{account}:key/x"',
        'principal = "arn:aws-us-gov:iam::111122223333:root"',
        'endpoint = f"http://s3.{region}.amazonaws.com"',
        'host = "s3.cn-north-1.amazonaws.com.cn"',
    ],
)
def test_the_scan_finds_a_literal_that_comes_back(tmp_path: Path, line: str):
    (tmp_path / "tests" / "postapply").mkdir(parents=True)
    (tmp_path / "ssepatterns").mkdir()
    (tmp_path / "tests" / "postapply" / "test_x.py").write_text(f"ok = 1\n{line}\n")
    assert partition_literals(tmp_path) == [f"tests/postapply/test_x.py:2: {line}"]


def test_the_scan_lets_built_names_through(tmp_path: Path):
    (tmp_path / "ssepatterns").mkdir()
    (tmp_path / "tests" / "postapply").mkdir(parents=True)
    (tmp_path / "ssepatterns" / "x.py").write_text(
        'arn = f"arn:{partition}:kms:{region}:{account}:key/x"\nhost = f"s3.{region}.{dns_suffix}"\n'
    )
    assert partition_literals(tmp_path) == []
