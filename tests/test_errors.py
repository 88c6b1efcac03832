"""Every class of user mistake: its message, and the line and column it points at
(docs/contracts.md, Errors; docs/errors.md).

Each test writes a small spec, compiles it (or runs the CLI) and checks the diagnostic against
positions computed from the test's own text (`pos`), never copied from the output. Messages
are checked for their essential words, so rewording the prose around them stays cheap.

Fourteen of these were written first as strict xfails for bugs they found (a traceback on
inherited blocks, override errors in the wrong file, one typo hiding the rest, …) and now pass;
see docs/errors.md for what every error means.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archcompiler.compiler import Limits, compile_file
from archcompiler.errors import Diagnostic, SpecError
from archcompiler.graph import Graph
from archcompiler.spec.loader import MAX_EXPANDED_NODES, MAX_FILE_BYTES

ROOT = Path(__file__).resolve().parent.parent

HEAD = "archspec: 1\nname: t\ninput: {shape: [32, 32, 3]}\n"

RES = """\
blocks:
  res:
    params: {filters: int, strides: 1}
    body:
      - conv: {filters: $filters, kernel: 3, strides: $strides, padding: same, name: c1}
      - relu: {name: r1}
      - conv: {filters: $filters, kernel: 1, strides: $strides, from: input, name: short}
      - add: {from: [r1, short], name: add}
"""


# ---------------------------------------------------------------------------------- helpers


def spec(text: str) -> str:
    """A spec's text as written to disk (dedented, without the leading newline)."""
    return textwrap.dedent(text).lstrip("\n")


