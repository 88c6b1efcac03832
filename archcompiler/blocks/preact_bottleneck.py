"""Built-in block: preact_bottleneck — the ResNetV2 residual block, BN-ReLU first (pre-activation),
then 1×1 → 3×3 → 1×1."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from ..ops.base import BnEpsilon, Filters, Flag, Kernel, Strides
from .base import Block, Builder, register_block


@register_block
class PreactBottleneck(Block):
    """ResNetV2 pre-activation bottleneck: BN-ReLU, then 1×1 → 3×3 → 1×1 (4·filters), added.

    K. He, X. Zhang, S. Ren, J. Sun, "Identity Mappings in Deep Residual Networks", ECCV 2016
    (arXiv 2016), Fig. 1 (b) and Fig. 4 (e): full pre-activation, nothing after the add.
    Exactly keras.applications' `residual_block_v2`, layers created in its order: `NAME_preact_bn`
    and `NAME_preact_relu` on the input; then the shortcut — with `conv_shortcut`, a 1×1 conv
    `NAME_0_conv` (4·filters, with bias, strided) of the pre-activated input; without, the input
    itself, or where the block strides a 1×1 max-pool of the input with that stride, left
    unnamed as Keras leaves it (`NAME_max_pool`; with `naming: keras`, `max_pooling2d`,
    `max_pooling2d_1`, … as Keras names it); then `NAME_1_conv` (1×1, no bias), `NAME_1_bn`,
    `NAME_1_relu`, `NAME_2_pad` (zero padding, Keras's one pixel on every side for the 3×3;
    ⌊(k−1)/2⌋ before and ⌊k/2⌋ after for another kernel), `NAME_2_conv` (`kernel`, strided,
    `valid`, no bias), `NAME_2_bn`, `NAME_2_relu`, `NAME_3_conv` (1×1 to 4·filters, with bias) and
    `NAME_out`, the add (shortcut first). Batch normalization uses epsilon 1.001e-5. Keras puts
    `conv_shortcut` on the first block of each stack and the stride on the *last*; under
    `repeat` say so with `conv_shortcut: "$repeat.index == 0"` and
    `strides: "$2 if repeat.index == repeat.count - 1 else 1"` (an argument that reads `repeat`
    is not held to the first instance). Left out, `conv_shortcut` is true exactly where the
    input's channels are not 4·filters — in Keras's stacks the same blocks; with
    `conv_shortcut: false` the input must already have 4·filters channels.
    """

    kind: ClassVar[str] = "preact_bottleneck"
    shortcut: ClassVar[frozenset[str]] = frozenset({"0_conv"})
    filters: Annotated[Filters, Field(description="channels of the 1×1 reduce and the 3×3 conv")]
    kernel: Annotated[Kernel, Field(description="kernel of the middle conv (Keras: 3)")] = (3, 3)
    strides: Annotated[
        Strides, Field(description="stride of the middle conv and the shortcut (Keras: last block)")
    ] = (1, 1)
    conv_shortcut: Annotated[
        Flag | None,
        Field(description="a 1×1 conv shortcut; default: where the channels change"),
    ] = None
    epsilon: BnEpsilon = 1.001e-5

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        eps = self.epsilon
        preact = b.add("bn", x, "preact_bn", epsilon=eps)
        preact = b.add("activation", preact, "preact_relu", activation="relu")
        conv_shortcut = self.conv_shortcut
        if conv_shortcut is None:  # Keras's stacks: exactly their first blocks
            conv_shortcut = b.shape(x)[-1] != 4 * self.filters
        if conv_shortcut:
            shortcut = b.add("conv", preact, "0_conv", filters=4 * self.filters, kernel=1,
                             strides=self.strides)  # fmt: skip
        elif self.strides != (1, 1):  # unnamed in Keras: MaxPooling2D(1, strides=stride)(x)
            shortcut = b.add("max_pool", x, None, pool=1, strides=self.strides)
        else:
            shortcut = x
        y = b.add("conv", preact, "1_conv", filters=self.filters, kernel=1, use_bias=False)
        y = b.add("bn", y, "1_bn", epsilon=eps)
        y = b.add("activation", y, "1_relu", activation="relu")
        (kh, kw) = self.kernel
        y = b.add("zero_pad", y, "2_pad", padding=(((kh - 1) // 2, kh // 2),
                                                   ((kw - 1) // 2, kw // 2)))  # fmt: skip
        y = b.add("conv", y, "2_conv", filters=self.filters, kernel=self.kernel,
                  strides=self.strides, use_bias=False)  # fmt: skip
        y = b.add("bn", y, "2_bn", epsilon=eps)
        y = b.add("activation", y, "2_relu", activation="relu")
        y = b.add("conv", y, "3_conv", filters=4 * self.filters, kernel=1)
        return b.add("add", [shortcut, y], "out")  # shortcut first, as Keras adds
