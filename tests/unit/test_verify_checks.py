"""The verification checks have teeth: fed the responses of a broken stack, they report it.

The post-apply suite compares the strings these evaluators return with the expected ones; here they
get recorded or fake responses of the failure cases, and the plugin is run on a throwaway suite.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from ssepatterns.key_scan import artifact_texts, holding_key
from ssepatterns.verify.observe import (
    DENY_SSE_C_SID,
    OK,
    bucket_default,
    bucket_policy_statement,
    deny_sse_c_statement,
    encryption,
    key_format,
    outcome,
    policy_statement,
    round_trip,
    statement_summary,
)
from ssepatterns.verify.report import CheckResult, Report

KEY = "0123456789abcdefghijklmnopqrstuv"


def client_error(status: int, code: str) -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


def raising(error: Exception):
    def call():
        raise error

    return call


def succeeding(**response):
    return lambda: {"ResponseMetadata": {"HTTPStatusCode": 200}, **response}


# --- outcomes: what the expected strings are compared with ---------------------------------------


def test_a_policy_that_lets_a_plain_upload_through_is_reported():
    assert outcome(raising(client_error(403, "AccessDenied"))) == "403 AccessDenied"
    assert outcome(succeeding()) == OK != "403 AccessDenied"


def test_a_get_that_returns_data_without_the_key_is_reported():
    assert outcome(raising(client_error(400, "InvalidRequest"))) == "400 InvalidRequest"
    assert outcome(succeeding(Body=b"data")) != "400 InvalidRequest"


def test_a_head_error_has_no_code():
    assert outcome(raising(client_error(400, "400"))) == "400"
    assert outcome(raising(client_error(400, "Bad Request"))) == "400 Bad Request"


# --- what S3 says about encryption ----------------------------------------------------------------


class FakeS3:
    """put/head/get of one object, answering what a (possibly broken) bucket would."""

    def __init__(self, put: dict, head: dict, body: bytes, put_error: ClientError | None = None):
        self.put, self.head, self.body, self.put_error = put, head, body, put_error

    def put_object(self, **kwargs):
        if self.put_error:
            raise self.put_error
        return self.put

    def head_object(self, **kwargs):
        return self.head

    def get_object(self, **kwargs):
        return {"Body": io.BytesIO(self.body)}


def test_a_wrong_algorithm_echoed_back_is_reported():
    good = FakeS3({"ServerSideEncryption": "AES256"}, {"ServerSideEncryption": "AES256"}, b"x")
    bad = FakeS3(
        {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "k"}, {"ServerSideEncryption": "AES256"}, b"x"
    )
    expected = "PUT AES256, HEAD AES256, body equal"
    assert round_trip(good, "b", "k", b"x") == expected
    assert round_trip(bad, "b", "k", b"x") == "PUT aws:kms k, HEAD AES256, body equal"


def test_another_kms_key_or_a_changed_body_is_reported():
    cmk = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "arn:cmk"}
    other = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "arn:aws-s3"}
    assert (
        round_trip(FakeS3(cmk, other, b"x"), "b", "k", b"x")
        == "PUT aws:kms arn:cmk, HEAD aws:kms arn:aws-s3, body equal"
    )
    assert round_trip(FakeS3(cmk, cmk, b"y"), "b", "k", b"x").endswith("body different")


def test_a_refused_put_is_reported_as_its_outcome():
    refused = FakeS3({}, {}, b"", put_error=client_error(403, "AccessDenied"))
    assert round_trip(refused, "b", "k", b"x") == "PUT 403 AccessDenied"


def test_sse_c_objects_and_bucket_defaults_are_described():
    assert encryption({"SSECustomerAlgorithm": "AES256"}) == "SSE-C AES256"
    assert encryption({}) == "none"
    config = {
        "ServerSideEncryptionConfiguration": {
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        }
    }
    assert bucket_default(config) == "AES256, bucket key off"
    config["ServerSideEncryptionConfiguration"]["Rules"][0]["BucketKeyEnabled"] = True
    assert bucket_default(config) == "AES256, bucket key on"


# --- the SSE-C guard, read back from the bucket policy --------------------------------------------------

BUCKET_ARN = "arn:aws-cn:s3:::fa-125-sse-s3"  # any partition: the ARN comes from the stack's outputs
TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def bucket_policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def expected_sse_c_deny() -> str:
    return statement_summary(deny_sse_c_statement(BUCKET_ARN))


def test_the_sse_c_deny_as_the_module_writes_it_is_found():
    found = policy_statement(bucket_policy(TLS_ONLY, deny_sse_c_statement(BUCKET_ARN)), DENY_SSE_C_SID)
    assert (
        found
        == expected_sse_c_deny()
        == (
            "Sid DenyUploadWithSseC: Deny s3:PutObject on arn:aws-cn:s3:::fa-125-sse-s3/* to anyone "
            "if Null s3:x-amz-server-side-encryption-customer-algorithm = false"
        )
    )
    # The same statement as AWS may spell it (one-element lists, a principal map) is the same.
    respelled = {
        **deny_sse_c_statement(BUCKET_ARN),
        "Principal": {"AWS": "*"},
        "Action": ["s3:PutObject"],
        "Resource": [f"{BUCKET_ARN}/*"],
        "Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": ["false"]}},
    }
    assert policy_statement(bucket_policy(TLS_ONLY, respelled), DENY_SSE_C_SID) == expected_sse_c_deny()


def test_a_policy_without_the_sse_c_deny_is_reported_although_s3_would_refuse_the_upload_anyway():
    found = policy_statement(bucket_policy(TLS_ONLY), DENY_SSE_C_SID)
    assert found == "no statement DenyUploadWithSseC (statements: DenyInsecureTransport)"
    assert found != expected_sse_c_deny()


@pytest.mark.parametrize(
    ("change", "shows"),
    [
        ({"Effect": "Allow"}, "Allow"),
        ({"Action": "s3:GetObject"}, "s3:GetObject"),
        ({"Resource": "arn:aws-cn:s3:::another-bucket/*"}, "another-bucket"),
        ({"Principal": {"AWS": "arn:aws-cn:iam::111122223333:root"}}, "111122223333"),
        # The walkthrough's require statement (Null = true) in its place: it denies the opposite.
        ({"Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "true"}}}, "= true"),
        ({"Condition": {}}, "unconditionally"),
        ({"NotResource": "arn:aws-cn:s3:::x"}, "NotResource"),
    ],
)
def test_a_changed_sse_c_deny_is_reported(change, shows):
    found = policy_statement(bucket_policy({**deny_sse_c_statement(BUCKET_ARN), **change}), DENY_SSE_C_SID)
    assert found != expected_sse_c_deny() and shows in found


def test_a_missing_or_unreadable_bucket_policy_is_reported():
    class S3:
        def __init__(self, error: ClientError | None) -> None:
            self.error = error

        def get_bucket_policy(self, Bucket):  # noqa: N803 - boto3's parameter name
            if self.error:
                raise self.error
            return {"Policy": bucket_policy(deny_sse_c_statement(BUCKET_ARN))}

    assert bucket_policy_statement(S3(None), "b", DENY_SSE_C_SID) == expected_sse_c_deny()
    missing = bucket_policy_statement(S3(client_error(404, "NoSuchBucketPolicy")), "b", DENY_SSE_C_SID)
    assert missing == "no bucket policy readable (404 NoSuchBucketPolicy)"
    duplicated = policy_statement(
        bucket_policy(deny_sse_c_statement(BUCKET_ARN), deny_sse_c_statement(BUCKET_ARN)), DENY_SSE_C_SID
    )
    assert duplicated.startswith("2 statements DenyUploadWithSseC")


# --- the key's shape and whereabouts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (KEY.upper(), "characters other than lowercase letters and digits"),
        (KEY[:31], "31 characters"),
        ("a" * 32, "no digit"),
        ("1" * 32, "no lowercase letter"),
        (KEY[:31] + "!", "characters other than lowercase letters and digits"),
    ],
)
def test_a_key_breaking_the_character_rules_is_reported_without_the_key(key, problem):
    described = key_format(key)
    assert problem in described and key not in described
    assert key_format(KEY) == "32 characters, lowercase letters and digits, both present"


def test_a_key_in_the_state_or_in_a_zipped_plan_is_found(tmp_path: Path):
    state = tmp_path / "terraform.tfstate"
    state.write_text(json.dumps({"resources": [{"secret_string": KEY}]}))
    plan = tmp_path / "local.tfplan"
    with zipfile.ZipFile(plan, "w") as archive:
        archive.writestr("tfplan", b"\x00binary" + base64.b64encode(KEY.encode()) + b"\x00")
        archive.writestr("tfstate", b"{}")
    clean = tmp_path / "clean.json"
    clean.write_text("{}")
    texts = artifact_texts([state, plan, clean, tmp_path / "missing"])
    assert holding_key(KEY, texts) == ["local.tfplan:tfplan", "terraform.tfstate"]
    assert holding_key(KEY, {"clean.json": b"{}"}) == []


# --- the report -------------------------------------------------------------------------------------


def test_not_applicable_is_never_counted_as_passed():
    report = Report(
        env="local",
        endpoint="https://127.0.0.1:4566",
        checks=[
            CheckResult("a.x", "a", "t", "passed", "e", "e"),
            CheckResult("a.y", "a", "t", "not_applicable", "e", "not applicable: reason"),
            CheckResult("a.z", "a", "t", "failed", "e", "o"),
        ],
    )
    assert report.summary() == {"passed": 1, "failed": 1, "not_applicable": 1}
    assert report.summary_line() == "1 passed, 1 failed (1 not applicable on local)"
    data = json.loads(report.to_json())
    assert data["summary"] == {"passed": 1, "failed": 1, "not_applicable": 1}
    assert set(data["checks"][0]) >= {"id", "pattern", "status", "expected", "observed"}
    assert "FAIL" in report.table() and "n/a" in report.table()


# --- the plugin, on a throwaway suite -----------------------------------------------------------------

SUITE = """
import pytest

