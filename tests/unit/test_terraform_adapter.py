"""Pin the command lines, exit-code handling and environment of ssepatterns.terraform.Terraform.

Most tests run a FAKE `terraform` (first on PATH) that records argv, cwd, the TF_*/test env and the content
of any -var-file, then answers with a configured stdout/stderr/exit code. The real terraform, on a
provider-less config (builtin terraform_data), proves the flags work end to end:
tests/integration/test_terraform_round_trip.py.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ssepatterns.errors import ProjectError
from ssepatterns.provider_mirror import terraform_platform
from ssepatterns.terraform import INIT_STAMP, StateLocked, Terraform, _module_calls

FAKE_TERRAFORM = """#!{python}
import json, os, sys
from pathlib import Path

here = Path(__file__).resolve().parent
args = sys.argv[1:]
var_files = {{}}
for arg in args:
    if arg.startswith("-var-file="):
        path = arg.split("=", 1)[1]
        var_files[path] = json.loads(Path(path).read_text())
env = {{k: v for k, v in os.environ.items() if k.startswith(("TF_", "CHECKPOINT_", "SSEP_"))}}
record = {{"argv": args, "cwd": os.getcwd(), "env": env, "var_files": var_files}}
with open(here / "calls.jsonl", "a") as log:
    log.write(json.dumps(record) + "\\n")
