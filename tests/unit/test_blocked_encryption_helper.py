"""The BlockedEncryptionTypes helper of encrypted-bucket, hardened: retries, read-back, identity and
its one-line refusals. The script is imported from its path; S3 and STS are botocore Stubbers or
HTTP-level fakes (no network), and time is a fake clock, so nothing here waits."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import types
import urllib.parse
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.loaders import Loader
from botocore.stub import Stubber

from ssepatterns.paths import TERRAFORM_DIR
from ssepatterns.plumbing import scrubbed_environ

SCRIPTS = TERRAFORM_DIR / "modules" / "encrypted-bucket" / "scripts"
SCRIPT = SCRIPTS / "put_blocked_encryption_types.py"
WRAPPER = SCRIPTS / "put_blocked_encryption_types.sh"
BUCKET = "fa-125-sse-s3"
ROLE_ARN = "arn:aws:iam::111122223333:role/deployer"


def load_helper() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("put_blocked_encryption_types", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import would (dataclasses look their module up there)
    spec.loader.exec_module(module)
    return module


helper = load_helper()


class FakeClock:
    """Time that passes only when slept; jitter fixed at `jitter`. Sleeping past `limit` seconds, or
    more than 1000 times, fails the test instead of hanging it (a loop that lost its bound)."""

    def __init__(self, jitter: float = 1.0, limit: float = 600.0) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.jitter = jitter
        self.limit = limit

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds
        assert sum(self.sleeps) <= self.limit, f"slept {sum(self.sleeps)} s: unbounded"
        assert len(self.sleeps) <= 1000, f"slept {len(self.sleeps)} times: unbounded"

    @property
    def clock(self) -> Any:
        return helper.Clock(monotonic=lambda: self.now, sleep=self.sleep, random=lambda: self.jitter)


@pytest.fixture(autouse=True)
def clean_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS settings from the developer's shell, no shared files, no instance metadata."""
    for name in set(os.environ) - set(scrubbed_environ(("AWS_", "SSE_PATTERNS_"))):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def fake() -> FakeClock:
    return FakeClock()


def s3_client() -> Any:
    session = boto3.Session(
        aws_access_key_id="AKIDTEST", aws_secret_access_key="secret", region_name="us-east-1"
    )
    return session.client("s3")


RULE = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}


def rule(*blocked: str) -> dict:
    return {**RULE, "BlockedEncryptionTypes": {"EncryptionType": list(blocked)}} if blocked else dict(RULE)


def config(*blocked: str) -> dict:
    return {"ServerSideEncryptionConfiguration": {"Rules": [rule(*blocked)]}}


def put_params(blocked: str) -> dict:
    return {"Bucket": BUCKET, "ServerSideEncryptionConfiguration": {"Rules": [rule(blocked)]}}


def add_get(stub: Stubber, *blocked: str) -> None:
    stub.add_response("get_bucket_encryption", config(*blocked), {"Bucket": BUCKET})


def add_put(stub: Stubber, blocked: str = "SSE-C") -> None:
    stub.add_response("put_bucket_encryption", {}, put_params(blocked))


def add_error(stub: Stubber, method: str, code: str, status: int, message: str = "") -> None:
    stub.add_client_error(method, service_error_code=code, service_message=message, http_status_code=status)


OPERATION_ABORTED = "A conflicting conditional operation is currently in progress against this resource."


# --- retries ---------------------------------------------------------------------------------------


def test_operation_aborted_then_success(fake: FakeClock) -> None:
    s3 = s3_client()
    with Stubber(s3) as stub:
        add_get(stub)
        add_error(stub, "put_bucket_encryption", "OperationAborted", 409, OPERATION_ABORTED)
        add_put(stub)
        add_get(stub, "SSE-C")
        helper.put_blocked_encryption_types(s3, BUCKET, "SSE-C", fake.clock)
        stub.assert_no_pending_responses()
    assert fake.sleeps == [0.5]


