"""Drift that no plan shows: each bucket's BlockedEncryptionTypes, which hashicorp/aws 5.x cannot read.

The encrypted-bucket module sets it with a helper (`terraform_data` + local-exec) that runs again only
when its triggers change, so a setting changed out of band (or lost with an emulator's state) stays
wrong through every later plan. Before each plan, ./inv reads the setting of every bucket that has a
helper in the state and, where it differs from what the helper was told to set (its
`triggers_replace.blocked`), plans that helper with `-replace=<address>`: the plan shows the repair
and the apply makes it. The same when the bucket's default encryption differs from the one configured
(`triggers_replace.default_encryption`): Terraform's repair rewrites the configuration, and a rewrite
drops BlockedEncryptionTypes, so the helper must run after it in the same apply. The helpers are
found in the state by what they are (a terraform_data whose triggers name a bucket and a blocked
type), not by address, so a change of the module graph cannot leave one out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ssepatterns.envs import Env
from ssepatterns.errors import ProjectError


@dataclass(frozen=True)
class Helper:
    """One bucket's BlockedEncryptionTypes helper as the state records it."""

    address: str
    bucket: str
    blocked: str  # the one EncryptionType it sets: "SSE-C" or "NONE"
    # The default encryption Terraform configures on the bucket (the helper's triggers), or None: none.
    configured: dict[str, Any] | None = None


@dataclass(frozen=True)
class Drift:
    helper: Helper
    found: str  # what the bucket has, as a phrase
    wants: str = ""  # what the configuration wants instead; "" for the helper's own setting

    def describe(self) -> str:
        wants = self.wants or f"BlockedEncryptionTypes {self.helper.blocked}"
        return (
            f"drift: {self.helper.bucket} has {self.found}, the configuration wants {wants}: "
            "its helper is replaced in this plan"
        )


def helpers(state_json: str) -> list[Helper]:
    """The helpers in a state (`terraform state pull` output; "" when there is no state yet)."""
    if not state_json.strip():
        return []
    try:
        state = json.loads(state_json)
    except ValueError as error:
        raise ProjectError(f"the Terraform state is not JSON: {error}") from None
    found = []
    for resource in state.get("resources", []):
        if resource.get("mode") != "managed" or resource.get("type") != "terraform_data":
            continue
        base = ".".join(filter(None, [resource.get("module"), "terraform_data", resource["name"]]))
        for instance in resource.get("instances", []):
            triggers = _value(instance.get("attributes", {}).get("triggers_replace"))
            if not isinstance(triggers, dict) or not {"bucket", "blocked"} <= triggers.keys():
                continue
            found.append(
                Helper(
                    base + _index(instance.get("index_key")),
                    triggers["bucket"],
                    triggers["blocked"],
                    _configured(triggers.get("default_encryption")),
                )
            )
    return found


def _configured(recorded: Any) -> dict[str, Any] | None:
    """The helper's `default_encryption` trigger (jsonencode of the module's input) as a mapping."""
    try:
        value = json.loads(recorded) if isinstance(recorded, str) else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _default_phrase(algorithm: Any, key: Any, bucket_key: bool) -> str:
    return f"{algorithm}{' ' + str(key) if key else ''}, bucket key {'on' if bucket_key else 'off'}"


def _configuration_drift(helper: Helper, rules: list[dict[str, Any]]) -> Drift | None:
    """Terraform repairs a changed default encryption by rewriting the configuration, which drops
    BlockedEncryptionTypes; the plan cannot see that, so the helper must run again after it."""
    if helper.configured is None:
        return None  # no configuration of Terraform's on this bucket: nothing it would rewrite
    wanted = _default_phrase(
        helper.configured.get("sse_algorithm"),
        helper.configured.get("kms_key_arn"),
        bool(helper.configured.get("bucket_key_enabled")),
    )
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if len(rules) == 1 else {}
    live = (
        _default_phrase(
            default.get("SSEAlgorithm"), default.get("KMSMasterKeyID"), bool(rules[0].get("BucketKeyEnabled"))
        )
        if default
        else f"{len(rules)} encryption rules"
    )
    if live == wanted:
        return None
    return Drift(
        helper, f"default encryption {live}", f"{wanted} (Terraform rewrites it, dropping the SSE-C setting)"
    )


def drifted(env: Env, found: list[Helper]) -> list[Drift]:
    """The helpers whose bucket does not have the setting they were told to make."""
    if not found:
        return []
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = env.admin_client("s3")
    drifts = []
    try:
        for helper in found:
            try:
                rules = s3.get_bucket_encryption(Bucket=helper.bucket)["ServerSideEncryptionConfiguration"][
                    "Rules"
                ]
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code in ("NoSuchBucket", "ServerSideEncryptionConfigurationNotFoundError"):
                    # Terraform re-creates what is missing; the helper must then run again too.
                    drifts.append(
                        Drift(helper, "no encryption configuration" if "Encryption" in code else "no bucket")
                    )
                    continue
                raise ProjectError(
                    f"cannot read the encryption configuration of {helper.bucket}: {error}"
                ) from None
            types = sorted(
                {
                    t
                    for rule in rules
                    for t in rule.get("BlockedEncryptionTypes", {}).get("EncryptionType", [])
                }
            )
            if types != [helper.blocked]:
                drifts.append(Drift(helper, f"BlockedEncryptionTypes {', '.join(types) or 'absent'}"))
            elif (changed := _configuration_drift(helper, rules)) is not None:
                drifts.append(changed)
    except BotoCoreError as error:
        raise ProjectError(f"cannot read the buckets' encryption configuration: {error}") from None
    finally:
        s3.close()
    return drifts


def replacements(env: Env, state_text: str) -> list[str]:
    """The helper addresses to plan with -replace (given the state's JSON text), each drift said in one
    line."""
    drifts = drifted(env, helpers(state_text))
    for drift in drifts:
        print(drift.describe())
    return [drift.helper.address for drift in drifts]


def _value(attribute: Any) -> Any:
    """A dynamic attribute as the state stores it ({"value": ..., "type": ...}), or as it is."""
    return attribute.get("value") if isinstance(attribute, dict) and "type" in attribute else attribute


def _index(key: Any) -> str:
    if key is None:
        return ""
    return f"[{json.dumps(key)}]"
