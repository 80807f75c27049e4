"""Terraform commands, counted: the `terraform` shim put first on PATH (it logs each command and runs the
real binary; an apply's output also goes through a line stamper), the parser of its log, and what the
workflow's own output says about where the time went (the steps the tasks announce, slow resources)."""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

PROVIDER_LOADING = frozenset(
    {"plan", "apply", "destroy", "validate", "refresh", "import", "show", "console", "test"}
)


@dataclass(frozen=True)
class TerraformCall:
    args: tuple[str, ...]
    cwd: str
    exit_code: int
    started: float  # epoch seconds
    seconds: float
    pid: int = 0  # the shim's: the provider plugins' grandparent
    provider_launches: int | None = None  # plugin starts seen under this command; None: not watched

    @property
    def subcommand(self) -> str:
        return subcommand(self.args)

    @property
    def loads_provider(self) -> bool:
        """Seen starting the provider, or (not watched) a subcommand that does. The observation wins:
        a `plan` of a configuration without providers (a unit test's) costs no start-up."""
        if self.provider_launches is not None:
            return self.provider_launches > 0
        return loads_provider(self.args)


def subcommand(args: Sequence[str]) -> str:
    """The subcommand: the first argument that is not a global option (-chdir=..., -version)."""
    return next((arg for arg in args if not arg.startswith("-")), "")


def loads_provider(args: Sequence[str]) -> bool:
    name = subcommand(args)
    if name == "providers":
        return "schema" in args
    return name in PROVIDER_LOADING


SHIM_TEMPLATE = """#!/bin/bash
# terraform counting shim written by tools.bench: log this command, then run the real terraform.
# An apply's output also goes through a line stamper (the time each line was printed): where the
# apply walk spent its time. bash for pipefail; the real terraform stays this shell's child (a
# pipeline's simple command is exec'd in the forked child), so its plugins' grandparent is still $$.
start=$(date +%s.%N)
sub=
for arg in "$@"; do case $arg in -*) ;; *) sub=$arg; break ;; esac; done
if [ "$sub" = apply ]; then
  set -o pipefail
  {real} "$@" | {python} -S -I {stamper} {log}.$$.lines
  rc=$?
else
  {real} "$@"
  rc=$?
fi
end=$(date +%s.%N)
IFS=$(printf '\\037')
printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$start" "$end" "$rc" "$$" "$PWD" "$*" >> {log}
exit $rc
"""

# Copies stdin to stdout line by line as it comes, and each line with the time it came to a file.
STAMPER = """import sys, time
with open(sys.argv[1], "a", encoding="utf-8") as stamps:
    for line in sys.stdin.buffer:
        sys.stdout.buffer.write(line)
        sys.stdout.buffer.flush()
        stamps.write("%.3f\\t%s\\n" % (time.time(), line.decode("utf-8", "replace").rstrip()))
"""


def write_shim(directory: Path, real_terraform: str, log: Path) -> Path:
    """A `terraform` in `directory` that appends one line per command to `log` and runs the real one;
    an apply's output lines also go, stamped with their time, to `<log>.<shim pid>.lines`."""
    directory.mkdir(parents=True, exist_ok=True)
    stamper = directory / "stamp_lines.py"
    stamper.write_text(STAMPER)
    shim = directory / "terraform"
    shim.write_text(
        SHIM_TEMPLATE.format(
            real=shlex.quote(real_terraform),
            log=shlex.quote(str(log)),
            python=shlex.quote(sys.executable),
            stamper=shlex.quote(str(stamper)),
        )
    )
    shim.chmod(0o755)
    return shim


def parse_shim_log(text: str) -> list[TerraformCall]:
    """The commands in a shim log; a malformed line (an argument with a newline in it) is skipped."""
    calls = []
    for line in text.splitlines():
        fields = line.split("\t", 5)
        if len(fields) != 6:
            continue
        try:
            start, end, code, pid = float(fields[0]), float(fields[1]), int(fields[2]), int(fields[3])
        except ValueError:
            continue
        args = tuple(arg for arg in fields[5].split("\x1f") if arg)
        calls.append(TerraformCall(args, fields[4], code, start, max(end - start, 0.0), pid))
    return sorted(calls, key=lambda call: call.started)


def busy_seconds(intervals: Iterable[tuple[float, float]]) -> float:
    """Length of the union of (start, end) intervals: wall time during which any command ran."""
    total = 0.0
    current: tuple[float, float] | None = None
    for start, end in sorted(intervals):
        if current is None or start > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = (start, end)
        else:
            current = (current[0], max(current[1], end))
    if current is not None:
        total += current[1] - current[0]
    return total


# --- what the workflow's own output says about where the time went -----------------------------------

_STEP = re.compile(r"^<== (?P<title>.+?)(?:: failed after | \()(?P<seconds>\d+(?:\.\d+)?) s\)?$")
_RESOURCE = re.compile(
    r"^(?P<address>\S.*?): (?P<action>Creation|Destruction|Modifications|Read) complete after "
    r"(?:(?P<m>\d+)m)?(?P<s>\d+)s"
)


def parse_steps(log: str) -> list[tuple[str, float]]:
    """(title, seconds) of each step the tasks announced (ssepatterns.steps prints `<== title (N s)`)."""
    return [
        (match["title"], float(match["seconds"])) for line in log.splitlines() if (match := _STEP.match(line))
    ]


def parse_resource_times(log: str, minimum: float = 1.0) -> list[tuple[str, str, float]]:
    """(address, action, seconds) of resources terraform reported as taking at least `minimum`, slowest
    first: where an apply spends the time the provider's start-up does not explain."""
    found = []
    for line in log.splitlines():
        match = _RESOURCE.match(line)
        if match:
            seconds = int(match["m"] or 0) * 60 + int(match["s"])
            if seconds >= minimum:
                found.append((match["address"], match["action"], float(seconds)))
    return sorted(found, key=lambda item: -item[2])
