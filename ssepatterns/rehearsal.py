"""./inv rehearse: the aws env, unchanged, deployed end to end on a throwaway emulator as if it were
a real account.

What a new team meets on its first day, in order: an administrator applies examples/deployer-role
(the deployer-role module and its policy, as shipped) trusting an engineer's IAM user and one GitHub
repository's environment; GitHub's tokens are let in or refused by that trust (rehearsal_admin); the
engineer bootstraps the state bucket, deploys with the S3 backend (state locked with a lock file),
verifies, plans again (no changes) and meets a colleague's lock, while the GitHub workflow's session
deploys and verifies a second region beside the first, with the opt-in re-encryption engine on (the
role's allow_reencrypt_engine policy at work, verify on both engines); both are destroyed, then the
deployer role.
Everything runs through the same code as `./inv state-bucket/apply/verify/destroy --env aws`: the
engineer assuming the role through the env's `assume_role_arn` input, the workflow with the role's
session credentials in the environment, in an account other than the emulator's default and regions
other than us-east-1. Only the endpoint differs, and it is handed over in code (envs.Rehearsal), never
through the environment.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ssepatterns import rehearsal_admin, stack
from ssepatterns import state_bucket as state_bucket_module
from ssepatterns import unlock as unlock_module
from ssepatterns.emulator import control
from ssepatterns.envs import AWS_DIR, AWS_STATE_DIR, Env, Rehearsal, aws_env
from ssepatterns.errors import ProjectError
from ssepatterns.paths import ENVS_DIR
from ssepatterns.steps import step
from ssepatterns.terraform import StateLocked
from ssepatterns.verify import run as verification

ACCOUNT_ID = "210987654321"  # not MiniStack's default account (000000000000)
REGIONS = ("eu-west-1", "ap-southeast-2")  # not us-east-1; the second has one of the longest names
PREFIX = "fa-125"


class RehearsalRun:
    """One rehearsal run: its steps, what they found, and the report."""

    def __init__(self, folder: Path, report_path: Path) -> None:
        self.folder = folder
        self.report_path = report_path
        self.state_files_before: set[str] = set()
        self.cfg = control.EmulatorConfig(port=control.free_port(), state_dir=folder / "emulator")
        self.report: dict[str, Any] = {
            "account_id": ACCOUNT_ID,
            "regions": list(REGIONS),
            "backend": None,
            "deployed_as": {},
            "github_oidc": {},
            "verify": {},
            "second_plan_changes": None,
            "lock_conflict_detected": False,
            "lock_message": None,
            "stale_lock": {},
            "leftovers": [],
            "local_state_files": [],
            "steps": [],
            "failures": [],
        }

    def step(self, title: str, action: Callable[[], Any]) -> Any:
        """Run one step, timed and recorded; a failure is recorded and ends the rehearsal."""
        started = time.monotonic()
        try:
            with step(f"rehearsal: {title}"):
                return action()
        except ProjectError as error:
            self.report["failures"].append(f"{title}: {error}")
            raise
        finally:
            self.report["steps"].append({"step": title, "seconds": round(time.monotonic() - started, 1)})

    def env(self, rehearsal: Rehearsal, var_file: Path, region: str, root: Path = AWS_DIR) -> Env:
        return aws_env(region, [var_file], rehearsal, root=root)

    def run(self) -> None:
        self.state_files_before = _state_files()
        self.step("start a throwaway emulator", lambda: control.start(self.cfg))
        self.step("build the Lambda zips", stack.build)
        home, second = REGIONS
        setup = self.step(
            "administrator: apply examples/deployer-role",
            lambda: rehearsal_admin.create_deployer(
                self.cfg, self.folder / "admin", ACCOUNT_ID, home, PREFIX
            ),
        )
        github = self.step(
            "GitHub Actions: OIDC tokens against the role's trust",
            lambda: rehearsal_admin.github_oidc_credentials(
                self.cfg, setup.role_arn, second, self.report["github_oidc"]
            ),
        )
        folder = self.folder / "work"
        folder.mkdir(parents=True, exist_ok=True)
        engineer = Rehearsal(self.cfg, setup.engineer_credentials, folder)
        engineer_vars = folder / "engineer.tfvars"
        engineer_vars.write_text(
            f'assume_role_arn     = "{setup.role_arn}"\nallowed_account_ids = ["{ACCOUNT_ID}"]\n',
            encoding="utf-8",
        )
        # As .github/workflows/aws.yml deploys: the role's session in the environment, no role to assume.
        workflow = Rehearsal(self.cfg, github, folder)
        workflow_vars = folder / "workflow.tfvars"
        # The second region also deploys the opt-in re-encryption engine: the deployer role's engine
        # policy (allow_reencrypt_engine) at work, and verify runs the rotation and the migration on both
        # engines there. The first region is the default stack, without it.
        workflow_vars.write_text(
            f'allowed_account_ids = ["{ACCOUNT_ID}"]\nenable_reencrypt_engine = true\n', encoding="utf-8"
        )
        state_env = self.env(engineer, engineer_vars, home, root=AWS_STATE_DIR)
        self.step(f"state bucket [{home}]", lambda: state_bucket_module.ensure(state_env))
        self.report["backend"] = "s3"
        # The two regions side by side, at the same time: the first one's checks (verify, a second
        # plan, the lock) overlap the second one's apply, which is mostly the provider's waiting.
        envs = {
            home: self.env(engineer, engineer_vars, home),
            second: self.env(workflow, workflow_vars, second),
        }
        self.report["deployed_as"] = {
            home: f"{rehearsal_admin.ENGINEER} assuming the deployer role (assume_role_arn)",
            second: "the deployer role's GitHub OIDC session (credentials in the environment)",
        }
        with ThreadPoolExecutor(max_workers=len(REGIONS), thread_name_prefix="region") as pool:
            futures = {
                region: pool.submit(self._region, envs[region], number == 0)
                for number, region in enumerate(REGIONS)
            }
            deployed = {region: future.result() for region, future in futures.items()}
        with ThreadPoolExecutor(max_workers=len(REGIONS), thread_name_prefix="destroy") as pool:
            for done in [
                pool.submit(self._destroy, envs[region], before) for region, before in deployed.items()
            ]:
                done.result()
        self.step("administrator: destroy the deployer role", lambda: self._destroy_deployer(setup))
        self.step("no local state in the aws env's folders", self._no_local_state)

    def _region(self, env: Env, first: bool) -> dict[str, Any]:
        """Deploy and verify one region; the first also plans again and meets a lock. Its outputs."""
        region = env.region
        tf = stack.terraform_for(env)
        self.step(f"init with the S3 backend [{region}]", lambda: stack.ensure_init(env, tf))
        self.step(f"apply [{region}]", lambda: stack.apply(env, tf))
        outputs = tf.outputs()
        report = self.folder / f"verify-{region}.json"
        self.step(f"verify --env aws [{region}]", lambda: _verify(env, report, self.report["verify"]))
        if first:
            self.step(f"plan again: no changes [{region}]", lambda: self._second_plan(env, tf))
            self.step(f"a second run meets the lock [{region}]", lambda: self._lock(env, tf))
            self.step(
                f"a killed run's lock: named, kept while young, released [{region}]",
                lambda: self._stale_lock(env, tf),
            )
        return outputs

    def _second_plan(self, env: Env, tf: Any) -> None:
        stack.plan(env, tf)
        self.report["second_plan_changes"] = tf.planned_changes()
        if self.report["second_plan_changes"]:
            raise ProjectError(f"a second plan shows {self.report['second_plan_changes']} changes")

    def _lock(self, env: Env, tf: Any) -> None:
        with tf.holding_state_lock(env.variables, env.var_files):
            try:
                stack.plan(env, stack.terraform_for(env), lock_timeout="0s")
            except StateLocked as locked:
                self.report["lock_conflict_detected"] = locked.lock_id is not None
                self.report["lock_message"] = str(locked)
                print(f"    as expected: {locked}")
            else:
                raise ProjectError("a second plan ran while another run held the state lock")
        if not self.report["lock_conflict_detected"]:
            raise ProjectError(f"the lock error named no lock id: {self.report['lock_message']}")

    def _stale_lock(self, env: Env, tf: Any) -> None:
        """A run killed holding the lock leaves it; the next run names it and the unlock command, the
        unlock keeps a young lock and releases it when told the run is dead (as ./inv unlock does)."""
        record: dict[str, Any] = {}
        self.report["stale_lock"] = record
        with tf.holding_state_lock(env.variables, env.var_files, killed=True):
            pass
        lock = unlock_module.current_lock(env)
        if lock is None:
            raise ProjectError("a killed run left no lock behind: the backend does not lock")
        try:
            stack.plan(env, stack.terraform_for(env), lock_timeout="0s")
        except StateLocked as locked:
            record["message"] = str(locked)
        else:
            raise ProjectError("a plan ran while a killed run's lock was left")
        command = stack.unlock_command(env).format(lock_id=lock["ID"])
        if command not in record["message"]:
            raise ProjectError(
                f"the lock error does not say how to release it ({command}): {record['message']}"
            )
        try:
            unlock_module.unlock(env, tf, lock["ID"], unlock_module.DEFAULT_MIN_AGE_MINUTES)
        except ProjectError as refused:
            record["kept_while_young"] = str(refused)
        else:
            raise ProjectError("a lock taken seconds ago was released without --min-age")
        print(f"    {unlock_module.unlock(env, tf, lock['ID'], 0)}")
        record["released"] = unlock_module.current_lock(env) is None
        if not record["released"]:
            raise ProjectError("the lock is still there after ./inv unlock")

    def _destroy(self, env: Env, before: dict[str, Any]) -> None:
        self.step(f"destroy [{env.region}]", lambda: self._destroy_now(env, before))

    def _destroy_now(self, env: Env, before: dict[str, Any]) -> None:
        stack.terraform_for(env).destroy(variables=env.variables, var_files=env.var_files)
        left = stack.leftovers(env, before)
        self.report["leftovers"] += left
        if left:
            raise ProjectError(f"destroy left these behind: {', '.join(left)}")
        print("    nothing left behind (the KMS key is pending deletion, as KMS requires)")

    def _destroy_deployer(self, setup: rehearsal_admin.DeployerSetup) -> None:
        left = rehearsal_admin.destroy_deployer(self.cfg, setup, ACCOUNT_ID)
        self.report["leftovers"] += left
        if left:
            raise ProjectError(f"destroying the deployer role left these behind: {', '.join(left)}")

    def _no_local_state(self) -> None:
        found = sorted(_state_files() - self.state_files_before)
        self.report["local_state_files"] = found
        if found:
            raise ProjectError(f"local state appeared in the aws env's folders: {', '.join(found)}")

    def write_report(self) -> None:
        self.report_path.parent.mkdir(parents=True, exist_ok=True)
        self.report_path.write_text(json.dumps(self.report, indent=2) + "\n", encoding="utf-8")


def _state_files() -> set[str]:
    """State files in the aws env's roots (a local-state opt-out may have some before we start)."""
    return {
        str(path.relative_to(ENVS_DIR))
        for root in (AWS_DIR, AWS_STATE_DIR)
        for path in root.rglob("*.tfstate*")
    }


