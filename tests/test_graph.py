"""`archc graph`: DOT text with clusters, folding, skip connections and safe quoting; `.svg` and
`.png` through Graphviz's `dot` (those tests skip without it); clear errors, no partial files."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcompiler.cli import main
from archcompiler.compiler import compile_file
from archcompiler.errors import SpecError
from archcompiler.graph import BlockInstance, Graph, Node
from archcompiler.render import graph as render
from archcompiler.render.graph import RenderError, to_dot, write
from tests.conftest import ROOT, SPECS
from tests.helpers import build
from tests.helpers import write as write_spec

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(
    not HAS_DOT, reason="Graphviz's `dot` is not installed (apt-get install graphviz)"
)
SVG = "{http://www.w3.org/2000/svg}"

# A user block with a skip connection, used with `repeat`, and nested inside another user block.
TINY = """
archspec: 1
name: tiny
params: {width: 16, classes: 10}
blocks:
  res:
    params: {filters: int, strides: 1}
    body:
      - conv: {filters: $filters, kernel: 3, strides: $strides, padding: same, name: conv}
      - bn: {name: bn}
      - relu: {name: relu}
      - conv: {filters: $filters, kernel: 1, strides: $strides, from: input, name: shortcut}
      - add: {from: [relu, shortcut], name: add}
  stage:
    params: {filters: int}
    body:
      - res: {filters: $filters, strides: 2, name: a}
      - basic: {filters: $filters, name: b}
input: {shape: [32, 32, 3]}
backbone:
  - conv: {filters: $width, kernel: 3, padding: same, name: stem}
  - res: {filters: $width * 2, strides: 2, repeat: 2, name: stage1}
  - stage: {filters: 8, name: s2}
  - global_avg_pool: {name: pool}
head:
  - dense: {units: $classes, activation: softmax, name: predictions}
