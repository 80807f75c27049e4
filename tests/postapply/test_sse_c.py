"""SSE-C as AWS documents it: the s3api path (explicit headers) and the `s3 cp --sse-c` path (raw key).

On AWS the bucket's SSE-C setting and policy are fresh after an apply (S3 bucket configurations are
eventually consistent): the uploads that must pass retry a refusal, the one that must be refused
retries being let through, within the budget of ssepatterns.consistency; nothing else is retried.
"""

from __future__ import annotations

import base64
import hashlib
import io

import pytest
from boto3.s3.transfer import TransferConfig
from sse_c_key import ALGORITHM, key_md5_b64, raw_key_bytes, sse_c_params

from ssepatterns.verify.marks import check, not_applicable
from ssepatterns.verify.observe import DENIED, OK, allowed, denied, outcome

BODY = b"sse-c check: the walkthrough's bytes\n"
OTHER_KEY = "zyxwvutsrqponmlkjihgfedcba987654"  # 32 characters, not the secret's
BUCKET_SETTINGS = "the bucket settings"


@pytest.fixture(scope="module")
def bucket(buckets) -> str:
    return buckets["sse_c"]


def put_sse_c(target, s3, bucket: str, key: str, sse_c_key: str) -> dict:
    """PutObject with SSE-C, which must pass (on AWS a refusal is retried while the bucket's fresh
    SSE-C setting may not be effective yet); returns the response, raises the last refusal."""
    response: dict = {}

    def call() -> dict:
        response.update(s3.put_object(Bucket=bucket, Key=key, Body=BODY, **sse_c_params(sse_c_key)))
        return response

    observed = allowed(target.propagation, call, BUCKET_SETTINGS, f"s3:PutObject {bucket} with SSE-C")
    assert observed == OK, f"PutObject with SSE-C: {observed}"
    return response


@pytest.fixture(scope="module")
def sse_c_object(target, s3, bucket, run_prefix, sse_c_key) -> str:
    """An object written with SSE-C (explicit algorithm, base64 key and base64 MD5)."""
    key = f"{run_prefix}sse-c/object.txt"
    put_sse_c(target, s3, bucket, key, sse_c_key)
    return key


@check("sse-c.plain-upload-denied", "sse-c", "403 AccessDenied (bucket policy)")
def test_plain_upload_is_denied(verify, target, s3, bucket, run_prefix):
    observed = verify.observe(
        denied(
            target.propagation,
            lambda: s3.put_object(Bucket=bucket, Key=f"{run_prefix}plain.txt", Body=BODY),
            BUCKET_SETTINGS,
            f"s3:PutObject {bucket} without SSE-C",
        )
    )
    assert observed == DENIED


@check("sse-c.upload", "sse-c", "200 OK echoing AES256 and the key's MD5")
def test_upload_with_key_echoes_algorithm_and_md5(verify, target, s3, bucket, run_prefix, sse_c_key):
    params = sse_c_params(sse_c_key)
    put = put_sse_c(target, s3, bucket, f"{run_prefix}sse-c/upload.txt", sse_c_key)
    md5 = "the key's MD5" if put.get("SSECustomerKeyMD5") == params["SSECustomerKeyMD5"] else "another MD5"
    observed = verify.observe(f"200 OK echoing {put.get('SSECustomerAlgorithm')} and {md5}")
    assert observed == "200 OK echoing AES256 and the key's MD5"


@check("sse-c.get-without-key", "sse-c", "400 InvalidRequest")
def test_get_without_key(verify, s3, bucket, sse_c_object):
    observed = verify.observe(outcome(lambda: s3.get_object(Bucket=bucket, Key=sse_c_object)))
    assert observed == "400 InvalidRequest"


@check("sse-c.get-with-wrong-key", "sse-c", "403")
def test_get_with_wrong_key(verify, s3, bucket, sse_c_object):
    observed = verify.observe(
        outcome(lambda: s3.get_object(Bucket=bucket, Key=sse_c_object, **sse_c_params(OTHER_KEY)))
    )
    assert observed.split()[0] == "403", observed


