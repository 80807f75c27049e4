"""The deployment targets: `local` (the emulator, default) and `aws` (a real account).

Each resolves to a Terraform root module, the environment its terraform process gets, the input
variables ./inv passes, and for aws: the principal every call acts as, where the state lives and in
which data folder the region's `init` is kept.

The aws env never inherits an endpoint override, so a stray AWS_ENDPOINT_URL in the user's shell can
never point it at an emulator. Only `./inv rehearse` does that, by handing aws_env() a Rehearsal
object in code: nothing in the environment can trigger it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssepatterns import tfvars
from ssepatterns.emulator.control import EmulatorConfig, client_env
from ssepatterns.errors import ProjectError
from ssepatterns.paths import BUILD_DIR, ENVS_DIR
from ssepatterns.plumbing import scrubbed_environ

ENV_NAMES = ("local", "aws")
DEFAULT_ENV = "local"

AWS_DIR = ENVS_DIR / "aws"
AWS_STATE_DIR = ENVS_DIR / "aws-state"
# Written by ./inv state-bucket (git-ignored), one per account: the S3 backend's bucket, region,
# encryption and locking. The key is added per region at init.
BACKEND_SETTINGS = "backend-{account}.s3.tfbackend"
# Terraform's own override mechanism, the documented opt-out: `terraform { backend "local" {} }`.
LOCAL_STATE_OVERRIDE = AWS_DIR / "backend_override.tf"
STATE_KEY = "sse-patterns/{region}/terraform.tfstate"
STATE_BUCKET_KEY = "bootstrap/state-bucket.tfstate"


@dataclass(frozen=True)
class Identity:
    """Who the aws env acts as: the identity inputs, read from the same sources as Terraform's."""

    profile: str | None = None
    assume_role_arn: str | None = None
    allowed_account_ids: tuple[str, ...] | None = None

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Identity:
        profile = values.get("profile")
        role = values.get("assume_role_arn")
        allowed = values.get("allowed_account_ids")
        for name, value in (("profile", profile), ("assume_role_arn", role)):
            if value is not None and not isinstance(value, str):
                raise ProjectError(f"{name} must be a string, got {value!r}")
        if allowed is not None and (
            not isinstance(allowed, list) or not all(isinstance(item, str) for item in allowed)
        ):
            raise ProjectError(f"allowed_account_ids must be a list of account id strings, got {allowed!r}")
        return cls(profile or None, role or None, tuple(allowed) if allowed is not None else None)


@dataclass(frozen=True)
class Rehearsal:
    """The aws env pointed at a throwaway emulator, for ./inv rehearse only.

    `credentials` are the base credentials (an IAM user of the rehearsal's account); `folder` holds
    the rehearsal's backend settings and data folders, so nothing of a real deployment is touched.
    """

    emulator: EmulatorConfig
    credentials: dict[str, str] = field(repr=False)
    folder: Path


@dataclass(frozen=True)
class Backend:
    """Where a root's state lives: the S3 backend from a settings file, or local (the opt-out)."""

    settings_file: Path | None
    key: str

    @property
    def init_config(self) -> list[str]:
        """The -backend-config values of `terraform init`."""
        if self.settings_file is None:
            return [f"path={self.key}"]
        return [str(self.settings_file), f"key={self.key}"]

    def describe(self) -> str:
        if self.settings_file is None:
            return f"local state {self.key}"
        settings = read_backend_settings(self.settings_file)
        return f"s3://{settings.get('bucket')}/{self.key}"


