"""User blocks are as strong as built-in ones: written in YAML with the language alone (inputs'
shapes, `when`/`else`, expressions over strings), they give the Graph the built-in block gives,
node for node, for generated arguments — the projection-when-channels-change rule included."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archcompiler.graph import Graph
from tests.helpers import build

# keras.applications' residual_block_v1 (our built-in `bottleneck`), in YAML
BOTTLENECK = """
blocks:
  yaml_bottleneck:
    params:
      filters: int
      strides: 1
      expansion: 4
      stride_on: {type: str, default: 1x1}
      use_bias: true
      epsilon: 1.001e-5
    body:
      # the shortcut projects exactly when the channels or the stride change
      - conv: {filters: "$expansion * filters", kernel: 1, strides: $strides, use_bias: $use_bias,
               name: 0_conv, from: input, else: input,
               when: "$input.channels != expansion * filters or strides != 1"}
      - bn: {epsilon: $epsilon, name: 0_bn, else: input,
             when: "$input.channels != expansion * filters or strides != 1"}
      - conv: {filters: $filters, kernel: 1, strides: "$strides if stride_on == '1x1' else 1",
               use_bias: $use_bias, name: 1_conv, from: input}
      - bn: {epsilon: $epsilon, name: 1_bn}
      - activation: {activation: relu, name: 1_relu}
      - conv: {filters: $filters, kernel: 3, strides: "$1 if stride_on == '1x1' else strides",
               padding: same, use_bias: $use_bias, name: 2_conv}
      - bn: {epsilon: $epsilon, name: 2_bn}
      - activation: {activation: relu, name: 2_relu}
      - conv: {filters: "$expansion * filters", kernel: 1, use_bias: $use_bias, name: 3_conv}
      - bn: {epsilon: $epsilon, name: 3_bn}
      - add: {from: [0_bn, 3_bn], name: add}
      - activation: {activation: relu, name: out}
