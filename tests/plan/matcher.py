"""Expected values as YAML, matched as subsets of what the plan says, with one message per mismatch.

In the style of cloud-foundation-fabric's inventories: the YAML names only what matters, so an
unrelated attribute the provider adds does not break a test, while everything written down must
hold exactly. Rules:

- a mapping matches if every key it names matches (other keys of the plan are ignored);
- a list matches element by element and must have the same length (no extra statements, actions, ...);
- a scalar matches only the same type and value (`true` is not `1`, `"32"` is not `32`).

Markers, plain (unquoted) scalars, for values plain YAML cannot say:

    <absent>    the key must not exist (at an address: the resource must not be in the plan)
    <unknown>   the value is unknown until apply (the plan cannot know it)
    <empty>     null or an empty list, map or string (the provider writes either, depending on
                whether a data source was read at plan time or deferred to apply)

Tags, on the node they modify:

    !json       the value is a JSON string; its decoded content is matched against the tagged node
    !exact      a mapping whose keys must be exactly these (for policy statements: nothing extra)
    !unordered  a list matched in any order (same length, each expected item a distinct element)

(Markers are scalars rather than tags because a bare tag cannot stand in a flow list: `[<unknown>]`.)

Placeholders `{{name}}` in any string (keys included) are replaced by the facts of the planned env
(its region, account, ...) after loading, so one file serves both envs and a literal hard-coded in
the Terraform code cannot match both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ssepatterns.key_scan import redact_key_like


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


ABSENT = _Marker("absent")
UNKNOWN = _Marker("unknown")  # also what plan views hold for unknown values
EMPTY = _Marker("empty")


@dataclass(frozen=True)
class Json:
    content: Any


@dataclass(frozen=True)
class Exact:
    mapping: dict[str, Any]


@dataclass(frozen=True)
class Unordered:
    items: list[Any]


class _Loader(yaml.SafeLoader):
    """SafeLoader plus the markers and tags above."""


for _marker in (ABSENT, UNKNOWN, EMPTY):
    _tag = f"!marker:{_marker.name}"
    _Loader.add_implicit_resolver(_tag, re.compile(f"^<{_marker.name}>$"), ["<"])
    _Loader.add_constructor(_tag, lambda loader, node, marker=_marker: marker)
_Loader.add_constructor("!json", lambda loader, node: Json(_construct(loader, node)))
_Loader.add_constructor("!exact", lambda loader, node: Exact(loader.construct_mapping(node, deep=True)))
_Loader.add_constructor(
    "!unordered", lambda loader, node: Unordered(loader.construct_sequence(node, deep=True))
)


def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def load(path: Path) -> Any:
    """A YAML file with the markers and tags above (placeholders left for `substitute`)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a SafeLoader


def substitute(node: Any, facts: Mapping[str, Any], where: str) -> Any:
    """`node` with every {{name}} replaced by facts[name]; an unknown name is an error. A string that is
    one placeholder and nothing else becomes the fact itself (a count, a bool, null), not its text."""

    def text(value: str) -> Any:
        whole = _PLACEHOLDER.fullmatch(value)
        if whole and whole.group(1) in facts and not isinstance(facts[whole.group(1)], str):
            return facts[whole.group(1)]

        def fact(match: re.Match[str]) -> str:
            if match.group(1) not in facts:
                raise KeyError(f"{where}: unknown placeholder {match.group()} (facts: {', '.join(facts)})")
            return str(facts[match.group(1)])

        return _PLACEHOLDER.sub(fact, value)

    if isinstance(node, str):
        return text(node)
    if isinstance(node, dict):
        return {text(k) if isinstance(k, str) else k: substitute(v, facts, where) for k, v in node.items()}
    if isinstance(node, list):
        return [substitute(v, facts, where) for v in node]
    if isinstance(node, Json):
        return Json(substitute(node.content, facts, where))
    if isinstance(node, Exact):
        return Exact(substitute(node.mapping, facts, where))
    if isinstance(node, Unordered):
        return Unordered(substitute(node.items, facts, where))
    return node


