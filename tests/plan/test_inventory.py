"""Every inventory file (expected values as YAML, see README.md) against the plan of each env."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssepatterns.paths import REPO_ROOT

from .checks import inventory_files, inventory_mismatches, ordering_findings
from .fixtures import SAVE_COMMAND, SAVED_DIR
from .jobs import PlannedEnvs
from .workspace import ENVS

pytestmark = pytest.mark.plan


@pytest.mark.parametrize("inventory", inventory_files(), ids=lambda path: path.stem)
@pytest.mark.parametrize("env", ENVS)
def test_plan_matches_inventory(planned: PlannedEnvs, env: str, inventory: Path) -> None:
    found = inventory_mismatches(planned[env], inventory)
    assert not found, (
        f"the {env} plan does not match {inventory.name}:\n"
        + "\n".join(found)
        + f"\n(after an intended change, `{SAVE_COMMAND}` writes each plan as inventory YAML to "
        f"{SAVED_DIR.relative_to(REPO_ROOT)}/ to copy from)"
    )


@pytest.mark.parametrize("env", ENVS)
def test_plan_only_creates(planned: PlannedEnvs, env: str) -> None:
    """A plan from no state creates everything: anything else means the inputs were not isolated."""
    others = {
        address: actions
        for address, actions in planned[env].actions.items()
        if actions not in (["create"], ["read"])
    }
    assert not others, f"unexpected actions in the {env} plan: {others}"


@pytest.mark.parametrize("env", ENVS)
def test_only_the_key_buckets_wait_for_the_key(planned: PlannedEnvs, env: str) -> None:
    found = ordering_findings(planned[env])
    assert not found, "\n".join(found)
