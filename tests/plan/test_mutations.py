"""The suite has teeth: each mutation of mutations.yaml, applied to a copy of the Terraform code,
shows up in the findings of the very checks that find nothing on the real code."""

from __future__ import annotations

import pytest

from .cases import mutations
from .checks import (
    inventory_files,
    inventory_mismatches,
    ordering_findings,
    secret_findings,
    wildcard_findings,
)
from .planned import PlannedEnv

pytestmark = pytest.mark.plan

MUTATIONS = {mutation.name: mutation for mutation in mutations()}


@pytest.fixture(scope="module")
def mutant_findings(mutant: PlannedEnv) -> list[str]:
    found = [line for path in inventory_files() for line in inventory_mismatches(mutant, path)]
    return found + secret_findings(mutant) + wildcard_findings(mutant) + ordering_findings(mutant)


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_mutation_is_caught(mutant_findings: list[str], name: str) -> None:
    caught = MUTATIONS[name].caught
    assert any(caught in line for line in mutant_findings), (
        f"no finding contains {caught!r}; the mutant's findings:\n" + "\n".join(mutant_findings)
    )
