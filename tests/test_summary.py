"""Summary figures checked against published ones: receptive fields (Araujo, Norris & Sim,
"Computing Receptive Fields of Convolutional Neural Networks", Distill 2019, Table 1); the
table fitted to a width, its optional columns against the spec's own arguments, Markdown."""

from __future__ import annotations

import io
import json
import re

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from archcompiler import summary
from archcompiler.cli import main
from archcompiler.compiler import compile_file
from archcompiler.graph import Graph
from archcompiler.summary import (
    COLUMNS,
    DEFAULT,
    MIN_WIDTH,
    cut_names,
    parse_columns,
    receptive_fields,
    render_markdown,
    render_table,
    rows,
    terminal_width,
)
from tests.conftest import ROOT
from tests.helpers import write


@pytest.mark.parametrize(
    ("spec", "node", "published"),
    [
        ("alexnet", "pool5", 195),
        ("vgg16", "block5_pool", 212),
        ("resnet50", "conv5_block3_out", 483),
        ("mobilenet", "conv_pw_13_relu", 315),
    ],
)
def test_receptive_fields_match_the_published_table(spec: str, node: str, published: int) -> None:
    assert receptive_fields(compile_file(ROOT / "specs" / f"{spec}.yaml"))[node] == published


def test_global_pooling_sees_everything() -> None:
    rf = receptive_fields(compile_file(ROOT / "specs" / "resnet50.yaml"))
    assert rf["avg_pool"] is None and rf["predictions"] is None


def test_block_rows_total_their_nodes_and_fold_at_depth() -> None:
    g = compile_file(ROOT / "specs" / "resnet50.yaml")
    stage = next(r for r in rows(g, depth=0) if r.name == "conv3")
    inside = [n for n in g if n.block[:1] == ("conv3",)]
    assert stage.params == sum(n.params for n in inside)
    assert stage.memory == sum(4 * n.shape[0] * n.shape[1] * n.shape[2] for n in inside)
    assert stage.shape == "28×28×512" and stage.op == "bottleneck ×4"
    assert not any(r.name.startswith("conv3_block") for r in rows(g, depth=0))


def test_table_and_markdown_show_memory_and_receptive_field() -> None:
    g = compile_file(ROOT / "specs" / "vgg16.yaml")
    table = render_table(g, depth=0)
    assert "Memory" in table and "RF" in table and "212" in table
    assert "Total params:" in table and "527.8 MB float32" in table  # 138,357,544 × 4 B
    md = render_markdown(g, depth=0)
    assert md.splitlines()[2].startswith("| Layer | Op | Output shape |")
    assert "**block5**" in md


def test_a_dense_layer_on_positions_keeps_the_receptive_field(tmp_path) -> None:
    """Regression: a `dense` on an H×W×C tensor (a 1×1 conv, position by position) made the
    receptive field `all` for it and every conv after it."""
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "archspec: 1\nname: t\ninput: {shape: [16, 16, 3]}\nbackbone:\n"
        "  - conv: {filters: 4, kernel: 3, name: a}\n  - dense: {units: 4, name: d}\n"
        "  - conv: {filters: 4, kernel: 3, name: b}\n  - flatten: {name: f}\n"
        "  - dense: {units: 2, name: top}\n"
    )
    rf = receptive_fields(compile_file(spec))
    assert (rf["a"], rf["d"], rf["b"], rf["f"]) == (3, 3, 5, 5)  # flatten moves, not mixes
    assert rf["top"] is None  # a dense layer on the flat vector sees the whole input


# ---- fitting a width, --wide, --columns ------------------------------------------------------

_GRAPHS: dict[str, Graph] = {}


def zoo(name: str) -> Graph:
    """A zoo spec compiled once per session (rendering is what these tests vary)."""
    if name not in _GRAPHS:
        _GRAPHS[name] = compile_file(ROOT / "specs" / f"{name}.yaml")
    return _GRAPHS[name]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@settings(max_examples=60, deadline=None)
@given(
    spec=st.sampled_from(["fashion_resnet", "resnet50", "inception_v3", "densenet121"]),
    depth=st.sampled_from([None, 0, 1]),
    width=st.integers(1, 260),
    columns=st.lists(st.sampled_from(sorted(COLUMNS)), min_size=1, max_size=6, unique=True),
)
def test_no_line_passes_the_width(
    spec: str, depth: int | None, width: int, columns: list[str]
) -> None:
    text = render_table(zoo(spec), depth, columns, width)
    assert max(map(len, text.splitlines())) <= max(width, MIN_WIDTH)


@pytest.mark.parametrize("spec", ["fashion_resnet", "resnet50", "inception_v3"])
def test_without_a_width_nothing_is_cut(spec: str) -> None:
    graph = zoo(spec)
    text = render_table(graph)
    assert "…" not in text.replace(graph.doc, "")  # no name, From list or title cut
    first = {line.split()[0] for line in text.splitlines() if line.strip()}
    assert set(graph.nodes) <= first  # every name in full, first on its line


