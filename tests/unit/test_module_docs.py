"""The README generator of the Terraform modules: the HCL reader (python-hcl2, ssepatterns.hcl) on tricky
samples, the markdown it renders, and that every module's README.md is up to date."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ssepatterns import module_docs
from ssepatterns.hcl import HclError, parse
from ssepatterns.module_docs import (
    BEGIN_MARKER,
    END_MARKER,
    Output,
    Variable,
    module_dirs,
    read_interface,
    render,
    render_tables,
    stale,
    update,
)
from ssepatterns.paths import TERRAFORM_DIR

TRICKY_VARIABLES = r"""
# A comment with a brace } and a quote " that must not count.
/* a block comment { with "a quote" and
   a brace on a second line } */
variable "a_string_with_braces" {
  description = "Braces {in} text, an escaped \"quote\", a backslash \\ and a literal $${not_interpolated}."
  type        = string
  default     = "}{" // a line comment after a value
}

variable "nested_validation" {
  description = "Has validation blocks whose messages hold braces and interpolations."
  type        = number

  validation {
    condition     = var.nested_validation >= 1 && contains([1, 2, 3], var.nested_validation)
    error_message = "must be in {1, 2, 3}: a \"}\" here is text."
  }
  validation {
    # an interpolation with strings (and braces) of its own inside a string
    condition     = length("${var.nested_validation}") < 10
    error_message = "long: ${var.nested_validation == 0 ? "}" : "{${var.nested_validation}}"} is not {ok}."
  }
}

variable "object_type" {
  description = "A multi-line object type."
  type = object({
    name    = string # a comment inside the type
    size    = optional(number, 1)
    labels  = optional(map(string), {})
    nested  = object({ inner = list(string), flag = bool })
    trailer = string,
  })
  default = {
    name = "x"
    nested = {
      inner = ["a", "b"]
      flag  = true
    }
    trailer = "t"
  }
}

variable "inline" { default = 1 }

variable "bare" {}

variable "ternary_in_parens" {
  description = "Default spread over lines inside parentheses."
  type        = bool
  default = (
    1 < 2 &&
    true
  )
}
"""

TRICKY_OUTPUTS = """
output "zeta" {
  description = "Declared first, listed last."
  value       = { for k, v in var.things : k => v.name if v.enabled }
}

output "token" {
  description = "A secret | with a pipe."
  value       = "${var.a}-${var.b}"
  sensitive   = true

  depends_on = [
    aws_s3_bucket_policy.this,
  ]
}

locals {
  ignored = { a = "}" }
}