def test_no_such_bucket_then_success(fake: FakeClock) -> None:
    """A bucket just created may not be visible yet."""
    s3 = s3_client()
    with Stubber(s3) as stub:
        add_error(stub, "get_bucket_encryption", "NoSuchBucket", 404, "The specified bucket does not exist")
        add_error(stub, "get_bucket_encryption", "NoSuchBucket", 404, "The specified bucket does not exist")
        add_get(stub)
        add_put(stub, "NONE")
        add_get(stub, "NONE")
        helper.put_blocked_encryption_types(s3, BUCKET, "NONE", fake.clock)
        stub.assert_no_pending_responses()
    assert fake.sleeps == [0.5, 1.0]


def test_http_503_then_success(fake: FakeClock) -> None:
    """503 is retried whatever its code (here one not in the list)."""
    s3 = s3_client()
    with Stubber(s3) as stub:
        add_get(stub)
        add_error(
            stub, "put_bucket_encryption", "ServiceUnavailable", 503, "Please reduce your request rate."
        )
        add_put(stub)
        add_get(stub, "SSE-C")
        helper.put_blocked_encryption_types(s3, BUCKET, "SSE-C", fake.clock)
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("SlowDown", 400),
        ("Throttling", 400),
        ("ThrottlingException", 400),
        ("TooManyRequestsException", 429),
        ("RequestLimitExceeded", 400),
    ],
)
def test_throttling_code_then_success(fake: FakeClock, code: str, status: int) -> None:
    s3 = s3_client()
    with Stubber(s3) as stub:
        add_error(stub, "get_bucket_encryption", code, status, "Rate exceeded")
        add_get(stub)
        add_put(stub)
        add_get(stub, "SSE-C")
        helper.put_blocked_encryption_types(s3, BUCKET, "SSE-C", fake.clock)
        stub.assert_no_pending_responses()


def test_backoff_is_exponential_capped_and_jittered() -> None:
    slowest, fastest = FakeClock(jitter=1.0).clock, FakeClock(jitter=0.0).clock
    delays = [helper.backoff_delay(attempt, slowest) for attempt in range(1, helper.MAX_ATTEMPTS)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert [helper.backoff_delay(attempt, fastest) for attempt in range(1, helper.MAX_ATTEMPTS)] == [
        d / 2 for d in delays
    ]


def test_other_errors_are_not_retried(fake: FakeClock) -> None:
    s3 = s3_client()
    with Stubber(s3) as stub:
        add_get(stub)
        add_error(stub, "put_bucket_encryption", "AccessDenied", 403, "Access Denied")
        with pytest.raises(Exception, match="AccessDenied"):
            helper.put_blocked_encryption_types(s3, BUCKET, "SSE-C", fake.clock)
        stub.assert_no_pending_responses()
    assert fake.sleeps == []


class FakeSession:
    def __init__(self, s3: Any) -> None:
        self.s3 = s3

    def client(self, service: str, **_: Any) -> Any:
        assert service == "s3"
        return self.s3


def run_main(monkeypatch: pytest.MonkeyPatch, s3: Any, fake: FakeClock, blocked: str = "SSE-C") -> int:
    monkeypatch.setattr(helper, "identity_session", lambda *_args, **_kw: FakeSession(s3))
    return helper.main(
        ["put_blocked_encryption_types.py", BUCKET], {"BLOCKED_ENCRYPTION_TYPE": blocked}, fake.clock
    )


def test_retries_exhausted_fail_with_one_precise_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fake: FakeClock
) -> None:
    s3 = s3_client()
    with Stubber(s3) as stub:
        add_get(stub)
        for _ in range(helper.MAX_ATTEMPTS):
            add_error(stub, "put_bucket_encryption", "OperationAborted", 409, OPERATION_ABORTED)
        assert run_main(monkeypatch, s3, fake) == 1
        stub.assert_no_pending_responses()
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"put_blocked_encryption_types: bucket {BUCKET}: gave up after 8 attempts in 35.5 s: "
        f"PutBucketEncryption: OperationAborted (HTTP 409): {OPERATION_ABORTED}\n"
    )
    assert sum(fake.sleeps) == 35.5