@dataclass(frozen=True)
class Env:
    name: str
    workdir: Path
    process_env: dict[str, str] = field(repr=False)  # may hold credentials: never print it
    variables: dict[str, Any]
    emulator: EmulatorConfig | None = None
    var_files: tuple[Path, ...] = ()
    identity: Identity | None = None
    data_dir: Path | None = None  # TF_DATA_DIR; None: the root's own .terraform
    backend: Backend | None = None  # None: the root's own (local) backend, nothing to configure
    rehearsal: Rehearsal | None = None
    account_id: str | None = None

    @property
    def label(self) -> str:
        """The env and, for aws, the region: names plan files and log lines."""
        return self.name if self.name == "local" else f"{self.workdir.name}-{self.variables['region']}"

    @property
    def region(self) -> str:
        region: str = self.variables["region"]
        return region

    @property
    def plan_file(self) -> Path:
        folder = self.rehearsal.folder if self.rehearsal else BUILD_DIR
        return folder / "plans" / f"{self.label}.tfplan"

    @property
    def on_emulator(self) -> bool:
        """True where an emulator answers: the local env, and the aws env during a rehearsal."""
        return self.emulator is not None or self.rehearsal is not None

    def session(self) -> Any:
        """A boto3 session as the principal Terraform acts as (the emulator's root on local)."""
        import boto3

        if self.emulator is not None:
            creds = client_env(self.emulator)
            return boto3.session.Session(
                aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                region_name=self.emulator.region,
            )
        return aws_session(self.identity or Identity(), self.region, self.process_env, self.rehearsal)

    def client_options(self) -> dict[str, Any]:
        """Endpoint and TLS options for a client of this env (the emulator's, or never an override)."""
        return endpoint_options(self.emulator or (self.rehearsal.emulator if self.rehearsal else None))

    def admin_client(self, service: str) -> Any:
        """A boto3 client with the credentials terraform uses (the emulator's root on local)."""
        return self.session().client(service, region_name=self.region, **self.client_options())


def endpoint_options(emulator: EmulatorConfig | None) -> dict[str, Any]:
    """boto3 client options: the emulator's endpoint and CA, or (AWS) no configured endpoint at all."""
    from botocore.config import Config

    if emulator is None:
        # Never an emulator by accident: ignore AWS_ENDPOINT_URL* and endpoint_url in the shared config.
        return {"config": Config(ignore_configured_endpoint_urls=True)}
    return {
        "endpoint_url": emulator.endpoint,
        "verify": str(emulator.ca_bundle),
        "config": Config(s3={"addressing_style": "path"}),
    }


def check_env_name(name: str) -> str:
    if name not in ENV_NAMES:
        raise ProjectError(f"unknown env {name!r}: choose one of {', '.join(ENV_NAMES)}")
    return name


def with_venv_on_path(env: Mapping[str, str]) -> dict[str, str]:
    """Terraform's local-exec helpers run `python3`: make it this virtualenv's, which has boto3."""
    result = dict(env)
    venv_bin = str(Path(sys.executable).parent)
    result["PATH"] = os.pathsep.join([venv_bin, result.get("PATH", os.defpath)])
    return result


def without_endpoint_overrides(env: Mapping[str, str]) -> dict[str, str]:
    return scrubbed_environ(("AWS_ENDPOINT_URL",), base=env)


def local_env(var_files: Sequence[Path] = ()) -> Env:
    cfg = EmulatorConfig.from_env()
    # None of the user's AWS settings (profile, session token, endpoints) may reach the emulator's
    # clients: a session token sent with the emulator's root key is rejected, a profile overrides it.
    process_env = with_venv_on_path({**scrubbed_environ(("AWS_",)), **client_env(cfg)})
    return Env(
        name="local",
        workdir=ENVS_DIR / "local",
        process_env=process_env,
        variables={"emulator_endpoint": cfg.endpoint, "region": cfg.region},
        emulator=cfg,
        var_files=tuple(var_files),
    )


