"""The input-size solver (archcompiler/sizes/) against the compiler itself.

The solver never compiles; these tests do, one size at a time, and hold that every size the
solver accepts compiles and every size it refuses fails with a SpecError: exhaustively over
1…MAX_GENERATED for generated specs with --slow (by default at the sizes around each change):
strided `valid` convs, pools, padding, cropping, upsampling, transposed convs, and merges of
paths with different downsampling; and on sampled
sizes in 1…300 (plus each spec's boundaries) for the zoo.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from archcompiler.cli import main
from archcompiler.compiler import compile_file
from archcompiler.errors import SpecError
from archcompiler.graph import Graph
from archcompiler.sizes import describe_set, solve, solve_file
from archcompiler.zoo import zoo_path, zoo_specs
from tests.conftest import ROOT
from tests.strategies import dump, spec_dicts

MAX_GENERATED = 48  # every size 1…48 is compiled for each generated spec
ZOO_RANGE = 300


def compiles(text: str, size: int, axes: tuple[int, ...] = (0, 1)) -> bool:
    """Whether `text` (a spec with a literal input shape) compiles at `size` on `axes`."""
    spec = yaml.safe_load(text)
    shape = list(spec["input"]["shape"])
    for a in axes:
        shape[a] = size
    spec["input"]["shape"] = shape
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.yaml"
        path.write_text(dump(spec))
        try:
            compile_file(path)
        except SpecError:
            return False
    return True


def graph_of(text: str) -> Graph | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.yaml"
        path.write_text(text)
        try:
            return compile_file(path)
        except SpecError:
            return None


# --- generated specs with size constraints ---------------------------------------------------

SPATIAL = st.one_of(
    st.builds(lambda k, s, p: {"conv": {"filters": 2, "kernel": k, "strides": s, "padding": p}},
              st.integers(1, 4), st.integers(1, 2), st.sampled_from(["same", "valid"])),
    st.builds(lambda k, s, p: {"max_pool": {"pool": k, "strides": s, "padding": p}},
              st.integers(1, 3), st.integers(1, 3), st.sampled_from(["same", "valid"])),
    st.builds(lambda k, d: {"depthwise_conv": {"kernel": k, "dilation_rate": d}},
              st.integers(1, 3), st.integers(1, 3)),
    st.builds(lambda t, b: {"zero_pad": {"padding": [[t, b], [t, b]]}},
              st.integers(0, 2), st.integers(0, 2)),
    st.builds(lambda t, b: {"crop": {"cropping": [[t, b], [b, t]]}},
              st.integers(0, 2), st.integers(0, 2)),
    st.builds(lambda f: {"upsample": {"size": f}}, st.integers(1, 3)),
    st.builds(lambda k, s, p: {"conv_transpose": {"filters": 2, "kernel": k, "strides": s,
                                                  "padding": p}},
              st.integers(1, 3), st.integers(1, 3), st.sampled_from(["same", "valid"])),
)  # fmt: skip


@st.composite
def branchy_specs(draw: st.DrawFn) -> str:
    """Two or three paths from one node, each a chain of spatial ops ending in a 1×1 conv to
    2 channels, merged by add or concat; optionally repeated; then a head."""
    nodes: list[dict[str, Any]] = [{"conv": {"filters": 2, "kernel": 1, "name": "stem"}}]
    src = "stem"
    for stage in range(draw(st.integers(1, 2))):
        ends = []
        shared = draw(st.lists(SPATIAL, min_size=0, max_size=2))
        for p in range(draw(st.integers(2, 3))):
            # a path: the ops every path shares, sometimes with more of its own
            chain = shared + draw(st.lists(SPATIAL, min_size=0, max_size=2))
            prev = src
            for j, item in enumerate(chain):
                ((kind, args),) = item.items()
                name = f"s{stage}p{p}n{j}"
                nodes.append({kind: {**args, "name": name, "from": prev}})
                prev = name
            name = f"s{stage}p{p}end"
            nodes.append({"conv": {"filters": 2, "kernel": 1, "name": name, "from": prev}})
            ends.append(name)
        merge = draw(st.sampled_from(["add", "concat", "multiply"]))
        src = f"s{stage}merge"
        nodes.append({merge: {"from": ends, "name": src}})
    head = draw(st.sampled_from(["gap", "flatten", "none"]))
    spec: dict[str, Any] = {"archspec": 1, "name": "branchy", "input": {"shape": [16, 16, 1]},
                            "backbone": nodes}  # fmt: skip
    if head == "gap":
        spec["head"] = [{"global_avg_pool": {}}, {"dense": {"units": 3}}]
    elif head == "flatten":
        spec["head"] = ["flatten", {"dense": {"units": 3}}]
    return dump(spec)


def _at_some_size(text: str, every: bool = False) -> tuple[str, Graph] | None:
    """The spec at the first size (of a few, or of all with `every`) at which it compiles: the
    solver needs a Graph."""
    spec = yaml.safe_load(text)
    for n in range(1, MAX_GENERATED + 1) if every else (16, 32, 48, 24, 40, 17, 33, 8):
        spec["input"]["shape"][:2] = [n, n]
        t = dump(spec)
        g = graph_of(t)
        if g is not None:
            return t, g
    return None


def disagreements(
    text: str, graph: Graph, upto: int, axes: tuple[int, ...] = (0, 1), every: bool = False
) -> tuple[list[int], str, int]:
    """The sizes where the solver's answer is not the compiler's — at every size 1…upto
    (`every`), or at the sizes where the answer changes, their neighbours and a few more —
    with the solver's pattern and how many sizes it accepts."""
    label = "H = W" if axes == (0, 1) else "HW"[axes[0]]
    (answer,) = [a for a in solve(graph, upto=upto).axes if a.axis == label]
    acc = answer.accepted
    if every:
        sizes = range(1, upto + 1)
    else:
        edges = {int(i) + 1 for i in np.flatnonzero(np.diff(acc.astype(int)))}
        sizes = sorted({1, upto, *edges, *(min(e + 1, upto) for e in edges), *range(2, upto, 7)})
    wrong = [n for n in sizes if compiles(text, n, axes) != acc[n - 1]]
    return wrong, answer.pattern(), int(acc.sum())


