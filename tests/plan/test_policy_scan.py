"""checkov over the plans: every resource instance with its planned values.

The policy scan of the configuration (`./inv scan`) sees each module call over the pattern registry once,
unexpanded, its inputs unresolved (ssepatterns/scan.py says why); a plan has each pattern's bucket with its
own encryption settings. Each env is scanned as it deploys by default and with the re-encryption engine on
(its resources exist only then), and so is each example, which the configuration scan does not cover.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from ssepatterns.paths import EXAMPLES_DIR, TERRAFORM_DIR
from ssepatterns.scan import ScanResult, scan_plan

from .jobs import PlannedEngineEnvs, PlannedEnvs, PlannedExamples
from .planned import PlannedEnv
from .workspace import ENVS, EXAMPLES

pytestmark = pytest.mark.plan

SCANNED = [*ENVS, *[f"{env}-engine" for env in ENVS], *[f"example-{name}" for name in EXAMPLES]]
SCANS_AT_ONCE = 2  # checkov keeps one core busy for ~3 s a plan


@pytest.fixture(scope="module")
def scans(
    planned: PlannedEnvs,
    planned_engine: PlannedEngineEnvs,
    planned_example: PlannedExamples,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Future[ScanResult]]]:
    """Every scan, started at once, each when its plan is there; a failed plan fails its scan only."""
    plans: dict[str, tuple[Callable[[], PlannedEnv], Path]] = {
        **{env: (lambda env=env: planned[env], TERRAFORM_DIR / "envs" / env) for env in ENVS},
        **{
            f"{env}-engine": (lambda env=env: planned_engine[env], TERRAFORM_DIR / "envs" / env)
            for env in ENVS
        },
        **{
            f"example-{name}": (lambda name=name: planned_example[name], EXAMPLES_DIR / name)
            for name in EXAMPLES
        },
    }
    with ThreadPoolExecutor(max_workers=SCANS_AT_ONCE, thread_name_prefix="checkov") as pool:
        yield {
            key: pool.submit(_scan, plan_of, root_module, tmp_path_factory.mktemp(f"checkov-{key}"))
            for key, (plan_of, root_module) in plans.items()
        }


@pytest.mark.parametrize("scanned", SCANNED)
def test_checkov_passes_every_resource_instance_of_the_plan(
    scans: dict[str, Future[ScanResult]], scanned: str
) -> None:
    result = scans[scanned].result()  # ScanFailed names what failed
    assert result.passed, result.summary


def _scan(plan_of: Callable[[], PlannedEnv], root_module: Path, tmp_path: Path) -> ScanResult:
    plan_json = tmp_path / "plan.json"
    plan_json.write_text(plan_of().plan_json, encoding="utf-8")
    return scan_plan(plan_json, root_module)
