"""The Terraform configuration a saved plan carries (its `tfconfig/` snapshot), as a tree of text.

Why: the plan JSON's `configuration` section lists only the *references* of each expression, and it
leaves out what the assertions most need to trace: locals (where a value the plan cannot know comes
from) and ephemeral resources (the SSE-C key's generation rules). The saved plan embeds the exact source
it was planned from, so reading that is reading what `apply` would run, not the working tree.

Read with the project's one HCL reader (ssepatterns.hcl, on python-hcl2). The tree: top-level blocks are
keyed by their header (`resource "aws_s3_bucket" "this"`; all `locals` blocks merged under `locals`; a
header declared twice, such as two `provider "aws"`, holds a list); nested blocks are lists under their
header (`statement: [...]`); an object constructor (`{ a = 1 }`) is a mapping of its elements, so a path
such as `locals.environment.SECRET_ARN` can be looked up; every other expression is its text on one
line (`Attribute.compact`).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from ssepatterns.hcl import Attribute, Block, HclError, parse

Tree = dict[str, Any]


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
            for block in parse(archive.read(name).decode("utf-8"), name):
                _add_top_level(tree, _header(block), _body(block))
    return tree


def _header(block: Block) -> str:
    return " ".join([block.type, *(f'"{label}"' for label in block.labels)])


def _body(block: Block) -> Tree:
    body: Tree = {name: _value(attribute) for name, attribute in block.attributes.items()}
    for nested in block.blocks:
        body.setdefault(_header(nested), []).append(_body(nested))
    return body


def _value(attribute: Attribute) -> Any:
    elements = attribute.elements()
    if elements is None:
        return attribute.compact
    return {key: _value(element) for key, element in elements.items()}


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
