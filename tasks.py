"""Tasks of s3-sse-patterns. Run them through ./inv, which sets up the virtualenvs first.

./inv up                   emulator + build + apply (the default env is local)
./inv apply --env aws      deploy to the AWS account of your credentials
./inv test                 everything CI runs

A ProjectError raised by any task becomes one line on stderr and exit code 1, never a traceback: the
Executor in ssepatterns/executor.py does it for every task (invoke.yaml), so no task needs a decorator.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from invoke import Collection, Context, Exit, task

from ssepatterns import background, local_world, module_docs, pattern_docs, stack, workflow_lint
from ssepatterns import lock as lock_module
from ssepatterns import scan as policy_scan
from ssepatterns import state_bucket as state_bucket_module
from ssepatterns import unlock as unlock_module
from ssepatterns.emulator import control as emulator_control
from ssepatterns.envs import AWS_STATE_DIR, DEFAULT_ENV, Env, aws_env, check_env_name, resolve
from ssepatterns.errors import ProjectError
from ssepatterns.paths import BUILD_DIR, ENVS_DIR, EXAMPLES_DIR, REPO_ROOT, TERRAFORM_DIR
from ssepatterns.reencrypt import local as reencrypt_local
from ssepatterns.reencrypt import run as reencrypt_run
from ssepatterns.steps import step
from ssepatterns.terraform import Terraform
from ssepatterns.verify import run as verification

ENV_HELP = "local (the emulator, default) or aws (the account of your AWS credentials)"
REGION_HELP = "AWS region for --env aws (default: region in terraform.tfvars, else your AWS configuration's)"
VAR_FILE_HELP = "a Terraform variable file for the env's inputs (repeatable; terraform.tfvars is read anyway)"
ENV_OPTIONS = {"env": ENV_HELP, "region": REGION_HELP, "var_file": VAR_FILE_HELP}


def _env(env: str, region: str | None = None, var_file: list[str] | None = None) -> Env:
    resolved = resolve(env, region, [Path(path) for path in var_file or []])
    if resolved.emulator is not None:
        state = emulator_control.status(resolved.emulator)
        if not state.running or state.endpoint != resolved.emulator.endpoint:
            raise ProjectError(
                f"the emulator is not running on port {resolved.emulator.port}: "
                "run ./inv up or ./inv emulator.start"
            )
        if not state.healthy:
            raise ProjectError(
                f"the emulator is running but not healthy ({state.detail}): see ./inv emulator.logs"
            )
    return resolved


def _coherent(target: Env) -> Env:
    """The local env after an emulator crash or a killed run: its world made coherent (local_world)."""
    if target.emulator is not None:
        notice = local_world.reconcile(target.emulator)
        if notice:
            print(notice)
    return target


# --- the emulator -------------------------------------------------------------------------------


@task
def emulator_start(c: Context) -> None:
    """Start the local emulator (MiniStack) in the background, if it is not running."""
    cfg = emulator_control.EmulatorConfig.from_env()
    with step(f"start emulator on {cfg.endpoint}"):
        print(emulator_control.start(cfg))


@task
def emulator_stop(c: Context) -> None:
    """Stop the local emulator; its state is kept in .ministack/ for the next start."""
    print(emulator_control.stop(emulator_control.EmulatorConfig.from_env()))


@task
def emulator_status(c: Context) -> None:
    """Say whether the local emulator is running and healthy (exit 1 when it is not running)."""
    state = emulator_control.status(emulator_control.EmulatorConfig.from_env())
    print(state.detail)
    if not state.running:
        raise Exit(code=1)


@task(help={"lines": "how many lines from the end of the log (default 100)"})
def emulator_logs(c: Context, lines: int = 100) -> None:
    """Show the end of the local emulator's log."""
    print(emulator_control.logs(emulator_control.EmulatorConfig.from_env(), lines=lines))


# --- the stack ----------------------------------------------------------------------------------


@task
def build(c: Context) -> None:
    """Build the two Lambda zips into build/lambda (reproducible: same sources, same bytes)."""
    stack.build()


