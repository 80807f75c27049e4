"""The critical path of an apply.

The apply walk is the wall time from the first resource operation an apply starts to the last one it
completes (from the shim's stamped lines: "X: Creating..." to "X: Creation complete after ..."). The
dependencies are the ones Terraform recorded in the state for each resource instance. The longest
provider-imposed chain is the longest path through those dependencies where each resource weighs
the time the provider spent on it (its API calls and its own polling and propagation waits: the KMS
key's ~12 s, a function's polling until Active), and a resource that runs our code (terraform_data:
the BlockedEncryptionTypes helper) weighs nothing. walk / chain is then 1 when nothing in the walk
waited for anything but the provider, and grows with every wait of ours and every resource queued
behind one it does not need.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tools.bench.figures import rounded

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_OPERATION = re.compile(
    r"^(?P<address>[^\s:][^:]*?): (?:(?P<start>Creating|Modifying|Destroying|Reading)\.\.\.|"
    r"(?P<end>Creation|Modifications|Destruction|Read) complete after)"
)
_INSTANCE_KEY = re.compile(r"\[[^\]]*\]")
OURS = ("terraform_data.", "null_resource.")  # resources whose time is our code (a provisioner)


@dataclass(frozen=True)
class Operation:
    address: str  # the resource instance, as terraform prints it
    started: float  # epoch seconds
    ended: float

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def provider_imposed(self) -> bool:
        return not resource_part(self.address).startswith(OURS)


def parse_operations(stamped: str) -> list[Operation]:
    """The resource operations of an apply from its stamped output (`<epoch>\\t<line>`), in start order;
    one that never completed (a failed or killed apply) is left out."""
    started: dict[str, float] = {}
    done: list[Operation] = []
    for line in stamped.splitlines():
        stamp, _, text = line.partition("\t")
        match = _OPERATION.match(_ANSI.sub("", text).strip())
        if not match:
            continue
        try:
            when = float(stamp)
        except ValueError:
            continue
        address = match["address"]
        if match["start"]:
            started.setdefault(address, when)
        elif address in started:
            done.append(Operation(address, started.pop(address), when))
    return sorted(done, key=lambda op: op.started)


def resource_part(address: str) -> str:
    """`aws_s3_bucket.this` of `module.a["k"].module.b.aws_s3_bucket.this[0]`."""
    parts = re.split(r"\.(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", address)  # dots outside quoted keys
    while parts and parts[0] == "module":
        parts = parts[2:]
    return ".".join(parts)


def state_dependencies(state: dict[str, Any]) -> dict[str, set[str]]:
    """Instance address -> the resource addresses it depends on, as recorded in a Terraform state."""
    found: dict[str, set[str]] = {}
    for resource in state.get("resources", []):
        prefix = f"{resource['module']}." if resource.get("module") else ""
        base = (
            prefix
            + ("data." if resource.get("mode") == "data" else "")
            + f"{resource['type']}.{resource['name']}"
        )
        for instance in resource.get("instances", []):
            key = instance.get("index_key")
            address = base if key is None else f"{base}[{json.dumps(key)}]"
            found[address] = set(instance.get("dependencies", []))
    return found


@dataclass(frozen=True)
class CriticalPath:
    walk_seconds: float
    chain_seconds: float  # provider-imposed
    chain: tuple[tuple[str, float, bool], ...]  # (address, seconds, provider-imposed), in order

    @property
    def ratio(self) -> float | None:
        return self.walk_seconds / self.chain_seconds if self.chain_seconds > 0 else None

    def to_json(self) -> dict[str, Any]:
        return {
            "apply_walk_seconds": round(self.walk_seconds, 2),
            "provider_chain_seconds": round(self.chain_seconds, 2),
            "critical_path_ratio": rounded(self.ratio),
            "chain": [
                {"address": address, "seconds": round(seconds, 2), "provider_imposed": imposed}
                for address, seconds, imposed in self.chain
            ],
        }


def critical_path(operations: Sequence[Operation], dependencies: dict[str, set[str]]) -> CriticalPath | None:
    """The apply walk and the longest provider-imposed chain through `dependencies` (see above)."""
    if not operations:
        return None
    by_address = {op.address: op for op in operations}

    def instances_of(resource: str) -> list[str]:  # a dependency names a resource; count/for_each expand it
        return [a for a in by_address if a == resource or _INSTANCE_KEY.fullmatch(a.removeprefix(resource))]

    best: dict[str, tuple[float, str | None]] = {}  # address -> (chain seconds ending here, predecessor)
    for op in operations:  # in start order: whatever it depends on ran (and completed) before it
        weight = op.seconds if op.provider_imposed else 0.0
        before = [
            (best[d][0], d)
            for resource in dependencies.get(op.address, ())
            for d in instances_of(resource)
            if d in best
        ]
        top = max(
            before,
            default=(0.0, None),
            key=lambda item: (item[0], by_address[item[1]].ended if item[1] else 0.0),
        )
        best[op.address] = (top[0] + weight, top[1])
    # The heaviest chain; of equal ones, the one that ends last (it shows what of ours followed).
    end = max(best, key=lambda address: (best[address][0], by_address[address].ended))
    chain: list[tuple[str, float, bool]] = []
    cursor: str | None = end
    while cursor is not None:
        op = by_address[cursor]
        chain.append((cursor, op.seconds, op.provider_imposed))
        cursor = best[cursor][1]
    walk = max(op.ended for op in operations) - min(op.started for op in operations)
    return CriticalPath(walk, best[end][0], tuple(reversed(chain)))