reply = json.loads((here / "replies.json").read_text()).get(args[0] if args else "", {{}})
sys.stdout.write(reply.get("stdout", ""))
sys.stderr.write(reply.get("stderr", ""))
sys.exit(reply.get("rc", 0))
"""


@dataclass
class FakeTerraform:
    bin_dir: Path

    def reply(self, subcommand: str, rc: int = 0, stdout: str = "", stderr: str = "") -> None:
        replies_file = self.bin_dir / "replies.json"
        replies = json.loads(replies_file.read_text())
        replies[subcommand] = {"rc": rc, "stdout": stdout, "stderr": stderr}
        replies_file.write_text(json.dumps(replies))

    def calls(self) -> list[dict[str, Any]]:
        log = self.bin_dir / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def last_argv(self) -> list[str]:
        return self.calls()[-1]["argv"]


@pytest.fixture
def fake_tf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeTerraform:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "terraform"
    script.write_text(FAKE_TERRAFORM.format(python=sys.executable))
    script.chmod(0o755)
    (bin_dir / "replies.json").write_text("{}")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    fake = FakeTerraform(bin_dir)
    fake.reply("version", stdout='{"terraform_version": "1.11.4", "platform": "linux_amd64"}')
    return fake


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "env"
    path.mkdir()
    return path


# Flags python-terraform adds by default that are wrong for Terraform 1.11 or for us.
FORBIDDEN = ("-auto-approve", "-force", "-synchronous", "-reconfigure", "-backend=")


def assert_no_bad_defaults(fake: FakeTerraform) -> None:
    for call in fake.calls():
        assert not [arg for arg in call["argv"] if arg.startswith(FORBIDDEN)], call["argv"]


# -- command lines -----------------------------------------------------------------------------------------


def test_init_argv_online_and_offline(fake_tf: FakeTerraform, workdir: Path, tmp_path: Path) -> None:
    tf = Terraform(workdir, echo=False)
    tf.init()
    assert fake_tf.last_argv() == ["init", "-no-color", "-input=false", "-lockfile=readonly"]
    tf.init(plugin_dir=tmp_path / "mirror")
    assert fake_tf.last_argv() == [
        "init",
        "-no-color",
        "-input=false",
        f"-plugin-dir={tmp_path / 'mirror'}",
        "-lockfile=readonly",
    ]
    assert fake_tf.calls()[-1]["cwd"] == str(workdir)
    assert_no_bad_defaults(fake_tf)


@pytest.mark.parametrize(("rc", "has_changes"), [(0, False), (2, True)])
def test_plan_detailed_exitcode(fake_tf: FakeTerraform, workdir: Path, rc: int, has_changes: bool) -> None:
    fake_tf.reply("plan", rc=rc)
    out = workdir / "build" / "env.tfplan"
    assert Terraform(workdir, echo=False).plan(out) is has_changes
    assert fake_tf.last_argv() == ["plan", f"-out={out}", "-input=false", "-no-color", "-detailed-exitcode"]


def test_plan_failure_is_project_error_with_stderr_tail(fake_tf: FakeTerraform, workdir: Path) -> None:
    fake_tf.reply("plan", rc=1, stderr="Warning: noise\n\nError: Invalid reference\n\n  on main.tf line 3\n")
    out = workdir / "env.tfplan"
    out.write_text("an older plan")
    with pytest.raises(ProjectError) as caught:
        Terraform(workdir, echo=False).plan(out)
    message = str(caught.value)
    assert message.startswith(f"terraform plan failed (exit 1) in {workdir}:\nError: Invalid reference")
    assert "on main.tf line 3" in message and "noise" not in message
    assert not out.exists(), "a stale plan must not survive a failed plan"


def test_plan_variables_travel_in_a_private_var_file(fake_tf: FakeTerraform, workdir: Path) -> None:
    tricky = {"name": "a b'c\"d $HOME `x` ${var.y} %{if} \\n\n ü=,;", "empty": ""}
    fake_tf.reply("plan", rc=2)
    user_file = workdir / "team.tfvars.json"
    user_file.write_text('{"prefix": "team"}')
    Terraform(workdir, echo=False).plan(
        workdir / "p.tfplan", tricky, var_files=[user_file], lock_timeout="0s"
    )
    call = fake_tf.calls()[-1]
    var_file_args = [arg for arg in call["argv"] if arg.startswith("-var-file=")]
    assert var_file_args[0] == f"-var-file={user_file}", "./inv's resolved values come last: they win"
    assert len(var_file_args) == 2
    var_file = var_file_args[1].split("=", 1)[1]
    assert call["var_files"][var_file] == tricky  # every character survives, via JSON
    assert not Path(var_file).exists(), "the temporary var file (secrets) is removed after the run"
    assert not any("$HOME" in arg for arg in call["argv"]), "values never go on the command line"
    assert "-lock-timeout=0s" in call["argv"]
    assert "-detailed-exitcode" in call["argv"] and "-input=false" in call["argv"]


def test_apply_saved_plan_sends_no_auto_approve(fake_tf: FakeTerraform, workdir: Path) -> None:
    plan = workdir / "p.tfplan"
    plan.write_text("plan")
    tf = Terraform(workdir, echo=False)
    tf.apply(plan)
    assert fake_tf.last_argv() == ["apply", "-input=false", "-no-color", str(plan)]
    tf.apply(plan, variables={"ephemeral_secret": "s3cr3t"})  # ephemeral variables must be given again
    call = fake_tf.calls()[-1]
    assert call["argv"][-1] == str(plan)
    assert list(call["var_files"].values()) == [{"ephemeral_secret": "s3cr3t"}]
    assert_no_bad_defaults(fake_tf)


def test_apply_missing_plan_file(fake_tf: FakeTerraform, workdir: Path) -> None:
    with pytest.raises(ProjectError, match="saved plan .*missing.tfplan not found"):
        Terraform(workdir, echo=False).apply(workdir / "missing.tfplan")
    assert fake_tf.calls() == []


def test_validate_outputs_show_fmt(fake_tf: FakeTerraform, workdir: Path) -> None:
    tf = Terraform(workdir, echo=False)
    tf.validate()
    assert fake_tf.last_argv() == ["validate", "-no-color"]

    fake_tf.reply("output", stdout='{"bucket": {"sensitive": false, "type": "string", "value": "b-1"}}')
    assert tf.outputs() == {"bucket": "b-1"}
    assert fake_tf.last_argv() == ["output", "-no-color", "-json"]

    fake_tf.reply("fmt", rc=3, stdout="main.tf\nmodules/x/main.tf\n")
    assert tf.fmt_check() == ["main.tf", "modules/x/main.tf"]
    assert fake_tf.last_argv() == ["fmt", "-check", "-list=true", "-recursive", "-no-color"]
    fake_tf.reply("fmt", rc=0)
    assert tf.fmt_check(recursive=False) == []
    assert fake_tf.last_argv() == ["fmt", "-check", "-list=true", "-no-color"]
    fake_tf.reply("fmt", rc=2, stderr="Error: Missing newline after argument\n")
    with pytest.raises(ProjectError, match="terraform fmt failed \\(exit 2\\)"):
        tf.fmt_check()
    assert_no_bad_defaults(fake_tf)


def test_unparsable_output_is_project_error(fake_tf: FakeTerraform, workdir: Path) -> None:
    fake_tf.reply("output", stdout="not json")
    with pytest.raises(ProjectError, match="could not parse `terraform output -json`"):
        Terraform(workdir, echo=False).outputs()


# -- version and missing terraform ---------------------------------------------------------------------------


def test_version_parsed_and_cached(fake_tf: FakeTerraform, workdir: Path) -> None:
    tf = Terraform(workdir, echo=False)
    assert tf.version() == (1, 11, 4)
    tf.require_version()
    assert [call["argv"] for call in fake_tf.calls()] == [["version", "-json"]]


def test_too_old_terraform(fake_tf: FakeTerraform, workdir: Path) -> None:
    fake_tf.reply("version", stdout='{"terraform_version": "1.9.8"}')
    with pytest.raises(ProjectError, match=r"^Terraform 1\.11\.0 or newer is required \(found 1\.9\.8\)"):
        Terraform(workdir, echo=False).require_version()


def test_garbled_version(fake_tf: FakeTerraform, workdir: Path) -> None:
    fake_tf.reply("version", stdout="Terraform v1.11.4")
    with pytest.raises(ProjectError, match="could not read the version"):
        Terraform(workdir, echo=False).version()


def test_terraform_missing(workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(ProjectError, match="^terraform not found on PATH; install Terraform >= 1.11 from"):
        Terraform(workdir, echo=False).version()


def test_missing_workdir(fake_tf: FakeTerraform, tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="directory .*nowhere does not exist"):
        Terraform(tmp_path / "nowhere", echo=False).validate()


# -- environment and echo ------------------------------------------------------------------------------------


def test_child_env(
    fake_tf: FakeTerraform, workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tmp_path / "does-not-exist.rc"))
    monkeypatch.setenv("SSEP_FROM_CALLER", "kept")
    monkeypatch.delenv("TF_IN_AUTOMATION", raising=False)
    before = dict(os.environ)
    tf = Terraform(workdir, env={"SSEP_ENDPOINT": "https://127.0.0.1:4566/?a=b&c='d'"}, echo=False)
    tf.validate()
    env = fake_tf.calls()[-1]["env"]
    assert env["TF_IN_AUTOMATION"] == "1" and env["CHECKPOINT_DISABLE"] == "1"
    assert env["SSEP_ENDPOINT"] == "https://127.0.0.1:4566/?a=b&c='d'"
    assert env["SSEP_FROM_CALLER"] == "kept"
    assert "TF_CLI_CONFIG_FILE" not in env
    assert dict(os.environ) == before, "the caller's environment is never modified"


def test_existing_cli_config_file_is_kept(
    fake_tf: FakeTerraform, workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rc_file = tmp_path / "terraform.rc"
    rc_file.write_text("")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(rc_file))
    Terraform(workdir, echo=False).validate()
    assert fake_tf.calls()[-1]["env"]["TF_CLI_CONFIG_FILE"] == str(rc_file)


def test_echo_streams_human_output_but_not_data_or_env_values(
    fake_tf: FakeTerraform, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_tf.reply("validate", stdout="Success! The configuration is valid.\n", stderr="Warning: w\n")
    fake_tf.reply("output", stdout='{"o": {"sensitive": true, "type": "string", "value": "hunter2"}}')
    tf = Terraform(workdir, env={"SSEP_SECRET": "do-not-print"})
    tf.validate()
    assert tf.outputs() == {"o": "hunter2"}
    captured = capsys.readouterr()
    assert "$ terraform validate -no-color\nSuccess! The configuration is valid.\n" in captured.out
    assert "Warning: w" in captured.err
    assert "$ terraform output -no-color -json" in captured.out
    assert captured.out.count(", exit 0)") == 2  # elapsed time and exit code after each command
    assert "hunter2" not in captured.out + captured.err
    assert "do-not-print" not in captured.out + captured.err


def test_quiet_when_echo_off(
    fake_tf: FakeTerraform, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_tf.reply("validate", stdout="Success!\n", stderr="Warning: w\n")
    Terraform(workdir, echo=False).validate()
    assert capsys.readouterr() == ("", "")


# -- needs_init ----------------------------------------------------------------------------------------------

LOCK = """provider "registry.terraform.io/hashicorp/aws" {
  version     = "5.100.0"
  constraints = "5.100.0"
  hashes = [
    "h1:abc=",
  ]
}
"""
MODULE_CALL = """module "bucket" {
  source = "../modules/bucket"
}
"""


def test_needs_init_follows_lock_file_providers_and_modules(fake_tf: FakeTerraform, tmp_path: Path) -> None:
    workdir = tmp_path / "envs" / "local"
    module_dir = tmp_path / "envs" / "modules" / "bucket"
    module_dir.mkdir(parents=True)
    workdir.mkdir()
    (workdir / ".terraform.lock.hcl").write_text(LOCK)
    (workdir / "main.tf").write_text(MODULE_CALL)
    (module_dir / "main.tf").write_text('module "inner" { source = "./inner" }\n')
    (module_dir / "inner").mkdir()
    tf = Terraform(workdir, echo=False)
    assert tf.needs_init(), "never initialised"

    tf.init()  # the fake installs nothing
    assert json.loads((workdir / ".terraform" / INIT_STAMP).read_text())["modules"] == [
        ["bucket", "../modules/bucket", ""],
        ["bucket.inner", "./inner", ""],
    ]
    assert tf.needs_init(), "locked provider not installed"
    provider = (
        workdir / ".terraform/providers/registry.terraform.io/hashicorp/aws/5.100.0" / terraform_platform()
    )
    provider.mkdir(parents=True)
    assert tf.needs_init(), "modules not installed"
    modules = [
        {"Key": "", "Source": "", "Dir": "."},
        {"Key": "bucket", "Source": "../modules/bucket", "Dir": "../modules/bucket"},
        {"Key": "bucket.inner", "Source": "./inner", "Dir": "../modules/bucket/inner"},
    ]
    (workdir / ".terraform/modules").mkdir()
    (workdir / ".terraform/modules/modules.json").write_text(json.dumps({"Modules": modules}))
    assert not tf.needs_init()

    (workdir / "main.tf").write_text(MODULE_CALL + "\n" + MODULE_CALL.replace('"bucket"', '"other"'))
    assert tf.needs_init(), "a module call was added"
    (workdir / "main.tf").write_text(MODULE_CALL)
    assert not tf.needs_init()

    (workdir / ".terraform.lock.hcl").write_text(LOCK.replace("h1:abc=", "h1:xyz="))
    assert tf.needs_init(), "lock file changed (e.g. git pull)"
    tf.init()
    assert not tf.needs_init()

    fake_tf.reply("init", rc=1, stderr="Error: Failed to query available provider packages\n")
    with pytest.raises(ProjectError, match="terraform init failed"):
        tf.init()
    assert tf.needs_init(), "a failed init leaves the directory needing init"


def test_module_calls_are_read_as_hcl(tmp_path: Path) -> None:
    """The module calls of the init fingerprint come from python-hcl2's reading of the blocks: a map
    before `source`, a block on one line, a `module` inside a heredoc or a comment, local calls followed."""
    workdir = tmp_path / "env"
    (workdir / "a").mkdir(parents=True)
    (workdir / "main.tf").write_text(
        'module "a" {\n  tags    = { x = "}" }\n  source  = "./a"\n  version = "1.2.0"\n}\n'
        'module "b" { source = "example/b/aws" }\n'
        'locals {\n  doc = <<EOT\nmodule "fake" {\n  source = "./fake"\n}\nEOT\n}\n'
        '# module "commented" { source = "./c" }\n'
    )
    (workdir / "a" / "main.tf").write_text('module "inner" {\n  source = "../b"\n}\n')
    assert _module_calls(workdir) == [
        ("a", "./a", "1.2.0"),
        ("a.inner", "../b", ""),
        ("b", "example/b/aws", ""),
    ]


def test_an_unreadable_tf_file_means_init_again(fake_tf: FakeTerraform, tmp_path: Path) -> None:
    workdir = tmp_path / "env"
    workdir.mkdir()
    (workdir / "main.tf").write_text('module "a" {\n  source = "./a"\n')  # never closed
    assert _module_calls(workdir) == [(f"?{workdir / 'main.tf'}", "", "")]
    tf = Terraform(workdir, echo=False)
    tf.init()
    assert tf.needs_init(), "terraform init is the one to say what is wrong with main.tf"


def test_destroy_is_one_command_without_force(fake_tf: FakeTerraform, workdir: Path) -> None:
    """python-terraform's destroy() sends -force (removed in Terraform 1.x); ours sends -auto-approve."""
    Terraform(workdir, echo=False).destroy(variables={"region": "us-east-1"})
    argv = fake_tf.last_argv()
    assert argv[0] == "destroy" and "-auto-approve" in argv and "-input=false" in argv
    assert not any(arg.startswith("-force") for arg in argv), argv


