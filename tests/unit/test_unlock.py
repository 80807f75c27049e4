"""./inv unlock: a killed run's lock is released only when it is still that lock and old enough; the
locked run's error says how (the S3 backend's lock file is read in the rehearsal: ./inv rehearse)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ssepatterns import unlock
from ssepatterns.envs import Env
from ssepatterns.errors import ProjectError
from ssepatterns.terraform import StateLocked

LOCK_ID = "ff1d52cc-74e1-b825-3b35-d0e6c839daeb"
CREATED = "2026-12-03T12:20:21.048024043Z"  # as Terraform writes it: nanoseconds, UTC
TAKEN = dt.datetime(2026, 12, 3, 12, 20, 21, 48024, tzinfo=dt.UTC)


class FakeTerraform:
    def __init__(self) -> None:
        self.released: list[str] = []

    def force_unlock(self, lock_id: str) -> None:
        self.released.append(lock_id)


@pytest.fixture
def env(tmp_path: Path) -> Env:
    (tmp_path / unlock.LOCAL_LOCK_INFO).write_text(
        json.dumps(
            {"ID": LOCK_ID, "Operation": "OperationTypeApply", "Who": "ana@laptop", "Created": CREATED}
        )
    )
    return Env(name="local", workdir=tmp_path, process_env={}, variables={"region": "us-east-1"})


def test_an_old_enough_lock_of_that_id_is_released(env: Env) -> None:
    tf = FakeTerraform()
    message = unlock.unlock(env, tf, LOCK_ID, 60, now=TAKEN + dt.timedelta(minutes=61))  # type: ignore[arg-type]
    assert tf.released == [LOCK_ID]
    assert message == f"released the lock {LOCK_ID} of the local state, taken 61 min ago by ana@laptop"


def test_a_young_lock_is_kept_and_the_message_says_how_to_release_it(env: Env) -> None:
    tf = FakeTerraform()
    with pytest.raises(ProjectError) as refused:
        unlock.unlock(env, tf, LOCK_ID, 60, now=TAKEN + dt.timedelta(minutes=5, seconds=10))  # type: ignore[arg-type]
    assert tf.released == []
    assert str(refused.value) == (
        f"the lock {LOCK_ID} was taken 5 min ago by ana@laptop (OperationTypeApply): that run may still be "
        "going, so it is not released; once you know it is dead, pass --min-age 5 (or wait 55 min)"
    )


def test_another_lock_or_none_is_never_released(env: Env) -> None:
    tf = FakeTerraform()
    later = TAKEN + dt.timedelta(hours=2)
    with pytest.raises(
        ProjectError, match=f"locked under id {LOCK_ID} .* not other-id: another run holds it now"
    ):
        unlock.unlock(env, tf, "other-id", 0, now=later)  # type: ignore[arg-type]
    (env.workdir / unlock.LOCAL_LOCK_INFO).unlink()
    with pytest.raises(ProjectError, match="the local state is not locked: nothing to release"):
        unlock.unlock(env, tf, LOCK_ID, 0, now=later)  # type: ignore[arg-type]
    with pytest.raises(ProjectError, match="--min-age must be 0 or more minutes, not -1"):
        unlock.unlock(env, tf, LOCK_ID, -1, now=later)  # type: ignore[arg-type]
    assert tf.released == []


def test_the_locked_error_names_the_unlock_command() -> None:
    output = f"""Error: Error acquiring the state lock

Lock Info:
  ID:        {LOCK_ID}
  Path:      bucket/sse-patterns/eu-west-1/terraform.tfstate
  Operation: OperationTypeApply
  Who:       ana@laptop
  Version:   1.11.4
  Created:   2026-12-03 12:20:21.048024043 +0000 UTC
"""
    locked = StateLocked(
        "terraform plan", output, "./inv unlock --env aws --region eu-west-1 --lock-id {lock_id}"
    )
    assert str(locked) == (
        "terraform plan: the state bucket/sse-patterns/eu-west-1/terraform.tfstate is locked by ana@laptop "
        f"(apply since 2026-12-03 12:20:21.048024043 +0000 UTC, lock id {LOCK_ID}): wait for that run to "
        "finish; if it was killed (the lock outlived it), release the lock: "
        f"./inv unlock --env aws --region eu-west-1 --lock-id {LOCK_ID}"
    )
