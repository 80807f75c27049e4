"""The distributed re-encryption engine on a real emulator: terraform/modules/sse-c-reencrypt applied by
Terraform (a focused root module around it), then a rotation pass and a migration pass through
StepFunctionsEngine over real SSE-C objects, and a failing batch as one clear ProjectError.

The function runs as its own role (MiniStack evaluates that role's identity policy for S3 and
Secrets Manager), so the passes also show that its grants suffice. MiniStack has no ItemBatcher:
each invocation gets one item (docs/emulator.md), the handler's other input shape.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulator_support import RunningEmulator

from ssepatterns import lambda_zip
from ssepatterns.emulator import control
from ssepatterns.errors import ProjectError
from ssepatterns.paths import TERRAFORM_DIR
from ssepatterns.provider_mirror import find_provider_mirror
from ssepatterns.reencrypt.stepfunctions import StepFunctionsEngine, engine_from_outputs
from ssepatterns.sse_c import sse_c_key, sse_c_reencrypt, sse_c_secret
from ssepatterns.terraform import Terraform

pytestmark = [
    pytest.mark.emulator,
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform not on PATH"),
]

OBJECTS = 12
MAX_CONCURRENCY = 4  # two cores here

ROOT = """terraform {{
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = "5.100.0"
    }}
  }}
}}

# Endpoint and CA bundle from the environment (AWS_ENDPOINT_URL, AWS_CA_BUNDLE): the emulator.
provider "aws" {{
  region                      = "{region}"
  s3_use_path_style           = true
  skip_metadata_api_check     = true
  skip_credentials_validation = true
  skip_requesting_account_id  = false
}}

module "engine" {{
  source = "{module}"

  state_machine_name      = "{name}"
  state_machine_role_name = "{name}-map-role"
  function_name           = "{name}"
  function_role_name      = "{name}-function-role"
  package_path            = "{package}"
  source_bucket_arn       = "arn:aws:s3:::{source}"
  destination_bucket_arns = ["arn:aws:s3:::{destination}"]
  kms_key_arn             = "{kms_key_arn}"
  secret_arn              = "{secret_arn}"
  max_concurrency         = {max_concurrency}
}}