def write(tmp_path: Path, text: str | bytes, name: str = "f.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="\n")
    return path


def pos(text: str, needle: str, nth: int = 1, shift: int = 0) -> tuple[int, int]:
    """1-based (line, col) of the `nth` occurrence of `needle` in `text`, plus `shift` columns."""
    i = -1
    for _ in range(nth):
        i = text.index(needle, i + 1)
    line = text.count("\n", 0, i) + 1
    col = i - (text.rfind("\n", 0, i) + 1) + 1
    return line, col + shift


def errors(tmp_path: Path, text: str | bytes, sets: dict | None = None, **kw) -> list[Diagnostic]:
    """Compile `text` as f.yaml; it must fail with a SpecError (never another exception)."""
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as info:
        compile_file(path, sets, **kw)
    assert info.value.diagnostics, "a SpecError always carries a diagnostic"
    for d in info.value.diagnostics:
        assert d.location.path == str(path) or d.location.path.endswith(".yaml")
    return info.value.diagnostics


def error(tmp_path: Path, text: str | bytes, sets: dict | None = None, **kw) -> Diagnostic:
    """The one diagnostic of a failing compile."""
    diags = errors(tmp_path, text, sets, **kw)
    assert len(diags) == 1, [d.render() for d in diags]
    return diags[0]


def at(d: Diagnostic) -> tuple[int, int]:
    return d.location.line, d.location.col


def build(tmp_path: Path, text: str, sets: dict | None = None, **kw) -> Graph:
    return compile_file(write(tmp_path, text), sets, **kw)


# ---------------------------------------------------------------------------------- loading


def test_empty_file(tmp_path: Path) -> None:
    for text in ("", "\n\n", "# only a comment\n   \n# another\n"):
        d = error(tmp_path, text)
        assert "file is empty" in d.message and "archspec: 1" in d.message
        assert at(d) == (0, 0) and str(d.location) == d.location.path  # the file as a whole


def test_document_marker_only_is_an_empty_file(tmp_path: Path) -> None:
    d = error(tmp_path, "---\n")
    assert "file is empty" in d.message
    assert at(d) == (1, 1)


def test_missing_file_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        compile_file(tmp_path / "nope.yaml")
    (d,) = info.value.diagnostics
    assert d.location.path == str(tmp_path / "nope.yaml")
    assert "cannot read file" in d.message and at(d) == (0, 0)


def test_file_too_large(tmp_path: Path) -> None:
    text = HEAD + "backbone: [relu]\n" + "#" * MAX_FILE_BYTES + "\n"
    d = error(tmp_path, text)
    assert f"{MAX_FILE_BYTES:,}" in d.message
    assert at(d) == (0, 0)


def test_non_utf8_bytes(tmp_path: Path) -> None:
    raw = b"archspec: 1\nname: t\ndoc: caf\xe9 au lait\n"
    d = error(tmp_path, raw)
    assert "not UTF-8" in d.message and "0xe9" in d.message
    assert at(d) == pos(raw.decode("latin-1"), "\xe9")


def test_non_utf8_column_counts_characters_before_it(tmp_path: Path) -> None:
    text = "archspec: 1\nname: t\ndoc: déjà \udcff\n"  # \udcff: the lone byte 0xff
    raw = text.encode("utf-8", "surrogateescape")
    d = error(tmp_path, raw)
    assert "0xff" in d.message
    assert at(d) == pos(text, "\udcff")


def test_invalid_yaml_syntax(tmp_path: Path) -> None:
    text = spec("""
        archspec: 1
        name: t
        input: {shape: [8, 8, 3]}
        backbone:
          - relu
           bad: 1
    """)
    d = error(tmp_path, text)
    assert d.message.startswith("invalid YAML:")
    line, _ = pos(text, "bad: 1")
    assert d.location.line in (line - 1, line)  # libyaml reports the dangling `:` or its line
    assert d.location.text is not None


def test_tags_are_refused(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - conv: !!python/object/apply:os.system ['echo hi']\n"
    d = error(tmp_path, text)
    assert "tag" in d.message and "python/object/apply:os.system" in d.message
    assert "not allowed" in d.message
    assert at(d) == pos(text, "!!python")


def test_duplicate_keys_are_all_reported(tmp_path: Path) -> None:
    text = spec("""
        archspec: 1
        name: t
        input: {shape: [8, 8, 3]}
        name: u
        backbone:
          - conv: {filters: 8, kernel: 3, filters: 16}
    """)
    first, second = errors(tmp_path, text)
    assert first.message == "duplicate key 'name' (first given at line 2)"
    assert at(first) == pos(text, "name:", 2)
    assert "duplicate key 'filters'" in second.message
    assert f"line {pos(text, 'filters')[0]}" in second.message
    assert at(second) == pos(text, "filters", 2)


def test_alias_without_anchor(tmp_path: Path) -> None:
    text = HEAD + "params: {a: &w 8, b: *x}\nbackbone: [relu]\n"
    d = error(tmp_path, text)
    assert "'*x'" in d.message and "no anchor" in d.message
    assert at(d) == pos(text, "*x")


def test_too_many_aliases(tmp_path: Path) -> None:
    text = HEAD + "doc: [" + ", ".join(["&v 1"] + ["*v"] * 300) + "]\nbackbone: [relu]\n"
    d = error(tmp_path, text)
    assert "more than 256 aliases" in d.message
    assert at(d) == pos(text, "*v", 257)


def test_billion_laughs_expansion_is_bounded(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "a: &a [" + ", ".join(["x"] * 1000) + "]",
            "b: &b [" + ", ".join(["*a"] * 10) + "]",
            "c: &c [" + ", ".join(["*b"] * 10) + "]",  # ~100,000 nodes
            "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",  # ~1,100,000: over the bound
            "",
        ]
    )
    d = error(tmp_path, text)
    assert f"expands to more than {MAX_EXPANDED_NODES:,} nodes" in d.message
    assert d.location.line == pos(text, "d: [")[0]
    assert d.location.text is not None and d.location.text[d.location.col - 1] == "*"


def test_nesting_depth_is_bounded(tmp_path: Path) -> None:
    text = "doc: " + "[" * 70 + "]" * 70 + "\n"
    d = error(tmp_path, text)
    assert "nesting is deeper than 64 levels" in d.message
    # the root mapping is level 1, so the 64th `[` opens level 65
    assert at(d) == pos(text, "[", 64)


def test_nan_and_infinity_are_refused(tmp_path: Path) -> None:
    for value in (".nan", ".inf", "-.Inf"):
        text = HEAD + f"params: {{x: {value}}}\nbackbone: [relu]\n"
        d = error(tmp_path, text)
        assert f"'{value}' is not a finite number" in d.message
        assert at(d) == pos(text, value)


def test_several_documents(tmp_path: Path) -> None:
    text = HEAD + "backbone: [relu]\n---\n" + HEAD + "backbone: [relu]\n"
    d = error(tmp_path, text)
    assert "one YAML document" in d.message
    assert at(d) == pos(text, "---")


def test_merge_keys_are_refused(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - conv: {<<: {filters: 8}, kernel: 3}\n"
    d = error(tmp_path, text)
    assert "merge keys '<<' are not supported" in d.message
    assert at(d) == pos(text, "<<")


def test_non_scalar_mapping_key(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - {[conv]: {filters: 8}}\n"
    d = error(tmp_path, text)
    assert "mapping keys must be plain scalars" in d.message
    assert at(d) == pos(text, "[conv]")


def test_explicitly_tagged_scalar_that_does_not_parse(tmp_path: Path) -> None:
    text = HEAD + "params: {w: !!int eight}\nbackbone: [relu]\n"
    d = error(tmp_path, text)
    assert "'eight' is not a valid int" in d.message
    assert at(d) == pos(text, "!!int")


# --------------------------------------------------------------------- structure (validation)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    d = error(tmp_path, "- conv: {filters: 8, kernel: 3}\n- relu\n")
    assert "a spec is a mapping" in d.message and "a list" in d.message
    assert at(d) == (1, 1)
    d = error(tmp_path, "42\n")
    assert "a spec is a mapping" in d.message and "42" in d.message
    assert at(d) == (1, 1)


def test_unknown_top_level_key_suggests(tmp_path: Path) -> None:
    text = "archspec: 1\nname: t\ninput: {shape: [8, 8, 3]}\nbakbone: [relu]\n"
    d = error(tmp_path, text)
    assert d.message == "unknown key 'bakbone' — did you mean 'backbone'?"
    assert at(d) == pos(text, "bakbone")


def test_missing_required_top_level_key(tmp_path: Path) -> None:
    text = "archspec: 1\ninput: {shape: [8, 8, 3]}\nbackbone: [relu]\n"
    d = error(tmp_path, text)
    assert d.message == "missing required key 'name'"
    assert at(d) == (1, 1)


def test_wrong_value_of_a_top_level_key(tmp_path: Path) -> None:
    text = "archspec: 2\nname: 9lives\ninput: {shape: [8, 8, 3]}\nbackbone: {relu: {}}\n"
    by_line = {d.location.line: d for d in errors(tmp_path, text)}
    assert "'archspec'" in by_line[1].message and "(got 2)" in by_line[1].message
    assert at(by_line[1]) == pos(text, "2")
    assert "'name'" in by_line[2].message and "'9lives'" in by_line[2].message
    assert at(by_line[2]) == pos(text, "9lives")
    assert "'backbone'" in by_line[4].message and "list" in by_line[4].message
    assert at(by_line[4]) == pos(text, "{relu")


def test_a_spec_needs_input_and_backbone(tmp_path: Path) -> None:
    msgs = [(d.message, at(d)) for d in errors(tmp_path, "archspec: 1\nname: t\n")]
    assert ("a spec needs `input: {shape: [...]}`", (1, 1)) in msgs
    assert ("a spec needs a `backbone:` list of nodes", (1, 1)) in msgs


def test_input_and_inputs_together(tmp_path: Path) -> None:
    text = "archspec: 1\nname: t\ninput: {shape: [8]}\ninputs: [{shape: [8]}]\nbackbone: [relu]\n"
    d = error(tmp_path, text)
    assert d.message == "give `input` or `inputs`, not both"
    assert at(d) == pos(text, "inputs")


def test_input_size_out_of_range(tmp_path: Path) -> None:
    text = "archspec: 1\nname: t\ninput: {shape: [32, 0, 3]}\nbackbone: [relu]\n"
    diags = errors(tmp_path, text)
    assert any("'shape'" in d.message and "greater than or equal to 1" in d.message for d in diags)
    assert {at(d) for d in diags} == {pos(text, "0")}


def test_input_size_from_an_expression_out_of_range(tmp_path: Path) -> None:
    text = "archspec: 1\nname: t\nparams: {s: 0}\ninput: {shape: [$s, 32, 3]}\nbackbone: [relu]\n"
    d = error(tmp_path, text)
    assert "input size must be 1…65536, got 0" in d.message
    assert at(d) == pos(text, "$s")


def test_wrong_type_of_a_param(tmp_path: Path) -> None:
    text = HEAD + "params: {w: [16, 32]}\nbackbone: [relu]\n"
    d = error(tmp_path, text)
    assert d.message.startswith("'w'")
    assert at(d) == pos(text, "[16")


def test_wrong_param_type_names_every_allowed_type(tmp_path: Path) -> None:
    text = HEAD + "params: {w: [16, 32]}\nbackbone: [relu]\n"
    d = error(tmp_path, text)
    assert d.message.startswith("'w'") and "str" in d.message
    assert at(d) == pos(text, "[16")


def test_unknown_key_does_not_hide_other_errors_in_the_same_mapping(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - conv: {filters: eight, kernel_size: 3, stride: 2}\n"
    found = {(d.location.line, d.location.col): d.message for d in errors(tmp_path, text)}
    assert "kernel_size" in found[pos(text, "kernel_size")]
    assert "stride" in found[pos(text, "stride:")]
    assert "'eight'" in found[pos(text, "eight")]


# ------------------------------------------------------------------------- nodes (validation)


def test_unknown_op_suggests(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - conv: {filters: 8, kernel: 3}\n  - bacthnorm\n  - convv: {}\n"
    first, second = errors(tmp_path, text)
    assert first.message == "unknown op or block 'bacthnorm'"
    assert at(first) == pos(text, "bacthnorm")
    assert second.message == "unknown op or block 'convv' — did you mean 'conv'?"
    assert at(second) == pos(text, "convv")


def test_node_is_not_one_op_mapping(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - {relu: {}, bn: {}}\n  - 5\n"
    first, second = errors(tmp_path, text)
    assert "a node is one `op: {arguments}` mapping" in first.message and "2 keys" in first.message
    assert at(first) == pos(text, "{relu")
    assert "got int" in second.message
    assert at(second) == pos(text, "5\n")


def test_arguments_are_not_a_mapping(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - dense: [10]\n"
    d = error(tmp_path, text)
    assert "the arguments of 'dense' must be a mapping" in d.message
    assert at(d) == pos(text, "[10]")


def test_unknown_argument_suggests_our_name_for_a_keras_name(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - conv: {filters: 8, kernel_size: 3}\n  - max_pool: {poool: 2}\n"
    first, second = errors(tmp_path, text)
    assert first.message == "unknown argument 'kernel_size' — did you mean 'kernel'?"
    assert at(first) == pos(text, "kernel_size")
    assert second.message == "unknown argument 'poool' — did you mean 'pool'?"
    assert at(second) == pos(text, "poool")


def test_wrong_argument_type(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - conv: {filters: eight, kernel: 3}\n  - bn: {center: 1}\n"
    first, second = errors(tmp_path, text)
    assert "'filters'" in first.message and "integer" in first.message
    assert "(got 'eight')" in first.message
    assert at(first) == pos(text, "eight")
    assert "'center'" in second.message and "boolean" in second.message
    assert at(second) == pos(text, "1}")


def test_argument_value_out_of_range_or_not_a_choice(tmp_path: Path) -> None:
    text = spec("""
        archspec: 1
        name: t
        input: {shape: [32, 32, 3]}
        backbone:
          - conv: {filters: 8, kernel: 3, padding: full}
          - dropout: {rate: 1.5}
          - conv: {filters: 8, kernel: [3, 3, 3]}
    """)
    pad, rate, kernel = errors(tmp_path, text)
    assert "'padding'" in pad.message and "'valid' or 'same'" in pad.message
    assert "(got 'full')" in pad.message
    assert at(pad) == pos(text, "full")
    assert "'rate'" in rate.message and "less than 1" in rate.message and "1.5" in rate.message
    assert at(rate) == pos(text, "1.5")
    assert "'kernel'" in kernel.message and "at most 2 items" in kernel.message
    assert at(kernel) == pos(text, "[3, 3, 3]")


def test_missing_required_argument(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - conv: {kernel: 3}\n"
    d = error(tmp_path, text)
    assert d.message == "missing required key 'filters'"
    assert at(d) == pos(text, "conv")


def test_too_short_list_argument_is_not_a_missing_key(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - zero_pad: {padding: [[1, 2], [3]]}\n"
    d = error(tmp_path, text)
    assert "'padding'" in d.message and "key" not in d.message
    assert at(d) == pos(text, "[3]")


def test_bad_node_name(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - relu: {name: 1st-relu}\n"
    d = error(tmp_path, text)
    assert "name '1st-relu' may hold only letters, digits and _" in d.message
    assert at(d) == pos(text, "1st-relu")


def test_bad_from(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - relu: {from: 3}\n  - relu: {from: []}\n"
    first, second = errors(tmp_path, text)
    for d, needle in ((first, "3}"), (second, "[]")):
        assert d.message == "`from` is a node name or a list of names"
        assert at(d) == pos(text, needle)


def test_bad_repeat(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - relu: {repeat: 0}\n  - relu: {repeat: 2.5}\n"
    first, second = errors(tmp_path, text)
    for d, needle in ((first, "0}"), (second, "2.5")):
        assert d.message == "repeat must be an integer from 1 to 10,000"
        assert at(d) == pos(text, needle)


def test_repeat_from_an_expression_out_of_range(tmp_path: Path) -> None:
    text = HEAD + "params: {n: 0}\nbackbone:\n  - relu: {repeat: $n}\n"
    d = error(tmp_path, text)
    assert "repeat must be 1…10,000, got 0" in d.message
    assert at(d) == pos(text, "$n")


def test_user_block_unknown_parameter_suggests(tmp_path: Path) -> None:
    text = HEAD + RES + "backbone:\n  - res: {filters: 8, strids: 2}\n"
    d = error(tmp_path, text)
    assert d.message == "block 'res' has no parameter 'strids' — did you mean 'strides'?"
    assert at(d) == pos(text, "strids")


def test_user_block_missing_parameter(tmp_path: Path) -> None:
    text = HEAD + RES + "backbone:\n  - res: {strides: 2}\n"
    d = error(tmp_path, text)
    assert d.message == "block 'res' needs parameter 'filters'"
    assert at(d) == pos(text, "res: {strides")


def test_user_block_parameter_of_the_wrong_type(tmp_path: Path) -> None:
    text = HEAD + "params: {w: 8.5}\n" + RES + "backbone:\n  - res: {filters: $w}\n"
    d = error(tmp_path, text)
    assert d.message == "'filters' must be int, got 8.5"
    assert at(d) == pos(text, "$w}")


def test_user_block_may_not_take_the_name_of_a_builtin_op(tmp_path: Path) -> None:
    text = HEAD + "blocks:\n  conv:\n    body: [relu]\nbackbone:\n  - conv\n"
    found = {at(d): d.message for d in errors(tmp_path, text)}
    assert "built-in" in found.get(pos(text, "conv:"), "")


def test_user_block_parameter_may_not_be_a_structural_key(tmp_path: Path) -> None:
    text = HEAD + "blocks:\n  b:\n    params: {name: str}\n    body: [relu]\n"
    text += "backbone:\n  - b: {name: first}\n"
    diags = errors(tmp_path, text)
    assert not any("needs parameter" in d.message for d in diags)
    found = {at(d): d.message for d in diags}
    assert "'name'" in found.get(pos(text, "name: str"), "")


# ------------------------------------------------------------------------------- expressions


def test_expression_syntax_error_points_inside_the_expression(tmp_path: Path) -> None:
    text = spec("""
        archspec: 1
        name: t
        input: {shape: [32, 32, 3]}
        params: {w: $16 +* 2}
        backbone:
          - conv: {filters: '$w +', kernel: 3}
    """)
    diags = {d.location.line: d for d in errors(tmp_path, text)}
    param = diags[pos(text, "+*")[0]]
    assert param.message == "unexpected '*'"
    assert at(param) == pos(text, "+*", shift=1)
    quoted = diags[pos(text, "'$w +'")[0]]
    assert quoted.message == "unexpected end of expression"
    assert at(quoted) == pos(text, "'$w +'", shift=len("'$w +"))  # just past the text


def test_expression_calls_only_whitelisted_functions(tmp_path: Path) -> None:
    text = HEAD + 'backbone:\n  - conv: {filters: "$pow(2, 3)", kernel: 3}\n'
    d = error(tmp_path, text)
    assert "function 'pow' is not allowed" in d.message and "max" in d.message
    assert at(d) == pos(text, "pow")


def test_expression_refuses_python(tmp_path: Path) -> None:
    cases = {
        "$__import__": ("names starting with '_' are not allowed", "__import__"),
        "$w.bit_length": ("attribute access is not allowed", ".bit"),
        "$w + 'a'": ("'+' needs numbers, got str", "+ 'a'"),
        "$max(a=1, b=2)": ("keyword arguments are not allowed", "=1"),
        "$lambda: 1": ("lambda expressions are not allowed", "lambda"),
    }
    for source, (message, needle) in cases.items():
        value = '"' + source + '"'
        text = HEAD + f"params: {{w: 8}}\nbackbone:\n  - conv: {{filters: {value}, kernel: 3}}\n"
        d = error(tmp_path, text)
        assert message in d.message, source
        assert at(d) == pos(text, needle), source


def test_expression_with_a_comma_inside_a_flow_mapping(tmp_path: Path) -> None:
    text = HEAD + "params: {w: 8}\nbackbone:\n  - conv: {filters: $max(8, w), kernel: 3}\n"
    first = errors(tmp_path, text)[0]  # YAML ends the value at the comma: `$max(8`
    assert "'(' was never closed" in first.message and "quote" in first.message
    assert at(first) == pos(text, "(8")


def test_expression_too_long(tmp_path: Path) -> None:
    long = "$" + "+".join(["1"] * 300)
    text = HEAD + f"backbone:\n  - conv: {{filters: '{long}', kernel: 3}}\n"
    d = error(tmp_path, text)
    assert "expression is too long (599 characters, max 500)" in d.message
    assert d.location.line == pos(text, long)[0]


def test_expression_undefined_name_suggests(tmp_path: Path) -> None:
    text = HEAD + "params: {width: 16}\nbackbone:\n  - conv: {filters: $widht * 2, kernel: 3}\n"
    d = error(tmp_path, text)
    assert d.message == "undefined name 'widht'; did you mean 'width'?"
    assert at(d) == pos(text, "widht")


def test_expression_arithmetic_error(tmp_path: Path) -> None:
    text = HEAD + "params: {d: 0}\nbackbone:\n  - conv: {filters: '$64 // d', kernel: 3}\n"
    d = error(tmp_path, text)
    assert d.message == "division by zero"
    assert at(d) == pos(text, "//")


def test_expression_operand_of_the_wrong_type(tmp_path: Path) -> None:
    text = HEAD + "params: {mode: same}\nbackbone:\n  - conv: {filters: $mode * 2, kernel: 3}\n"
    d = error(tmp_path, text)
    assert d.message == "'*' needs numbers, got str"
    assert at(d) == pos(text, "* 2")


def test_expression_result_too_large(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - conv: {filters: $2 ** 5000, kernel: 3}\n"
    d = error(tmp_path, text)
    assert d.message == "result too large"
    assert at(d) == pos(text, "**")


def test_expression_value_of_the_wrong_type_for_the_argument(tmp_path: Path) -> None:
    text = HEAD + "params: {w: 16}\nbackbone:\n  - conv: {filters: $w / 3, kernel: 3}\n"
    d = error(tmp_path, text)
    assert "'filters'" in d.message and "integer" in d.message and "5.33" in d.message
    assert at(d) == pos(text, "$w / 3")


def test_expression_in_a_block_body_notes_where_the_block_is_used(tmp_path: Path) -> None:
    text = HEAD + "blocks:\n  b:\n    params: {filters: int}\n    body:\n"
    text += "      - conv: {filters: $filtrs, kernel: 3}\nbackbone:\n  - b: {filters: 4}\n"
    d = error(tmp_path, text)
    assert d.message == "undefined name 'filtrs'; did you mean 'filters'?"
    assert at(d) == pos(text, "filtrs")
    (note,) = d.notes
    line, col = pos(text, "b: {filters")
    assert f"in block 'b' (b) used at {tmp_path / 'f.yaml'}:{line}:{col}" in note


def test_an_expression_in_from_names_a_node_or_is_a_located_error(tmp_path: Path) -> None:
    text = HEAD + "params: {src: stem}\nbackbone:\n  - relu: {name: stem}\n  - relu: {from: $src}\n"
    assert build(tmp_path, text).nodes["relu"].inputs == ("stem",)
    d = error(tmp_path, text, {"src": "nope"})
    assert d.message.startswith("no node named 'nope' above") and at(d) == pos(text, "$src")
    not_a_name = text.replace("$src", "$len(src) + 3")
    d = error(tmp_path, not_a_name)
    assert d.message == "`from` names a node; this expression gives 7"
    assert at(d) == pos(not_a_name, "$len")


# ----------------------------------------------------------------------- the walk: references


def test_from_names_no_node_above_and_suggests(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - conv: {filters: 8, kernel: 3, name: stem}\n"
    text += "  - relu: {from: stme}\n"
    d = error(tmp_path, text)
    assert d.message == "no node named 'stme' above — did you mean 'stem'?"
    assert at(d) == pos(text, "stme")


def test_from_forward_reference(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - concat: {from: [input, later]}\n  - relu: {name: later}\n"
    d = error(tmp_path, text)
    line = pos(text, "name: later")[0]
    assert "'later' is defined further down" in d.message and f"(line {line})" in d.message
    assert at(d) == pos(text, "later")


def test_from_outside_a_block_body(tmp_path: Path) -> None:
    text = HEAD + "blocks:\n  b:\n    body:\n      - relu: {from: stem}\n"
    text += "backbone:\n  - relu: {name: stem}\n  - b\n"
    d = error(tmp_path, text)
    assert d.message == "no node named 'stem' in this block"
    assert at(d) == pos(text, "stem")
    assert "in block 'b' (b) used at" in d.notes[0]


def test_duplicate_name(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - relu: {name: act}\n  - relu: {name: act}\n"
    d = error(tmp_path, text)
    assert d.message == f"name 'act' is already used (first at line {pos(text, 'act')[0]})"
    assert at(d) == pos(text, "act", 2)


def test_duplicate_of_an_automatic_name(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - relu\n  - relu: {name: relu}\n"
    d = error(tmp_path, text)
    line = pos(text, "- relu")[0]
    assert d.message == f"name 'relu' is already used by an unnamed node (first at line {line})"
    assert at(d) == pos(text, "relu}")


def test_duplicate_block_instance_name(tmp_path: Path) -> None:
    text = HEAD + RES + "backbone:\n  - res: {filters: 8, name: s}\n"
    text += "  - res: {filters: 8, name: s}\n"
    d = error(tmp_path, text)
    assert "'s' is already used" in d.message
    assert at(d) == pos(text, "name: s}", 2, shift=len("name: "))


def test_outputs_names_no_node(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - relu: {name: stem}\noutputs: [stem, stme]\n"
    d = error(tmp_path, text)
    assert d.message == "no node named 'stme' — did you mean 'stem'?"
    assert at(d) == pos(text, "stme")


def test_freeze_names_no_node(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - relu: {name: stem}\nfreeze: [stem, stme]\n"
    d = error(tmp_path, text)
    assert d.message == "no node or block 'stme' — did you mean 'stem'?"
    assert at(d) == pos(text, "stme")


# ---------------------------------------------------------------------- the walk: shapes, arity


def test_shape_mismatch_names_both_shapes_and_their_nodes(tmp_path: Path) -> None:
    text = spec("""
        archspec: 1
        name: t
        input: {shape: [32, 32, 3]}
        backbone:
          - conv: {filters: 8, kernel: 3, name: a}
          - conv: {filters: 16, kernel: 3, strides: 2, name: b}
          - add: {from: [a, b], name: conv3_block1_add}
    """)
    d = error(tmp_path, text)
    assert d.message == (
        "add 'conv3_block1_add' needs equal shapes, got 30×30×8 (from a) and 14×14×16 (from b)"
    )
    assert at(d) == pos(text, "add:")


def test_concat_mismatch_on_the_other_axes(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - max_pool: {pool: 2, name: p}\n  - concat: {from: [input, p]}\n"
    d = error(tmp_path, text)
    assert "concat 'concat' on axis -1 needs equal shapes on the other axes" in d.message
    assert "32×32×3 (from input) and 16×16×3 (from p)" in d.message
    assert at(d) == pos(text, "concat")


def test_window_shrinks_the_input_to_nothing(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - conv: {filters: 8, kernel: 33}\n"
    d = error(tmp_path, text)
    assert "conv 'conv' with window 33×33 and padding 'valid'" in d.message
    assert "shrinks 32×32×3 (from input) to 0×0×8" in d.message
    assert at(d) == pos(text, "conv")


def test_wrong_rank(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - flatten\n  - conv: {filters: 8, kernel: 3}\n"
    d = error(tmp_path, text)
    assert d.message == "conv 'conv' needs a H×W×C input, got 3072 (from flatten)"
    assert at(d) == pos(text, "conv")


def test_op_specific_shape_rule(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - conv: {filters: 8, kernel: 3, groups: 2}\n"
    d = error(tmp_path, text)
    assert "groups=2 must divide both the input channels (3) and filters (8)" in d.message
    assert at(d) == pos(text, "conv")


def test_op_arity(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - add\n"
    d = error(tmp_path, text)
    assert d.message == "add 'add' takes at least 2 input(s), got 1 — list them with `from: [a, b]`"
    assert at(d) == pos(text, "add")
    text = HEAD + "backbone:\n  - relu: {name: a}\n  - dense: {units: 4, from: [a, input]}\n"
    d = error(tmp_path, text)
    assert d.message == "dense 'dense' takes 1 input(s), got 2"
    assert at(d) == pos(text, "dense")


def test_user_block_arity(tmp_path: Path) -> None:
    text = HEAD + "blocks:\n  pair:\n    inputs: [x, y]\n    body:\n      - add: {from: [x, y]}\n"
    text += "backbone:\n  - pair\n"
    d = error(tmp_path, text)
    assert d.message == "block 'pair' (pair) takes 2 input(s), got 1"
    assert at(d) == pos(text, "- pair", shift=2)


def test_user_block_output_names_no_node(tmp_path: Path) -> None:
    text = HEAD + "blocks:\n  b:\n    output: last\n    body: [relu]\nbackbone:\n  - b\n"
    d = error(tmp_path, text)
    assert d.message == "no node named 'last' in the body"
    assert at(d) == pos(text, "last")


def test_user_block_recursion(tmp_path: Path) -> None:
    text = spec("""
        archspec: 1
        name: t
        input: {shape: [8, 8, 3]}
        blocks:
          ping:
            body: [relu, pong]
          pong:
            body: [relu, ping]
        backbone:
          - ping
    """)
    d = error(tmp_path, text)
    assert d.message == "block 'ping' uses itself: ping → pong → ping"
    assert at(d) == pos(text, "ping]")


# ------------------------------------------------------------------------------------- bounds


def test_param_bound(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - conv: {filters: 8, kernel: 3}\n"
    d = error(tmp_path, text, limits=Limits(max_params=100))
    assert d.message.startswith("conv 'conv': it has 224 params, over the bound of 100")
    assert "--max-params" in d.message
    assert at(d) == pos(text, "conv")


def test_network_param_bound(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - conv: {filters: 8, kernel: 3}\n"
    text += "  - conv: {filters: 8, kernel: 1}\n"
    d = error(tmp_path, text, limits=Limits(max_params=250))
    assert "the network reaches 296 params here, over the bound of 250" in d.message
    assert "--max-params" in d.message
    assert at(d) == pos(text, "conv", 2)  # the second node, not the first


def test_node_bound_refuses_a_huge_repeat_early(tmp_path: Path) -> None:
    text = HEAD + RES + "backbone:\n  - res: {filters: 4, repeat: 10000}\n"
    d = error(tmp_path, text)
    assert "repeat 10,000 × 4 nodes passes the bound of 20,000 nodes" in d.message
    assert "--max-nodes" in d.message
    assert at(d) == pos(text, "10000")


def test_node_bound(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - relu\n  - relu\n  - relu\n"
    d = error(tmp_path, text, limits=Limits(max_nodes=3))  # the input is a node too
    assert d.message.startswith("relu 'relu_2': the network passes 3 nodes here")
    assert "--max-nodes" in d.message
    assert at(d) == pos(text, "relu", 3)


def test_tensor_size_bound(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - upsample: {size: 1000}\n"
    d = error(tmp_path, text)
    assert "its output 32000×32000×3 holds 3,072,000,000 values" in d.message
    assert at(d) == pos(text, "upsample")


def test_block_nesting_bound(tmp_path: Path) -> None:
    text = HEAD + "blocks:\n"
    text += "".join(f"  b{i}:\n    body: [b{i + 1}]\n" for i in range(40))
    text += "  b40:\n    body: [relu]\nbackbone: [b0]\n"
    d = error(tmp_path, text)
    assert d.message == "blocks nest deeper than 32 levels"
    assert at(d) == pos(text, "[b32]", shift=1)


# ------------------------------------------------------------------ --set, extends, override


PARAMS = HEAD + "params: {width: 16, rate: 0.5, flag: true}\nbackbone:\n"
PARAMS += "  - conv: {filters: $width, kernel: 3}\n"


def test_set_unknown_key_suggests(tmp_path: Path) -> None:
    d = error(tmp_path, PARAMS, {"widht": "8"})
    assert d.message == "--set widht=…: the spec has no param 'widht' — did you mean 'width'?"
    assert at(d) == pos(PARAMS, "params")


def test_set_value_of_the_wrong_type(tmp_path: Path) -> None:
    for key, value, kind, default in (
        ("width", "eight", "int", "16"),
        ("rate", "nan", "float", "0.5"),
        ("flag", "maybe", "bool", "True"),
    ):
        d = error(tmp_path, PARAMS, {key: value})
        assert d.message == f"--set {key}={value}: '{key}' is {kind} (its default is {default})"
        assert at(d) == pos(PARAMS, f"{key}:", shift=len(key) + 2)


@given(digits=st.text(st.characters(categories=["Nd"]), min_size=1, max_size=4))
@settings(max_examples=60, deadline=None)
def test_set_numbers_are_ascii_digits_only(tmp_path_factory, digits: str) -> None:
    """Python's int() reads any script's digits ('١٠' is 10); a spec's numbers are ASCII."""
    tmp = tmp_path_factory.mktemp("set")
    if digits.isascii():
        width = str(int(digits) + 1)  # 0 filters is refused where it is used
        assert build(tmp, PARAMS, {"width": width}).params["width"] == int(width)
        return
    for key in ("width", "rate"):
        d = error(tmp, PARAMS, {key: digits})
        assert d.message.startswith(f"--set {key}={digits}: '{key}' is ")


def test_huge_numbers_are_shortened_in_messages(tmp_path: Path) -> None:
    d = error(tmp_path, PARAMS, {"width": "9" * 309})
    assert "(got 9.99e308 (a 309-digit number))" in d.message and "99999" not in d.message


def test_set_value_out_of_range_is_reported_where_it_is_used(tmp_path: Path) -> None:
    d = error(tmp_path, PARAMS, {"width": "0"})
    assert "'filters'" in d.message and "greater than or equal to 1" in d.message
    assert at(d) == pos(PARAMS, "$width")


def test_extends_missing_file(tmp_path: Path) -> None:
    text = "archspec: 1\nname: child\nextends: base.yaml\n"
    d = error(tmp_path, text)
    assert f"cannot find 'base.yaml' (looked at {tmp_path / 'base.yaml'})" in d.message
    assert at(d) == pos(text, "base.yaml")


def test_extends_cycle(tmp_path: Path) -> None:
    write(tmp_path, "archspec: 1\nname: a\nextends: f.yaml\n", "a.yaml")
    text = "archspec: 1\nname: f\nextends: a.yaml\n"
    d = error(tmp_path, text)
    assert d.location.path == str(tmp_path / "a.yaml")  # the file that closes the cycle
    assert d.message == "'f.yaml' is already in this chain of `extends` (a cycle)"
    assert at(d) == pos("archspec: 1\nname: a\nextends: f.yaml\n", "f.yaml")


def test_extends_too_deep(tmp_path: Path) -> None:
    for i in range(10):
        write(tmp_path, f"archspec: 1\nname: e{i}\nextends: e{i + 1}.yaml\n", f"e{i}.yaml")
    write(tmp_path, HEAD + "backbone: [relu]\n", "e10.yaml")
    d = error(tmp_path, "archspec: 1\nname: t\nextends: e0.yaml\n")
    assert d.message == "`extends` chains hold at most 8 files"
    assert d.location.path == str(tmp_path / "e6.yaml")  # the 8th file may not extend a 9th
    e6 = (tmp_path / "e6.yaml").read_text()
    assert at(d) == pos(e6, "e7.yaml")


def test_error_in_the_base_file_is_located_in_the_base_file(tmp_path: Path) -> None:
    base = HEAD + "backbone:\n  - relux\n"
    write(tmp_path, base, "base.yaml")
    d = error(tmp_path, "archspec: 1\nname: child\nextends: base.yaml\n")
    assert d.location.path == str(tmp_path / "base.yaml")
    assert d.message == "unknown op or block 'relux' — did you mean 'relu'?"
    assert at(d) == pos(base, "relux")


BASE = HEAD + RES + "backbone:\n  - conv: {filters: 8, kernel: 3, name: stem}\n"
BASE += "  - res: {filters: 8, repeat: 2, name: stage1}\n"


def test_override_names_no_node_suggests(tmp_path: Path) -> None:
    write(tmp_path, BASE, "base.yaml")
    text = "archspec: 1\nname: c\nextends: base.yaml\noverride:\n  stme: {filters: 4}\n"
    d = error(tmp_path, text)
    assert d.message == "`override` names no node or block 'stme' — did you mean 'stem'?"
    assert at(d) == pos(text, "stme")


def test_override_errors_point_at_the_override(tmp_path: Path) -> None:
    write(tmp_path, BASE, "base.yaml")
    text = "archspec: 1\nname: c\nextends: base.yaml\noverride:\n  stem: {filterz: 4}\n"
    d = error(tmp_path, text)
    assert "unknown argument 'filterz' — did you mean 'filters'?" in d.message
    assert d.location.path == str(tmp_path / "f.yaml")
    assert at(d) == pos(text, "filterz")


def test_override_of_a_repeated_block_by_its_name(tmp_path: Path) -> None:
    write(tmp_path, BASE, "base.yaml")
    text = "archspec: 1\nname: c\nextends: base.yaml\noverride:\n  stage1: {filters: 4}\n"
    graph = build(tmp_path, text)
    assert graph.nodes["stage1_block2_c1"].shape[-1] == 4


def test_child_uses_a_block_of_its_base(tmp_path: Path) -> None:
    write(tmp_path, BASE, "base.yaml")
    text = "archspec: 1\nname: c\nextends: base.yaml\nbackbone:\n  - res: {filters: 8, strids: 2}\n"
    d = error(tmp_path, text)
    assert d.message == "block 'res' has no parameter 'strids' — did you mean 'strides'?"
    assert at(d) == pos(text, "strids")


# --------------------------------------------------------------------- several errors at once


def test_independent_mistakes_are_reported_together(tmp_path: Path) -> None:
    text = spec("""
        archspec: 1
        name: t
        params: {w: [16]}
        input: {shape: [32, 32, 3]}
        blocks:
          unit:
            params: {f: int}
            body:
              - conv: {filters: $f, kernl: 3}
        backbone:
          - conv: {filters: 8, kernel: 3, paddin: same}
          - bacthnorm
          - dense: {units: ten}
          - unit: {f: 4}
        head:
          - dense: {units: '$w +'}
    """)
    found = {at(d): d.message for d in errors(tmp_path, text)}
    assert found == {
        pos(text, "[16]"): found.get(pos(text, "[16]"), "<missing>"),
        pos(text, "kernl"): "unknown argument 'kernl' — did you mean 'kernel'?",
        pos(text, "paddin"): "unknown argument 'paddin' — did you mean 'padding'?",
        pos(text, "bacthnorm"): "unknown op or block 'bacthnorm'",
        pos(text, "ten"): found.get(pos(text, "ten"), "<missing>"),
        pos(text, "'$w +'", shift=5): "unexpected end of expression",
    }
    assert found[pos(text, "[16]")].startswith("'w'")
    assert "'units'" in found[pos(text, "ten")] and "(got 'ten')" in found[pos(text, "ten")]


def test_a_structural_error_does_not_hide_block_argument_errors(tmp_path: Path) -> None:
    text = HEAD + "params: {w: [16]}\n" + RES + "backbone:\n  - res: {filters: 8, strids: 2}\n"
    found = {at(d): d.message for d in errors(tmp_path, text)}
    assert found[pos(text, "[16]")].startswith("'w'")
    assert "has no parameter 'strids'" in found.get(pos(text, "strids"), "")


def test_the_walk_stops_at_its_first_error(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - relu: {from: nowhere}\n  - relu: {from: elsewhere}\n"
    d = error(tmp_path, text)
    assert "'nowhere'" in d.message


# ------------------------------------------------------------------------------------- CLI


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("ARCHC_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "archcompiler.cli", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_cli_check_prints_located_errors_and_exits_1(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - conv: {filters: 8, kernel: 3}\n  - bacthnorm: {}\n"
    write(tmp_path, text)
    out = cli(tmp_path, "check", "f.yaml")
    assert out.returncode == 1
    line, col = pos(text, "bacthnorm")
    assert out.stderr.startswith(f"f.yaml:{line}:{col}: error: unknown op or block 'bacthnorm'")
    lines = out.stderr.splitlines()
    assert lines[1].endswith("|   - bacthnorm: {}") and lines[1].strip().startswith(str(line))
    caret = lines[2]
    assert caret.rstrip().endswith("^") and caret.index("^") == lines[1].index("- bacthnorm") + 2
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_cli_summary_set_errors(tmp_path: Path) -> None:
    write(tmp_path, PARAMS)
    out = cli(tmp_path, "summary", "f.yaml", "--set", "widht=8")
    assert out.returncode == 1
    line, col = pos(PARAMS, "params")
    assert out.stderr.startswith(f"f.yaml:{line}:{col}: error: --set widht=…")
    assert "did you mean 'width'?" in out.stderr
    out = cli(tmp_path, "summary", "f.yaml", "--set", "width=wide")
    assert out.returncode == 1
    line, col = pos(PARAMS, "16")
    assert out.stderr.startswith(f"f.yaml:{line}:{col}: error: --set width=wide: 'width' is int")
    assert "Traceback" not in out.stderr


def test_cli_set_without_equals_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path, PARAMS)
    out = cli(tmp_path, "summary", "f.yaml", "--set", "width")
    assert out.returncode in (1, 2) and "KEY=VALUE" in out.stderr
    assert "internal error" not in out.stderr and "bug in archcompiler" not in out.stderr
