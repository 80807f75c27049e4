"""Generate the Inputs and Outputs tables of each Terraform module's README.md.

Every module under terraform/modules/ has a README.md in HashiCorp's standard module structure: a
hand-written description and usage example, then the tables of its variables and outputs. The tables are
generated from the module's `variable "..." {}` and `output "..." {}` blocks and live between two markers;
everything outside the markers is hand-written and left alone:

    <!-- BEGIN_TF_DOCS -->
    ## Inputs
    ...
    <!-- END_TF_DOCS -->

No dependency: a small HCL tokenizer that knows strings (escapes, `${...}` interpolations with strings of
their own inside), heredocs and comments, so braces inside any of them never count as block delimiters,
and a parser of HCL bodies (attributes and nested blocks). Blocks are read from every *.tf file of the
module, so a variable declared outside variables.tf is documented too.

    render(module_dir)   the text between the markers, as it should be
    update(module_dir)   rewrite README.md when its tables differ (True if it changed)
    stale(module_dirs)   the READMEs whose tables are out of date or that lack the markers
    module_dirs()        every module folder under terraform/modules/
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ssepatterns.errors import ProjectError
from ssepatterns.paths import TERRAFORM_DIR

MODULES_DIR = TERRAFORM_DIR / "modules"
README = "README.md"
BEGIN_MARKER = "<!-- BEGIN_TF_DOCS -->"
END_MARKER = "<!-- END_TF_DOCS -->"


class HclError(ProjectError):
    """A .tf file this parser cannot read (it says where)."""


# --- tokens ---------------------------------------------------------------------------------------

IDENT = "ident"
STRING = "string"  # a quoted template "...", interpolations included
HEREDOC = "heredoc"
NUMBER = "number"
NEWLINE = "newline"
PUNCT = "punct"  # brackets, operators, anything else

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_HEREDOC_RE = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n")
_OPERATORS = ("...", "==", "!=", "<=", ">=", "&&", "||", "=>")
_OPENING = {"(": ")", "[": "]", "{": "}"}
_CLOSING = {")", "]", "}"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int


class _Source:
    """One file's text, with positions turned into file:line for error messages."""

    def __init__(self, text: str, name: str) -> None:
        self.text = text
        self.name = name

    def error(self, position: int, message: str) -> HclError:
        line = self.text.count("\n", 0, position) + 1
        return HclError(f"{self.name}:{line}: {message}")


