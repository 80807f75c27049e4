"""The aws env's inputs, identity and state: read like Terraform reads them, refused before any change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ssepatterns import envs, tfvars
from ssepatterns.emulator.control import EmulatorConfig
from ssepatterns.errors import ProjectError


def test_tfvars_precedence_is_terraforms(tmp_path: Path) -> None:
    (tmp_path / "terraform.tfvars").write_text(
        'profile = "from-tfvars"\nprefix = "a"\nregion = "eu-west-1"\n'
    )
    (tmp_path / "terraform.tfvars.json").write_text('{"prefix": "b"}')
    (tmp_path / "x.auto.tfvars").write_text('prefix = "c"\n')
    extra = tmp_path / "team.tfvars"
    extra.write_text('allowed_account_ids = ["111122223333"]\nprefix = "d"\n')
    environ = {"TF_VAR_profile": "from-env", "TF_VAR_assume_role_arn": "arn:aws:iam::1:role/x", "HOME": "/"}
    values = tfvars.values(tmp_path, [extra], environ)
    assert values["profile"] == "from-tfvars", "a tfvars file beats TF_VAR_"
    assert values["assume_role_arn"] == "arn:aws:iam::1:role/x", "TF_VAR_ counts when nothing else sets it"
    assert values["prefix"] == "d", "the --var-file given last wins"
    assert values["allowed_account_ids"] == ["111122223333"]
    assert values["region"] == "eu-west-1"


def test_tfvars_bad_file_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tfvars"
    bad.write_text("profile = = 3\n")
    with pytest.raises(ProjectError, match=r"variable file .*bad\.tfvars:1:11: unexpected '='$") as caught:
        tfvars.values(tmp_path, [bad], {})
    assert "\n" not in str(caught.value)
    with pytest.raises(ProjectError, match="variable file .*missing.tfvars not found"):
        tfvars.values(tmp_path, [tmp_path / "missing.tfvars"], {})


def test_tf_var_lists_are_read_as_hcl() -> None:
    values = tfvars.values(Path("/nonexistent"), [], {"TF_VAR_allowed_account_ids": '["111122223333"]'})
    assert envs.Identity.from_values(values).allowed_account_ids == ("111122223333",)


def test_identity_types_are_checked() -> None:
    with pytest.raises(ProjectError, match="allowed_account_ids must be a list"):
        envs.Identity.from_values({"allowed_account_ids": "111122223333"})
    with pytest.raises(ProjectError, match="profile must be a string"):
        envs.Identity.from_values({"profile": 3})


class FakeSts:
    def __init__(self, account: str, arn: str) -> None:
        self.identity = {"Account": account, "Arn": arn}

    def get_caller_identity(self) -> dict[str, str]:
        return self.identity

    def close(self) -> None:
        pass


class FakeSession:
    def __init__(self, account: str, arn: str) -> None:
        self.sts = FakeSts(account, arn)

    def client(self, service: str, **_: Any) -> FakeSts:
        assert service == "sts"
        return self.sts


@pytest.fixture
def caller(monkeypatch: pytest.MonkeyPatch):
    def set_caller(account: str, arn: str | None = None) -> None:
        arn = arn or f"arn:aws:sts::{account}:assumed-role/deployer/s"
        monkeypatch.setattr(envs, "aws_session", lambda *args, **kwargs: FakeSession(account, arn))

    return set_caller


def test_a_wrong_account_is_refused_before_any_change(caller) -> None:
    caller("999988887777")
    identity = envs.Identity(allowed_account_ids=("111122223333",))
    with pytest.raises(ProjectError) as caught:
        envs.check_identity(identity, "eu-west-1", {})
    message = str(caught.value)
    assert message.startswith("refusing to deploy: these credentials are of account 999988887777")
    assert "not in allowed_account_ids (111122223333)" in message and "\n" not in message


def test_an_allowed_account_passes(caller) -> None:
    caller("111122223333")
    identity = envs.Identity(allowed_account_ids=("111122223333",))
    assert envs.check_identity(identity, "eu-west-1", {}) == "111122223333"
    assert envs.check_identity(envs.Identity(), "eu-west-1", {}) == "111122223333", "no list: any account"


def test_state_needs_settings_or_the_documented_opt_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(envs, "AWS_DIR", tmp_path)
    monkeypatch.setattr(envs, "LOCAL_STATE_OVERRIDE", tmp_path / "backend_override.tf")
    with pytest.raises(ProjectError, match=r"run ./inv state-bucket --env aws once per account"):
        envs.aws_backend("eu-west-1", "111122223333", None)
    settings = tmp_path / "backend-111122223333.s3.tfbackend"
    settings.write_text('bucket = "fa-125-111122223333-eu-west-1-tfstate"\nuse_lockfile = true\n')
    backend = envs.aws_backend("ap-southeast-2", "111122223333", None)
    assert backend.init_config == [str(settings), "key=sse-patterns/ap-southeast-2/terraform.tfstate"]
    assert (
        backend.describe()
        == "s3://fa-125-111122223333-eu-west-1-tfstate/sse-patterns/ap-southeast-2/terraform.tfstate"
    )
    with pytest.raises(ProjectError, match="no backend settings for account 222233334444"):
        envs.aws_backend("eu-west-1", "222233334444", None)  # another account's file is not used
    (tmp_path / "backend_override.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    local = envs.aws_backend("eu-west-1", "222233334444", None)
    assert local.init_config == ["path=terraform.eu-west-1.tfstate"], "one local state per region"


def test_a_stray_endpoint_never_reaches_the_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://127.0.0.1:4566")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://127.0.0.1:4566")
    assert not [name for name in envs.aws_process_env() if name.startswith("AWS_ENDPOINT_URL")]
    # Only a Rehearsal object, built in code, points it at an emulator.
    rehearsal = envs.Rehearsal(
        EmulatorConfig(port=4599, state_dir=tmp_path),
        {"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s"},
        tmp_path,
    )
    process_env = envs.aws_process_env(rehearsal)
    assert process_env["AWS_ENDPOINT_URL"] == "https://127.0.0.1:4599"
    assert process_env["AWS_ACCESS_KEY_ID"] == "AKIA"
