"""A real emulator for the tests that need one: one per test session, on a free port, with a
throw-away state folder (never the checkout's .ministack/), stopped at the end."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ssepatterns.emulator import control
from ssepatterns.emulator.control import EmulatorConfig
from ssepatterns.plumbing import Clients


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass(frozen=True)
class RunningEmulator:
    cfg: EmulatorConfig
    clients: Clients  # closed before the emulator stops, so its shutdown is quick
    port_443_was_open: bool


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """One emulator for this session's shim tests, on a free port, with a throw-away state dir."""
    port_443_was_open = port_open(443)
    cfg = EmulatorConfig(port=control.free_port(), state_dir=tmp_path_factory.mktemp("emulator"))
    control.start(cfg)
    try:
        with control.clients(cfg) as clients:
            yield RunningEmulator(cfg, clients, port_443_was_open)
    finally:
        control.stop(cfg)
