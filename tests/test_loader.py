"""The located loader: every value has a place, and unsafe YAML is refused with a location."""

from __future__ import annotations

import pytest

from archcompiler.spec.errors import SpecError
from archcompiler.spec.loader import MAX_FILE_BYTES, load_bytes, load_file, load_text


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
