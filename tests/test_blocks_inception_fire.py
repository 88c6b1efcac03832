"""The inception, branches and fire blocks: names and order, shapes, params, errors, and the
Keras model agreeing with the Graph on tiny specs."""

from __future__ import annotations

import math

import pytest

from archcompiler.blocks import BLOCKS
from tests.helpers import build, fails

HEADER = """
archspec: 1
name: t
params: {w: 8}
input: {shape: [16, 16, 4]}
backbone:
"""

INCEPTION = (
    HEADER
    + """\
  - inception: {c1x1: 2, c3x3_reduce: 3, c3x3: 4, c5x5_reduce: 1, c5x5: 2, pool_proj: 3,
                name: inc}
"""
)

FIRE = (
    HEADER
    + """\
  - fire: {squeeze: 2, expand1x1: 4, expand3x3: 5, name: fire2}
"""
)

BRANCHES = (
    HEADER
    + """\
  - branches:
      name: mix
      branches:
        - [{conv: {filters: $w, kernel: 1}}, relu]
        - [{conv: {filters: 4, kernel: 1, name: red}},
           {conv: {filters: 6, kernel: 3, padding: same}}, {relu: }]
        - [{max_pool: {pool: 3, strides: 1, padding: same}}]
"""
)


def conv_params(c_in: int, c_out: int, k: int) -> int:
    return k * k * c_in * c_out + c_out


def placed(g, block: str) -> list[tuple[str, str, tuple[int, ...]]]:
    return [(n.name, n.op, n.shape) for n in g if n.block and n.block[-1] == block]


# ---- inception ------------------------------------------------------------------------------


def test_inception_names_order_and_shapes(tmp_path) -> None:
    g = build(tmp_path, INCEPTION)
    assert placed(g, "inc") == [
        ("inc_1x1", "conv", (16, 16, 2)),
        ("inc_3x3_reduce", "conv", (16, 16, 3)),
        ("inc_3x3", "conv", (16, 16, 4)),
        ("inc_5x5_reduce", "conv", (16, 16, 1)),
        ("inc_5x5", "conv", (16, 16, 2)),
        ("inc_pool", "max_pool", (16, 16, 4)),
        ("inc_pool_proj", "conv", (16, 16, 3)),
        ("inc_concat", "concat", (16, 16, 11)),  # 2 + 4 + 2 + 3
    ]
    concat = g.nodes["inc_concat"]
    assert concat.inputs == ("inc_1x1", "inc_3x3", "inc_5x5", "inc_pool_proj")
    assert g.nodes["inc_3x3_reduce"].inputs == g.nodes["inc_pool"].inputs == ("input",)
    assert g.nodes["inc_pool_proj"].inputs == ("inc_pool",)


def test_inception_convs_are_same_padded_with_bias_and_relu(tmp_path) -> None:
    g = build(tmp_path, INCEPTION)
    for name in ("1x1", "3x3_reduce", "3x3", "5x5_reduce", "5x5", "pool_proj"):
        a = g.nodes[f"inc_{name}"].args
        assert (a.padding, a.use_bias, a.activation, a.strides) == ("same", True, "relu", (1, 1))
    assert g.nodes["inc_3x3"].args.kernel == (3, 3)
    assert g.nodes["inc_5x5"].args.kernel == (5, 5)
    pool = g.nodes["inc_pool"].args
    assert (pool.pool, pool.strides, pool.padding) == ((3, 3), (1, 1), "same")


def test_inception_params(tmp_path) -> None:
    g = build(tmp_path, INCEPTION)
    expected = (
        conv_params(4, 2, 1) + conv_params(4, 3, 1) + conv_params(3, 4, 3)
        + conv_params(4, 1, 1) + conv_params(1, 2, 5) + conv_params(4, 3, 1)
    )  # fmt: skip
    assert g.total_params == expected == 209


def test_inception_keeps_stride_and_size_at_odd_sizes(tmp_path) -> None:
    g = build(tmp_path, INCEPTION.replace("[16, 16, 4]", "[7, 5, 4]"))
    assert g.nodes["inc_concat"].shape == (7, 5, 11)


