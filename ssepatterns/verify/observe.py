"""What a request did, as one short comparable string, and the checks' pure evaluators.

The post-apply suite compares these strings with the expected ones; the unit tests feed the same
functions recorded or fake responses to show that each check fails when the thing it checks is
broken (a policy that lets a plain upload through, a GET that returns data without the key, …).
Nothing here ever puts key material into a string it returns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from ssepatterns.consistency import Propagation

OK = "200 OK"
DENIED = "403 AccessDenied"


def outcome(call: Callable[[], Any]) -> str:
    """'200 OK' when the call succeeds, else '<HTTP status> <error code>' ('400' alone for a HEAD,
    whose error response has no body and so no code)."""
    try:
        response = call()
    except ClientError as error:
        return error_outcome(error)
    status = (response or {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 200)
    return OK if status in (200, 204) else str(status)


def error_outcome(error: ClientError) -> str:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = error.response.get("Error", {}).get("Code", "")
    if not code or code == str(status) or code.isdigit():
        return str(status or code)
    return f"{status} {code}" if status else code


def is_denial(observed: str) -> bool:
    """An outcome that is a refusal: '403 AccessDenied', '400 AccessDeniedException', a bare '403'."""
    return observed == "403" or observed.split()[-1] in ("AccessDenied", "AccessDeniedException")


def allowed(propagation: Propagation, call: Callable[[], Any], what: str, action: str) -> str:
    """outcome(call) of a request that should succeed. On the aws env a refusal is observed again
    while `what` may still be propagating (ssepatterns.consistency); any other outcome is final."""
    return propagation.until(lambda: outcome(call), lambda seen: not is_denial(seen), what, action)


def denied(
    propagation: Propagation,
    call: Callable[[], Any],
    what: str,
    action: str,
    is_expected: Callable[[str], bool] = lambda seen: seen == DENIED,
) -> str:
    """outcome(call) of a request that should be refused: the expected denial is final at once; on the
    aws env anything else ("allowed although it should be denied") is observed again while the
    policies of `what` may still be propagating, so it can only turn into the denial."""
    return propagation.until(lambda: outcome(call), is_expected, what, action)


def encryption(response: Mapping[str, Any]) -> str:
    """How S3 says an object is encrypted: 'AES256', 'aws:kms <key>', 'aws:kms:dsse <key>', 'SSE-C AES256'."""
    if response.get("SSECustomerAlgorithm"):
        return f"SSE-C {response['SSECustomerAlgorithm']}"
    algorithm = response.get("ServerSideEncryption") or "none"
    key = response.get("SSEKMSKeyId")
    return f"{algorithm} {key}" if key else algorithm


def bucket_default(config: Mapping[str, Any]) -> str:
    """A GetBucketEncryption answer as 'AES256, bucket key off' or 'aws:kms <key>, bucket key off'."""
    rules = config.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    if len(rules) != 1:
        return f"{len(rules)} rules"
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
    algorithm = default.get("SSEAlgorithm", "none")
    key = default.get("KMSMasterKeyID")
    bucket_key = "on" if rules[0].get("BucketKeyEnabled") else "off"
    return f"{algorithm}{' ' + key if key else ''}, bucket key {bucket_key}"


def key_format(key: str, length: int = 32) -> str:
    """The SSE-C key's shape, never the key: '32 characters, lowercase letters and digits, both present'."""
    problems = []
    if len(key) != length:
        problems.append(f"{len(key)} characters")
    if not re.fullmatch(r"[a-z0-9]*", key):
        problems.append("characters other than lowercase letters and digits")
    if not re.search(r"[a-z]", key):
        problems.append("no lowercase letter")
    if not re.search(r"[0-9]", key):
        problems.append("no digit")
    return (
        "; ".join(problems)
        if problems
        else f"{length} characters, lowercase letters and digits, both present"
    )


