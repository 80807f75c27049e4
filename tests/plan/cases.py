"""The cases kept as data: the plans that must fail on invalid inputs (invalid_inputs.yaml) and the
mutations of a copy of the code that the checks must catch (mutations.yaml), and applying those."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
INVALID_INPUTS = HERE / "invalid_inputs.yaml"
MUTATIONS = HERE / "mutations.yaml"


@dataclass(frozen=True)
class InvalidInputs:
    """One plan that must fail: several invalid variables at once, every message expected."""

    id: str
    name: str
    env: str
    variables: dict[str, str]
    messages: list[str]
    example: str | None = None  # plan examples/<example> (as the aws env) instead of the env's root


@dataclass(frozen=True)
class Mutation:
    """Edits of one Terraform file that the plan checks must notice, and the finding they should give."""

    name: str
    file: str
    edits: list[dict[str, str]]
    caught: str


def invalid_inputs() -> list[InvalidInputs]:
    return [InvalidInputs(**case) for case in yaml.safe_load(INVALID_INPUTS.read_text(encoding="utf-8"))]


def mutations() -> list[Mutation]:
    return [Mutation(**case) for case in yaml.safe_load(MUTATIONS.read_text(encoding="utf-8"))]


def apply_mutations(root: Path, edits: list[Mutation]) -> None:
    """Edit the copied tree; an edit whose text is not found exactly once is an error, so a mutation
    cannot silently stop applying when the code changes."""
    for mutation in edits:
        path = root / mutation.file
        text = path.read_text(encoding="utf-8")
        for edit in mutation.edits:
            if (count := text.count(edit["replace"])) != 1:
                raise AssertionError(
                    f"mutation {mutation.name!r}: {edit['replace']!r} occurs {count} times in {mutation.file}"
                )
            text = text.replace(edit["replace"], edit["by"])
        path.write_text(text, encoding="utf-8")
