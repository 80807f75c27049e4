"""The plan suite's fixtures (a pytest plugin, see conftest.py): the session's workspace, every plan the
selected tests need started at once, and each plan awaited where a test asks for it."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from ssepatterns.paths import EXAMPLES_DIR, REPO_ROOT, TERRAFORM_DIR
from ssepatterns.scan import ScanResult, scan_plan

from .cases import apply_mutations, invalid_inputs, mutations
from .checks import plan_summary
from .jobs import BACKGROUND_JOBS, PlanJobs, PlannedEngineEnvs, PlannedEnvs, PlannedExamples, lower_priority
from .planned import PlannedEnv
from .workspace import ENVS, EXAMPLES, Command, Workspace, open_workspace

COMMANDS = pytest.StashKey[list[Command]]()
SAVE_OPTION = "--save-inventory"
SAVED_DIR = REPO_ROOT / "build" / "plan-inventory"
SAVE_COMMAND = f"./inv test-plan --args='-k inventory {SAVE_OPTION}'"
SETUP_SECONDS = pytest.StashKey[float]()
SCANS = pytest.StashKey[dict[str, str]]()  # each plan's checkov summary, or why there is none
SCANS_AT_ONCE = 2  # checkov keeps one core busy for ~3 s a plan
# The plans checkov scans (plan_scans), by name: each env as it deploys by default and with the engine on
# (its resources exist only then), and each example.
SCANNED = (*ENVS, *(f"{env}-engine" for env in ENVS), *(f"example-{name}" for name in EXAMPLES))
# The opt-in re-encryption engine switched on, with a MaxConcurrency no default has.
ENGINE_ON = {"enable_reencrypt_engine": "true", "reencrypt_max_concurrency": "7"}


@pytest.fixture(scope="session")
def plan_workspace(request: pytest.FixtureRequest) -> Iterator[Workspace]:
    started = time.monotonic()
    with open_workspace() as workspace:
        request.config.stash[COMMANDS] = workspace.commands
        request.config.stash[SETUP_SECONDS] = time.monotonic() - started
        yield workspace


@pytest.fixture(scope="session")
def plan_jobs(plan_workspace: Workspace, request: pytest.FixtureRequest) -> Iterator[PlanJobs]:
    """Start every plan the selected tests need at once: they overlap their provider start-ups.
    What is needed is read from the fixtures of the selected tests (-k, paths), so a partial run
    plans only what it checks."""
    items = request.session.items
    wanted = {name for item in items for name in getattr(item, "fixturenames", ())}
    envs = {env for item in items if "planned" in getattr(item, "fixturenames", ()) for env in _envs_of(item)}
    workspace = plan_workspace
    with (
        ThreadPoolExecutor(max_workers=len(ENVS) + len(EXAMPLES), thread_name_prefix="plan") as main,
        ThreadPoolExecutor(
            max_workers=BACKGROUND_JOBS, thread_name_prefix="plan-bg", initializer=lower_priority
        ) as background,
    ):
        jobs = PlanJobs(main, background)
        for env in sorted(envs):
            jobs.submit(("plan", env), functools.partial(workspace.plan, env))
        if "planned_engine" in wanted:
            for env in ("local", "aws"):
                plan_engine = functools.partial(workspace.plan, env, label=f"engine-{env}", extra=ENGINE_ON)
                jobs.submit(("engine", env), plan_engine)
        if "planned_example" in wanted:
            for name in EXAMPLES:
                jobs.submit(("example", name), functools.partial(workspace.plan_example, name))
        if "validation_failures" in wanted:
            for number, case in enumerate(invalid_inputs()):
                plan = functools.partial(
                    workspace.plan_failure, case.env, case.variables, f"invalid-{number}", case.example
                )
                jobs.submit(("invalid", case.id), plan, background=True)
        if "mutant" in wanted:
            edits = mutations()
            tree = workspace.tree("mutant", mutate=lambda root: apply_mutations(root, edits))
            plan_mutant = functools.partial(workspace.plan, "aws", tree=tree, label="mutant-aws")
            jobs.submit(("mutant", "aws"), plan_mutant, background=True)
        try:
            yield jobs
        finally:
            for pool in (main, background):
                pool.shutdown(wait=True, cancel_futures=True)


def _envs_of(item: pytest.Item) -> tuple[str, ...]:
    """The env a test is parametrised with, or all of them."""
    callspec = getattr(item, "callspec", None)
    env = callspec.params.get("env") if callspec else None
    return (env,) if env else ENVS


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        SAVE_OPTION,
        action="store_true",
        help=f"write each planned env as inventory YAML (counts, values, outputs) to {SAVED_DIR}/<env>.yaml",
    )


@pytest.fixture(scope="session")
def planned(plan_jobs: PlanJobs, request: pytest.FixtureRequest) -> Iterator[PlannedEnvs]:
    envs = PlannedEnvs(plan_jobs)
    yield envs
    if request.config.getoption(SAVE_OPTION):
        SAVED_DIR.mkdir(parents=True, exist_ok=True)
        for env in envs.planned_so_far():
            path = SAVED_DIR / f"{env.name}.yaml"
            path.write_text(yaml.safe_dump(plan_summary(env), sort_keys=False, width=120), encoding="utf-8")
            print(f"\nplan summary of {env.name}: {path} (copy what an inventory should state)")


@pytest.fixture(scope="session")
def planned_engine(plan_jobs: PlanJobs) -> PlannedEngineEnvs:
    """Each env planned with the re-encryption engine on (ENGINE_ON)."""
    return PlannedEngineEnvs(plan_jobs)


@pytest.fixture(scope="session")
def validation_failures(plan_jobs: PlanJobs) -> dict[str, str]:
    """The output of each invalid-inputs plan, by case id ("" for a plan that succeeded)."""
    return {case.id: plan_jobs.result(("invalid", case.id)) for case in invalid_inputs()}


@pytest.fixture(scope="session")
def mutant(plan_jobs: PlanJobs) -> PlannedEnv:
    """The aws env planned from a copy with every mutation of mutations.yaml applied."""
    return plan_jobs.result(("mutant", "aws"))


@pytest.fixture(scope="session")
def planned_example(plan_jobs: PlanJobs) -> PlannedExamples:
    return PlannedExamples(plan_jobs)


@pytest.fixture(scope="session")
def plan_scans(
    planned: PlannedEnvs,
    planned_engine: PlannedEngineEnvs,
    planned_example: PlannedExamples,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[dict[str, Future[ScanResult]]]:
    """checkov over every plan of SCANNED (ssepatterns.scan.scan_plan), by name. All started at once, each
    when its plan is there; a failed plan fails its scan only."""
    plans: dict[str, tuple[Callable[[], PlannedEnv], Path]] = {
        **{env: (functools.partial(planned.__getitem__, env), TERRAFORM_DIR / "envs" / env) for env in ENVS},
        **{
            f"{env}-engine": (
                functools.partial(planned_engine.__getitem__, env),
                TERRAFORM_DIR / "envs" / env,
            )
            for env in ENVS
        },
        **{
            f"example-{name}": (functools.partial(planned_example.__getitem__, name), EXAMPLES_DIR / name)
            for name in EXAMPLES
        },
    }
    assert tuple(plans) == SCANNED
    summaries: dict[str, str] = request.config.stash.setdefault(SCANS, {})
    with ThreadPoolExecutor(max_workers=SCANS_AT_ONCE, thread_name_prefix="checkov") as pool:
        scans = {}
        for key, (plan_of, root_module) in plans.items():
            scans[key] = pool.submit(_scan, plan_of, root_module, tmp_path_factory.mktemp(f"checkov-{key}"))
            scans[key].add_done_callback(functools.partial(_note_summary, summaries, key))
        yield scans


def _scan(plan_of: Callable[[], PlannedEnv], root_module: Path, tmp_path: Path) -> ScanResult:
    plan_json = tmp_path / "plan.json"
    plan_json.write_text(plan_of().plan_json, encoding="utf-8")
    return scan_plan(plan_json, root_module)


def _note_summary(summaries: dict[str, str], key: str, scan: Future[ScanResult]) -> None:
    error = None if scan.cancelled() else scan.exception()
    if scan.cancelled() or error is not None:
        summaries[key] = "not scanned" if scan.cancelled() else f"failed ({type(error).__name__})"
    else:
        summaries[key] = scan.result().summary.removeprefix("checkov: ")