def mismatches(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every way `actual` fails to match `expected`, as `path: expected ..., got ...` lines."""
    where = path or "(top)"
    if expected is ABSENT:
        return [f"{where}: expected <absent>, got {_show(actual)}"]
    if expected is UNKNOWN:
        return [] if actual is UNKNOWN else [f"{where}: expected <unknown> until apply, got {_show(actual)}"]
    if actual is UNKNOWN:
        return [f"{where}: <unknown> until apply, expected {_show(expected)}"]
    if expected is EMPTY:
        return [] if actual in (None, [], {}, "") else [f"{where}: expected <empty>, got {_show(actual)}"]
    if isinstance(expected, Json):
        if not isinstance(actual, str):
            return [f"{where}: expected a JSON string, got {_show(actual)}"]
        try:
            decoded = json.loads(actual)
        except ValueError as error:
            return [f"{where}: not valid JSON ({error}): {_show(actual)}"]
        return mismatches(expected.content, decoded, path)
    if isinstance(expected, Exact):
        found = _mapping_mismatches(expected.mapping, actual, path)
        if isinstance(actual, dict) and (extra := sorted(set(actual) - set(expected.mapping))):
            found.append(f"{where}: unexpected keys {extra} (values {_show({k: actual[k] for k in extra})})")
        return found
    if isinstance(expected, dict):
        return _mapping_mismatches(expected, actual, path)
    if isinstance(expected, Unordered):
        return _unordered_mismatches(expected.items, actual, path)
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: expected a list, got {_show(actual)}"]
        if len(expected) != len(actual):
            return [f"{where}: expected {len(expected)} items, got {len(actual)}: {_show(actual)}"]
        return [
            m
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for m in mismatches(e, a, f"{path}[{i}]")
        ]
    if type(expected) is not type(actual) or expected != actual:
        return [f"{where}: expected {_show(expected)}, got {_show(actual)}"]
    return []


def _mapping_mismatches(expected: dict[str, Any], actual: Any, path: str) -> list[str]:
    if not isinstance(actual, dict):
        return [f"{path or '(top)'}: expected a mapping, got {_show(actual)}"]
    found: list[str] = []
    for key, value in expected.items():
        child = f"{path}.{key}" if path else str(key)
        if value is ABSENT:
            if key in actual:
                found.append(f"{child}: expected <absent>, got {_show(actual[key])}")
        elif key not in actual:
            found.append(f"{child}: missing, expected {_show(value)}")
        else:
            found.extend(mismatches(value, actual[key], child))
    return found


def _unordered_mismatches(expected: list[Any], actual: Any, path: str) -> list[str]:
    where = path or "(top)"
    if not isinstance(actual, list):
        return [f"{where}: expected a list, got {_show(actual)}"]
    if len(expected) != len(actual):
        return [f"{where}: expected {len(expected)} items in any order, got {len(actual)}: {_show(actual)}"]
    unused = list(range(len(actual)))
    found: list[str] = []
    for number, item in enumerate(expected):
        attempts = {i: mismatches(item, actual[i], f"{path}[{i}]") for i in unused}
        exact = next((i for i, result in attempts.items() if not result), None)
        if exact is not None:
            unused.remove(exact)
            continue
        closest = min(attempts, key=lambda i: len(attempts[i]))
        found.append(f"{where}: no item matches expected item {number}; closest is [{closest}]:")
        found.extend(f"    {line}" for line in attempts[closest])
    return found


def _show(value: Any, limit: int = 300) -> str:
    text = repr(value) if isinstance(value, _Marker) else json.dumps(value, default=_plain, sort_keys=True)
    text = redact_key_like(text)  # a key-like run is never shown whole: no leaked key in CI logs
    return text if len(text) <= limit else text[:limit] + "…"


def _plain(value: Any) -> Any:
    if isinstance(value, Json):
        return {"!json": value.content}
    if isinstance(value, Exact):
        return {"!exact": value.mapping}
    if isinstance(value, Unordered):
        return {"!unordered": value.items}
    return repr(value)
