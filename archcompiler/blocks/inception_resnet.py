"""Built-in blocks: InceptionResNetV2's residual Inception blocks (`inception_resnet`: Keras's
block35, block17, block8 with their residual scale) and its Reduction-B (`mixed_7a`), as
keras.applications.InceptionResNetV2 writes them. Its stem module mixed_5b and its Reduction-A
mixed_6a are Inception v3's (`inception_v3_a`, `inception_v3_b` in inception_v3.py)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from ..ops.base import ActivationName, int_in
from .base import Block, Builder, register_block
from .inception_v3 import Concat, conv2d_bn, unprefixed

# Each block type's branches, as Keras's inception_resnet_block lists them: (filters, kernel)
# of each conv2d_bn, a branch's convs in order.
_BRANCHES: dict[str, list[list[tuple[int, int | tuple[int, int]]]]] = {
    "block35": [[(32, 1)], [(32, 1), (32, 3)], [(32, 1), (48, 3), (64, 3)]],
    "block17": [[(192, 1)], [(128, 1), (160, (1, 7)), (192, (7, 1))]],
    "block8": [[(192, 1)], [(192, 1), (224, (1, 3)), (256, (3, 1))]],
}


@register_block
class InceptionResNet(Block):
    """Inception-ResNet-v2 residual block: Inception branches, a 1×1 up, x + scale·r, ReLU.

    C. Szegedy, S. Ioffe, V. Vanhoucke, A. Alemi, "Inception-v4, Inception-ResNet and the
    Impact of Residual Connections on Learning", AAAI 2017, Figs. 16 (A, 35×35), 17 (B,
    17×17) and 19 (C, 8×8), with §3.3's scaling of the residuals; widths as
    keras.applications' `inception_resnet_block` (after TF-slim). Layers in Keras's order: the
    `block_type`'s branches, every conv a `conv2d_bn` left unnamed as Keras leaves it —
    block35: 1×1 32 | 1×1 32 → 3×3 32 | 1×1 32 → 3×3 48 → 3×3 64; block17: 1×1 192 | 1×1 128 →
    1×7 160 → 7×1 192; block8: 1×1 192 | 1×1 192 → 1×3 224 → 3×1 256 — then `NAME_mixed`
    (their concatenation), `NAME_conv` (1×1 with a bias, back to the input's channels, no BN;
    `NAME_up` with `naming: ops`, which names the unnamed convs `NAME_conv`, `NAME_conv_1`, …),
    and Keras's CustomScaleLayer x + scale·r written as two layers: `NAME_scale`, a weightless
    `rescaling` of r by `scale`, and the add of the input and it, named
    `custom_scale_layer_N` (N = `scale_layer`) as Keras auto-names its CustomScaleLayer; then
    `NAME_ac`, the `activation` (none in Keras's last block). Keras names the instance
    `block35_1`, …, `block17_1`, …, `block8_10`.
    """

    kind: ClassVar[str] = "inception_resnet"
    first_only: ClassVar[tuple[str, ...]] = ()
    block_type: Annotated[
        Literal["block35", "block17", "block8"],
        Field(description="Keras's block35 (A, 35×35), block17 (B, 17×17) or block8 (C, 8×8)"),
    ]
    scale: Annotated[
        float,
        Field(strict=True, ge=0.0, le=100.0,
              description="scale of the residual (Keras: 0.17, 0.1, 0.2; 1.0 for the last)"),
    ]  # fmt: skip
    activation: Annotated[
        ActivationName | None, Field(description="after the sum (Keras: relu; none at the end)")
    ] = "relu"
    scale_layer: Annotated[
        int_in(0, 1 << 16) | None,
        Field(description="N of Keras's name for the sum, custom_scale_layer_N (0: no suffix; "
                          "model-wide, block35_1 is 0); left out, the add is unnamed"),
    ] = None  # fmt: skip

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        branches = []
        for convs in _BRANCHES[self.block_type]:
            y = x
            for filters, kernel in convs:
                y = conv2d_bn(b, y, filters, kernel)
            branches.append(y)
        mixed = b.add("concat", branches, "mixed")
        # `naming: ops` names the unnamed layers after their op (NAME_conv, NAME_activation, …),
        # so NAME_conv, Keras's name for the up-projection, is taken there
        up_name = "up" if branches[0].startswith(f"{name}_activation") else "conv"
        up = b.add("conv", mixed, up_name, filters=b.shape(x)[-1], kernel=1, padding="same")
        r = b.add("rescaling", up, "scale", scale=self.scale)  # weightless: r·scale
        n = self.scale_layer
        summed = None if n is None else "/custom_scale_layer" + (f"_{n}" if n else "")
        out = b.add("add", [x, r], summed)
        if self.activation is not None:
            out = b.add("activation", out, "ac", activation=self.activation)
        return out


@register_block
class InceptionResNetReductionB(Block):
    """Inception-ResNet-v2's Reduction-B, 17 → 8: three 1×1-then-strided-3×3 branches and a pool.

    C. Szegedy, S. Ioffe, V. Vanhoucke, A. Alemi, "Inception-v4, Inception-ResNet and the
    Impact of Residual Connections on Learning", AAAI 2017, Fig. 18, with the widths of
    keras.applications.InceptionResNetV2's mixed_7a (after TF-slim; Fig. 18 gives
    Inception-ResNet-v1's). Layers in Keras's order: 1×1 256 → 3×3/2 valid 384; 1×1 256 →
    3×3/2 valid 288; 1×1 256 → 3×3 288 → 3×3/2 valid 320; a 3×3/2 valid max-pool; then the
    concatenation `concat` (992 + the input's channels). Every conv is a `conv2d_bn`, unnamed
    as Keras leaves it.
    """

    kind: ClassVar[str] = "inception_resnet_reduction_b"
    first_only: ClassVar[tuple[str, ...]] = ()
    concat: Concat = None

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]

        def reduce(*widths: int) -> str:  # 1×1 256, [3×3 …], then the strided 3×3
            y = conv2d_bn(b, x, 256, 1)
            for w in widths[:-1]:
                y = conv2d_bn(b, y, w, 3)
            return conv2d_bn(b, y, widths[-1], 3, strides=2, padding="valid")

        b0, b1, b2 = reduce(384), reduce(288), reduce(288, 320)
        pool = b.add("max_pool", x, None, pool=3, strides=2)
        return b.add("concat", [b0, b1, b2, pool], unprefixed(self.concat))