def _verify(env: Env, report: Path, record: dict[str, Any]) -> dict[str, int]:
    try:
        record[env.region] = verification.run(env, str(report), str(report.with_suffix(".xml")))
    except ProjectError:
        record[env.region] = verification.summary_of(report)
        raise
    summary: dict[str, int] = record[env.region]
    return summary


def run(report_path: Path, keep: bool = False) -> dict[str, Any]:
    """Rehearse; write and return the report (its `failures` empty when everything held)."""
    folder = Path(tempfile.mkdtemp(prefix="sse-rehearsal-"))
    rehearsal = RehearsalRun(folder, report_path)
    try:
        rehearsal.run()
    except ProjectError:
        pass  # recorded in the report's failures
    finally:
        rehearsal.write_report()
        if keep:
            print(
                f"kept: emulator {rehearsal.cfg.endpoint} (state {rehearsal.cfg.state_dir}), folder {folder}"
            )
        else:
            control.stop(rehearsal.cfg)
            shutil.rmtree(folder, ignore_errors=True)
    report = rehearsal.report
    verify = ", ".join(
        f"{region}: {s.get('passed')} passed, {s.get('failed')} failed, {s.get('not_applicable')} n/a"
        for region, s in report["verify"].items()
    )
    print(
        f"rehearsal: account {report['account_id']}, regions {', '.join(report['regions'])}, backend "
        f"{report['backend']}; verify {verify or 'not run'}; second plan changes "
        f"{report['second_plan_changes']}; lock conflict detected {report['lock_conflict_detected']}; GitHub "
        f"OIDC: let in {report['github_oidc'].get('accepted', 'nothing')}, refused "
        f"{len(report['github_oidc'].get('refused', {}))}; "
        f"leftovers {report['leftovers'] or 'none'}; report {report_path}"
    )
    return report
