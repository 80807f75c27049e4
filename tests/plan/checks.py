"""The checks, as functions that return findings (one line each) instead of asserting.

Why: the same checks run on the real plans (tests assert no findings) and on a deliberately broken
copy (test_mutations.py asserts that each breakage produces a finding), so the suite's teeth are
themselves tested.
"""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from ssepatterns.hcl import HclError
from ssepatterns.key_scan import key_like_runs, redact, redact_key_like

from .matcher import UNKNOWN, load, mismatches, substitute
from .planned import PlannedEnv

SCOPES = ("all", "local", "aws")
SECTIONS = ("counts", "values", "each_bucket", "outputs", "configuration", "snapshot")
# What an each_bucket block may select on: the fields of a pattern registry entry (outputs.buckets).
REGISTRY_FIELDS = ("algorithm", "kms_key", "bucket_key", "sse_c")

INVENTORY_DIR = Path(__file__).resolve().parent / "inventory"


def inventory_files() -> list[Path]:
    return sorted(INVENTORY_DIR.glob("*.yaml"))


def inventory_mismatches(planned: PlannedEnv, path: Path) -> list[str]:
    """Every expectation of one inventory file that the plan of `planned` does not meet."""
    document = load(path)
    found: list[str] = []
    for scope, sections in document.items():
        if scope.startswith("x-"):  # anchor holders
            continue
        if scope not in SCOPES:
            raise ValueError(f"{path.name}: unknown scope {scope!r} (one of {', '.join(SCOPES)}, or x-...)")
        if scope not in ("all", planned.name):
            continue
        for section, expectations in sections.items():
            if section not in SECTIONS:
                raise ValueError(
                    f"{path.name}: unknown section {scope}.{section} (one of {', '.join(SECTIONS)})"
                )
            where = f"{path.name}: {scope}.{section}"
            if section == "each_bucket":
                found += [f"{path.name}: {line}" for line in _each_bucket(planned, expectations, where)]
                continue
            expected = substitute(expectations, {**planned.facts, **_registry_facts(planned)}, where)
            found += [f"{path.name}: {line}" for line in _section(planned, section, expected)]
    return found


def registry(planned: PlannedEnv) -> dict[str, dict[str, Any]]:
    """The pattern registry as the plan's outputs.buckets carries it (its fields are known at plan time)."""
    return dict(planned.outputs.get("buckets") or {})


def _registry_facts(planned: PlannedEnv) -> dict[str, Any]:
    """Counts a `counts` section can name: {{patterns}}, {{patterns_with_default_encryption}}."""
    entries = registry(planned).values()
    return {
        "patterns": len(entries),
        "patterns_with_default_encryption": sum(entry.get("algorithm") is not None for entry in entries),
    }


def _each_bucket(planned: PlannedEnv, blocks: list[dict[str, Any]], where: str) -> list[str]:
    """The blocks of an each_bucket section against every bucket of the registry: a block's `values`
    (addresses relative to the bucket's module instance) apply to the patterns its `when` selects
    (field: value, or field: [values]); placeholders {{pattern}}, {{pattern_<field>}} and
    {{pattern_suffix}} are the pattern's own."""
    found: list[str] = []
    for key, entry in sorted(registry(planned).items()):
        module = _bucket_module(planned, key)
        if module is None:
            found.append(
                f'pattern {key}: no bucket module instance in the plan (no ...["{key}"].aws_s3_bucket.this)'
            )
            continue
        facts = {**planned.facts, "pattern": key, "pattern_suffix": entry.get("suffix")}
        facts.update({f"pattern_{field}": entry.get(field) for field in REGISTRY_FIELDS})
        for number, block in enumerate(blocks, 1):
            unknown = set(block) - {"when", "values"} | set(block.get("when", {})) - set(REGISTRY_FIELDS)
            if unknown:
                raise ValueError(
                    f"{where}[{number}]: unknown keys {sorted(unknown)} (when: {', '.join(REGISTRY_FIELDS)})"
                )
            if not all(_selects(wanted, entry.get(field)) for field, wanted in block.get("when", {}).items()):
                continue
            values = substitute(block["values"], facts, f"{where}[{number}] of {key}")
            found += _section(planned, "values", {f"{module}.{address}": v for address, v in values.items()})
    return found


def _selects(wanted: Any, value: Any) -> bool:
    return value in wanted if isinstance(wanted, list) else value == wanted


def _bucket_module(planned: PlannedEnv, key: str) -> str | None:
    """The module instance that holds the pattern's bucket, whichever module call it is."""
    suffix = f'["{key}"].aws_s3_bucket.this'
    found = [
        address[: -len(".aws_s3_bucket.this")] for address in planned.resources if address.endswith(suffix)
    ]
    return found[0] if len(found) == 1 else None


