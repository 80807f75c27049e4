"""The two deployment targets: `local` (the emulator, default) and `aws` (a real account).

Each resolves to a Terraform root module, the environment its terraform process gets, and the
input variables ./inv passes. The aws env never inherits an endpoint override, so it can never
be pointed at the emulator by a stray AWS_ENDPOINT_URL in the user's shell.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssepatterns.emulator.control import EmulatorConfig, client_env
from ssepatterns.errors import ProjectError
from ssepatterns.paths import BUILD_DIR, ENVS_DIR

ENV_NAMES = ("local", "aws")
DEFAULT_ENV = "local"


@dataclass(frozen=True)
class Env:
    name: str
    workdir: Path
    process_env: dict[str, str] = field(repr=False)  # may hold credentials: never print it
    variables: dict[str, str]
    emulator: EmulatorConfig | None = None

    @property
    def plan_file(self) -> Path:
        return BUILD_DIR / "plans" / f"{self.name}.tfplan"

    def admin_client(self, service: str) -> Any:
        """A boto3 client with the credentials terraform uses (the emulator's root on local)."""
        import boto3
        from botocore.config import Config

        if self.emulator is None:
            session = boto3.session.Session(region_name=self.variables["region"])
            return session.client(service, config=Config(ignore_configured_endpoint_urls=True))
        creds = client_env(self.emulator)
        return boto3.session.Session(
            aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
            region_name=self.emulator.region,
        ).client(
            service,
            endpoint_url=self.emulator.endpoint,
            verify=str(self.emulator.ca_bundle),
            config=Config(s3={"addressing_style": "path"}),
        )


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
    return {k: v for k, v in env.items() if not k.startswith("AWS_ENDPOINT_URL")}


def local_env() -> Env:
    cfg = EmulatorConfig.from_env()
    # None of the user's AWS settings (profile, session token, endpoints) may reach the emulator's
    # clients: a session token sent with the emulator's root key is rejected, a profile overrides it.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process_env = with_venv_on_path({**inherited, **client_env(cfg)})
    return Env(
        name="local",
        workdir=ENVS_DIR / "local",
        process_env=process_env,
        variables={"emulator_endpoint": cfg.endpoint, "region": cfg.region},
        emulator=cfg,
    )


def aws_env(region: str | None = None) -> Env:
    process_env = with_venv_on_path(without_endpoint_overrides(os.environ))
    region = region or _configured_region(process_env)
    _check_aws_credentials(process_env, region)
    return Env(name="aws", workdir=ENVS_DIR / "aws", process_env=process_env, variables={"region": region})


def resolve(name: str, region: str | None = None) -> Env:
    check_env_name(name)
    if name == "local":
        if region:
            raise ProjectError(
                "--region applies to --env aws only; the local env's region is fixed by the emulator"
            )
        return local_env()
    return aws_env(region)


def _configured_region(process_env: Mapping[str, str]) -> str:
    region = process_env.get("AWS_REGION") or process_env.get("AWS_DEFAULT_REGION")
    if not region:
        import boto3

        region = boto3.session.Session(profile_name=process_env.get("AWS_PROFILE")).region_name
    if not region:
        raise ProjectError(
            "no AWS region configured for --env aws: "
            "pass --region, set AWS_REGION, or give your profile a region"
        )
    return region


def _check_aws_credentials(process_env: Mapping[str, str], region: str) -> None:
    """Fail before terraform starts when there are no usable credentials (terraform would say less)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        session = boto3.session.Session(profile_name=process_env.get("AWS_PROFILE"), region_name=region)
        # Never the emulator: ignore AWS_ENDPOINT_URL* and endpoint_url in the shared config.
        sts = session.client("sts", config=Config(ignore_configured_endpoint_urls=True))
        identity = sts.get_caller_identity()
    except NoCredentialsError:
        raise ProjectError(
            "no AWS credentials found for --env aws: configure them (aws configure, aws sso login, "
            "AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); the aws env deploys to a real account"
        ) from None
    except (BotoCoreError, ClientError) as error:
        raise ProjectError(f"AWS credentials for --env aws do not work: {error}") from None
    if identity["Arn"].endswith(":root"):
        print(
            "warning: you are using the account's root user; use an IAM role or user instead", file=sys.stderr
        )