def assert_agrees(
    text: str, graph: Graph, upto: int, axes: tuple[int, ...] = (0, 1), every: bool = False
) -> int:
    """disagreements() is empty; returns how many sizes the solver accepts."""
    wrong, pattern, accepted = disagreements(text, graph, upto, axes, every)
    assert not wrong, f"the solver is wrong at sizes {wrong[:10]} ({pattern})\n{text}"
    return accepted


def _branchy(text: str, every: bool = False) -> list[int]:
    """The sizes where the solver is wrong about a generated branchy spec."""
    found = _at_some_size(text, every)
    assume(found is not None)
    return disagreements(*found, MAX_GENERATED, every=every)[0]


def _generated(spec: dict[str, Any], every: bool = False) -> list[int]:
    """The sizes where the solver is wrong about a generated spec (axes apart when not
    square, the other one kept at the spec's size)."""
    text = dump(spec)
    graph = graph_of(text)
    assert graph is not None
    h, w, _ = spec["input"]["shape"]
    axes = [(0, 1)] if h == w else [(0,), (1,)]
    return [n for a in axes for n in disagreements(text, graph, MAX_GENERATED, a, every)[0]]


# by default a few examples at the sizes around each change; with --slow many, at every size
FEW = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
MANY = settings(max_examples=50, deadline=None,
                suppress_health_check=[HealthCheck.filter_too_much])  # fmt: skip


@FEW
@given(branchy_specs())
def test_solver_agrees_with_the_compiler_on_branchy_specs(text: str) -> None:
    assert _branchy(text) == [], text


