"""What the post-apply checks run against: the deployed stack's outputs and the principal under test.

On the emulator the principal is the non-root operator user the local env creates (MiniStack's root
bypasses every policy, so checks made as root would prove nothing); on AWS it is the caller's own
credentials, with any endpoint override ignored.

ARNs and service names are built from the stack's outputs (partition, DNS suffix, region, account),
never written down: the same checks hold in every partition. On the aws env the calls that AWS
documents as eventually consistent go through `propagation` (ssepatterns.consistency).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from ssepatterns import stack
from ssepatterns.consistency import Propagation
from ssepatterns.envs import Env
from ssepatterns.errors import ProjectError
from ssepatterns.plumbing import Clients


@dataclass
class Target:
    env: Env
    outputs: dict[str, Any]
    session: boto3.session.Session
    propagation: Propagation
    _clients: Clients = field(default_factory=lambda: Clients(_client_of), repr=False)

    @property
    def is_local(self) -> bool:
        return self.env.emulator is not None

    @property
    def on_emulator(self) -> bool:
        """The local env, or the aws env in ./inv rehearse: what only AWS can answer is not applicable."""
        return self.env.on_emulator

    @property
    def endpoint(self) -> str | None:
        target = self.env.emulator or (self.env.rehearsal.emulator if self.env.rehearsal else None)
        return target.endpoint if target else None

    @property
    def region(self) -> str:
        region: str = self.outputs["region"]
        return region

    @property
    def partition(self) -> str:
        partition: str = self.outputs["partition"]
        return partition

    @property
    def dns_suffix(self) -> str:
        dns_suffix: str = self.outputs["dns_suffix"]
        return dns_suffix

    def arn(self, service: str, resource: str, region: str | None = None, account: str | None = None) -> str:
        """arn:<partition>:<service>:<region>:<account>:<resource>, in the stack's region and account
        unless told otherwise ("" for a global service or resource)."""
        region = self.region if region is None else region
        account = self.outputs["account_id"] if account is None else account
        return f"arn:{self.partition}:{service}:{region}:{account}:{resource}"

    def service_name(self, service: str) -> str:
        """A service's regional name, <service>.<region>.<dns suffix> (as in kms:ViaService)."""
        return f"{service}.{self.region}.{self.dns_suffix}"

    def client(
        self,
        service: str,
        session: boto3.session.Session | None = None,
        config: Config | None = None,
        **kwargs: Any,
    ) -> Any:
        """A client as the principal under test (or of `session`); closed by close(). `config` is merged
        over the defaults (e.g. a larger connection pool and more retries for a re-encryption)."""
        session = session or self.session
        options = self.env.client_options()
        if self.endpoint is not None:
            kwargs.setdefault("endpoint_url", options["endpoint_url"])
            kwargs.setdefault("verify", options["verify"])
            base = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2})
        else:
            base = Config(ignore_configured_endpoint_urls=True, retries={"max_attempts": 4})
        merged = base.merge(config) if config is not None else base
        return self._clients(session, service, region_name=self.region, config=merged, **kwargs)

    def close(self) -> None:
        """Close every client it made (see plumbing.Clients)."""
        self._clients.close()


def _client_of(session: boto3.session.Session, service: str, **kwargs: Any) -> Any:
    return session.client(service, **kwargs)


# Outputs the checks need that a stack applied by an older version of this code lacks.
REQUIRED_OUTPUTS = ("account_id", "dns_suffix", "partition", "region")


def read_outputs(env: Env) -> dict[str, Any]:
    """The deployed stack's outputs (one `terraform output`, ~0.6 s: ./inv verify reads them once)."""
    return stack.outputs(env, stack.terraform_for(env, echo=False))


def open_target(
    env: Env, out: Callable[[str], None] = print, outputs: dict[str, Any] | None = None
) -> Target:
    """The deployed stack of `env` (its `outputs`, read when not given); `out` shows the waits for
    eventual consistency (aws env)."""
    outputs = read_outputs(env) if outputs is None else outputs
    again = "" if env.name == "local" else f" --env aws --region {env.region}"
    if "buckets" not in outputs:
        raise ProjectError(f"the {env.label} stack is not deployed: run ./inv up{again}")
    missing = [name for name in REQUIRED_OUTPUTS if name not in outputs]
    if missing:
        raise ProjectError(
            f"the {env.label} stack's outputs lack {', '.join(missing)} (applied by an older version): "
            f"run ./inv apply{again}"
        )
    if env.emulator is not None:
        creds = outputs["operator_credentials"]
        session = boto3.session.Session(
            aws_access_key_id=creds["access_key_id"],
            aws_secret_access_key=creds["secret_access_key"],
            region_name=outputs["region"],
        )
    else:
        session = env.session()  # the same principal as Terraform's (profile, role)
    return Target(env=env, outputs=outputs, session=session, propagation=Propagation(env.name, out=out))