def test_inception_3a_of_the_paper(tmp_path) -> None:
    # Szegedy et al. 2014, Table 1, inception (3a) on 28×28×192: output 28×28×256
    g = build(
        tmp_path,
        """
        archspec: 1
        name: t
        input: {shape: [28, 28, 192]}
        backbone:
          - inception: {c1x1: 64, c3x3_reduce: 96, c3x3: 128, c5x5_reduce: 16, c5x5: 32,
                        pool_proj: 32, name: inception_3a}
        """,
    )
    assert g.nodes["inception_3a_concat"].shape == (28, 28, 256)
    assert g.total_params == 163_696
    assert g.macs == 128_049_152  # Table 1's "ops" column: 128M


def test_inception_repeat_names_instances(tmp_path) -> None:
    text = INCEPTION.replace("name: inc}", "repeat: 2, name: inc}")
    g = build(tmp_path, text)
    assert "inc_block1_concat" in g.nodes and g.nodes["inc_block2_1x1"].inputs == (
        "inc_block1_concat",
    )
    assert g.nodes["inc_block2_concat"].shape == (16, 16, 11)


def test_inception_argument_errors(tmp_path) -> None:
    d = fails(tmp_path, INCEPTION.replace("c3x3_reduce: 3", "c3x3reduce: 3"))
    assert (d.location.line, d.location.col) == (6, 26)
    assert d.message == "unknown argument 'c3x3reduce' — did you mean 'c3x3_reduce'?"
    d = fails(tmp_path, INCEPTION.replace("pool_proj: 3,", ""))
    assert d.message == "missing required key 'pool_proj'"
    d = fails(tmp_path, INCEPTION.replace("c5x5: 2", "c5x5: 0"))
    assert d.message == "'c5x5' should be greater than or equal to 1 (got 0)"
    assert (d.location.line, d.location.col) == (6, 73)


def test_inception_arguments_may_be_expressions(tmp_path) -> None:
    g = build(tmp_path, INCEPTION.replace("c1x1: 2", "c1x1: $w"))
    assert g.nodes["inc_concat"].shape == (16, 16, 17)


# ---- fire -----------------------------------------------------------------------------------


def test_fire_names_order_and_shapes(tmp_path) -> None:
    g = build(tmp_path, FIRE)
    assert placed(g, "fire2") == [
        ("fire2_squeeze1x1", "conv", (16, 16, 2)),
        ("fire2_squeeze1x1_relu", "activation", (16, 16, 2)),
        ("fire2_expand1x1", "conv", (16, 16, 4)),
        ("fire2_expand1x1_relu", "activation", (16, 16, 4)),
        ("fire2_expand3x3", "conv", (16, 16, 5)),
        ("fire2_expand3x3_relu", "activation", (16, 16, 5)),
        ("fire2_concat", "concat", (16, 16, 9)),
    ]
    assert g.nodes["fire2_expand3x3"].inputs == ("fire2_squeeze1x1_relu",)
    assert g.nodes["fire2_concat"].inputs == ("fire2_expand1x1_relu", "fire2_expand3x3_relu")
    assert g.nodes["fire2_expand3x3"].args.padding == "same"
    assert all(g.nodes[f"fire2_{c}"].args.use_bias for c in ("squeeze1x1", "expand1x1"))
    assert g.nodes["fire2_squeeze1x1_relu"].args.activation == "relu"


def test_fire_params(tmp_path) -> None:
    g = build(tmp_path, FIRE)
    assert g.total_params == conv_params(4, 2, 1) + conv_params(2, 4, 1) + conv_params(2, 5, 3)


def test_fire2_of_the_paper(tmp_path) -> None:
    # Iandola et al. 2016, Table 1, fire2 on 55×55×96: s1x1 16, e1x1 64, e3x3 64 → 55×55×128,
    # 11,920 params (the table's 11,920 before pruning)
    g = build(
        tmp_path,
        """
        archspec: 1
        name: t
        input: {shape: [55, 55, 96]}
        backbone:
          - fire: {squeeze: 16, expand1x1: 64, expand3x3: 64, name: fire2}
        """,
    )
    assert g.nodes["fire2_concat"].shape == (55, 55, 128)
    assert g.total_params == 11_920


