"""Plan each root config once per session, against a throwaway emulator, from a copy of terraform/.

Why each piece:
- A copy: tftest's cleanup deletes `.terraform`, the lock file and the state of the directory it
  is given, and a plan must never touch the deployed stack's state. The whole terraform/ tree is
  copied (the envs call ../../modules/...), without .terraform or state, with the committed lock file.
- A throwaway emulator on a free port with its own state folder: the plans read data sources
  (caller identity, the SSE-C key's ephemeral GetRandomPassword), and must neither depend on nor
  disturb an emulator someone else is using.
- Different inputs per env, so that nothing hard-coded can match both: the local env plans in the
  emulator's region and default account; the aws env plans in eu-west-1, in account 111122223333
  (MiniStack treats a 12-digit access key id as that account's root), as an assumed role the way
  an SSO session deploys, so that the verifier principal of the functions' trust policy is known.
- Few terraform commands, in parallel: each one spends seconds starting the AWS provider. One
  `init` per copied env (offline from a provider mirror when there is one), then `plan -out` and one
  `show -json` per planned env; validation plans fail before any `show`. Every job the selected
  tests need is started at once, and every command is timed (see conftest.py's summary).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
import tftest
import yaml

from ssepatterns import lambda_zip
from ssepatterns.emulator import control
from ssepatterns.paths import EXAMPLES_DIR, TERRAFORM_DIR
from ssepatterns.plumbing import scrubbed_environ
from ssepatterns.provider_mirror import find_provider_mirror

from .matcher import UNKNOWN
from .snapshot import Tree, module_snapshot

HERE = Path(__file__).resolve().parent
INVENTORY_DIR = HERE / "inventory"
INVALID_INPUTS = HERE / "invalid_inputs.yaml"
MUTATIONS = HERE / "mutations.yaml"

ENVS = ("local", "aws")
PREFIX = "fa-125"  # both envs' default; the facts use it for names
AWS_ENV_REGION = "eu-west-1"  # not the emulator's region: a region literal cannot pass both envs
AWS_ENV_ACCOUNT = "111122223333"  # not the emulator's default account, for the same reason
DEPLOYER_ROLE = "plan-tests-deployer"
DEPLOYER_SESSION = "plan-tests"
GITHUB_REPOSITORY = "example-org/s3-sse-patterns"
GITHUB_OIDC_PROVIDER_ARN = f"arn:aws:iam::{AWS_ENV_ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
ADMINISTRATOR_ROLE_ARN = f"arn:aws:iam::{AWS_ENV_ACCOUNT}:role/AWSReservedSSO_Admin_0123456789abcdef"
# What the deploying role needs for a plan: its own path (aws_iam_session_context) and the key
# generation the ephemeral resource performs while planning. STS GetCallerIdentity needs no grant.
_DEPLOYER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["iam:GetRole"],
            "Resource": f"arn:aws:iam::{AWS_ENV_ACCOUNT}:role/{DEPLOYER_ROLE}",
        },
        {"Effect": "Allow", "Action": ["secretsmanager:GetRandomPassword"], "Resource": "*"},
    ],
}
# The inputs of each example's plan: a consumer's own values, in the aws env's account and region.
EXAMPLE_VARIABLES: dict[str, Callable[[Workspace], dict[str, str]]] = {
    "complete": lambda ws: {
        "prefix": PREFIX,
        "region": AWS_ENV_REGION,
        "lambda_package_dir": ws.variables["aws"]["lambda_package_dir"],
    },
    "single-bucket": lambda ws: {
        "bucket_name": f"{ws.facts['aws']['global_prefix']}-single",
        "region": AWS_ENV_REGION,
    },
    # An account that has GitHub's OIDC provider already (its ARN given, so the trust policy is known
    # at plan), one administrator's role; the rehearsal applies the branch that creates the provider.
    "deployer-role": lambda ws: {
        "github_oidc_provider_arn": GITHUB_OIDC_PROVIDER_ARN,
        "github_repository": GITHUB_REPOSITORY,
        "region": AWS_ENV_REGION,
        "trusted_principal_arns": json.dumps([ADMINISTRATOR_ROLE_ARN]),
    },
}
EXAMPLES = tuple(EXAMPLE_VARIABLES)
BACKGROUND_JOBS = 3  # invalid-input plans and the mutant plan
BACKGROUND_NICENESS = 10


@dataclass(frozen=True)
class Command:
    """One terraform command run by the session, for the summary: which, where, how long."""

    name: str
    label: str
    started: float  # time.monotonic()
    seconds: float


class CountingTerraform(tftest.TerraformTest):
    """tftest's runner with its environment replaced (not merged into os.environ: a user's AWS_*,
    TF_VAR_* or TF_CLI_CONFIG_FILE must not reach these plans) and every command timed."""

    def __init__(self, tfdir: Path, env: Mapping[str, str], log: list[Command], label: str) -> None:
        super().__init__(str(tfdir), cache_dir=str(tfdir / ".tftest-cache"))  # caching stays off
        self.env = dict(env)
        self._log = log
        self._label = label

    def execute_command(self, cmd: str, *cmd_args: str) -> tftest.TerraformCommandOutput:
        started = time.monotonic()
        try:
            return super().execute_command(cmd, *cmd_args)
        finally:
            self._log.append(Command(cmd, self._label, started, time.monotonic() - started))


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


@dataclass
class Workspace:
    """The throwaway emulator, the copied trees and the inputs of each env."""

    tmp: Path
    emulator: control.EmulatorConfig
    process_env: dict[str, dict[str, str]]
    variables: dict[str, dict[str, str]]
    facts: dict[str, dict[str, str]]
    mirror: Path | None
    commands: list[Command] = field(default_factory=list)
    _init_locks: dict[Path, threading.Lock] = field(default_factory=dict)
    _initialised: set[Path] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def tree(self, name: str, mutate: Callable[[Path], None] | None = None) -> Path:
        """A copy of terraform/ under tmp/name (once; `mutate` edits the copy before first use)."""
        with self._lock:
            root = self.tmp / name / "terraform"
            if not root.exists():
                shutil.copytree(
                    TERRAFORM_DIR,
                    root,
                    ignore=shutil.ignore_patterns(
                        ".terraform",
                        "*.tfstate",
                        "*.tfstate.*",
                        "*.tfplan",
                        "*.tfbackend",
                        "*_override.tf",
                        "*.tfvars",
                    ),
                )
                # The aws env keeps its state in S3 (the rehearsal proves that); a plan needs none:
                # Terraform's own override mechanism, the same one a user opts out of S3 with.
                for env in ("aws", "aws-state"):
                    (root / "envs" / env / "backend_override.tf").write_text(
                        'terraform {\n  backend "local" {}\n}\n', encoding="utf-8"
                    )
                # The examples call ../../terraform/modules/...: beside the copy, as in the checkout.
                shutil.copytree(
                    EXAMPLES_DIR, root.parent / "examples", ignore=shutil.ignore_patterns(".terraform")
                )
                if mutate is not None:
                    mutate(root)
            return root

    def terraform(self, env: str, tree: Path, label: str) -> CountingTerraform:
        """A tftest runner for env in `tree` (see runner)."""
        return self.runner(tree / "envs" / env, self.process_env[env], label)

    def runner(self, workdir: Path, process_env: Mapping[str, str], label: str) -> CountingTerraform:
        """A tftest runner for one root, initialised once per copied root (`init` is shared by the
        plans of that directory; they run with -lock=false, since none of them writes state)."""
        with self._lock:
            init_lock = self._init_locks.setdefault(workdir, threading.Lock())
        with init_lock:
            if workdir not in self._initialised:
                # tftest's setup() takes no -lockfile: the copy's lock file must stay as committed.
                args = tftest.parse_args(
                    input=False, color=False, plugin_dir=self.mirror and str(self.mirror)
                )
                label_init = workdir.relative_to(self.tmp).as_posix().replace("/terraform/envs/", "/")
                init = CountingTerraform(workdir, process_env, self.commands, label_init)
                init.execute_command("init", *args, "-lockfile=readonly")
                self._initialised.add(workdir)
        return CountingTerraform(workdir, process_env, self.commands, label)

    def plan(self, env: str, tree: Path | None = None, label: str | None = None) -> PlannedEnv:
        """`plan -out` then `show -json`, as tftest's plan(output=True) does, but keeping the binary
        plan (in tmp, removed with it): the secret scan reads it, and so does the snapshot view."""
        tree = tree or self.tree("main")
        label = label or env
        return self._plan(self.terraform(env, tree, label), env, self.variables[env], label)

    def plan_example(self, name: str) -> PlannedEnv:
        """A plan of examples/<name>, as the aws env is planned: the deploying role of another
        account, in AWS_ENV_REGION, the provider pointed at the emulator by AWS_ENDPOINT_URL."""
        workdir = self.tree("main").parent / "examples" / name
        label = f"example-{name}"
        return self._plan(
            self.runner(workdir, self.process_env["aws"], label), "aws", EXAMPLE_VARIABLES[name](self), label
        )

    def _plan(self, tf: CountingTerraform, env: str, variables: Mapping[str, str], label: str) -> PlannedEnv:
        plan_file = self.tmp / f"{label}.tfplan"
        args = tftest.parse_args(input=False, color=False, lock=False, tf_vars=dict(variables))
        try:
            tf.execute_command("plan", *args, f"-out={plan_file}")
        except tftest.TerraformTestError as error:
            # tftest's message holds the whole plan output; stderr holds the errors.
            errors = (error.cmd_error or str(error.args[0])).strip().splitlines()
            raise PlanFailed(f"terraform plan [{label}] failed:\n" + "\n".join(errors[:40])) from None
        shown = tf.execute_command("show", "-no-color", "-json", str(plan_file)).out
        return PlannedEnv(
            env, self.facts[env], tftest.TerraformPlanOutput(json.loads(shown)), shown, plan_file
        )

    def plan_failure(
        self, env: str, variables: dict[str, str], label: str, example: str | None = None
    ) -> str:
        """The output of a plan that must fail; empty if it succeeded. An example's plan gets only
        the region besides `variables`, so a case can leave any other input at its default."""
        if example is None:
            tf = self.terraform(env, self.tree("main"), label)
            base = self.variables[env]
        else:
            workdir = self.tree("main").parent / "examples" / example
            tf = self.runner(workdir, self.process_env[env], label)
            base = {"region": AWS_ENV_REGION}
        args = tftest.parse_args(input=False, color=False, lock=False, tf_vars={**base, **variables})
        try:
            tf.execute_command("plan", *args, f"-out={self.tmp / (label + '.tfplan')}")
        except tftest.TerraformTestError as error:
            return str(error.args[0])  # "Error running command plan: <rc> <stdout> <stderr>"
        return ""


class PlanFailed(Exception):
    """A plan that should succeed failed: the tests of that env fail with terraform's errors."""


