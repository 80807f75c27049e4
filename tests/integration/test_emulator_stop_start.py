"""Emulator process management on a real emulator: its state survives a stop and a start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ssepatterns.emulator import control
from ssepatterns.emulator.control import EmulatorConfig
from ssepatterns.errors import ProjectError
from ssepatterns.plumbing import Clients


@pytest.fixture
def cfg(tmp_path: Path) -> EmulatorConfig:
    return EmulatorConfig(port=control.free_port(), state_dir=tmp_path / "state")


@pytest.fixture
def clients(cfg: EmulatorConfig) -> Iterator[Clients]:
    """Root clients of the emulator; closed at the end (an idle keep-alive slows the shutdown)."""
    with control.clients(cfg) as made:
        yield made


@pytest.mark.emulator
def test_state_survives_stop_and_start(cfg: EmulatorConfig, clients: Clients) -> None:
    try:
        assert control.start(cfg).startswith("emulator started")
        assert control.start(cfg).startswith("emulator already running")
        state = control.status(cfg)
        assert (state.running, state.healthy, state.endpoint) == (True, True, cfg.endpoint)
        with pytest.raises(ProjectError, match=rf"already running on port {cfg.port}"):
            control.start(EmulatorConfig(port=control.free_port(), state_dir=cfg.state_dir))

        bundle = cfg.ca_bundle.read_text()
        assert cfg.tls_cert.read_text() in bundle and bundle.count("BEGIN CERTIFICATE") > 1  # + system roots

        s3, iam = clients("s3"), clients("iam")
        s3.create_bucket(Bucket="survivor")
        s3.put_object(Bucket="survivor", Key="k", Body=b"kept")
        iam.create_user(UserName="survivor")
        s3.close()
        iam.close()

        assert control.stop(cfg).startswith("emulator stopped")
        assert control.stop(cfg) == "emulator is not running"
        assert control.status(cfg).running is False

        control.start(cfg)
        s3, iam = clients("s3"), clients("iam")
        assert s3.get_object(Bucket="survivor", Key="k")["Body"].read() == b"kept"
        assert iam.get_user(UserName="survivor")["User"]["UserName"] == "survivor"
        s3.close()
        iam.close()
    finally:
        control.stop(cfg)
