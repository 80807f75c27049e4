"""Deploy, inspect and remove the stack of one env with as few terraform commands as it needs.

Each terraform command pays several seconds of AWS-provider start-up on a small machine, so:
init only when the working directory is not current; one `plan -out` and an `apply` of that saved
plan only when the plan has changes; outputs without a provider (`terraform output -json`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ssepatterns import lambda_zip
from ssepatterns.envs import Env, with_venv_on_path, without_endpoint_overrides
from ssepatterns.errors import ProjectError
from ssepatterns.leftovers import find_leftovers
from ssepatterns.paths import ENVS_DIR, TERRAFORM_DIR
from ssepatterns.provider_mirror import (
    AWS_PROVIDER_VERSION,
    MIRROR_ENV_VAR,
    candidate_dirs,
    find_provider_mirror,
)
from ssepatterns.steps import step
from ssepatterns.terraform import Terraform, TerraformError

# Outputs that carry credentials: never printed, never written to reports.
SENSITIVE_OUTPUTS = frozenset({"operator_credentials"})


def terraform_for(env: Env, echo: bool = True) -> Terraform:
    return Terraform(env.workdir, env=env.process_env, echo=echo)


def ensure_init(env: Env, tf: Terraform) -> None:
    _ensure_init(env.name, tf, env.process_env)


def _ensure_init(label: str, tf: Terraform, process_env: Mapping[str, str]) -> None:
    tf.require_version()
    if not tf.needs_init():
        return
    mirror = find_provider_mirror(process_env)
    source = f"offline, provider mirror {mirror}" if mirror else "from the Terraform registry"
    with step(f"terraform init [{label}] ({source})"):
        try:
            tf.init(plugin_dir=mirror)
        except TerraformError as error:
            if mirror is not None:
                raise
            looked = ", ".join(str(d) for d in candidate_dirs(process_env))
            raise ProjectError(
                f"no provider available: hashicorp/aws {AWS_PROVIDER_VERSION} is in no filesystem mirror "
                f"(looked in {looked}; set {MIRROR_ENV_VAR} to one) and the Terraform registry could not "
                f"provide it:\n{error}"
            ) from None


def validate(name: str) -> None:
    """terraform validate needs no credentials and no endpoint: run it in a neutral environment."""
    process_env = with_venv_on_path(without_endpoint_overrides(os.environ))
    tf = Terraform(ENVS_DIR / name, env=process_env)
    _ensure_init(name, tf, process_env)
    with step(f"terraform validate [{name}]"):
        tf.validate()


def terraform_fmt_check() -> list[str]:
    tf = Terraform(TERRAFORM_DIR, env=os.environ)
    tf.require_version()
    return tf.fmt_check(recursive=True)


def build() -> list[lambda_zip.BuiltPackage]:
    with step("build Lambda zips"):
        packages = lambda_zip.build_all()
        for package in packages:
            state = "written" if package.changed else "unchanged"
            print(f"    {package.path.name}: sha256 {package.sha256[:16]}… ({state})")
    return packages


def plan(env: Env, tf: Terraform, destroy: bool = False) -> bool:
    """Save a plan for env to env.plan_file; True when it would change something."""
    env.plan_file.parent.mkdir(parents=True, exist_ok=True)
    verb = "destroy plan" if destroy else "plan"
    with step(f"terraform {verb} [{env.name}]"):
        return tf.plan(out=env.plan_file, variables=env.variables, destroy=destroy)


def apply(env: Env, tf: Terraform) -> bool:
    """Plan and, when there is anything to do, apply that plan. True when something changed."""
    changes = plan(env, tf)
    if not changes:
        print(f"No changes: the {env.name} stack matches the configuration.")
        return False
    with step(f"terraform apply [{env.name}]"):
        tf.apply(env.plan_file)
    return True


def destroy(env: Env, tf: Terraform) -> bool:
    """Destroy the stack, then check by name that nothing it created is left.

    One `terraform destroy -auto-approve` rather than a saved destroy plan and its apply: the command
    is this task's own confirmation, and it saves a provider start-up.
    """
    before = tf.outputs()
    with step(f"terraform destroy [{env.name}]"):
        tf.destroy(variables=env.variables)  # also after a partial apply that left no outputs
    if "buckets" not in before:
        print(f"(the {env.name} stack had no outputs, so there is nothing to check by name)")
        return True
    with step(f"check that nothing is left [{env.name}]"):
        clients: list[Any] = []

        def client(service: str) -> Any:
            clients.append(env.admin_client(service))
            return clients[-1]

        try:
            left = find_leftovers(before, client)
        finally:
            for made in clients:  # an open keep-alive connection delays the emulator's stop by 30 s
                made.close()
        if left:
            raise ProjectError(f"destroy left these behind: {', '.join(left)}")
        print("    nothing left behind (the KMS key is pending deletion, as KMS requires)")
    return True


def outputs(env: Env, tf: Terraform) -> dict[str, Any]:
    return tf.outputs()
