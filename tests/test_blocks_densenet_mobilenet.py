"""dense_block, transition and depthwise_sep: names, shapes, params, Keras agreement, and the
published figures of DenseNet-121/169/201 and MobileNet v1."""

from __future__ import annotations

import math

import pytest

from archcompiler.compiler import compile_file
from tests.conftest import ROOT
from tests.helpers import build, fails, write

SPECS = ROOT / "specs"


def spec(channels: int = 64, size: int = 8) -> str:
    return f"""
archspec: 1
name: t
input: {{shape: [{size}, {size}, {channels}]}}
backbone:
"""


def names_of(g, block: str) -> list[str]:
    return [n.name for n in g if block in n.block]


def bn(c: int) -> int:
    return 4 * c  # gamma, beta (trainable) + moving mean, variance


# ---- dense_block ------------------------------------------------------------------------------


def test_dense_block_names_and_order_as_keras_conv_block(tmp_path) -> None:
    g = build(tmp_path, spec() + "  - dense_block: {repeat: 2, name: conv2}\n")
    assert names_of(g, "conv2_block1") == [
        "conv2_block1_0_bn", "conv2_block1_0_relu", "conv2_block1_1_conv", "conv2_block1_1_bn",
        "conv2_block1_1_relu", "conv2_block1_2_conv", "conv2_block1_concat",
    ]  # fmt: skip
    assert names_of(g, "conv2_block2")[0] == "conv2_block2_0_bn"
    assert g.nodes["conv2_block1_concat"].inputs == ("input", "conv2_block1_2_conv")  # x first
    assert g.nodes["conv2_block2_0_bn"].inputs == ("conv2_block1_concat",)
    n = g.nodes
    relu, conv1 = n["conv2_block1_0_relu"], n["conv2_block1_1_conv"].args
    assert (relu.op, relu.args.activation) == ("activation", "relu")  # Keras: Activation("relu")
    assert (conv1.filters, conv1.kernel, conv1.use_bias) == (128, (1, 1), False)
    conv3 = n["conv2_block1_2_conv"].args
    assert (conv3.kernel, conv3.padding, conv3.use_bias) == ((3, 3), "same", False)
    assert n["conv2_block1_0_bn"].args.epsilon == 1.001e-5


def test_dense_block_grows_by_growth_rate_with_a_4k_bottleneck(tmp_path) -> None:
    g = build(tmp_path, spec(64, 8) + "  - dense_block: {growth_rate: 12, repeat: 3, name: d}\n")
    assert g.nodes["d_block1_1_conv"].shape == (8, 8, 48)  # 4k
    assert [g.nodes[f"d_block{i}_concat"].shape for i in (1, 2, 3)] == [
        (8, 8, 76), (8, 8, 88), (8, 8, 100)
    ]  # fmt: skip
    # one layer on C = 64 channels: bn(C) + 1×1 C→4k + bn(4k) + 3×3 4k→k, no biases
    assert sum(n.params for n in g if "d_block1" in n.block) == bn(64) + 64 * 48 + bn(48) + (
        9 * 48 * 12
    )
    assert g.nodes["d_block1_1_conv"].macs == 8 * 8 * 64 * 48


def test_dense_block_without_bottleneck_keeps_the_stage_numbers(tmp_path) -> None:
    g = build(
        tmp_path, spec(16) + "  - dense_block: {bottleneck: false, growth_rate: 8, name: d}\n"
    )
    assert names_of(g, "d") == ["d_0_bn", "d_0_relu", "d_2_conv", "d_concat"]
    assert g.nodes["d_2_conv"].inputs == ("d_0_relu",)
    assert g.nodes["d_concat"].shape == (8, 8, 24)
    assert g.total_params == bn(16) + 9 * 16 * 8


def test_dense_block_dropout_after_each_conv(tmp_path) -> None:
    g = build(tmp_path, spec(16) + "  - dense_block: {dropout: 0.2, name: d}\n")
    assert names_of(g, "d") == [
        "d_0_bn", "d_0_relu", "d_1_conv", "d_1_dropout", "d_1_bn", "d_1_relu", "d_2_conv",
        "d_2_dropout", "d_concat",
    ]  # fmt: skip
    assert g.nodes["d_2_dropout"].args.rate == 0.2
    plain = build(
        tmp_path, spec(16) + "  - dense_block: {bottleneck: false, dropout: 0.1, name: d}\n"
    )
    assert names_of(plain, "d") == ["d_0_bn", "d_0_relu", "d_2_conv", "d_2_dropout", "d_concat"]