def round_trip(s3: Any, bucket: str, key: str, body: bytes, **put_args: Any) -> str:
    """PUT (with `put_args`), HEAD and GET one object: 'PUT <enc>, HEAD <enc>, body equal|different'.

    A refused PUT gives its outcome instead ('403 AccessDenied'), so the check shows what happened.
    """
    try:
        put = s3.put_object(Bucket=bucket, Key=key, Body=body, **put_args)
    except ClientError as error:
        return f"PUT {error_outcome(error)}"
    head = s3.head_object(Bucket=bucket, Key=key)
    got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return f"PUT {encryption(put)}, HEAD {encryption(head)}, body {'equal' if got == body else 'different'}"


# --- bucket policy statements -------------------------------------------------------------------------

DENY_SSE_C_SID = "DenyUploadWithSseC"
SSE_C_ALGORITHM_KEY = "s3:x-amz-server-side-encryption-customer-algorithm"
_STATEMENT_FIELDS = ("Sid", "Effect", "Principal", "Action", "Resource", "Condition")


def deny_sse_c_statement(bucket_arn: str) -> dict[str, Any]:
    """The statement the encrypted-bucket module puts in every bucket that must not take SSE-C:
    deny any upload that carries the SSE-C algorithm header (Null = false: the header is present)."""
    return {
        "Sid": DENY_SSE_C_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": f"{bucket_arn}/*",
        "Condition": {"Null": {SSE_C_ALGORITHM_KEY: "false"}},
    }


def _values(value: Any) -> str:
    items = value if isinstance(value, list) else [value]
    return ", ".join(sorted(str(v).lower() if isinstance(v, bool) else str(v) for v in items))


def _principal(principal: Any) -> str:
    if principal is None:
        return "no principal"
    if principal == "*" or principal in ({"AWS": "*"}, {"AWS": ["*"]}):
        return "anyone"
    return json.dumps(principal, sort_keys=True)


def statement_summary(statement: Mapping[str, Any]) -> str:
    """One policy statement as one comparable line, the same for every JSON spelling of it (a single
    value or a one-element list, any order): 'Sid S: Deny s3:PutObject on <arn>/* to anyone if Null
    <key> = false'. Anything beyond Sid/Effect/Principal/Action/Resource/Condition (NotAction,
    NotResource, NotPrincipal, ...) is spelled out at the end, so it cannot go unnoticed."""
    conditions = [
        f"{operator} {key} = {_values(value)}"
        for operator, block in sorted(statement.get("Condition", {}).items())
        for key, value in sorted(block.items())
    ]
    parts = [
        f"Sid {statement.get('Sid', '(none)')}: {statement.get('Effect', '(no effect)')}",
        _values(statement["Action"]) if "Action" in statement else "(no Action)",
        "on " + (_values(statement["Resource"]) if "Resource" in statement else "(no Resource)"),
        "to " + _principal(statement.get("Principal")),
        ("if " + " and ".join(conditions)) if conditions else "unconditionally",
    ]
    extra = sorted(set(statement) - set(_STATEMENT_FIELDS))
    if extra:
        parts.append("with " + ", ".join(f"{k} {json.dumps(statement[k], sort_keys=True)}" for k in extra))
    return " ".join(parts)


def policy_statement(policy: str | Mapping[str, Any], sid: str) -> str:
    """The summary of the statement `sid` of a policy (its JSON text or parsed), or what is wrong."""
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    found = [s for s in statements if s.get("Sid") == sid]
    if not found:
        sids = ", ".join(str(s.get("Sid", "(none)")) for s in statements) or "none"
        return f"no statement {sid} (statements: {sids})"
    if len(found) > 1:
        return f"{len(found)} statements {sid}: " + "; ".join(statement_summary(s) for s in found)
    return statement_summary(found[0])


def bucket_policy_statement(s3: Any, bucket: str, sid: str) -> str:
    """policy_statement of a bucket's policy as read back with GetBucketPolicy, or why it could not be."""
    try:
        policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as error:
        return f"no bucket policy readable ({error_outcome(error)})"
    return policy_statement(policy, sid)