@FEW
@given(spec_dicts(max_steps=4))
def test_solver_agrees_with_the_compiler_on_generated_specs(spec: dict[str, Any]) -> None:
    assert _generated(spec) == [], spec


@pytest.mark.slow
@MANY
@given(branchy_specs())
def test_solver_agrees_on_many_branchy_specs(text: str) -> None:
    assert _branchy(text, every=True) == [], text


@pytest.mark.slow
@MANY
@given(spec_dicts(max_steps=6))
def test_solver_agrees_on_many_generated_specs(spec: dict[str, Any]) -> None:
    assert _generated(spec, every=True) == [], spec


# --- hand-made cases whose answer is known ---------------------------------------------------


def _solve_text(nodes: list[Any], head: list[Any] | None = None, size: int = 64) -> str:
    spec = {"archspec": 1, "name": "t", "input": {"shape": [size, size, 1]}, "backbone": nodes}
    if head:
        spec["head"] = head
    graph = graph_of(dump(spec))
    assert graph is not None
    return solve(graph, upto=512).axes[0].pattern()


def test_a_strided_valid_conv_beside_a_skip_forces_a_residue() -> None:
    # a 2×2/2 valid conv and a 1×1/2 same conv agree only when floor(n/2) == ceil(n/2): n even
    nodes = [
        {"conv": {"filters": 1, "kernel": 2, "strides": 2, "name": "a"}},
        {"conv": {"filters": 1, "kernel": 1, "strides": 2, "padding": "same", "from": "input",
                  "name": "b"}},
        {"add": {"from": ["a", "b"]}},
    ]  # fmt: skip
    # 3 passes too: floor(3/2) = 1, which broadcasts against 2
    assert _solve_text(nodes) == "2, 3, then 4 + 2k (min 2, step 2)"


def test_paths_with_different_downsampling_force_a_step() -> None:
    # concat of ⌊n/8⌋ (an 8×8 pool) and 2·⌊n/16⌋ (a 16×16 pool, upsampled ×2): equal when
    # n mod 16 < 8
    nodes = [
        {"max_pool": {"pool": 8, "name": "a"}},
        {"max_pool": {"pool": 16, "from": "input", "name": "b"}},
        {"upsample": {"size": 2, "name": "up"}},
        {"concat": {"from": ["a", "up"]}},
    ]
    assert describe_set(np.arange(1, 100) % 16 == 0).startswith("16 + 16k")
    text = _solve_text(nodes)
    assert text.startswith("n ≥ 16 with n mod 16 in {0, 1, 2, 3, 4, 5, 6, 7}"), text


def test_a_flatten_dense_head_reports_the_weights_that_follow_the_size() -> None:
    graph = compile_file("specs/vgg16.yaml")
    (axis,) = solve(graph).axes
    assert axis.fixed_by == ["fc1"]
    assert axis.pattern() == "any size ≥ 32 up to 703"  # fc1's params pass 10⁹ at 704


# --- the zoo ---------------------------------------------------------------------------------

QUICK_ZOO = [
    "lenet5", "resnet50", "vgg16", "inception_v3", "mobilenetv2", "nasnet_mobile",
    "efficientnetb0", "xception", "densenet121", "squeezenet", "mobilenetv3small",
]  # fmt: skip


def _zoo_compiles(path: str, graph: Graph, n: int) -> bool:
    if "size" in graph.params and graph.params["size"] == graph.nodes[graph.inputs[0]].shape[0]:
        try:
            compile_file(path, {"size": str(n)})
        except SpecError:
            return False
        return True
    return compiles(Path(path).read_text(), n)