def test_dense_block_override_by_group_name(tmp_path) -> None:
    # DenseNet-C from a DenseNet-BC spec: `override` reaches every instance of the group
    write(tmp_path, spec(16) + "  - dense_block: {repeat: 2, name: conv2}\n", "base.yaml")
    child = "archspec: 1\nname: c\nextends: base.yaml\noverride:\n  conv2: {bottleneck: false}\n"
    g = compile_file(write(tmp_path, child, "child.yaml"))
    assert "conv2_block2_1_conv" not in g.nodes and "conv2_block2_2_conv" in g.nodes
    assert "conv2_block1_1_conv" not in g.nodes


def test_dense_block_bad_arguments_are_located(tmp_path) -> None:
    d = fails(tmp_path, spec() + "  - dense_block: {growth_rate: 0}\n")
    assert "growth_rate" in d.message and d.location.line == 5
    d = fails(tmp_path, spec() + "  - dense_block: {growthrate: 12}\n")
    assert "did you mean 'growth_rate'" in d.message
    d = fails(tmp_path, spec() + "  - dense_block: {dropout: 1.0}\n")
    assert "dropout" in d.message


# ---- transition -------------------------------------------------------------------------------


def test_transition_names_and_compression(tmp_path) -> None:
    g = build(tmp_path, spec(256, 56) + "  - transition: {name: pool2}\n")
    assert names_of(g, "pool2") == ["pool2_bn", "pool2_relu", "pool2_conv", "pool2_pool"]
    assert g.nodes["pool2_conv"].shape == (56, 56, 128)
    assert g.nodes["pool2_pool"].shape == (28, 28, 128)
    conv = g.nodes["pool2_conv"].args
    assert (conv.kernel, conv.use_bias) == ((1, 1), False)
    pool = g.nodes["pool2_pool"]
    assert pool.op == "avg_pool" and (pool.args.pool, pool.args.strides) == ((2, 2), (2, 2))
    assert g.total_params == bn(256) + 256 * 128


@pytest.mark.parametrize(
    ("channels", "reduction", "kept"),
    [(256, 0.5, 128), (7, 0.5, 3), (100, 1.0, 100), (100, 0.3, 30), (1000, 0.33, 330)],
)
def test_transition_keeps_int_channels_times_theta(tmp_path, channels, reduction, kept) -> None:
    g = build(
        tmp_path, spec(channels, 7) + f"  - transition: {{reduction: {reduction}, name: t}}\n"
    )
    assert g.nodes["t_conv"].shape == (7, 7, kept)
    assert g.nodes["t_pool"].shape == (3, 3, kept)  # 7 → ⌊7/2⌋, valid pooling