"""


def spec(block: str, args: dict[str, Any], channels: int, blocks: str = "", size: int = 16) -> str:
    written = ", ".join(f"{k}: {v}" for k, v in args.items())
    return (
        f"archspec: 1\nname: t\ninput: {{shape: [{size}, {size + 1}, {channels}]}}\n{blocks}"
        f"backbone:\n  - {block}: {{{written}, name: stage}}\n"
    )


def nodes(graph: Graph) -> list[tuple]:
    """What makes two graphs the same network: names, ops, arguments, inputs, shapes, params."""
    return [
        (n.name, n.op, n.args.model_dump() if n.args else None, n.inputs, n.shape, n.params)
        for n in graph
    ]


@settings(max_examples=40, deadline=None)
@given(
    filters=st.integers(1, 24),
    strides=st.sampled_from([1, 2]),
    expansion=st.integers(1, 4),
    stride_on=st.sampled_from(["1x1", "3x3"]),
    use_bias=st.booleans(),
    channels=st.integers(1, 64),
    repeat=st.integers(1, 3),
)
def test_bottleneck_in_yaml_is_the_built_in_bottleneck(
    tmp_path_factory: Any, filters: int, strides: int, expansion: int, stride_on: str,
    use_bias: bool, channels: int, repeat: int,
) -> None:  # fmt: skip
    tmp = tmp_path_factory.mktemp("blocks")
    args = {
        "filters": filters, "strides": strides, "expansion": expansion,
        "stride_on": f"'{stride_on}'", "use_bias": str(use_bias).lower(), "repeat": repeat,
    }  # fmt: skip
    built_in = build(tmp, spec("bottleneck", args, channels))
    yaml_block = build(tmp, spec("yaml_bottleneck", args, channels, BOTTLENECK))
    assert nodes(yaml_block) == nodes(built_in)
    projected = "stage_block1_0_conv" in built_in.nodes
    assert projected == (channels != expansion * filters or strides != 1)


# keras.applications' _inverted_res_block (our built-in `inverted_residual`), in YAML
INVERTED_RESIDUAL = """
functions:
  make_divisible(v, d): "$max(d, int(v + d / 2) // d * d) +
    (d if max(d, int(v + d / 2) // d * d) < 0.9 * v else 0)"
blocks:
  yaml_inverted_residual:
    params: {filters: int, alpha: 1.0, strides: 1, expansion: 6}
    body:
      - conv: {filters: "$expansion * input.channels", kernel: 1, padding: same, use_bias: false,
               name: expand, when: "$expansion != 1"}
      - bn: {momentum: 0.999, name: expand_BN, when: "$expansion != 1"}
      - relu6: {name: expand_relu, when: "$expansion != 1"}
      - zero_pad: {padding: "$[[input.height % 2, 1], [input.width % 2, 1]]", name: pad,
                   when: "$strides == 2"}
      - depthwise_conv: {kernel: 3, strides: $strides, use_bias: false, name: depthwise,
                         padding: "$'same' if strides == 1 else 'valid'"}
      - bn: {momentum: 0.999, name: depthwise_BN}
      - relu6: {name: depthwise_relu}
      - conv: {filters: "$make_divisible(int(filters * alpha), 8)", kernel: 1, padding: same,
               use_bias: false, name: project}
      - bn: {momentum: 0.999, name: project_BN}
      - add: {from: [input, project_BN], name: add,
              when: "$strides == 1 and input.channels == make_divisible(int(filters * alpha), 8)"}
"""


@settings(max_examples=40, deadline=None)
@given(
    filters=st.integers(1, 64),
    alpha=st.sampled_from([0.35, 0.5, 0.75, 1.0, 1.3, 1.4]),
    strides=st.sampled_from([1, 2]),
    expansion=st.integers(1, 6),
    channels=st.integers(1, 64),
    repeat=st.integers(1, 3),
    size=st.integers(3, 17),  # odd and even sides pad differently
)
def test_inverted_residual_in_yaml_is_the_built_in_one(
    tmp_path_factory: Any, filters: int, alpha: float, strides: int, expansion: int,
    channels: int, repeat: int, size: int,
) -> None:  # fmt: skip
    tmp = tmp_path_factory.mktemp("blocks")
    args = {"filters": filters, "alpha": alpha, "strides": strides, "expansion": expansion,
            "repeat": repeat}  # fmt: skip
    built_in = build(tmp, spec("inverted_residual", args, channels, size=size))
    yaml_block = build(tmp, spec("yaml_inverted_residual", args, channels,
                                        INVERTED_RESIDUAL, size))  # fmt: skip
    assert nodes(yaml_block) == nodes(built_in)


# --- Xception, InceptionV3 and InceptionResNetV2 -----------------------------------------------
# The zoo specs wrote these families' modules as user blocks before they were built in; the
# YAML below is those `blocks:` sections (specs/xception.yaml, inception_v3.yaml,
# inception_resnet_v2.yaml), widened only where a width was written as a number the built-in
# block takes as an argument (Xception's middle `filters`, module A's `c1x1`, the reduction's
# k, l, m, n). Keras's auto-names are the point, so both sides compile under `naming: keras`.


def keras_spec(nodes: list[str], shape: tuple[int, int, int], blocks: str = "") -> str:
    """A spec with `naming: keras` placing `nodes` (one flow mapping each) on an H×W×C input."""
    backbone = "".join(f"  - {n}\n" for n in nodes)
    return (
        f"archspec: 1\nname: t\nnaming: keras\ninput: {{shape: {list(shape)}}}\n{blocks}"
        f"backbone:\n{backbone}"
    )


def same_graph(tmp: Any, yaml_nodes: list[str], built_in: list[str], shape: tuple, blocks: str):
    yaml_graph = build(tmp, keras_spec(yaml_nodes, shape, blocks))
    built = build(tmp, keras_spec(built_in, shape))
    assert nodes(yaml_graph) == nodes(built)
    return built


XCEPTION = """
blocks:
  shortcut:                   # the strided 1×1 projection and its BN, unnamed in Keras
    params: {filters: int}
    body:
      - conv: {filters: $filters, kernel: 1, strides: 2, padding: same, use_bias: false}
      - bn
  entry:                      # blocks 2–4 and 13: two separable convs, a max-pool, a projection
    params: {filters: list, relu_first: true}
    body:
      - shortcut: {filters: "$filters[1]", name: residual}
      - activation: {activation: relu, from: input, when: $relu_first, else: input,
                     name: sepconv1_act}
      - separable_conv: {filters: "$filters[0]", kernel: 3, padding: same, use_bias: false,
                         from: sepconv1_act, name: sepconv1}
      - bn: {name: sepconv1_bn}
      - activation: {activation: relu, name: sepconv2_act}
      - separable_conv: {filters: "$filters[1]", kernel: 3, padding: same, use_bias: false,
                         name: sepconv2}
      - bn: {name: sepconv2_bn}
      - max_pool: {pool: 3, strides: 2, padding: same, name: pool}
      - add: {from: [pool, residual]}
  middle:                     # blocks 5–12: three ReLU-separable conv-BN, identity shortcut
    params: {filters: 728}
    body:
      - activation: {activation: relu, name: sepconv1_act}
      - separable_conv: {filters: $filters, kernel: 3, padding: same, use_bias: false,
                         name: sepconv1}
      - bn: {name: sepconv1_bn}
      - activation: {activation: relu, name: sepconv2_act}
      - separable_conv: {filters: $filters, kernel: 3, padding: same, use_bias: false,
                         name: sepconv2}
      - bn: {name: sepconv2_bn}
      - activation: {activation: relu, name: sepconv3_act}
      - separable_conv: {filters: $filters, kernel: 3, padding: same, use_bias: false,
                         name: sepconv3}
      - bn: {name: sepconv3_bn}
      - add: {from: [sepconv3_bn, input]}
"""


@settings(max_examples=40, deadline=None)
@given(
    flow=st.sampled_from(["entry", "middle", "exit"]),
    filters=st.integers(1, 24),
    channels=st.integers(1, 24),
    relu_first=st.booleans(),
    repeat=st.integers(1, 3),
    size=st.integers(1, 17),
)
def test_xception_blocks_in_yaml_are_the_built_in_xception_block(
    tmp_path_factory: Any, flow: str, filters: int, channels: int, relu_first: bool, repeat: int,
    size: int,
) -> None:  # fmt: skip
    tmp = tmp_path_factory.mktemp("blocks")
    rf = str(relu_first).lower()
    if flow == "middle":  # the identity: the input has `filters` channels; always ReLU first
        channels, yaml_node = filters, f"middle: {{filters: {filters}"
        node = f"xception_block: {{filters: {filters}, flow: middle"
    elif flow == "entry":
        yaml_node = f"entry: {{filters: [{filters}, {filters}], relu_first: {rf}"
        node = f"xception_block: {{filters: {filters}, relu_first: {rf}"
    else:  # the first conv keeps the input's width: one instance (a later one's input differs)
        repeat, yaml_node = 1, f"entry: {{filters: [{channels}, {filters}], relu_first: {rf}"
        node = f"xception_block: {{filters: {filters}, flow: exit, relu_first: {rf}"
    tail = f", repeat: {repeat}, name: stage}}"
    built = same_graph(tmp, [yaml_node + tail], [node + tail], (size, size + 1, channels),
                       XCEPTION)  # fmt: skip
    adds = [n.name for n in built if n.op == "add"]
    assert adds == ["add"] + [f"add_{i}" for i in range(1, repeat)]  # Keras's counter


CBN = """  cbn:                        # Keras's conv2d_bn
    params: {filters: int, kernel: any, strides: 1, padding: same}
    body:
      - conv: {filters: $filters, kernel: $kernel, strides: $strides, padding: $padding,
               use_bias: false}
      - bn: {scale: false}
      - activation: {activation: relu}
"""  # Keras's conv2d_bn, as both Inception specs wrote it

INCEPTION_V3 = (
    "\nblocks:\n"
    + CBN
    + """  module_a:                   # mixed0–2, 35×35 (Fig. 5)
    params: {id: int, pool: int, c1x1: 64}
    body:
      - cbn: {filters: $c1x1, kernel: 1, name: b1}
      - cbn: {filters: 48, kernel: 1, from: input}
      - cbn: {filters: 64, kernel: 5, name: b5}
      - cbn: {filters: 64, kernel: 1, from: input}
      - cbn: {filters: 96, kernel: 3}
      - cbn: {filters: 96, kernel: 3, name: b3}
      - avg_pool: {pool: 3, strides: 1, padding: same, from: input}
      - cbn: {filters: $pool, kernel: 1, name: bp}
      - concat: {from: [b1, b5, b3, bp], name: "$'/mixed' + str(id)"}
  reduction_a:                # mixed3, 35 → 17 (Fig. 10)
    params: {id: int, k: 64, l: 96, m: 96, n: 384}
    body:
      - cbn: {filters: $n, kernel: 3, strides: 2, padding: valid, name: b3}
      - cbn: {filters: $k, kernel: 1, from: input}
      - cbn: {filters: $l, kernel: 3}
      - cbn: {filters: $m, kernel: 3, strides: 2, padding: valid, name: b3dbl}
      - max_pool: {pool: 3, strides: 2, from: input}
      - concat: {from: [b3, b3dbl, max_pool], name: "$'/mixed' + str(id)"}
  module_c:                   # mixed4–7, 17×17 (Fig. 6, n = 7)
    params: {id: int, c7: int}
    body:
      - cbn: {filters: 192, kernel: 1, name: b1}
      - cbn: {filters: $c7, kernel: 1, from: input}
      - cbn: {filters: $c7, kernel: [1, 7]}
      - cbn: {filters: 192, kernel: [7, 1], name: b7}
      - cbn: {filters: $c7, kernel: 1, from: input}
      - cbn: {filters: $c7, kernel: [7, 1]}
      - cbn: {filters: $c7, kernel: [1, 7]}
      - cbn: {filters: $c7, kernel: [7, 1]}
      - cbn: {filters: 192, kernel: [1, 7], name: b7dbl}
      - avg_pool: {pool: 3, strides: 1, padding: same, from: input}
      - cbn: {filters: 192, kernel: 1, name: bp}
      - concat: {from: [b1, b7, b7dbl, bp], name: "$'/mixed' + str(id)"}
  reduction_b:                # mixed8, 17 → 8
    params: {id: int}
    body:
      - cbn: {filters: 192, kernel: 1}
      - cbn: {filters: 320, kernel: 3, strides: 2, padding: valid, name: b3}
      - cbn: {filters: 192, kernel: 1, from: input}
      - cbn: {filters: 192, kernel: [1, 7]}
      - cbn: {filters: 192, kernel: [7, 1]}
      - cbn: {filters: 192, kernel: 3, strides: 2, padding: valid, name: b7x3}
      - max_pool: {pool: 3, strides: 2, from: input}
      - concat: {from: [b3, b7x3, max_pool], name: "$'/mixed' + str(id)"}
  split:                      # Fig. 7's 1×3 and 3×1 side by side; Keras names only the first
    params: {id: int, named: bool}
    body:
      - cbn: {filters: 384, kernel: [1, 3], name: a}
      - cbn: {filters: 384, kernel: [3, 1], from: input, name: b}
      - concat: {from: [a, b], name: "$'/mixed9_' + str(id - 9)", when: $named}
      - concat: {from: [a, b], when: $not named}
  module_e:                   # mixed9–10, 8×8 (Fig. 7)
    params: {id: int}
    body:
      - cbn: {filters: 320, kernel: 1, name: b1}
      - cbn: {filters: 384, kernel: 1, from: input}
      - split: {id: $id, named: true, name: b3}
      - cbn: {filters: 448, kernel: 1, from: input}
      - cbn: {filters: 384, kernel: 3}
      - split: {id: $id, named: false, name: b3dbl}
      - avg_pool: {pool: 3, strides: 1, padding: same, from: input}
      - cbn: {filters: 192, kernel: 1, name: bp}
      - concat: {from: [b1, b3, b3dbl, bp], name: "$'/mixed' + str(id)"}
"""
)

WIDTH = st.integers(1, 32)


@st.composite
def inception_v3_module(draw: st.DrawFn, id: int) -> tuple[str, str]:
    """One module as the YAML above places it and as the built-in one, concatenation mixedID
    (E: its split mixed9_{ID − 9}, as Keras names both)."""
    kind = draw(st.sampled_from("abcde"))
    if kind == "a":
        pool, c1x1 = draw(WIDTH), draw(WIDTH)
        return (
            f"module_a: {{id: {id}, pool: {pool}, c1x1: {c1x1}}}",
            f"inception_v3_a: {{pool_filters: {pool}, c1x1: {c1x1}, concat: mixed{id}}}",
        )
    if kind == "b":
        k, l, m, n = (draw(WIDTH) for _ in range(4))  # noqa: E741 (the paper's k, l, m, n)
        widths = f"k: {k}, l: {l}, m: {m}, n: {n}"
        return (
            f"reduction_a: {{id: {id}, {widths}}}",
            f"inception_v3_b: {{{widths}, concat: mixed{id}}}",
        )
    if kind == "c":
        c7 = draw(WIDTH)
        return (
            f"module_c: {{id: {id}, c7: {c7}}}",
            f"inception_v3_c: {{c7: {c7}, concat: mixed{id}}}",
        )
    if kind == "d":
        return f"reduction_b: {{id: {id}}}", f"inception_v3_d: {{concat: mixed{id}}}"
    return (
        f"module_e: {{id: {id}}}",
        f"inception_v3_e: {{split: mixed9_{id - 9}, concat: mixed{id}}}",
    )


@settings(max_examples=40, deadline=None)
@given(
    stem=st.fixed_dictionaries(
        {
            "filters": WIDTH,
            "kernel": st.sampled_from([1, 3, 5, [1, 3], [3, 1]]),
            "strides": st.sampled_from([1, 2]),
            "padding": st.sampled_from(["same", "valid"]),
        }
    ),
    data=st.data(),
    count=st.integers(1, 3),
    channels=st.integers(1, 16),
    size=st.integers(40, 48),  # room for a strided stem and three grid reductions
)
def test_inception_v3_modules_in_yaml_are_the_built_in_ones(
    tmp_path_factory: Any, stem: dict[str, Any], data: st.DataObject, count: int, channels: int,
    size: int,
) -> None:  # fmt: skip
    tmp = tmp_path_factory.mktemp("blocks")
    args = ", ".join(f"{k}: {v}" for k, v in stem.items())
    modules = [data.draw(inception_v3_module(9 + j), label=f"module {j}") for j in range(count)]
    built = same_graph(
        tmp, [f"cbn: {{{args}}}", *(m[0] for m in modules)],
        [f"conv2d_bn: {{{args}}}", *(m[1] for m in modules)], (size, size, channels),
        INCEPTION_V3,
    )  # fmt: skip
    convs = [n.name for n in built if n.op == "conv"]
    assert convs == ["conv2d"] + [f"conv2d_{i}" for i in range(1, len(convs))]  # Keras's counter
    assert [f"mixed{9 + j}" in built.nodes for j in range(count)] == [True] * count


INCEPTION_RESNET_V2 = (
    "\nblocks:\n"
    + CBN
    + """  pool: {body: [max_pool: {pool: 3, strides: 2}]}    # a block, for `from:` to name
  ir_a:                       # Inception-ResNet-A, 35×35 (Fig. 16; Keras's block35)
    params: {n: int}          # n: Keras's counter of its CustomScaleLayers
    body:
      - cbn: {filters: 32, kernel: 1, name: b0}
      - cbn: {filters: 32, kernel: 1, from: input}
      - cbn: {filters: 32, kernel: 3, name: b1}
      - cbn: {filters: 32, kernel: 1, from: input}
      - cbn: {filters: 48, kernel: 3}
      - cbn: {filters: 64, kernel: 3, name: b2}
      - concat: {from: [b0, b1, b2], name: mixed}
      - conv: {filters: $input.channels, kernel: 1, padding: same, name: conv}
      - rescaling: {scale: 0.17, name: scale}                   # r·0.17, no weights
      - add: {from: [input, scale], name: "$'/custom_scale_layer' + ('_' + str(n) if n else '')"}
      - activation: {activation: relu, name: ac}
  ir_bc:                      # Inception-ResNet-B (Fig. 17, k = 7) and -C (Fig. 19, k = 3)
    params: {n: int, s: float, f: list, k: int, act: true}
    body:
      - cbn: {filters: 192, kernel: 1, name: b0}
      - cbn: {filters: "$f[0]", kernel: 1, from: input}
      - cbn: {filters: "$f[1]", kernel: "$[1, k]"}
      - cbn: {filters: "$f[2]", kernel: "$[k, 1]", name: b1}
      - concat: {from: [b0, b1], name: mixed}
      - conv: {filters: $input.channels, kernel: 1, padding: same, name: conv}
      - rescaling: {scale: $s, name: scale}                     # r·s, no weights
      - add: {from: [input, scale], name: "$'/custom_scale_layer_' + str(n)"}
      - activation: {activation: relu, name: ac, when: $act}
"""
)


@settings(max_examples=40, deadline=None)
@given(
    block_type=st.sampled_from(["block35", "block17", "block8"]),
    scale=st.sampled_from([0.0, 0.1, 0.17, 0.2, 0.5, 1.0]),
    first=st.integers(1, 40),
    relu=st.booleans(),
    repeat=st.integers(1, 3),
    channels=st.integers(1, 16),
    size=st.integers(1, 12),
)
def test_inception_resnet_blocks_in_yaml_are_the_built_in_one(
    tmp_path_factory: Any, block_type: str, scale: float, first: int, relu: bool, repeat: int,
    channels: int, size: int,
) -> None:  # fmt: skip
    tmp = tmp_path_factory.mktemp("blocks")
    n = f"{first} + repeat.index"
    if block_type == "block35":  # ir_a: the first block's scale layer has no suffix, ×0.17, ReLU
        scale, relu, n = 0.17, True, "repeat.index"
        yaml_node = f"ir_a: {{n: ${n}"
    else:
        f, k = ("[128, 160, 192]", 7) if block_type == "block17" else ("[192, 224, 256]", 3)
        yaml_node = f"ir_bc: {{n: ${n}, s: {scale}, f: {f}, k: {k}, act: {str(relu).lower()}"
    node = (f"inception_resnet: {{block_type: {block_type}, scale: {scale}, scale_layer: ${n}, "
            f"activation: {'relu' if relu else 'null'}")  # fmt: skip
    tail = f", repeat: {{times: {repeat}, names: '{block_type}_{{i}}'}}}}"
    built = same_graph(tmp, [yaml_node + tail], [node + tail], (size, size, channels),
                       INCEPTION_RESNET_V2)  # fmt: skip
    assert f"{block_type}_{repeat}_mixed" in built.nodes


# mixed_5b, mixed_6a and mixed_7a as specs/inception_resnet_v2.yaml wrote them in its backbone
# (taking the module above where it took block35_10 and block17_20)
INCEPTION_RESNET_V2_MIXED = """
  - pool: {name: stem}
  - cbn: {filters: 96, kernel: 1, name: m5b_0}
  - cbn: {filters: 48, kernel: 1, from: stem}
  - cbn: {filters: 64, kernel: 5, name: m5b_1}
  - cbn: {filters: 64, kernel: 1, from: stem}
  - cbn: {filters: 96, kernel: 3}
  - cbn: {filters: 96, kernel: 3, name: m5b_2}
  - avg_pool: {pool: 3, strides: 1, padding: same, from: stem}
  - cbn: {filters: 64, kernel: 1, name: m5b_3}
  - concat: {from: [m5b_0, m5b_1, m5b_2, m5b_3], name: mixed_5b}
  - cbn: {filters: 384, kernel: 3, strides: 2, padding: valid, name: m6a_0}
  - cbn: {filters: 256, kernel: 1, from: mixed_5b}
  - cbn: {filters: 256, kernel: 3}
  - cbn: {filters: 384, kernel: 3, strides: 2, padding: valid, name: m6a_1}
  - pool: {from: mixed_5b, name: m6a_2}
  - concat: {from: [m6a_0, m6a_1, m6a_2], name: mixed_6a}
  - cbn: {filters: 256, kernel: 1}
  - cbn: {filters: 384, kernel: 3, strides: 2, padding: valid, name: m7a_0}
  - cbn: {filters: 256, kernel: 1, from: mixed_6a}
  - cbn: {filters: 288, kernel: 3, strides: 2, padding: valid, name: m7a_1}
  - cbn: {filters: 256, kernel: 1, from: mixed_6a}
  - cbn: {filters: 288, kernel: 3}
  - cbn: {filters: 320, kernel: 3, strides: 2, padding: valid, name: m7a_2}
  - pool: {from: mixed_6a, name: m7a_3}
  - concat: {from: [m7a_0, m7a_1, m7a_2, m7a_3], name: mixed_7a}
"""


@settings(max_examples=20, deadline=None)
@given(channels=st.integers(1, 16), size=st.integers(15, 24))
def test_inception_resnet_v2_mixed_modules_are_the_built_in_blocks(
    tmp_path_factory: Any, channels: int, size: int
) -> None:
    tmp = tmp_path_factory.mktemp("blocks")
    yaml_nodes = [line.removeprefix("  - ") for line in INCEPTION_RESNET_V2_MIXED.strip("\n")
                  .splitlines()]  # fmt: skip
    built = same_graph(tmp, yaml_nodes, [
        "max_pool: {pool: 3, strides: 2}",
        "inception_v3_a: {c1x1: 96, pool_filters: 64, concat: mixed_5b}",
        "inception_v3_b: {k: 256, l: 256, m: 384, n: 384, concat: mixed_6a}",
        "inception_resnet_reduction_b: {concat: mixed_7a}",
    ], (size, size, channels), INCEPTION_RESNET_V2)  # fmt: skip
    assert built.nodes["mixed_7a"].shape[-1] == 384 + 288 + 320 + 1088


def structure(graph: Graph) -> list[tuple]:
    """The network without its names: each node's op, arguments, inputs (by position), shape
    and params."""
    at = {n.name: i for i, n in enumerate(graph)}
    return [
        (n.op, n.args.model_dump() if n.args else None, [at[i] for i in n.inputs], n.shape,
         n.params)
        for n in graph
    ]  # fmt: skip


NAMING_OPS_CASES = {  # the YAML node, the built-in one, the blocks, how many (absolute names: 1)
    "entry": ("entry: {filters: [8, 8]}", "xception_block: {filters: 8}", XCEPTION, 2),
    "middle": ("middle: {filters: 5}", "xception_block: {filters: 5, flow: middle}", XCEPTION, 2),
    "a": ("module_a: {id: 0, pool: 8}", "inception_v3_a: {pool_filters: 8, concat: mixed0}",
          INCEPTION_V3, 1),
    "e": ("module_e: {id: 9}", "inception_v3_e: {split: mixed9_0, concat: mixed9}",
          INCEPTION_V3, 1),
    "block35": ("ir_a: {n: $repeat.index}", "inception_resnet: {block_type: block35, "
                "scale: 0.17, scale_layer: $repeat.index}", INCEPTION_RESNET_V2, 2),
    "block8": ("ir_bc: {n: $9 + repeat.index, s: 0.2, f: [192, 224, 256], k: 3, act: false}",
               "inception_resnet: {block_type: block8, scale: 0.2, "
               "scale_layer: $9 + repeat.index, activation: null}", INCEPTION_RESNET_V2, 2),
}  # fmt: skip


@pytest.mark.parametrize("case", list(NAMING_OPS_CASES))
def test_under_naming_ops_the_blocks_place_the_same_network(tmp_path: Any, case: str) -> None:
    """`naming: ops` names unnamed layers after their op, inside the instance: the names
    differ from the YAML's (whose convs sit in nested blocks), none clashes (InceptionResNet's
    up-projection is NAME_up, as NAME_conv is taken), and the network is the same."""
    yaml_node, node, blocks, times = NAMING_OPS_CASES[case]

    def graph(line: str, blocks: str = "") -> Graph:
        text = keras_spec([f"{line[:-1]}, repeat: {times}}}"], (9, 9, 5), blocks)
        return build(tmp_path, text.replace("naming: keras\n", ""))

    built = graph(node)
    assert structure(built) == structure(graph(yaml_node, blocks))
    if case.startswith("block"):
        assert {"inception_resnet_block1_conv", "inception_resnet_block1_up"} <= set(built.nodes)
