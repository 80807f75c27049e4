"""Allow or block SSE-C on one bucket: set BlockedEncryptionTypes in its encryption configuration.

Usage: put_blocked_encryption_types.py BUCKET
Environment: BLOCKED_ENCRYPTION_TYPE (NONE or SSE-C), AWS_REGION (the bucket's region), and, when
the provider has them, SSE_PATTERNS_AWS_PROFILE (its named profile) and SSE_PATTERNS_ASSUME_ROLE_ARN
(its assume_role). Terraform runs it through put_blocked_encryption_types.sh, which says so in one
line when there is no python3 on PATH.

Since April 2026 S3 blocks SSE-C writes on new general purpose buckets unless the bucket's
encryption configuration says BlockedEncryptionTypes = {"EncryptionType": ["NONE"]} (an empty
list does not unblock). hashicorp/aws gained that argument only in 6.22, so Terraform runs this
from a terraform_data provisioner. The current rules are kept as they are (Terraform's, or the
SSE-S3 default S3 applies to every bucket); only the BlockedEncryptionTypes element is set.

What makes it fit for a real account:
- It acts as the provider's principal: the named profile (a missing one is an error, never the
  default credential chain instead), then the role assumed from it. Without either, it uses the
  standard AWS environment of the terraform process, as the provider does.
- It retries what S3 answers while a bucket is new or being configured by Terraform's other
  resources (OperationAborted, NoSuchBucket) and throttling, with exponential backoff and jitter,
  a bounded number of times. botocore's own retries (its configured mode) run inside each attempt.
- It reads the configuration back until the element shows, for up to 60 s: bucket configuration
  is eventually consistent.
- Every refusal is one line on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import copy
import os
import random
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PROG = "put_blocked_encryption_types"

# The first botocore whose S3 model knows BlockedEncryptionTypes (a member of the
# ServerSideEncryptionRule shape) is 1.41.0, released 2025-11-19: botocore's CHANGELOG.rst, 1.41.0,
# "api-change:``s3``: Adds support for blocking SSE-C writes to general purpose buckets."
# (.changes/1.41.0.json; the S3 model of 1.40.76 has no such member). Older releases refuse the
# element before sending anything (ParamValidationError: Unknown parameter).
MIN_BOTOCORE_VERSION = "1.41.0"

ALLOWED_TYPES = ("NONE", "SSE-C")
# What S3 applies to a bucket that has no encryption configuration of its own (since 2023).
S3_DEFAULT_RULE = {
    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
    "BucketKeyEnabled": False,
}

PROFILE_VARIABLE = "SSE_PATTERNS_AWS_PROFILE"
ROLE_ARN_VARIABLE = "SSE_PATTERNS_ASSUME_ROLE_ARN"
ROLE_SESSION_NAME = "sse-patterns-blocked-encryption-types"

# OperationAborted: S3 refuses concurrent writes of one bucket's configuration ("A conflicting
# conditional operation is currently in progress"). NoSuchBucket: a bucket just created is not yet
# visible everywhere. The rest are S3's and AWS's throttling answers.
RETRYABLE_CODES = frozenset(
    {
        "OperationAborted",
        "NoSuchBucket",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
    }
)
RETRYABLE_HTTP_STATUSES = frozenset({503})  # Service Unavailable: S3's "slow down", whatever the code
MAX_ATTEMPTS = 8
BACKOFF_BASE_S = 0.5  # the first retry waits 0.25 to 0.5 s, each next one up to twice as long
BACKOFF_CAP_S = 10.0  # ... but at most 10 s: 8 attempts take at most 35.5 s of waiting
# IAM is eventually consistent: a role just created, or a trust policy just changed, can refuse
# AssumeRole (AccessDenied) for a few seconds.
ASSUME_ROLE_RETRYABLE_CODES = RETRYABLE_CODES | {"AccessDenied"}
ASSUME_ROLE_BUDGET_S = 30.0
READ_BACK_TIMEOUT_S = 60.0
READ_BACK_INTERVAL_S = 2.0


class Refusal(Exception):
    """Why the helper stops: its message is the one line printed."""


@dataclass(frozen=True)
class Clock:
    """Time, injectable: tests pass a fake one, so retries and polling take no real time."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random  # jitter, in [0, 1)