def _skip_comment(src: _Source, i: int) -> int | None:
    """End of the comment that starts at i, or None when none does (a line comment stops before its \\n)."""
    text = src.text
    if text.startswith("#", i) or text.startswith("//", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    if text.startswith("/*", i):
        end = text.find("*/", i + 2)
        if end < 0:
            raise src.error(i, "unterminated /* comment")
        return end + 2
    return None


def _scan_quoted(src: _Source, i: int) -> int:
    """End (exclusive) of the quoted template that starts with the '"' at i."""
    text, n = src.text, len(src.text)
    start = i
    i += 1
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif c == "\n":
            break
        elif text.startswith(("$${", "%%{"), i):
            i += 3  # a literal ${ or %{
        elif text.startswith(("${", "%{"), i):
            i = _scan_interpolation(src, i + 2)
        else:
            i += 1
    raise src.error(start, "unterminated string")


def _scan_interpolation(src: _Source, i: int) -> int:
    """End (exclusive) of the ${ ... } or %{ ... } whose body starts at i: strings inside have braces too."""
    text, n = src.text, len(src.text)
    start = i - 2
    depth = 0
    while i < n:
        comment_end = _skip_comment(src, i)
        if comment_end is not None:
            i = comment_end
            continue
        c = text[i]
        if c == '"':
            i = _scan_quoted(src, i)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return i + 1
            depth -= 1
        i += 1
    raise src.error(start, "unterminated ${ interpolation")


def _scan_heredoc(src: _Source, i: int, match: re.Match[str]) -> int:
    """End (exclusive) of the heredoc introduced at i: the end of its closing delimiter line."""
    text = src.text
    delimiter = match.group(2)
    position = match.end()
    while position <= len(text):
        line_end = text.find("\n", position)
        line_end = len(text) if line_end < 0 else line_end
        if text[position:line_end].strip() == delimiter:
            return position + len(text[position:line_end].rstrip())
        if line_end == len(text):
            break
        position = line_end + 1
    raise src.error(i, f"heredoc <<{delimiter} has no closing {delimiter} line")


def tokenize(text: str, name: str = "<hcl>") -> list[Token]:
    """The tokens of an HCL file; comments and blanks are dropped, newlines kept (they end attributes)."""
    src = _Source(text, name)
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        comment_end = _skip_comment(src, i)
        if comment_end is not None:
            i = comment_end
            continue
        if c == "\n":
            tokens.append(Token(NEWLINE, c, i, i + 1))
            i += 1
            continue
        if c in " \t\r\ufeff":
            i += 1
            continue
        if c == '"':
            end = _scan_quoted(src, i)
            tokens.append(Token(STRING, text[i:end], i, end))
            i = end
            continue
        heredoc = _HEREDOC_RE.match(text, i)
        if heredoc:
            end = _scan_heredoc(src, i, heredoc)
            tokens.append(Token(HEREDOC, text[i:end], i, end))
            i = end
            continue
        for pattern, kind in ((_IDENT_RE, IDENT), (_NUMBER_RE, NUMBER)):
            match = pattern.match(text, i)
            if match:
                tokens.append(Token(kind, match.group(), i, match.end()))
                i = match.end()
                break
        else:
            operator = next((op for op in _OPERATORS if text.startswith(op, i)), c)
            tokens.append(Token(PUNCT, operator, i, i + len(operator)))
            i += len(operator)
    return tokens


# --- bodies: attributes and blocks ----------------------------------------------------------------


@dataclass
class Attribute:
    name: str
    tokens: list[Token]  # the expression's, newlines inside brackets included
    source: str = field(repr=False)

    @property
    def text(self) -> str:
        """The expression with comments dropped and whitespace collapsed (see collapse_expression)."""
        return collapse_expression(self.tokens, self.source)

    def string_value(self) -> str | None:
        """The value of a lone string or heredoc literal (escapes decoded), else None."""
        meaningful = [t for t in self.tokens if t.kind != NEWLINE]
        if len(meaningful) != 1:
            return None
        token = meaningful[0]
        if token.kind == STRING:
            return decode_string(token.text)
        if token.kind == HEREDOC:
            return decode_heredoc(token.text)
        return None


@dataclass
class Block:
    type: str
    labels: list[str]
    attributes: dict[str, Attribute]
    blocks: list[Block]
    line: int


class _Parser:
    def __init__(self, text: str, name: str) -> None:
        self.src = _Source(text, name)
        self.tokens = tokenize(text, name)
        self.i = 0

    def _peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _end_position(self) -> int:
        return len(self.src.text)

    def body(self, closing: Token | None) -> tuple[dict[str, Attribute], list[Block]]:
        """Attributes and blocks up to the '}' matching `closing`'s '{' (or the end of the file when None)."""
        attributes: dict[str, Attribute] = {}
        blocks: list[Block] = []
        while True:
            token = self._peek()
            if token is None:
                if closing is not None:
                    raise self.src.error(closing.start, "unclosed '{'")
                return attributes, blocks
            if token.kind == NEWLINE:
                self.i += 1
                continue
            if token.text == "}" and token.kind == PUNCT:
                if closing is None:
                    raise self.src.error(token.start, "unexpected '}'")
                self.i += 1
                return attributes, blocks
            if token.kind != IDENT:
                raise self.src.error(
                    token.start, f"expected an attribute or block name, found {token.text!r}"
                )
            self.i += 1
            following = self._peek()
            if following is not None and following.kind == PUNCT and following.text == "=":
                self.i += 1
                if token.text in attributes:
                    raise self.src.error(token.start, f"attribute {token.text!r} is set twice")
                attributes[token.text] = Attribute(token.text, self._expression(token), self.src.text)
            else:
                blocks.append(self._block(token))

    def _block(self, type_token: Token) -> Block:
        labels: list[str] = []
        while True:
            token = self._peek()
            if token is None:
                raise self.src.error(type_token.start, f"block {type_token.text!r} has no body")
            self.i += 1
            if token.kind == STRING:
                labels.append(decode_string(token.text))
            elif token.kind == IDENT:
                labels.append(token.text)
            elif token.kind == PUNCT and token.text == "{":
                attributes, blocks = self.body(token)
                line = self.src.text.count("\n", 0, type_token.start) + 1
                return Block(type_token.text, labels, attributes, blocks, line)
            else:
                what = "newline" if token.kind == NEWLINE else repr(token.text)
                raise self.src.error(
                    token.start, f"expected a label or '{{' after {type_token.text!r}, found {what}"
                )

    def _expression(self, name: Token) -> list[Token]:
        """An attribute's expression: up to a newline outside brackets, or its body's closing '}'."""
        expected: list[str] = []
        tokens: list[Token] = []
        while True:
            token = self._peek()
            if token is None:
                if expected:
                    raise self.src.error(tokens[0].start, f"unclosed bracket in the value of {name.text!r}")
                break
            if token.kind == NEWLINE and not expected:
                break
            if token.kind == PUNCT and token.text in _CLOSING:
                if not expected:
                    break  # the '}' of the enclosing body, as in `variable "x" { default = 1 }`
                if token.text != expected[-1]:
                    raise self.src.error(token.start, f"expected {expected[-1]!r}, found {token.text!r}")
                expected.pop()
            elif token.kind == PUNCT and token.text in _OPENING:
                expected.append(_OPENING[token.text])
            tokens.append(token)
            self.i += 1
        if not [t for t in tokens if t.kind != NEWLINE]:
            raise self.src.error(name.start, f"attribute {name.text!r} has no value")
        return tokens


def parse(text: str, name: str = "<hcl>") -> list[Block]:
    """The top-level blocks of an HCL file (top-level attributes, as in .tfvars, are not returned)."""
    _, blocks = _Parser(text, name).body(None)
    return blocks


def collapse_expression(tokens: list[Token], source: str) -> str:
    """An expression on one line: runs of blanks, newlines and comments become one space, except that a
    line break between two attributes of an object ({ a = string <newline> b = number }) becomes ", ",
    so that `object({...})` types still read (and remain valid HCL) on one line."""
    parts: list[str] = []
    open_brackets: list[str] = []  # "{" of an object, "for" of a {for ...} expression, "(" or "["
    previous: Token | None = None
    line_break = False
    for token in tokens:
        if token.kind == NEWLINE:
            line_break = True
            continue
        if previous is not None and token.start > previous.end:
            separator = " "
            if (
                line_break
                and open_brackets
                and open_brackets[-1] == "{"
                and previous.text not in ("{", ",")
                and token.text != "}"
            ):
                separator = ", "
            parts.append(separator)
        line_break = False
        text = token.text
        if token.kind == HEREDOC:
            text = " ".join(text.split())
        parts.append(text)
        if token.kind == PUNCT and token.text in _OPENING:
            open_brackets.append(token.text)
        elif token.kind == PUNCT and token.text in _CLOSING and open_brackets:
            open_brackets.pop()
        elif token.kind == IDENT and token.text == "for" and previous is not None and previous.text == "{":
            open_brackets[-1] = "for"
        previous = token
    return "".join(parts)


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def decode_string(literal: str) -> str:
    """The value of a quoted HCL string: escapes decoded, $${ and %%{ unescaped, interpolations as written."""
    body = literal[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            width = {"u": 4, "U": 8}.get(nxt)
            digits = body[i + 2 : i + 2 + width] if width else ""
            if width and re.fullmatch(r"[0-9A-Fa-f]+", digits) and len(digits) == width:
                out.append(chr(int(digits, 16)))
                i += 2 + width
                continue
        if body.startswith(("$${", "%%{"), i):
            out.append(body[i + 1 : i + 3])
            i += 3
            continue
        out.append(c)
        i += 1
    return "".join(out)


def decode_heredoc(literal: str) -> str:
    """The value of a heredoc: its lines, with the common indentation removed for <<- (as HCL does)."""
    match = _HEREDOC_RE.match(literal)
    assert match is not None
    lines = literal[match.end() :].split("\n")[:-1]  # the last line is the closing delimiter
    if match.group(1) == "-":
        indents = [len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()]
        strip = min(indents, default=0)
        lines = [line[strip:] for line in lines]
    value = "\n".join(line.rstrip("\r") for line in lines)
    return value.replace("$${", "${").replace("%%{", "%{")


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
    value = attribute.string_value()
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
        for block in parse(path.read_text(encoding="utf-8"), str(path)):
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
        lines += ["| Name | Description | Type | Default |", "|------|-------------|------|---------|"]
        for v in variables:
            description = cell(v.description) + (" (sensitive)" if v.sensitive else "")
            default = "required" if v.default is None else code(v.default)
            lines.append(f"| {code(v.name)} | {description} | {code(v.type)} | {default} |")
    else:
        lines.append("No inputs.")
    lines += ["", "## Outputs", ""]
    if outputs:
        lines += ["| Name | Description |", "|------|-------------|"]
        for o in outputs:
            description = cell(o.description) + (" (sensitive)" if o.sensitive else "")
            lines.append(f"| {code(o.name)} | {description} |")
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
