"""The expand+infer walk: references, repeat, user blocks, params, extends, freeze, bounds."""

from __future__ import annotations

import pytest

from archcompiler.compiler import Limits
from tests.helpers import build, fails, write

HEAD = """
archspec: 1
name: t
input: {shape: [16, 16, 3]}
"""


def test_chain_defaults_and_auto_names(tmp_path) -> None:
    g = build(
        tmp_path,
        HEAD
        + """
backbone:
  - conv: {filters: 4, kernel: 3}
  - relu
  - conv: {filters: 4, kernel: 3}
  - flatten:
""",
    )
    assert list(g.nodes) == ["input", "conv", "relu", "conv_1", "flatten"]
    assert g.nodes["conv_1"].inputs == ("relu",)
    assert g.nodes["conv_1"].shape == (12, 12, 4)
    assert g.outputs == ["flatten"]


def test_from_lists_make_a_dag(tmp_path) -> None:
    g = build(
        tmp_path,
        HEAD
        + """
backbone:
  - conv: {filters: 8, kernel: 1, name: a}
  - conv: {filters: 8, kernel: 3, padding: same, from: input, name: b}
  - add: {from: [a, b], name: s}
  - concat: {from: [s, a, input], name: c}
""",
    )
    assert g.nodes["s"].inputs == ("a", "b")
    assert g.nodes["c"].shape == (16, 16, 19)


def test_forward_reference_is_an_error(tmp_path) -> None:
    d = fails(
        tmp_path,
        HEAD
        + """
backbone:
  - add: {from: [input, later], name: s}
  - relu: {name: later}
""",
    )
    assert "'later' is defined further down (line 7)" in d.message
    assert d.location.line == 6


def test_unknown_reference_suggests(tmp_path) -> None:
    d = fails(
        tmp_path,
        HEAD
        + """
backbone:
  - conv: {filters: 3, kernel: 1, name: stem}
  - add: {from: [input, stme]}
""",
    )
    assert "no node named 'stme'" in d.message and "did you mean 'stem'" in d.message


def test_primitive_repeat_names_and_first_only_strides(tmp_path) -> None:
    g = build(
        tmp_path,
        HEAD
        + """
backbone:
  - conv: {filters: 4, kernel: 3, strides: 2, padding: same, repeat: 3, name: c}
""",
    )
    assert [n for n in g.nodes if n != "input"] == ["c_1", "c_2", "c_3"]
    assert [g.nodes[n].shape[:2] for n in ("c_1", "c_2", "c_3")] == [(8, 8)] * 3
    assert g.nodes["c_2"].block == ("c",)


USER_BLOCK = (
    HEAD
    + """
params: {width: 8}
blocks:
  res:
    doc: a residual unit
    params: {filters: int, strides: 1}
    body:
      - conv: {filters: $filters, kernel: 3, strides: $strides, padding: same, name: c1}
      - bn: {name: bn}
      - conv: {filters: $filters, kernel: 1, strides: $strides, from: input, name: short}
      - add: {from: [bn, short], name: add}
backbone:
  - res: {filters: $width, strides: 2, repeat: 2, name: stage}
  - res: {filters: $width * 2, name: last}
  - global_avg_pool: {name: pool, from: stage_block1}
"""
)


def test_user_blocks_expand_with_prefixes_and_repeat(tmp_path) -> None:
    g = build(tmp_path, USER_BLOCK)
    assert "stage_block1_c1" in g.nodes and "stage_block2_add" in g.nodes
    assert g.nodes["stage_block1_c1"].shape == (8, 8, 8)
    assert g.nodes["stage_block2_c1"].shape == (8, 8, 8)  # strides only on block 1
    assert g.nodes["stage_block1_short"].inputs == ("input",)  # `from: input` is the block input
    assert g.nodes["stage_block2_short"].inputs == ("stage_block1_add",)
    assert g.nodes["last_c1"].shape == (8, 8, 16)
    assert g.nodes["pool"].inputs == ("stage_block1_add",)
    assert g.nodes["stage_block2_c1"].block == ("stage", "stage_block2")
    assert g.blocks[("stage",)].output == "stage_block2_add"
    assert g.blocks[("last",)].kind == "res"


