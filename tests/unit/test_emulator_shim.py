"""The MiniStack shim: each patch and the gap it closes (pinned). The patches at work in a real emulator:
tests/integration/test_shim_patches_on_emulator.py."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable

import pytest

from ssepatterns.emulator import control, launcher, shim

SSE_C_KEY = "s3:x-amz-server-side-encryption-customer-algorithm"
KMS_KEY_ID_KEY = "s3:x-amz-server-side-encryption-aws-kms-key-id"
SSE_C_HEADER = "x-amz-server-side-encryption-customer-algorithm"
KMS_KEY_ID_HEADER = "x-amz-server-side-encryption-aws-kms-key-id"
KMS_ARN = "arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555"
PUT = "s3:PutObject"
ROOT_KEY = "test"  # MiniStack's root access key id and secret
OBJECT_PATH = "/bucket/some/key"


def _fake_builder(*_args: object) -> dict:
    """Stands in for MiniStack's builder so the wrapper's own logic is tested alone."""
    return {"s3:x-amz-server-side-encryption": "from-ministack"}


def _unpatched_builder() -> Callable[[str, dict, str, dict], dict]:
    from ministack.core import iam_actions

    return inspect.unwrap(iam_actions._s3_object_context)


# --------------------------------------------------------------------------- the pins: MiniStack's gaps


def test_installed_ministack_is_the_pinned_release() -> None:
    assert launcher.installed_ministack_version() == shim.PINNED_MINISTACK_VERSION


@pytest.mark.parametrize(
    ("condition_key", "header", "value"),
    [
        (SSE_C_KEY, SSE_C_HEADER, "AES256"),
        (KMS_KEY_ID_KEY, KMS_KEY_ID_HEADER, KMS_ARN),
    ],
)
def test_unpatched_ministack_lacks_the_condition_key(condition_key: str, header: str, value: str) -> None:
    context = _unpatched_builder()(PUT, {}, OBJECT_PATH, {header: value})
    assert condition_key not in context, (
        f"MiniStack now sets {condition_key} itself: drop that part of shim.with_sse_request_keys"
    )


def test_unpatched_ministack_binds_443_under_ssl() -> None:
    from ministack import app

    assert "_port_is_bindable(bind_host, 443)" in inspect.getsource(app.main), (
        "MiniStack no longer adds a 443 listener: drop shim._patch_no_port_443"
    )


# --------------------------------------------------------------------------- the wrapper, unit level


@pytest.mark.parametrize(
    ("condition_key", "header", "value"),
    [
        (SSE_C_KEY, SSE_C_HEADER, "AES256"),
        (KMS_KEY_ID_KEY, KMS_KEY_ID_HEADER, KMS_ARN),
    ],
)
def test_wrapper_adds_the_key_when_the_header_is_present(condition_key: str, header: str, value: str) -> None:
    context = shim.with_sse_request_keys(_unpatched_builder())(PUT, {}, OBJECT_PATH, {header: value})
    assert context[condition_key] == value


def test_wrapper_adds_no_key_when_the_headers_are_absent() -> None:
    context = shim.with_sse_request_keys(_unpatched_builder())(PUT, {}, OBJECT_PATH, {"x-amz-acl": "private"})
    assert SSE_C_KEY not in context
    assert KMS_KEY_ID_KEY not in context
    assert context == {"s3:x-amz-acl": "private"}  # MiniStack's own keys pass through


def test_wrapper_reads_headers_case_insensitively() -> None:
    headers = {"X-Amz-Server-Side-Encryption-Customer-Algorithm": "AES256"}
    assert shim.with_sse_request_keys(_fake_builder)(PUT, {}, OBJECT_PATH, headers)[SSE_C_KEY] == "AES256"


def test_wrapper_keeps_ministacks_keys() -> None:
    context = shim.with_sse_request_keys(_fake_builder)(PUT, {}, OBJECT_PATH, {SSE_C_HEADER: "AES256"})
    assert context["s3:x-amz-server-side-encryption"] == "from-ministack"


def test_multipart_requests_get_the_sse_c_key_but_not_the_kms_key_id() -> None:
    # UploadPart/CompleteMultipartUpload of an SSE-C upload carry the SSE-C headers themselves.
    headers = {SSE_C_HEADER: "AES256", KMS_KEY_ID_HEADER: KMS_ARN}
    context = shim.with_sse_request_keys(_fake_builder)(PUT, {"uploadId": ["u1"]}, OBJECT_PATH, headers)
    assert context[SSE_C_KEY] == "AES256"
    assert KMS_KEY_ID_KEY not in context


@pytest.mark.parametrize(
    ("action", "path"),
    [
        ("s3:GetObject", OBJECT_PATH),
        ("s3:PutObject", "/bucket"),  # not an object
    ],
)
def test_wrapper_leaves_other_requests_alone(action: str, path: str) -> None:
    headers = {SSE_C_HEADER: "AES256", KMS_KEY_ID_HEADER: KMS_ARN}
    assert shim.with_sse_request_keys(_fake_builder)(action, {}, path, headers) == _fake_builder()


def test_apply_reaches_s3_service_context_and_is_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    from ministack import app
    from ministack.core import iam_actions

    # Record the originals so monkeypatch restores them after apply() replaced them.
    monkeypatch.setattr(iam_actions, "_s3_object_context", iam_actions._s3_object_context)
    monkeypatch.setattr(app, "_port_is_bindable", app._port_is_bindable)
    shim.apply()
    shim.apply()
    context = iam_actions.s3_service_context(PUT, {}, OBJECT_PATH, {SSE_C_HEADER: "AES256"})
    assert context[SSE_C_KEY] == "AES256"
    assert inspect.unwrap(iam_actions._s3_object_context) is _unpatched_builder()
    assert iam_actions._s3_object_context.__wrapped__ is _unpatched_builder()  # one wrapper, not two
    assert app._port_is_bindable("127.0.0.1", 443) is False


# --------------------------------------------------------------------------- the launcher


def test_launcher_refuses_another_ministack(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(launcher, "installed_ministack_version", lambda: "9.9.9")
    monkeypatch.setattr(
        shim, "apply", lambda: pytest.fail("patched a MiniStack the shim was not written for")
    )
    assert launcher.main() == launcher.EXIT_WRONG_VERSION
    err = capsys.readouterr().err
    assert f"pinned to ministack=={shim.PINNED_MINISTACK_VERSION}" in err
    assert "ministack==9.9.9 is installed" in err


def test_health_endpoint_is_ministacks() -> None:
    from ministack import app

    assert control.HEALTH_PATH in app._HEALTH_PATHS


# --------------------------------------------------------------------------- KMS alias resources

ALIAS_BODY = json.dumps({"AliasName": "alias/fa-125-cmk", "TargetKeyId": "1234"}).encode()


def _unpatched_extract() -> Callable[..., str]:
    from ministack.core import iam_actions

    return inspect.unwrap(iam_actions.extract_resource_arn)


CREATE_FUNCTION = (
    "lambda",
    "POST",
    "/2015-03-31/functions",
    {},
    json.dumps({"FunctionName": "fa-125-f"}).encode(),
)


def test_unpatched_ministack_evaluates_body_named_resources_against_star() -> None:
    found = _unpatched_extract()("kms", "POST", "/", {}, ALIAS_BODY, {}, "eu-west-1", "210987654321")
    assert found == "*", (
        "MiniStack now names the alias itself: drop that part of shim.with_body_named_resources"
    )
    found = _unpatched_extract()(*CREATE_FUNCTION, {}, "eu-west-1", "210987654321")
    assert found == "*", (
        "MiniStack now names the new function: drop that part of shim.with_body_named_resources"
    )


def test_create_function_names_its_function() -> None:
    extract = shim.with_body_named_resources(_unpatched_extract())
    found = extract(*CREATE_FUNCTION, {}, "eu-west-1", "210987654321")
    assert found == "arn:aws:lambda:eu-west-1:210987654321:function:fa-125-f"


def test_alias_requests_name_their_alias() -> None:
    extract = shim.with_body_named_resources(_unpatched_extract())
    found = extract("kms", "POST", "/", {}, ALIAS_BODY, {}, "eu-west-1", "210987654321")
    assert found == "arn:aws:kms:eu-west-1:210987654321:alias/fa-125-cmk"
    key_request = json.dumps({"KeyId": "1234"}).encode()
    assert extract("kms", "POST", "/", {}, key_request, {}, "eu-west-1", "210987654321").endswith(":key/1234")
    assert extract("kms", "POST", "/", {}, b"{}", {}, "eu-west-1", "210987654321") == "*"  # CreateKey


MAP_RUN = "arn:aws:states:eu-west-1:210987654321:mapRun:fa-125-sse-c-reencrypt/map:1234"
DESCRIBE_MAP_RUN = ("states", "POST", "/", {}, json.dumps({"mapRunArn": MAP_RUN}).encode())


def test_unpatched_ministack_evaluates_describe_map_run_against_star() -> None:
    found = _unpatched_extract()(*DESCRIBE_MAP_RUN, {}, "eu-west-1", "210987654321")
    assert found == "*", "MiniStack now names the map run: drop that part of shim.with_body_named_resources"


def test_tag_requests_name_their_state_machine() -> None:
    machine = "arn:aws:states:eu-west-1:1:stateMachine:fa-125-sse-c-reencrypt"
    listing = ("states", "POST", "/", {}, json.dumps({"resourceArn": machine}).encode())
    assert _unpatched_extract()(*listing, {}, "eu-west-1", "1") == "*", (
        "MiniStack now names it: drop the patch"
    )
    assert shim.with_body_named_resources(_unpatched_extract())(*listing, {}, "eu-west-1", "1") == machine


def test_describe_map_run_names_its_map_run() -> None:
    extract = shim.with_body_named_resources(_unpatched_extract())
    assert extract(*DESCRIBE_MAP_RUN, {}, "eu-west-1", "210987654321") == MAP_RUN
    execution = json.dumps({"executionArn": "arn:aws:states:eu-west-1:1:execution:sm:e"}).encode()
    assert (
        extract("states", "POST", "/", {}, execution, {}, "eu-west-1", "1")
        == "arn:aws:states:eu-west-1:1:execution:sm:e"
    )