def test_transition_reads_the_channels_it_receives(tmp_path) -> None:
    g = build(
        tmp_path,
        spec(64) + "  - dense_block: {repeat: 6, name: conv2}\n  - transition: {name: pool2}\n",
    )
    assert g.nodes["pool2_pool"].shape == (4, 4, (64 + 6 * 32) // 2)


def test_transition_dropout_and_bad_reduction(tmp_path) -> None:
    g = build(tmp_path, spec(8) + "  - transition: {dropout: 0.2, name: t}\n")
    assert names_of(g, "t") == ["t_bn", "t_relu", "t_conv", "t_dropout", "t_pool"]
    assert "reduction" in fails(tmp_path, spec(8) + "  - transition: {reduction: 0}\n").message
    assert "reduction" in fails(tmp_path, spec(8) + "  - transition: {reduction: 1.5}\n").message


# ---- depthwise_sep ----------------------------------------------------------------------------


def test_depthwise_sep_keras_names_with_block_id(tmp_path) -> None:
    g = build(
        tmp_path,
        spec(32, 16)
        + "  - depthwise_sep: {filters: 64, block_id: 1, name: a}\n"
        + "  - depthwise_sep: {filters: 128, strides: 2, block_id: 2, name: b}\n",
    )
    assert names_of(g, "a") == [
        "conv_dw_1", "conv_dw_1_bn", "conv_dw_1_relu", "conv_pw_1", "conv_pw_1_bn",
        "conv_pw_1_relu",
    ]  # fmt: skip
    assert names_of(g, "b") == [
        "conv_pad_2", "conv_dw_2", "conv_dw_2_bn", "conv_dw_2_relu", "conv_pw_2", "conv_pw_2_bn",
        "conv_pw_2_relu",
    ]  # fmt: skip
    n = g.nodes
    assert n["conv_dw_1"].args.padding == "same" and n["conv_dw_1"].shape == (16, 16, 32)
    assert n["conv_pad_2"].args.padding == ((0, 1), (0, 1)) and n["conv_pad_2"].shape == (
        17,
        17,
        64,
    )
    assert n["conv_dw_2"].args.padding == "valid" and n["conv_dw_2"].shape == (8, 8, 64)
    assert n["conv_pw_2"].shape == (8, 8, 128)
    assert n["conv_dw_1_relu"].op == n["conv_pw_1_relu"].op == "relu6"
    assert not n["conv_dw_1"].args.use_bias and not n["conv_pw_1"].args.use_bias
    assert n["conv_pw_1"].args.kernel == (1, 1) and n["conv_dw_1_bn"].args.epsilon == 1e-3
    # depthwise 3×3·C + bn(C) + pointwise C·F + bn(F)
    assert sum(x.params for x in g if "a" in x.block) == 9 * 32 + bn(32) + 32 * 64 + bn(64)
    assert n["conv_dw_1"].macs == 16 * 16 * 9 * 32 and n["conv_pw_1"].macs == 16 * 16 * 32 * 64


def test_depthwise_sep_prefix_names_without_block_id(tmp_path) -> None:
    g = build(tmp_path, spec(8, 9) + "  - depthwise_sep: {filters: 16, strides: 2, name: s}\n")
    assert names_of(g, "s") == [
        "s_pad", "s_dw", "s_dw_bn", "s_dw_relu", "s_pw", "s_pw_bn", "s_pw_relu"
    ]  # fmt: skip
    assert g.nodes["s_pad"].shape == (10, 10, 8)
    assert g.nodes["s_pw_relu"].shape == (4, 4, 16)  # (9 + 1 − 3) // 2 + 1, as Keras (not ⌈9/2⌉)


def test_depthwise_sep_repeat_counts_block_ids_and_strides_only_the_first(tmp_path) -> None:
    g = build(
        tmp_path,
        spec(16, 28) + "  - depthwise_sep: {filters: 32, strides: 2, block_id: 7, repeat: 5, "
        "name: sep7}\n",
    )
    assert [x for x in g.nodes if x.startswith("conv_pw_") and x[-1].isdigit()] == [
        f"conv_pw_{i}" for i in range(7, 12)
    ]
    assert "conv_pad_7" in g.nodes and not any(f"conv_pad_{i}" in g.nodes for i in range(8, 12))
    assert g.nodes["conv_dw_7"].shape == (14, 14, 16) and g.nodes["conv_dw_8"].shape[:2] == (14, 14)
    assert g.nodes["conv_dw_9"].block[-2:] == ("sep7", "sep7_block3")
    plain = build(tmp_path, spec(16) + "  - depthwise_sep: {filters: 32, repeat: 2, name: s}\n")
    assert "s_block2_dw" in plain.nodes and "s_block2_pw_relu" in plain.nodes


@pytest.mark.parametrize(
    ("filters", "alpha", "expected"),
    [(64, 1.0, 64), (64, 0.75, 48), (1024, 0.25, 256), (128, 0.35, 44), (32, 1.3, 41), (8, 0.1, 1)],
)
def test_depthwise_sep_width_multiplier_as_keras(tmp_path, filters, alpha, expected) -> None:
    # Keras: int(filters * alpha), truncating (128·0.35 = 44.8 → 44); at least one channel
    g = build(tmp_path, spec(8) + f"  - depthwise_sep: {{filters: {filters}, alpha: {alpha}}}\n")
    assert g.nodes[g.outputs[0]].shape == (8, 8, expected)


def test_depthwise_sep_depth_multiplier(tmp_path) -> None:
    g = build(tmp_path, spec(8) + "  - depthwise_sep: {filters: 4, depth_multiplier: 3, name: s}\n")
    assert g.nodes["s_dw"].shape == (8, 8, 24)
    assert g.nodes["s_pw"].params == 24 * 4


def test_depthwise_sep_name_clash_with_two_equal_block_ids(tmp_path) -> None:
    d = fails(
        tmp_path,
        spec(8) + "  - depthwise_sep: {filters: 8, block_id: 1}\n"
        "  - depthwise_sep: {filters: 8, block_id: 1}\n",
    )
    assert d.message.startswith("name 'conv_dw_1' is already used")


# ---- Keras agrees with the Graph ---------------------------------------------------------------

TINY = {
    "densenet": spec(16, 16)
    + """\
  - dense_block: {growth_rate: 8, repeat: 2, name: conv2}
  - transition: {reduction: 0.5, name: pool2}
  - dense_block: {growth_rate: 4, bottleneck: false, dropout: 0.2, repeat: 2, name: conv3}
  - transition: {reduction: 0.7, dropout: 0.1, name: pool3}
""",
    "mobilenet": spec(3, 17)
    + """\
  - depthwise_sep: {filters: 8, alpha: 0.75, block_id: 1}
  - depthwise_sep: {filters: 16, strides: 2, depth_multiplier: 2, block_id: 2, repeat: 2}
  - depthwise_sep: {filters: 12, strides: 2, name: plain}
""",
}


@pytest.mark.parametrize("name", list(TINY))
def test_keras_model_agrees_with_the_graph(tmp_path, name: str) -> None:
    import keras

    from archcompiler.backends.keras import build_model, count_params

    keras.backend.clear_session()
    g = build(tmp_path, TINY[name])
    model = build_model(g)
    assert count_params(model) == (g.trainable_params, g.non_trainable_params)
    assert [layer.name for layer in model.layers] == list(g.nodes)
    for node in g:
        layer = model.get_layer(node.name)
        assert tuple(layer.output.shape)[1:] == node.shape, node.name
        trainable = sum(math.prod(w.shape) for w in layer.trainable_weights)
        fixed = sum(math.prod(w.shape) for w in layer.non_trainable_weights)
        assert (trainable, fixed) == (node.trainable_params, node.non_trainable_params), node.name


# ---- published figures ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("depth", "params", "layers"),
    [(121, 8_062_504, (6, 12, 24, 16)), (169, 14_307_880, (6, 12, 32, 32)),
     (201, 20_242_984, (6, 12, 48, 32))],
)  # fmt: skip
def test_densenet_params_and_table_1_sizes(depth: int, params: int, layers: tuple) -> None:
    # keras.applications.DenseNetN(weights=None).count_params(); Huang et al. Table 1 sizes
    g = compile_file(SPECS / f"densenet{depth}.yaml")
    assert g.total_params == params
    for stage, count in zip(range(2, 6), layers, strict=True):
        assert f"conv{stage}_block{count}_concat" in g.nodes
        assert f"conv{stage}_block{count + 1}_0_bn" not in g.nodes
    sizes = [g.nodes[x].shape[:2] for x in ("conv1_conv", "pool1", "pool2_pool", "pool3_pool",
                                             "pool4_pool", "relu")]  # fmt: skip
    assert sizes == [(112, 112), (56, 56), (28, 28), (14, 14), (7, 7), (7, 7)]
    channels = 64 + 32 * layers[0]
    for count in layers[1:]:
        channels = channels // 2 + 32 * count
    assert g.nodes["relu"].shape == (7, 7, channels)
    assert g.nodes["predictions"].shape == (1000,)
    # 2 unnamed ZeroPadding2D layers, named as Keras names them in a fresh session
    assert g.nodes["zero_padding2d"].shape == (230, 230, 3)
    assert g.nodes["zero_padding2d_1"].shape == (114, 114, 64)


