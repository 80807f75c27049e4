"""Narrow patches to MiniStack, applied in the emulator process before it starts serving.

Each patch closes one gap between MiniStack and AWS that the project's patterns depend on. They are
written against one MiniStack release (PINNED_MINISTACK_VERSION); the launcher refuses to run any
other, so a MiniStack upgrade forces a re-check of every patch (tests/unit/test_emulator_shim.py pins
the gaps and fails once MiniStack closes one).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any

PINNED_MINISTACK_VERSION = "1.5.33"

# The marker a patched function carries, so apply() can run twice without stacking wrappers.
_SHIM_MARK = "_ssepatterns_shim"

ObjectContextBuilder = Callable[[str, dict[str, Any], str, dict[str, Any]], dict[str, Any]]

# Condition key -> (request header it comes from, also on multipart requests that carry an uploadId?).
# SSE-C: every UploadPart of an SSE-C upload must carry the SSE-C headers, and AWS documents that
# CompleteMultipartUpload needs them "if your bucket policy requires the use of SSE-C"; so AWS takes the
# key from each request's own header, and MiniStack has that header at hand.
# KMS key id: UploadPart/CompleteMultipartUpload do not send that header (the key is fixed by
# CreateMultipartUpload), so only PutObject, CopyObject and CreateMultipartUpload get it.
_SSE_CONDITION_KEYS: dict[str, tuple[str, bool]] = {
    "s3:x-amz-server-side-encryption-customer-algorithm": (
        "x-amz-server-side-encryption-customer-algorithm",
        True,
    ),
    "s3:x-amz-server-side-encryption-aws-kms-key-id": ("x-amz-server-side-encryption-aws-kms-key-id", False),
}


def with_sse_request_keys(builder: ObjectContextBuilder) -> ObjectContextBuilder:
    """Wrap MiniStack's S3 object condition-context builder to add the SSE-C and KMS key-id keys.

    Why: MiniStack 1.5.33 (`ministack.core.iam_actions._s3_object_context`) puts only
    `s3:x-amz-server-side-encryption` (plus ACL keys) into a PutObject's condition context. AWS also
    sets `s3:x-amz-server-side-encryption-customer-algorithm` and
    `s3:x-amz-server-side-encryption-aws-kms-key-id` from the request headers. Without them a bucket
    policy `Deny s3:PutObject if Null s3:x-amz-server-side-encryption-customer-algorithm = true` denies
    even a correct SSE-C upload, and a policy denying uploads that name another KMS key denies every
    SSE-KMS upload. A key is added only when its header is present: an absent key keeps `Null` true,
    as on AWS.
    """

    @functools.wraps(builder)
    def build(
        iam_action: str, query_params: dict[str, Any], path: str, headers: dict[str, Any]
    ) -> dict[str, Any]:
        context = builder(iam_action, query_params, path, headers)
        _bucket, _, key = path.lstrip("/").partition("/")
        if iam_action != "s3:PutObject" or not key:
            return context
        # MiniStack lower-cases header names before they get here; do not depend on it.
        lowered: Mapping[str, Any] = {name.lower(): value for name, value in headers.items()}
        in_multipart = bool(_first(query_params.get("uploadId")))
        for condition_key, (header, on_multipart) in _SSE_CONDITION_KEYS.items():
            value = lowered.get(header)
            if value and (on_multipart or not in_multipart):
                context.setdefault(condition_key, value)
        return context

    setattr(build, _SHIM_MARK, True)
    return build


def _first(value: Any) -> Any:
    """A query parameter as MiniStack passes it (parse_qs gives lists) reduced to one value."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _patch_sse_condition_keys() -> None:
    """Install with_sse_request_keys on MiniStack's module attribute.

    Every caller of `s3_service_context` imports it inside a function and it looks up
    `_s3_object_context` as a module global at call time, so replacing the attribute reaches them all.
    """
    from ministack.core import iam_actions

    if not getattr(iam_actions._s3_object_context, _SHIM_MARK, False):
        iam_actions._s3_object_context = with_sse_request_keys(iam_actions._s3_object_context)