def test_set_overrides_params_typed_by_default(tmp_path) -> None:
    g = build(tmp_path, USER_BLOCK, {"width": "4"})
    assert g.nodes["last_c1"].shape[-1] == 8
    d = fails(tmp_path, USER_BLOCK, {"width": "four"})
    assert "'width' is int" in d.message
    d = fails(tmp_path, USER_BLOCK, {"widht": "4"})
    assert "no param 'widht'" in d.message and "did you mean 'width'" in d.message


def test_set_equals_editing_the_file(tmp_path) -> None:
    via_set = build(tmp_path, USER_BLOCK, {"width": "12"})
    edited = build(tmp_path, USER_BLOCK.replace("width: 8", "width: 12"))
    assert [(n.name, n.shape, n.params) for n in via_set] == [
        (n.name, n.shape, n.params) for n in edited
    ]


def test_params_may_use_earlier_params(tmp_path) -> None:
    g = build(
        tmp_path,
        HEAD
        + """
params: {base: 4, wide: $base * 3, pad: same}
backbone:
  - conv: {filters: $wide, kernel: 3, padding: $pad}
""",
    )
    assert g.nodes["conv"].shape == (16, 16, 12)
    g = build(
        tmp_path,
        HEAD
        + """
params: {base: 4, wide: $base * 3}
backbone:
  - conv: {filters: $wide, kernel: 3}
""",
        {"base": "2"},
    )
    assert g.nodes["conv"].shape[-1] == 6


def test_block_recursion_is_refused(tmp_path) -> None:
    d = fails(
        tmp_path,
        HEAD
        + """
blocks:
  a: {body: [{b: {}}]}
  b: {body: [{a: {}}]}
backbone:
  - a
""",
    )
    assert "block 'a' uses itself: a → b → a" in d.message


def test_bn_params_split_and_freeze(tmp_path) -> None:
    g = build(
        tmp_path,
        HEAD
        + """
backbone:
  - conv: {filters: 8, kernel: 3, use_bias: false, name: c}
  - bn: {name: bn}
head:
  - flatten
  - dense: {units: 2, name: out}
freeze: backbone
""",
    )
    assert (g.nodes["bn"].weights, g.nodes["bn"].fixed_weights) == (16, 16)
    assert g.trainable_params == g.nodes["out"].params
    assert g.non_trainable_params == 3 * 3 * 3 * 8 + 32


def test_extends_override_and_head(tmp_path) -> None:
    write(
        tmp_path,
        HEAD
        + """
params: {classes: 10}
backbone:
  - conv: {filters: 8, kernel: 3, name: c1}
  - conv: {filters: 8, kernel: 3, name: c2}
head:
  - flatten: {name: flat}
  - dense: {units: $classes, name: predictions}
""",
        "base.yaml",
    )
    g = build(
        tmp_path,
        """
archspec: 1
name: child
extends: base.yaml
params: {classes: 3, size: 20}
input: {shape: [$size, $size, 3]}
override:
  c2: {filters: 4}
head:
  - global_avg_pool: {name: gap}
  - dense: {units: $classes, activation: sigmoid, name: out}
freeze: [c1]
""",
    )
    assert g.name == "child"
    assert g.nodes["c2"].shape == (16, 16, 4)
    assert g.outputs == ["out"] and g.nodes["out"].shape == (3,)
    assert not g.nodes["c1"].trainable and g.nodes["c2"].trainable
    assert "flat" not in g.nodes


def test_extends_cycle_is_refused(tmp_path) -> None:
    write(tmp_path, "archspec: 1\nname: a\nextends: b.yaml\n", "a.yaml")
    write(tmp_path, "archspec: 1\nname: b\nextends: a.yaml\n", "b.yaml")
    from archcompiler.compiler import compile_file
    from archcompiler.errors import SpecError

    with pytest.raises(SpecError) as info:
        compile_file(tmp_path / "a.yaml")
    assert "cycle" in info.value.diagnostics[0].message


