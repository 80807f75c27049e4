"""Emulator process management: configuration, environment, errors (a real stop/start cycle:
tests/integration/test_emulator_stop_start.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from ssepatterns.emulator import control
from ssepatterns.emulator.control import EmulatorConfig
from ssepatterns.errors import ProjectError
from ssepatterns.paths import EMULATOR_STATE_DIR

ROOT_KEY = "test"  # MiniStack's root access key id and secret


@pytest.fixture
def cfg(tmp_path: Path) -> EmulatorConfig:
    return EmulatorConfig(port=control.free_port(), state_dir=tmp_path / "state")


# --------------------------------------------------------------------------- configuration


def test_config_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(control.PORT_ENV_VAR, raising=False)
    monkeypatch.delenv(control.STATE_DIR_ENV_VAR, raising=False)
    cfg = EmulatorConfig.from_env()
    assert (cfg.port, cfg.state_dir, cfg.region) == (4566, EMULATOR_STATE_DIR, "us-east-1")
    assert cfg.endpoint == "https://127.0.0.1:4566"
    assert cfg.ca_bundle.parent == cfg.pid_file.parent == cfg.log_file.parent == EMULATOR_STATE_DIR


def test_config_state_dir_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv(control.STATE_DIR_ENV_VAR, str(tmp_path))
    assert EmulatorConfig.from_env().state_dir == tmp_path.resolve()


def test_config_port_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(control.PORT_ENV_VAR, " 4700 ")
    assert EmulatorConfig.from_env().endpoint == "https://127.0.0.1:4700"


@pytest.mark.parametrize("raw", ["abc", "4566.0", "80", "1023", "65536", "-1"])
def test_config_rejects_bad_port(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(control.PORT_ENV_VAR, raw)
    with pytest.raises(ProjectError, match=rf"^{control.PORT_ENV_VAR} must be an integer from 1024 to 65535"):
        EmulatorConfig.from_env()


def test_client_env_is_exactly_the_root_client_settings(cfg: EmulatorConfig) -> None:
    assert control.client_env(cfg) == {
        "AWS_ACCESS_KEY_ID": ROOT_KEY,
        "AWS_SECRET_ACCESS_KEY": ROOT_KEY,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": cfg.endpoint,
        "AWS_CA_BUNDLE": str(cfg.ca_bundle),
    }


def test_emulator_env_is_sanitised(cfg: EmulatorConfig) -> None:
    inherited = {
        "PATH": "/usr/bin",
        "AWS_ACCESS_KEY_ID": "AKIAUSERSOWNKEY",
        "AWS_PROFILE": "prod",
        "AWS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt",
        "REQUESTS_CA_BUNDLE": "x",
        "SSL_CERT_FILE": "x",
        "USE_SSL": "0",
        "GATEWAY_PORT": "1",
    }
    env = control.emulator_env(cfg, inherited)
    assert not [name for name in env if name.startswith("AWS_")]
    assert "REQUESTS_CA_BUNDLE" not in env and "SSL_CERT_FILE" not in env
    assert env["PATH"] == "/usr/bin"
    assert env["GATEWAY_PORT"] == str(cfg.port)
    assert (env["BIND_HOST"], env["AUTH"], env["USE_SSL"]) == ("127.0.0.1", "true", "1")
    assert env["PERSIST_STATE"] == env["S3_PERSIST"] == "1"
    assert env["TMPDIR"] == str(cfg.state_dir / "tmp")


# --------------------------------------------------------------------------- errors and idempotence


def test_start_refuses_a_port_held_by_another_process(cfg: EmulatorConfig) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", cfg.port))
        holder.listen()
        expected = (
            f"port {cfg.port} on 127.0.0.1 is in use by another process; "
            "stop it or set SSE_PATTERNS_EMULATOR_PORT to a free port"
        )
        with pytest.raises(ProjectError) as caught:
            control.start(cfg)
    assert str(caught.value) == expected
    assert not cfg.pid_file.exists()


def test_stop_when_not_running(cfg: EmulatorConfig) -> None:
    assert control.stop(cfg) == "emulator is not running"
    assert control.stop(cfg) == "emulator is not running"


def _gone_pid() -> int:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(gone.stdout)


def test_a_stale_pid_file_is_kept_until_start_records_the_unclean_stop(cfg: EmulatorConfig) -> None:
    cfg.state_dir.mkdir(parents=True)
    pid = _gone_pid()
    cfg.pid_file.write_text(json.dumps({"pid": pid, "port": cfg.port}))
    assert control.status(cfg).running is False
    assert (
        control.stop(cfg) == "emulator is not running (it was not stopped cleanly: the next start says more)"
    )
    assert cfg.pid_file.exists()  # the sign of the unclean stop survives status and stop
    try:
        message = control.start(cfg, timeout=60)
        assert (
            f"the previous emulator (pid {pid}) was not stopped cleanly: its state is as last saved (never)"
            in message
        )
        assert json.loads(cfg.unclean_stop_file.read_text())["pid"] == pid
        assert json.loads(cfg.pid_file.read_text())["pid"] != pid
    finally:
        control.stop(cfg)


def test_a_recycled_pid_is_never_signalled(cfg: EmulatorConfig) -> None:
    # The pid file names a live process that is not the emulator (this one): leave it alone.
    cfg.state_dir.mkdir(parents=True)
    cfg.pid_file.write_text(json.dumps({"pid": os.getpid(), "port": cfg.port}))
    assert control.stop(cfg).startswith("emulator is not running")
    assert control.status(cfg).running is False


def _wait_port_free(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            control._ensure_port_free(port)
            return
        except ProjectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_what_was_saved_survives_a_kill_and_nothing_after(cfg: EmulatorConfig) -> None:
    control.start(cfg, timeout=60)
    try:
        client = control.client(cfg, "s3")
        client.create_bucket(Bucket="made-before-the-save")
        control.save(cfg)
        client.create_bucket(Bucket="made-after-the-save")
        client.close()
        saved = control.last_saved(cfg)
        pid = json.loads(cfg.pid_file.read_text())["pid"]
        os.killpg(pid, signal.SIGKILL)
        assert control._wait_gone(pid, 10)  # reaped: it is this process's child
        _wait_port_free(cfg.port)  # the rest of its group lets go of the socket a moment later
        message = control.start(cfg, timeout=60)
        assert f"the previous emulator (pid {pid}) was not stopped cleanly" in message
        assert json.loads(cfg.unclean_stop_file.read_text())["last_saved"] == saved
        client = control.client(cfg, "s3")
        assert [b["Name"] for b in client.list_buckets()["Buckets"]] == ["made-before-the-save"]
        client.close()
    finally:
        control.stop(cfg)


def _running_with_mark(mark: str) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if mark in cmdline.read_text(errors="replace"):
                return True
        except OSError:
            continue
    return False


def test_start_reports_an_emulator_that_exits(cfg: EmulatorConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    script = "import sys; print('line one'); print('cannot start: bad config'); sys.exit(3)"
    monkeypatch.setattr(control, "_LAUNCHER_ARGS", ("-c", script))
    with pytest.raises(ProjectError) as caught:
        control.start(cfg, timeout=20)
    message = str(caught.value)
    assert message.startswith("the emulator exited during start-up (exit code 3)")
    assert message.endswith("line one\ncannot start: bad config")
    assert not cfg.pid_file.exists()


def test_start_gives_up_on_an_emulator_that_never_gets_healthy(
    cfg: EmulatorConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    mark = f"never-healthy-{uuid.uuid4()}"
    monkeypatch.setattr(
        control, "_LAUNCHER_ARGS", ("-c", f"import time; print('{mark}', flush=True); time.sleep(60)")
    )
    with pytest.raises(ProjectError, match=r"^the emulator did not become healthy within 1s") as caught:
        control.start(cfg, timeout=1)
    assert mark in str(caught.value)  # the log tail
    assert not cfg.pid_file.exists()
    assert not _running_with_mark(mark)


def test_logs(cfg: EmulatorConfig) -> None:
    with pytest.raises(ProjectError, match="no emulator log"):
        control.logs(cfg)
    cfg.state_dir.mkdir(parents=True)
    cfg.log_file.write_text("".join(f"line {n}\n" for n in range(10)))
    assert control.logs(cfg, lines=2) == "line 8\nline 9\n"