def _initialised(target: Env) -> Terraform:
    """The zips built (the configuration reads their hashes, even to destroy) and the env initialised."""
    stack.build()
    tf = stack.terraform_for(target)
    stack.ensure_init(target, tf)
    return tf


@task(help=ENV_OPTIONS, iterable=["var_file"])
def plan(
    c: Context, env: str = DEFAULT_ENV, region: str | None = None, var_file: list[str] | None = None
) -> None:
    """Show what apply would change; the plan is saved to build/plans/<env>.tfplan."""
    target = _coherent(_env(env, region, var_file))
    stack.plan(target, _initialised(target))


@task(help=ENV_OPTIONS, iterable=["var_file"])
def apply(
    c: Context, env: str = DEFAULT_ENV, region: str | None = None, var_file: list[str] | None = None
) -> None:
    """Build, plan and apply the stack (applies only when the plan has changes)."""
    target = _coherent(_env(env, region, var_file))
    stack.apply(target, _initialised(target))


@task(help=ENV_OPTIONS, iterable=["var_file"])
def destroy(
    c: Context, env: str = DEFAULT_ENV, region: str | None = None, var_file: list[str] | None = None
) -> None:
    """Destroy every resource of the stack."""
    target = _env(env, region, var_file)
    stack.destroy(target, _initialised(target))


@task(
    help={
        **ENV_OPTIONS,
        "lock_id": "the lock id the locked run's error named (required)",
        "min_age": "refuse a lock younger than this many minutes (default: the deployer role's session, 60)",
    },
    iterable=["var_file"],
)
def unlock(
    c: Context,
    env: str = DEFAULT_ENV,
    region: str | None = None,
    var_file: list[str] | None = None,
    lock_id: str = "",
    min_age: int = unlock_module.DEFAULT_MIN_AGE_MINUTES,
) -> None:
    """Release a state lock a killed run left (terraform force-unlock), never a live run's."""
    if not lock_id:
        raise ProjectError(
            "give the lock id: ./inv unlock --env <env> --lock-id <id> (the locked run's error names it)"
        )
    target = resolve(env, region, [Path(path) for path in var_file or []])
    tf = stack.terraform_for(target)
    stack.ensure_init(target, tf)
    print(unlock_module.unlock(target, tf, lock_id, min_age))


@task(help=ENV_OPTIONS, iterable=["var_file"])
def outputs(
    c: Context, env: str = DEFAULT_ENV, region: str | None = None, var_file: list[str] | None = None
) -> None:
    """Print the stack's outputs as JSON (sensitive ones are left out)."""
    target = resolve(env, region, [Path(path) for path in var_file or []])
    values = stack.outputs(target, stack.terraform_for(target, echo=False))
    public = {name: value for name, value in values.items() if name not in stack.SENSITIVE_OUTPUTS}
    print(json.dumps(public, indent=2, sort_keys=True))


@task(
    help={
        **ENV_OPTIONS,
        "json": "also write the JSON report here (default build/reports/verify-<env>.json)",
        "junit": "also write the JUnit XML report here (default build/reports/verify-<env>.xml)",
    },
    iterable=["var_file"],
)
def verify(
    c: Context,
    env: str = DEFAULT_ENV,
    region: str | None = None,
    var_file: list[str] | None = None,
    json: str | None = None,
    junit: str | None = None,
) -> None:
    """Prove every pattern on the deployed stack with real round trips; a table, JSON and JUnit."""
    target = _env(env, region, var_file)  # fail early and clearly: unknown env, no emulator, no credentials
    try:
        with step(f"verify the {target.label} stack"):
            verification.run(target, json, junit)
    finally:
        stack.save_emulator(target)  # the checks' objects and key versions survive an emulator crash


