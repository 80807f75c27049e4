"""An SSE-C bucket and its key secret on the session's emulator (as its root user): what the rotation
and re-encryption tests write into and read back from."""

from __future__ import annotations

import uuid

from botocore.config import Config
from emulator_support import RunningEmulator

from ssepatterns.reencrypt.keys import KeyCache
from ssepatterns.sse_c import sse_c_key, sse_c_secret


class SseCSandbox:
    """A fresh bucket (versioned if asked) and a secret with a generated 32-character key, as the stack's."""

    # Tags written beside the key-version tag (a test of tags kept or replaced sets some).
    other_tagging = ""

    def __init__(
        self, emulator: RunningEmulator, versioned: bool = False, config: Config | None = None
    ) -> None:
        self.emulator = emulator
        self.s3 = emulator.clients("s3", config=config) if config else emulator.clients("s3")
        self.secrets = emulator.clients("secretsmanager")
        self.name = f"{type(self).__name__.lower()}-{uuid.uuid4().hex[:10]}"
        self.s3.create_bucket(Bucket=self.name)
        if versioned:
            self.s3.put_bucket_versioning(Bucket=self.name, VersioningConfiguration={"Status": "Enabled"})
        password = self.secrets.get_random_password(
            PasswordLength=32, ExcludePunctuation=True, ExcludeUppercase=True
        )
        created = self.secrets.create_secret(Name=self.name, SecretString=password["RandomPassword"])
        self.secret_arn: str = created["ARN"]
        self.bodies: dict[str, bytes] = {}
        self.keys = KeyCache(self.secrets, self.secret_arn)

    def current(self) -> sse_c_secret.SseCKey:
        return sse_c_secret.fetch_key(self.secrets, self.secret_arn)

    def write(self, name: str, size: int = 64, body: bytes | None = None, tagged: bool = True) -> None:
        """`name` under the current key, tagged with its version (unless not `tagged`: written by hand)."""
        key = self.current()
        body = body if body is not None else (name.encode() * (size // len(name) + 1))[:size]
        tags = [sse_c_secret.version_tagging(key.version_id)] if tagged else []
        tagging = "&".join(tags + ([self.other_tagging] if self.other_tagging else []))
        self.s3.put_object(
            Bucket=self.name,
            Key=name,
            Body=body,
            ContentType="text/x-test",
            Metadata={"origin": "test"},
            **({"Tagging": tagging} if tagging else {}),
            **sse_c_key.sse_c_params(key.secret_string),
        )
        self.bodies[name] = body

    def read(self, name: str, secret_string: str) -> bytes:
        params = sse_c_key.sse_c_params(secret_string)
        body: bytes = self.s3.get_object(Bucket=self.name, Key=name, **params)["Body"].read()
        return body
