"""No wildcard in the identity policies the configuration defines (see checks.wildcard_findings for
the two narrow exceptions IAM imposes), and no managed policy beyond the accepted one."""

from __future__ import annotations

import pytest

from .checks import wildcard_findings
from .jobs import PlannedEnvs
from .workspace import ENVS

pytestmark = pytest.mark.plan


@pytest.mark.parametrize("env", ENVS)
def test_no_wildcards_in_identity_policies(planned: PlannedEnvs, env: str) -> None:
    found = wildcard_findings(planned[env])
    assert not found, "\n".join(found)
