"""Read the Terraform configuration a saved plan carries (its `tfconfig/` snapshot), as a tree of text.

Why: the plan JSON's `configuration` section lists only the *references* of each expression, and it
leaves out what the assertions most need to trace: locals (a bucket's KMS key comes from
`local.buckets`, not from a visible reference to the key) and ephemeral resources (the SSE-C key's
generation rules). The saved plan embeds the exact source it was planned from, so reading that is
reading what `apply` would run, not the working tree.

This is not an HCL parser: it splits bodies into attributes and blocks, keeps every expression as
whitespace-normalised text, and opens object constructors (`{ a = 1 }`) into mappings so a path such
as `locals.buckets.sse_kms_cmk.default_encryption.kms_key_arn` can be looked up. It handles
strings with `${...}` templates and comments; it refuses heredocs, which this project does not use.

The tree: top-level blocks are keyed by their header (`resource "aws_s3_bucket" "this"`; all `locals`
blocks merged under `locals`; a header declared twice, such as two `provider "aws"`, holds a list);
nested blocks are lists under their header (`statement: [...]`).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

Tree = dict[str, Any]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_FOR = re.compile(r"\{\s*for\s")
_OPEN = "([{"
_CLOSE = ")]}"


class HclError(ValueError):
    """The snapshot holds something this reader does not understand."""


def module_snapshot(plan_file: Path, module_key: str) -> Tree:
    """The tree of all .tf files of one module in a saved plan; `module_key` as in modules.json
    ("" for the root module, "sse_patterns.bucket" for a nested call)."""
    prefix = f"tfconfig/m-{module_key}/"
    tree: Tree = {}
    with zipfile.ZipFile(plan_file) as archive:
        names = sorted(n for n in archive.namelist() if n.startswith(prefix) and n.endswith(".tf"))
        if not names:
            raise HclError(f"no module {module_key!r} in the configuration snapshot of {plan_file}")
        for name in names:
            _merge(tree, parse_body(archive.read(name).decode("utf-8")))
    return tree


def parse_body(text: str) -> Tree:
    """Attributes and blocks of a top-level body (a .tf file)."""
    items, end = _body(text, 0, top=True)
    if end != len(text):
        raise HclError(f"unexpected {text[end : end + 20]!r}")
    return items


def _merge(tree: Tree, other: Tree) -> None:
    for key, value in other.items():
        for body in value if isinstance(value, list) else [value]:
            _add_top_level(tree, key, body)


def _add_top_level(tree: Tree, header: str, body: Tree) -> None:
    """Locals merge; a header seen twice (two `provider "aws"`, two `moved`) becomes a list."""
    if header == "locals":
        tree.setdefault("locals", {}).update(body)
    elif header not in tree:
        tree[header] = body
    elif isinstance(tree[header], list):
        tree[header].append(body)
    else:
        tree[header] = [tree[header], body]


def _body(text: str, pos: int, top: bool) -> tuple[Tree, int]:
    items: Tree = {}
    while True:
        pos = _skip_space(text, pos, newlines=True)
        if pos >= len(text) or text[pos] == "}":
            return items, pos
        match = _IDENT.match(text, pos)
        if match is None:
            raise HclError(f"expected an attribute or a block at {text[pos : pos + 30]!r}")
        name, pos = match.group(), _skip_space(text, match.end(), newlines=False)
        if text.startswith("=", pos) and not text.startswith("==", pos):
            end = _expression_end(text, pos + 1)
            items[name] = _value(text[pos + 1 : end])
            pos = end
            continue
        labels: list[str] = []
        while pos < len(text) and text[pos] != "{":
            if text[pos] == '"':
                end = _string_end(text, pos)
                labels.append(text[pos:end])
            elif label := _IDENT.match(text, pos):
                end = label.end()
                labels.append(label.group())
            else:
                raise HclError(f"unexpected {text[pos : pos + 30]!r} in the header of block {name}")
            pos = _skip_space(text, end, newlines=False)
        if pos >= len(text):
            raise HclError(f"block {name} has no body")
        body, pos = _body(text, pos + 1, top=False)
        if not text.startswith("}", pos):
            raise HclError(f"block {name} is not closed")
        pos += 1
        header = " ".join([name, *labels])
        if top:
            _add_top_level(items, header, body)
        else:
            items.setdefault(header, []).append(body)


def _value(expr: str) -> Any:
    """An object constructor as a mapping of its items, anything else as normalised text."""
    text = _strip_comments(expr).strip()
    if text.startswith("{") and _close(text, 0) == len(text) - 1 and not _FOR.match(text):
        return _object(text[1:-1])
    return _normalise(text)


def _object(inner: str) -> Tree:
    items: Tree = {}
    pos = 0
    while True:
        pos = _skip_space(inner, pos, newlines=True)
        while inner.startswith(",", pos):
            pos = _skip_space(inner, pos + 1, newlines=True)
        if pos >= len(inner):
            return items
        if inner[pos] == '"':
            end = _string_end(inner, pos)
            key = inner[pos + 1 : end - 1]
        elif match := _IDENT.match(inner, pos):
            end, key = match.end(), match.group()
        else:
            raise HclError(f"unsupported object key at {inner[pos : pos + 30]!r}")
        pos = _skip_space(inner, end, newlines=False)
        if pos >= len(inner) or inner[pos] not in "=:":
            raise HclError(f"expected = or : after object key {key}")
        end = _expression_end(inner, pos + 1, stop=",")
        items[key] = _value(inner[pos + 1 : end])
        pos = end


def _expression_end(text: str, pos: int, stop: str = "") -> int:
    """Index after an expression starting at pos: the end of its line (or a `stop` character) at
    bracket depth 0, or the closing bracket of the enclosing construct."""
    depth = 0
    while pos < len(text):
        char = text[pos]
        if char == '"':
            pos = _string_end(text, pos)
            continue
        if text.startswith("<<", pos) and depth == 0:
            raise HclError("heredocs are not supported")
        if char == "#" or text.startswith("//", pos) or text.startswith("/*", pos):
            pos = _skip_comment(text, pos)
            continue
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            if depth == 0:
                return pos
            depth -= 1
        elif depth == 0 and (char == "\n" or char in stop):
            return pos
        pos += 1
    return pos


def _close(text: str, pos: int) -> int:
    """Index of the bracket closing the one at pos, across lines."""
    depth = 0
    while pos < len(text):
        char = text[pos]
        if char == '"':
            pos = _string_end(text, pos)
            continue
        if char == "#" or text.startswith("//", pos) or text.startswith("/*", pos):
            pos = _skip_comment(text, pos)
            continue
        if char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    raise HclError(f"unbalanced bracket in {text[:40]!r}")


def _string_end(text: str, pos: int) -> int:
    """Index after the quoted string (with any ${...} / %{...} templates) starting at pos."""
    pos += 1
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
        elif char == '"':
            return pos + 1
        elif text.startswith(("${", "%{"), pos):
            pos = _close(text, pos + 1) + 1
        elif char == "\n":
            raise HclError("a quoted string runs past the end of its line")
        else:
            pos += 1
    raise HclError("unterminated string")


def _skip_comment(text: str, pos: int) -> int:
    if text.startswith("/*", pos):
        end = text.find("*/", pos + 2)
        if end < 0:
            raise HclError("unterminated /* comment")
        return end + 2
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _skip_space(text: str, pos: int, newlines: bool) -> int:
    while pos < len(text):
        char = text[pos]
        if char in " \t\r" or (newlines and char == "\n"):
            pos += 1
        elif char == "#" or text.startswith("//", pos) or text.startswith("/*", pos):
            pos = _skip_comment(text, pos)
        else:
            break
    return pos


def _strip_comments(expr: str) -> str:
    out: list[str] = []
    pos = 0
    while pos < len(expr):
        if expr[pos] == '"':
            end = _string_end(expr, pos)
            out.append(expr[pos:end])
            pos = end
        elif expr[pos] == "#" or expr.startswith("//", pos) or expr.startswith("/*", pos):
            pos = _skip_comment(expr, pos)
        else:
            out.append(expr[pos])
            pos += 1
    return "".join(out)


def _normalise(expr: str) -> str:
    """Whitespace outside strings collapsed to one space, none inside brackets' edges, no trailing
    comma: a list written over several lines reads `["a", "b"]`. Strings are kept verbatim."""
    out: list[str] = []
    pos = 0
    while pos < len(expr):
        char = expr[pos]
        if char == '"':
            end = _string_end(expr, pos)
            out.append(expr[pos:end])
            pos = end
            continue
        pos += 1
        if char.isspace():
            if out and out[-1] not in (" ", "[", "("):
                out.append(" ")
        elif char in "])":
            while out and out[-1] in (" ", ","):
                out.pop()
            out.append(char)
        else:
            out.append(char)
    return "".join(out).strip()
