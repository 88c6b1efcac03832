"""The vgg_stage, basic and bottleneck blocks, and the VGG / ResNet zoo specs built from them."""

from __future__ import annotations

import pytest

from archcompiler.compiler import compile_file
from tests.conftest import ROOT
from tests.helpers import build, fails


def spec(name: str):
    return ROOT / "specs" / f"{name}.yaml"


def tiny(node: str, size: int = 16, channels: int = 3) -> str:
    """A spec whose backbone is NODE (one YAML flow line, or several lines) on SIZE×SIZE×C."""
    lines = node.strip().splitlines()
    body = "\n".join(f"  - {line}" for line in lines)
    return (
        f"archspec: 1\nname: t\ninput: {{shape: [{size}, {size}, {channels}]}}\nbackbone:\n{body}\n"
    )


def placed(g, prefix: str) -> list[str]:
    return [n for n in g.nodes if n.startswith(prefix)]


def bn_params(c: int) -> int:
    return 4 * c  # gamma, beta (trainable) + moving mean, variance


# ---- vgg_stage --------------------------------------------------------------------------------


def test_vgg_stage_names_shapes_and_arguments_as_keras_vgg16(tmp_path) -> None:
    g = build(tmp_path, tiny("vgg_stage: {convs: 3, filters: 8, name: block1}", size=32))
    assert placed(g, "block1") == ["block1_conv1", "block1_conv2", "block1_conv3", "block1_pool"]
    assert [g.nodes[n].shape for n in placed(g, "block1")] == [(32, 32, 8)] * 3 + [(16, 16, 8)]
    conv = g.nodes["block1_conv2"].args
    assert (conv.kernel, conv.padding, conv.activation, conv.use_bias) == (
        (3, 3),
        "same",
        "relu",
        True,
    )
    pool = g.nodes["block1_pool"].args
    assert (pool.pool, pool.strides, pool.padding) == ((2, 2), (2, 2), "valid")
    assert g.nodes["block1_conv1"].params == 3 * 3 * 3 * 8 + 8
    assert g.nodes["block1_conv2"].params == 3 * 3 * 8 * 8 + 8
    assert g.outputs == ["block1_pool"]


@pytest.mark.parametrize(("size", "out"), [(224, 112), (7, 3), (2, 1)])
def test_vgg_stage_pool_halves_rounding_down(tmp_path, size: int, out: int) -> None:
    g = build(tmp_path, tiny("vgg_stage: {convs: 1, filters: 4, name: s}", size=size))
    assert g.nodes["s_pool"].shape == (out, out, 4)


def test_vgg_stage_with_batch_norm_and_without_pool(tmp_path) -> None:
    text = tiny("vgg_stage: {convs: 2, filters: 8, batch_norm: true, pool: false, name: s}")
    g = build(tmp_path, text)
    assert placed(g, "s_") == ["s_conv1", "s_bn1", "s_relu1", "s_conv2", "s_bn2", "s_relu2"]
    assert g.nodes["s_conv1"].args.activation is None
    assert g.nodes["s_relu1"].op == "activation"
    assert g.nodes["s_relu1"].args.activation == "relu"
    assert g.nodes["s_relu2"].shape == (16, 16, 8)
    assert g.total_params == (27 * 8 + 8) + (72 * 8 + 8) + 2 * bn_params(8)


def test_vgg_stage_kernel_and_bad_arguments(tmp_path) -> None:
    g = build(tmp_path, tiny("vgg_stage: {convs: 1, filters: 4, kernel: 5, name: s}"))
    assert g.nodes["s_conv1"].params == 5 * 5 * 3 * 4 + 4
    assert "convs" in fails(tmp_path, tiny("vgg_stage: {convs: 0, filters: 4}")).message
    d = fails(tmp_path, tiny("vgg_stage: {convs: 1, filters: 4, kernel_size: 3}"))
    assert "kernel_size" in d.message


# ---- basic ------------------------------------------------------------------------------------

BASIC_BODY = ["1_conv", "1_bn", "1_relu", "2_conv", "2_bn", "add", "out"]
SHORTCUT = ["0_conv", "0_bn"]


def test_basic_identity_when_channels_and_stride_stay(tmp_path) -> None:
    g = build(tmp_path, tiny("basic: {filters: 8, name: b}", channels=8))
    assert placed(g, "b_") == [f"b_{n}" for n in BASIC_BODY]
    assert g.nodes["b_add"].inputs == ("input", "b_2_bn")  # shortcut first, as Keras adds
    assert g.nodes["b_out"].shape == (16, 16, 8)
    assert g.nodes["b_out"].args.activation == "relu"
    # no conv bias by default (paper, torchvision); bn epsilon 1e-5
    assert g.total_params == 2 * (9 * 8 * 8) + 2 * bn_params(8)
    assert g.nodes["b_1_bn"].args.epsilon == 1e-5


