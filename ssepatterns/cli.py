"""./inv's entry point: invoke's own program, with a bad option value as one clear line.

invoke casts an option's value with its kind (int for `--workers`, `--count`, ...) while parsing and
lets the cast's ValueError escape as a traceback; everything else it reports as a ParseError, one
line and exit 1, which is what this turns the ValueError into.
"""

from __future__ import annotations

import re

from invoke import Program, __version__
from invoke.exceptions import ParseError

_LITERAL = re.compile(r"invalid literal for int\(\) with base 10: (?P<value>'.*')")


class SsePatternsProgram(Program):
    def parse_tasks(self) -> None:
        try:
            super().parse_tasks()
        except ValueError as error:
            found = _LITERAL.search(str(error))
            value = found["value"] if found else "a value"
            raise ParseError(
                f"error: {value} is not a whole number, which that option takes (./inv <task> --help)"
            ) from None


program = SsePatternsProgram(
    name="Invoke", binary="inv[oke]", binary_names=["invoke", "inv"], version=__version__
)

if __name__ == "__main__":
    program.run()