"""

_STATEMENT = re.compile(r'^\s*("(?:[^"\\]|\\.)*")\s*(?:->\s*("(?:[^"\\]|\\.)*")\s*)?(\[.*\])?;$')


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def parse(
    dot: str, legend: bool = False
) -> tuple[dict[str, tuple[tuple[str, ...], str]], dict[tuple[str, str], str]]:
    """Our DOT, read back: node id → (enclosing cluster ids, attributes) and, in order,
    (src, dst) → attributes; those of the legend cluster only if `legend`, else those of
    the model. Duplicate declarations fail the test."""
    nodes: dict[str, tuple[tuple[str, ...], str]] = {}
    edges: dict[tuple[str, str], str] = {}
    stack: list[str] = []
    for line in dot.splitlines()[1:-1]:
        if m := re.match(r'^\s*subgraph ("(?:[^"\\]|\\.)*") \{$', line):
            stack.append(_unquote(m[1]))
        elif line.strip() == "}":
            stack.pop()
        elif ("cluster_legend" in stack) != legend:
            continue
        elif (m := _STATEMENT.match(line)) and not line.strip().startswith(("graph ", "node ")):
            if m[2]:
                key = (_unquote(m[1]), _unquote(m[2]))
                assert key not in edges, f"duplicate edge {key}"
                edges[key] = m[3] or ""
            else:
                assert _unquote(m[1]) not in nodes, f"node declared twice: {m[1]}"
                nodes[_unquote(m[1])] = (tuple(stack), m[3])
    assert not stack, "unbalanced subgraph braces"
    return nodes, edges


def label(attrs: str) -> str:
    """The label as Graphviz draws it: `\\n` breaks the line, `\\x` is x."""
    quoted = re.search(r'label="((?:[^"\\]|\\.)*)"', attrs)[1]
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], quoted)


@pytest.fixture
def tiny(tmp_path: Path) -> Graph:
    """TINY compiled; its spec file lives in a folder of its own, so tmp_path starts empty."""
    folder = tmp_path / "spec"
    folder.mkdir()
    graph = build(folder, TINY)
    shutil.rmtree(folder)
    return graph


# ---- DOT: no Graphviz needed ------------------------------------------------------------------


def test_full_depth_draws_every_node_in_nested_clusters(tiny: Graph) -> None:
    dot = to_dot(tiny)
    nodes, edges = parse(dot)
    assert set(nodes) == set(tiny.nodes)
    assert nodes["stem"][0] == ()
    assert nodes["stage1_block1_conv"][0] == ("cluster_stage1", "cluster_stage1/stage1_block1")
    assert nodes["s2_b_out"][0] == ("cluster_s2", "cluster_s2/s2_b")
    assert 'label="stage1 (res ×2)"' in dot
    assert 'label="stage1_block2 (res)"' in dot and 'label="s2_b (basic)"' in dot
    # one edge per input, none lost
    assert len(edges) == sum(len(n.inputs) for n in tiny)


def test_node_labels_show_name_op_shape_and_params_of_weighted_layers(tiny: Graph) -> None:
    nodes, _ = parse(to_dot(tiny))
    conv = "stage1_block1_conv\nconv 3×3 /2 · 16×16×32\n4,640 params"
    assert label(nodes["stage1_block1_conv"][1]) == conv
    assert label(nodes["stem"][1]).splitlines()[1] == "conv 3×3 · 32×32×16"  # strides 1: unsaid
    assert label(nodes["stage1_block1_shortcut"][1]).splitlines()[1] == "conv 1×1 /2 · 16×16×32"
    assert label(nodes["predictions"][1]).splitlines()[1] == "dense softmax · 10"
    assert label(nodes["stage1_block1_relu"][1]) == "stage1_block1_relu\nrelu · 16×16×32"
    assert label(nodes["s2_b_out"][1]) == "s2_b_out\nactivation (relu) · 8×8×8"
    assert label(nodes["pool"][1]) == "pool\nglobal_avg_pool · 8"


def test_skip_connections_are_drawn_apart(tiny: Graph) -> None:
    _, edges = parse(to_dot(tiny))
    skip = {e for e, attrs in edges.items() if 'class="skip"' in attrs}
    assert skip == {("s2_a_add", "s2_b_add")}  # the one identity shortcut: a bypass
    # a projection shortcut is a branch of its own (the only path it draws), not a skip
    assert ("stem", "stage1_block1_shortcut") not in skip
    assert ("stem", "stage1_block1_conv") not in skip
    assert ("s2_b_2_bn", "s2_b_add") not in skip
    assert all('style="dashed"' in edges[e] for e in skip)


def test_inputs_and_outputs_are_highlighted(tiny: Graph) -> None:
    nodes, _ = parse(to_dot(tiny))
    assert 'class="input"' in nodes["input"][1]
    assert 'class="output"' in nodes["predictions"][1]
    assert "class=" not in nodes["pool"][1]


def test_depth_0_folds_top_level_blocks_and_reroutes_their_edges(tiny: Graph) -> None:
    nodes, edges = parse(to_dot(tiny, depth=0))
    assert list(nodes) == ["input", "stem", "block:stage1", "block:s2", "pool", "predictions"]
    assert all(where == () for where, _ in nodes.values())  # no clusters left
    stage1 = sum(n.params for n in tiny if n.block[:1] == ("stage1",))
    assert label(nodes["block:stage1"][1]) == f"stage1\nres ×2 · 16×16×32\n{stage1:,} params"
    assert 'shape="box3d"' in nodes["block:stage1"][1]
    # stem feeds block1's conv and its shortcut: two edges, rerouted into one; none inside
    assert list(edges) == [
        ("input", "stem"),
        ("stem", "block:stage1"),
        ("block:stage1", "block:s2"),
        ("block:s2", "pool"),
        ("pool", "predictions"),
    ]
    assert not any('class="skip"' in attrs for attrs in edges.values())


def test_depth_1_keeps_the_outer_cluster_and_folds_the_instances(tiny: Graph) -> None:
    nodes, edges = parse(to_dot(tiny, depth=1))
    assert nodes["block:stage1/stage1_block1"][0] == ("cluster_stage1",)
    assert nodes["block:s2/s2_b"][0] == ("cluster_s2",)
    assert label(nodes["block:s2/s2_b"][1]).splitlines()[1] == "basic · 8×8×8"
    assert ("block:stage1/stage1_block1", "block:stage1/stage1_block2") in edges
    assert ("block:stage1/stage1_block2", "block:s2/s2_a") in edges
    assert all(src != dst for src, dst in edges)


def test_a_folded_output_block_is_highlighted(tmp_path: Path) -> None:
    headless = TINY.replace("  - global_avg_pool: {name: pool}\n", "")
    graph = build(tmp_path, headless, head=False)  # the graph now ends inside block s2
    assert graph.outputs == ["s2_b_out"]
    nodes, _ = parse(to_dot(graph, depth=0))
    assert 'class="block output"' in nodes["block:s2"][1]


def test_dot_is_deterministic(tmp_path: Path) -> None:
    first = to_dot(build(tmp_path, TINY), depth=1)
    assert to_dot(build(tmp_path, TINY), depth=1) == first


def test_negative_depth_is_refused(tiny: Graph) -> None:
    with pytest.raises(ValueError, match="depth"):
        to_dot(tiny, depth=-1)


WEIRD = 'we"ird\\name\n&amp; <b>\\N'


def weird_graph() -> Graph:
    """Names no spec allows today, to prove quoting does not depend on validation."""
    g = Graph(name=WEIRD)
    g.nodes["in"] = Node("in", "input", None, (), (4,), 0, 0, 0, section="input")
    g.nodes['x"y\\'] = Node('x"y\\', "dense", None, ("in",), (2,), 10, 0, 8, block=('b"k\\',))
    g.blocks[('b"k\\',)] = BlockInstance(('b"k\\',), "k&amp;<i>", output='x"y\\')
    g.inputs, g.outputs = ["in"], ['x"y\\']
    return g


@pytest.mark.parametrize("depth", [None, 0])
def test_names_and_labels_are_quoted_and_escaped(depth: int | None) -> None:
    dot = to_dot(weird_graph(), depth)
    nodes, edges = parse(dot)  # every statement still reads back as one quoted token each
    assert dot.startswith('digraph "we\\"ird\\\\name\\n&amp; <b>\\\\N" {')
    # in labels: \\ is a backslash, \" a quote, \n a line break; & is an entity (Graphviz decodes)
    assert 'label="we\\"ird\\\\name &amp;amp; <b>\\\\N\\n' in dot
    key = 'x"y\\' if depth is None else 'block:b"k\\'
    assert key in nodes and ("in", key) in edges
    if depth is None:
        assert 'subgraph "cluster_b\\"k\\\\" {' in dot
        assert 'label="b\\"k\\\\ (k&amp;amp;<i>)"' in dot


@needs_dot
@pytest.mark.parametrize("depth", [None, 0])
def test_escaped_labels_come_out_of_graphviz_verbatim(tmp_path: Path, depth: int | None) -> None:
    out = tmp_path / "weird.svg"
    write(weird_graph(), out, depth)
    texts = [t.text for t in ET.parse(out).getroot().iter(f"{SVG}text")]
    assert 'we"ird\\name &amp; <b>\\N' in texts  # the newline became a space; the rest verbatim
    assert ('x"y\\' if depth is None else 'b"k\\') in texts
    if depth is None:
        assert 'b"k\\ (k&amp;<i>)' in texts


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_every_zoo_spec_gives_well_formed_dot_at_every_depth(spec: Path) -> None:
    graph = compile_file(str(spec))
    for depth in (None, 0, 1, 2):
        nodes, edges = parse(to_dot(graph, depth))
        assert all(src in nodes and dst in nodes for src, dst in edges)
        assert all(src != dst for src, dst in edges)
        if depth is None:
            assert set(nodes) == set(graph.nodes)


# ---- write(): files, errors --------------------------------------------------------------------


def test_dot_files_need_no_graphviz(tiny: Graph, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    out = tmp_path / "tiny.dot"
    write(tiny, str(out), 1)
    assert out.read_text(encoding="utf-8") == to_dot(tiny, 1)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask  # not mkstemp's private 0600


@pytest.mark.parametrize("suffix", [".svg", ".png"])
def test_missing_dot_says_how_to_install_it(
    tiny: Graph, tmp_path: Path, monkeypatch, suffix: str
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    out = tmp_path / f"tiny{suffix}"
    with pytest.raises(RenderError) as info:
        write(tiny, str(out), None)
    message = str(info.value)
    assert "needs Graphviz's `dot`" in message
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert ".dot works without it" in message
    assert list(tmp_path.iterdir()) == []


def test_missing_dot_through_the_cli(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    spec = write_spec(tmp_path, TINY)
    result = CliRunner().invoke(main, ["graph", str(spec), "-o", str(tmp_path / "x.svg")])
    assert result.exit_code == 1
    said = f"{tmp_path / 'x.svg'}: error: writing .svg needs Graphviz's `dot`"
    assert result.stderr.startswith(said)
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", ["x.jpg", "x.pdf", "x", "x.svg.bak"])
def test_other_suffixes_are_refused_naming_the_allowed_ones(
    tiny: Graph, tmp_path: Path, name: str
) -> None:
    with pytest.raises(RenderError, match=r"must end in \.dot, \.svg, \.png"):
        write(tiny, str(tmp_path / name), None)
    assert list(tmp_path.iterdir()) == []


def test_bad_suffix_through_the_cli(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, TINY)
    result = CliRunner().invoke(main, ["graph", str(spec), "-o", str(tmp_path / "x.jpg")])
    assert result.exit_code == 1
    assert "must end in .dot, .svg, .png" in result.stderr


def fake_dot(tmp_path: Path, monkeypatch, script: str) -> None:
    """Put a stand-in for Graphviz's `dot` in front of the real one."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    dot = bindir / "dot"
    dot.write_text("#!/bin/sh\n" + script)
    dot.chmod(0o755)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: str(dot))