REENCRYPT_OPTIONS = {
    "workers": f"parallel copies (default {reencrypt_local.DEFAULT_WORKERS}; docs/performance.md)",
    "engine": "local (a thread pool here) or stepfunctions (the Distributed Map, when deployed)",
    "prefix": "only the objects under this key prefix",
    "json": "write the run's report (job, engine, workers, objects, bytes, seconds, objects_per_s, ...) here",
    "multipart_threshold_mib": "copy objects larger than this part by part (UploadPartCopy; default 5120)",
    "break_lock": "take the lock even if its lease has not expired (the other run is dead)",
}


def _reencrypt_options(
    engine: str,
    workers: int,
    prefix: str,
    json: str | None,
    multipart_threshold_mib: int,
    break_lock: bool,
) -> reencrypt_run.Options:
    return reencrypt_run.Options(engine, workers, prefix, json, multipart_threshold_mib, break_lock)


@task(
    help={
        **ENV_OPTIONS,
        **REENCRYPT_OPTIONS,
        "resume": "only complete an interrupted rotation; with none in progress, do nothing",
        "allow_unreadable_noncurrent": "retire the old key although noncurrent versions (versioned bucket) "
        "are under it: they become unreadable",
        "keep_tags": "keep each object's other tags (read first: two requests per object instead of one); "
        "without it the key-version tag becomes each object's only tag",
    },
    iterable=["var_file"],
)
def rotate_sse_c_key(
    c: Context,
    env: str = DEFAULT_ENV,
    region: str | None = None,
    var_file: list[str] | None = None,
    resume: bool = False,
    break_lock: bool = False,
    workers: int = 0,
    engine: str = "local",
    prefix: str = "",
    json: str | None = None,
    multipart_threshold_mib: int = reencrypt_run.Options.multipart_threshold_mib,
    allow_unreadable_noncurrent: bool = False,
    keep_tags: bool = False,
) -> None:
    """Rotate the SSE-C key: a new secret version, every object re-encrypted in place, the old one retired."""
    options = _reencrypt_options(engine, workers, prefix, json, multipart_threshold_mib, break_lock)
    options.check()  # before the stack is looked at: a bad option says so first
    target = _env(env, region, var_file)
    with step(f"rotate the SSE-C key [{target.label}]"):
        reencrypt_run.rotate(
            target,
            options,
            resume_only=resume,
            allow_unreadable_noncurrent=allow_unreadable_noncurrent,
            keep_tags=keep_tags,
        )


@task(
    help={
        **ENV_OPTIONS,
        **REENCRYPT_OPTIONS,
        "to_bucket": "the destination bucket (its default encryption applies, e.g. the SSE-KMS CMK bucket)",
        "delete_source": "delete each SSE-C source after its copy is verified (size and checksum)",
    },
    iterable=["var_file"],
)
def migrate_sse_c(
    c: Context,
    to_bucket: str = "",
    env: str = DEFAULT_ENV,
    region: str | None = None,
    var_file: list[str] | None = None,
    delete_source: bool = False,
    break_lock: bool = False,
    workers: int = 0,
    engine: str = "local",
    prefix: str = "",
    json: str | None = None,
    multipart_threshold_mib: int = reencrypt_run.Options.multipart_threshold_mib,
) -> None:
    """Migrate SSE-C objects to another bucket's default encryption (same keys; a re-run skips the done)."""
    options = _reencrypt_options(engine, workers, prefix, json, multipart_threshold_mib, break_lock)
    options.check()
    if not to_bucket:
        raise ProjectError("--to-bucket NAME is required (e.g. the SSE-KMS CMK bucket: ./inv outputs)")
    target = _env(env, region, var_file)
    with step(f"migrate SSE-C objects to {to_bucket or '?'} [{target.label}]"):
        reencrypt_run.migrate(target, options, to_bucket, delete_source=delete_source)