output "reencrypt_engine" {{
  value = {{
    state_machine_arn = module.engine.state_machine_arn
    function_name     = module.engine.function_name
    source_bucket     = module.engine.source_bucket
    max_concurrency   = module.engine.max_concurrency
  }}
}}
"""


@dataclass
class World:
    s3: Any
    secrets: Any
    sfn: Any
    source: str
    destination: str
    kms_key_arn: str
    secret_arn: str
    outputs: dict[str, Any]
    bodies: dict[str, bytes]

    def key(self, version: str | None = None) -> sse_c_secret.SseCKey:
        return sse_c_secret.fetch_key(self.secrets, self.secret_arn, version)

    def write(self, name: str, key: sse_c_secret.SseCKey, tag_version: str | None = None) -> None:
        body = (name.encode() * 40)[: 100 + len(self.bodies)]
        self.s3.put_object(
            Bucket=self.source,
            Key=name,
            Body=body,
            ContentType="text/x-test",
            Tagging=sse_c_secret.version_tagging(tag_version or key.version_id),
            **sse_c_key.sse_c_params(key.secret_string),
        )
        self.bodies[name] = body

    def engine(self) -> StepFunctionsEngine:
        made = engine_from_outputs(self.outputs, self.sfn)
        made.poll_seconds = 0.5
        return made


@pytest.fixture(scope="module")
def world(emulator: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("reencrypt-engine")
    s3, secrets, kms = emulator.clients("s3"), emulator.clients("secretsmanager"), emulator.clients("kms")
    suffix = uuid.uuid4().hex[:8]
    source, destination = f"reencrypt-src-{suffix}", f"reencrypt-dst-{suffix}"
    kms_key_arn = kms.create_key(Description="reencrypt engine test")["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=destination)
    s3.put_bucket_encryption(
        Bucket=destination,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": kms_key_arn,
                    }
                }
            ]
        },
    )
    password = secrets.get_random_password(PasswordLength=32, ExcludePunctuation=True, ExcludeUppercase=True)
    secret_arn = secrets.create_secret(Name=f"reencrypt-{suffix}", SecretString=password["RandomPassword"])[
        "ARN"
    ]

    package = lambda_zip.build_package("reencrypt", out_dir=tmp / "lambda")
    root = tmp / "root"
    root.mkdir()
    (root / "main.tf").write_text(
        ROOT.format(
            region=emulator.cfg.region,
            module=(TERRAFORM_DIR / "modules" / "sse-c-reencrypt").as_posix(),
            name=f"reencrypt-{suffix}",
            package=package.path.as_posix(),
            source=source,
            destination=destination,
            kms_key_arn=kms_key_arn,
            secret_arn=secret_arn,
            max_concurrency=MAX_CONCURRENCY,
        )
    )
    # Terraform.init keeps the lock file read-only: the local env's, which pins the mirror's provider.
    shutil.copy(TERRAFORM_DIR / "envs" / "local" / ".terraform.lock.hcl", root / ".terraform.lock.hcl")
    process_env = {**control.client_env(emulator.cfg), "TF_IN_AUTOMATION": "1"}
    tf = Terraform(root, env=process_env, echo=False)
    tf.init(plugin_dir=find_provider_mirror())
    tf.plan(tmp / "engine.tfplan")
    tf.apply(tmp / "engine.tfplan")
    yield World(
        s3,
        secrets,
        emulator.clients("stepfunctions"),
        source,
        destination,
        kms_key_arn,
        secret_arn,
        tf.outputs(),
        {},
    )


def read(world: World, bucket: str, name: str, key: sse_c_secret.SseCKey | None) -> bytes:
    extra = sse_c_key.sse_c_params(key.secret_string) if key else {}
    body: bytes = world.s3.get_object(Bucket=bucket, Key=name, **extra)["Body"].read()
    return body


def test_a_rotation_pass_re_encrypts_every_object_under_the_new_key(world: World) -> None:
    old = world.key()
    for number in range(OBJECTS):
        world.write(f"data/object-{number:02}", old)
    world.s3.put_object(Bucket=world.source, Key=".sse-c-rotation/lock", Body=b"lease")  # never re-encrypted
    new_version = world.secrets.put_secret_value(
        SecretId=world.secret_arn,
        SecretString=world.secrets.get_random_password(
            PasswordLength=32, ExcludePunctuation=True, ExcludeUppercase=True
        )["RandomPassword"],
    )["VersionId"]
    new = world.key(new_version)
    job = sse_c_reencrypt.Job(
        sse_c_reencrypt.ROTATE, world.source, world.source, new.version_id, (old.version_id,)
    )

    result = world.engine().run_pass(job, "data/")

    assert (result.examined, result.copied, result.failed_count, result.unreadable_count) == (
        OBJECTS,
        OBJECTS,
        0,
        0,
    )
    assert result.bytes == sum(len(body) for body in world.bodies.values())
    for name, body in world.bodies.items():
        assert sse_c_secret.key_version_of(world.s3, world.source, name) == new.version_id, name
        assert read(world, world.source, name, new) == body, name
        with pytest.raises(ClientError) as refused:
            read(world, world.source, name, old)
        assert refused.value.response["Error"]["Code"] in sse_c_reencrypt.WRONG_KEY, name
    assert read(world, world.source, ".sse-c-rotation/lock", None) == b"lease"

    again = world.engine().run_pass(job, "data/")  # nothing left: every object is skipped
    assert (again.examined, again.copied, again.skipped) == (OBJECTS, 0, OBJECTS)


def test_a_migration_pass_copies_every_object_to_the_destinations_encryption(world: World) -> None:
    current = world.key()
    job = sse_c_reencrypt.Job(
        sse_c_reencrypt.MIGRATE, world.source, world.destination, None, (current.version_id,)
    )

    result = world.engine().run_pass(job, "data/")

    assert (result.examined, result.copied, result.failed_count) == (OBJECTS, OBJECTS, 0)
    listed = world.s3.list_objects_v2(Bucket=world.destination).get("Contents", [])
    assert sorted(o["Key"] for o in listed) == sorted(world.bodies)
    for name, body in world.bodies.items():
        head = world.s3.head_object(Bucket=world.destination, Key=name)
        assert head["ServerSideEncryption"] == "aws:kms", name
        assert head["SSEKMSKeyId"] == world.kms_key_arn, name
        assert "SSECustomerAlgorithm" not in head, name
        assert head["ContentType"] == "text/x-test", name
        assert read(world, world.destination, name, None) == body, name  # no SSE-C key needed any more
        assert read(world, world.source, name, current) == body, name  # the source is kept

    again = world.engine().run_pass(job, "data/")
    assert (again.copied, again.skipped) == (0, OBJECTS)


def test_a_failing_batch_fails_the_pass_as_one_line(world: World) -> None:
    current = world.key()
    world.write("broken/tagged-with-a-version-that-does-not-exist", current, tag_version=str(uuid.uuid4()))
    job = sse_c_reencrypt.Job(
        sse_c_reencrypt.ROTATE, world.source, world.source, current.version_id, ("gone",)
    )
    with pytest.raises(ProjectError) as raised:
        world.engine().run_pass(job, "broken/")
    message = str(raised.value)
    assert message.startswith("the re-encryption execution rotate-") and " failed: " in message, message
    assert "\n" not in message
    assert current.secret_string not in message
