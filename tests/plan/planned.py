"""PlannedEnv: one saved plan of one env, and the views of it the assertions read (resources, actions,
outputs, the configuration section flattened, the configuration source by module)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import tftest

from .matcher import UNKNOWN
from .snapshot import Tree, module_snapshot


@dataclass
class PlannedEnv:
    """One saved plan of one env and views of it for the assertions.

    Views hold planned values with unknown ones replaced by matcher.UNKNOWN (the JSON plan leaves
    them out of `after` and flags them in `after_unknown`).
    """

    name: str
    facts: dict[str, str]
    plan: tftest.TerraformPlanOutput
    plan_json: str
    plan_file: Path

    @cached_property
    def resources(self) -> dict[str, Any]:
        """Every resource and data source by address: what it will be after apply, as far as known.

        Managed resources and data sources read at apply come from resource_changes; data sources
        the plan could read already are in prior_state, fully known.
        """
        views: dict[str, Any] = {
            address: values
            for address, values in _walk(self.plan["prior_state"].get("values", {}).get("root_module", {}))
        }
        for change in self.plan["resource_changes"]:
            views[change["address"]] = with_unknowns(
                change["change"]["after"], change["change"]["after_unknown"]
            )
        return views

    @cached_property
    def actions(self) -> dict[str, list[str]]:
        return {change["address"]: change["change"]["actions"] for change in self.plan["resource_changes"]}

    @cached_property
    def outputs(self) -> dict[str, Any]:
        return {
            name: with_unknowns(change.get("after"), change["after_unknown"])  # no "after" when unknown
            for name, change in self.plan["output_changes"].items()
        }

    @cached_property
    def configuration(self) -> dict[str, Any]:
        """The configuration section flattened: resources, module calls (`module.a.module.b`, without
        their body), outputs (`module.a.output.x`) and provider configs (`provider.aws`)."""
        flat: dict[str, Any] = {}
        for key, provider in self.plan["configuration"].get("provider_config", {}).items():
            flat[f"provider.{key}"] = provider
        _flatten_module(self.plan["configuration"]["root_module"], "", flat)
        return flat

    def snapshot(self, module_key: str) -> Tree:
        """The configuration source the plan was made from, for one module (see snapshot.py)."""
        return module_snapshot(self.plan_file, module_key)


def with_unknowns(after: Any, unknown: Any) -> Any:
    """`after` with every value flagged in `after_unknown` replaced by UNKNOWN."""
    if unknown is True:
        return UNKNOWN
    if isinstance(unknown, dict):
        after = dict(after) if isinstance(after, dict) else {}
        for key, flag in unknown.items():
            after[key] = with_unknowns(after.get(key), flag)
        return after
    if isinstance(unknown, list) and isinstance(after, list):
        return [with_unknowns(a, u) for a, u in zip(after, unknown + [False] * len(after), strict=False)]
    return after


def _walk(module: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for resource in module.get("resources", []):
        yield resource["address"], resource.get("values", {})
    for child in module.get("child_modules", []):
        yield from _walk(child)


def _flatten_module(module: dict[str, Any], prefix: str, flat: dict[str, Any]) -> None:
    for resource in module.get("resources", []):
        flat[prefix + resource["address"]] = resource
    for name, output in module.get("outputs", {}).items():
        flat[f"{prefix}output.{name}"] = output
    for name, call in module.get("module_calls", {}).items():
        address = f"{prefix}module.{name}"
        flat[address] = {k: v for k, v in call.items() if k != "module"}
        _flatten_module(call.get("module", {}), address + ".", flat)
