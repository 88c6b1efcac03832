"""Built-in block: transition — DenseNet's BN-ReLU-1×1 conv (compression θ)-2×2 avg-pool."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from ..ops.base import BnEpsilon
from .base import Block, Builder, register_block


@register_block
class Transition(Block):
    """DenseNet transition layer: BN-ReLU-1×1 conv to ⌊θ·C⌋ channels, then 2×2/2 avg-pool.

    G. Huang, Z. Liu, L. van der Maaten, K. Q. Weinberger, "Densely Connected Convolutional
    Networks", CVPR 2017, §3 ("Pooling layers", "Compression") and Table 1. `reduction` is the
    compression factor θ: the 1×1 convolution keeps int(C·θ) of the C channels it receives, so
    θ < 1 gives DenseNet-C (with bottleneck dense layers: DenseNet-BC, the paper's and Keras's
    θ = 0.5) and θ = 1 the uncompressed DenseNet. Named as keras.applications' `transition_block`
    (instance `pool2`): `pool2_bn, pool2_relu, pool2_conv, pool2_pool`; with `dropout` > 0 a
    `pool2_dropout` follows the convolution (the paper's setting without data augmentation).
    """

    kind: ClassVar[str] = "transition"
    first_only: ClassVar[tuple[str, ...]] = ()  # no stride-like argument
    reduction: Annotated[
        float,
        Field(
            strict=True,
            gt=0.0,
            le=1.0,
            description="θ: fraction of channels kept (1.0: no compression)",
        ),
    ] = 0.5
    dropout: Annotated[
        float,
        Field(strict=True, ge=0.0, lt=1.0, description="dropout rate after the conv (0: none)"),
    ] = 0.0
    epsilon: BnEpsilon = 1.001e-5

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = b.add("bn", inputs[0], "bn", epsilon=self.epsilon)
        x = b.add("activation", x, "relu", activation="relu")
        # Keras: int(x.shape[bn_axis] * reduction) — truncation, on the channels received
        filters = max(1, int(b.shape(x)[-1] * self.reduction))
        x = b.add("conv", x, "conv", filters=filters, kernel=1, use_bias=False)
        if self.dropout > 0:
            x = b.add("dropout", x, "dropout", rate=self.dropout)
        return b.add("avg_pool", x, "pool", pool=2, strides=2)
