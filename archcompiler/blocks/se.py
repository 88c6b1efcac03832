"""Built-in block: se — squeeze-and-excitation: pool each channel, learn a gate per channel,
scale the input by it. `squeeze_excite` places it inside other blocks too (bottleneck, basic)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, NamedTuple

from pydantic import Field

from ..ops.base import ActivationName, int_in
from .base import Block, Builder, register_block

# An activation placed as layers of its own after a conv, returning the last one's node
# (MobileNetV3's ReLU layer and hard sigmoid), where a name is fused into the conv.
Place = Callable[[Builder, str], str]


class SeNames(NamedTuple):
    """The names squeeze_excite gives its layers after the prefix: EfficientNet's by default."""

    squeeze: str = "squeeze"
    reshape: str = "reshape"
    reduce: str = "reduce"
    expand: str = "expand"
    excite: str = "excite"


EFFICIENTNET_NAMES = SeNames()


def squeeze_excite(
    b: Builder, x: str, prefix: str, squeeze: int, activation: str | Place = "relu",
    gate: str | Place = "sigmoid", reshape: bool = False, kernel_initializer: Any = None,
    names: SeNames = EFFICIENTNET_NAMES,
) -> str:  # fmt: skip
    """Place SE on `x` with `squeeze` channels in the bottleneck, named `PREFIX…` as
    keras.applications' EfficientNet names it: `squeeze` (global average pool), `reshape`
    (to 1×1×C, where the pool does not keep the axes), `reduce` and `expand` (1×1 convs with
    biases; `kernel_initializer`, where given, for both, as EfficientNet passes its own),
    `excite` (the product); other `names` where a twin names them otherwise. `activation`
    and `gate` are Keras names fused into the convs, or functions that place them after
    the convs as layers of their own. Returns the gated tensor's node."""
    channels = b.shape(x)[-1]
    init = {} if kernel_initializer is None else {"kernel_initializer": kernel_initializer}
    s = b.add("global_avg_pool", x, prefix + names.squeeze, keepdims=not reshape)
    if reshape:
        s = b.add("reshape", s, prefix + names.reshape, target_shape=[1, 1, channels])
    s = _conv(b, s, prefix + names.reduce, squeeze, activation, init)
    s = _conv(b, s, prefix + names.expand, channels, gate, init)
    return b.add("multiply", [x, s], prefix + names.excite)


def _conv(b: Builder, x: str, name: str, filters: int, act: str | Place, init: dict) -> str:
    """A 1×1 conv with a bias, its activation fused (a name) or placed after it (a function)."""
    if isinstance(act, str):
        return b.add("conv", x, name, filters=filters, kernel=1, padding="same", activation=act,
                     **init)  # fmt: skip
    return act(b, b.add("conv", x, name, filters=filters, kernel=1, padding="same", **init))


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
