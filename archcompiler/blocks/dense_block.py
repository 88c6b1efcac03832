"""Built-in block: dense_block — one DenseNet layer, BN-ReLU-(1×1)-BN-ReLU-3×3, concatenated."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from ..limits import MAX_DIM
from ..ops.base import BnEpsilon, Flag, int_in
from .base import Block, Builder, register_block


@register_block
class DenseBlock(Block):
    """DenseNet layer: BN-ReLU-1×1 conv (4k)-BN-ReLU-3×3 conv (k), concatenated to its input.

    G. Huang, Z. Liu, L. van der Maaten, K. Q. Weinberger, "Densely Connected Convolutional
    Networks", CVPR 2017, §3 ("Dense connectivity", "Composite function", "Bottleneck layers")
    and Table 1. One instance is one layer H_ℓ of a dense block; a dense block of N layers is
    `repeat: N`, so `- dense_block: {repeat: 6, name: conv2}` gives `conv2_block1 … conv2_block6`
    exactly as keras.applications.densenet names them — each instance is its own block in
    summaries, `from: conv2_block3` reaches one layer, and `override: {conv2_block3: …}` changes
    one layer, all without a second naming scheme. Every instance grows the channels by
    `growth_rate`: the concatenation feeds the next.

    Names, as keras.applications' `conv_block` (instance `conv2_block1`):
    `conv2_block1_0_bn, _0_relu, _1_conv, _1_bn, _1_relu, _2_conv, _concat`. Without the
    bottleneck (plain DenseNet, not "-B") the 1×1 stage is left out and the rest keep their
    names (`_0_bn, _0_relu, _2_conv, _concat`): the number names the stage, so the 3×3
    growth-rate convolution is `_2_conv` in both variants. With `dropout` > 0 (the paper's
    setting without data augmentation, §4.2) a dropout follows each convolution:
    `_1_dropout` and `_2_dropout`. Convolutions have no bias (each is followed by, or ends in, a
    batch-normalized path), as in Keras.
    """

    kind: ClassVar[str] = "dense_block"
    first_only: ClassVar[tuple[str, ...]] = ()  # no stride: every layer of a block is alike
    growth_rate: Annotated[
        int_in(1, MAX_DIM), Field(description="k: channels each layer adds (3×3 conv filters)")
    ] = 32
    bottleneck: Annotated[
        Flag, Field(description="DenseNet-B: a 1×1 conv to 4·growth_rate channels first")
    ] = True
    dropout: Annotated[
        float,
        Field(strict=True, ge=0.0, lt=1.0, description="dropout rate after each conv (0: none)"),
    ] = 0.0
    epsilon: BnEpsilon = 1.001e-5

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        eps = self.epsilon
        y = b.add("bn", x, "0_bn", epsilon=eps)
        y = b.add("activation", y, "0_relu", activation="relu")
        if self.bottleneck:
            y = b.add("conv", y, "1_conv", filters=4 * self.growth_rate, kernel=1, use_bias=False)
            if self.dropout > 0:
                y = b.add("dropout", y, "1_dropout", rate=self.dropout)
            y = b.add("bn", y, "1_bn", epsilon=eps)
            y = b.add("activation", y, "1_relu", activation="relu")
        y = b.add("conv", y, "2_conv", filters=self.growth_rate, kernel=3, padding="same",
                  use_bias=False)  # fmt: skip
        if self.dropout > 0:
            y = b.add("dropout", y, "2_dropout", rate=self.dropout)
        return b.add("concat", [x, y], "concat")  # input first, as Keras concatenates