# -- backends, data folders, locks -------------------------------------------------------------------------


def test_init_with_backend_settings_and_without_backend(
    fake_tf: FakeTerraform, workdir: Path, tmp_path: Path
) -> None:
    settings = tmp_path / "backend-111122223333.s3.tfbackend"
    settings.write_text('bucket = "b"\n')
    data_dir = tmp_path / "data" / "aws-eu-west-1"
    tf = Terraform(workdir, echo=False, data_dir=data_dir)
    config = [str(settings), "key=sse-patterns/eu-west-1/terraform.tfstate"]
    tf.init(backend_config=config)
    argv = fake_tf.last_argv()
    assert f"-backend-config={settings}" in argv
    assert "-backend-config=key=sse-patterns/eu-west-1/terraform.tfstate" in argv
    assert "-reconfigure" not in argv, "never drop a recorded backend unasked"
    assert fake_tf.calls()[-1]["env"]["TF_DATA_DIR"] == str(data_dir)
    assert (data_dir / "ssepatterns-init.json").is_file(), "the stamp lives in the data folder"
    # The stamp records the settings by content: a changed file means init again.
    stamp = json.loads((data_dir / "ssepatterns-init.json").read_text())
    settings.write_text('bucket = "other"\n')
    assert stamp["backend"] != tf._init_fingerprint(config)["backend"]

    tf.init(backend=False)
    assert "-backend=false" in fake_tf.last_argv()
    tf.init(backend_config=config, reconfigure=True)
    assert "-reconfigure" in fake_tf.last_argv()


