"""After a destroy: is anything the stack created still there?

Checked by name from the outputs the stack had before it was destroyed. The customer managed key
cannot vanish at once — KMS only schedules its deletion (7 to 30 days) — so a key pending
deletion counts as gone; any other key state is a leftover.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

ClientFactory = Callable[[str], Any]  # service name -> boto3 client

_GONE_CODES = frozenset(
    {
        "404",
        "NoSuchBucket",
        "NotFoundException",
        "ResourceNotFoundException",
        "NoSuchEntity",
        "StateMachineDoesNotExist",
    }
)


def _exists(call: Callable[[], Any]) -> bool:
    try:
        call()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _GONE_CODES:
            return False
        raise
    return True


def _engine_leftovers(
    engine: Mapping[str, Any] | None, client: ClientFactory, lambdas: Any, logs: Any
) -> list[str]:
    """The opt-in re-encryption engine's state machine, function, log groups and roles, if deployed."""
    if not engine:
        return []
    found: list[str] = []
    states = client("stepfunctions")
    if _exists(functools.partial(states.describe_state_machine, stateMachineArn=engine["state_machine_arn"])):
        found.append(f"state machine {engine['state_machine_arn'].rsplit(':', 1)[-1]}")
    if _exists(functools.partial(lambdas.get_function, FunctionName=engine["function_name"])):
        found.append(f"Lambda function {engine['function_name']}")
    for group in engine["log_group_names"].values():
        groups = logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups", [])
        if any(g["logGroupName"] == group for g in groups):
            found.append(f"log group {group}")
    iam = client("iam")
    for role in engine["role_names"].values():
        if _exists(functools.partial(iam.get_role, RoleName=role)):
            found.append(f"IAM role {role}")
    return found


def find_leftovers(outputs: Mapping[str, Any], client: ClientFactory) -> list[str]:
    """Descriptions of the stack's resources that still exist; empty when destroy left nothing."""
    if "buckets" not in outputs:
        return []
    s3, kms, secrets, lambdas, iam, logs = (
        client(name) for name in ("s3", "kms", "secretsmanager", "lambda", "iam", "logs")
    )
    found: list[str] = []
    for bucket in outputs["buckets"].values():
        if _exists(functools.partial(s3.head_bucket, Bucket=bucket["name"])):
            found.append(f"bucket {bucket['name']}")

    key = outputs["customer_managed_key"]
    try:
        state = kms.describe_key(KeyId=key["arn"])["KeyMetadata"]["KeyState"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in _GONE_CODES:
            raise
        state = "gone"
    if state not in ("PendingDeletion", "gone"):
        found.append(f"KMS key {key['key_id']} ({state})")
    alias_name = key["alias_arn"].split(":", 5)[5]
    aliases = kms.list_aliases(KeyId=key["key_id"]).get("Aliases", []) if state != "gone" else []
    if any(alias.get("AliasName") == alias_name for alias in aliases):
        found.append(f"KMS {alias_name}")

    secret = outputs["sse_c_key_secret"]
    try:
        # A force-deleted secret can be described for a moment longer, with a DeletedDate.
        if "DeletedDate" not in secrets.describe_secret(SecretId=secret["arn"]):
            found.append(f"secret {secret['name']}")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in _GONE_CODES:
            raise

    functions = outputs["functions"]
    for name in (functions["upload"], functions["download"]):
        if _exists(functools.partial(lambdas.get_function, FunctionName=name)):
            found.append(f"Lambda function {name}")
    if _exists(lambda: iam.get_role(RoleName=functions["role_name"])):
        found.append(f"IAM role {functions['role_name']}")
    for group in functions["log_group_names"].values():
        groups = logs.describe_log_groups(logGroupNamePrefix=group).get("logGroups", [])
        if any(g["logGroupName"] == group for g in groups):
            found.append(f"log group {group}")

    found += _engine_leftovers(outputs.get("reencrypt_engine"), client, lambdas, logs)

    operator = outputs.get("operator_credentials")
    if operator:
        user_name = operator["user_arn"].rsplit("/", 1)[-1]
        if _exists(lambda: iam.get_user(UserName=user_name)):
            found.append(f"IAM user {user_name}")
    return found
