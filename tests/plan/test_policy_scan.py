"""checkov over the plans: every resource instance with its planned values.

The policy scan of the configuration (`./inv scan`) sees each module call over the pattern registry once,
unexpanded, its inputs unresolved (ssepatterns/scan.py says why); a plan has each pattern's bucket with its
own encryption settings. Each env is scanned as it deploys by default and with the re-encryption engine on
(its resources exist only then), and so is each example, which the configuration scan does not cover.
"""

from __future__ import annotations

from concurrent.futures import Future

import pytest

from ssepatterns.scan import ScanResult

from .fixtures import SCANNED

pytestmark = pytest.mark.plan


@pytest.mark.parametrize("scanned", SCANNED)
def test_checkov_passes_every_resource_instance_of_the_plan(
    plan_scans: dict[str, Future[ScanResult]], scanned: str
) -> None:
    result = plan_scans[scanned].result()  # ScanFailed names what failed
    assert result.passed, result.summary