resource "terraform_data" "ignored" {
  provisioner "local-exec" {
    command = "echo '{' \\"}\\""
  }
}
"""


def write_module(tmp_path: Path, files: dict[str, str], readme: str | None = None) -> Path:
    module_dir = tmp_path / "module"
    module_dir.mkdir()
    for name, text in files.items():
        (module_dir / name).write_text(text, encoding="utf-8")
    if readme is not None:
        (module_dir / "README.md").write_text(readme, encoding="utf-8")
    return module_dir


def by_name(items: list[Variable] | list[Output]) -> dict[str, Variable | Output]:
    return {item.name: item for item in items}


# --- the reader -----------------------------------------------------------------------------------


def test_tricky_variables(tmp_path: Path) -> None:
    module_dir = write_module(tmp_path, {"variables.tf": TRICKY_VARIABLES})
    variables, outputs = read_interface(module_dir)

    assert [v.name for v in variables] == [
        "a_string_with_braces",
        "bare",
        "inline",
        "nested_validation",
        "object_type",
        "ternary_in_parens",
    ]
    assert outputs == []
    v = by_name(variables)

    braces = v["a_string_with_braces"]
    assert braces.description == (
        'Braces {in} text, an escaped "quote", a backslash \\ and a literal ${not_interpolated}.'
    )
    assert (braces.type, braces.default) == ("string", '"}{"')

    nested = v["nested_validation"]
    assert (nested.type, nested.default) == ("number", None)
    assert nested.description.startswith("Has validation blocks")

    obj = v["object_type"]
    assert obj.type == (
        "object({ name = string, size = optional(number, 1), labels = optional(map(string), {}), "
        "nested = object({ inner = list(string), flag = bool }), trailer = string, })"
    )
    assert obj.default == '{ name = "x", nested = { inner = ["a", "b"], flag = true }, trailer = "t" }'

    assert v["inline"] == Variable("inline", "", "any", "1")
    assert v["bare"] == Variable("bare", "", "any", None)
    assert v["ternary_in_parens"].default == "( 1 < 2 && true )"


def test_validation_blocks_are_nested_blocks_not_attributes() -> None:
    blocks = parse(TRICKY_VARIABLES)
    nested = next(b for b in blocks if b.labels == ("nested_validation",))
    assert set(nested.attributes) == {"description", "type"}
    assert [b.type for b in nested.blocks] == ["validation", "validation"]
    message = nested.blocks[1].attributes["error_message"]
    assert message.text == (
        '"long: ${var.nested_validation == 0 ? "}" : "{${var.nested_validation}}"} is not {ok}."'
    )


def test_tricky_outputs_and_other_blocks(tmp_path: Path) -> None:
    module_dir = write_module(tmp_path, {"outputs.tf": TRICKY_OUTPUTS})
    variables, outputs = read_interface(module_dir)
    assert variables == []
    assert outputs == [
        Output("token", "A secret | with a pipe.", sensitive=True),
        Output("zeta", "Declared first, listed last.", sensitive=False),
    ]
    types = [(b.type, b.labels) for b in parse(TRICKY_OUTPUTS)]
    assert types == [
        ("output", ("zeta",)),
        ("output", ("token",)),
        ("locals", ()),
        ("resource", ("terraform_data", "ignored")),
    ]


def test_for_expression_in_braces_gets_no_commas() -> None:
    (block,) = parse('output "x" {\n  value = {\n    for k, v in var.m :\n    k => v\n  }\n}\n')
    assert block.attributes["value"].text == "{ for k, v in var.m : k => v }"


def test_heredoc_description() -> None:
    text = 'variable "h" {\n  description = <<-EOT\n    First { line.\n      Indented "line".\n  EOT\n}\n'
    (block,) = parse(text)
    assert block.attributes["description"].value == 'First { line.\n  Indented "line".'


def test_unicode_escapes_are_decoded() -> None:
    (block,) = parse('variable "u" {\n  description = "caf\\u00e9 \\U0001F600 tab\\tend"\n}\n')
    assert block.attributes["description"].value == "caf\u00e9 \U0001f600 tab\tend"


def test_heredoc_values_by_python_hcl2() -> None:
    """<<- and << heredocs: quotes and backslashes kept as written (python-hcl2 8.1.4's value form of a
    <<- heredoc escapes them), $${ and %%{ unescaped, interpolations as written."""
    text = (
        'variable "h" {\n  description = <<-EOT\n    Say "hi" \\ to $${x} and %%{y}\n'
        '      ${var.a=="b"}\n  EOT\n'
        '  default = <<EOT\n  raw \\n "q"\nEOT\n}\n'
    )
    (block,) = parse(text)
    assert block.attributes["description"].value == 'Say "hi" \\ to ${x} and %{y}\n  ${var.a=="b"}'
    assert block.attributes["default"].value == '  raw \\n "q"'
    assert block.attributes["default"].text == '<<EOT raw \\n "q" EOT'


def test_string_values_keep_interpolations_as_written() -> None:
    (block,) = parse('output "o" {\n  description = "a $${b} ${var.c=="d"?1:2} \\x %%{e}"\n  value = 1\n}\n')
    assert block.attributes["description"].value == 'a ${b} ${var.c=="d"?1:2} \\x %{e}'
    assert block.attributes["value"].value is None


def test_expressions_on_one_line_as_written() -> None:
    """Operators starting a line (python-hcl2 merges that newline into the operator), a heredoc inside
    an object, comments dropped, spacing kept as written."""
    text = (
        'variable "v" {\n  default = (\n    var.a # why\n    && var.b\n  )\n}\n'
        'variable "w" {\n  default = {\n    a = <<EOT\nx   y\nEOT\n    b = [1,2]\n  }\n}\n'
    )
    v, w = parse(text)
    assert v.attributes["default"].text == "( var.a && var.b )"
    assert w.attributes["default"].text == "{ a = <<EOT x y EOT, b = [1,2] }"


def test_heredoc_description_in_the_table(tmp_path: Path) -> None:
    variables = (
        'variable "h" {\n  description = <<-EOT\n    Uses <region> | and `a|b`.\n    Second line.\n  EOT\n}\n'
    )
    module_dir = write_module(tmp_path, {"variables.tf": variables})
    row = "| `h` | Uses &lt;region&gt; \\| and `a\\|b`.<br>Second line. | `any` | required |"
    assert row in render(module_dir)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('variable "x" {\n  description = "no end\n}\n', r"^x\.tf:2:\d+: unterminated string"),
        ('variable "x" {\n  type = string\n', r"^x\.tf:3:1: unexpected end of file, expected '\}'$"),
        ('variable "x" {\n  default = [1, 2\n}\n', r"^x\.tf:3:1: unexpected '\}', expected ',' or '\]'$"),
        ('variable "x" {\n  default = "${var.y"\n}\n', r"^x\.tf:2:21: unexpected '\"', expected '\}'$"),
        (
            'variable "x" {\n  type = string\n  type = number\n}\n',
            r"^x\.tf:3: attribute 'type' is set twice$",
        ),
        ('variable "x" {\n  default =\n}\n', r"^x\.tf:2:12: unexpected end of line$"),
        ("}\n", r"^x\.tf:1:1: unexpected '\}'"),
        ('/* never closed\nvariable "x" {}\n', r"^x\.tf:1:1: unterminated /\* comment$"),
        ('variable "x" {\n  d = <<EOT\nabc\n}\n', r"^x\.tf:2:7: heredoc without its closing delimiter line$"),
        ('variable "x" {\n  d = 1 @ 2\n}\n', r"^x\.tf:2:9: unexpected '@'$"),
    ],
)
def test_errors_say_where(text: str, message: str) -> None:
    with pytest.raises(HclError, match=message) as caught:
        parse(text, "x.tf")
    assert "\n" not in str(caught.value)


def test_bad_hcl_is_one_error_line_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    modules = tmp_path / "modules"
    modules.mkdir()
    write_module(modules, {"variables.tf": 'variable "x" {\n  description = "no end\n}\n'}, "# module\n")
    monkeypatch.setattr(module_docs, "MODULES_DIR", modules)
    assert module_docs.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {modules / 'module' / 'variables.tf'}:2:") and "unterminated string" in err
    assert err.count("\n") == 1


def test_a_variable_declared_twice_is_an_error(tmp_path: Path) -> None:
    module_dir = write_module(tmp_path, {"a.tf": 'variable "x" {}\n', "b.tf": 'variable "x" {}\n'})
    with pytest.raises(HclError, match=r"b\.tf:1: variable 'x' is declared twice"):
        read_interface(module_dir)


def test_every_tf_file_of_the_project_parses() -> None:
    """The parser reads all of the project's Terraform, and finds every variable and output block."""
    tf_files = sorted(TERRAFORM_DIR.rglob("*.tf"))
    tf_files = [path for path in tf_files if ".terraform" not in path.parts]
    assert tf_files
    for path in tf_files:
        text = path.read_text(encoding="utf-8")
        blocks = parse(text, str(path))
        for kind in ("variable", "output"):
            declared = re.findall(rf'^{kind} "([^"]+)"', text, re.MULTILINE)
            assert [b.labels[0] for b in blocks if b.type == kind] == declared, path


# --- markdown -------------------------------------------------------------------------------------


def test_render_tables_escapes_and_marks() -> None:
    variables = [
        Variable("a", "Uses <region> | and `a|b` and `<kept>`.\nSecond line.", "string", '"x|y"'),
        Variable("b", "Secret.", "string", None, sensitive=True),
        Variable("c", "Backticks.", "string", '"`quoted`"'),
    ]
    outputs = [Output("o", "Sensitive | output.", sensitive=True)]
    assert render_tables(variables, outputs).splitlines() == [
        "",
        "## Inputs",
        "",
        "| Name | Description | Type | Default |",
        "|------|-------------|------|---------|",
        r'| `a` | Uses &lt;region&gt; \| and `a\|b` and `<kept>`.<br>Second line. | `string` | `"x\|y"` |',
        "| `b` | Secret. (sensitive) | `string` | required |",
        '| `c` | Backticks. | `string` | ``"`quoted`"`` |',
        "",
        "## Outputs",
        "",
        "| Name | Description |",
        "|------|-------------|",
        r"| `o` | Sensitive \| output. (sensitive) |",
    ]


def test_render_without_inputs_or_outputs() -> None:
    assert render_tables([], []) == "\n## Inputs\n\nNo inputs.\n\n## Outputs\n\nNo outputs.\n"


# --- README.md: update and stale ------------------------------------------------------------------

HAND_WRITTEN_HEAD = "# module\n\nHand-written { text } with | pipes.\n\n"
HAND_WRITTEN_TAIL = "\n\nMore hand-written text after the tables.\n"


def test_update_rewrites_only_between_the_markers(tmp_path: Path) -> None:
    readme = HAND_WRITTEN_HEAD + f"{BEGIN_MARKER}\nold tables\n{END_MARKER}" + HAND_WRITTEN_TAIL
    module_dir = write_module(tmp_path, {"variables.tf": TRICKY_VARIABLES}, readme)

    assert stale([module_dir]) == [module_dir / "README.md"]
    assert update(module_dir) is True
    text = (module_dir / "README.md").read_text()
    assert text == HAND_WRITTEN_HEAD + BEGIN_MARKER + render(module_dir) + END_MARKER + HAND_WRITTEN_TAIL
    assert stale([module_dir]) == []
    assert update(module_dir) is False


def test_adding_a_variable_makes_the_readme_stale(tmp_path: Path) -> None:
    module_dir = write_module(tmp_path, {"variables.tf": TRICKY_VARIABLES}, HAND_WRITTEN_HEAD)
    update(module_dir)
    assert stale([module_dir]) == []

    with (module_dir / "variables.tf").open("a") as f:
        f.write('\nvariable "added" {\n  description = "New."\n  type = string\n}\n')
    assert stale([module_dir]) == [module_dir / "README.md"]
    assert update(module_dir) is True
    assert "| `added` | New. | `string` | required |" in (module_dir / "README.md").read_text()


def test_readme_without_markers_is_stale_and_gets_them_at_the_end(tmp_path: Path) -> None:
    module_dir = write_module(tmp_path, {"variables.tf": 'variable "x" {}\n'}, HAND_WRITTEN_HEAD)
    assert stale([module_dir]) == [module_dir / "README.md"]
    assert update(module_dir) is True
    text = (module_dir / "README.md").read_text()
    assert text.startswith(HAND_WRITTEN_HEAD.rstrip() + "\n\n" + BEGIN_MARKER)
    assert text.endswith(END_MARKER + "\n")


def test_missing_readme_is_stale_and_created(tmp_path: Path) -> None:
    module_dir = write_module(tmp_path, {"outputs.tf": 'output "o" {\n  value = 1\n}\n'})
    assert stale([module_dir]) == [module_dir / "README.md"]
    assert update(module_dir) is True
    assert (module_dir / "README.md").read_text().startswith(f"# module\n\n{BEGIN_MARKER}\n## Inputs")


@pytest.mark.parametrize(
    "readme",
    [
        f"{BEGIN_MARKER}\n",
        f"{END_MARKER}\n{BEGIN_MARKER}\n",
        f"{BEGIN_MARKER}\n{END_MARKER}\n{BEGIN_MARKER}\n{END_MARKER}\n",
    ],
)
def test_broken_markers_are_an_error(tmp_path: Path, readme: str) -> None:
    module_dir = write_module(tmp_path, {"variables.tf": 'variable "x" {}\n'}, readme)
    with pytest.raises(module_docs.ProjectError, match="needs exactly one"):
        stale([module_dir])


# --- the project's modules ------------------------------------------------------------------------


def test_module_dirs_lists_every_module() -> None:
    assert [d.name for d in module_dirs()] == [
        "deployer-role",
        "encrypted-bucket",
        "kms-key",
        "sse-c-key-secret",
        "sse-c-lambdas",
        "sse-c-reencrypt",
        "sse-patterns",
        "state-bucket",
    ]


def test_module_readmes_are_up_to_date() -> None:
    out_of_date = stale(module_dirs())
    assert out_of_date == [], (
        f"README.md tables out of date (or markers missing) in {', '.join(str(p) for p in out_of_date)}: "
        "run ./inv docs"
    )


def test_drift_check_catches_a_new_variable_in_a_real_module(tmp_path: Path) -> None:
    """The check above really fails when a module gains a variable (on a copy, not the checkout)."""
    module_dir = tmp_path / "encrypted-bucket"
    shutil.copytree(TERRAFORM_DIR / "modules" / "encrypted-bucket", module_dir)
    assert stale([module_dir]) == []
    with (module_dir / "variables.tf").open("a") as f:
        f.write('\nvariable "versioning" {\n  description = "Enable versioning."\n  type = bool\n}\n')
    assert stale([module_dir]) == [module_dir / "README.md"]