def test_fire_errors(tmp_path) -> None:
    d = fails(tmp_path, FIRE.replace("squeeze: 2", "squeeze1x1: 2"))
    assert d.message.startswith("unknown argument 'squeeze1x1'")
    assert (d.location.line, d.location.col) == (6, 12)
    d = fails(tmp_path, FIRE.replace("expand3x3: 5", "expand3x3: 5.0"))
    assert d.message == "'expand3x3' should be a valid integer (got 5.0)"


def test_fire_under_repeat(tmp_path) -> None:
    g = build(tmp_path, FIRE.replace("name: fire2}", "repeat: 3, name: fire}"))
    assert g.nodes["fire_block3_concat"].shape == (16, 16, 9)
    assert g.nodes["fire_block2_squeeze1x1"].inputs == ("fire_block1_concat",)


# ---- branches -------------------------------------------------------------------------------


def test_branches_names_order_and_shapes(tmp_path) -> None:
    g = build(tmp_path, BRANCHES)
    assert placed(g, "mix") == [
        ("mix_b1_1", "conv", (16, 16, 8)),  # filters: $w
        ("mix_b1_2", "relu", (16, 16, 8)),  # a bare op
        ("mix_red", "conv", (16, 16, 4)),  # a given name
        ("mix_b2_2", "conv", (16, 16, 6)),
        ("mix_b2_3", "relu", (16, 16, 6)),  # `relu:` with no arguments
        ("mix_b3_1", "max_pool", (16, 16, 4)),
        ("mix_concat", "concat", (16, 16, 18)),
    ]
    assert g.nodes["mix_red"].inputs == g.nodes["mix_b3_1"].inputs == ("input",)
    assert g.nodes["mix_b2_2"].inputs == ("mix_red",)
    assert g.nodes["mix_concat"].inputs == ("mix_b1_2", "mix_b2_3", "mix_b3_1")
    assert g.nodes["mix_b2_2"].args.kernel == (3, 3)
    assert g.total_params == conv_params(4, 8, 1) + conv_params(4, 4, 1) + conv_params(4, 6, 3)


def test_branches_can_write_out_inception(tmp_path) -> None:
    """The docstring's example: the same module, the same params and shapes, other names."""
    example = BLOCKS["branches"].__doc__.split("written out:")[1]
    body = "\n".join(line[4:] for line in example.strip("\n").splitlines() if line.strip())
    text = HEADER.replace("[16, 16, 4]", "[28, 28, 192]") + "\n".join(
        "  " + line for line in body.splitlines()
    )
    g = build(tmp_path, text)
    assert g.nodes["inception_3a_concat"].shape == (28, 28, 256)
    assert g.total_params == 163_696  # as the inception block's 3a
    assert [n.op for n in g][1:] == ["conv", "conv", "conv", "conv", "conv", "max_pool", "conv",
                                     "concat"]  # fmt: skip


def test_branches_under_repeat_and_with_strides(tmp_path) -> None:
    # an Inception-v3-style grid reduction: strided conv ‖ strided max-pool
    g = build(
        tmp_path,
        HEADER
        + """\
  - branches:
      repeat: 2
      name: red
      branches:
        - [{conv: {filters: 4, kernel: 3, strides: 2, padding: same}}]
        - [{max_pool: {pool: 3, strides: 2, padding: same}}]
""",
    )
    assert g.nodes["red_block1_concat"].shape == (8, 8, 8)
    assert g.nodes["red_block2_concat"].shape == (4, 4, 12)  # every instance keeps its strides


BAD_BRANCH = (
    HEADER
    + """\
  - branches:
      name: mix
      branches:
        - [{conv: {filters: 8, kernel: 1}}]
        - BAD
"""
)