def test_cut_names_keep_whole_names_and_count_the_rest() -> None:
    names = ["mixed2", "activation_10", "activation_13", "average_pooling2d_1"]
    assert cut_names(names, 200) == ", ".join(names)
    assert cut_names(names, 40) == "mixed2, activation_10, … +2 more"
    assert cut_names(names, 22) == "mixed2, … +3 more"
    assert cut_names(names, 10) == "mixed2 +3"
    assert cut_names(names[1:], 10) == "3 inputs"  # not `act…n_10 +2`
    assert cut_names(["conv2_block1_0_bn"], 9) == "conv…0_bn"


@settings(max_examples=200, deadline=None)
@given(
    names=st.lists(st.text("abc_0123456789", min_size=1, max_size=20), min_size=1, max_size=8),
    width=st.integers(1, 80),
)
def test_a_cut_from_list_is_a_prefix_and_a_true_count(names: list[str], width: int) -> None:
    text = cut_names(names, width)
    assert len(text) <= width
    if text.endswith(" more"):
        shown, count = text.rsplit(", … +", 1)
        assert shown.split(", ") == names[: len(names) - int(count.split()[0])]


def test_a_terminal_is_fitted_and_a_pipe_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """COLUMNS sets the width in a terminal (shutil reads it); output that is not a terminal
    (CliRunner's, a pipe's) is never cut, whatever COLUMNS says."""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("COLUMNS", "77")
    assert terminal_width(Tty()) == 77
    assert terminal_width(io.StringIO()) is None
    spec = str(ROOT / "specs" / "resnet50.yaml")
    piped = run("summary", spec)[1]
    assert piped == run("summary", spec, "--wide")[1]
    assert max(map(len, piped.splitlines())) > 100
    monkeypatch.setattr(summary, "terminal_width", lambda: 77)  # as if stdout were a terminal
    fitted = run("summary", spec)[1]
    assert max(map(len, fitted.splitlines())) <= 77
    assert fitted == run("summary", spec, "--width", "77")[1]
    assert run("summary", spec, "--wide")[1] == piped  # --wide beats the terminal


def test_fitting_shortens_names_inside_blocks_then_hides_columns() -> None:
    text = render_table(zoo("resnet50"), None, None, 80)
    lines = text.splitlines()
    assert max(map(len, lines)) <= 80
    assert "    …_0_conv " in text  # conv2_block1_0_conv, under its block's row
    assert lines[-1] == "(From hidden to fit 80 columns; --wide shows all)"
    wide = render_table(zoo("resnet50"), None, None, 140)
    assert "From" in next(ln for ln in wide.splitlines() if ln.startswith("Layer "))
    assert "hidden" not in wide


def test_the_doc_line_wraps_to_two_lines_at_most() -> None:
    graph = zoo("fashion_resnet")
    wide = render_table(graph).splitlines()[0]
    assert wide.endswith("(`preact_block`)")  # the doc's whole first sentence
    title = render_table(graph, width=60).splitlines()[:3]
    assert title[0].startswith("Model: fashion_resnet — ") and title[1].startswith("  ")
    assert set(title[2]) == {"─"}
    assert " ".join(" ".join(title[:2]).split()).rstrip("…") in wide


