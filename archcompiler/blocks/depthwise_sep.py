"""Built-in block: depthwise_sep — MobileNet v1's depthwise 3×3 + pointwise 1×1, BN and ReLU6."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from ..ops.base import Filters, Strides, int_in
from .base import Block, Builder, register_block


@register_block
class DepthwiseSep(Block):
    """MobileNet depthwise separable block: 3×3 depthwise-BN-ReLU6, 1×1 pointwise-BN-ReLU6.

    A. G. Howard, M. Zhu, B. Chen, D. Kalenichenko, W. Wang, T. Weyand, M. Andreetto, H. Adam,
    "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications",
    arXiv 2017, Fig. 3 (right) and Table 1; §3.3 for the width multiplier α. Exactly
    keras.applications' `_depthwise_conv_block`: the pointwise conv has int(filters·α) filters,
    neither conv has a bias, batch normalization keeps Keras's default epsilon (1e-3), and a
    strided block pads one row and column at the bottom/right (`ZeroPadding2D(((0, 1), (0, 1)))`)
    before a `valid` depthwise conv, where a stride-1 block uses `same` padding.

    Naming: with `block_id` the layers get Keras's absolute names `conv_pad_{id}` (strided only),
    `conv_dw_{id}, conv_dw_{id}_bn, conv_dw_{id}_relu, conv_pw_{id}, conv_pw_{id}_bn,
    conv_pw_{id}_relu`, so MobileNet's ImageNet weights load by name; under `repeat`, instance i
    (0-based) uses id `block_id + i`. Without `block_id` they are prefixed by the instance name
    like every other block: `NAME_pad, NAME_dw, NAME_dw_bn, NAME_dw_relu, NAME_pw, NAME_pw_bn,
    NAME_pw_relu` (`stage_block2_dw`, … under `repeat`).
    """

    kind: ClassVar[str] = "depthwise_sep"
    filters: Annotated[Filters, Field(description="pointwise filters before the width multiplier")]
    alpha: Annotated[
        float,
        Field(
            strict=True, gt=0.0, le=64.0, description="width multiplier α: int(filters·α) filters"
        ),
    ] = 1.0
    depth_multiplier: Annotated[
        int_in(1, 1024), Field(description="depthwise channels per input channel")
    ] = 1
    strides: Annotated[
        Strides, Field(description="stride of the depthwise conv (first instance only)")
    ] = (1, 1)
    block_id: Annotated[
        int_in(0, 1 << 20) | None,
        Field(description="Keras names conv_dw_{id} … (+ instance index under repeat)"),
    ] = None

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        if self.block_id is None:
            dw, pw, pad = "dw", "pw", "pad"  # relative: prefixed by the instance name
        else:
            k = self.block_id + b.index
            dw, pw, pad = f"/conv_dw_{k}", f"/conv_pw_{k}", f"/conv_pad_{k}"
        strided = self.strides != (1, 1)
        if strided:  # Keras pads bottom/right only, then convolves `valid`
            x = b.add("zero_pad", x, pad, padding=((0, 1), (0, 1)))
        x = b.add("depthwise_conv", x, dw, kernel=3, strides=self.strides,
                  padding="valid" if strided else "same",
                  depth_multiplier=self.depth_multiplier, use_bias=False)  # fmt: skip
        x = b.add("bn", x, f"{dw}_bn")
        x = b.add("relu6", x, f"{dw}_relu")
        filters = max(1, int(self.filters * self.alpha))  # exactly Keras's int(filters * alpha)
        x = b.add("conv", x, pw, filters=filters, kernel=1, padding="same", use_bias=False)
        x = b.add("bn", x, f"{pw}_bn")
        return b.add("relu6", x, f"{pw}_relu")
