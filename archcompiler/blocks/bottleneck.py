"""Built-in block: bottleneck — the ResNet-50/101/152 residual block, 1×1 → 3×3 → 1×1."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from ..ops.base import BnEpsilon, Filters, Flag, Strides, int_in
from .base import Block, Builder, register_block
from .se import squeeze_excite, squeezed


@register_block
class Bottleneck(Block):
    """ResNet bottleneck block: 1×1 reduce → 3×3 → 1×1 expand (×`expansion`), plus shortcut.

    K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition", CVPR 2016
    (arXiv 2015), Fig. 5 right and Table 1 (ResNet-50/101/152). Exactly keras.applications'
    `residual_block_v1`: the projection shortcut (`NAME_0_conv`, `NAME_0_bn`) is placed first,
    then `NAME_1_conv … NAME_3_bn`, `NAME_add`, `NAME_out`. The shortcut projects exactly when
    the channels (input vs. expansion·filters) or the stride change — which is where Keras sets
    `conv_shortcut=True` (the first block of every stack). Keras (v1) strides the first 1×1;
    torchvision's "v1.5" strides the 3×3 (`stride_on: 3x3`). Defaults are Keras's: conv bias,
    bn epsilon 1.001e-5. `groups` splits the 3×3 conv into groups (ResNeXt, Xie et al., CVPR
    2017, Fig. 3 (c): cardinality 32 of width 4 is `groups: 32` with 128 filters in the first
    stage); `se` adds squeeze-and-excitation after `NAME_3_bn` (SE-ResNet, Hu et al., CVPR
    2018, Fig. 3: `NAME_se_squeeze` … `NAME_se_excite`, as the `se` block names them).
    """

    kind: ClassVar[str] = "bottleneck"
    shortcut: ClassVar[frozenset[str]] = frozenset({"0_conv", "0_bn"})
    filters: Annotated[Filters, Field(description="channels of the 1×1 reduce and the 3×3 conv")]
    strides: Annotated[
        Strides, Field(description="stride of the block and its shortcut (block 1 only)")
    ] = (1, 1)
    expansion: Annotated[
        int_in(1, 64), Field(description="output channels = expansion · filters")
    ] = 4
    stride_on: Annotated[
        Literal["1x1", "3x3"],
        Field(description="which conv strides: '1x1' (Keras, paper) or '3x3' (torchvision v1.5)"),
    ] = "1x1"
    use_bias: Annotated[Flag, Field(description="bias on the convolutions (Keras: true)")] = True
    epsilon: BnEpsilon = 1.001e-5
    groups: Annotated[
        int_in(1, 1 << 16), Field(description="groups of the 3×3 conv (ResNeXt's cardinality)")
    ] = 1
    se: Annotated[
        float,
        Field(strict=True, ge=0.0, le=1.0,
              description="squeeze-and-excitation ratio on the output (SE-ResNet: 1/16; 0: none)"),
    ] = 0.0  # fmt: skip

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        out_channels = self.expansion * self.filters
        bias, eps = self.use_bias, self.epsilon
        s1, s3 = (self.strides, 1) if self.stride_on == "1x1" else (1, self.strides)
        shortcut = x
        if b.shape(x)[-1] != out_channels or self.strides != (1, 1):
            shortcut = b.add("conv", x, "0_conv", filters=out_channels, kernel=1,
                             strides=self.strides, use_bias=bias)  # fmt: skip
            shortcut = b.add("bn", shortcut, "0_bn", epsilon=eps)
        y = b.add("conv", x, "1_conv", filters=self.filters, kernel=1, strides=s1, use_bias=bias)
        y = b.add("bn", y, "1_bn", epsilon=eps)
        y = b.add("activation", y, "1_relu", activation="relu")
        y = b.add("conv", y, "2_conv", filters=self.filters, kernel=3, strides=s3,
                  padding="same", use_bias=bias, groups=self.groups)  # fmt: skip
        y = b.add("bn", y, "2_bn", epsilon=eps)
        y = b.add("activation", y, "2_relu", activation="relu")
        y = b.add("conv", y, "3_conv", filters=out_channels, kernel=1, use_bias=bias)
        y = b.add("bn", y, "3_bn", epsilon=eps)
        if self.se:
            y = squeeze_excite(b, y, "se_", squeezed(out_channels, self.se))
        y = b.add("add", [shortcut, y], "add")  # shortcut first, as keras.applications adds
        return b.add("activation", y, "out", activation="relu")
