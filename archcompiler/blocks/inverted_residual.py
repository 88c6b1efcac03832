"""Built-in block: inverted_residual — MobileNetV2's expand (1×1) → 3×3 depthwise → linear 1×1
projection, with the input added back where the shapes agree."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from ..ops.base import BnEpsilon, Filters, Strides, int_in
from .base import Block, Builder, correct_pad, register_block


def make_divisible(v: float, divisor: int = 8) -> int:
    """keras.applications' `_make_divisible`: the multiple of `divisor` nearest `v`, never below
    `divisor` and never more than 10 % below `v`."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


@register_block
class InvertedResidual(Block):
    """MobileNetV2 inverted residual: 1×1 expand ×t, 3×3 depthwise, linear 1×1 projection.

    M. Sandler, A. Howard, M. Zhu, A. Zhmoginov, L.-C. Chen, "MobileNetV2: Inverted Residuals and
    Linear Bottlenecks", CVPR 2018, Fig. 4 (d) and Table 1. Exactly keras.applications'
    `_inverted_res_block`: the expansion conv has t times the *input's* channels (none when
    t = 1, Keras's block 0), a strided block zero-pads as Keras's `correct_pad` (one row and
    column after, one before on an odd size) and convolves `valid`, the projection has
    make_divisible(int(filters·α), 8) channels and no activation, and the input is added back
    when the stride is 1 and the channels agree. No conv has a bias; batch normalization uses
    epsilon 1e-3 and momentum 0.999. Layers are named after the instance: `NAME_expand`,
    `NAME_expand_BN`, `NAME_expand_relu`, `NAME_pad`, `NAME_depthwise`, `NAME_depthwise_BN`,
    `NAME_depthwise_relu`, `NAME_project`, `NAME_project_BN`, `NAME_add` (Keras: instance
    `block_1` … `block_16`, and `expanded_conv` for block 0).
    """

    kind: ClassVar[str] = "inverted_residual"
    filters: Annotated[Filters, Field(description="output channels before the width multiplier")]
    alpha: Annotated[
        float, Field(strict=True, gt=0.0, le=64.0, description="width multiplier α")
    ] = 1.0
    strides: Annotated[
        Strides, Field(description="stride of the depthwise conv (first instance only)")
    ] = (1, 1)
    expansion: Annotated[
        int_in(1, 64), Field(description="t: expanded channels = t · input channels (1: none)")
    ] = 6
    epsilon: BnEpsilon = 1e-3
    momentum: Annotated[
        float, Field(strict=True, ge=0.0, le=1.0, description="batch normalization momentum")
    ] = 0.999

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        height, width, channels = b.shape(x)
        bn = {"epsilon": self.epsilon, "momentum": self.momentum}
        if self.expansion != 1:
            x = b.add("conv", x, "expand", filters=self.expansion * channels, kernel=1,
                      padding="same", use_bias=False)  # fmt: skip
            x = b.add("bn", x, "expand_BN", **bn)
            x = b.add("relu6", x, "expand_relu")
        strided = self.strides != (1, 1)
        if strided:  # keras.applications' correct_pad
            x = b.add("zero_pad", x, "pad", padding=correct_pad((height, width), 3))
        x = b.add("depthwise_conv", x, "depthwise", kernel=3, strides=self.strides,
                  padding="valid" if strided else "same", use_bias=False)  # fmt: skip
        x = b.add("bn", x, "depthwise_BN", **bn)
        x = b.add("relu6", x, "depthwise_relu")
        out = make_divisible(int(self.filters * self.alpha), 8)
        x = b.add("conv", x, "project", filters=out, kernel=1, padding="same", use_bias=False)
        x = b.add("bn", x, "project_BN", **bn)
        if not strided and channels == out:
            x = b.add("add", [inputs[0], x], "add")
        return x
