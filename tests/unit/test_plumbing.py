"""The shared plumbing: environment scrubbing, the teeing runner, client closing, the table renderer
and the key scanner, each the one implementation its callers use."""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import pytest

from ssepatterns import tables
from ssepatterns.key_scan import contains_key, key_like_runs, redact, redact_key_like
from ssepatterns.plumbing import Clients, scrubbed_environ, tee

KEY = "0123456789abcdefghijklmnopqrstuv"


def test_scrubbed_environ_drops_prefixes_and_names_and_keeps_the_rest() -> None:
    base = {"AWS_PROFILE": "p", "TF_VAR_x": "1", "TF_LOG": "x", "SSL_CERT_FILE": "f", "PATH": "/bin"}
    assert scrubbed_environ(("AWS_", "TF_VAR_"), {"SSL_CERT_FILE"}, base) == {"TF_LOG": "x", "PATH": "/bin"}
    assert "AWS_PROFILE" in base, "the base is never changed"


def test_scrubbed_environ_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSE_PATTERNS_SCRUB_ME", "1")
    monkeypatch.setenv("KEEP_ME_PLEASE", "1")
    scrubbed = scrubbed_environ(("SSE_PATTERNS_",))
    assert "SSE_PATTERNS_SCRUB_ME" not in scrubbed and scrubbed["KEEP_ME_PLEASE"] == "1"


CHILD = "import sys; print('out 1', flush=True); print('err 1', file=sys.stderr, flush=True); print('out 2')"


def test_tee_shows_captures_and_logs(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "run.log"
    teed = tee([sys.executable, "-c", CHILD + "; sys.exit(3)"], cwd=tmp_path, log=log)
    assert (teed.returncode, teed.stdout, teed.stderr) == (3, "out 1\nout 2\n", "err 1\n")
    shown = capfd.readouterr()
    assert (shown.out, shown.err) == ("out 1\nout 2\n", "err 1\n")
    assert sorted(log.read_text().splitlines()) == ["err 1", "out 1", "out 2"]


def test_tee_merged_and_quiet(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    merged = tee([sys.executable, "-c", CHILD], cwd=tmp_path, merge_stderr=True, show_stdout=False)
    assert (merged.returncode, merged.stdout, merged.stderr) == (0, "out 1\nerr 1\nout 2\n", "")
    quiet = tee([sys.executable, "-c", CHILD], cwd=tmp_path, show_stdout=False, show_stderr=False)
    assert quiet.stdout == "out 1\nout 2\n" and capfd.readouterr() == ("", "")


def test_clients_closes_every_client_it_made() -> None:
    class Client:
        closed = False

        def __init__(self, service: str) -> None:
            self.service = service

        def close(self) -> None:
            self.closed = True

    with Clients(Client) as clients:
        made = [clients("s3"), clients("iam")]
        assert [client.service for client in made] == ["s3", "iam"] and not any(c.closed for c in made)
    assert all(client.closed for client in made)


def test_columns_pads_rules_and_wraps() -> None:
    rows = [("name", "note", "x"), ("a", "one two three four", "yes"), ("long name", "", "-")]
    assert tables.columns(rows, separator=" | ", wrap={1: 9}).splitlines() == [
        "name      | note      | x",
        "--------- | --------- | ---",
        "a         | one two   | yes",
        "          | three     |",
        "          | four      |",
        "long name |           | -",
    ]
    assert tables.columns([("a", "bb"), ("ccc", "d")]) == "a    bb\n---  --\nccc  d"


def test_markdown() -> None:
    rows = [("Name", "Description"), ("`a`", "b")]
    assert tables.markdown(rows) == "| Name | Description |\n|------|-------------|\n| `a` | b |"
    assert tables.markdown(rows, rule="---").splitlines()[1] == "|---|---|"


def test_a_known_key_is_found_raw_and_in_base64() -> None:
    assert contains_key(KEY, f"x{KEY}y") and contains_key(KEY, b"\x00" + base64.b64encode(KEY.encode()))
    assert not contains_key(KEY, KEY[:31]) and not contains_key(KEY, b"")


def test_key_like_runs_in_text_and_bytes_and_their_redaction() -> None:
    text = f'{{"secret_string":"{KEY}", "digest":"{"0123456789abcdef" * 4}"}}'
    assert key_like_runs(text) == key_like_runs(b"\x12" + text.encode() + b"\x01") == [KEY]
    assert redact(KEY) == "0123…(32 characters)"
    shown = redact_key_like(text)
    assert KEY not in shown and "0123…(32 characters)" in shown and "0123…(64 characters)" in shown