pytest_plugins = ["ssepatterns.verify.plugin"]  # as tests/postapply/conftest.py loads it
"""


def run_suite(pytester: pytest.Pytester, tests: str) -> tuple[pytest.RunResult, dict]:
    pytester.makeconftest(SUITE)
    pytester.makepyfile(
        test_checks="from ssepatterns.verify.marks import check, not_applicable\nimport pytest\n" + tests
    )
    report = pytester.path / "report.json"
    result = pytester.runpytest("--sse-report-json", str(report), "-p", "no:cacheprovider")
    return result, json.loads(report.read_text())


def test_plugin_reports_each_status_and_fails_on_a_plain_skip(pytester: pytest.Pytester):
    result, report = run_suite(
        pytester,
        """
@check("p.pass", "p", "200 OK")
def test_pass(verify):
    assert verify.observe("200 OK") == "200 OK"

@check("p.fail", "p", "403 AccessDenied")
def test_fail(verify):
    assert verify.observe("200 OK") == "403 AccessDenied"

@check("p.na", "p", "x")
def test_na(verify):
    not_applicable("not on this target")

@check("p.skip", "p", "x")
def test_plain_skip(verify):
    pytest.skip("forgot to run")

@pytest.mark.parametrize("pattern", ["a-b", "c"])
@check("{pattern}.param", "{pattern}", "expected {pattern}")
def test_param(verify, pattern):
    verify.observe("ok")
