"""Built-in block: xception_block — Xception's residual unit of ReLU-separable convs, with a
strided 1×1 projection and a max-pool (entry and exit flow) or the identity (middle flow)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from ..ops.base import Filters, Flag
from .base import Block, Builder, register_block


@register_block
class XceptionBlock(Block):
    """Xception residual unit: [ReLU] sepconv-BN, ReLU sepconv-BN, … plus its shortcut, added.

    F. Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions", CVPR 2017
    (arXiv 2016), Fig. 5. Exactly keras.applications.Xception's blocks 2–13, layers created in
    its order. `flow: entry` (blocks 2–4) and `exit` (block13): first the shortcut, a 1×1/2
    same-padded conv to `filters` (no bias) and its batch normalization, both unnamed as Keras
    leaves them (`naming: keras`: `conv2d_N`, `batch_normalization_N`); then two 3×3
    same-padded separable convs without bias, each with a ReLU before it and a batch
    normalization after — `NAME_sepconv1_act`, `NAME_sepconv1` (`filters` wide, or in the exit
    flow the input's channels, as block13's 728), `NAME_sepconv1_bn`, `NAME_sepconv2_act`,
    `NAME_sepconv2` (`filters`), `NAME_sepconv2_bn`; then `NAME_pool`, a 3×3/2 same-padded
    max-pool; then the add of the pool and the shortcut, unnamed (Keras: `add`, `add_1`, …).
    `flow: middle` (blocks 5–12): three such ReLU-sepconv-BN (`NAME_sepconv3…` the third) of
    `filters` and the add of the last BN and the input. `relu_first: false` leaves out the
    first ReLU, as Keras's block2 (whose input is already ReLU'd). Batch normalization uses
    Keras's defaults.
    """

    kind: ClassVar[str] = "xception_block"
    first_only: ClassVar[tuple[str, ...]] = ()
    filters: Annotated[Filters, Field(description="output channels (the separable convs')")]
    flow: Annotated[
        Literal["entry", "middle", "exit"],
        Field(description="entry: 2 convs, pool and projection; exit: its first conv keeps "
                          "the input's width; middle: 3 convs and the identity"),
    ] = "entry"  # fmt: skip
    relu_first: Annotated[
        Flag, Field(description="a ReLU before the first separable conv (Keras: not in block2)")
    ] = True

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        if self.flow == "middle":
            widths = [self.filters] * 3
            shortcut = x
        else:
            first = b.shape(x)[-1] if self.flow == "exit" else self.filters
            widths = [first, self.filters]
            shortcut = b.add("conv", x, None, filters=self.filters, kernel=1, strides=2,
                             padding="same", use_bias=False)  # fmt: skip
            shortcut = b.add("bn", shortcut, None)
        for i, width in enumerate(widths, 1):
            if i > 1 or self.relu_first:
                x = b.add("activation", x, f"sepconv{i}_act", activation="relu")
            x = b.add("separable_conv", x, f"sepconv{i}", filters=width, kernel=3,
                      padding="same", use_bias=False)  # fmt: skip
            x = b.add("bn", x, f"sepconv{i}_bn")
        if self.flow != "middle":
            x = b.add("max_pool", x, "pool", pool=3, strides=2, padding="same")
        return b.add("add", [x, shortcut], None)  # the branch first, as Keras adds
