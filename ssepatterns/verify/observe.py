"""What a request did, as one short comparable string, and the checks' pure evaluators.

The post-apply suite compares these strings with the expected ones; the unit tests feed the same
functions recorded or fake responses to show that each check fails when the thing it checks is
broken (a policy that lets a plain upload through, a GET that returns data without the key, …).
Nothing here ever puts key material into a string it returns.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

OK = "200 OK"


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


def key_forms(key: str) -> list[bytes]:
    """Every form the key could leak in: raw, and base64 as sent in the SSE-C header."""
    raw = key.encode()
    return [raw, base64.b64encode(raw)]


def artifact_texts(paths: Iterable[Path]) -> dict[str, bytes]:
    """The bytes to search in each existing file; a zip (a saved plan) contributes every member."""
    texts: dict[str, bytes] = {}
    for path in paths:
        if not path.is_file():
            continue
        data = path.read_bytes()
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    texts[f"{path.name}:{name}"] = archive.read(name)
        else:
            texts[path.name] = data
    return texts


def holding_key(key: str, texts: Mapping[str, bytes]) -> list[str]:
    """Names of the texts that contain the key in any of its forms."""
    forms = key_forms(key)
    return sorted(name for name, data in texts.items() if any(form in data for form in forms))


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
