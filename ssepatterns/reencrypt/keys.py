"""One Secrets Manager read per key version, shared by every worker thread; the keys stay in memory."""

from __future__ import annotations

import threading
from typing import Any

from ssepatterns.sse_c import sse_c_secret


class KeyCache:
    def __init__(self, secrets: Any, secret_arn: str) -> None:
        self.secrets, self.secret_arn = secrets, secret_arn
        self._keys: dict[str, str] = {}
        self._lock = threading.Lock()
        self.fetches = 0  # Secrets Manager reads made (one per version: see the unit test)

    def key_of(self, version_id: str) -> str:
        with self._lock:  # held while fetching: two threads never fetch the same version twice
            if version_id not in self._keys:
                self._keys[version_id] = sse_c_secret.fetch_key(
                    self.secrets, self.secret_arn, version_id
                ).secret_string
                self.fetches += 1
            return self._keys[version_id]

    def __repr__(self) -> str:  # never the keys
        return f"KeyCache({self.secret_arn!r}, {len(self._keys)} version(s))"