@task(
    help={
        **ENV_OPTIONS,
        "count": "how many objects (default 50)",
        "large_every": "every n-th object is large (default 10; 0: none)",
        "large_mib": "size of a large object in MiB (default 4)",
    },
    iterable=["var_file"],
)
def seed_objects(
    c: Context,
    env: str = DEFAULT_ENV,
    region: str | None = None,
    var_file: list[str] | None = None,
    count: int = 50,
    large_every: int = 10,
    large_mib: int = 4,
) -> None:
    """Write test objects to the SSE-C bucket as the upload function does (for a rotation to work on)."""
    if count < 0 or large_every < 0 or large_mib < 1:
        raise ProjectError("--count and --large-every must be 0 or more, --large-mib 1 or more")
    target = _env(env, region, var_file)
    with step(f"write {count} objects to the SSE-C bucket [{target.label}]"):
        reencrypt_run.seed(target, count, large_every, large_mib)


@task(help=ENV_OPTIONS, iterable=["var_file"])
def up(
    c: Context, env: str = DEFAULT_ENV, region: str | None = None, var_file: list[str] | None = None
) -> None:
    """The main job: start the emulator (local env), build the zips, apply the stack, verify it."""
    check_env_name(env)
    if env == "local":
        emulator_start(c)
    apply(c, env=env, region=region, var_file=var_file)
    verify(c, env=env, region=region, var_file=var_file)


@task(help=ENV_OPTIONS, iterable=["var_file"])
def down(
    c: Context, env: str = DEFAULT_ENV, region: str | None = None, var_file: list[str] | None = None
) -> None:
    """Destroy the stack; for the local env also stop the emulator."""
    check_env_name(env)
    if env == "local":
        cfg = emulator_control.EmulatorConfig.from_env()
        if not emulator_control.status(cfg).running:
            emulator_start(c)  # destroy needs it: resources live in its persisted state
    destroy(c, env=env, region=region, var_file=var_file)
    if env == "local":
        emulator_stop(c)


@task(help=ENV_OPTIONS, iterable=["var_file"])
def state_bucket(
    c: Context, env: str = "aws", region: str | None = None, var_file: list[str] | None = None
) -> None:
    """Create (or converge) the S3 bucket the aws env keeps its state in; write the backend settings."""
    if env != "aws":
        raise ProjectError("state-bucket is for --env aws: the local env keeps its state on this machine")
    target = aws_env(region, [Path(path) for path in var_file or []], root=AWS_STATE_DIR)
    with step(f"state bucket for account {target.account_id} [{target.region}]"):
        state_bucket_module.ensure(target)


@task(
    help={
        "json": "write the JSON report here (default build/reports/rehearsal.json)",
        "keep": "leave the throwaway emulator and its folder for inspection (printed at the end)",
    }
)
def rehearse(c: Context, json: str | None = None, keep: bool = False) -> None:
    """Deploy the aws env end to end on a throwaway emulator, as a deployer role of another account."""
    from ssepatterns import rehearsal

    report = rehearsal.run(Path(json).resolve() if json else BUILD_DIR / "reports" / "rehearsal.json", keep)
    if report["failures"]:
        raise ProjectError("the rehearsal failed: " + "; ".join(report["failures"]))


@task
def fmt(c: Context) -> None:
    """Format Terraform (terraform fmt) and Python (ruff format) in place."""
    if shutil.which("terraform") is None:
        raise ProjectError("terraform not found on PATH: install Terraform >= 1.11")
    c.run(f"terraform fmt -recursive {TERRAFORM_DIR} {EXAMPLES_DIR}", echo=True)
    c.run(f"{sys.executable} -m ruff format {REPO_ROOT}", echo=True)


@task
def docs(c: Context) -> None:
    """Regenerate the Inputs/Outputs tables of terraform/modules/*/README.md and the table of patterns
    (from the pattern registry) in README.md and the sse-patterns module's README."""
    for module_dir in module_docs.module_dirs():
        if module_docs.update(module_dir):
            print(f"updated {module_dir / 'README.md'}")
    for readme in pattern_docs.update():
        print(f"updated {readme} (table of patterns)")


