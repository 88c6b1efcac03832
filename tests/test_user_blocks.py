"""User blocks are as strong as built-in ones: written in YAML with the language alone (inputs'
shapes, `when`/`else`, expressions over strings), they give the Graph the built-in block gives,
node for node, for generated arguments — the projection-when-channels-change rule included."""

from __future__ import annotations

from typing import Any

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