def _section(planned: PlannedEnv, section: str, expectations: dict[str, Any]) -> list[str]:
    if section == "counts":
        managed = Counter(
            change["type"] for change in planned.plan["resource_changes"] if change["mode"] == "managed"
        )
        return [
            f"count of {kind}: expected {count}, planned {managed[kind]}"
            for kind, count in expectations.items()
            if managed[kind] != count
        ]
    if section == "snapshot":
        found: list[str] = []
        for module_key, expected in expectations.items():
            try:
                tree = planned.snapshot(module_key)
            except HclError as error:
                found.append(f"snapshot of module {module_key!r}: {error}")
                continue
            found += mismatches(expected, tree, f"snapshot[{module_key}]")
        return found
    collection = {
        "values": planned.resources,
        "outputs": planned.outputs,
        "configuration": planned.configuration,
    }[section]
    # Addresses are the mapping's keys: an absent one, a missing one and a wrong value read as elsewhere.
    return [f"plan {section}: {mismatch}" for mismatch in mismatches(expectations, collection, "")]


# --------------------------------------------------------------------------- no key in the plan
# What looks like a key, without knowing it: ssepatterns.key_scan (looks_like_key says why).


def secret_findings(planned: PlannedEnv) -> list[str]:
    """Anything in the plan JSON or in any member of the binary plan that looks like an SSE-C key."""
    found = [f"plan JSON: {redact(run)} looks like an SSE-C key" for run in key_like_runs(planned.plan_json)]
    with zipfile.ZipFile(planned.plan_file) as archive:
        for name in archive.namelist():
            found += [
                f"binary plan {name}: {redact(run)} looks like an SSE-C key"
                for run in key_like_runs(archive.read(name))
            ]
    raw = planned.plan_file.read_bytes()  # the zip's own bytes, e.g. a stored (uncompressed) member
    found += [f"binary plan file: {redact(run)} looks like an SSE-C key" for run in key_like_runs(raw)]
    return found


# --------------------------------------------------------------------------- identity policies

IDENTITY_POLICY_TYPES = (
    "aws_iam_role_policy",
    "aws_iam_user_policy",
    "aws_iam_group_policy",
    "aws_iam_policy",
)
# Actions that support no resource-level permission: IAM accepts only "*" as their resource.
RESOURCELESS_ACTIONS = frozenset(
    {
        "secretsmanager:GetRandomPassword",
        # Step Functions' log delivery to CloudWatch Logs (the re-encryption engine's state machine)
        "logs:CreateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:DescribeLogGroups",
        "logs:DescribeResourcePolicies",
        "logs:GetLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:UpdateLogDelivery",
    }
)
# Object-level S3 actions: their resource is "<bucket ARN>/<key>", and "<bucket ARN>/*" means
# "the objects of this bucket", the narrowest grant that does not name each key.
S3_OBJECT_ACTIONS = frozenset(
    {
        "s3:AbortMultipartUpload",
        "s3:DeleteObject",
        "s3:GetObject",
        "s3:GetObjectTagging",
        "s3:GetObjectVersionTagging",
        "s3:PutObject",
        "s3:PutObjectTagging",
    }
)
# AWS managed policies allowed on the stack's principals, with what they grant.
ACCEPTED_MANAGED_POLICIES = {
    "arn:{partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": (
        "logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents on * (AWS managed; see README)"
    ),
}
_INSTANCE_KEY = re.compile(r"\[[^\]]*\]")


def wildcard_findings(planned: PlannedEnv) -> list[str]:
    """Wildcards in the identity policies this configuration defines (inline role/user/group policies
    and customer managed policies), statement by statement, and unexpected managed attachments.

    Allowed, and only where they are the narrowest grant IAM can express: "*" as the resource of
    RESOURCELESS_ACTIONS, "<bucket ARN>/*" as the resource of S3_OBJECT_ACTIONS. No wildcard in an
    action, ever; no NotAction or NotResource. Unknown resources are judged on their expression in
    the configuration snapshot."""
    found: list[str] = []
    configuration = planned.configuration
    for address, resource in configuration.items():
        if resource.get("mode") != "managed" or resource.get("type") not in IDENTITY_POLICY_TYPES:
            continue
        references = resource["expressions"].get("policy", {}).get("references", [])
        documents = [
            r[: -len(".json")]
            for r in references
            if r.startswith("data.aws_iam_policy_document.") and r.endswith(".json")
        ]
        if len(documents) != 1:
            found.append(
                f"{address}: its policy is not one aws_iam_policy_document (references {references})"
            )
            continue
        module_path = address[: -len(resource["address"])]
        if module_path and not any(
            _INSTANCE_KEY.sub("", a).startswith(module_path) for a in planned.resources
        ):
            continue  # a module switched off (count = 0: the re-encryption engine): nothing planned
        found += _document_wildcards(planned, module_path, documents[0])
    partition = planned.facts["partition"]
    accepted = {arn.format(partition=partition) for arn in ACCEPTED_MANAGED_POLICIES}
    for address, view in planned.resources.items():
        attachment = re.search(r"\.aws_iam_(role|user|group)_policy_attachment\.", "." + address)
        if attachment and view.get("policy_arn") not in accepted:
            found.append(f"{address}: managed policy {view.get('policy_arn')!r} is not an accepted one")
    return found


