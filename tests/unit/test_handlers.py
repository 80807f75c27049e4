"""The two Lambda handlers against stubbed AWS clients: the exact SSE-C request, clear errors, no key."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from sse_c_key import sse_c_params

from ssepatterns.key_scan import contains_key
from ssepatterns.paths import LAMBDA_SRC_DIR

KEY = "0123456789abcdefghijklmnopqrstuv"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:fa-125-AbCdEf"
BUCKET = "fa-125-sse-c"
OBJECT_KEY = "test.txt"
VERSION = "11111111-2222-4333-8444-555555555555"
OLD_VERSION = "99999999-2222-4333-8444-555555555555"
OLD_KEY = "zyxwvutsrqponmlkjihgfedcba987654"


@pytest.fixture
def lambda_env(monkeypatch):
    monkeypatch.setenv("BUCKET_NAME", BUCKET)
    monkeypatch.setenv("OBJECT_KEY", OBJECT_KEY)
    monkeypatch.setenv("SECRET_ARN", SECRET_ARN)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def load_handler(name: str):
    """Import lambda_src/<name>/index.py as its own module, as the Lambda runtime would."""
    spec = importlib.util.spec_from_file_location(f"handler_{name}", LAMBDA_SRC_DIR / name / "index.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def stubbed(lambda_env):
    def make(name: str):
        handler = load_handler(name)
        handler.s3_client = boto3.client("s3", region_name="us-east-1")
        handler.secretsmanager_client = boto3.client("secretsmanager", region_name="us-east-1")
        return handler, Stubber(handler.s3_client), Stubber(handler.secretsmanager_client)

    return make


def secret_found(secrets: Stubber, version: str | None = None) -> None:
    request = {"SecretId": SECRET_ARN, **({"VersionId": version} if version else {})}
    key = OLD_KEY if version == OLD_VERSION else KEY
    secrets.add_response(
        "get_secret_value", {"SecretString": key, "ARN": SECRET_ARN, "VersionId": version or VERSION}, request
    )


def tagged(s3: Stubber, version: str | None) -> None:
    tags = [{"Key": "sse-c-key-version", "Value": version}] if version else []
    s3.add_response("get_object_tagging", {"TagSet": tags}, {"Bucket": BUCKET, "Key": OBJECT_KEY})


def got_object(s3: Stubber, key: str) -> None:
    """GetObject returns awstut! to exactly this SSE-C key."""
    body = StreamingBody(io.BytesIO(b"awstut!"), len(b"awstut!"))
    s3.add_response("get_object", {"Body": body}, {"Bucket": BUCKET, "Key": OBJECT_KEY, **sse_c_params(key)})


def test_upload_puts_awstut_with_exact_sse_c_params_and_returns_no_key(stubbed):
    handler, s3, secrets = stubbed("upload")
    secret_found(secrets)
    s3.add_response(
        "put_object",
        {
            "ETag": '"etag"',
            "SSECustomerAlgorithm": "AES256",
            "SSECustomerKeyMD5": sse_c_params(KEY)["SSECustomerKeyMD5"],
        },
        {
            "Bucket": BUCKET,
            "Key": OBJECT_KEY,
            "Body": b"awstut!",
            "ContentEncoding": "utf-8",
            "ContentType": "text/plain",
            "Tagging": f"sse-c-key-version={VERSION}",
            **sse_c_params(KEY),
        },
    )
    with s3, secrets:
        result = handler.lambda_handler({}, None)
    assert result == {
        "bucket": BUCKET,
        "key": OBJECT_KEY,
        "etag": '"etag"',
        "sse_customer_algorithm": "AES256",
        "key_version": VERSION,
    }
    for value in sse_c_params(KEY).values():
        assert value == "AES256" or value not in repr(result)


@pytest.mark.parametrize(
    ("tag", "key"),
    [(None, KEY), (VERSION, KEY), (OLD_VERSION, OLD_KEY)],
    ids=["untagged", "current", "older"],
)
def test_download_reads_with_the_key_version_the_object_records(stubbed, tag, key):
    handler, s3, secrets = stubbed("download")
    tagged(s3, tag)
    secret_found(secrets, tag)
    got_object(s3, key)
    with s3, secrets:
        assert handler.lambda_handler({}, None) == "awstut!"


@pytest.mark.parametrize("name", ["upload", "download"])
def test_missing_secret_is_a_clear_error(stubbed, name):
    handler, s3, secrets = stubbed(name)
    if name == "download":
        tagged(s3, None)
    secrets.add_client_error("get_secret_value", "ResourceNotFoundException", http_status_code=400)
    with s3, secrets, pytest.raises(RuntimeError, match=f"secret {SECRET_ARN} does not exist"):
        handler.lambda_handler({}, None)


def test_missing_object_is_a_clear_error_without_key(stubbed):
    handler, s3, secrets = stubbed("download")
    s3.add_client_error("get_object_tagging", "NoSuchKey", http_status_code=404)
    with s3, secrets, pytest.raises(RuntimeError) as excinfo:
        handler.lambda_handler({}, None)
    message = str(excinfo.value)
    assert "does not exist" in message and OBJECT_KEY in message
    assert not contains_key(KEY, message)


def test_refused_upload_is_a_clear_error(stubbed):
    handler, s3, secrets = stubbed("upload")
    secret_found(secrets)
    s3.add_client_error("put_object", "AccessDenied", http_status_code=403)
    with s3, secrets, pytest.raises(RuntimeError, match="refused: AccessDenied"):
        handler.lambda_handler({}, None)


def test_a_secret_that_is_not_a_256_bit_key_is_refused(stubbed):
    handler, s3, secrets = stubbed("upload")
    secrets.add_response(
        "get_secret_value", {"SecretString": "too-short", "VersionId": VERSION}, {"SecretId": SECRET_ARN}
    )
    with s3, secrets, pytest.raises(ValueError, match="AES-256 needs exactly 32") as excinfo:
        handler.lambda_handler({}, None)
    assert "too-short" not in str(excinfo.value)


def test_handlers_never_print(stubbed, capsys):
    handler, s3, secrets = stubbed("upload")
    secret_found(secrets)
    s3.add_response("put_object", {"ETag": '"e"'})  # its request is checked in another test
    with s3, secrets:
        handler.lambda_handler({}, None)
    captured = capsys.readouterr()
    assert not contains_key(KEY, captured.out + captured.err)
    assert Path(LAMBDA_SRC_DIR / "upload" / "index.py").read_text().count("print(") == 0
    assert Path(LAMBDA_SRC_DIR / "download" / "index.py").read_text().count("print(") == 0


def _moved_by_a_rotation(s3: Stubber, secrets: Stubber) -> None:
    """By the time of the GET the object is under the new key."""
    secret_found(secrets, OLD_VERSION)
    s3.add_client_error("get_object", "AccessDenied", http_status_code=403)


def _old_version_retired(s3: Stubber, secrets: Stubber) -> None:
    """By the time of the key read the rotation has retired the old version."""
    secrets.add_client_error("get_secret_value", "ResourceNotFoundException", http_status_code=400)


@pytest.mark.parametrize("meanwhile", [_moved_by_a_rotation, _old_version_retired], ids=["moved", "retired"])
def test_download_rereads_the_tag_when_a_rotation_got_there_first(stubbed, meanwhile):
    """The tag says the old version, then the rotation gets there first: read the tag again."""
    handler, s3, secrets = stubbed("download")
    tagged(s3, OLD_VERSION)
    meanwhile(s3, secrets)
    tagged(s3, VERSION)
    secret_found(secrets, VERSION)
    got_object(s3, KEY)
    with s3, secrets:
        assert handler.lambda_handler({}, None) == "awstut!"


def test_download_gives_up_after_a_few_attempts(stubbed):
    handler, s3, secrets = stubbed("download")
    for _ in range(3):
        tagged(s3, VERSION)
        secret_found(secrets, VERSION)
        s3.add_client_error("get_object", "AccessDenied", http_status_code=403)
    with s3, secrets, pytest.raises(RuntimeError, match="access denied"):
        handler.lambda_handler({}, None)