@pytest.mark.parametrize(
    ("channels", "strides", "out"), [(4, 1, 16), (8, 2, 8), (4, 2, 8), (8, [2, 1], None)]
)
def test_basic_projects_exactly_when_channels_or_stride_change(
    tmp_path, channels: int, strides, out: int | None
) -> None:
    g = build(tmp_path, tiny(f"basic: {{filters: 8, strides: {strides}, name: b}}", 16, channels))
    assert placed(g, "b_") == [f"b_{n}" for n in SHORTCUT + BASIC_BODY]  # shortcut created first
    assert g.nodes["b_add"].inputs == ("b_0_bn", "b_2_bn")
    assert g.nodes["b_0_conv"].args.kernel == (1, 1)
    assert g.nodes["b_0_conv"].args.strides == g.nodes["b_1_conv"].args.strides
    assert g.nodes["b_2_conv"].args.strides == (1, 1)
    expected = (8, 16, 8) if out is None else (out, out, 8)
    assert g.nodes["b_0_bn"].shape == g.nodes["b_2_bn"].shape == expected
    assert g.nodes["b_0_conv"].params == channels * 8


def test_basic_use_bias_and_epsilon(tmp_path) -> None:
    g = build(tmp_path, tiny("basic: {filters: 8, use_bias: true, epsilon: 1e-3, name: b}"))
    assert all(g.nodes[f"b_{i}_conv"].args.use_bias for i in range(3))
    assert {g.nodes[f"b_{i}_bn"].args.epsilon for i in range(3)} == {1e-3}
    no_bias = build(tmp_path, tiny("basic: {filters: 8, name: b}"))
    assert g.total_params - no_bias.total_params == 3 * 8


def test_basic_repeat_strides_only_the_first_block(tmp_path) -> None:
    g = build(tmp_path, tiny("basic: {filters: 8, repeat: 3, strides: 2, name: conv3}"))
    assert "conv3_block1_0_conv" in g.nodes
    assert "conv3_block2_0_conv" not in g.nodes and "conv3_block3_0_conv" not in g.nodes
    assert g.nodes["conv3_block1_1_conv"].args.strides == (2, 2)
    assert g.nodes["conv3_block2_1_conv"].args.strides == (1, 1)
    assert g.nodes["conv3_block3_add"].inputs == ("conv3_block2_out", "conv3_block3_2_bn")
    assert g.nodes["conv3_block3_out"].shape == (8, 8, 8)


# ---- bottleneck -------------------------------------------------------------------------------

BOTTLENECK_BODY = [
    "1_conv", "1_bn", "1_relu", "2_conv", "2_bn", "2_relu", "3_conv", "3_bn", "add", "out",
]  # fmt: skip


def test_bottleneck_names_and_order_as_keras_residual_block_v1(tmp_path) -> None:
    g = build(tmp_path, tiny("bottleneck: {filters: 4, name: conv2_block1}", channels=8))
    names = [f"conv2_block1_{n}" for n in SHORTCUT + BOTTLENECK_BODY]
    assert placed(g, "conv2_block1") == names
    assert g.nodes["conv2_block1_add"].inputs == ("conv2_block1_0_bn", "conv2_block1_3_bn")
    assert g.nodes["conv2_block1_out"].shape == (16, 16, 16)
    kernels = [g.nodes[f"conv2_block1_{i}_conv"].args.kernel for i in range(4)]
    assert kernels == [(1, 1), (1, 1), (3, 3), (1, 1)]
    assert g.nodes["conv2_block1_2_conv"].args.padding == "same"
    # Keras's defaults: conv bias, bn epsilon 1.001e-5
    assert all(g.nodes[f"conv2_block1_{i}_conv"].args.use_bias for i in range(4))
    assert {g.nodes[f"conv2_block1_{i}_bn"].args.epsilon for i in range(4)} == {1.001e-5}
    convs = (8 * 16 + 16) + (8 * 4 + 4) + (9 * 4 * 4 + 4) + (4 * 16 + 16)
    assert g.total_params == convs + bn_params(16) * 2 + bn_params(4) * 2


