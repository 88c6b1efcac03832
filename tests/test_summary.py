"""Summary figures checked against published ones: receptive fields (Araujo, Norris & Sim,
"Computing Receptive Fields of Convolutional Neural Networks", Distill 2019, Table 1)."""

from __future__ import annotations

import pytest

from archcompiler.compiler import compile_file
from archcompiler.summary import receptive_fields, render_markdown, render_table, rows
from tests.conftest import ROOT


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