def test_success_prints_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fake: FakeClock
) -> None:
    s3 = s3_client()
    with Stubber(s3) as stub:
        stub.add_client_error(
            "get_bucket_encryption", "ServerSideEncryptionConfigurationNotFoundError", http_status_code=404
        )
        add_put(stub, "NONE")  # S3's default rule, with the element
        add_get(stub, "NONE")
        assert run_main(monkeypatch, s3, fake, blocked="NONE") == 0
    assert capsys.readouterr() == (f"bucket {BUCKET}: SSE-C allowed (BlockedEncryptionTypes = NONE)\n", "")


# --- read-back -------------------------------------------------------------------------------------


def test_read_back_lagging_then_success(fake: FakeClock) -> None:
    s3 = s3_client()
    with Stubber(s3) as stub:
        add_get(stub)
        add_put(stub)
        add_get(stub)  # not yet: eventually consistent
        add_get(stub, "SSE-C")
        helper.put_blocked_encryption_types(s3, BUCKET, "SSE-C", fake.clock)
        stub.assert_no_pending_responses()
    assert fake.sleeps == [helper.READ_BACK_INTERVAL_S]


class NeverConsistentS3:
    """Accepts the put and never shows it."""

    def __init__(self) -> None:
        self.gets = 0
        self.puts: list[dict] = []

    def get_bucket_encryption(self, Bucket: str) -> dict:  # noqa: N803 - boto3's parameter name
        self.gets += 1
        return config()

    def put_bucket_encryption(self, Bucket: str, ServerSideEncryptionConfiguration: dict) -> dict:  # noqa: N803
        self.puts.append(ServerSideEncryptionConfiguration)
        return {}


def test_read_back_never_matching_fails_after_60_s(fake: FakeClock) -> None:
    s3 = NeverConsistentS3()
    with pytest.raises(helper.Refusal) as refusal:
        helper.put_blocked_encryption_types(s3, BUCKET, "SSE-C", fake.clock)
    assert str(refusal.value) == (
        f"bucket {BUCKET}: BlockedEncryptionTypes still reads back as absent 60 s after "
        "PutBucketEncryption, expected [SSE-C]"
    )
    assert sum(fake.sleeps) == pytest.approx(60.0)
    assert s3.puts == [{"Rules": [rule("SSE-C")]}]
    assert s3.gets > 2  # polled, not read once


# --- the refusals ----------------------------------------------------------------------------------


def test_old_botocore_is_refused_naming_the_minimum(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, fake: FakeClock
) -> None:
    """An S3 model without the member (botocore < 1.41.0), loaded the way botocore loads models."""
    model = Loader().load_service_model("s3", "service-2")
    del model["shapes"]["ServerSideEncryptionRule"]["members"]["BlockedEncryptionTypes"]
    api_dir = tmp_path / "models" / "s3" / model["metadata"]["apiVersion"]
    api_dir.mkdir(parents=True)
    (api_dir / "service-2.json").write_text(json.dumps(model), encoding="utf-8")
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path / "models"))
    # Were the check missing, the helper would go on to S3: make that fail fast, offline.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")

    environ = {"BLOCKED_ENCRYPTION_TYPE": "NONE", "AWS_REGION": "us-east-1"}
    assert helper.main(["put_blocked_encryption_types.py", BUCKET], environ, fake.clock) == 1
    err = capsys.readouterr().err
    assert re.fullmatch(
        r"put_blocked_encryption_types: botocore [0-9.]+ \(.+\) is too old: its S3 model has no "
        r"BlockedEncryptionTypes; botocore >= 1\.41\.0 is required\n",
        err,
    ), err
    assert helper.MIN_BOTOCORE_VERSION == "1.41.0"


