"""find_leftovers names every resource of the stack that still exists, and only those."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from ssepatterns.leftovers import find_leftovers

OUTPUTS = {
    "buckets": {"sse_s3": {"name": "fa-125-sse-s3"}, "sse_c": {"name": "fa-125-sse-c"}},
    "customer_managed_key": {
        "arn": "arn:aws:kms:us-east-1:000000000000:key/k-1",
        "key_id": "k-1",
        "alias_arn": "arn:aws:kms:us-east-1:000000000000:alias/fa-125-cmk",
    },
    "sse_c_key_secret": {
        "arn": "arn:aws:secretsmanager:us-east-1:000000000000:secret:fa-125-x",
        "name": "fa-125",
    },
    "functions": {
        "upload": "fa-125-function1",
        "download": "fa-125-function2",
        "role_name": "fa-125-function-role",
        "log_group_names": {
            "upload": "/aws/lambda/fa-125-function1",
            "download": "/aws/lambda/fa-125-function2",
        },
    },
    "operator_credentials": {"user_arn": "arn:aws:iam::000000000000:user/fa-125-operator"},
    "reencrypt_engine": {
        "state_machine_arn": "arn:aws:states:us-east-1:000000000000:stateMachine:fa-125-sse-c-reencrypt",
        "function_name": "fa-125-sse-c-reencrypt",
        "log_group_names": {
            "function": "/aws/lambda/fa-125-sse-c-reencrypt",
            "state_machine": "/aws/vendedlogs/states/fa-125-sse-c-reencrypt",
        },
        "role_names": {
            "function": "fa-125-reencrypt-function-role",
            "state_machine": "fa-125-reencrypt-map-role",
        },
    },
}


def not_found(code: str = "NoSuchEntity") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "gone"}}, "Op")


class World:
    """A fake account: `existing` holds what is still there."""

    def __init__(self, existing: set[str], key_state: str = "PendingDeletion", secret_deleted: bool = False):
        self.existing = existing
        self.key_state = key_state
        self.secret_deleted = secret_deleted

    def client(self, service: str) -> Any:
        world = self

        class Client:
            def head_bucket(self, Bucket):
                if Bucket not in world.existing:
                    raise not_found("404")

            def describe_key(self, KeyId):
                if world.key_state == "gone":
                    raise not_found("NotFoundException")
                return {"KeyMetadata": {"KeyState": world.key_state}}

            def list_aliases(self, KeyId):
                return {"Aliases": [{"AliasName": "alias/fa-125-cmk"}] if "alias" in world.existing else []}

            def describe_secret(self, SecretId):
                if "secret" not in world.existing:
                    raise not_found("ResourceNotFoundException")
                return {"DeletedDate": "now"} if world.secret_deleted else {"Name": "fa-125"}

            def get_function(self, FunctionName):
                if FunctionName not in world.existing:
                    raise not_found("ResourceNotFoundException")

            def describe_state_machine(self, stateMachineArn):
                if stateMachineArn.rsplit(":", 1)[-1] not in world.existing:
                    raise not_found("StateMachineDoesNotExist")

            def get_role(self, RoleName):
                if RoleName not in world.existing:
                    raise not_found()

            def get_user(self, UserName):
                if UserName not in world.existing:
                    raise not_found()

            def describe_log_groups(self, logGroupNamePrefix):
                groups = (
                    [{"logGroupName": logGroupNamePrefix}] if logGroupNamePrefix in world.existing else []
                )
                return {"logGroups": groups}

        return Client()


def test_a_clean_account_has_no_leftovers():
    assert find_leftovers(OUTPUTS, World(set()).client) == []


def test_a_secret_being_force_deleted_is_gone():
    assert find_leftovers(OUTPUTS, World({"secret"}, secret_deleted=True).client) == []


@pytest.mark.parametrize(
    ("existing", "key_state", "expected"),
    [
        ({"fa-125-sse-c"}, "PendingDeletion", "bucket fa-125-sse-c"),
        (set(), "Enabled", "KMS key k-1 (Enabled)"),
        ({"alias"}, "PendingDeletion", "KMS alias/fa-125-cmk"),
        ({"secret"}, "gone", "secret fa-125"),
        ({"fa-125-function2"}, "gone", "Lambda function fa-125-function2"),
        ({"fa-125-function-role"}, "gone", "IAM role fa-125-function-role"),
        ({"/aws/lambda/fa-125-function1"}, "gone", "log group /aws/lambda/fa-125-function1"),
        ({"fa-125-operator"}, "gone", "IAM user fa-125-operator"),
        ({"fa-125-sse-c-reencrypt"}, "gone", None),  # the engine's state machine and function share a name
        (
            {"/aws/vendedlogs/states/fa-125-sse-c-reencrypt"},
            "gone",
            "log group /aws/vendedlogs/states/fa-125-sse-c-reencrypt",
        ),
        ({"fa-125-reencrypt-function-role"}, "gone", "IAM role fa-125-reencrypt-function-role"),
        ({"fa-125-reencrypt-map-role"}, "gone", "IAM role fa-125-reencrypt-map-role"),
    ],
)
def test_each_kind_of_leftover_is_named(existing, key_state, expected):
    found = find_leftovers(OUTPUTS, World(existing, key_state).client)
    if expected is None:  # the engine's state machine and its function, both named fa-125-sse-c-reencrypt
        expected_both = ["state machine fa-125-sse-c-reencrypt", "Lambda function fa-125-sse-c-reencrypt"]
        assert found == expected_both
    else:
        assert found == [expected]


def test_an_engine_not_deployed_is_not_looked_for():
    without = {k: v for k, v in OUTPUTS.items() if k != "reencrypt_engine"} | {"reencrypt_engine": None}
    assert find_leftovers(without, World({"fa-125-sse-c-reencrypt"}).client) == []


def test_other_errors_are_not_taken_for_gone():
    class Denied(World):
        def client(self, service):
            base = super().client(service)

            def head_bucket(Bucket):
                raise not_found("AccessDenied")

            base.head_bucket = head_bucket
            return base

    with pytest.raises(ClientError):
        find_leftovers(OUTPUTS, Denied(set()).client)


def test_no_outputs_no_check():
    assert find_leftovers({}, World(set()).client) == []