def base_process_env(tmp: Path) -> dict[str, str]:
    """The caller's environment without anything that would steer terraform or the AWS provider:
    no AWS_* (profile, region, endpoints, keys), no TF_* (TF_VAR_* would set inputs), except a
    TF_CLI_CONFIG_FILE that exists; shared AWS config files pointed at nothing."""
    env = scrubbed_environ(("AWS_", "TF_"))
    cli_config = os.environ.get("TF_CLI_CONFIG_FILE")
    if cli_config and Path(cli_config).is_file():
        env["TF_CLI_CONFIG_FILE"] = cli_config
    return {
        **env,
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
        "AWS_CONFIG_FILE": str(tmp / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _caller_account(cfg: control.EmulatorConfig, creds: Mapping[str, str], region: str) -> str:
    with control.clients(cfg, region) as clients:
        return str(clients("sts", creds).get_caller_identity()["Account"])


def _deployer_credentials(cfg: control.EmulatorConfig) -> dict[str, str]:
    """Credentials of an assumed-role session in AWS_ENV_ACCOUNT, as an SSO user would deploy with."""
    root = {"AWS_ACCESS_KEY_ID": AWS_ENV_ACCOUNT, "AWS_SECRET_ACCESS_KEY": "test"}
    with control.clients(cfg, AWS_ENV_REGION) as clients:
        iam, sts = clients("iam", root), clients("sts", root)
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{AWS_ENV_ACCOUNT}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = iam.create_role(RoleName=DEPLOYER_ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        iam.put_role_policy(
            RoleName=DEPLOYER_ROLE, PolicyName="plan", PolicyDocument=json.dumps(_DEPLOYER_POLICY)
        )
        session = sts.assume_role(RoleArn=role["Arn"], RoleSessionName=DEPLOYER_SESSION)["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": session["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": session["SecretAccessKey"],
        "AWS_SESSION_TOKEN": session["SessionToken"],
        "deployer_role_arn": role["Arn"],
    }


def _code_hash(path: Path) -> str:
    """Terraform's filebase64sha256 of a zip."""
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


@contextlib.contextmanager
def open_workspace() -> Iterator[Workspace]:
    """Start the emulator, build the zips, prepare both envs' inputs; stop and remove it all after."""
    tmp = Path(tempfile.mkdtemp(prefix="sse-plan-"))
    cfg = control.EmulatorConfig(port=control.free_port(), state_dir=tmp / "emulator")
    try:
        control.start(cfg)
        packages = {package.name: package.path for package in lambda_zip.build_all()}
        package_dir = str(packages["upload"].parent)
        base = base_process_env(tmp)
        deployer = _deployer_credentials(cfg)
        emulator_root = {k: v for k, v in control.client_env(cfg).items() if k.startswith("AWS_")}
        process_env = {
            "local": {**base, **emulator_root},
            "aws": {
                **base,
                "AWS_ACCESS_KEY_ID": deployer["AWS_ACCESS_KEY_ID"],
                "AWS_SECRET_ACCESS_KEY": deployer["AWS_SECRET_ACCESS_KEY"],
                "AWS_SESSION_TOKEN": deployer["AWS_SESSION_TOKEN"],
                "AWS_ENDPOINT_URL": cfg.endpoint,
                "AWS_CA_BUNDLE": str(cfg.ca_bundle),
            },
        }
        variables = {
            "local": {
                "emulator_endpoint": cfg.endpoint,
                "region": cfg.region,
                "lambda_package_dir": package_dir,
            },
            "aws": {"region": AWS_ENV_REGION, "lambda_package_dir": package_dir},
        }
        accounts = {
            "local": _caller_account(cfg, emulator_root, cfg.region),
            "aws": _caller_account(cfg, process_env["aws"], AWS_ENV_REGION),
        }
        common = {
            "prefix": PREFIX,
            "partition": "aws",  # the partition of both regions
            "dns_suffix": "amazonaws.com",  # ...and its DNS suffix
            "lambda_package_dir": package_dir,
            "upload_code_hash": _code_hash(packages["upload"]),
            "download_code_hash": _code_hash(packages["download"]),
        }
        facts = {
            "local": {
                **common,
                "env": "local",
                "region": cfg.region,
                "account_id": accounts["local"],
                "global_prefix": PREFIX,
                "endpoint": cfg.endpoint,
            },
            "aws": {
                **common,
                "env": "aws",
                "region": AWS_ENV_REGION,
                "account_id": accounts["aws"],
                "global_prefix": f"{PREFIX}-{accounts['aws']}-{AWS_ENV_REGION}",
                "deployer_role_arn": deployer["deployer_role_arn"],
            },
        }
        yield Workspace(tmp, cfg, process_env, variables, facts, find_provider_mirror())
    finally:
        control.stop(cfg)
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- the cases, as data


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


# --------------------------------------------------------------------------- fixtures


class PlanJobs:
    """Futures of the session's plans, by key; results are awaited by the fixtures that need them.

    The two env plans run in a pool of their own; the others (invalid inputs, the mutant) in a pool
    whose threads, and so whose terraform processes, run at a lower CPU priority: on a small machine
    they all compete for the same cores, and the env plans are what most tests wait for.
    """

    def __init__(self, main: ThreadPoolExecutor, background: ThreadPoolExecutor) -> None:
        self._pools = {False: main, True: background}
        self._jobs: dict[tuple[str, str], Future[Any]] = {}

    def submit(self, key: tuple[str, str], job: Callable[[], Any], background: bool = False) -> None:
        self._jobs[key] = self._pools[background].submit(job)

    def result(self, key: tuple[str, str]) -> Any:
        if key not in self._jobs:
            raise KeyError(f"no plan job {key}: the fixture that schedules it was not requested")
        return self._jobs[key].result()


def _lower_priority() -> None:
    """Lower this worker thread's CPU priority (Linux: per thread, inherited by the processes it starts)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)


COMMANDS = pytest.StashKey[list[Command]]()
SETUP_SECONDS = pytest.StashKey[float]()


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
            max_workers=BACKGROUND_JOBS, thread_name_prefix="plan-bg", initializer=_lower_priority
        ) as background,
    ):
        jobs = PlanJobs(main, background)
        for env in sorted(envs):
            jobs.submit(("plan", env), functools.partial(workspace.plan, env))
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


class PlannedEnvs:
    """The plan of each env, awaited on first use, so that one env's failure fails only its tests."""

    def __init__(self, jobs: PlanJobs) -> None:
        self._jobs = jobs

    def __getitem__(self, env: str) -> PlannedEnv:
        return self._jobs.result(("plan", env))


@pytest.fixture(scope="session")
def planned(plan_jobs: PlanJobs) -> PlannedEnvs:
    return PlannedEnvs(plan_jobs)


@pytest.fixture(scope="session")
def validation_failures(plan_jobs: PlanJobs) -> dict[str, str]:
    """The output of each invalid-inputs plan, by case id ("" for a plan that succeeded)."""
    return {case.id: plan_jobs.result(("invalid", case.id)) for case in invalid_inputs()}


@pytest.fixture(scope="session")
def mutant(plan_jobs: PlanJobs) -> PlannedEnv:
    """The aws env planned from a copy with every mutation of mutations.yaml applied."""
    return plan_jobs.result(("mutant", "aws"))


class PlannedExamples:
    """The plan of each example, awaited on first use."""

    def __init__(self, jobs: PlanJobs) -> None:
        self._jobs = jobs

    def __getitem__(self, name: str) -> PlannedEnv:
        return self._jobs.result(("example", name))


@pytest.fixture(scope="session")
def planned_example(plan_jobs: PlanJobs) -> PlannedExamples:
    return PlannedExamples(plan_jobs)