def test_installed_botocore_knows_the_element() -> None:
    helper.require_blocked_encryption_types(s3_client())  # no Refusal


def test_missing_profile_is_refused_without_fallback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fake: FakeClock
) -> None:
    # Credentials the default chain would find: the helper must not use them instead.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDDEFAULTCHAIN")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    environ = {
        "BLOCKED_ENCRYPTION_TYPE": "SSE-C",
        "AWS_REGION": "eu-west-1",
        "SSE_PATTERNS_AWS_PROFILE": "deployer",
    }
    assert helper.main(["put_blocked_encryption_types.py", BUCKET], environ, fake.clock) == 1
    assert capsys.readouterr() == (
        "",
        "put_blocked_encryption_types: AWS profile 'deployer' (SSE_PATTERNS_AWS_PROFILE) is in neither the "
        "shared config nor the credentials file; not falling back to the default credential chain\n",
    )


def test_profile_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake: FakeClock) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("[deployer]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDDEFAULTCHAIN")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    session = helper.identity_session(boto3, {"SSE_PATTERNS_AWS_PROFILE": "deployer"}, fake.clock)
    assert session.get_credentials().access_key == "AKIDPROFILE"


class FakeRaw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


STS_XML = "https://sts.amazonaws.com/doc/2011-06-15/"


class FakeAws:
    """Answers STS and S3 at the HTTP level, after botocore has signed each request, and records it."""

    def __init__(self, assume_role_denials: int = 0) -> None:
        self.denials = assume_role_denials
        self.requests: list[Any] = []

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.requests.append(request)
        if "sts." in request.url:
            if self.denials:
                self.denials -= 1
                body = (
                    f'<ErrorResponse xmlns="{STS_XML}"><Error><Type>Sender</Type><Code>AccessDenied</Code>'
                    f"<Message>not authorized to perform: sts:AssumeRole on resource: {ROLE_ARN}</Message>"
                    "</Error><RequestId>r</RequestId></ErrorResponse>"
                )
                return AWSResponse(request.url, 403, {}, FakeRaw(body.encode()))
            body = (
                f'<AssumeRoleResponse xmlns="{STS_XML}"><AssumeRoleResult><Credentials>'
                "<AccessKeyId>ASIAASSUMED</AccessKeyId><SecretAccessKey>assumed-secret</SecretAccessKey>"
                "<SessionToken>assumed-token</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration>"
                "</Credentials><AssumedRoleUser><AssumedRoleId>AROA:s</AssumedRoleId>"
                f"<Arn>{ROLE_ARN}</Arn></AssumedRoleUser></AssumeRoleResult>"
                "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>"
            )
            return AWSResponse(request.url, 200, {}, FakeRaw(body.encode()))
        body = (
            "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
            "<SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>"
            "</ServerSideEncryptionConfiguration>"
        )
        return AWSResponse(request.url, 200, {}, FakeRaw(body.encode()))


def boto3_answered_by(fake_aws: FakeAws) -> Any:
    """boto3 as the helper sees it, every session of which is answered by fake_aws."""

    class Session(boto3.session.Session):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.events.register("before-send", fake_aws)

    return types.SimpleNamespace(Session=Session)


def text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def signed_with(request: Any) -> str:
    match = re.search(r"Credential=([A-Z0-9]+)/", text(request.headers["Authorization"]))
    assert match, request.headers
    return match.group(1)


