"""./inv state-bucket --env aws: the S3 bucket the aws env keeps its state in, one per account.

The bucket is made by Terraform (terraform/envs/aws-state, the state-bucket module), and that root's
own state lives in the bucket it makes. So the first run is a bootstrap: apply a copy of the root with
local state in a temporary folder, write the backend settings, then push that state into the new
bucket. Every later run (or a teammate's, on a fresh clone) finds the bucket, writes the settings
again if they are missing, and applies the root against its state in the bucket: a no-op when
nothing changed.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ssepatterns import stack
from ssepatterns.envs import AWS_DIR, STATE_BUCKET_KEY, Backend, Env, backend_settings_file
from ssepatterns.errors import ProjectError
from ssepatterns.steps import step
from ssepatterns.terraform import Terraform
from ssepatterns.tfvars import values as tfvars_values

DEFAULT_PREFIX = "fa-125"  # the aws env's default (terraform/envs/aws/variables.tf)


def names(env: Env) -> dict[str, str]:
    """The state bucket's name and key alias: <prefix>-<account>-<region>-tfstate, <prefix>-tfstate."""
    prefix = str(tfvars_values(AWS_DIR, env.var_files, env.process_env).get("prefix", DEFAULT_PREFIX))
    bucket = f"{prefix}-{env.account_id}-{env.region}-tfstate"
    if len(bucket) > 63:
        raise ProjectError(
            f"the state bucket name {bucket} has {len(bucket)} characters, S3 allows 63: use a shorter prefix"
        )
    return {"bucket_name": bucket, "kms_key_alias_name": f"{prefix}-tfstate"}


def root_variables(env: Env) -> dict[str, Any]:
    """The aws-state root's inputs: its names, the region and the identity (never the stack's)."""
    assert env.identity is not None
    result: dict[str, Any] = {"region": env.region, **names(env)}
    if env.identity.profile:
        result["profile"] = env.identity.profile
    if env.identity.assume_role_arn:
        result["assume_role_arn"] = env.identity.assume_role_arn
    if env.identity.allowed_account_ids is not None:
        result["allowed_account_ids"] = list(env.identity.allowed_account_ids)
    return result


def ensure(env: Env) -> dict[str, Any]:
    """Create or converge the state bucket; write and return the backend settings."""
    assert env.account_id is not None
    variables = root_variables(env)
    settings_file = backend_settings_file(env.account_id, env.rehearsal)
    bootstrapped = False
    if not settings_file.is_file():
        existing = _existing_settings(env, variables["bucket_name"])
        if existing is None:
            _bootstrap(env, variables, settings_file)
            bootstrapped = True
        else:
            _write_settings(settings_file, existing)
            print(f"    found the state bucket {variables['bucket_name']}: wrote {settings_file}")
    converged = dataclasses.replace(
        env, variables=variables, var_files=(), backend=Backend(settings_file, STATE_BUCKET_KEY)
    )
    tf = stack.terraform_for(converged)
    stack.ensure_init(converged, tf)
    if not bootstrapped:  # just applied: a plan now would only cost a provider start-up
        stack.apply(converged, tf)
    settings = tf.outputs()["backend_settings"]
    _write_settings(settings_file, settings)
    print(f"backend settings for account {env.account_id}: {settings_file}")
    for key, value in settings.items():
        print(f"    {key} = {_hcl(value)}")
    return dict(settings)


def _existing_settings(env: Env, bucket: str) -> dict[str, Any] | None:
    """The settings of a state bucket made earlier (by a teammate, or before the file was lost)."""
    from botocore.exceptions import ClientError

    s3 = env.admin_client("s3")
    try:
        try:
            s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=env.account_id)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "NotFound"):
                return None
            raise ProjectError(
                f"the state bucket name {bucket} is taken or not readable by you ({error}): "
                "choose another prefix"
            ) from None
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        region = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
    finally:
        s3.close()
    key_id = rules[0]["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID")
    return {"bucket": bucket, "region": region, "encrypt": True, "kms_key_id": key_id, "use_lockfile": True}


def _bootstrap(env: Env, variables: dict[str, Any], settings_file: Path) -> None:
    """First run: apply a copy of the root with local state, then push that state into the bucket."""
    with tempfile.TemporaryDirectory(prefix="sse-state-bucket-") as tmp:
        copy = Path(tmp) / "terraform"
        # The whole tree, links resolved (the root shares the aws env's provider and identity files).
        shutil.copytree(
            env.workdir.parent.parent,
            copy,
            ignore=shutil.ignore_patterns(
                ".terraform", "*.tfstate", "*.tfstate.*", "*.tfplan", "*.tfbackend"
            ),
        )
        root = copy / "envs" / env.workdir.name
        local_state = Path(tmp) / "state-bucket.tfstate"
        (root / "backend_override.tf").write_text(
            "# Bootstrap only: the bucket that will hold this state does not exist yet.\n"
            f'terraform {{\n  backend "local" {{\n    path = "{local_state}"\n  }}\n}}\n',
            encoding="utf-8",
        )
        tf = Terraform(root, env=env.process_env, data_dir=Path(tmp) / "data")
        with step(f"create the state bucket {variables['bucket_name']} (bootstrap, local state)"):
            stack.init_plain(f"aws-state bootstrap [{env.region}]", tf, env.process_env)
            tf.apply_now(variables)
            settings = tf.outputs()["backend_settings"]
        _write_settings(settings_file, settings)
        real = dataclasses.replace(
            env, variables=variables, var_files=(), backend=Backend(settings_file, STATE_BUCKET_KEY)
        )
        real_tf = stack.terraform_for(real)
        with step("move the bootstrap state into the state bucket"):
            stack.ensure_init(real, real_tf)
            real_tf.state_push(local_state)


def _write_settings(path: Path, settings: dict[str, Any]) -> None:
    lines = [
        "# Terraform S3 backend settings of the aws env, written by ./inv state-bucket. Not committed:",
        "# the bucket is per account. The key is added per region at init.",
        *(f"{key} = {_hcl(value)}" for key, value in sorted(settings.items())),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _hcl(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