@check("sse-c.head-without-key", "sse-c", "400 (a HEAD error has no body)")
def test_head_without_key(verify, s3, bucket, sse_c_object):
    observed = verify.observe(outcome(lambda: s3.head_object(Bucket=bucket, Key=sse_c_object)))
    assert observed == "400"


@check("sse-c.get-with-key", "sse-c", "200 OK, body equal")
def test_get_with_key(verify, s3, bucket, sse_c_object, sse_c_key):
    got = s3.get_object(Bucket=bucket, Key=sse_c_object, **sse_c_params(sse_c_key))
    observed = verify.observe(f"200 OK, body {'equal' if got['Body'].read() == BODY else 'different'}")
    assert observed == "200 OK, body equal"


@check("sse-c.md5-mismatch", "sse-c", "400 (the MD5 does not match the key)")
def test_md5_that_does_not_match_the_key(verify, s3, bucket, run_prefix, sse_c_key):
    # Sent explicitly: boto3 would compute a correct MD5 itself if it were left out.
    params = {**sse_c_params(sse_c_key), "SSECustomerKeyMD5": key_md5_b64(raw_key_bytes(OTHER_KEY))}
    observed = verify.observe(
        outcome(lambda: s3.put_object(Bucket=bucket, Key=f"{run_prefix}sse-c/md5.txt", Body=BODY, **params))
    )
    assert observed.split()[0] == "400", observed


@check(
    "sse-c.base64-key-without-md5",
    "sse-c",
    "400 (boto3 base64-encodes the base64 key again: 44 bytes, not 32)",
)
def test_boto3_trap_base64_key_without_md5(verify, s3, bucket, run_prefix, sse_c_key):
    key_b64 = base64.b64encode(sse_c_key.encode()).decode()
    observed = verify.observe(
        outcome(
            lambda: s3.put_object(
                Bucket=bucket,
                Key=f"{run_prefix}sse-c/trap.txt",
                Body=BODY,
                SSECustomerAlgorithm=ALGORITHM,
                SSECustomerKey=key_b64,
            )
        )
    )
    assert observed.split()[0] == "400", observed


@check("sse-c.cp-with-raw-key", "sse-c", "upload and download with the raw key: body equal")
def test_transfer_with_raw_key(verify, s3, bucket, run_prefix, sse_c_key, sse_c_object):
    """What `aws s3 cp --sse-c AES256 --sse-c-key <raw>` does: the SDK derives the base64 and the MD5.
    (After sse_c_object: on AWS that waited, if need be, for the bucket to take SSE-C uploads.)"""
    extra = {"SSECustomerAlgorithm": ALGORITHM, "SSECustomerKey": sse_c_key}
    key = f"{run_prefix}sse-c/cp.txt"
    config = TransferConfig(use_threads=False)
    s3.upload_fileobj(io.BytesIO(BODY), bucket, key, ExtraArgs=extra, Config=config)
    downloaded = io.BytesIO()
    s3.download_fileobj(bucket, key, downloaded, ExtraArgs=extra, Config=config)
    same = "equal" if downloaded.getvalue() == BODY else "different"
    observed = verify.observe(f"upload and download with the raw key: body {same}")
    assert observed == "upload and download with the raw key: body equal"
    # ...and the object is the one the explicit headers read: the same key, derived the same way.
    assert (
        s3.head_object(Bucket=bucket, Key=key, **sse_c_params(sse_c_key))["SSECustomerKeyMD5"]
        == base64.b64encode(hashlib.md5(sse_c_key.encode()).digest()).decode()
    )


@check("sse-c.plain-http-rejected", "sse-c", "rejected (SSE-C requires HTTPS)")
def test_sse_c_over_plain_http_is_rejected(verify, target, bucket, run_prefix, sse_c_key):
    if target.on_emulator:
        not_applicable("MiniStack accepts SSE-C over plain HTTP (and the emulator only serves HTTPS)")
    s3_http = target.client("s3", endpoint_url=f"http://{target.service_name('s3')}", use_ssl=False)
    observed = outcome(
        lambda: s3_http.put_object(
            Bucket=bucket, Key=f"{run_prefix}sse-c/http.txt", Body=BODY, **sse_c_params(sse_c_key)
        )
    )
    verify.observe(observed)
    assert observed != OK and observed.split()[0] in ("400", "403"), observed
