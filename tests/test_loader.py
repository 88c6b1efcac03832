"""The located loader: every value has a place, and unsafe YAML is refused with a location."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from archcompiler.errors import SpecError
from archcompiler.spec.loader import (
    LOADER,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    PURE_LOADER,
    load_bytes,
    load_file,
    load_text,
)


def only_error(text: str | bytes) -> tuple[int, int, str]:
    with pytest.raises(SpecError) as info:
        load_bytes(text if isinstance(text, bytes) else text.encode(), "t.yaml")
    (d,) = info.value.diagnostics
    return d.location.line, d.location.col, d.message


def test_every_key_value_and_item_has_a_location() -> None:
    doc = load_text("a: 1\nlist:\n  - x\n  - {k: v}\n", "t.yaml")
    assert doc.data == {"a": 1, "list": ["x", {"k": "v"}]}
    assert doc.keys[("a",)] == (1, 1)
    assert doc.values[("a",)] == (1, 4)
    assert doc.values[("list", 0)] == (3, 5)
    assert doc.values[("list", 1, "k")] == (4, 9)
    assert doc.keys[("list", 1, "k")] == (4, 6)
    # an unknown path falls back to the nearest enclosing value
    assert doc.location(("list", 1, "k", "deeper")).line == 4


def test_scientific_floats_without_a_dot_are_floats() -> None:
    assert load_text("e: 1e-5\nf: 1.001e-5\ng: 5\n").data == {"e": 1e-5, "f": 1.001e-5, "g": 5}


def test_python_tags_are_refused() -> None:
    line, col, msg = only_error("ok: 1\nx: !!python/object/apply:os.system ['echo hi']\n")
    assert (line, col) == (2, 4)
    assert "not allowed" in msg


@pytest.mark.parametrize("tag", ["!custom 1", "!!binary aGk=", "!!set {a: null}"])
def test_unknown_tags_are_refused(tag: str) -> None:
    _, col, msg = only_error(f"x: {tag}\n")
    assert col == 4 and "not allowed" in msg


def test_duplicate_keys_are_refused_at_the_second() -> None:
    line, col, msg = only_error("a: 1\nb: 2\na: 3\n")
    assert (line, col) == (3, 1)
    assert msg == "duplicate key 'a' (first given at line 1)"


def test_all_duplicate_keys_are_reported() -> None:
    with pytest.raises(SpecError) as info:
        load_text("a: 1\na: 2\nm: {x: 1, x: 2}\n")
    assert [d.location.line for d in info.value.diagnostics] == [2, 3]


def test_billion_laughs_is_refused() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    _, _, msg = only_error("\n".join(lines))
    assert "expands to more than" in msg or "aliases" in msg


def test_deep_nesting_is_refused_without_recursion() -> None:
    _, _, msg = only_error("a: " + "[" * 10_000 + "]" * 10_000)
    assert "nesting is deeper" in msg


class FlowLimitedLoader(PURE_LOADER):  # type: ignore[misc, valid-type]
    """A parser with a nesting limit of its own in the scanner, as libyaml 0.2.6 has (1,000):
    the scanner reads ahead of the events it has delivered, so the limit can fire first."""

    limit = 1000

    def fetch_flow_collection_start(self, token_class: type) -> None:
        if self.flow_level + 1 >= self.limit:
            raise yaml.scanner.ScannerError(
                None, None, "exceeded maximum nesting depth", self.get_mark()
            )
        super().fetch_flow_collection_start(token_class)


def outcome(text: str, loader: type = LOADER) -> object:
    """What loading gives: the data, or each error's line, column and message. The words of a
    YAML library's own syntax errors differ between libyaml and PyYAML (and between releases):
    for those, what we promise is the line and our `invalid YAML` prefix."""
    try:
        return load_text(text, "t.yaml", loader=loader).data
    except SpecError as e:
        return [
            (d.location.line, "invalid YAML")
            if d.message.startswith("invalid YAML:")
            else (d.location.line, d.location.col, d.message)
            for d in e.diagnostics
        ]


N = 10_000
DEEP = {  # text -> our refusal, as a parser without a limit of its own leads to it
    "x: " + "[" * N + "]" * N: (1, 67, "nesting is deeper than 64 levels"),
    "[" * 2000: (1, 65, "nesting is deeper than 64 levels"),
    "x: " + "{a: " * N + "1" + "}" * N: (1, 256, "nesting is deeper than 64 levels"),
    "x: " + "{" * N + "}" * N: (1, 5, "mapping keys must be plain scalars, not lists or mappings"),
    "x:\n" + "- " * N + "1\n": (2, 127, "nesting is deeper than 64 levels"),
    "a:\n  b:\n    - c: " + "[" * N + "]" * N: (3, 70, "nesting is deeper than 64 levels"),
    "".join(" " * i + "a:\n" for i in range(200)): (65, 65, "nesting is deeper than 64 levels"),
}


@pytest.mark.parametrize(
    "loader", [LOADER, PURE_LOADER, FlowLimitedLoader], ids=lambda c: c.__name__
)
@pytest.mark.parametrize("text", list(DEEP), ids=range(len(DEEP)))
def test_our_nesting_bound_decides_whatever_the_parser_limits(text: str, loader: type) -> None:
    assert outcome(text, loader) == [DEEP[text]]


# Nesting built from every kind of collection YAML has, block ones first, with text around it.
BLOCK = st.sampled_from(["- ", "k:\n"])
FLOW = st.sampled_from(["[", "{a: ", "{", "[1, ", "{a: 1, b: "])


@st.composite
def nested(draw: st.DrawFn) -> str:
    text, col = "", 0
    for level in draw(st.lists(BLOCK, max_size=2 * MAX_DEPTH)):
        col += 2 if level == "- " else 1
        text += level if level == "- " else level + " " * col
    flow = draw(st.lists(FLOW, max_size=3 * MAX_DEPTH))
    text += "".join(flow) + "1" + "".join("]" if f[0] == "[" else "}" for f in reversed(flow))
    return draw(st.sampled_from(["", "x:\n ", "doc: a [b] {c\nx:\n "])) + text + "\n"


@settings(max_examples=60, deadline=None)
@given(text=nested(), limit=st.integers(MAX_DEPTH + 2, 1100))
def test_the_parser_and_its_limits_never_change_the_outcome(text: str, limit: int) -> None:
    """Any limit of the parser's own above our bound (libyaml 0.2.6: 1,000) leaves our outcome."""
    limited = type("Limited", (FlowLimitedLoader,), {"limit": limit})
    assert outcome(text, limited) == outcome(text, PURE_LOADER) == outcome(text, LOADER)


