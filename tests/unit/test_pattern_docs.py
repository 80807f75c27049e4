"""The README's table of patterns comes from the pattern registry, and a stale table is found."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssepatterns import pattern_docs
from ssepatterns.errors import ProjectError

REGISTRY = """
locals {
  other = 1
  patterns = {
    plain = {
      suffix = "plain", algorithm = "AES256", kms_key = null, bucket_key = false, sse_c = "deny"
      title = "SSE-S3"
    }
    keyed = {
      suffix = "keyed", algorithm = "aws:kms", kms_key = "customer_managed", bucket_key = true
      sse_c = "deny", title = "CMK \\"with\\" key"
    }
    sse_c = {
      suffix = "sse-c", algorithm = null, kms_key = null, bucket_key = false, sse_c = "require"
      title = "none"
    }
  }
}
"""


def _registry(tmp_path: Path, text: str = REGISTRY) -> Path:
    path = tmp_path / "main.tf"
    path.write_text(text)
    return path


def test_the_registry_is_read_in_order_with_literals_decoded(tmp_path: Path) -> None:
    entries = pattern_docs.registry(_registry(tmp_path))
    assert [entry.key for entry in entries] == ["plain", "keyed", "sse_c"]
    assert entries[1] == pattern_docs.Entry(
        "keyed", "keyed", "aws:kms", "customer_managed", True, "deny", 'CMK "with" key'
    )
    assert entries[2].algorithm is None


def test_each_row_follows_from_its_entry(tmp_path: Path) -> None:
    table = pattern_docs.render(pattern_docs.registry(_registry(tmp_path)))
    lines = table.strip().splitlines()
    assert len(lines) == 2 + 3
    assert lines[2] == (
        "| `plain` | `fa-125-plain` | SSE-S3 | off | uploads naming another algorithm; uploads with SSE-C "
        "headers | denied, and blocked |"
    )
    assert "| on | uploads naming another algorithm or key, or `aws:kms` without a key" in lines[3]
    assert lines[4].endswith(
        "| off | uploads **without** the SSE-C algorithm header | required, and unblocked |"
    )


@pytest.mark.parametrize("expression", ['"${local.other}"', "local.other"], ids=["template", "reference"])
def test_a_registry_value_must_be_a_literal(tmp_path: Path, expression: str) -> None:
    path = _registry(tmp_path, REGISTRY.replace('suffix = "plain"', f"suffix = {expression}"))
    with pytest.raises(ProjectError, match=r"local.patterns.plain.suffix: must be a literal"):
        pattern_docs.registry(path)


def test_the_readmes_hold_the_registrys_table() -> None:
    assert pattern_docs.stale() == [], "run ./inv docs"


def test_a_changed_title_makes_both_readmes_stale(tmp_path: Path) -> None:
    text = pattern_docs.REGISTRY_FILE.read_text()
    changed = text.replace('title      = "SSE-S3 (`AES256`)"', 'title      = "SSE-S3"')
    assert changed != text
    assert pattern_docs.stale(_registry(tmp_path, changed)) == list(pattern_docs.READMES)
