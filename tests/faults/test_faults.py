"""Faults survived: a killed apply, an emulator killed after it, drift no plan can see (and a stack of
an older layout of the code, which must move, not be replaced). Each is
injected into a copy of the working tree with its own emulator (the checkout's stack is never
touched), and the next `./inv up` must converge: exit 0, its one-line notice, and the verification
with 0 failed. (The stale remote lock of the aws env is the rehearsal's: `./inv rehearse`.)

The scenario runs in order on one stack, as a user's laptop would meet it: the first test leaves the
stack the second breaks, so they share the module's `world`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ssepatterns.emulator import control
from ssepatterns.paths import REPO_ROOT
from ssepatterns.plumbing import scrubbed_environ
from ssepatterns.working_copy import copy_working_tree

pytestmark = pytest.mark.faults

DRIFTED_BUCKET = "fa-125-sse-s3"
COMMAND_TIMEOUT = 600


# What a clean ./inv verify of the local env passes (engine off): six patterns, the rotation and the
# migration groups on the local engine. Nothing less counts as converged.
CLEAN_VERIFY_PASSES = 69


@dataclass
class World:
    """The copy, its emulator, and how to run ./inv there."""

    root: Path
    cfg: control.EmulatorConfig
    logs: Path
    runs: list[subprocess.Popen[str]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        inherited = scrubbed_environ(("AWS_", "TF_VAR_", "SSE_PATTERNS_"))
        return {**inherited, control.PORT_ENV_VAR: str(self.cfg.port)}

    def start(self, *args: str, log: str) -> subprocess.Popen[str]:
        run = subprocess.Popen(
            ["./inv", *args],
            cwd=self.root,
            env=self.env(),
            stdout=(self.logs / f"{log}.log").open("w"),
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own group: a kill here never reaches pytest
        )
        self.runs.append(run)
        return run

    def inv(self, *args: str, log: str) -> tuple[int, str]:
        proc = self.start(*args, log=log)
        rc = proc.wait(timeout=COMMAND_TIMEOUT)
        return rc, (self.logs / f"{log}.log").read_text()

    def verification(self) -> dict[str, int]:
        report = json.loads((self.root / "build" / "reports" / "verify-local.json").read_text())
        return {key: report["summary"][key] for key in ("passed", "failed")}


@pytest.fixture(scope="module")
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    folder = Path(tempfile.mkdtemp(prefix="sse-faults-"))
    root = folder / "checkout"
    copy_working_tree(REPO_ROOT, root)
    logs = folder / "logs"
    logs.mkdir()
    cfg = control.EmulatorConfig(port=control.free_port(), state_dir=root / ".ministack")
    world = World(root, cfg, logs)
    try:
        yield world
    finally:
        for run in world.runs:  # interrupted mid-run (the stage beside failed): nothing left running
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()
        control.stop(cfg)
        if request.session.testsfailed:
            print(f"fault logs kept: {logs}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _terraform_pids(workdir: Path) -> list[int]:
    """terraform processes (not their providers) running in `workdir`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if Path(argv[0].decode()).name == "terraform" and Path(cwd) == workdir:
            found.append(int(entry.name))
    return found


def _wait_for(path: Path, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} did not appear in {path} within {timeout:g}s")


def test_a_killed_apply_then_up_converges(world: World) -> None:
    run = world.start("up", log="up-killed")
    # Killed while a function is being made (the provider polls it for seconds until it is Active): the
    # emulator has it, the state does not, so a plain re-apply fails ("Function already exist").
    _wait_for(world.logs / "up-killed.log", 'aws_lambda_function.this["upload"]: Creating...', timeout=300)
    time.sleep(1)
    pids = _terraform_pids(world.root / "terraform" / "envs" / "local")
    assert pids, "no terraform apply to kill"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    assert run.wait(timeout=60) != 0

    rc, out = world.inv("up", log="up-after-killed-apply")
    assert rc == 0, out[-3000:]
    assert "a terraform run was killed mid-way (OperationTypeApply" in out
    assert "deploying afresh" in out
    assert world.verification() == {"passed": CLEAN_VERIFY_PASSES, "failed": 0}


def test_b_emulator_killed_and_drift_then_up_converges(world: World) -> None:
    pid = json.loads(world.cfg.pid_file.read_text())["pid"]
    os.killpg(pid, signal.SIGKILL)
    rc, out = world.inv("emulator.start", log="start-after-kill")
    assert rc == 0, out
    assert f"the previous emulator (pid {pid}) was not stopped cleanly" in out
    with control.clients(world.cfg) as clients:  # as the emulator's root, out of band: SSE-C unblocked
        s3 = clients("s3")
        configuration = s3.get_bucket_encryption(Bucket=DRIFTED_BUCKET)["ServerSideEncryptionConfiguration"]
        for rule in configuration["Rules"]:
            rule["BlockedEncryptionTypes"] = {"EncryptionType": ["NONE"]}
        s3.put_bucket_encryption(Bucket=DRIFTED_BUCKET, ServerSideEncryptionConfiguration=configuration)

    rc, out = world.inv("up", log="up-after-crash-and-drift")
    assert rc == 0, out[-3000:]
    assert f"the emulator (pid {pid}) was not stopped cleanly; its state as saved" in out
    assert f"drift: {DRIFTED_BUCKET} has BlockedEncryptionTypes NONE" in out
    assert '["sse_s3"].terraform_data.sse_c_encryption_type will be replaced, as requested' in out
    assert world.verification() == {"passed": CLEAN_VERIFY_PASSES, "failed": 0}


def test_c_a_stack_deployed_before_the_key_buckets_had_their_own_call_moves_unreplaced(world: World) -> None:
    """The buckets of the customer managed key were instances of module.bucket: a stack deployed then
    records them there. Its state is this stack's with those addresses; the plan must move them (the
    `moved` blocks of the sse-patterns module) and replace nothing."""
    state_file = world.root / "terraform" / "envs" / "local" / "terraform.tfstate"
    state = json.loads(state_file.read_text())
    new, old = "module.sse_patterns.module.customer_managed_key_bucket[", "module.sse_patterns.module.bucket["
    # The two key buckets of that layout (sse_kms_bucket_key came later, in its own call from the start).
    renames = {f'{new}"{key}"]': f'{old}"{key}"]' for key in ("sse_kms_cmk", "dsse_kms")}

    def renamed(address: str) -> str:
        for before, after in renames.items():
            if address.startswith(before):
                return after + address[len(before) :]
        return address

    moved = 0
    for resource in state["resources"]:
        if "module" in resource and renamed(resource["module"]) != resource["module"]:
            resource["module"] = renamed(resource["module"])
            moved += resource["mode"] == "managed"
        for instance in resource["instances"]:
            instance["dependencies"] = [renamed(dep) for dep in instance.get("dependencies", [])]
    assert moved == 12, f"expected 6 managed resources in each of the 2 key buckets, found {moved}"
    state["serial"] += 1
    state_file.write_text(json.dumps(state, indent=2))

    rc, out = world.inv("plan", log="plan-after-the-split")
    assert rc == 0, out[-3000:]
    assert out.count(f"has moved to {new}") == 12, out[-3000:]
    assert "Plan: 0 to add, 0 to change, 0 to destroy." in out, out[-3000:]
