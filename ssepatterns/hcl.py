"""Terraform's HCL read with python-hcl2: a file's blocks and attributes, each expression as one line of text.

python-hcl2 parses (its Lark grammar, tokens with their positions in the source); this module only walks
the tree it returns. An attribute keeps its expression as written, on one line (`Attribute.text`, see
`_one_line`), and, when the expression is a lone string or heredoc, its value (`Attribute.value`).
python-hcl2's own serialisation is not used for either: it rewrites expressions in its own style
(`{a = 1}`, `${...}` around everything) where a README must show what the author wrote, and it leaves
`$${` escaped in string values.

    parse(text, name)   the top-level blocks of HCL text (`name` goes into error messages)
    read(path)          the same for a file
    values(text, name)  python-hcl2's dictionary of HCL text (a .tfvars file, the pattern registry):
                        literal values as Python, any other expression as its text in `${...}`
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions, process_escape_sequences
from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ssepatterns.errors import ProjectError

# python-hcl2's names for the terminals an error message may mention, as a reader would say them.
_TERMINALS = {
    "$END": "end of file",
    "NL_OR_COMMENT": "end of line",
    "NAME": "a name",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LSQB": "'['",
    "RSQB": "']'",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "EQ": "'='",
    "COLON": "':'",
    "DBLQUOTE": "'\"'",
}
_HEREDOCS = ("HEREDOC_TEMPLATE", "HEREDOC_TEMPLATE_TRIM")
_OPENING = ("(", "[", "{")
_CLOSING = (")", "]", "}")
# Values as python-hcl2 serialises them: a literal string without its quotes, other expressions in ${...}.
_VALUES = SerializationOptions(with_comments=False, strip_string_quotes=True)
# A heredoc's value as python-hcl2 gives it in source form: one quoted string, escaped consistently.
_HEREDOC_AS_STRING = SerializationOptions(preserve_heredocs=False, with_comments=False)


class HclError(ProjectError):
    """A .tf file python-hcl2 cannot read, or a structure Terraform would reject (it says where)."""


@dataclass(frozen=True)
class Attribute:
    name: str
    line: int
    expression: Tree[Token] = field(repr=False)
    source: str = field(repr=False)

    @property
    def text(self) -> str:
        """The expression as written, on one line (see _one_line)."""
        return _one_line(self.expression, self.source)

    @property
    def compact(self) -> str:
        """The expression on one line, with no blanks inside the edges of ( ) and [ ] and no trailing
        comma: a list written over several lines reads `["a", "b"]` (the plan tests' snapshots)."""
        return _one_line(self.expression, self.source, compact=True)

    def elements(self) -> dict[str, Attribute] | None:
        """An object constructor's elements by key (`{ a = 1, "b-c" = x }`), else None."""
        if self.expression.data != "expr_term" or len(self.expression.children) != 1:
            return None
        (term,) = self.expression.children
        if not isinstance(term, Tree) or term.data != "object":
            return None
        found: dict[str, Attribute] = {}
        for element in term.children:
            if not isinstance(element, Tree) or element.data != "object_elem":
                continue
            key_tree, *_, value = (child for child in element.children if isinstance(child, Tree))
            (key_term,) = (child for child in key_tree.children if isinstance(child, Tree))
            (inner,) = key_term.children if key_term.data == "expr_term" else (key_term,)
            if isinstance(inner, Tree) and inner.data == "string":
                key = _string_value(inner, self.source)
            elif isinstance(inner, Tree) and inner.data == "identifier":
                key = _identifier(inner)
            else:  # a computed key, (expr) = ...: as written
                key = _one_line(key_tree, self.source)
            found[key] = Attribute(key, element.meta.line, value, self.source)
        return found

    @property
    def value(self) -> str | None:
        """The value of a lone string or heredoc literal (escapes decoded, $${ and %%{ unescaped,
        interpolations as written), else None."""
        if self.expression.data != "expr_term" or len(self.expression.children) != 1:
            return None
        (term,) = self.expression.children
        if not isinstance(term, Tree):
            return None
        if term.data == "string":
            return _string_value(term, self.source)
        if term.data in ("heredoc_template", "heredoc_template_trim"):
            return _heredoc_value(term)
        return None


@dataclass(frozen=True)
class Block:
    type: str
    labels: tuple[str, ...]
    attributes: Mapping[str, Attribute]
    blocks: tuple[Block, ...]
    line: int


def read(path: Path) -> list[Block]:
    """The top-level blocks of a .tf file."""
    return parse(path.read_text(encoding="utf-8"), str(path))


def parse(text: str, name: str = "<hcl>") -> list[Block]:
    """The top-level blocks of HCL text (top-level attributes, as in .tfvars, are not returned)."""
    text = text.removeprefix("\ufeff")
    try:
        tree = hcl2.parses_to_tree(text)
    except LarkError as error:
        raise HclError(f"{name}:{_describe(error)}") from None
    (body,) = tree.children
    assert isinstance(body, Tree)
    _, blocks = _body(body, text, name)
    return blocks


def values(text: str, name: str = "<hcl>") -> dict[str, Any]:
    """HCL text as python-hcl2's dictionary: attributes by name, blocks as lists under their type."""
    try:
        result: dict[str, Any] = hcl2.loads(text.removeprefix("\ufeff"), serialization_options=_VALUES)
    except LarkError as error:
        raise HclError(f"{name}:{_describe(error)}") from None
    return result


# --- the tree ------------------------------------------------------------------------------------


def _body(body: Tree[Token], source: str, name: str) -> tuple[dict[str, Attribute], list[Block]]:
    attributes: dict[str, Attribute] = {}
    blocks: list[Block] = []
    for child in body.children:
        if not isinstance(child, Tree) or child.data == "new_line_or_comment":
            continue
        if child.data == "attribute":
            head, _, expression = child.children
            assert isinstance(head, Tree) and isinstance(expression, Tree)
            key = _identifier(head)
            if key in attributes:
                raise HclError(f"{name}:{child.meta.line}: attribute {key!r} is set twice")
            attributes[key] = Attribute(key, child.meta.line, expression, source)
        else:
            blocks.append(_block(child, source, name))
    return attributes, blocks


def _block(block: Tree[Token], source: str, name: str) -> Block:
    head, *rest = (child for child in block.children if isinstance(child, Tree))
    *label_trees, body = (child for child in rest if child.data != "new_line_or_comment")
    labels = tuple(
        _string_value(label, source) if label.data == "string" else _identifier(label)
        for label in label_trees
    )
    attributes, blocks = _body(body, source, name)
    return Block(_identifier(head), labels, attributes, tuple(blocks), block.meta.line)


def _identifier(tree: Tree[Token]) -> str:
    """The name of an identifier, or of a keyword or literal used as one (`in`, `true`)."""
    (token,) = tree.children
    assert isinstance(token, Token)
    return str(token)


# --- expressions on one line ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Piece:
    """A token of an expression (a whole quoted string counts as one), where it is in the source."""

    text: str
    start: int
    end: int


_LINE_BREAK = None


def _pieces(node: Tree[Token] | Token, source: str) -> Iterator[_Piece | None]:
    """The expression's pieces in source order, with _LINE_BREAK where a line ends (comments dropped)."""
    if isinstance(node, Tree):
        if node.data == "string":  # kept verbatim, interpolations and all
            yield _Piece(
                source[node.meta.start_pos : node.meta.end_pos], node.meta.start_pos, node.meta.end_pos
            )
            return
        for child in node.children:
            yield from _pieces(child, source)
        return
    assert node.start_pos is not None and node.end_pos is not None
    if node.type == "NL_OR_COMMENT":  # a newline, a line comment with its newline, or a /* */ comment
        if node.startswith("\n") or node.endswith("\n"):
            yield _LINE_BREAK
        return
    raw = source[node.start_pos : node.end_pos]
    # python-hcl2's lexer merges a newline (and comments) before a binary operator into the operator's
    # value, keeping the operator's own position: that prefix is the line break.
    if "\n" in str(node)[: len(node) - len(raw)]:
        yield _LINE_BREAK
    if node.type in _HEREDOCS:  # the token runs to the newline after its closing delimiter
        written = raw.rstrip()
        yield _Piece(" ".join(written.split()), node.start_pos, node.start_pos + len(written))
        yield _LINE_BREAK
        return
    text = raw.lstrip(" \t")  # `=` and `:` carry the blanks before them
    yield _Piece(text, node.end_pos - len(text), node.end_pos)


def _one_line(expression: Tree[Token], source: str, compact: bool = False) -> str:
    """The expression on one line: runs of blanks, newlines and comments become one space, except that a
    line break between two attributes of an object ({ a = string <newline> b = number }) becomes ", ",
    so that `object({...})` types still read (and remain valid HCL) on one line. `compact`: nothing
    between a ( or [ and what follows it, nor before a ) or ], and no comma before a ) or ]."""
    parts: list[str] = []
    open_brackets: list[str] = []  # "{" of an object, "for" of a {for ...} expression, "(" or "["
    previous: _Piece | None = None
    line_break = False
    pieces = list(_pieces(expression, source))
    for index, piece in enumerate(pieces):
        if piece is None:
            line_break = True
            continue
        if compact and piece.text == ",":
            following = next((later for later in pieces[index + 1 :] if later is not None), None)
            if following is not None and following.text in ("]", ")"):
                continue  # a trailing comma
        if previous is not None and piece.start > previous.end:
            separator = " "
            if compact and (previous.text in ("[", "(") or piece.text in ("]", ")")):
                separator = ""
            if (
                line_break
                and open_brackets
                and open_brackets[-1] == "{"
                and previous.text not in ("{", ",")
                and piece.text != "}"
            ):
                separator = ", "
            parts.append(separator)
        line_break = False
        parts.append(piece.text)
        if piece.text in _OPENING:
            open_brackets.append(piece.text)
        elif piece.text in _CLOSING and open_brackets:
            open_brackets.pop()
        elif piece.text == "for" and previous is not None and previous.text == "{":
            open_brackets[-1] = "for"
        previous = piece
    return "".join(parts)


# --- literal values ------------------------------------------------------------------------------


def _string_value(string: Tree[Token], source: str) -> str:
    """A quoted string's value: escapes decoded (python-hcl2's decoder), $${ and %%{ unescaped,
    interpolations and directives as written."""
    out: list[str] = []
    for part in string.children:
        if not isinstance(part, Tree):
            continue  # the quotes
        (content,) = part.children
        if isinstance(content, Tree):  # ${...} or %{...}
            out.append(source[content.meta.start_pos : content.meta.end_pos])
        elif content.type == "STRING_CHARS":
            out.append(process_escape_sequences(str(content)))
        else:  # ESCAPED_INTERPOLATION, ESCAPED_DIRECTIVE: $${...} and %%{...}
            out.append(str(content)[1:])
    return "".join(out)


def _heredoc_value(heredoc: Tree[Token]) -> str:
    """A heredoc's lines (<<- with their common indentation removed), by python-hcl2.

    Taken in python-hcl2's source form (a quoted string) and decoded, because its value form of a <<-
    heredoc keeps the escaping of the source form (8.1.4: `"` comes back as `\\"`)."""
    quoted = hcl2.transform(heredoc).serialize(_HEREDOC_AS_STRING)
    assert isinstance(quoted, str) and quoted.startswith('"') and quoted.endswith('"')
    return process_escape_sequences(quoted[1:-1]).replace("$${", "${").replace("%%{", "%{")


# --- errors --------------------------------------------------------------------------------------


def _describe(error: LarkError) -> str:
    """'LINE:COLUMN: unexpected X[, expected Y]' for a parse error (the caller adds the file name)."""
    if not isinstance(error, UnexpectedInput):  # not a parse error at a place (none known from 8.1.4)
        lines = str(error).strip().splitlines()
        return f" {lines[0] if lines else type(error).__name__}"
    where = f"{error.line}:{error.column}"
    if isinstance(error, UnexpectedCharacters):
        return f"{where}: unexpected {error.char!r}"
    if not isinstance(error, UnexpectedToken):
        return f"{where}: unexpected end of file"
    token = error.token
    rest = str(token).lstrip(" \t")
    if token.type == "STRING_CHARS":  # input no terminal of its place matches: the rest of the file
        if rest.startswith("/*"):
            return f"{where}: unterminated /* comment"
        if rest.startswith("<<"):
            return f"{where}: heredoc without its closing delimiter line"
        rest = rest[:1]
    if token.type == "$END" or not rest or rest.startswith("\n"):
        found = _TERMINALS["$END" if token.type == "$END" else "NL_OR_COMMENT"]
    else:
        found = repr(rest.split("\n")[0][:30])
    if "DBLQUOTE" in error.expected and "STRING_CHARS" in error.expected:
        return f"{where}: unterminated string (found {found})"
    expected = sorted({_TERMINALS.get(name, name) for name in error.expected} - {"end of line"})
    if expected and all(name in _TERMINALS.values() for name in expected) and len(expected) <= 3:
        return f"{where}: unexpected {found}, expected {' or '.join(expected)}"
    return f"{where}: unexpected {found}"