def _never_bindable(host: str, port: int) -> bool:
    """Stand-in for `ministack.app._port_is_bindable`: report every extra port as taken.

    Why: with USE_SSL=1, MiniStack's `main()` also binds port 443 when it can (for Cognito issuer
    URLs), which a root user always can. The project's emulator must listen on its configured port on
    127.0.0.1 and nothing else. `main()` uses this probe only for that extra 443 bind.
    """
    return False


def _patch_no_port_443() -> None:
    """Install _never_bindable so MiniStack never adds a 443 listener."""
    from ministack import app

    app._port_is_bindable = _never_bindable


# MiniStack serves the commercial partition only: every ARN it builds is in partition "aws".
_MINISTACK_PARTITION = "aws"
ResourceExtractor = Callable[[str, str, str, dict[str, Any], bytes, dict[str, Any], str, str], str]


def with_body_named_resources(extract: ResourceExtractor) -> ResourceExtractor:
    """Wrap MiniStack's resource-ARN extraction so requests that name their resource in the body
    are evaluated against it.

    Why: MiniStack 1.5.33 (`ministack.core.iam_actions.extract_resource_arn`) builds a KMS request's
    resource from its `KeyId` only, and a Lambda request's from the function name in the path. KMS
    CreateAlias/UpdateAlias/DeleteAlias carry `AliasName` instead, and Lambda CreateFunction
    (`POST /2015-03-31/functions`) carries `FunctionName` in its body, so MiniStack evaluates them
    against "*": an identity policy that grants them on `arn:...:alias/<prefix>-*` or
    `arn:...:function:<prefix>-*` (least privilege, as AWS documents) is denied, and only
    `"Resource": "*"` would pass. Likewise Step Functions DescribeMapRun names its `mapRunArn`, and
    TagResource/UntagResource/ListTagsForResource their `resourceArn`, which MiniStack does not look for
    (it knows stateMachineArn, executionArn, activityArn). AWS authorizes
    them on the alias (and the key), the function, the map run: the resource this request names, which
    is what the wrapper supplies.
    """

    @functools.wraps(extract)
    def resource(
        service: str,
        method: str,
        path: str,
        headers: dict[str, Any],
        body: bytes,
        query_params: dict[str, Any],
        region: str,
        account_id: str,
    ) -> str:
        found = extract(service, method, path, headers, body, query_params, region, account_id)
        if found != "*" or service not in ("kms", "lambda", "states"):
            return found
        try:
            fields = json.loads(body or b"{}")
        except ValueError:
            return found
        if not isinstance(fields, dict):
            return found
        alias, function = fields.get("AliasName"), fields.get("FunctionName")
        named = fields.get("mapRunArn") or fields.get("resourceArn")
        if service == "states" and isinstance(named, str) and named.startswith("arn:"):
            return named
        if service == "kms" and isinstance(alias, str) and alias.startswith("alias/"):
            return f"arn:{_MINISTACK_PARTITION}:kms:{region}:{account_id}:{alias}"
        creating = method == "POST" and path.rstrip("/").endswith("/functions")
        if service == "lambda" and creating and isinstance(function, str) and function:
            return (
                function
                if function.startswith("arn:")
                else f"arn:{_MINISTACK_PARTITION}:lambda:{region}:{account_id}:function:{function}"
            )
        return found

    setattr(resource, _SHIM_MARK, True)
    return resource


def _patch_body_named_resources() -> None:
    """Install with_body_named_resources: every caller imports extract_resource_arn inside a function
    (`from ministack.core.iam_actions import extract_resource_arn`), so the module attribute is what
    they get."""
    from ministack.core import iam_actions

    if not getattr(iam_actions.extract_resource_arn, _SHIM_MARK, False):
        iam_actions.extract_resource_arn = with_body_named_resources(iam_actions.extract_resource_arn)


def apply() -> None:
    """Apply every patch; idempotent. Call in the emulator process before `ministack.app.main()`."""
    _patch_sse_condition_keys()
    _patch_no_port_443()
    _patch_body_named_resources()
