"""Built-in block: mobilenet_v3 — MobileNetV3's bneck: expand (1×1) → k×k depthwise → SE with a
hard-sigmoid gate → linear 1×1 projection, with the input added back where the shapes agree."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from ..ops.base import Filters, Kernel, Strides
from .base import Block, Builder, correct_pad, register_block
from .inverted_residual import make_divisible
from .se import SeNames, squeeze_excite

BN = {"epsilon": 1e-3, "momentum": 0.999}
SE_NAMES = SeNames(squeeze="avg_pool", reduce="conv", expand="conv_1", excite="mul")


def nonlinearity(b: Builder, x: str, kind: str) -> str:
    """keras.applications' `relu` (an unnamed `ReLU()`) or `hard_swish` (an unnamed
    `Activation("hard_swish")`)."""
    if kind == "relu":
        return b.add("relu", x)
    return b.add("activation", x, activation="hard_swish")


def hard_sigmoid(b: Builder, x: str, prefix: str) -> str:
    """Keras's `ReLU(6.0)(x + 3.0) * (1.0 / 6.0)`: the `+ 3` and `· 1/6` are ops on symbolic
    tensors there, not layers, so here they are two named weightless `rescaling` layers
    around the unnamed ReLU(6) that Keras does place (the same float32 arithmetic)."""
    x = b.add("rescaling", x, f"{prefix}hard_sigmoid_add", scale=1.0, offset=3.0)
    x = b.add("relu6", x)
    return b.add("rescaling", x, f"{prefix}hard_sigmoid_scale", scale=1.0 / 6.0)


@register_block
class MobileNetV3(Block):
    """MobileNetV3 bneck: 1×1 expand, k×k depthwise, optional SE, linear 1×1 projection.

    A. Howard, M. Sandler, G. Chu, L.-C. Chen, B. Chen, M. Tan, W. Wang, Y. Zhu, R. Pang,
    V. Vasudevan, Q. V. Le, H. Adam, "Searching for MobileNetV3", ICCV 2019, Fig. 4 (the block)
    and Tables 1–2 (its columns: kernel, exp size, #out, SE, NL, s). Exactly
    keras.applications' `_inverted_res_block` of mobilenet_v3.py: the expansion conv has
    make_divisible(C·`expansion`, 8) channels for C input channels (none when `expansion` is
    1, Keras's block 0), the depthwise conv a k×k kernel (a strided one zero-pads as Keras's
    `correct_pad` and convolves `valid`), SE (`se` > 0) pools the expanded tensor, squeezes it
    to make_divisible(E·`se`, 8) channels (1×1 conv with bias, a ReLU layer), expands it back
    (1×1 conv with bias) and gates with the hard sigmoid ReLU6(x + 3)/6; the projection has
    make_divisible(`filters`·α, 8) channels and no activation, and the input is added back
    when the stride is 1 and the channels agree. No other conv has a bias; batch normalization
    uses epsilon 1e-3 and momentum 0.999; the activations are unnamed, as in Keras (`ReLU()`
    or `Activation("hard_swish")`). Names, in Keras's order, for instance NAME (Keras:
    `expanded_conv`, `expanded_conv_1`, …): `NAME_expand`, `NAME_expand_bn`,
    `NAME_depthwise_pad`, `NAME_depthwise`, `NAME_depthwise_bn`,
    `NAME_squeeze_excite_avg_pool`, `…_conv`, `…_relu`, `…_conv_1`, `…_mul`, `NAME_project`,
    `NAME_project_bn`, `NAME_add`; ours alone has the hard sigmoid's two rescalings
    `NAME_squeeze_excite_hard_sigmoid_add` and `…_scale` (weightless).
    """

    kind: ClassVar[str] = "mobilenet_v3"
    filters: Annotated[Filters, Field(description="#out: output channels before α")]
    alpha: Annotated[
        float,
        Field(
            strict=True, gt=0.0, le=64.0,
            description="width multiplier α: make_divisible(filters·α, 8) output channels",
        ),
    ] = 1.0  # fmt: skip
    expansion: Annotated[
        float,
        Field(
            strict=True, gt=0.0, le=64.0,
            description="expanded channels = make_divisible(input channels · expansion, 8); "
            "1: none (Keras's block 0)",
        ),
    ] = 1.0  # fmt: skip
    kernel: Annotated[Kernel, Field(description="depthwise kernel size (3 or 5)")] = (3, 3)
    strides: Annotated[
        Strides, Field(description="stride of the depthwise conv (first instance only)")
    ] = (1, 1)
    se: Annotated[
        float,
        Field(strict=True, ge=0.0, le=1.0, description="SE ratio (0.25 in the paper); 0: no SE"),
    ] = 0.0
    activation: Annotated[
        Literal["relu", "hard_swish"], Field(description="NL: the expand's and depthwise's")
    ] = "relu"

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        height, width, channels = b.shape(x)
        if self.expansion != 1:
            x = b.add("conv", x, "expand", filters=make_divisible(channels * self.expansion, 8),
                      kernel=1, padding="same", use_bias=False)  # fmt: skip
            x = b.add("bn", x, "expand_bn", **BN)
            x = nonlinearity(b, x, self.activation)
        strided = self.strides != (1, 1)
        if strided:  # keras.applications' correct_pad
            pad = correct_pad((height, width), self.kernel)
            x = b.add("zero_pad", x, "depthwise_pad", padding=pad)
        x = b.add("depthwise_conv", x, "depthwise", kernel=self.kernel, strides=self.strides,
                  padding="valid" if strided else "same", use_bias=False)  # fmt: skip
        x = b.add("bn", x, "depthwise_bn", **BN)
        x = nonlinearity(b, x, self.activation)
        if self.se:
            x = squeeze_excite(
                b, x, "squeeze_excite_", make_divisible(b.shape(x)[-1] * self.se, 8),
                activation=lambda b, s: b.add("relu", s, "squeeze_excite_relu"),
                gate=lambda b, s: hard_sigmoid(b, s, "squeeze_excite_"), names=SE_NAMES,
            )  # fmt: skip
        out = make_divisible(self.filters * self.alpha, 8)
        x = b.add("conv", x, "project", filters=out, kernel=1, padding="same", use_bias=False)
        x = b.add("bn", x, "project_bn", **BN)
        if not strided and channels == out:
            x = b.add("add", [inputs[0], x], "add")
        return x