def test_mobilenet_params_and_mult_adds_table_1_and_8() -> None:
    g = compile_file(SPECS / "mobilenet.yaml")
    assert g.total_params == 4_253_864  # keras.applications.MobileNet(weights=None)
    assert g.trainable_params == 4_231_976
    assert g.macs == 568_740_352  # the paper: 569 million mult-adds (Table 1/8)
    assert abs(g.macs / 569e6 - 1) < 0.01
    assert g.nodes["conv_pw_13_relu"].shape == (7, 7, 1024)
    assert g.nodes["predictions"].shape == (1000,)


@pytest.mark.parametrize(
    ("alpha", "size", "million_mult_adds", "ours"),
    [
        ("0.75", 224, 325, 325_400_448),  # Table 6
        ("0.5", 224, 149, 149_497_088),
        ("0.25", 224, 41, 41_030_272),
        ("1.0", 192, 418, 418_121_728),  # Table 7
        ("1.0", 160, 290, 290_675_200),
        ("1.0", 128, 186, 186_400_768),
    ],
)
def test_mobilenet_width_and_resolution_multipliers_tables_6_and_7(
    alpha: str, size: int, million_mult_adds: int, ours: int
) -> None:
    g = compile_file(SPECS / "mobilenet.yaml", {"alpha": alpha, "size": str(size)})
    assert g.macs == ours
    assert abs(g.macs / (million_mult_adds * 1e6) - 1) < 0.02
    side = math.ceil(size / 32)
    assert g.nodes["conv_pw_13_relu"].shape == (side, side, int(1024 * float(alpha)))
