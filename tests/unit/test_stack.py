"""The workflow's choices: init only when needed, offline when a mirror exists, a clear error when no
provider can be had."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from ssepatterns import stack
from ssepatterns.envs import Backend, Env
from ssepatterns.errors import ProjectError
from ssepatterns.terraform import TerraformError


class FakeTerraform:
    def __init__(self, needs_init: bool, init_error: Exception | None = None) -> None:
        self._needs_init, self.init_error, self.inits = needs_init, init_error, []

    def require_version(self) -> None:
        pass

    def needs_init(self, backend_config: object = (), backend: bool = True) -> bool:
        return self._needs_init

    def init(self, plugin_dir: Path | None = None, **_backend: object) -> None:
        self.inits.append(plugin_dir)
        if self.init_error:
            raise self.init_error


def test_no_init_when_the_working_directory_is_current(monkeypatch):
    tf = FakeTerraform(needs_init=False)
    stack._ensure_init("local", tf, {})
    assert tf.inits == []


def test_init_is_offline_with_the_mirror_found(monkeypatch, tmp_path):
    monkeypatch.setattr(stack, "find_provider_mirror", lambda env: tmp_path)
    tf = FakeTerraform(needs_init=True)
    stack._ensure_init("local", tf, {})
    assert tf.inits == [tmp_path]


def test_no_mirror_and_no_registry_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(stack, "find_provider_mirror", lambda env: None)
    registry_down = TerraformError(
        "terraform init failed (exit 1)", output="Failed to query available provider packages"
    )
    tf = FakeTerraform(needs_init=True, init_error=registry_down)
    with pytest.raises(
        ProjectError, match=r"no provider available: hashicorp/aws 5\.100\.0 is in no filesystem mirror"
    ) as caught:
        stack._ensure_init("local", tf, {"HOME": "/nonexistent"})
    assert "SSE_PATTERNS_PROVIDER_MIRROR" in str(caught.value) and "/opt/tf-plugins" in str(caught.value)
    assert tf.inits == [None]  # it did try the registry


class _NoTerraform:
    def state_pull(self) -> str:
        raise AssertionError("the local backend's state is read from its file, not pulled")


class _PullingTerraform:
    def state_pull(self) -> str:
        return "pulled"


def test_the_local_backends_state_is_its_file_and_a_remote_one_is_pulled(tmp_path: Path) -> None:
    env = Env(name="local", workdir=tmp_path, process_env={}, variables={"region": "us-east-1"})
    assert stack.state_text(env, _NoTerraform()) == ""  # type: ignore[arg-type]  # before the first apply
    (tmp_path / "terraform.tfstate").write_text('{"resources": []}')
    assert stack.state_text(env, _NoTerraform()) == '{"resources": []}'  # type: ignore[arg-type]
    remote = replace(env, backend=Backend(tmp_path / "settings.tfbackend", "key"))
    assert stack.state_text(remote, _PullingTerraform()) == "pulled"  # type: ignore[arg-type]


class _OutputsTerraform(_PullingTerraform):
    workdir = Path(".")

    def outputs(self) -> dict[str, object]:
        return {"from": "terraform"}

    def init(self, *args: object, **kwargs: object) -> None:
        pass


def test_outputs_come_from_the_local_state_file_unless_another_workspace_is_selected(tmp_path: Path) -> None:
    env = Env(name="local", workdir=tmp_path, process_env={}, variables={"region": "us-east-1"})
    assert stack.outputs(env, _NoTerraform()) == {}  # type: ignore[arg-type]  # nothing applied yet
    state = {
        "outputs": {
            "region": {"value": "us-east-1", "type": "string"},
            "k": {"value": "s", "sensitive": True},
        }
    }
    (tmp_path / "terraform.tfstate").write_text(json.dumps(state))
    assert stack.outputs(env, _NoTerraform()) == {"region": "us-east-1", "k": "s"}  # type: ignore[arg-type]
    (tmp_path / ".terraform").mkdir()
    (tmp_path / ".terraform" / "environment").write_text("staging")
    assert stack.state_text(env, _PullingTerraform()) == "pulled"  # type: ignore[arg-type]
    (tmp_path / "terraform.tfstate").write_text("{broken")
    (tmp_path / ".terraform" / "environment").write_text("default")
    with pytest.raises(ProjectError, match="could not read the outputs in"):
        stack.outputs(env, _NoTerraform())  # type: ignore[arg-type]
