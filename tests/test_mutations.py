"""Error properties: random mutations of valid specs give located errors, never anything else.

Each example takes a valid spec (every file in specs/ and a few small ones), applies one random
mutation to its YAML *text* — drop a key, a value of the wrong type, a typo in an op or argument
name, a broken `from`, a zero, negative or huge number, a value wrapped in a list or mapping, a
deleted or duplicated line — and compiles it in-process. The mutant either compiles (some
mutations are harmless: a renamed layer, a different but valid size) or raises SpecError whose
diagnostics all have line >= 1, col >= 1 and a message; any other exception fails the property.

Where the error may be. Specs flow downwards: params and input come first, blocks are defined
before they are used, and a node takes inputs only from nodes above it. So a one-line mutation
is reported *on its line* or *below it* (a changed size or stride is caught at the merge or window
that it breaks further down; a renamed node at the `from`, `outputs` or `freeze` that names it;
a changed param at the nodes that use it). The exceptions, each allowed explicitly below:
- a deleted line whose key was required ("missing required key …", "a spec needs …") is reported
  at the enclosing mapping, which starts above it;
- YAML syntax errors may be reported at the next token, one line further, or (deleting a line)
  at the line that moved up into its place;
- a bad argument given to a user block is reported at the body line that uses it, with a
  `note: in block … used at LINE` naming the mutated use (docs/errors.md);
- a mutated child of `extends` (vgg16_transfer) may be reported in its base file, where its
  params and overrides are used.
Typos in an op or argument name and broken `from`s are stricter: exactly the mutated line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from archcompiler.compiler import compile_file
from archcompiler.errors import SpecError

ROOT = Path(__file__).resolve().parent.parent
ZOO = sorted((ROOT / "specs").glob("*.yaml"))

SMALL = {
    "small_chain.yaml": """\
archspec: 1
name: small_chain
params:
  width: 8
  classes: 3
input: {shape: [16, 16, 3]}
backbone:
  - conv: {filters: $width, kernel: 3, padding: same, name: stem}
  - bn: {name: stem_bn}
  - relu: {name: stem_relu}
  - max_pool: {pool: 2, strides: 2, name: pool}
  - conv: {filters: 16, kernel: 3, strides: 1, name: conv2}
  - global_avg_pool: {name: gap}
head:
  - dropout: {rate: 0.5, name: drop}
  - dense: {units: $classes, activation: softmax, name: predictions}
""",
    "small_dag.yaml": """\
archspec: 1
name: small_dag
params:
  c: 8
input: {shape: [16, 16, 4]}
blocks:
  res:
    params:
      filters: int
      strides: 1
    body:
      - conv: {filters: $filters, kernel: 3, strides: $strides, padding: same, name: a}
      - bn: {name: a_bn}
      - conv: {filters: $filters, kernel: 1, strides: $strides, from: input, name: proj}
      - add: {from: [a_bn, proj], name: add}
backbone:
  - conv: {filters: $c, kernel: 3, padding: same, name: stem}
  - res: {filters: 8, name: r1}
  - res: {filters: 16, strides: 2, repeat: 2, name: r2}
  - conv: {filters: 16, kernel: 1, from: r1, strides: 2, name: side}
  - concat: {from: [r2, side], name: cat}
  - global_max_pool: {name: gmp}
head:
  - dense: {units: 4, name: predictions}
""",
    "small_blocks.yaml": """\
archspec: 1
name: small_blocks
input: {shape: [16, 16, 3]}
backbone:
  - vgg_stage: {convs: 2, filters: 8, name: block1}
  - basic: {filters: 8, strides: 1, name: b1}
  - bottleneck: {filters: 4, strides: 2, name: b2}
  - fire: {squeeze: 4, expand1x1: 8, expand3x3: 8, name: fire2}
  - dense_block: {growth_rate: 4, repeat: 2, name: d1}
  - transition: {reduction: 0.5, name: t1}
  - depthwise_sep: {filters: 16, strides: 1, block_id: 1}
  - inception: {c1x1: 4, c3x3_reduce: 4, c3x3: 4, c5x5_reduce: 2, c5x5: 2, pool_proj: 2}
  - flatten
head:
  - dense: {units: 2, activation: softmax, name: predictions}
""",
}


@pytest.fixture(scope="module")
def workdir():
    """The zoo and the small specs in one folder, so `extends: vgg16.yaml` resolves."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for path in ZOO:
            shutil.copy(path, work / path.name)
        for name, text in SMALL.items():
            (work / name).write_text(text)
        yield work


SEEDS = [p.name for p in ZOO] + sorted(SMALL)


