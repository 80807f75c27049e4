"""The machine the bench ran on, for the report: CPUs, memory, kernel, versions, load average."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

from ssepatterns.paths import REPO_ROOT


def machine_info(terraform: str) -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": _proc_field("/proc/cpuinfo", "model name"),
        "memory_gib": None,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "terraform": None,
        "aws_provider": None,
        "ministack": None,
        "load_average_at_start": load_average(),
    }
    memory = _proc_field("/proc/meminfo", "MemTotal")
    if memory and memory.split()[0].isdigit():
        info["memory_gib"] = round(int(memory.split()[0]) / 2**20, 1)
    with contextlib.suppress(OSError, ValueError, KeyError, subprocess.SubprocessError):
        out = subprocess.run(
            [terraform, "version", "-json"], capture_output=True, text=True, timeout=30
        ).stdout
        info["terraform"] = json.loads(out)["terraform_version"]
    lock = REPO_ROOT / "terraform" / "envs" / "local" / ".terraform.lock.hcl"
    with contextlib.suppress(OSError):
        found = re.search(
            r'"registry.terraform.io/hashicorp/aws"\s*\{\s*version\s*=\s*"([^"]+)"', lock.read_text()
        )
        info["aws_provider"] = found[1] if found else None
    with contextlib.suppress(Exception):
        from importlib.metadata import version

        info["ministack"] = version("ministack")
    return info


def _proc_field(path: str, name: str) -> str | None:
    with contextlib.suppress(OSError):
        for line in Path(path).read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == name:
                return value.strip()
    return None


def load_average() -> float | None:
    with contextlib.suppress(OSError, AttributeError):
        return round(os.getloadavg()[0], 2)
    return None
