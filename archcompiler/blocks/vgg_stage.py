"""Built-in block: vgg_stage — a VGG stage of 3×3 convolutions and a 2×2 max-pool."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from ..ops.base import Filters, Flag, Kernel, int_in
from .base import Block, Builder, register_block


@register_block
class VggStage(Block):
    """VGG stage: `convs` same-padded convolutions with ReLU, then a 2×2/2 max-pool.

    K. Simonyan, A. Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
    Recognition", ICLR 2015 (arXiv 2014), Table 1: each column is five such stages
    (64, 128, 256, 512, 512 filters). Named as keras.applications.VGG16: instance `block1`
    places `block1_conv1 … block1_convN` and `block1_pool`. With `batch_norm` each convolution
    is followed by batch normalization and a separate ReLU (`block1_bn1`, `block1_relu1`), the
    "VGG-BN" variant of torchvision; the paper itself has no normalization.
    """

    kind: ClassVar[str] = "vgg_stage"
    first_only: ClassVar[tuple[str, ...]] = ()  # no stride-like argument: every instance alike
    convs: Annotated[int_in(1, 64), Field(description="number of convolutions in the stage")]
    filters: Filters
    kernel: Kernel = (3, 3)
    batch_norm: Annotated[
        Flag, Field(description="conv → bn → relu instead of a conv with ReLU activation")
    ] = False
    pool: Annotated[Flag, Field(description="end with a 2×2 max-pool of stride 2")] = True

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        for i in range(1, self.convs + 1):
            if self.batch_norm:
                # the bias stays (as in torchvision's vgg*_bn): only the activation moves
                x = b.add(
                    "conv", x, f"conv{i}", filters=self.filters, kernel=self.kernel, padding="same"
                )
                x = b.add("bn", x, f"bn{i}")
                x = b.add("activation", x, f"relu{i}", activation="relu")
            else:
                x = b.add(
                    "conv", x, f"conv{i}", filters=self.filters, kernel=self.kernel,
                    padding="same", activation="relu",
                )  # fmt: skip
        if self.pool:
            x = b.add("max_pool", x, "pool", pool=2, strides=2)
        return x
