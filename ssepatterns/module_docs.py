"""Generate the Inputs and Outputs tables of each Terraform module's README.md.

Every module under terraform/modules/ has a README.md in HashiCorp's standard module structure: a
hand-written description and usage example, then the tables of its variables and outputs. The tables are
generated from the module's `variable "..." {}` and `output "..." {}` blocks and live between two markers;
everything outside the markers is hand-written and left alone:

    <!-- BEGIN_TF_DOCS -->
    ## Inputs
    ...
    <!-- END_TF_DOCS -->

The blocks are read with python-hcl2 (ssepatterns.hcl), from every *.tf file of the module, so a
variable declared outside variables.tf is documented too. Types and defaults are shown as written, on
one line; descriptions by their value (escapes decoded, heredocs as their lines).

    render(module_dir)   the text between the markers, as it should be
    update(module_dir)   rewrite README.md when its tables differ (True if it changed)
    stale(module_dirs)   the READMEs whose tables are out of date or that lack the markers
    module_dirs()        every module folder under terraform/modules/
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ssepatterns import tables
from ssepatterns.errors import ProjectError
from ssepatterns.hcl import Block, HclError, read
from ssepatterns.paths import TERRAFORM_DIR

MODULES_DIR = TERRAFORM_DIR / "modules"
README = "README.md"
BEGIN_MARKER = "<!-- BEGIN_TF_DOCS -->"
END_MARKER = "<!-- END_TF_DOCS -->"


# --- a module's interface -------------------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    type: str  # the type expression on one line; "any" when the variable has none
    default: str | None  # the default expression on one line; None when the variable is required
    sensitive: bool = False


@dataclass(frozen=True)
class Output:
    name: str
    description: str
    sensitive: bool = False


def _description(block: Block) -> str:
    attribute = block.attributes.get("description")
    if attribute is None:
        return ""
    value = attribute.value
    return value if value is not None else attribute.text


def _is_true(block: Block, name: str) -> bool:
    attribute = block.attributes.get(name)
    return attribute is not None and attribute.text == "true"


def read_interface(module_dir: Path) -> tuple[list[Variable], list[Output]]:
    """The module's variables and outputs, each sorted by name, from all its *.tf files."""
    variables: dict[str, Variable] = {}
    outputs: dict[str, Output] = {}
    tf_files = sorted(module_dir.glob("*.tf"))
    if not tf_files:
        raise ProjectError(f"{module_dir}: no .tf files")
    for path in tf_files:
        for block in read(path):
            if block.type not in ("variable", "output"):
                continue
            if len(block.labels) != 1:
                raise HclError(f"{path}:{block.line}: a {block.type} block takes exactly one label")
            name = block.labels[0]
            seen = variables if block.type == "variable" else outputs
            if name in seen:
                raise HclError(f"{path}:{block.line}: {block.type} {name!r} is declared twice")
            if block.type == "variable":
                type_attribute = block.attributes.get("type")
                default = block.attributes.get("default")
                variables[name] = Variable(
                    name=name,
                    description=_description(block),
                    type=type_attribute.text if type_attribute else "any",
                    default=default.text if default else None,
                    sensitive=_is_true(block, "sensitive"),
                )
            else:
                outputs[name] = Output(name, _description(block), _is_true(block, "sensitive"))
    return [variables[k] for k in sorted(variables)], [outputs[k] for k in sorted(outputs)]


# --- markdown -------------------------------------------------------------------------------------

_CODE_SPAN_RE = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.DOTALL)