def test_assumed_role_credentials_reach_the_s3_client(
    monkeypatch: pytest.MonkeyPatch, fake: FakeClock
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDBASE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    fake_aws = FakeAws()
    environ = {"SSE_PATTERNS_ASSUME_ROLE_ARN": ROLE_ARN, "AWS_REGION": "eu-west-1"}
    session = helper.identity_session(boto3_answered_by(fake_aws), environ, fake.clock)
    session.client("s3").get_bucket_encryption(Bucket=BUCKET)

    assume_role, get_encryption = fake_aws.requests
    assert signed_with(assume_role) == "AKIDBASE"
    form = urllib.parse.parse_qs(text(assume_role.body))
    assert form["Action"] == ["AssumeRole"]
    assert form["RoleArn"] == [ROLE_ARN]
    assert form["RoleSessionName"] == ["sse-patterns-blocked-encryption-types"]
    assert BUCKET in get_encryption.url
    assert signed_with(get_encryption) == "ASIAASSUMED"
    assert text(get_encryption.headers["X-Amz-Security-Token"]) == "assumed-token"


def test_assume_role_access_denied_is_retried(monkeypatch: pytest.MonkeyPatch, fake: FakeClock) -> None:
    """IAM is eventually consistent: a new role or trust policy refuses AssumeRole for a while."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDBASE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    fake_aws = FakeAws(assume_role_denials=3)
    environ = {"SSE_PATTERNS_ASSUME_ROLE_ARN": ROLE_ARN, "AWS_REGION": "eu-west-1"}
    session = helper.identity_session(boto3_answered_by(fake_aws), environ, fake.clock)
    assert session.get_credentials().access_key == "ASIAASSUMED"
    assert fake.sleeps == [0.5, 1.0, 2.0]


def test_assume_role_denied_for_good_fails_within_30_s(
    monkeypatch: pytest.MonkeyPatch, fake: FakeClock
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDBASE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    environ = {"SSE_PATTERNS_ASSUME_ROLE_ARN": ROLE_ARN, "AWS_REGION": "eu-west-1"}
    with pytest.raises(helper.Refusal) as refusal:
        helper.identity_session(boto3_answered_by(FakeAws(assume_role_denials=100)), environ, fake.clock)
    assert sum(fake.sleeps) <= helper.ASSUME_ROLE_BUDGET_S
    assert fake.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0]  # 25.5 s: 10 more would pass 30 s
    assert str(refusal.value) == (
        f"assuming role {ROLE_ARN} with the default credential chain: gave up after 7 attempts in 25.5 s: "
        "AssumeRole: AccessDenied (HTTP 403): "
        f"not authorized to perform: sts:AssumeRole on resource: {ROLE_ARN}"
    )


# --- the refusals of the process: no boto3, no python3 -----------------------------------------------


def assert_one_line_refusal(result: subprocess.CompletedProcess, expected: str) -> None:
    assert result.returncode != 0, result
    assert result.stdout == "", result
    assert result.stderr == expected + "\n", result.stderr
    assert "Traceback" not in result.stderr


def test_boto3_not_importable(tmp_path: Path) -> None:
    (tmp_path / "boto3.py").write_text("raise ImportError(\"No module named 'boto3'\")\n", encoding="utf-8")
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(tmp_path), "BLOCKED_ENCRYPTION_TYPE": "NONE"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), BUCKET], env=env, capture_output=True, text=True, timeout=60
    )
    assert_one_line_refusal(
        result,
        f"put_blocked_encryption_types: boto3 is not importable by {sys.executable} (No module named "
        "'boto3'): run through ./inv, which puts its virtualenv first on PATH",
    )


def test_wrapper_without_python3_on_path(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = subprocess.run(
        ["/bin/sh", str(WRAPPER), BUCKET],
        env={"PATH": str(empty)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_one_line_refusal(
        result,
        "put_blocked_encryption_types: python3 not found on PATH: the SSE-C setting needs python3 with "
        "boto3 (./inv puts its virtualenv first on PATH)",
    )


def test_wrapper_runs_the_helper_with_python3_from_path(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    # Its arguments reach the helper: an empty bucket name is refused by the helper itself.
    result = subprocess.run(
        ["/bin/sh", str(WRAPPER), ""], env={"PATH": str(bin_dir)}, capture_output=True, text=True, timeout=60
    )
    assert_one_line_refusal(
        result, "put_blocked_encryption_types: usage: put_blocked_encryption_types.py BUCKET"
    )