@pytest.mark.parametrize(
    ("channels", "strides", "projects"),
    [(16, 1, False), (8, 1, True), (16, 2, True), (32, 1, True), (16, [1, 2], True)],
)
def test_bottleneck_projects_exactly_when_channels_or_stride_change(
    tmp_path, channels: int, strides, projects: bool
) -> None:
    g = build(
        tmp_path, tiny(f"bottleneck: {{filters: 4, strides: {strides}, name: b}}", 16, channels)
    )
    assert ("b_0_conv" in g.nodes) is projects
    assert g.nodes["b_add"].inputs[0] == ("b_0_bn" if projects else "input")
    assert placed(g, "b_") == [f"b_{n}" for n in (SHORTCUT if projects else []) + BOTTLENECK_BODY]


def test_bottleneck_repeat_is_a_keras_stack(tmp_path) -> None:
    # stack_residual_blocks_v1: conv_shortcut on block 1 only, the stride on block 1 only
    g = build(
        tmp_path, tiny("bottleneck: {filters: 4, repeat: 3, strides: 2, name: conv3}", 16, 16)
    )
    assert [n for n in g.nodes if n.endswith("_0_conv")] == ["conv3_block1_0_conv"]
    assert g.nodes["conv3_block1_1_conv"].args.strides == (2, 2)
    assert g.nodes["conv3_block2_1_conv"].args.strides == (1, 1)
    assert g.nodes["conv3_block3_out"].shape == (8, 8, 16)


@pytest.mark.parametrize(("stride_on", "strided"), [("1x1", "1_conv"), ("3x3", "2_conv")])
def test_bottleneck_stride_on(tmp_path, stride_on: str, strided: str) -> None:
    g = build(
        tmp_path, tiny(f"bottleneck: {{filters: 4, strides: 2, stride_on: {stride_on}, name: b}}")
    )
    other = {"1_conv": "2_conv", "2_conv": "1_conv"}[strided]
    assert g.nodes[f"b_{strided}"].args.strides == (2, 2)
    assert g.nodes[f"b_{other}"].args.strides == (1, 1)
    assert g.nodes["b_0_conv"].args.strides == (2, 2)
    assert g.nodes["b_1_conv"].shape[:2] == ((8, 8) if stride_on == "1x1" else (16, 16))
    assert g.nodes["b_out"].shape == (8, 8, 16)


def test_bottleneck_expansion_use_bias_epsilon_and_bad_stride_on(tmp_path) -> None:
    text = "bottleneck: {filters: 4, expansion: 2, use_bias: false, epsilon: 1e-5, name: b}"
    g = build(tmp_path, tiny(text, channels=8))
    assert "b_0_conv" not in g.nodes  # 8 = 2 · 4: the identity
    assert g.nodes["b_3_conv"].shape == (16, 16, 8)
    assert not any(g.nodes[f"b_{i}_conv"].args.use_bias for i in (1, 2, 3))
    assert g.nodes["b_3_bn"].args.epsilon == 1e-5
    d = fails(tmp_path, tiny("bottleneck: {filters: 4, stride_on: 2x2}"))
    assert "stride_on" in d.message


# ---- Keras agreement --------------------------------------------------------------------------

MIXED = """
vgg_stage: {convs: 2, filters: 8, name: block1}
vgg_stage: {convs: 1, filters: 8, batch_norm: true, name: block2}
basic: {filters: 8, repeat: 2, strides: 1, name: conv2}
basic: {filters: 12, repeat: 2, strides: 2, name: conv3}
bottleneck: {filters: 4, repeat: 2, strides: 1, name: conv4}
bottleneck: {filters: 8, repeat: 2, strides: 2, stride_on: 3x3, name: conv5}
bottleneck: {filters: 8, strides: [1, 2], expansion: 2, use_bias: false, name: conv6}
"""


def test_blocks_agree_with_keras_node_by_node(tmp_path) -> None:
    from archcompiler.backends.keras import build_model, count_params

    g = build(tmp_path, tiny(MIXED, size=34))
    model = build_model(g)
    for node in g:
        layer = model.get_layer(node.name)
        assert tuple(layer.output.shape)[1:] == node.shape, node.name
        assert layer.count_params() == node.params, node.name
    assert count_params(model) == (g.trainable_params, g.non_trainable_params)
    assert g.nodes["conv6_out"].shape == (2, 1, 16)  # 34 → 17 → 8 → 4 → 2, then [1, 2]


# ---- the zoo ----------------------------------------------------------------------------------

ZOO = ["vgg16", "vgg19", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]

