"""Fixtures of the post-apply suite: the deployed stack and the principal under test.

The reporting machinery is the plugin ssepatterns.verify.plugin, loaded with pytest_plugins (pytest
accepts that in this conftest because it loads it at start-up: ./inv verify names tests/postapply on
the command line). Run through `./inv verify` (or `./inv up`), which passes --sse-env and the report paths.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

import ssepatterns.sse_c  # noqa: F401 - lambda_src/shared on sys.path: the checks import its helpers
from ssepatterns.envs import from_spec, resolve
from ssepatterns.errors import ProjectError
from ssepatterns.reencrypt.run import deployed_engines
from ssepatterns.sse_c import sse_c_key as key_material
from ssepatterns.sse_c import sse_c_secret
from ssepatterns.verify import patterns
from ssepatterns.verify.plugin import TARGET, live_printer
from ssepatterns.verify.target import Target, open_target

pytest_plugins = ["ssepatterns.verify.plugin"]  # its hooks, and the verify and run_prefix fixtures

PATTERNS = pytest.StashKey[list[patterns.Pattern]]()


def _target(config: pytest.Config) -> Target:
    """The stack under test, opened once: at collection (the patterns to check) or by the fixture."""
    if TARGET not in config.stash:
        try:
            spec_file = config.getoption("--sse-target")
            spec = json.loads(Path(spec_file).read_text(encoding="utf-8")) if spec_file else None
            env = from_spec(spec) if spec else resolve(config.getoption("--sse-env"))
            # ./inv verify passes the outputs it read; run alone, the suite reads them itself.
            outputs = spec.get("outputs") if spec else None
            opened = open_target(env, out=live_printer(config), outputs=outputs)
            config.stash[PATTERNS] = patterns.deployed(opened.outputs)
        except ProjectError as error:
            pytest.exit(f"cannot verify: {error}", returncode=2)
        config.stash[TARGET] = opened
    return config.stash[TARGET]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A check marked over_patterns runs once per deployed pattern it selects (verify.patterns); one
    that uses the `engine` fixture, once per re-encryption engine the stack can run."""
    if "engine" in metafunc.fixturenames:
        engines = deployed_engines(_target(metafunc.config).outputs)
        metafunc.parametrize("engine", engines, ids=engines, scope="module")
    marker = metafunc.definition.get_closest_marker("over_patterns")
    if marker is None:
        return
    _target(metafunc.config)
    chosen = [pattern for pattern in metafunc.config.stash[PATTERNS] if marker.args[0](pattern)]
    if not chosen:  # an empty parameter set would be a skip, and a skipped check has not passed
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: no deployed pattern is one it checks")
    metafunc.parametrize("pattern", chosen, ids=[pattern.id for pattern in chosen])


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    opened = _target(request.config)
    yield opened
    opened.close()


# --- shared fixtures of the checks ----------------------------------------------------------------


@pytest.fixture(scope="session")
def outputs(target: Target) -> dict:
    return target.outputs


@pytest.fixture(scope="session")
def buckets(outputs) -> dict[str, str]:
    """Bucket name by pattern."""
    return {pattern: bucket["name"] for pattern, bucket in outputs["buckets"].items()}


@pytest.fixture(scope="session")
def s3(target: Target):
    return target.client("s3")


@pytest.fixture(scope="session")
def sse_c_key(target: Target, outputs) -> str:
    """The SSE-C key, read as the principal under test. Never printed, never reported."""
    secrets = target.client("secretsmanager")
    return secrets.get_secret_value(SecretId=outputs["sse_c_key_secret"]["arn"])["SecretString"]


@pytest.fixture(scope="session")
def write_sse_c(target: Target, s3, buckets, outputs) -> Callable[[str, int], bytes]:
    """write(key, size=256): an object in the SSE-C bucket as the upload function writes one (the key
    current at that moment, its version tag); returns the body."""
    secrets = target.client("secretsmanager")

    def write(key: str, size: int = 256) -> bytes:
        current = sse_c_secret.fetch_key(secrets, outputs["sse_c_key_secret"]["arn"])
        body = (key.encode() * (size // len(key) + 1))[:size]
        s3.put_object(
            Bucket=buckets["sse_c"],
            Key=key,
            Body=body,
            Tagging=sse_c_secret.version_tagging(current.version_id),
            **key_material.sse_c_params(current.secret_string),
        )
        return body

    return write


@pytest.fixture(scope="session", autouse=True)
def cleanup(target: Target, buckets, outputs, run_prefix):  # run_prefix: the plugin's fixture
    """Delete what the suite wrote (and the functions' object), so a second run starts the same."""
    yield
    s3 = target.client("s3")
    for name in buckets.values():
        listed = s3.list_objects_v2(Bucket=name, Prefix=run_prefix).get("Contents", [])
        for obj in listed:
            s3.delete_object(Bucket=name, Key=obj["Key"])
    s3.delete_object(Bucket=buckets["sse_c"], Key=outputs["functions"]["object_key"])