def markdown_rows(text: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Headings and {node name: {heading: cell}} of the Markdown table (node rows only)."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    heads = [h.strip() for h in lines[0].removeprefix("| ").removesuffix(" |").split(" | ")]
    out = {}
    for line in lines[1:]:
        inner = line.removeprefix("| ").removesuffix(" |")
        cells = [c.strip() for c in re.split(r"(?<!\\) \| ", inner)]
        if m := re.fullmatch(r"(?:&nbsp;)*`(.+)`", cells[0]):
            out[m[1]] = dict(zip(heads, cells, strict=True))
    return heads, out


def test_input_shape_is_the_producers_output_shape() -> None:
    """Each node's Input shape cell lists the Output shape cells of the rows it reads."""
    md = render_markdown(zoo("inception_v3"), None, ["input_shape", "output_shape"])
    _, table = markdown_rows(md)
    graph = zoo("inception_v3")
    for name, row in table.items():
        want = ", ".join(table[i]["Output shape"] for i in graph.nodes[name].inputs)
        assert row.get("Input shape", "") == want, name


SPEC = """
archspec: 1
name: kernels
input: {shape: [32, 32, 3]}
backbone:
  - conv: {filters: 8, kernel: [1, 7], strides: [1, 2], padding: same, name: wide}
  - conv: {filters: 8, kernel: 3, dilation_rate: 2, activation: relu, name: dilated}
  - depthwise_conv: {kernel: 5, strides: 2, padding: same, name: dw}
  - max_pool: {pool: 3, strides: 2, name: pool}
  - avg_pool: {pool: 2, name: avg}
freeze: [wide]
head:
  - flatten: {name: flat}
  - dense: {units: 4, activation: softmax, name: out}
"""


def test_kernel_and_strides_columns_are_the_specs_arguments(tmp_path) -> None:
    """The cells against the spec's own YAML, read independently of the compiler."""
    spec = write(tmp_path, SPEC)
    code, md, _ = run(
        "summary", str(spec), "--format", "markdown",
        "--columns", "kernel_size,strides,dilation,activation,trainable",
    )  # fmt: skip
    assert code == 0
    heads, table = markdown_rows(md)
    assert heads == ["Layer", "Kernel", "Strides", "Dilation", "Activation", "Trainable"]

    def pair(v: object) -> str:
        return "×".join(map(str, v if isinstance(v, list) else [v, v]))

    doc = yaml.safe_load(SPEC)
    for item in doc["backbone"] + doc["head"]:
        ((op, args),) = item.items()
        row = table[args["name"]]
        window = args.get("kernel", args.get("pool"))
        assert row["Kernel"] == (pair(window) if window is not None else "")
        if window is not None:
            assert row["Strides"] == pair(args.get("strides", window if "pool" in args else 1))
            assert row["Dilation"] == pair(args.get("dilation_rate", 1))
        assert row["Activation"] == args.get("activation", "")
        frozen = args["name"] in doc["freeze"]
        weighted = op in ("conv", "depthwise_conv", "dense")
        assert row["Trainable"] == ("no" if frozen else "yes" if weighted else "–")


def test_json_gains_only_the_fields_a_column_adds(tmp_path) -> None:
    spec = write(tmp_path, SPEC)
    plain = json.loads(run("summary", str(spec), "--format", "json")[1])
    keys = {"name", "op", "block", "inputs", "output_shape", "params", "trainable_params",
            "macs", "receptive_field"}  # fmt: skip
    assert all(set(n) == keys for n in plain["nodes"])  # unchanged without --columns
    more = json.loads(
        run("summary", str(spec), "--format", "json", "--columns", "kernel,strides,trainable,rf")[1]
    )
    assert all(set(n) == keys | {"kernel", "strides", "trainable"} for n in more["nodes"])
    by_name = {n["name"]: n for n in more["nodes"]}
    assert by_name["wide"]["kernel"] == [1, 7] and by_name["wide"]["strides"] == [1, 2]
    assert by_name["wide"]["trainable"] is False and by_name["out"]["kernel"] is None
    assert {k: v for k, v in by_name["pool"].items() if k in keys} == next(
        n for n in plain["nodes"] if n["name"] == "pool"
    )


def test_markdown_drops_empty_columns() -> None:
    heads, _ = markdown_rows(render_markdown(zoo("lenet5")))
    assert "From" not in heads  # a chain: every node reads the row above
    assert "From" in markdown_rows(render_markdown(zoo("resnet50")))[0]
    picked = render_markdown(zoo("lenet5"), None, ["kernel", "padding", "from"])
    assert markdown_rows(picked)[0] == ["Layer", "Kernel", "Padding"]
    for line in picked.splitlines()[2:]:
        if line.startswith("|"):
            assert line.count("|") == 4  # three cells a row: no empty From column left


def test_unknown_columns_are_refused_naming_the_valid_ones() -> None:
    code, _, err = run("summary", str(ROOT / "specs" / "lenet5.yaml"), "--columns", "kernel,flops")
    assert code == 2
    assert "--columns" in err and "unknown column 'flops'" in err
    assert all(name in err for name in ["default", "kernel", "strides", "input_shape"])
    assert parse_columns("kernel_size,input_size,mult_adds") == ("kernel", "input_shape", "macs")
    assert parse_columns("default,kernel")[: len(DEFAULT)] == DEFAULT


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "make"), [("resnet50", "ResNet50"), ("mobilenet", "MobileNet")])
def test_kernel_and_strides_are_keras_applications(spec: str, make: str) -> None:
    """`--columns kernel,strides,dilation` in the JSON, layer by layer, against the configs of
    keras.applications' own model (built without weights)."""
    import keras

    model = getattr(keras.applications, make)(weights=None)
    ours = {
        n["name"]: n for n in summary.to_json(zoo(spec), ["kernel", "strides", "dilation"])["nodes"]
    }
    checked = 0
    for layer in model.layers:
        config = layer.get_config()
        window = config.get("kernel_size") or config.get("pool_size")
        if window is None:
            continue
        node = ours[layer.name]
        assert node["kernel"] == list(window), layer.name
        assert node["strides"] == list(config["strides"]), layer.name
        assert node["dilation"] == list(config.get("dilation_rate", (1, 1))), layer.name
        checked += 1
    assert checked == sum(n["kernel"] is not None for n in ours.values()) > 10
