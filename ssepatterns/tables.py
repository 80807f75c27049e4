"""The one table renderer: rows of cells (the first row the header) as aligned plain text for the
terminal (the verification table, the bench's tables) or as a GitHub-flavoured markdown table (the
generated README tables). Cells are strings, rendered as given."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence


def columns(
    rows: Sequence[Sequence[str]], separator: str = "  ", wrap: Mapping[int, int] | None = None
) -> str:
    """Plain text: the header, a rule of dashes under it, then the rows; every column as wide as its
    widest cell, cells joined by `separator`, no trailing blanks. A column in `wrap` ({index: width})
    is that wide instead, its cells wrapped at spaces onto as many lines as they need (the other cells
    of the row stand on its first line)."""
    wrap = wrap or {}
    count = len(rows[0])
    widths = [wrap.get(i, max(len(row[i]) for row in rows)) for i in range(count)]

    def lines_of(row: Sequence[str]) -> list[str]:
        cells = [textwrap.wrap(cell, wrap[i]) or [""] if i in wrap else [cell] for i, cell in enumerate(row)]
        return [
            separator.join(
                (cell[n] if n < len(cell) else "").ljust(width)
                for cell, width in zip(cells, widths, strict=True)
            ).rstrip()
            for n in range(max(len(cell) for cell in cells))
        ]

    rule = separator.join("-" * width for width in widths)
    return "\n".join([*lines_of(rows[0]), rule, *(line for row in rows[1:] for line in lines_of(row))])


def markdown(rows: Sequence[Sequence[str]], rule: str | None = None) -> str:
    """A markdown table: `| a | b |` lines, the delimiter row after the header, `rule` in each of its
    cells (default: dashes as wide as the header cell with its padding). Cells must be escaped already."""
    header = rows[0]
    delimiter = "|" + "|".join(rule if rule is not None else "-" * (len(cell) + 2) for cell in header) + "|"
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join([lines[0], delimiter, *lines[1:]])