SYSTEM_CLOCK = Clock()


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def error_code(error: Any) -> str:
    return error.response.get("Error", {}).get("Code", "")


def describe(error: Exception) -> str:
    """An AWS error in one line: operation, code, HTTP status and message."""
    from botocore.exceptions import ClientError

    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        message = error.response.get("Error", {}).get("Message", "")
        text = f"{error.operation_name}: {error_code(error) or 'error'} (HTTP {status}): {message}"
    else:
        text = f"{type(error).__name__}: {error}"
    return one_line(text).rstrip(": ")


def is_retryable(error: Exception, codes: Iterable[str]) -> bool:
    from botocore.exceptions import ClientError

    if not isinstance(error, ClientError):
        return False
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error_code(error) in codes or status in RETRYABLE_HTTP_STATUSES


def backoff_delay(attempt: int, clock: Clock) -> float:
    """Seconds to wait after failed attempt `attempt` (1, 2, ...): exponential, capped, with
    jitter (between half and all of the exponential step, so retries of parallel helpers spread)."""
    step = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
    return step / 2 + clock.random() * step / 2


def with_retries(
    what: str,
    call: Callable[[], Any],
    clock: Clock,
    codes: Iterable[str] = RETRYABLE_CODES,
    budget_s: float | None = None,
) -> Any:
    """call(), again after a retryable error, at most MAX_ATTEMPTS times (and within budget_s
    seconds of waiting, if given). Other errors propagate; running out is a Refusal naming `what`
    and the last error."""
    started = clock.monotonic()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return call()
        except Exception as error:
            if not is_retryable(error, codes):
                raise
            delay = backoff_delay(attempt, clock)
            elapsed = clock.monotonic() - started
            if attempt == MAX_ATTEMPTS or (budget_s is not None and elapsed + delay > budget_s):
                raise Refusal(
                    f"{what}: gave up after {attempt} attempts in {elapsed:.1f} s: {describe(error)}"
                ) from None
            clock.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def import_boto3() -> Any:
    try:
        import boto3
        import botocore.exceptions  # noqa: F401 - the helper needs both
    except ImportError as error:
        raise Refusal(
            f"boto3 is not importable by {sys.executable} ({one_line(error)}): run through ./inv, "
            "which puts its virtualenv first on PATH"
        ) from None
    return boto3


def require_blocked_encryption_types(s3: Any) -> None:
    """The loaded S3 model must know the element, or botocore refuses it (or, patched, drops it)."""
    import botocore

    members = s3.meta.service_model.shape_for("ServerSideEncryptionRule").members
    if "BlockedEncryptionTypes" not in members:
        raise Refusal(
            f"botocore {botocore.__version__} ({os.path.dirname(botocore.__file__)}) is too old: its S3 "
            f"model has no BlockedEncryptionTypes; botocore >= {MIN_BOTOCORE_VERSION} is required"
        )


