"""The rehearsal's administrator: what an account's administrator does before a team's first deploy.

An engineer's IAM user (boto3, as the administrator would in the console), then the deployer role
as the project ships it: examples/deployer-role applied with Terraform, with its module and its
policy unchanged, trusting the engineer and one GitHub repository's environment. Then GitHub's side
of the trust: web identity tokens shaped like those of GitHub Actions, one that must be let in and
several that must be refused. The emulator reads a token's claims without verifying its signature
(docs/emulator.md), so the checks prove the trust policy's conditions, not the token's origin.
"""

from __future__ import annotations

import base64
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssepatterns import stack
from ssepatterns.emulator import control
from ssepatterns.envs import Rehearsal, aws_process_env
from ssepatterns.errors import ProjectError
from ssepatterns.paths import EXAMPLES_DIR, TERRAFORM_DIR
from ssepatterns.terraform import Terraform

ENGINEER = "rehearsal-engineer"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITHUB_REPOSITORY = "example-org/s3-sse-patterns"
GITHUB_ENVIRONMENT = "aws"  # the environment of .github/workflows/aws.yml
DEPLOYER_EXAMPLE = "deployer-role"


def _sts_audience(region: str) -> str:
    """The audience GitHub's tokens carry for AWS: STS in the region's partition (configure-aws-credentials'
    default in the aws partition), the value the deployer role's trust requires."""
    import botocore.session

    resolver = botocore.session.get_session().get_component("endpoint_resolver")
    dns_suffix: str = resolver.get_partition_dns_suffix(resolver.get_partition_for_region(region))
    return "sts." + dns_suffix


@dataclass(frozen=True)
class GitHubToken:
    """The claims of one GitHub Actions OIDC token that matter to a trust policy."""

    label: str
    sub: str
    aud: str = _sts_audience("us-east-1")  # the rehearsal's regions are all in the aws partition
    iss: str = GITHUB_ISSUER

    def encoded(self) -> str:
        """An unsigned JWT with these claims (the emulator does not verify signatures)."""
        now = int(time.time())
        claims = {"iss": self.iss, "aud": self.aud, "sub": self.sub, "iat": now, "exp": now + 300}
        header = {"alg": "RS256", "typ": "JWT", "kid": "rehearsal"}
        return ".".join(_b64url(json.dumps(part).encode()) for part in (header, claims)) + ".unsigned"


ACCEPTED_TOKEN = GitHubToken(
    "the workflow's job in the aws environment", f"repo:{GITHUB_REPOSITORY}:environment:{GITHUB_ENVIRONMENT}"
)
REFUSED_TOKENS = (
    GitHubToken("another repository", f"repo:example-org/a-fork:environment:{GITHUB_ENVIRONMENT}"),
    GitHubToken("another environment", f"repo:{GITHUB_REPOSITORY}:environment:staging"),
    GitHubToken(
        "a job on a branch, without the environment", f"repo:{GITHUB_REPOSITORY}:ref:refs/heads/main"
    ),
    GitHubToken("a pull request", f"repo:{GITHUB_REPOSITORY}:pull_request"),
    GitHubToken(
        "another audience", ACCEPTED_TOKEN.sub, aud=f"https://github.com/{GITHUB_REPOSITORY.split('/')[0]}"
    ),
    GitHubToken("another issuer", ACCEPTED_TOKEN.sub, iss="https://gitlab.example.com"),
)


@dataclass
class DeployerSetup:
    """What the administrator hands over: the engineer's keys and the deployer role's ARN."""

    engineer_credentials: dict[str, str] = field(repr=False)
    role_arn: str
    terraform: Terraform = field(repr=False)
    variables: dict[str, Any] = field(repr=False)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def root_credentials(account_id: str) -> dict[str, str]:
    """The account's root (MiniStack: a 12-digit access key id is that account's root)."""
    return {"AWS_ACCESS_KEY_ID": account_id, "AWS_SECRET_ACCESS_KEY": "test"}  # MiniStack's fixed root secret


