"""ssepatterns.terraform.Terraform on the real terraform: a provider-less config (builtin terraform_data)
through init, validate, fmt, plan, apply, outputs and destroy, and an error as one ProjectError."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ssepatterns.errors import ProjectError
from ssepatterns.terraform import Terraform

needs_terraform = pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform not on PATH")

TINY_CONFIG = """variable "greeting" {
  type    = string
  default = "hello"
}

resource "terraform_data" "this" {
  input = var.greeting
}

output "greeting" {
  value = terraform_data.this.output
}
"""


@needs_terraform
def test_real_terraform_round_trip(tmp_path: Path) -> None:
    workdir = tmp_path / "env"
    workdir.mkdir()
    (workdir / "main.tf").write_text(TINY_CONFIG)
    tf = Terraform(workdir, env={"TF_CLI_CONFIG_FILE": str(tmp_path / "missing.rc")}, echo=False)
    tf.require_version()
    assert tf.needs_init()
    tf.init()  # builtin provider only: no registry, no mirror
    assert not tf.needs_init()
    tf.validate()
    assert tf.fmt_check() == []

    plan = tmp_path / "build" / "env.tfplan"
    value = "a b'c\"d ${x} %{if} `y` ü"
    assert tf.plan(plan, {"greeting": value}) is True
    tf.apply(plan)
    assert tf.outputs() == {"greeting": value}
    assert tf.plan(plan, {"greeting": value}) is False
    tf.destroy(variables={"greeting": value})
    assert tf.outputs() == {}


@needs_terraform
def test_real_terraform_error_is_project_error(tmp_path: Path) -> None:
    workdir = tmp_path / "env"
    workdir.mkdir()
    (workdir / "main.tf").write_text('output "x" {\n  value = var.nope\n}\n')
    tf = Terraform(workdir, echo=False)
    tf.init()
    with pytest.raises(
        ProjectError, match="terraform validate failed \\(exit 1\\).*\nError: Reference to undeclared"
    ):
        tf.validate()
