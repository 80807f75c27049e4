"""./inv unlock: release a state lock that a killed run left, never one a live run may hold.

Terraform's S3 backend locks with a lock file beside the state (`<key>.tflock`, written with
If-None-Match); the local backend with an fcntl lock plus `.terraform.tfstate.lock.info`. A run
killed with SIGKILL never releases it, and every later run then fails with "Error acquiring the
state lock" (StateLocked says which lock, whose, since when, and this command). Nothing here unlocks
on its own: the user runs it, with the lock id, and it refuses when

- the lock is not (or no longer) the one named: another run took the state meanwhile;
- the lock is younger than `min_age` minutes: its holder may still be running. The default, 60,
  is the deployer role's session (a run on its credentials cannot outlive them); a run of known
  death can be released sooner with a smaller value, said explicitly.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ssepatterns.envs import Env, read_backend_settings
from ssepatterns.errors import ProjectError
from ssepatterns.terraform import Terraform

DEFAULT_MIN_AGE_MINUTES = 60
LOCAL_LOCK_INFO = ".terraform.tfstate.lock.info"


def current_lock(env: Env) -> dict[str, Any] | None:
    """The lock info of env's state as its backend stores it; None when the state is not locked."""
    if env.backend is not None and env.backend.settings_file is not None:
        from botocore.exceptions import BotoCoreError, ClientError

        bucket = read_backend_settings(env.backend.settings_file)["bucket"]
        s3 = env.admin_client("s3")
        try:
            body = s3.get_object(Bucket=bucket, Key=f"{env.backend.key}.tflock")["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            where = f"s3://{bucket}/{env.backend.key}.tflock"
            raise ProjectError(f"cannot read the lock {where}: {error}") from None
        except BotoCoreError as error:
            raise ProjectError(f"cannot read the lock in s3://{bucket}: {error}") from None
        finally:
            s3.close()
        return _parse(body.decode("utf-8", "replace"), f"s3://{bucket}/{env.backend.key}.tflock")
    path = env.workdir / LOCAL_LOCK_INFO
    if not path.exists():
        return None
    return _parse(path.read_text(encoding="utf-8"), str(path))


def unlock(
    env: Env, tf: Terraform, lock_id: str, min_age_minutes: int, now: dt.datetime | None = None
) -> str:
    """Release the lock `lock_id` of env's state if it is still that lock and old enough."""
    if min_age_minutes < 0:
        raise ProjectError(f"--min-age must be 0 or more minutes, not {min_age_minutes}")
    lock = current_lock(env)
    if lock is None:
        raise ProjectError(f"the {env.label} state is not locked: nothing to release")
    if lock.get("ID") != lock_id:
        raise ProjectError(
            f"the {env.label} state is locked under id {lock.get('ID')} (by {lock.get('Who')} since "
            f"{lock.get('Created')}), not {lock_id}: another run holds it now; nothing released"
        )
    age = _age_minutes(lock, now or dt.datetime.now(dt.UTC))
    if age < min_age_minutes:
        raise ProjectError(
            f"the lock {lock_id} was taken {age:.0f} min ago by {lock.get('Who')} "
            f"({lock.get('Operation')}): that run may still be going, so it is not released; once you know "
            f"it is dead, pass --min-age {int(age)} (or wait {min_age_minutes - age:.0f} min)"
        )
    tf.force_unlock(lock_id)
    return (
        f"released the lock {lock_id} of the {env.label} state, taken {age:.0f} min ago by {lock.get('Who')}"
    )


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        info = json.loads(text)
    except ValueError:
        raise ProjectError(f"the lock {where} is not Terraform lock info: {text[:80]!r}") from None
    if not isinstance(info, dict) or "ID" not in info:
        raise ProjectError(f"the lock {where} has no lock id: {text[:80]!r}")
    return info


def _age_minutes(lock: dict[str, Any], now: dt.datetime) -> float:
    created = str(lock.get("Created", ""))
    try:
        # Terraform writes RFC 3339 with nanoseconds ("2026-12-03T12:20:21.048024043Z").
        head, _, fraction = created.rstrip("Z").partition(".")
        taken = dt.datetime.fromisoformat(head).replace(tzinfo=dt.UTC)
        taken += dt.timedelta(microseconds=int((fraction + "000000")[:6]) if fraction else 0)
    except ValueError:
        raise ProjectError(
            f"the lock's creation time {created!r} is not a time: see terraform force-unlock"
        ) from None
    return (now - taken).total_seconds() / 60