def code(text: str) -> str:
    """`text` as a code span for a table cell: fenced with more backticks than it holds, pipes escaped."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}".replace("|", "\\|")


def cell(text: str) -> str:
    """Prose for a table cell: pipes escaped (GFM), < and > escaped outside code spans (so that <region>
    is not swallowed as an HTML tag), line breaks as <br>."""
    pieces: list[str] = []
    position = 0
    for match in _CODE_SPAN_RE.finditer(text):
        pieces.append(_escape_prose(text[position : match.start()]))
        pieces.append(" ".join(match.group().split("\n")))
        position = match.end()
    pieces.append(_escape_prose(text[position:]))
    escaped = "".join(pieces).replace("|", "\\|")
    return "<br>".join(line.strip() for line in escaped.strip().split("\n"))


def _escape_prose(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")


def render_tables(variables: list[Variable], outputs: list[Output]) -> str:
    lines = ["", "## Inputs", ""]
    if variables:
        rows: list[tuple[str, ...]] = [("Name", "Description", "Type", "Default")]
        for v in variables:
            description = cell(v.description) + (" (sensitive)" if v.sensitive else "")
            default = "required" if v.default is None else code(v.default)
            rows.append((code(v.name), description, code(v.type), default))
        lines.append(tables.markdown(rows))
    else:
        lines.append("No inputs.")
    lines += ["", "## Outputs", ""]
    if outputs:
        rows = [("Name", "Description")]
        rows += [
            (code(o.name), cell(o.description) + (" (sensitive)" if o.sensitive else "")) for o in outputs
        ]
        lines.append(tables.markdown(rows))
    else:
        lines.append("No outputs.")
    return "\n".join(lines) + "\n"


def render(module_dir: Path) -> str:
    """The text that belongs between the markers of the module's README.md (newlines at both ends)."""
    return render_tables(*read_interface(module_dir))


def _split(readme: Path, text: str) -> tuple[str, str, str] | None:
    """(before and including BEGIN, between, END and after), or None when the markers are absent."""
    begin, end = text.count(BEGIN_MARKER), text.count(END_MARKER)
    if begin == 0 and end == 0:
        return None
    if begin != 1 or end != 1 or text.index(BEGIN_MARKER) > text.index(END_MARKER):
        raise ProjectError(f"{readme}: needs exactly one {BEGIN_MARKER} followed by one {END_MARKER}")
    head, rest = text.split(BEGIN_MARKER)
    between, tail = rest.split(END_MARKER)
    return head + BEGIN_MARKER, between, END_MARKER + tail


def _wanted(module_dir: Path) -> tuple[str | None, str]:
    """(README.md as it is or None, README.md as it should be)."""
    readme = module_dir / README
    current = readme.read_text(encoding="utf-8") if readme.exists() else None
    tables = render(module_dir)
    if current is None:
        return None, f"# {module_dir.name}\n\n{BEGIN_MARKER}{tables}{END_MARKER}\n"
    parts = _split(readme, current)
    if parts is None:  # no markers yet: the tables go at the end
        return current, f"{current.rstrip()}\n\n{BEGIN_MARKER}{tables}{END_MARKER}\n"
    head, _, tail = parts
    return current, f"{head}{tables}{tail}"


def update(module_dir: Path) -> bool:
    """Rewrite the module's README.md when its tables are not what render() gives; True if it changed.
    A README without markers gets them (and the tables) at its end; a missing README is created."""
    current, wanted = _wanted(module_dir)
    if current == wanted:
        return False
    (module_dir / README).write_text(wanted, encoding="utf-8")
    return True


def stale(module_dirs: Iterable[Path]) -> list[Path]:
    """The README.md files whose tables are out of date, that lack the markers, or that do not exist."""
    out_of_date: list[Path] = []
    for module_dir in module_dirs:
        current, wanted = _wanted(module_dir)
        if current != wanted:
            out_of_date.append(module_dir / README)
    return out_of_date


def module_dirs() -> list[Path]:
    """Every module folder: terraform/modules/*."""
    return sorted(path for path in MODULES_DIR.iterdir() if path.is_dir())


def main(argv: list[str]) -> int:
    """python -m ssepatterns.module_docs [--check]: update the READMEs, or (--check) list the stale ones."""
    if argv not in ([], ["--check"]):
        print("usage: python -m ssepatterns.module_docs [--check]", file=sys.stderr)
        return 2
    try:
        if argv:
            out_of_date = stale(module_dirs())
            for readme in out_of_date:
                print(f"out of date: {readme}")
            return 1 if out_of_date else 0
        for module_dir in module_dirs():
            if update(module_dir):
                print(f"updated {module_dir / README}")
    except ProjectError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