def _check_zoo(name: str, samples: int) -> None:
    path = str(zoo_path(name))
    graph = compile_file(path)
    (axis,) = solve_file(path, upto=ZOO_RANGE).axes
    rng = np.random.default_rng(14)
    acc = axis.accepted
    edges = {int(i) + 1 for i in np.flatnonzero(np.diff(acc.astype(int)))}  # sizes around a change
    sizes = sorted({1, 2, ZOO_RANGE, *edges, *(e + 1 for e in edges if e < ZOO_RANGE),
                    *rng.integers(1, ZOO_RANGE + 1, samples).tolist()})  # fmt: skip
    wrong = [n for n in sizes if _zoo_compiles(path, graph, n) != acc[n - 1]]
    assert not wrong, f"{name}: wrong at {wrong} ({axis.pattern()})"


@pytest.mark.parametrize("name", QUICK_ZOO)
def test_solver_agrees_with_the_compiler_on_zoo_specs(name: str) -> None:
    _check_zoo(name, samples=4)


@pytest.mark.slow
@pytest.mark.parametrize("name", [p.stem for p in zoo_specs()])
def test_solver_agrees_with_the_compiler_on_every_zoo_spec(name: str) -> None:
    _check_zoo(name, samples=12)


def test_check_sizes_through_the_cli() -> None:
    result = CliRunner().invoke(main, ["check", "--sizes", "specs/lenet5.yaml"])
    assert result.exit_code == 0, result.output
    assert "lenet5.yaml: input sizes (H = W): any size ≥ 32 up to 1287\n" in result.output
    assert "conv 'c5'      shrinks to nothing  any size ≥ 32\n" in result.output


def test_summary_ends_with_the_input_sizes() -> None:
    result = CliRunner().invoke(main, ["summary", "specs/vgg16.yaml", "--wide"])
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().splitlines()[-1].split() == [
        "Input", "sizes:", "any", "size", "≥", "32", "up", "to", "703"]  # fmt: skip


def test_the_listings_of_docs_sizes_md_are_what_archc_prints(tmp_path: Path,
                                                             monkeypatch: Any) -> None:  # fmt: skip
    text = (ROOT / "docs" / "sizes.md").read_text()
    (spec,) = re.findall(r"```yaml\n(.*?)```", text, re.S)
    (tmp_path / "two_paths.yaml").write_text(spec)
    monkeypatch.chdir(tmp_path)
    listings = re.findall(r"```console\n\$ archc (.*?)\n(.*?)```", text, re.S)
    assert len(listings) == 2
    for command, shown in listings:
        result = CliRunner().invoke(main, command.split())
        assert result.exit_code == 0, result.output
        assert result.output == shown, command


def test_a_padding_written_as_an_expression_of_size_follows_the_size() -> None:
    # EfficientNet's stem_conv_pad is `$[[size % 2, 1], …]` (Keras's correct_pad): at size 1 it
    # pads (1, 1) and the stem conv fits; the Graph at 224 holds (0, 1), which would not
    path = str(zoo_path("efficientnetb0"))
    compile_file(path, {"size": "1"})
    graph = compile_file(path)
    assert not solve(graph).axes[0].accepted[0]
    assert solve_file(path).axes[0].accepted[0]


def test_a_non_square_input_is_solved_per_axis() -> None:
    conv = {"conv": {"filters": 1, "kernel": [5, 3], "strides": [4, 1]}}
    spec = {"archspec": 1, "name": "t", "input": {"shape": [40, 30, 1]}, "backbone": [conv]}
    graph = graph_of(dump(spec))
    assert graph is not None
    h, w = solve(graph, upto=64).axes
    assert (h.axis, h.pattern(), w.axis, w.pattern()) == ("H", "any size ≥ 5", "W", "any size ≥ 3")


def test_ops_whose_arguments_follow_the_size_are_named(tmp_path: Path) -> None:
    path = tmp_path / "dep.yaml"
    path.write_text(dump({
        "archspec": 1, "name": "dep", "params": {"size": 64},
        "input": {"shape": ["$size", "$size", 3]},
        "backbone": [{"avg_pool": {"pool": "$size // 8", "name": "pool"}}],
    }))  # fmt: skip
    assert solve_file(str(path)).follow_size == ["pool"]
    assert solve_file(str(zoo_path("efficientnetb0"))).follow_size == []
