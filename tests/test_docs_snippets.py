"""Every ```yaml snippet in README.md and docs/*.md is checked.

- A whole spec (it has `archspec:`) must compile. One that `extends:` another is compiled from a
  temporary copy of specs/, placed so the path it names resolves (`vgg16.yaml` or
  `../specs/vgg16.yaml` from inside specs/, `specs/vgg16.yaml` from beside it).
- A fragment must load with our YAML loader; then, where it is a recognisable piece of a spec,
  it is completed and compiled too: a mapping of top-level keys gets the `archspec`, `name`,
  `input` and `backbone` it lacks; a list of nodes is placed after a 32×32×8 input and two
  nodes `a` and `b` of that shape (for examples of ops that merge several inputs).
- A snippet shown with a mistake on purpose — a ```console block right after it prints
  `error: MESSAGE` — must fail instead, with that message (compared up to its first number,
  since a completed fragment may see other shapes than the doc's full spec).
"""

from __future__ import annotations

import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from archcompiler.compiler import compile_file
from archcompiler.errors import SpecError
from archcompiler.spec.loader import load_text
from archcompiler.spec.model import SpecFile
from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```ya?ml[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
SHOWN_ERROR = re.compile(r"\s*```console[^\n]*\n(?:(?!```).)*?: error: ([^\n]+)", re.S)
SPEC_KEYS = set(SpecFile.model_fields)

# Snippets of docs/language.md or README.md known to be wrong: (file, a line of the snippet) →
# why. Each is xfail(strict=True), so fixing the doc makes the test fail until the entry goes.
KNOWN_WRONG: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Snippet:
    file: str  # relative to the repository root
    line: int  # of the opening fence
    text: str
    error: str | None = None  # the message of an error the doc shows right after it

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def snippets() -> list[Snippet]:
    out = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            shown = SHOWN_ERROR.match(text, m.end())
            error = shown.group(1).strip() if shown else None
            out.append(Snippet(path.relative_to(ROOT).as_posix(), line, m.group(1), error))
    return out


def params() -> list:
    out = []
    for s in snippets():
        marks = [
            pytest.mark.xfail(strict=True, reason=reason)
            for (file, line), reason in KNOWN_WRONG.items()
            if file == s.file and line in s.text.splitlines()
        ]
        out.append(pytest.param(s, id=s.id, marks=marks))
    return out


def is_whole_spec(text: str) -> bool:
    return re.search(r"^archspec\s*:", text, re.M) is not None


def place(tmp_path: Path, text: str) -> Path:
    """Write a whole spec where its `extends` path resolves against a copy of specs/."""
    specs = tmp_path / "specs"
    m = re.search(r"^extends\s*:\s*['\"]?([^'\"#\s]+)", text, re.M)
    folder = tmp_path
    if m:
        shutil.copytree(ROOT / "specs", specs)
        base = m.group(1)
        folder = next((d for d in (specs, tmp_path) if (d / base).is_file()), specs)
    path = folder / "snippet.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def completed(data: object, text: str) -> str | None:
    """A fragment made into a whole spec, or None when it is no recognisable piece of one."""
    if isinstance(data, dict) and data and set(data) <= SPEC_KEYS:
        extra = ["archspec: 1", "name: snippet"]
        if not {"input", "inputs", "extends"} & set(data):
            extra.append("input: {shape: [32, 32, 3]}")
        if "backbone" not in data and "extends" not in data:
            extra.append("backbone: [relu]")
        return "\n".join(extra) + "\n" + text
    nodes = isinstance(data, list) and data
    if nodes and all(isinstance(n, (str, dict)) for n in data):
        return textwrap.dedent("""\
            archspec: 1
            name: snippet
            input: {shape: [32, 32, 8]}
            backbone:
              - conv: {filters: 8, kernel: 1, name: a}
              - conv: {filters: 8, kernel: 1, name: b, from: input}
            """) + textwrap.indent(text, "  ")
    return None


def test_the_docs_have_snippets() -> None:
    found = snippets()
    files = {s.file for s in found}
    assert "README.md" in files and "docs/language.md" in files
    assert sum(is_whole_spec(s.text) for s in found) >= 3


def test_known_wrong_entries_still_match_a_snippet() -> None:
    texts = {(s.file, line) for s in snippets() for line in s.text.splitlines()}
    for key in KNOWN_WRONG:
        assert key in texts, f"KNOWN_WRONG entry {key} matches no snippet any more; remove it"


def check(tmp_path: Path, snippet: Snippet) -> None:
    if is_whole_spec(snippet.text):
        compile_file(place(tmp_path, snippet.text))
        return
    doc = load_text(snippet.text, snippet.id)
    spec = completed(doc.data, snippet.text)
    if spec is not None:
        compile_file(place(tmp_path, spec))


@pytest.mark.parametrize("snippet", params())
def test_snippet(tmp_path: Path, snippet: Snippet) -> None:
    if snippet.error is None:
        check(tmp_path, snippet)
        return
    with pytest.raises(SpecError) as info:
        check(tmp_path, snippet)
    got = [d.message for d in info.value.diagnostics]
    expected = re.split(r"\d", snippet.error, maxsplit=1)[0]
    assert any(m.startswith(expected) for m in got), f"the doc shows {snippet.error!r}, got {got}"


@pytest.mark.parametrize(
    "text",
    [
        "- conv: {filters: 8}\n",  # a node fragment missing `kernel`
        "backbone:\n  - flatten\n  - conv: {filters: 8, kernel: 3}\n",  # a shape error
        "archspec: 1\nname: x\nextends: nowhere.yaml\n",
    ],
)
def test_the_check_catches_a_wrong_snippet(tmp_path: Path, text: str) -> None:
    with pytest.raises(SpecError):
        check(tmp_path, Snippet("x.md", 1, text))


@pytest.mark.parametrize("snippet", snippets(), ids=lambda s: f"{s.file}:{s.line}")
def test_snippet_reads_the_same_in_any_yaml_reader(snippet: Snippet) -> None:
    """A spec copied from the docs means the same to every YAML 1.1 reader (see
    tests/test_zoo.py)."""
    import yaml

    from archcompiler.errors import SpecError
    from archcompiler.spec.loader import load_text

    try:
        ours = load_text(snippet.text).data
    except SpecError:
        return  # a snippet that shows a mistake
    assert ours == yaml.safe_load(snippet.text)