@pytest.mark.skipif(os.name != "posix", reason="the stand-in `dot` is a shell script")
def test_a_failing_dot_leaves_no_partial_file(tiny: Graph, tmp_path: Path, monkeypatch) -> None:
    fake_dot(
        tmp_path, monkeypatch, "cat >/dev/null; printf '<svg partial'; echo boom >&2; exit 3\n"
    )
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    old = out_dir / "tiny.svg"
    old.write_text("old picture")
    with pytest.raises(RenderError, match=r"`dot` failed \(exit 3\): boom"):
        write(tiny, str(old), None)
    assert old.read_text() == "old picture"  # the previous file is untouched
    assert [p.name for p in out_dir.iterdir()] == ["tiny.svg"]  # and no temporary file is left


@pytest.mark.skipif(os.name != "posix", reason="the stand-in `dot` is a shell script")
def test_a_hanging_dot_times_out(tiny: Graph, tmp_path: Path, monkeypatch) -> None:
    fake_dot(tmp_path, monkeypatch, "exec sleep 30\n")
    monkeypatch.setattr(render, "DOT_TIMEOUT_S", 0.5)
    out = tmp_path / "tiny.png"
    with pytest.raises(RenderError, match=r"took longer than 0\.5 s"):
        write(tiny, str(out), None)
    assert not out.exists()


