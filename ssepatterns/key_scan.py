"""Searching texts for the SSE-C key, the one scanner of the tooling and the tests.

Two questions, each with its callers:
- knowing the key: which texts hold it, raw or in base64 as the SSE-C header carries it (./inv verify's
  output and reports, the state and saved plans, the functions' errors);
- not knowing it: what in a text looks like a key (the plan suite's scan of every plan), and the same
  text with those runs redacted (so a failing check never copies a leaked key into a log).
"""

from __future__ import annotations

import base64
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

# --- a known key ------------------------------------------------------------------------------------


def key_forms(key: str) -> list[bytes]:
    """Every form the key could leak in: raw, and base64 as sent in the SSE-C header."""
    raw = key.encode()
    return [raw, base64.b64encode(raw)]


def contains_key(key: str, text: str | bytes) -> bool:
    """True when `text` holds the key in any of its forms."""
    data = text.encode() if isinstance(text, str) else text
    return any(form in data for form in key_forms(key))


def holding_key(key: str, texts: Mapping[str, bytes]) -> list[str]:
    """Names of the texts that contain the key in any of its forms."""
    return sorted(name for name, data in texts.items() if contains_key(key, data))


def artifact_texts(paths: Iterable[Path]) -> dict[str, bytes]:
    """The bytes to search in each existing file; a zip (a saved plan) contributes every member."""
    texts: dict[str, bytes] = {}
    for path in paths:
        if not path.is_file():
            continue
        data = path.read_bytes()
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    texts[f"{path.name}:{name}"] = archive.read(name)
        else:
            texts[path.name] = data
    return texts


# --- anything shaped like a key ---------------------------------------------------------------------

# What a leaked SSE-C key looks like: 32 characters of lowercase letters and digits. Runs are
# matched at any length >= 32 (in a binary plan a string sits next to arbitrary bytes) and kept
# when they hold a digit and a letter beyond f: pure hex (digests) is not a key, and a random key
# of this alphabet is pure hex with probability (16/36)^32, about 5e-12.
_KEY_RUN = re.compile(r"[a-z0-9]{32,}")
_KEY_RUN_BYTES = re.compile(rb"[a-z0-9]{32,}")


def looks_like_key(run: str) -> bool:
    return bool(re.search(r"[0-9]", run) and re.search(r"[g-z]", run))


def key_like_runs(text: str | bytes) -> list[str]:
    """The runs of `text` (JSON, or the bytes of a binary plan) that look like an SSE-C key."""
    runs = (
        _KEY_RUN.findall(text)
        if isinstance(text, str)
        else [r.decode() for r in _KEY_RUN_BYTES.findall(text)]
    )
    return [run for run in runs if looks_like_key(run)]


def redact(run: str) -> str:
    """Enough of a key-like run to find it, not enough to use it."""
    return f"{run[:4]}…({len(run)} characters)"


def redact_key_like(text: str) -> str:
    """`text` with every run of the key's alphabet as long as a key redacted (hex digests too: for
    showing, not for judging)."""
    return _KEY_RUN.sub(lambda match: redact(match.group()), text)
