"""Print what a long step does and how long it took."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def step(title: str) -> Iterator[None]:
    print(f"==> {title}", flush=True)
    started = time.monotonic()
    try:
        yield
    except BaseException:
        print(f"<== {title}: failed after {time.monotonic() - started:.1f} s", flush=True)
        raise
    print(f"<== {title} ({time.monotonic() - started:.1f} s)", flush=True)