@task(
    help={
        "runs": "runs per workflow; the median is reported (default 3)",
        "test_runs": "runs of the whole ./inv test (default 1: it takes minutes)",
        "json": "write the JSON report here (default build/bench/bench.json)",
        "only": "comma-separated workflows: up-cold, apply-warm, verify, down, test-plan, test, reencrypt",
        "objects": "reencrypt: objects to seed (default 2000; every 500th is 8 MiB)",
    }
)
def bench(
    c: Context,
    runs: int = 3,
    test_runs: int = 1,
    json: str | None = None,
    only: str | None = None,
    objects: int = 2000,
) -> None:
    """Time the daily workflows on a copy of this checkout against the provider-start-up floor; the
    re-encryption engines against the ceiling of a bare CopyObject loop (--only reencrypt)."""
    from tools import bench as benchmark

    if runs < 1 or test_runs < 1:
        raise ProjectError("--runs and --test-runs must be 1 or more (leave workflows out with --only)")
    selected = [name.strip() for name in only.split(",")] if only else None
    rc = benchmark.run(
        runs,
        Path(json).resolve() if json else None,
        test_runs=test_runs,
        only=selected,
        reencrypt_objects=objects,
    )
    if rc:
        raise Exit(code=rc)


# --- checks -------------------------------------------------------------------------------------


def _pytest(c: Context, *args: str) -> None:
    result = c.run(" ".join([sys.executable, "-m", "pytest", *args]), echo=True, warn=True, pty=False)
    if result is None or result.exited != 0:
        raise ProjectError(f"pytest {' '.join(args)} failed")


@task
def lint(c: Context) -> None:
    """Python lint and format check (ruff), type check (mypy, strict), Terraform format check, module
    README tables current, the GitHub workflows (actionlint, zizmor --offline)."""
    c.run(f"{sys.executable} -m ruff check {REPO_ROOT}", echo=True)
    c.run(f"{sys.executable} -m ruff format --check {REPO_ROOT}", echo=True)
    with step("mypy (strict): ssepatterns/, tools/, tasks.py, lambda_src/"), c.cd(str(REPO_ROOT)):
        # the paths and flags are [tool.mypy] in pyproject.toml, relative to the repository root
        if c.run(f"{sys.executable} -m mypy", echo=True, warn=True, pty=False).exited != 0:
            raise ProjectError("mypy found type errors (listed above)")
    unformatted = stack.terraform_fmt_check()
    if unformatted:
        raise ProjectError(f"terraform fmt would change: {', '.join(unformatted)} (run ./inv fmt)")
    stale = module_docs.stale(module_docs.module_dirs()) + pattern_docs.stale()
    if stale:
        raise ProjectError(f"READMEs out of date: {', '.join(map(str, stale))} (run ./inv docs)")
    with step("GitHub workflows: actionlint, zizmor --offline"):
        found = workflow_lint.findings()
        if found:
            raise ProjectError(f"{len(found)} workflow findings:\n" + "\n".join(found))


@task(help={"junit": "JUnit XML report path (default build/reports/checkov.xml)"})
def scan(c: Context, junit: str | None = None) -> None:
    """Policy scan of terraform/ with checkov (its own virtualenv); skips only inline, with a reason."""
    with step("checkov policy scan"):
        policy_scan.run_scan(Path(junit).resolve() if junit else BUILD_DIR / "reports" / "checkov.xml")


@task
def validate(c: Context) -> None:
    """terraform validate for each root module, the envs' and the examples' (no credentials, no backend)."""
    for parent in (ENVS_DIR, EXAMPLES_DIR):
        for root in sorted(path for path in parent.iterdir() if path.is_dir()):
            stack.validate(root)


@task(help={"args": "extra pytest arguments"})
def test_unit(c: Context, args: str = "") -> None:
    """Unit tests: no emulator, no real terraform (fakes, stubs, throwaway folders)."""
    _pytest(c, "tests/unit", f"--junitxml={BUILD_DIR / 'reports' / 'unit.xml'}", args)


@task(help={"args": "extra pytest arguments"})
def test_integration(c: Context, args: str = "") -> None:
    """Integration tests: the tooling against real emulators of their own and the real terraform."""
    _pytest(c, "tests/integration", f"--junitxml={BUILD_DIR / 'reports' / 'integration.xml'}", args)


