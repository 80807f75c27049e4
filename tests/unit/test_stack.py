"""The workflow's choices: init only when needed, offline when a mirror exists, a clear error when no
provider can be had."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssepatterns import stack
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