def seed_text(name: str) -> str:
    return SMALL[name] if name in SMALL else (ROOT / "specs" / name).read_text()


# --- mutations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    text: str
    kind: str
    line: int  # 1-based line mutated (for a deletion: the line that was removed)
    strict: bool  # the error must be on exactly this line


KEY = re.compile(r"(?<![\w$.])([A-Za-z_]\w*)(?=:\s)")
VALUE = re.compile(r"(?<=:\s)(?!\s)([^,{}\[\]#\n]+?)(?=\s*(?:[,}\]]|#|$))")
NODE_OP = re.compile(r"^(\s*-\s+)([A-Za-z_]\w*)(?=:\s|\s*$)")
INT = re.compile(r"(?<![\w.$])-?\d+(?![\w.])")
FROM = re.compile(r"(from:\s*)(\[[^\]]*\]|[A-Za-z_]\w*)")
STRUCTURAL = {"name", "doc", "from", "repeat", "when"}


def editable(lines: list[str]) -> list[int]:
    return [i for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]


def section_of(lines: list[str], i: int) -> str:
    for j in range(i, -1, -1):
        m = re.match(r"^([A-Za-z_]\w*):", lines[j])
        if m:
            return m.group(1)
    return ""


def typo(draw, word: str) -> str:
    """One edit: drop, double, swap or replace a character (never the identity)."""
    letters = "abcdefghijklmnopqrstuvwxyz_"
    while True:
        i = draw(st.integers(0, len(word) - 1))
        how = draw(st.sampled_from(["drop", "double", "swap", "replace"]))
        if how == "drop" and len(word) > 1:
            new = word[:i] + word[i + 1 :]
        elif how == "double":
            new = word[:i] + word[i] + word[i:]
        elif how == "swap" and i + 1 < len(word):
            new = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        else:
            new = word[:i] + draw(st.sampled_from(letters)) + word[i + 1 :]
        if new != word:
            return new


def replace_span(line: str, m: re.Match, new: str, group: int = 1) -> str:
    return line[: m.start(group)] + new + line[m.end(group) :]


@st.composite
def mutants(draw, text: str) -> Mutant:
    lines = text.split("\n")
    rows = editable(lines)
    kind = draw(
        st.sampled_from(
            [
                "drop_key", "wrong_type", "typo_op", "typo_arg", "break_from", "zero_or_negative",
                "huge_number", "wrap", "delete_line", "duplicate_line",
            ]
        )
    )  # fmt: skip

    def pick(pattern: re.Pattern, where=None) -> tuple[int, re.Match]:
        found = [
            (i, m)
            for i in rows
            if where is None or where(i)
            for m in pattern.finditer(lines[i])
        ]  # fmt: skip
        assume(found)
        return draw(st.sampled_from(found))

    def done(i: int, new_line: str | None, strict: bool = False) -> Mutant:
        out = list(lines)
        if new_line is None:
            del out[i]
        else:
            out[i] = new_line
        assume(out != lines)
        return Mutant("\n".join(out), kind, i + 1, strict)

    if kind == "delete_line":
        return done(draw(st.sampled_from(rows)), None)
    if kind == "duplicate_line":
        i = draw(st.sampled_from(rows))
        out = [*lines[: i + 1], lines[i], *lines[i + 1 :]]
        return Mutant("\n".join(out), kind, i + 1, False)
    if kind == "typo_op":
        i, m = pick(NODE_OP)
        return done(i, replace_span(lines[i], m, typo(draw, m.group(2)), 2), strict=True)
    if kind == "typo_arg":
        # argument keys inside a node's {…} (not structural keys, whose values may be anything)
        i, m = pick(KEY, lambda i: bool(NODE_OP.match(lines[i])) and "{" in lines[i])
        assume(m.start() > lines[i].index("{") and m.group(1) not in STRUCTURAL)
        return done(i, replace_span(lines[i], m, typo(draw, m.group(1))), strict=True)
    if kind == "break_from":
        i, m = pick(FROM)
        return done(i, replace_span(lines[i], m, "nowhere_" + typo(draw, "node"), 2), strict=True)
    if kind == "drop_key":
        # one `key: value` item of a flow mapping, with its comma
        i, m = pick(
            re.compile(r"(,\s*[A-Za-z_]\w*:\s*[^,{}\[\]]+|[A-Za-z_]\w*:\s*[^,{}\[\]]+,\s*)")
        )
        assume("{" in lines[i][: m.start()])
        return done(i, replace_span(lines[i], m, ""))
    # the rest change one value
    if kind in ("zero_or_negative", "huge_number"):
        i, m = pick(INT)
        if kind == "zero_or_negative":
            new = draw(st.sampled_from(["0", "-1", "-" + m.group(0).lstrip("-"), "-65536"]))
        else:
            new = draw(st.sampled_from(["65537", "2147483648", "10" * 20, "9" * 400, "1e308"]))
        return done(i, replace_span(lines[i], m, new, 0))
    i, m = pick(VALUE)
    value = m.group(1)
    if kind == "wrong_type":
        new = draw(st.sampled_from(["eight", "true", "2.5", "null", "'7'", "[]", "{}", "-3"]))
    else:  # wrap
        new = draw(st.sampled_from([f"[{value}]", f"{{x: {value}}}", f"[[{value}]]"]))
    return done(i, replace_span(lines[i], m, new))


