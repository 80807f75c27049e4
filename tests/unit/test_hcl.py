"""The one HCL reader's views that the plan tests' snapshots use: objects opened, lists compact."""

from __future__ import annotations

from ssepatterns import hcl

SOURCE = """
locals {
  environment = {
    BUCKET_NAME = var.bucket_name # the bucket
    "key-with-dash" = "${var.a}/*",
  }
  list = [
    "a",
    "b",
  ]
  call = merge( var.x , { a = 1 } )
}
"""


def _locals() -> dict[str, hcl.Attribute]:
    (block,) = hcl.parse(SOURCE)
    return dict(block.attributes)


def test_an_object_constructor_opens_into_its_elements() -> None:
    elements = _locals()["environment"].elements()
    assert elements is not None
    assert {key: element.compact for key, element in elements.items()} == {
        "BUCKET_NAME": "var.bucket_name",
        "key-with-dash": '"${var.a}/*"',
    }
    assert _locals()["list"].elements() is None and _locals()["call"].elements() is None


def test_compact_text_has_no_blanks_at_bracket_edges_and_no_trailing_comma() -> None:
    attributes = _locals()
    assert attributes["list"].compact == '["a", "b"]'
    assert attributes["list"].text == '[ "a", "b", ]'
    assert attributes["call"].compact == "merge(var.x , { a = 1 })"