def test_no_head_drops_the_head(tmp_path) -> None:
    g = build(
        tmp_path,
        HEAD
        + """
backbone: [{conv: {filters: 2, kernel: 3, name: c}}]
head: [flatten]
""",
        head=False,
    )
    assert g.outputs == ["c"]


def test_several_outputs_and_inputs(tmp_path) -> None:
    g = build(
        tmp_path,
        """
archspec: 1
name: two
inputs:
  - {name: image, shape: [8, 8, 3]}
  - {name: mask, shape: [8, 8, 1]}
backbone:
  - concat: {from: [image, mask], name: both}
  - conv: {filters: 2, kernel: 1, name: logits}
outputs: [logits, both]
""",
    )
    assert g.inputs == ["image", "mask"] and g.outputs == ["logits", "both"]


def test_param_bound_stops_before_allocating(tmp_path) -> None:
    d = fails(
        tmp_path,
        """
archspec: 1
name: huge
input: {shape: [60000]}
backbone:
  - dense: {units: 60000}
""",
    )
    assert "over the bound of 1,000,000,000" in d.message


def test_node_bound_stops_huge_repeats_early(tmp_path) -> None:
    d = fails(
        tmp_path,
        HEAD
        + """
backbone:
  - relu: {repeat: 10000, name: r}
""",
        limits=Limits(max_nodes=1000),
    )
    assert "passes the bound of 1,000 nodes" in d.message


def test_shape_error_names_both_sides(tmp_path) -> None:
    d = fails(
        tmp_path,
        HEAD
        + """
backbone:
  - conv: {filters: 8, kernel: 3, strides: 2, name: a}
  - add: {from: [a, input], name: s}
""",
    )
    assert d.message == ("add 's' needs equal shapes, got 7×7×8 (from a) and 16×16×3 (from input)")
    assert (d.location.line, d.location.col) == (7, 5)


def test_shrinking_to_nothing_is_an_error_at_the_node(tmp_path) -> None:
    d = fails(
        tmp_path,
        HEAD
        + """
backbone:
  - max_pool: {pool: 4, name: p1}
  - max_pool: {pool: 4, name: p2}
  - max_pool: {pool: 4, name: p3}
""",
    )
    assert d.location.line == 8
    assert "shrinks 1×1×3 (from p2) to 0×0×3" in d.message


def test_params_may_not_use_params_below_them(tmp_path) -> None:
    d = fails(tmp_path, HEAD + "params: {a: $b * 2, b: 2}\nbackbone: [relu]\n")
    assert "param 'a' uses 'b', which is given below it" in d.message
    assert d.location.line == 4


WHEN = (
    HEAD
    + """
params: {aux: false}
backbone:
  - conv: {filters: 4, kernel: 3, name: trunk}
  - dense: {units: 2, from: trunk, when: $aux, name: side}
  - conv: {filters: 4, kernel: 3, from: trunk, name: more}
outputs: [more, side]
"""
)


def test_when_leaves_nodes_and_their_outputs_out(tmp_path) -> None:
    g = build(tmp_path, WHEN)
    assert "side" not in g.nodes and g.outputs == ["more"]
    g = build(tmp_path, WHEN, {"aux": "true"})
    assert g.outputs == ["more", "side"] and g.nodes["side"].inputs == ("trunk",)


def test_using_a_left_out_node_is_an_error(tmp_path) -> None:
    d = fails(tmp_path, WHEN.replace("from: trunk, name: more", "from: side, name: more"))
    assert "'side' is left out here (its `when` is false)" in d.message


def test_head_nodes_sit_outside_the_last_backbone_block(tmp_path) -> None:
    g = build(tmp_path, USER_BLOCK + "head:\n  - dense: {units: 2, name: out}\n")
    assert g.nodes["out"].block == () and g.nodes["out"].section == "head"
    assert g.nodes["pool"].block == ()