@task(help={"args": "extra pytest arguments"})
def test_plan(c: Context, args: str = "") -> None:
    """Plan assertions (tftest) for both envs and the examples on a throwaway emulator; no credentials."""
    _pytest(c, "tests/plan", f"--junitxml={BUILD_DIR / 'reports' / 'plan.xml'}", args)


@task(help={"check": "write nothing; fail if a requirements file is not what its .in locks to"})
def lock(c: Context, check: bool = False) -> None:
    """Regenerate requirements.txt and requirements-checkov.txt from their .in files (fresh virtualenvs)."""
    differing = lock_module.lock(check)
    if check and differing:
        raise ProjectError(f"not what their .in files lock to: {', '.join(differing)} (run ./inv lock)")


@task(help={"args": "extra pytest arguments"})
def test_faults(c: Context, args: str = "") -> None:
    """Faults survived in a copy of the tree, its own emulator: a killed apply, a killed emulator, drift."""
    _pytest(c, "tests/faults", f"--junitxml={BUILD_DIR / 'reports' / 'faults.xml'}", args)


@task
def test_e2e(c: Context) -> None:
    """On the emulator: up (apply and verify), a second plan that must change nothing, down."""
    try:
        up(c)
        with step("idempotence: plan again, expecting no changes"):
            target = _env("local")
            if stack.plan(target, stack.terraform_for(target)):
                raise ProjectError("a second plan after apply has changes: the stack is not idempotent")
    finally:
        down(c)


def _e2e_beside_rehearsal_and_faults(c: Context) -> None:
    """The local end-to-end stage with the aws env's rehearsal and the fault tests beside it: separate
    emulators, state and folders; all three spend most of their time in the provider's waits."""
    stack.build()  # once, before any starts: the end to end and the rehearsal read the same zips
    reports = BUILD_DIR / "reports"
    with (
        background.beside(["rehearse"], reports / "rehearsal.log", "rehearsal of the aws env"),
        background.beside(["test-faults"], reports / "faults.log", "fault tests"),
    ):
        test_e2e(c)


@task
def test(c: Context) -> None:
    """Everything CI runs, in order, failing fast: lint, validate, scan, unit, integration, plan,
    end-to-end (with the rehearsal and the fault tests)."""
    stages: list[tuple[str, Callable[[], None]]] = [
        ("lint", lambda: lint(c)),
        ("validate", lambda: validate(c)),
        ("policy scan", lambda: scan(c)),
        ("unit tests", lambda: test_unit(c)),
        ("integration tests (own emulators)", lambda: test_integration(c)),
        ("plan assertions", lambda: test_plan(c)),
        (
            "end-to-end on the emulator, with the rehearsal of the aws env and the fault tests beside it",
            lambda: _e2e_beside_rehearsal_and_faults(c),
        ),
    ]
    for number, (title, run) in enumerate(stages, start=1):
        with step(f"stage {number}/{len(stages)}: {title}"):
            run()
    print(f"./inv test: all {len(stages)} stages passed")


ns = Collection(
    build,
    plan,
    apply,
    destroy,
    outputs,
    verify,
    up,
    down,
    rehearse,
    fmt,
    docs,
    lint,
    validate,
    scan,
    test,
    bench,
    lock,
    unlock,
)
ns.add_task(state_bucket, "state-bucket")
ns.add_task(rotate_sse_c_key, "rotate-sse-c-key")
ns.add_task(seed_objects, "seed-objects")
ns.add_task(migrate_sse_c, "migrate-sse-c")
ns.add_task(test_unit, "test-unit")
ns.add_task(test_integration, "test-integration")
ns.add_task(test_plan, "test-plan")
# invoke annotates task() as returning a bare Callable; a bare @task does return a Task.
ns.add_task(test_e2e, "test-e2e")  # type: ignore[arg-type]
ns.add_task(test_faults, "test-faults")
ns.add_collection(
    Collection(
        "emulator", start=emulator_start, stop=emulator_stop, status=emulator_status, logs=emulator_logs
    )
)