def identity_session(boto3: Any, environ: Mapping[str, str], clock: Clock = SYSTEM_CLOCK) -> Any:
    """A boto3 session acting as the provider's principal: its profile, then its role."""
    from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

    profile = environ.get(PROFILE_VARIABLE) or None
    role_arn = environ.get(ROLE_ARN_VARIABLE) or None
    region = environ.get("AWS_REGION") or None
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise Refusal(
            f"AWS profile {profile!r} ({PROFILE_VARIABLE}) is in neither the shared config nor the "
            "credentials file; not falling back to the default credential chain"
        ) from None
    if role_arn is None:
        return session

    source = f"profile {profile!r}" if profile else "the default credential chain"
    what = f"assuming role {role_arn} with {source}"
    try:
        sts = session.client("sts")
        response = with_retries(
            what,
            lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME),
            clock,
            codes=ASSUME_ROLE_RETRYABLE_CODES,
            budget_s=ASSUME_ROLE_BUDGET_S,
        )
    except (BotoCoreError, ClientError) as error:
        raise Refusal(f"{what}: {describe(error)}") from None
    credentials = response["Credentials"]
    # The profile stays for its other settings (region, CA bundle, endpoint); the keys are the role's.
    return boto3.Session(
        profile_name=profile,
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def current_rules(s3: Any, bucket: str, clock: Clock) -> list[dict]:
    from botocore.exceptions import ClientError

    def get() -> list[dict]:
        try:
            config = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
        except ClientError as error:
            if error_code(error) == "ServerSideEncryptionConfigurationNotFoundError":
                return [copy.deepcopy(S3_DEFAULT_RULE)]
            raise
        return config["Rules"]

    return with_retries(f"bucket {bucket}", get, clock)


def observed_types(rules: list[dict]) -> set[tuple[str, ...]]:
    return {tuple(rule.get("BlockedEncryptionTypes", {}).get("EncryptionType", [])) for rule in rules}


def render(observed: set[tuple[str, ...]]) -> str:
    return ", ".join(sorted(f"[{', '.join(types)}]" if types else "absent" for types in observed))


def wait_until_read_back(s3: Any, bucket: str, blocked: str, clock: Clock) -> None:
    deadline = clock.monotonic() + READ_BACK_TIMEOUT_S
    while True:
        observed = observed_types(current_rules(s3, bucket, clock))
        if observed == {(blocked,)}:
            return
        remaining = deadline - clock.monotonic()
        if remaining <= 0:
            raise Refusal(
                f"bucket {bucket}: BlockedEncryptionTypes still reads back as {render(observed)} "
                f"{READ_BACK_TIMEOUT_S:.0f} s after PutBucketEncryption, expected [{blocked}]"
            )
        clock.sleep(min(READ_BACK_INTERVAL_S, remaining))


def put_blocked_encryption_types(s3: Any, bucket: str, blocked: str, clock: Clock = SYSTEM_CLOCK) -> None:
    rules = current_rules(s3, bucket, clock)
    for rule in rules:
        rule["BlockedEncryptionTypes"] = {"EncryptionType": [blocked]}
    with_retries(
        f"bucket {bucket}",
        lambda: s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules}),
        clock,
    )
    wait_until_read_back(s3, bucket, blocked, clock)


def run(argv: list[str], environ: Mapping[str, str], clock: Clock) -> str:
    if len(argv) != 2 or not argv[1]:
        raise Refusal("usage: put_blocked_encryption_types.py BUCKET")
    bucket = argv[1]
    blocked = environ.get("BLOCKED_ENCRYPTION_TYPE", "")
    if blocked not in ALLOWED_TYPES:
        raise Refusal(f"BLOCKED_ENCRYPTION_TYPE must be one of {', '.join(ALLOWED_TYPES)}, got {blocked!r}")
    boto3 = import_boto3()
    from botocore.exceptions import BotoCoreError, ClientError

    session = identity_session(boto3, environ, clock)
    try:
        s3 = session.client("s3")
        require_blocked_encryption_types(s3)
        put_blocked_encryption_types(s3, bucket, blocked, clock)
    except (BotoCoreError, ClientError) as error:
        raise Refusal(f"bucket {bucket}: {describe(error)}") from None
    verb = "allowed" if blocked == "NONE" else "blocked"
    return f"bucket {bucket}: SSE-C {verb} (BlockedEncryptionTypes = {blocked})"


def main(argv: list[str], environ: Mapping[str, str] | None = None, clock: Clock = SYSTEM_CLOCK) -> int:
    try:
        print(run(argv, os.environ if environ is None else environ, clock))
    except Refusal as refusal:
        print(f"{PROG}: {refusal}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