def test_a_failed_rename_removes_the_temporary_file(
    tiny: Graph, tmp_path: Path, monkeypatch
) -> None:
    def refuse(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(SpecError, match="cannot write this file: Permission denied"):
        write(tiny, str(tmp_path / "tiny.dot"), None)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_is_a_located_error(tiny: Graph, tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot write this file: no folder"):
        write(tiny, str(tmp_path / "nope" / "tiny.dot"), None)


# ---- SVG/PNG through Graphviz ------------------------------------------------------------------


def render_svg(tmp_path: Path, spec: str, *extra: str) -> ET.Element:
    out = tmp_path / (Path(spec).stem + ".svg")
    result = CliRunner().invoke(main, ["graph", str(ROOT / spec), "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"Wrote {out}"
    return ET.parse(out).getroot()


def groups(svg: ET.Element, cls: str) -> list[ET.Element]:
    """The <g> elements whose class list holds `cls` (Graphviz: node, edge, cluster)."""
    return [g for g in svg.iter(f"{SVG}g") if cls in g.get("class", "").split()]


def cluster_titles(svg: ET.Element) -> set[str]:
    """Graphviz writes each cluster as <g class="cluster"><title>cluster_ID</title>…; our IDs are
    the block path joined by '/'."""
    return {g.find(f"{SVG}title").text for g in groups(svg, "cluster")}


def texts(g: ET.Element) -> list[str]:
    return [t.text for t in g.iter(f"{SVG}text")]


@needs_dot
def test_resnet50_svg_has_a_cluster_per_stage_and_per_block(tmp_path: Path) -> None:
    svg = render_svg(tmp_path, "specs/resnet50.yaml")
    expected = set()
    for stage, count in ((2, 3), (3, 4), (4, 6), (5, 3)):
        expected.add(f"cluster_conv{stage}")
        expected |= {f"cluster_conv{stage}/conv{stage}_block{i}" for i in range(1, count + 1)}
    assert cluster_titles(svg) == expected | {"cluster_legend"}
    by_title = {g.find(f"{SVG}title").text: g for g in groups(svg, "cluster")}
    assert texts(by_title["cluster_conv2/conv2_block1"]) == ["conv2_block1 (bottleneck)"]
    assert texts(by_title["cluster_conv3"]) == ["conv3 (bottleneck ×4)"]
    graph = compile_file(str(ROOT / "specs/resnet50.yaml"))
    legend = len(groups(svg, "legend"))  # two ends and the dashed edge between them
    assert legend == 3
    assert len(groups(svg, "node")) == len(graph) + 2
    assert len(groups(svg, "edge")) == sum(len(n.inputs) for n in graph) + 1
    assert len(groups(svg, "skip")) == 12  # the identity shortcuts: 16 blocks, 4 project
    assert len(groups(svg, "input")) == len(groups(svg, "output")) == 1


@needs_dot
def test_googlenet_svg_has_the_nine_inception_clusters(tmp_path: Path) -> None:
    svg = render_svg(tmp_path, "specs/googlenet.yaml")
    names = ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"]
    assert cluster_titles(svg) >= {f"cluster_inception_{n}" for n in names}
    labels = [t for g in groups(svg, "cluster") for t in texts(g)]
    assert "inception_4e (inception)" in labels


@needs_dot
def test_folded_svg_has_one_node_per_stage(tmp_path: Path) -> None:
    svg = render_svg(tmp_path, "specs/resnet50.yaml", "--depth", "0")
    assert cluster_titles(svg) == set()
    folded = {g.find(f"{SVG}title").text for g in groups(svg, "block")}
    assert folded == {f"block:conv{i}" for i in (2, 3, 4, 5)}


@needs_dot
def test_png(tiny: Graph, tmp_path: Path) -> None:
    out = tmp_path / "tiny.png"
    write(tiny, out, 1)
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@needs_dot
def test_graphviz_reads_every_zoo_spec_folded(tmp_path: Path) -> None:
    """`dot` parses what we write for the whole zoo (folded, so the layout stays quick)."""
    for spec in SPECS:
        text = to_dot(compile_file(str(spec)), depth=0)
        proc = subprocess.run(
            ["dot", "-Tcanon"], input=text.encode(), capture_output=True, timeout=60, check=False
        )
        assert proc.returncode == 0 and not proc.stderr, (spec.name, proc.stderr)


# ---- labels: kernel, strides, activation; frozen layers; legend; rankdir; PNG size ------------

KERNELS = """
archspec: 1
name: kernels
input: {shape: [32, 32, 3]}
backbone:
  - conv: {filters: 8, kernel: [1, 7], strides: [1, 2], padding: same, name: wide}
  - conv: {filters: 8, kernel: 3, dilation_rate: 2, activation: relu, name: dilated}
  - depthwise_conv: {kernel: 5, strides: 2, padding: same, name: dw}
  - max_pool: {pool: 3, strides: 2, name: pool}
  - avg_pool: {pool: 2, name: avg}
  - activation: {activation: swish, name: act}
freeze: [wide]
head:
  - flatten: {name: flat}
  - dense: {units: 4, activation: softmax, name: out}
"""


def test_labels_say_kernel_strides_dilation_and_fused_activation(tmp_path: Path) -> None:
    nodes, _ = parse(to_dot(build(tmp_path, KERNELS)))
    ops = {name: label(attrs).splitlines()[1].split(" · ")[0] for name, (_, attrs) in nodes.items()}
    assert ops == {  # read off the spec above by hand
        "input": "input",
        "wide": "conv 1×7 /1×2",
        "dilated": "conv 3×3 d2 relu",
        "dw": "depthwise_conv 5×5 /2",
        "pool": "max_pool 3×3 /2",
        "avg": "avg_pool 2×2 /2",  # a pool's strides default to its window, as in Keras
        "act": "activation (swish)",
        "flat": "flatten",
        "out": "dense softmax",
    }


def test_resnet50_stem_reads_as_in_the_paper() -> None:
    """He et al. 2015, Table 1: conv1 is 7×7, stride 2; then a 3×3 max pool, stride 2."""
    nodes, _ = parse(to_dot(compile_file(str(ROOT / "specs/resnet50.yaml")), depth=0))
    assert label(nodes["conv1_conv"][1]).splitlines()[1] == "conv 7×7 /2 · 112×112×64"
    assert label(nodes["pool1_pool"][1]).splitlines()[1] == "max_pool 3×3 /2 · 56×56×64"


def test_frozen_layers_are_marked(tmp_path: Path) -> None:
    graph = compile_file(str(ROOT / "specs/vgg16_transfer.yaml"))  # freeze: backbone
    nodes, _ = parse(to_dot(graph))
    for node in graph:
        frozen = node.section == "backbone" and node.weights > 0
        assert ('class="frozen"' in nodes[node.name][1]) == frozen, node.name
        assert label(nodes[node.name][1]).endswith(", frozen") == frozen, node.name
    folded, _ = parse(to_dot(graph, depth=0))
    assert 'class="block frozen"' in folded["block:block1"][1]
    assert label(folded["block:block1"][1]).endswith("params, frozen")
    partly = build(tmp_path, TINY + "freeze: [stage1_block1]\n")
    folded, _ = parse(to_dot(partly, depth=0))
    assert label(folded["block:stage1"][1]).endswith("params, partly frozen")
    assert "frozen" not in folded["block:stage1"][1].replace("partly frozen", "")


def test_the_legend_explains_what_the_picture_shows(tiny: Graph) -> None:
    nodes, edges = parse(to_dot(tiny), legend=True)
    assert set(nodes) == {"legend:skip_from", "legend:skip_to"}  # tiny has skips, no freeze
    ((_, attrs),) = edges.items()
    assert 'style="dashed"' in attrs and "skip connection" in label(attrs)
    frozen, edges = parse(to_dot(compile_file(str(ROOT / "specs/vgg16_transfer.yaml"))), True)
    assert list(frozen) == ["legend:frozen"] and not edges
    assert "frozen" in label(frozen["legend:frozen"][1])
    assert "cluster_legend" not in to_dot(compile_file(str(ROOT / "specs/lenet5.yaml")))


def test_rankdir(tiny: Graph, tmp_path: Path) -> None:
    assert 'rankdir="TB"' in to_dot(tiny).splitlines()[1]
    assert 'rankdir="LR"' in to_dot(tiny, rankdir="LR").splitlines()[1]
    with pytest.raises(ValueError, match="rankdir"):
        to_dot(tiny, rankdir="BT")
    spec = write_spec(tmp_path, TINY)
    out = tmp_path / "x.dot"
    result = CliRunner().invoke(main, ["graph", str(spec), "-o", str(out), "--rankdir", "LR"])
    assert result.exit_code == 0 and 'rankdir="LR"' in out.read_text()
    result = CliRunner().invoke(main, ["graph", str(spec), "-o", str(out), "--rankdir", "XY"])
    assert result.exit_code == 2 and "--rankdir" in result.stderr


def png_header_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@needs_dot
@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_the_png_size_estimate_is_graphvizs(tmp_path: Path, rankdir: str) -> None:
    graph = compile_file(str(ROOT / "specs/lenet5.yaml"))
    text = to_dot(graph, None, rankdir).encode()
    w, h = render.png_size(shutil.which("dot"), text)
    assert (w > h) == (rankdir == "LR")  # a chain lies along the rank direction
    out = tmp_path / "lenet.png"
    write(graph, out, None, rankdir)
    assert png_header_size(out.read_bytes()) == (w, h)


@needs_dot
def test_a_png_too_large_for_graphviz_is_refused_with_advice(tmp_path: Path) -> None:
    """DenseNet-201 unfolded is ~56,000 pixels tall: Graphviz would shrink it to a 212-pixel
    wide sliver. The CLI refuses, at the output, and names a --depth that fits."""
    spec, out = str(ROOT / "specs/densenet201.yaml"), tmp_path / "dn.png"
    result = CliRunner().invoke(main, ["graph", spec, "-o", str(out)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    said = re.match(
        rf"{re.escape(str(out))}: error: the PNG would be ([\d,]+)×([\d,]+) pixels, more than "
        r"the 32,767 a side .*write \.svg, or fold blocks: --depth (\d) fits \(([\d,]+)×([\d,]+)",
        result.stderr,
    )
    assert said, result.stderr
    assert max(int(said[1].replace(",", "")), int(said[2].replace(",", ""))) > 32767
    assert list(tmp_path.iterdir()) == []
    result = CliRunner().invoke(main, ["graph", spec, "-o", str(out), "--depth", said[3]])
    assert result.exit_code == 0
    fits = (int(said[4].replace(",", "")), int(said[5].replace(",", "")))
    assert png_header_size(out.read_bytes()) == fits  # drawn at full size, not shrunk


@needs_dot
def test_when_no_depth_fits_the_advice_is_general(tiny: Graph, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(render, "PNG_MAX_PX", 50)
    with pytest.raises(RenderError, match=r"write \.svg, or fold blocks with --depth N$"):
        write(tiny, tmp_path / "tiny.png")
    write(tiny, tmp_path / "tiny.svg")  # SVG has no such limit
