"""Built-in block: se — squeeze-and-excitation: pool each channel, learn a gate per channel,
scale the input by it. `squeeze_excite` places it inside other blocks too (bottleneck, basic)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from ..ops.base import ActivationName, int_in
from .base import Block, Builder, register_block


def squeeze_excite(
    b: Builder, x: str, prefix: str, squeeze: int, activation: str = "relu",
    gate: str = "sigmoid", reshape: bool = False,
) -> str:  # fmt: skip
    """Place SE on `x` with `squeeze` channels in the bottleneck, named `PREFIX…` as
    keras.applications' EfficientNet names it: `squeeze` (global average pool), `reshape`
    (to 1×1×C, where the pool does not keep the axes), `reduce` and `expand` (1×1 convs with
    biases), `excite` (the product). Returns the gated tensor's node."""
    channels = b.shape(x)[-1]
    s = b.add("global_avg_pool", x, f"{prefix}squeeze", keepdims=not reshape)
    if reshape:
        s = b.add("reshape", s, f"{prefix}reshape", target_shape=[1, 1, channels])
    s = b.add("conv", s, f"{prefix}reduce", filters=squeeze, kernel=1, padding="same",
              activation=activation)  # fmt: skip
    s = b.add("conv", s, f"{prefix}expand", filters=channels, kernel=1, padding="same",
              activation=gate)  # fmt: skip
    return b.add("multiply", [x, s], f"{prefix}excite")


def squeezed(channels: int, ratio: float) -> int:
    """The bottleneck width of SE over `channels` at `ratio` (at least 1)."""
    return max(1, int(channels * ratio))


@register_block
class SqueezeExcite(Block):
    """Squeeze-and-excitation: channel gates from pooled features, multiplied into the input.

    J. Hu, L. Shen, G. Sun, "Squeeze-and-Excitation Networks", CVPR 2018, Fig. 2–3 (with
    reduction ratio r = 1/`ratio`, 16 in the paper). Placed as keras.applications' EfficientNet
    places it (1×1 convolutions with biases for the two fully connected layers):
    `NAME_squeeze` (global average pool), `NAME_reshape` (with `reshape: true`, as EfficientNet
    writes it; otherwise the pool keeps its 1×1 axes, as MobileNetV3), `NAME_reduce`
    (`squeeze` = max(1, int(C·ratio)) channels, or `squeeze` given), `NAME_expand` (C channels,
    the `gate` activation), `NAME_excite` (the input times the gates). bottleneck and basic
    take an `se` ratio and place the same nodes after their last batch normalization.
    """

    kind: ClassVar[str] = "se"
    first_only: ClassVar[tuple[str, ...]] = ()
    ratio: Annotated[
        float, Field(strict=True, gt=0.0, le=1.0, description="squeeze channels = int(C·ratio)")
    ] = 0.25
    squeeze: Annotated[
        int_in(1, 1 << 16) | None, Field(description="squeeze channels (instead of ratio)")
    ] = None
    activation: Annotated[
        ActivationName, Field(description="after the reduce conv (Keras name)")
    ] = "relu"
    gate: Annotated[
        Literal["sigmoid", "hard_sigmoid"], Field(description="the gate's activation")
    ] = "sigmoid"
    reshape: Annotated[
        bool, Field(strict=True, description="pool to C and reshape to 1×1×C (EfficientNet)")
    ] = False

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        width = self.squeeze or squeezed(b.shape(x)[-1], self.ratio)
        return squeeze_excite(b, x, "", width, self.activation, self.gate, self.reshape)