def aws_process_env(rehearsal: Rehearsal | None = None) -> dict[str, str]:
    """The terraform process environment of the aws env's roots."""
    if rehearsal is None:
        return with_venv_on_path(without_endpoint_overrides(os.environ))
    # Nothing of the user's AWS setup: the rehearsal's own credentials, endpoint and CA only.
    return with_venv_on_path(
        {
            **scrubbed_environ(("AWS_", "TF_VAR_")),
            **rehearsal.credentials,
            "AWS_ENDPOINT_URL": rehearsal.emulator.endpoint,
            "AWS_CA_BUNDLE": str(rehearsal.emulator.ca_bundle),
            "AWS_CONFIG_FILE": str(rehearsal.folder / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(rehearsal.folder / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )


def aws_env(
    region: str | None = None,
    var_files: Sequence[Path] = (),
    rehearsal: Rehearsal | None = None,
    root: Path = AWS_DIR,
) -> Env:
    """The aws env (or, with root=AWS_STATE_DIR, its state bucket's root) for one region.

    Before any terraform command: the identity inputs are read, the principal is resolved, and an
    account outside allowed_account_ids is refused.
    """
    var_files = tuple(Path(path).resolve() for path in var_files)
    process_env = aws_process_env(rehearsal)
    values = tfvars.values(AWS_DIR, var_files, process_env)
    identity = Identity.from_values(values)
    region = region or values.get("region") or _configured_region(process_env, identity)
    account_id = check_identity(identity, region, process_env, rehearsal)
    folder = rehearsal.folder if rehearsal else BUILD_DIR / "terraform"
    backend: Backend | None
    if root == AWS_STATE_DIR:
        settings_file = state_bucket_settings_file(account_id, rehearsal)
        backend = Backend(settings_file, STATE_BUCKET_KEY) if settings_file else None  # see state_bucket
        data_dir = folder / "aws-state"
    else:
        backend = aws_backend(region, account_id, rehearsal)
        data_dir = folder / f"aws-{region}"
    return Env(
        name="aws",
        workdir=root,
        process_env=process_env,
        variables={"region": region},
        var_files=var_files,
        identity=identity,
        data_dir=data_dir,
        backend=backend,
        rehearsal=rehearsal,
        account_id=account_id,
    )


def to_spec(env: Env) -> dict[str, Any]:
    """What resolves `env` again in another process (./inv verify's pytest run): JSON-shaped."""
    spec: dict[str, Any] = {
        "name": env.name,
        "region": env.region if env.name == "aws" else None,
        "var_files": [str(path) for path in env.var_files],
    }
    if env.rehearsal is not None:
        spec["rehearsal"] = {
            "port": env.rehearsal.emulator.port,
            "state_dir": str(env.rehearsal.emulator.state_dir),
            "credentials": env.rehearsal.credentials,
            "folder": str(env.rehearsal.folder),
        }
    return spec


def from_spec(spec: Mapping[str, Any]) -> Env:
    var_files = [Path(path) for path in spec.get("var_files", [])]
    rehearsal = spec.get("rehearsal")
    if rehearsal is None:
        return resolve(spec["name"], spec.get("region"), var_files)
    emulator = EmulatorConfig(port=int(rehearsal["port"]), state_dir=Path(rehearsal["state_dir"]))
    return aws_env(
        spec.get("region"),
        var_files,
        Rehearsal(emulator, dict(rehearsal["credentials"]), Path(rehearsal["folder"])),
    )


def resolve(name: str, region: str | None = None, var_files: Sequence[Path] = ()) -> Env:
    check_env_name(name)
    if name == "local":
        if region:
            raise ProjectError(
                "--region applies to --env aws only; the local env's region is fixed by the emulator"
            )
        return local_env(var_files)
    return aws_env(region, var_files)


# --------------------------------------------------------------------------- state


def backend_settings_file(account_id: str, rehearsal: Rehearsal | None) -> Path:
    folder = rehearsal.folder if rehearsal else AWS_DIR
    return folder / BACKEND_SETTINGS.format(account=account_id)


def state_bucket_settings_file(account_id: str, rehearsal: Rehearsal | None) -> Path | None:
    """The state bucket root keeps its state in its own bucket once that exists."""
    path = backend_settings_file(account_id, rehearsal)
    return path if path.is_file() else None


def read_backend_settings(path: Path) -> dict[str, Any]:
    return tfvars.read_file(path)


def aws_backend(region: str, account_id: str, rehearsal: Rehearsal | None) -> Backend:
    key = STATE_KEY.format(region=region)
    if rehearsal is None and LOCAL_STATE_OVERRIDE.is_file():
        return Backend(None, f"terraform.{region}.tfstate")
    settings_file = backend_settings_file(account_id, rehearsal)
    if not settings_file.is_file():
        raise ProjectError(
            f"the aws env keeps its state in S3 and has no backend settings for account {account_id} "
            f"({settings_file.name}): run ./inv state-bucket --env aws once per account "
            "(or opt out: README, Remote state)"
        )
    return Backend(settings_file, key)


# --------------------------------------------------------------------------- identity


def aws_session(
    identity: Identity, region: str, process_env: Mapping[str, str], rehearsal: Rehearsal | None = None
) -> Any:
    """The boto3 session of the principal: the profile (or the process's credentials), then the role.

    No silent fallback: a profile that does not exist, or a role that cannot be assumed, is an error.
    """
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

    try:
        if rehearsal is not None:
            base = boto3.session.Session(
                aws_access_key_id=rehearsal.credentials["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=rehearsal.credentials["AWS_SECRET_ACCESS_KEY"],
                aws_session_token=rehearsal.credentials.get("AWS_SESSION_TOKEN"),
                region_name=region,
            )
        else:
            profile = identity.profile or process_env.get("AWS_PROFILE")
            base = boto3.session.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise ProjectError(f"AWS profile {identity.profile!r} not found in your AWS config") from None
    if identity.assume_role_arn is None:
        return base
    try:
        sts = base.client("sts", **endpoint_options(rehearsal.emulator if rehearsal else None))
        try:
            creds = sts.assume_role(RoleArn=identity.assume_role_arn, RoleSessionName="sse-patterns-inv")[
                "Credentials"
            ]
        finally:
            sts.close()
    except (BotoCoreError, ClientError) as error:
        raise ProjectError(f"cannot assume {identity.assume_role_arn}: {error}") from None
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=region,
    )


def check_identity(
    identity: Identity, region: str, process_env: Mapping[str, str], rehearsal: Rehearsal | None = None
) -> str:
    """The account of the principal; fails before terraform starts when there are no usable
    credentials (terraform would say less) or the account is not one of allowed_account_ids."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    session = aws_session(identity, region, process_env, rehearsal)
    try:
        sts = session.client("sts", **endpoint_options(rehearsal.emulator if rehearsal else None))
        try:
            caller = sts.get_caller_identity()
        finally:
            sts.close()
    except NoCredentialsError:
        raise ProjectError(
            "no AWS credentials found for --env aws: configure them (aws configure, aws sso login, "
            "AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); the aws env deploys to a real account"
        ) from None
    except (BotoCoreError, ClientError) as error:
        raise ProjectError(f"AWS credentials for --env aws do not work: {error}") from None
    account = str(caller["Account"])
    allowed = identity.allowed_account_ids
    if allowed is not None and account not in allowed:
        raise ProjectError(
            f"refusing to deploy: these credentials are of account {account} ({caller['Arn']}), "
            f"which is not in allowed_account_ids ({', '.join(allowed) or 'none'})"
        )
    if str(caller["Arn"]).endswith(":root"):
        print(
            "warning: you are using the account's root user; use an IAM role or user instead", file=sys.stderr
        )
    return account


def _configured_region(process_env: Mapping[str, str], identity: Identity) -> str:
    region = process_env.get("AWS_REGION") or process_env.get("AWS_DEFAULT_REGION")
    if not region:
        import boto3
        from botocore.exceptions import ProfileNotFound

        try:
            profile = identity.profile or process_env.get("AWS_PROFILE")
            region = boto3.session.Session(profile_name=profile).region_name
        except ProfileNotFound:
            raise ProjectError(f"AWS profile {identity.profile!r} not found in your AWS config") from None
    if not region:
        raise ProjectError(
            "no AWS region configured for --env aws: "
            "pass --region, set region in terraform.tfvars or AWS_REGION, or give your profile a region"
        )
    return str(region)