""",
    )
    statuses = {c["id"]: (c["status"], c["observed"], c["pattern"], c["expected"]) for c in report["checks"]}
    assert statuses["p.pass"][0] == "passed"
    assert statuses["p.fail"][:2] == ("failed", "200 OK")
    assert statuses["p.na"][0] == "not_applicable"
    assert (
        statuses["p.skip"][0] == "failed" and "skipped without being not applicable" in statuses["p.skip"][1]
    )
    assert statuses["a-b.param"] == ("passed", "ok", "a-b", "expected a-b")
    assert report["summary"] == {"passed": 3, "failed": 2, "not_applicable": 1}
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*verify: 3 passed, 2 failed (1 not applicable on local)*"])


def test_plugin_refuses_a_test_that_is_not_a_check(pytester: pytest.Pytester):
    pytester.makeconftest(SUITE)
    pytester.makepyfile(test_checks="def test_unmarked():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*is not marked @check*"])


def test_a_wait_for_eventual_consistency_is_shown_while_the_check_runs(pytester: pytest.Pytester):
    pytester.makeconftest(
        SUITE
        + """
from ssepatterns.verify.plugin import live_printer

@pytest.fixture
def out(request):
    return live_printer(request.config)
"""
    )
    pytester.makepyfile(
        test_checks="""
from ssepatterns.verify.marks import check

@check("p.wait", "p", "ok")
def test_wait(verify, out):
    out("waiting for IAM to propagate… (AccessDenied from sts:AssumeRole, 2 s)")
    print("captured, not shown")
    verify.observe("ok")
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["waiting for IAM to propagate… (AccessDenied from sts:AssumeRole, 2 s)"])
    result.stdout.no_fnmatch_line("captured, not shown")
