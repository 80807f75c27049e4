"""The deployer role (examples/deployer-role, the module terraform/modules/deployer-role): least
privilege in its permissions, and a trust policy that lets in exactly one GitHub repository's
environment and the administrators given.

The permissions are judged statement by statement on the rendered document, as IAM will read it:
no wildcard in an action; "*" as a resource only for the actions AWS gives no resource-level
permission (each listed below, with the reason); every other resource in this account, scoped by
the prefix, with "*" only in the region field (the role deploys any region) and in the one resource
whose name AWS chooses (KMS key ids).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from .jobs import PlannedExamples
from .planned import PlannedEnv
from .workspace import ADMINISTRATOR_ROLE_ARN, GITHUB_OIDC_PROVIDER_ARN, GITHUB_REPOSITORY, PREFIX

pytestmark = pytest.mark.plan

ROLE = "module.deployer_role.aws_iam_role.this"
# The stack's policy, and the re-encryption engine's (allow_reencrypt_engine: the plan asks for it).
POLICIES = (
    "module.deployer_role.aws_iam_role_policy.deploy",
    "module.deployer_role.aws_iam_role_policy.reencrypt_engine[0]",
)
ROLE_NAME = "sse-patterns-deployer"
# Actions for which AWS offers no resource-level permission (Service Authorization Reference,
# "Resource types" column empty), so the statement's Resource must be "*".
RESOURCELESS_ACTIONS = {
    "kms:CreateKey": "the key does not exist yet; its id is chosen by KMS",
    "kms:ListAliases": "a list call of the account (the provider reads aliases after creating one)",
    "logs:DescribeLogGroups": "a list call of the account (the provider's log group read)",
    "secretsmanager:GetRandomPassword": "generates the SSE-C key; touches no resource",
    "states:ValidateStateMachineDefinition": "the provider validates a definition at plan; no resource",
    # CloudWatch Logs delivery, which Step Functions logging requires of whoever configures it.
    **dict.fromkeys(
        [
            "logs:CreateLogDelivery",
            "logs:DeleteLogDelivery",
            "logs:DescribeResourcePolicies",
            "logs:GetLogDelivery",
            "logs:ListLogDeliveries",
            "logs:PutResourcePolicy",
            "logs:UpdateLogDelivery",
        ],
        "log delivery for the engine's state machine: AWS supports only * for these",
    ),
}

ARN = re.compile(r"arn:aws:(?P<service>[a-z0-9-]+):(?P<region>[^:]*):(?P<account>[^:]*):(?P<name>.+)")
# The resource names (after the account field) the role may act on: its own role, and the stack's
# resources by the prefix. "key/*": a key's id is chosen by KMS at creation, so no name can scope it
# (the key policy, which the stack writes, is what guards each key).
SCOPED_NAMES = {
    f"role/{ROLE_NAME}",
    "key/*",
    f"alias/{PREFIX}-*",
    f"function:{PREFIX}-*",
    f"log-group:/aws/lambda/{PREFIX}-*",
    f"log-group:/aws/vendedlogs/states/{PREFIX}-*",  # the engine's state machine
    f"stateMachine:{PREFIX}-*",
    f"execution:{PREFIX}-*:*",  # the engine's executions (names chosen per run)
    f"mapRun:{PREFIX}-*/*",  # and their map runs
    f"role/{PREFIX}-*",
    f"secret:{PREFIX}*",
    f"{PREFIX}-*",  # buckets
    f"{PREFIX}-*/*",  # their objects
}


@pytest.fixture(scope="module")
def planned_role(planned_example: PlannedExamples) -> PlannedEnv:
    return planned_example["deployer-role"]


def _statements(document: str) -> list[dict[str, Any]]:
    statements = json.loads(document)["Statement"]
    return [statements] if isinstance(statements, dict) else statements


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _permissions(planned_role: PlannedEnv) -> list[dict[str, Any]]:
    return [s for policy in POLICIES for s in _statements(planned_role.resources[policy]["policy"])]


def _resource_findings(resource: str, account_id: str) -> list[str]:
    """Why a resource of a non-resourceless statement is broader than the prefix allows; [] if not."""
    if resource == "*":
        return ['"*"']
    arn = ARN.fullmatch(resource)
    if arn is None:
        return [f"{resource}: not an ARN"]
    found = []
    if arn["service"] != "s3" and arn["account"] != account_id:
        found.append(f"{resource}: not in the account {account_id}")
    if arn["region"] not in ("", "*"):
        found.append(f"{resource}: pinned to one region, the role deploys any")
    if arn["name"] not in SCOPED_NAMES:
        found.append(f"{resource}: not scoped by the prefix {PREFIX}")
    return found


def test_no_wildcard_actions(planned_role: PlannedEnv) -> None:
    found = [
        f"{statement['Sid']}: {action}"
        for statement in _permissions(planned_role)
        for action in _as_list(statement["Action"])
        if "*" in action or "?" in action
    ]
    assert not found
    assert not [s["Sid"] for s in _permissions(planned_role) if "NotAction" in s or "NotResource" in s]


def test_star_resource_only_for_actions_without_resource_level_permissions(planned_role: PlannedEnv) -> None:
    starred = {
        action
        for statement in _permissions(planned_role)
        if "*" in _as_list(statement["Resource"])
        for action in _as_list(statement["Action"])
    }
    assert starred == set(RESOURCELESS_ACTIONS)


def test_every_other_resource_is_scoped_by_the_prefix(planned_role: PlannedEnv) -> None:
    account_id = planned_role.facts["account_id"]
    found = [
        f"{statement['Sid']}: {finding}"
        for statement in _permissions(planned_role)
        if not set(_as_list(statement["Action"])) <= set(RESOURCELESS_ACTIONS)
        for resource in _as_list(statement["Resource"])
        for finding in _resource_findings(resource, account_id)
    ]
    assert not found, "\n".join(found)


def test_roles_can_be_passed_to_lambda_and_step_functions_only(planned_role: PlannedEnv) -> None:
    passing = [s for s in _permissions(planned_role) if "iam:PassRole" in _as_list(s["Action"])]
    assert all(_as_list(s["Action"]) == ["iam:PassRole"] for s in passing)
    assert sorted(s["Condition"]["StringEquals"]["iam:PassedToService"] for s in passing) == [
        "lambda.amazonaws.com",
        "states.amazonaws.com",
    ]
    assert all(list(s["Condition"]) == ["StringEquals"] for s in passing)


def test_trust_lets_in_one_repository_environment_and_the_administrators(planned_role: PlannedEnv) -> None:
    trust = {s["Sid"]: s for s in _statements(planned_role.resources[ROLE]["assume_role_policy"])}
    assert trust == {
        "TrustedPrincipals": {
            "Sid": "TrustedPrincipals",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"AWS": ADMINISTRATOR_ROLE_ARN},
        },
        "GitHubActions": {
            "Sid": "GitHubActions",
            "Effect": "Allow",
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": GITHUB_OIDC_PROVIDER_ARN},
            "Condition": {
                "StringEquals": {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                    "token.actions.githubusercontent.com:sub": f"repo:{GITHUB_REPOSITORY}:environment:aws",
                }
            },
        },
    }


def test_an_existing_oidc_provider_is_used_not_created(planned_role: PlannedEnv) -> None:
    assert [a for a in planned_role.actions if "aws_iam_openid_connect_provider" in a] == []
    assert planned_role.outputs["github_oidc_provider_arn"] == GITHUB_OIDC_PROVIDER_ARN