@pytest.mark.parametrize(
    ("bad", "col", "message"),
    [
        ("[{convv: {filters: 2, kernel: 1}}]", 13, "unknown op 'convv' — did you mean 'conv'?"),
        (
            "[{conv: {filters: 2, kernel_size: 1}}]",
            32,
            "unknown argument 'kernel_size' — did you mean 'kernel'?",
        ),
        ("[{conv: {filters: 2}}]", 13, "missing required key 'kernel'"),
        (
            "[{conv: {filters: 2.5, kernel: 1}}]",
            29,
            "'filters' should be a valid integer (got 2.5)",
        ),
        ("[relu, {dropout: {rate: 2}}]", 35, "'rate' should be less than 1 (got 2)"),
        ("[rleu]", 12, "'branches' item 2 item 1 is not an op — did you mean 'relu'? (got 'rleu')"),
        (
            "[{conv: {filters: 2, kernel: 1}, relu: {}}]",
            12,
            "'branches' item 2 item 1 should be one `op: {arguments}` mapping or a bare op, "
            "got 2 keys",
        ),
        (
            "[{add: {}}]",
            12,
            "'branches' item 2 item 1 is 'add', which merges several inputs; an item of a "
            "branch takes one input",
        ),
        (
            "[{conv: {filters: 2, kernel: 1, from: input}}]",
            12,
            "'branches' item 2 item 1 cannot use `from`: each item of a branch takes the output "
            "of the item above it (the first takes the block's input)",
        ),
        (
            "[{conv: {filters: 2, kernel: 1, name: 3-x}}]",
            12,
            "'branches' item 2 item 1 has the name '3-x'; a name holds only letters, digits and _",
        ),
        ("[{name: x}]", 12, "'branches' item 2 item 1 has a `name` but no op"),
        (
            "[{conv: [1]}]",
            12,
            "'branches' item 2 item 1 should give the arguments of 'conv' as a mapping "
            "{arg: value, …}",
        ),
        ("[]", 11, "'branches' item 2 should have at least 1 item, not 0"),
        # inside an expression-holding `branches`, the same errors come from the walk
        (
            "[{conv: {filters: $w, kernel_size: 1}}]",
            33,
            "unknown argument 'kernel_size' — did you mean 'kernel'?",
        ),
    ],
)
def test_bad_branches_are_located_errors(tmp_path, bad: str, col: int, message: str) -> None:
    d = fails(tmp_path, BAD_BRANCH.replace("BAD", bad))
    assert d.message == message
    assert (d.location.line, d.location.col) == (10, col)


def test_branches_needs_two_branches(tmp_path) -> None:
    d = fails(tmp_path, BAD_BRANCH.replace("        - BAD\n", ""))
    assert d.message == "'branches' should have at least 2 items, not 1"
    assert (d.location.line, d.location.col) == (9, 9)  # the list


def test_branches_of_different_sizes_do_not_concatenate(tmp_path) -> None:
    d = fails(tmp_path, BAD_BRANCH.replace("BAD", "[{conv: {filters: 2, kernel: 3}}]"))
    assert d.message == (
        "concat 'mix_concat' on axis -1 needs equal shapes on the other axes, got 16×16×8 "
        "(from mix_b1_1) and 14×14×2 (from mix_b2_1)"
    )
    assert (d.location.line, d.location.col) == (6, 5)
    assert d.notes and "in block 'mix' (branches)" in d.notes[0]


def test_branch_names_must_not_clash(tmp_path) -> None:
    d = fails(
        tmp_path, BAD_BRANCH.replace("BAD", "[{conv: {filters: 2, kernel: 1, name: concat}}]")
    )
    assert d.message.startswith("name 'mix_concat' is already used")


def test_the_six_sizes_and_branches_are_separate_blocks(tmp_path) -> None:
    d = fails(tmp_path, INCEPTION.replace("pool_proj: 3,", "pool_proj: 3, branches: [],"))
    assert d.message.startswith("unknown argument 'branches'")


# ---- Keras agrees with the Graph ------------------------------------------------------------


@pytest.mark.parametrize("text", [INCEPTION, FIRE, BRANCHES], ids=["inception", "fire", "branches"])
def test_keras_model_agrees_with_the_graph(tmp_path, text: str) -> None:
    import keras

    from archcompiler.backends.keras import build_model, count_params

    keras.backend.clear_session()
    g = build(tmp_path, text)
    model = build_model(g)
    assert count_params(model) == (g.trainable_params, g.non_trainable_params)
    assert sorted(layer.name for layer in model.layers) == sorted(g.nodes)
    for node in g:
        layer = model.get_layer(node.name)
        assert tuple(layer.output.shape)[1:] == node.shape, node.name
        assert sum(math.prod(w.shape) for w in layer.weights) == node.params, node.name
    concat = model.get_layer(g.outputs[0])
    assert [t.name for t in concat._inbound_nodes[0].input_tensors] == [
        model.get_layer(n).output.name for n in g.nodes[g.outputs[0]].inputs
    ]  # the channel order of the concatenation
