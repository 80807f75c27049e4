"""A real emulator for the tests that need one: one per test session, on a free port, with a
throw-away state folder (never the checkout's .ministack/), stopped at the end."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from ssepatterns.emulator import control
from ssepatterns.emulator.control import EmulatorConfig

ROOT_KEY = "test"  # MiniStack's root access key id and secret


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Clients:
    """boto3 clients against the emulator; closed before it stops so its shutdown is quick."""

    def __init__(self, cfg: EmulatorConfig) -> None:
        self.cfg = cfg
        self._open: list[Any] = []

    def __call__(self, service: str, key: str = ROOT_KEY, secret: str = ROOT_KEY) -> Any:
        client = boto3.session.Session().client(
            service,
            endpoint_url=self.cfg.endpoint,
            region_name=self.cfg.region,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            verify=str(self.cfg.ca_bundle),
        )
        self._open.append(client)
        return client

    def close(self) -> None:
        for client in self._open:
            client.close()


@dataclass(frozen=True)
class RunningEmulator:
    cfg: EmulatorConfig
    clients: Clients
    port_443_was_open: bool


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """One emulator for this session's shim tests, on a free port, with a throw-away state dir."""
    port_443_was_open = port_open(443)
    cfg = EmulatorConfig(port=free_port(), state_dir=tmp_path_factory.mktemp("emulator"))
    control.start(cfg)
    clients = Clients(cfg)
    try:
        yield RunningEmulator(cfg, clients, port_443_was_open)
    finally:
        clients.close()
        control.stop(cfg)
