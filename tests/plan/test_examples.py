"""The examples a consumer copies plan what the project deploys.

examples/complete must plan exactly the resources the aws env plans inside its sse-patterns module
(a consumer gets every pattern, with nothing missing); examples/single-bucket must plan one bucket
with every guard the aws env's CMK bucket has. Neither may carry key material in its plan.
"""

from __future__ import annotations

import pytest

from .checks import registry, secret_findings
from .jobs import PlannedEnvs, PlannedExamples
from .matcher import UNKNOWN
from .workspace import EXAMPLES, PREFIX

pytestmark = pytest.mark.plan


def _managed_under(addresses: dict[str, list[str]], module: str) -> dict[str, list[str]]:
    """Planned actions of the managed resources under `module`, by address relative to it."""
    return {
        address.removeprefix(module): actions
        for address, actions in addresses.items()
        if address.startswith(module) and ".data." not in f".{address}"
    }


def test_complete_example_plans_the_aws_envs_module(
    planned: PlannedEnvs, planned_example: PlannedExamples
) -> None:
    example = _managed_under(planned_example["complete"].actions, "module.sse_patterns.")
    env = _managed_under(planned["aws"].actions, "module.sse_patterns.")
    assert sorted(example) == sorted(env)
    assert {tuple(actions) for actions in example.values()} == {("create",)}


def test_complete_example_names_buckets_by_account_and_region(
    planned: PlannedEnvs, planned_example: PlannedExamples
) -> None:
    plan = planned_example["complete"]
    suffixes = [entry["suffix"] for entry in registry(planned["aws"]).values()]  # the pattern registry
    names = {
        values["bucket"]
        for address, values in plan.resources.items()
        if address.endswith(".aws_s3_bucket.this")
    }
    infix = f"{plan.facts['account_id']}-{plan.facts['region']}"
    assert suffixes and names == {f"{PREFIX}-{infix}-{suffix}" for suffix in suffixes}


def test_single_bucket_example_has_the_guards_of_the_cmk_bucket(
    planned: PlannedEnvs, planned_example: PlannedExamples
) -> None:
    example = _managed_under(planned_example["single-bucket"].actions, "module.bucket.")
    env = _managed_under(
        planned["aws"].actions, 'module.sse_patterns.module.customer_managed_key_bucket["sse_kms_cmk"].'
    )
    assert sorted(example) == sorted(env)


def test_single_bucket_example_encrypts_with_its_key_and_a_bucket_key(
    planned_example: PlannedExamples,
) -> None:
    resources = planned_example["single-bucket"].resources
    configuration = resources["module.bucket.aws_s3_bucket_server_side_encryption_configuration.this[0]"]
    (rule,) = configuration["rule"]
    assert rule["bucket_key_enabled"] is True
    (default,) = rule["apply_server_side_encryption_by_default"]
    assert default == {"sse_algorithm": "aws:kms", "kms_master_key_id": UNKNOWN}  # the new key's ARN


@pytest.mark.parametrize("name", EXAMPLES)
def test_no_key_material_in_the_examples_plan(planned_example: PlannedExamples, name: str) -> None:
    found = secret_findings(planned_example[name])
    assert not found, "\n".join(found)