# (total, trainable) at 1000 classes: keras.applications' counts for the networks Keras has,
# torchvision's resnet18/resnet34 counts (11,689,512 / 21,797,672: γ, β but not the BN running
# statistics, i.e. our trainable params) for the two it has not
PARAMS = {
    "vgg16": (138_357_544, 138_357_544),  # paper Table 2: 138 M
    "vgg19": (143_667_240, 143_667_240),  # paper Table 2: 144 M
    "resnet18": (11_699_112, 11_689_512),
    "resnet34": (21_814_696, 21_797_672),
    "resnet50": (25_636_712, 25_583_592),
    "resnet101": (44_707_176, 44_601_832),
    "resnet152": (60_419_944, 60_268_520),
}

# He et al. 2015, Table 1, "FLOPs" (multiply-adds): 1.8, 3.6, 3.8, 7.6, 11.3 × 10⁹. We count
# 1.81, 3.66, 3.86, 7.57, 11.28 G MACs (the paper rounds and leaves out the classifier).
PAPER_MACS = {"resnet18": 1.8e9, "resnet34": 3.6e9, "resnet50": 3.8e9, "resnet101": 7.6e9,
              "resnet152": 11.3e9}  # fmt: skip


@pytest.mark.parametrize("name", ZOO)
def test_zoo_param_counts(name: str) -> None:
    g = compile_file(spec(name))
    assert (g.total_params, g.trainable_params) == PARAMS[name]


@pytest.mark.parametrize("name", list(PAPER_MACS))
def test_resnet_macs_match_the_paper(name: str) -> None:
    assert compile_file(spec(name)).macs == pytest.approx(PAPER_MACS[name], rel=0.02)


def test_resnet50_macs_v1_and_v15() -> None:
    # Keras's v1 (stride on the 1×1) gives the paper's 3.8 G; torchvision's v1.5 (stride on the
    # 3×3, `--set stride_on=3x3`) the 4.1 G "GFLOPS" torchvision publishes for resnet50
    v1 = compile_file(spec("resnet50"))
    assert v1.macs == 3_857_973_248
    v15 = compile_file(spec("resnet50"), {"stride_on": "3x3"})
    assert v15.macs == pytest.approx(4.09e9, rel=0.005)
    assert v15.total_params == v1.total_params


def test_vgg_shapes_from_the_paper() -> None:
    # Table 1: 224 → 112 → 56 → 28 → 14 → 7 through the five max-pools, then 4096, 4096
    for name in ("vgg16", "vgg19"):
        g = compile_file(spec(name))
        pools = [g.nodes[f"block{i}_pool"].shape for i in range(1, 6)]
        assert pools == [(112, 112, 64), (56, 56, 128), (28, 28, 256), (14, 14, 512), (7, 7, 512)]
        assert [g.nodes[n].shape for n in ("flatten", "fc1", "fc2")] == [(25088,), (4096,), (4096,)]
    convs = {
        name: sum(n.op == "conv" for n in compile_file(spec(name))) for name in ("vgg16", "vgg19")
    }
    assert convs == {"vgg16": 13, "vgg19": 16}


@pytest.mark.parametrize("name", [n for n in ZOO if n.startswith("resnet")])
def test_resnet_stage_shapes_from_the_paper(name: str) -> None:
    # Table 1: conv1 112×112, conv2_x 56×56, conv3_x 28, conv4_x 14, conv5_x 7
    g = compile_file(spec(name))
    width = 1 if name in ("resnet18", "resnet34") else 4
    stages = [g.nodes[g.blocks[(f"conv{i}",)].output].shape for i in range(2, 6)]
    assert g.nodes["conv1_conv"].shape == (112, 112, 64)
    assert g.nodes["pool1_pool"].shape == (56, 56, 64)
    assert stages == [(56, 56, 64 * width), (28, 28, 128 * width), (14, 14, 256 * width),
                      (7, 7, 512 * width)]  # fmt: skip
    assert g.nodes["avg_pool"].shape == (512 * width,)


def test_resnet18_34_have_no_conv_bias() -> None:
    for name in ("resnet18", "resnet34"):
        g = compile_file(spec(name))
        convs = [n for n in g if n.op == "conv"]
        assert convs and not any(n.args.use_bias for n in convs)
        assert {n.args.epsilon for n in g if n.op == "bn"} == {1e-5}


@pytest.mark.parametrize("name", ZOO)
def test_zoo_classes_and_size_can_be_set(name: str) -> None:
    g = compile_file(spec(name), {"classes": "10", "size": "64"})
    assert g.nodes["input"].shape == (64, 64, 3)
    assert g.nodes[g.outputs[0]].shape == (10,)
    last = "block5_pool" if name.startswith("vgg") else "conv5_block1_out"
    assert g.nodes[last].shape[:2] == (2, 2)
