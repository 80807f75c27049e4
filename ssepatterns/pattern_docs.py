"""The README's table of patterns, generated from the pattern registry (`local.patterns` of the
sse-patterns module), between `<!-- BEGIN_PATTERNS -->` and `<!-- END_PATTERNS -->` in README.md and in
the module's README. `./inv docs` rewrites it; `./inv lint` fails when it is stale. A pattern's own
words are its registry entry's `title`; the rest of a row follows from the entry's fields, the way the
encrypted-bucket module builds the guards from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssepatterns import hcl, tables
from ssepatterns.errors import ProjectError
from ssepatterns.paths import REPO_ROOT, TERRAFORM_DIR

REGISTRY_FILE = TERRAFORM_DIR / "modules" / "sse-patterns" / "main.tf"
READMES = (REPO_ROOT / "README.md", REGISTRY_FILE.parent / "README.md")
BEGIN_MARKER = "<!-- BEGIN_PATTERNS -->"
END_MARKER = "<!-- END_PATTERNS -->"
FIELDS = ("suffix", "algorithm", "kms_key", "bucket_key", "sse_c", "title")
EXAMPLE_PREFIX = "fa-125"  # the walkthrough's


@dataclass(frozen=True)
class Entry:
    key: str
    suffix: str
    algorithm: str | None
    kms_key: str | None
    bucket_key: bool
    sse_c: str
    title: str


def registry(path: Path = REGISTRY_FILE) -> list[Entry]:
    """The registry's entries in the order written (the README's order)."""
    try:
        document = hcl.values(path.read_text(encoding="utf-8"), str(path))
    except OSError as error:
        raise ProjectError(f"cannot read the pattern registry in {path}: {error.strerror}") from None
    tables = [block["patterns"] for block in document.get("locals", []) if "patterns" in block]
    if len(tables) != 1 or not isinstance(tables[0], dict):
        raise ProjectError(f"{path}: expected one `patterns = {{...}}` in a locals block")
    entries = []
    for key, raw in tables[0].items():
        fields = {name: _literal(raw.get(name), f"{path}: local.patterns.{key}.{name}") for name in FIELDS}
        missing = [name for name in FIELDS if name not in raw]
        if missing:
            raise ProjectError(f"{path}: local.patterns.{key} lacks {', '.join(missing)}")
        entries.append(Entry(key=key, **fields))
    return entries


def _literal(value: Any, where: str) -> Any:
    """A registry value as Python; anything but a literal (python-hcl2 gives it as `${...}`) is refused:
    the registry must be readable without Terraform."""
    if isinstance(value, str) and "${" in value:
        raise ProjectError(f"{where}: must be a literal (got {value})")
    return value


def _guards(entry: Entry) -> str:
    """What the bucket policy denies besides non-TLS requests (the encrypted-bucket module's concerns)."""
    if entry.sse_c == "require":
        return "uploads **without** the SSE-C algorithm header"
    denied = ["uploads naming another algorithm" + (" or key" if entry.kms_key else "")]
    if entry.kms_key == "customer_managed":
        denied.append("`aws:kms` without a key (S3 would use `aws/s3`)")
    return ", or ".join(denied) + "; uploads with SSE-C headers"


def render(entries: list[Entry]) -> str:
    rows = [
        (
            "Pattern (key of `buckets`)",
            "Bucket",
            "Default encryption",
            "Bucket Key",
            "The bucket policy denies (besides any non-TLS request)",
            "SSE-C",
        )
    ]
    for entry in entries:
        rows.append(
            (
                f"`{entry.key}`",
                f"`{EXAMPLE_PREFIX}-{entry.suffix}`",
                entry.title,
                "on" if entry.bucket_key else "off",
                _guards(entry),
                "required, and unblocked" if entry.sse_c == "require" else "denied, and blocked",
            )
        )
    return "\n" + tables.markdown(rows, rule="---") + "\n"


def _wanted(readme: Path, table: str) -> tuple[str, str]:
    current = readme.read_text(encoding="utf-8")
    if current.count(BEGIN_MARKER) != 1 or current.count(END_MARKER) != 1:
        raise ProjectError(f"{readme}: needs exactly one {BEGIN_MARKER} and one {END_MARKER}")
    head, rest = current.split(BEGIN_MARKER)
    _, tail = rest.split(END_MARKER)
    return current, f"{head}{BEGIN_MARKER}{table}{END_MARKER}{tail}"


def _out_of_date(path: Path) -> list[tuple[Path, str]]:
    """(README, the text it should have) for each README whose table is not what `path` gives."""
    table = render(registry(path))
    wanted = [(readme, *_wanted(readme, table)) for readme in READMES]
    return [(readme, text) for readme, current, text in wanted if current != text]


def stale(path: Path = REGISTRY_FILE) -> list[Path]:
    """The READMEs whose table is not what the registry in `path` gives."""
    return [readme for readme, _ in _out_of_date(path)]


def update(path: Path = REGISTRY_FILE) -> list[Path]:
    """Rewrite the tables that are not what the registry in `path` gives; the READMEs changed."""
    changed = _out_of_date(path)
    for readme, text in changed:
        readme.write_text(text, encoding="utf-8")
    return [readme for readme, _ in changed]