def create_deployer(
    cfg: control.EmulatorConfig, folder: Path, account_id: str, region: str, prefix: str
) -> DeployerSetup:
    """As the administrator: the engineer, then `terraform apply` of examples/deployer-role (copied
    with the modules it calls, so no state or .terraform lands in the checkout), then the engineer's
    permission to assume the role."""
    admin = root_credentials(account_id)
    with control.clients(cfg, region) as clients:
        iam = clients("iam", admin)
        user = iam.create_user(UserName=ENGINEER)["User"]
        workdir = folder / "examples" / DEPLOYER_EXAMPLE
        shutil.copytree(EXAMPLES_DIR / DEPLOYER_EXAMPLE, workdir, ignore=shutil.ignore_patterns(".terraform"))
        shutil.copytree(TERRAFORM_DIR / "modules", folder / "terraform" / "modules")
        process_env = aws_process_env(Rehearsal(cfg, admin, folder))
        tf = Terraform(workdir, env=process_env)
        stack.init_plain(f"{DEPLOYER_EXAMPLE} example", tf, process_env)
        variables = {
            "allow_reencrypt_engine": True,  # the second region deploys the re-encryption engine too
            "github_repository": GITHUB_REPOSITORY,
            "github_environment": GITHUB_ENVIRONMENT,
            "prefix": prefix,
            "region": region,
            "trusted_principal_arns": [user["Arn"]],  # python-terraform passes a .tfvars.json
        }
        tf.apply_now(variables)
        role_arn = str(tf.outputs()["role_arn"])
        iam.put_user_policy(
            UserName=ENGINEER,
            PolicyName="assume-the-deployer-role",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}],
                }
            ),
        )
        key = iam.create_access_key(UserName=ENGINEER)["AccessKey"]
    credentials = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    return DeployerSetup(credentials, role_arn, tf, variables)


def github_oidc_credentials(
    cfg: control.EmulatorConfig, role_arn: str, region: str, record: dict[str, Any]
) -> dict[str, str]:
    """AssumeRoleWithWebIdentity as GitHub Actions would: the accepted token's session credentials,
    after every refused token was refused. `record` gets what happened to each token."""
    from botocore import UNSIGNED
    from botocore.config import Config
    from botocore.exceptions import ClientError

    # Unsigned, as configure-aws-credentials calls it: the token is the only credential.
    sts = control.client(cfg, "sts", region=region, config=Config(signature_version=UNSIGNED))

    def assume(token: GitHubToken) -> dict[str, Any]:
        credentials: dict[str, Any] = sts.assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="github-actions", WebIdentityToken=token.encoded()
        )["Credentials"]
        return credentials

    try:
        record["refused"] = {}
        for token in REFUSED_TOKENS:
            try:
                assume(token)
            except ClientError as error:
                record["refused"][token.label] = error.response["Error"]["Code"]
            else:
                raise ProjectError(f"the deployer role let in a token of {token.label} (sub {token.sub})")
        denied = {label: code for label, code in record["refused"].items() if code != "AccessDenied"}
        if denied:
            raise ProjectError(f"tokens refused for another reason than the trust policy: {denied}")
        try:
            creds = assume(ACCEPTED_TOKEN)
        except ClientError as error:
            raise ProjectError(f"the deployer role refused {ACCEPTED_TOKEN.label}: {error}") from None
        record["accepted"] = ACCEPTED_TOKEN.sub
    finally:
        sts.close()
    print(f"    let in: {ACCEPTED_TOKEN.sub}; refused: {', '.join(record['refused'])}")
    return {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }


def destroy_deployer(cfg: control.EmulatorConfig, setup: DeployerSetup, account_id: str) -> list[str]:
    """As the administrator, after the team is done: the example destroys what it made. What is
    left of it (the role, GitHub's OIDC provider), by ARN."""
    setup.terraform.destroy(variables=setup.variables)
    with control.clients(cfg, setup.variables["region"]) as clients:
        iam = clients("iam", root_credentials(account_id))
        roles = [role["Arn"] for role in iam.list_roles()["Roles"] if role["Arn"] == setup.role_arn]
        providers = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    return roles + providers
