"""Progress of a pass: a tqdm bar on a terminal, a plain line every few seconds elsewhere (CI logs).

Both show objects, bytes, objects/s and the ETA; the plain line is tqdm's own meter text
(tqdm.format_meter), so the two say the same. Only names, counts and sizes: never key material.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from tqdm import tqdm

from ssepatterns.sse_c import sse_c_reencrypt

PLAIN_EVERY_SECONDS = 5.0
BAR_FORMAT = "{desc} {n_fmt}/{total_fmt} objects |{bar}| [{elapsed}<{remaining}, {rate_fmt}] {postfix}"
PLAIN_FORMAT = "{desc} {n_fmt}/{total_fmt} objects [{elapsed}<{remaining}, {rate_fmt}] {postfix}"


def _mb(count: int) -> str:
    return f"{count / 1e6:,.1f} MB"


class Progress:
    def __init__(
        self, enabled: bool = True, stream: IO[str] | None = None, label: str = "re-encrypting"
    ) -> None:
        self.enabled, self.stream, self.label = enabled, stream or sys.stderr, label
        self.terminal = self.enabled and self.stream.isatty()
        self._bar: tqdm[Any] | None = None
        self._started = self._last_line = 0.0
        self._done = self._total = 0
        self._bytes = self._total_bytes = 0

    def start(self, objects: int, total_bytes: int) -> None:
        self._done, self._total, self._bytes, self._total_bytes = 0, objects, 0, total_bytes
        self._started = self._last_line = time.monotonic()
        if self.terminal:
            self._bar = tqdm(
                total=objects,
                desc=self.label,
                unit="obj",
                file=self.stream,
                bar_format=BAR_FORMAT,
                leave=True,
            )

    def _postfix(self) -> str:
        elapsed = max(time.monotonic() - self._started, 1e-9)
        return f"{_mb(self._bytes)} of {_mb(self._total_bytes)}, {self._bytes / elapsed / 1e6:,.1f} MB/s"

    def advance(self, outcome: sse_c_reencrypt.Outcome) -> None:
        self._done += 1
        self._bytes += outcome.bytes
        if self._bar is not None:
            self._bar.set_postfix_str(self._postfix(), refresh=False)
            self._bar.update(1)
        elif self.enabled and time.monotonic() - self._last_line >= PLAIN_EVERY_SECONDS:
            self._line()

    def _line(self) -> None:
        self._last_line = time.monotonic()
        meter = tqdm.format_meter(
            self._done,
            self._total,
            self._last_line - self._started,
            prefix=self.label,
            unit="obj",
            bar_format=PLAIN_FORMAT,
            postfix=self._postfix(),
        )
        print(meter, file=self.stream, flush=True)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.enabled and self._total:
            self._line()