# --- the property -------------------------------------------------------------------------------

ELSEWHERE_ABOVE = ("missing required key", "a spec needs", "needs parameter", "invalid YAML")


def _encloses(text: str, line: int, changed: int) -> bool:
    """Line `line` starts what line `changed` continues: every line between them is indented
    deeper (a node's flow mapping, a folded `>-` value, over several lines)."""
    lines = text.splitlines()
    if not line < changed <= len(lines) + 1:
        return False

    def indent(s: str) -> int:
        return len(s) - len(s.lstrip(" -"))

    top = indent(lines[line - 1])
    return all(indent(s) > top for s in lines[line : changed - 1] if s.strip())


def check_mutant(work: Path, seed: str, mutant: Mutant) -> None:
    path = work / f"mutant_{seed}"
    path.write_text(mutant.text)
    try:
        compile_file(path)
    except SpecError as e:
        diags = e.diagnostics
    else:
        return  # a harmless mutation
    assert diags
    for d in diags:
        assert d.location.line >= 1 and d.location.col >= 1, d
        assert d.message.strip(), d
    first = diags[0]
    where = f"{mutant.kind} at line {mutant.line}: {first.location}: {first.message}"
    if Path(first.location.path).name != path.name:
        # the error is in the base of `extends`, where the child's params and overrides are used
        assert "extends" in mutant.text, where
        return
    nlines = mutant.text.count("\n") + 1
    assert first.location.line <= nlines + 1, where
    if mutant.strict:
        assert first.location.line == mutant.line, where
        return
    lowest = mutant.line - 1 if mutant.kind == "delete_line" else mutant.line
    if any(f"{path}:{mutant.line}:" in note for note in first.notes):
        return  # a bad argument of a user block: reported in the body, with a note at the use
    if _encloses(mutant.text, first.location.line, mutant.line):
        return  # reported at the node (or key) written over several lines that holds the change
    if first.location.line < lowest:
        # a required key deleted (or a block parameter made required): reported at the mapping or
        # the use that encloses it; a YAML error at the token after the deletion
        assert any(s in first.message for s in ELSEWHERE_ABOVE) or (
            mutant.kind == "delete_line" and first.location.line >= mutant.line - 1
        ), where


def scaled(n: int) -> int:
    """`n` examples under the ci profile (200), proportionally more under the fuzz profile."""
    return max(1, settings().max_examples * n // 200)


@pytest.mark.parametrize("seed", SEEDS)
@settings(max_examples=scaled(40), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_spec_gives_located_errors_only(workdir, seed, data) -> None:
    mutant = data.draw(mutants(seed_text(seed)), label="mutant")
    check_mutant(workdir, seed, mutant)


def test_a_known_mutation_is_caught_on_its_line(workdir) -> None:
    """A guard that the harness is live: a negative `filters` in lenet5 fails on its line."""
    text = seed_text("lenet5.yaml")
    line = text[: text.index("filters: 6,")].count("\n") + 1
    mutant = Mutant(text.replace("filters: 6,", "filters: -6,"), "zero_or_negative", line, True)
    check_mutant(workdir, "live.yaml", mutant)
    with pytest.raises(SpecError) as info:
        compile_file(workdir / "mutant_live.yaml")
    assert info.value.diagnostics[0].location.line == line


# --- the same through the CLI: exit 1, located, no traceback ------------------------------------


@settings(max_examples=scaled(6), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.sampled_from(["lenet5.yaml", "small_dag.yaml", "resnet18.yaml"]), data=st.data())
def test_mutated_spec_through_the_cli(workdir, seed, data) -> None:
    mutant = data.draw(mutants(seed_text(seed)), label="mutant")
    path = workdir / f"cli_{seed}"
    path.write_text(mutant.text)
    proc = subprocess.run(
        [sys.executable, "-m", "archcompiler.cli", "check", str(path)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    if proc.returncode == 0:
        return
    assert proc.returncode == 1, proc.stderr
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: error: \S", proc.stderr), proc.stderr
