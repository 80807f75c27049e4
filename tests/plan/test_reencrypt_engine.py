"""The opt-in re-encryption engine (terraform/modules/sse-c-reencrypt): off by default, it plans nothing;
on (fixtures.ENGINE_ON), it adds exactly its resources, a Distributed Map over the SSE-C bucket's
listing with MaxConcurrency from the input, and roles with exactly the grants the map and the function
use (no wildcard beyond the ones IAM imposes: checks.wildcard_findings)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from .jobs import PlannedEngineEnvs, PlannedEnvs
from .workspace import ENVS

pytestmark = pytest.mark.plan

# Both envs, the aws env as the plan tests' deployer session (tests/plan/workspace.py), which may call
# states:ValidateStateMachineDefinition: the provider validates the definition at plan.
ENGINE_ENVS = ("local", "aws")

ENGINE = "module.sse_patterns.module.reencrypt_engine[0]."
ENGINE_TYPES = Counter(
    {
        "aws_sfn_state_machine": 1,
        "aws_lambda_function": 1,
        "aws_iam_role": 2,
        "aws_iam_role_policy": 2,
        "aws_cloudwatch_log_group": 2,
    }
)


def _managed(addresses: dict[str, Any]) -> set[str]:
    return {a for a in addresses if ".data." not in f".{a}" and not a.startswith("data.")}


def _statements(planned: Any, document: str) -> dict[str, dict[str, Any]]:
    return {
        s["sid"]: s
        for s in planned.resources[ENGINE + f"data.aws_iam_policy_document.{document}"]["statement"]
    }


def _arn(facts: dict[str, str], service: str, resource: str) -> str:
    return f"arn:{facts['partition']}:{service}:{facts['region']}:{facts['account_id']}:{resource}"


def _bucket_arn(facts: dict[str, str], suffix: str) -> str:
    return f"arn:{facts['partition']}:s3:::{facts['global_prefix']}-{suffix}"


@pytest.mark.parametrize("env", ENVS)
def test_off_by_default_it_plans_nothing(planned: PlannedEnvs, env: str) -> None:
    assert not [a for a in planned[env].resources if "reencrypt" in a]
    assert planned[env].outputs["reencrypt_engine"] is None


@pytest.mark.parametrize("env", ENGINE_ENVS)
def test_on_it_adds_exactly_its_resources(
    planned: PlannedEnvs, planned_engine: PlannedEngineEnvs, env: str
) -> None:
    off, on = _managed(planned[env].resources), _managed(planned_engine[env].resources)
    assert off <= on, f"switching the engine on changes the stack: {sorted(off - on)}"
    added = on - off
    assert all(a.startswith(ENGINE) for a in added), sorted(added)
    assert Counter(a[len(ENGINE) :].split(".")[0] for a in added) == ENGINE_TYPES
    facts = planned_engine[env].facts
    output = planned_engine[env].outputs["reencrypt_engine"]
    assert output["function_name"] == f"{facts['prefix']}-sse-c-reencrypt"
    assert output["source_bucket"] == f"{facts['global_prefix']}-sse-c"
    assert output["destination_buckets"] == [f"{facts['global_prefix']}-sse-kms-cmk"]
    assert output["max_concurrency"] == 7


@pytest.mark.parametrize("env", ENGINE_ENVS)
def test_the_definition_is_a_distributed_map_over_the_listing(
    planned_engine: PlannedEngineEnvs, env: str
) -> None:
    planned = planned_engine[env]
    facts = planned.facts
    machine = planned.resources[ENGINE + "aws_sfn_state_machine.reencrypt"]
    assert machine["type"] == "STANDARD"
    assert machine["logging_configuration"][0]["include_execution_data"] is False
    definition = json.loads(machine["definition"])
    the_map = definition["States"][definition["StartAt"]]
    assert the_map["Type"] == "Map"
    assert the_map["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert the_map["MaxConcurrency"] == 7  # from the input, not a literal
    assert the_map["ItemReader"] == {
        "Resource": f"arn:{facts['partition']}:states:::s3:listObjectsV2",
        "Parameters": {"Bucket": f"{facts['global_prefix']}-sse-c", "Prefix.$": "$.prefix"},
    }
    assert the_map["ItemSelector"]["job.$"] == "$.job"
    assert {k: v for k, v in the_map["ItemSelector"].items() if k != "job.$"} == {
        "Key.$": "$$.Map.Item.Value.Key",
        "Size.$": "$$.Map.Item.Value.Size",
        "Etag.$": "$$.Map.Item.Value.Etag",
    }
    assert the_map["ItemBatcher"] == {"MaxItemsPerBatch": 100}
    task = the_map["ItemProcessor"]["States"][the_map["ItemProcessor"]["StartAt"]]
    function_arn = _arn(facts, "lambda", f"function:{facts['prefix']}-sse-c-reencrypt")
    assert task["Resource"] == f"arn:{facts['partition']}:states:::lambda:invoke"
    assert task["Parameters"] == {"FunctionName": function_arn, "Payload.$": "$"}
    assert task["OutputPath"] == "$.Payload"  # each batch's counts, which the driver adds up
    retried = {error for retrier in task["Retry"] for error in retrier["ErrorEquals"]}
    assert {"Lambda.TooManyRequestsException", "Lambda.ServiceException"} <= retried
    assert all(retrier["BackoffRate"] > 1 for retrier in task["Retry"])


@pytest.mark.parametrize("env", ENGINE_ENVS)
def test_the_state_machine_may_invoke_list_and_run_its_children_only(
    planned_engine: PlannedEngineEnvs, env: str
) -> None:
    planned = planned_engine[env]
    facts = planned.facts
    statements = _statements(planned, "state_machine")
    function_arn = _arn(facts, "lambda", f"function:{facts['prefix']}-sse-c-reencrypt")
    assert statements["InvokeTheReEncryptionFunction"]["actions"] == ["lambda:InvokeFunction"]
    assert sorted(statements["InvokeTheReEncryptionFunction"]["resources"]) == [
        function_arn,
        f"{function_arn}:*",
    ]
    assert statements["ListTheSourceBucket"]["actions"] == ["s3:ListBucket"]
    assert statements["ListTheSourceBucket"]["resources"] == [_bucket_arn(facts, "sse-c")]
    machine = _arn(facts, "states", f"stateMachine:{facts['prefix']}-sse-c-reencrypt")
    assert statements["RunTheMapsChildWorkflows"]["resources"] == [machine]
    star = [sid for sid, s in statements.items() if "*" in s["resources"]]
    assert star == ["DeliverTheStateMachinesLogs"]
    assert all(
        a.startswith("logs:") and "Deliver" in a or "Describe" in a or "ResourcePolicy" in a
        for a in statements[star[0]]["actions"]
    )