def test_users_tf_data_dir_never_leaks(
    fake_tf: FakeTerraform, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TF_DATA_DIR", "/somewhere/else")
    Terraform(workdir, echo=False).validate()
    assert "TF_DATA_DIR" not in fake_tf.calls()[-1]["env"]


LOCK_ERROR = """
Error: Error acquiring the state lock

Error message: operation error S3: PutObject, https response error StatusCode: 412, RequestID: x,
api error PreconditionFailed: At least one of the pre-conditions you specified did not hold
Lock Info:
  ID:        6a1f0e3c-2b7d-4c11-9a55-0d7a0b7e9f10
  Path:      fa-125-111122223333-eu-west-1-tfstate/sse-patterns/eu-west-1/terraform.tfstate
  Operation: OperationTypeApply
  Who:       alice@laptop
  Version:   1.11.4
  Created:   2026-12-02 07:50:00.123456 +0000 UTC
  Info:

Terraform acquires a state lock to protect the state from being written
by multiple users at the same time. Please resolve the issue above and try
again. For most commands, you can disable locking with the "-lock=false"
flag, but this is not recommended.
"""


def test_lock_conflict_is_one_line_naming_the_lock(fake_tf: FakeTerraform, workdir: Path) -> None:
    fake_tf.reply("plan", rc=1, stderr=LOCK_ERROR)
    with pytest.raises(StateLocked) as caught:
        Terraform(workdir, echo=False).plan(workdir / "p.tfplan", lock_timeout="0s")
    message = str(caught.value)
    assert "\n" not in message
    assert caught.value.lock_id == "6a1f0e3c-2b7d-4c11-9a55-0d7a0b7e9f10"
    for part in (
        "alice@laptop",
        "apply since 2026-12-02 07:50:00",
        "lock id 6a1f0e3c",
        "/sse-patterns/eu-west-1/",
    ):
        assert part in message, (part, message)


def test_planned_changes_from_the_plan_line(fake_tf: FakeTerraform, workdir: Path) -> None:
    tf = Terraform(workdir, echo=False)
    fake_tf.reply("plan", rc=2, stdout="...\nPlan: 3 to add, 1 to change, 2 to destroy.\n")
    assert tf.plan(workdir / "p.tfplan") is True and tf.planned_changes() == 6
    fake_tf.reply("plan", rc=0, stdout="No changes. Your infrastructure matches the configuration.\n")
    assert tf.plan(workdir / "p.tfplan") is False and tf.planned_changes() == 0
