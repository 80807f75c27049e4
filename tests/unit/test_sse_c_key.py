"""The SSE-C key material helper, against the walkthrough's own numbers and boto3's encoding trap."""

from __future__ import annotations

import base64
import hashlib

import boto3
import pytest
from sse_c_key import InvalidSseCKey, copy_source_sse_c_params, key_md5_b64, raw_key_bytes, sse_c_params

# From the walkthrough: echo -n $key | base64, and echo -n $key | openssl md5 -binary | base64.
WALKTHROUGH_KEY = "hws7rqxtlcwd98e8nds94jf8al3yyi5t"
WALKTHROUGH_KEY_B64 = "aHdzN3JxeHRsY3dkOThlOG5kczk0amY4YWwzeXlpNXQ="
WALKTHROUGH_MD5_B64 = "aLkI4bOu2sXS3Guq7vU37A=="


def test_params_match_the_walkthrough():
    assert sse_c_params(WALKTHROUGH_KEY) == {
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": WALKTHROUGH_KEY_B64,
        "SSECustomerKeyMD5": WALKTHROUGH_MD5_B64,
    }


def test_md5_is_of_the_raw_bytes_not_of_the_base64():
    raw = raw_key_bytes(WALKTHROUGH_KEY)
    assert key_md5_b64(raw) == base64.b64encode(hashlib.md5(raw).digest()).decode()
    assert key_md5_b64(raw) != base64.b64encode(hashlib.md5(WALKTHROUGH_KEY_B64.encode()).digest()).decode()


def test_copy_source_params_name_the_source_key():
    assert copy_source_sse_c_params(WALKTHROUGH_KEY) == {
        "CopySourceSSECustomerAlgorithm": "AES256",
        "CopySourceSSECustomerKey": WALKTHROUGH_KEY_B64,
        "CopySourceSSECustomerKeyMD5": WALKTHROUGH_MD5_B64,
    }


@pytest.mark.parametrize("bad", ["", "short", "x" * 31, "x" * 33, "é" * 32])
def test_a_key_that_is_not_256_bits_is_refused_without_echoing_it(bad: str):
    with pytest.raises(InvalidSseCKey) as excinfo:
        sse_c_params(bad)
    if bad:
        assert bad not in str(excinfo.value)


def sent_headers(**put_kwargs) -> dict[str, str]:
    """The headers botocore would send for put_object, captured before anything leaves the process."""
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    captured: dict[str, str] = {}

    class Captured(Exception):
        pass

    def capture(request, **_):
        for name, value in request.headers.items():
            captured[name.lower()] = value.decode() if isinstance(value, bytes) else value
        raise Captured

    client.meta.events.register("before-send.s3.PutObject", capture)
    with pytest.raises(Captured):
        client.put_object(Bucket="bucket", Key="key", Body=b"x", **put_kwargs)
    return {k: v for k, v in captured.items() if "customer" in k}


def test_our_params_send_exactly_the_documented_headers():
    headers = sent_headers(**sse_c_params(WALKTHROUGH_KEY))
    assert headers == {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": WALKTHROUGH_KEY_B64,
        "x-amz-server-side-encryption-customer-key-md5": WALKTHROUGH_MD5_B64,
    }


def test_boto3_trap_a_base64_key_without_md5_is_encoded_twice():
    headers = sent_headers(SSECustomerAlgorithm="AES256", SSECustomerKey=WALKTHROUGH_KEY_B64)
    assert headers["x-amz-server-side-encryption-customer-key"] != WALKTHROUGH_KEY_B64
    assert (
        headers["x-amz-server-side-encryption-customer-key"]
        == base64.b64encode(WALKTHROUGH_KEY_B64.encode()).decode()
    )


def test_raw_key_without_md5_lets_botocore_derive_both():
    headers = sent_headers(SSECustomerAlgorithm="AES256", SSECustomerKey=WALKTHROUGH_KEY)
    assert headers["x-amz-server-side-encryption-customer-key"] == WALKTHROUGH_KEY_B64
    assert headers["x-amz-server-side-encryption-customer-key-md5"] == WALKTHROUGH_MD5_B64