def _document_wildcards(planned: PlannedEnv, module_path: str, document: str) -> list[str]:
    config_address = module_path + document
    instances = [a for a in planned.resources if _INSTANCE_KEY.sub("", a) == config_address]
    if not instances:
        return [f"{config_address}: no planned instance of this identity policy document"]
    module_key = ".".join(re.findall(r"module\.([^.\[]+)", module_path))
    _, name = document.rsplit(".", 1)
    sources = _statement_sources(planned, module_key, name)
    found: list[str] = []
    for instance in instances:
        for statement in planned.resources[instance].get("statement") or []:
            if statement.get("effect") != "Allow":
                continue
            where = f"{instance}, statement {statement.get('sid')}"
            actions = statement.get("actions") or []
            if actions is UNKNOWN or UNKNOWN in actions:
                found.append(f"{where}: actions unknown until apply")
                continue
            found += [f'{where}: wildcard action "{a}"' for a in actions if "*" in a or "?" in a]
            for key in ("not_actions", "not_resources"):
                if statement.get(key):
                    found.append(f"{where}: {key} {statement[key]} (grants everything else)")
            found += _resource_wildcards(
                where, set(actions), statement.get("resources"), sources.get(statement.get("sid"))
            )
    return found


def _resource_wildcards(where: str, actions: set[str], resources: Any, source: str | None) -> list[str]:
    resourceless = actions <= RESOURCELESS_ACTIONS
    objects = actions <= S3_OBJECT_ACTIONS
    known = [] if resources is UNKNOWN else [r for r in resources or [] if r is not UNKNOWN]
    found: list[str] = []
    for resource in known:
        if resource == "*" and resourceless:
            continue
        if objects and re.fullmatch(r"arn:[a-z-]+:s3:::[a-z0-9.-]+/\*", resource):
            continue
        if "*" in resource or "?" in resource:
            found.append(f'{where}: wildcard resource "{resource}"')
    if resources is UNKNOWN or UNKNOWN in (resources or []):
        if source is None:
            return [*found, f"{where}: resources unknown until apply, and not found in the snapshot"]
        text = source
        if resourceless:
            text = text.replace('"*"', "")
        if objects:
            text = re.sub(r'/\*"', '"', text)
        if "*" in text or "?" in text:
            found.append(f"{where}: wildcard in the resources expression {source}")
    return found


def _statement_sources(planned: PlannedEnv, module_key: str, name: str) -> dict[str, str]:
    """The resources expression of each statement of a policy document, by its Sid."""
    block = planned.snapshot(module_key).get(f'data "aws_iam_policy_document" "{name}"', {})
    statements = list(block.get("statement", []))
    for dynamic in block.get('dynamic "statement"', []):
        statements += dynamic.get("content", [])
    return {s.get("sid", "").strip('"'): s.get("resources", "") for s in statements}


# --------------------------------------------------------------------------- what waits for the key

# The pattern registry and the buckets map are read by both bucket module calls (for_each): a reference
# to the customer managed key there makes every bucket wait ~12 s for it (the provider's propagation
# waits). The plan cannot show it (the values stay the same), so the source is read.
KEY_FREE_LOCALS = ("patterns", "buckets")


def ordering_findings(planned: PlannedEnv) -> list[str]:
    locals_ = planned.snapshot("sse_patterns").get("locals", {})
    found = []
    for name in KEY_FREE_LOCALS:
        if name not in locals_:
            found.append(f"ordering: local.{name} of the sse-patterns module is gone")
        elif "module.customer_managed_key" in str(locals_[name]):
            found.append(
                f"ordering: local.{name} reads the customer managed key: every bucket would wait for it"
            )
    return found


# --------------------------------------------------------------------------- regenerating inventories

# A fact too short or too common to stand for itself when written back as a placeholder.
_UNSUBSTITUTED_FACTS = ("env", "partition")


def plan_summary(planned: PlannedEnv) -> dict[str, Any]:
    """The plan as an inventory would state it (cloud-foundation-fabric's tools/plan_summary.py does the
    same): `counts` of managed resources, every planned resource's `values`, and `outputs`, with the
    env's facts written back as {{placeholders}} and unknown values as <unknown>. What a developer copies
    from after an intended change (`--save-inventory`); the inventories themselves stay curated."""
    managed = Counter(
        change["type"] for change in planned.plan["resource_changes"] if change["mode"] == "managed"
    )
    facts = sorted(
        ((name, value) for name, value in planned.facts.items() if name not in _UNSUBSTITUTED_FACTS),
        key=lambda item: -len(item[1]),  # the longest first: global_prefix before account_id
    )

    def placeholders(node: Any) -> Any:
        if node is UNKNOWN:
            return "<unknown>"
        if isinstance(node, str):
            for name, value in facts:
                if value and len(value) >= 6:
                    node = node.replace(value, "{{" + name + "}}")
            return redact_key_like(node)  # a summary is printed and saved: never a key-like run
        if isinstance(node, dict):
            return {key: placeholders(value) for key, value in node.items()}
        if isinstance(node, list):
            return [placeholders(value) for value in node]
        return node

    return {
        "counts": dict(sorted(managed.items())),
        "values": {address: placeholders(values) for address, values in sorted(planned.resources.items())},
        "outputs": {name: placeholders(value) for name, value in sorted(planned.outputs.items())},
    }