HOSTILE = sorted((Path(__file__).parent / "hostile").glob("*.yaml"))


@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: p.stem)
def test_libyaml_and_the_pure_python_parser_agree_on_the_hostile_corpus(path: Path) -> None:
    text = path.read_bytes().decode("utf-8", "replace")
    assert outcome(text, LOADER) == outcome(text, PURE_LOADER)


def test_large_files_are_refused(tmp_path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: 1\n" + b"#" * MAX_FILE_BYTES)
    with pytest.raises(SpecError) as info:
        load_file(big)
    assert "limited to" in info.value.diagnostics[0].message


def test_non_utf8_is_located() -> None:
    line, col, msg = only_error(b"a: 1\nbb: caf\xe9\n")
    assert (line, col) == (2, 8)
    assert "not UTF-8" in msg


@pytest.mark.parametrize("value", [".nan", ".inf", "-.Inf"])
def test_non_finite_numbers_are_refused(value: str) -> None:
    assert "not a finite number" in only_error(f"x: {value}\n")[2]


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n"])
def test_empty_files_are_refused(text: str) -> None:
    assert "empty" in only_error(text)[2]


def test_a_second_document_is_refused() -> None:
    line, _, msg = only_error("a: 1\n---\nb: 2\n")
    assert line == 2 and "one YAML document" in msg


def test_merge_keys_are_refused() -> None:
    assert "merge keys" in only_error("base: &b {x: 1}\nd:\n  <<: *b\n")[2]


def test_syntax_errors_are_located() -> None:
    line, col, msg = only_error("a: [1, 2\nb: 3\n")
    assert msg.startswith("invalid YAML") and line >= 1 and col >= 1


def test_unreadable_file(tmp_path) -> None:
    with pytest.raises(SpecError) as info:
        load_file(tmp_path / "missing.yaml")
    assert "cannot read" in info.value.diagnostics[0].message


def test_aliases_share_values_within_bounds() -> None:
    doc = load_text("a: &v {filters: 8}\nb: *v\n")
    assert doc.data["b"] == {"filters": 8}
