"""The session's workspace: each root config planned once per session, against a throwaway emulator,
from a copy of terraform/.

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
  tests need is started at once (fixtures.py, plan_jobs), and every command is timed (summary.py).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import tftest

from ssepatterns import lambda_zip
from ssepatterns.emulator import control
from ssepatterns.paths import EXAMPLES_DIR, TERRAFORM_DIR
from ssepatterns.plumbing import scrubbed_environ
from ssepatterns.provider_mirror import find_provider_mirror

from .planned import PlannedEnv

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
        # The provider validates a state machine's definition at plan (the engine-on plans); the action
        # has no resource (as in terraform/modules/deployer-role/reencrypt_engine.tf).
        {"Effect": "Allow", "Action": ["states:ValidateStateMachineDefinition"], "Resource": "*"},
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
        "allow_reencrypt_engine": "true",  # both of its policies are planned (test_deployer_role.py)
        "trusted_principal_arns": json.dumps([ADMINISTRATOR_ROLE_ARN]),
    },
}
EXAMPLES = tuple(EXAMPLE_VARIABLES)


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

    def plan(
        self,
        env: str,
        tree: Path | None = None,
        label: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> PlannedEnv:
        """`plan -out` then `show -json`, as tftest's plan(output=True) does, but keeping the binary
        plan (in tmp, removed with it): the secret scan reads it, and so does the snapshot view.
        `extra`: inputs besides the env's (an opt-in feature switched on)."""
        tree = tree or self.tree("main")
        label = label or env
        variables = {**self.variables[env], **(extra or {})}
        return self._plan(self.terraform(env, tree, label), env, variables, label)

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
