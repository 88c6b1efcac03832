"""What every primitive op is: a pydantic params model that also knows its shape rule and cost.

One class per op holds its arguments (named and defaulted as in Keras), its output-shape rule,
its weight counts and its multiply-accumulates. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field

from ..limits import MAX_DIM, MAX_KERNEL
from ..strict import Strict

Shape = tuple[int, ...]


class ShapeError(Exception):
    """A shape rule failed; the compiler adds the node's name and source location."""


@dataclass(frozen=True, slots=True)
class Inferred:
    """What placing an op produces: its output shape, weight counts and multiply-accumulates."""

    shape: Shape
    trainable: int = 0
    non_trainable: int = 0
    macs: int = 0


class Tensor(tuple):
    """An input shape that remembers which node made it, so messages can say "(from x)"."""

    origin: str = ""

    @classmethod
    def of(cls, shape: Sequence[int], origin: str) -> Tensor:
        t = cls(shape)
        t.origin = origin
        return t


def fmt(shape: Sequence[int]) -> str:
    """28×28×512 (from conv1) — how shapes read in messages and tables (no batch dimension)."""
    text = "×".join(str(d) for d in shape) if shape else "scalar"
    origin = getattr(shape, "origin", "")
    return f"{text} (from {origin})" if origin else text


def _broadcast2(value: Any) -> Any:
    """Keras accepts `3` for `(3, 3)`; so do we."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    return value


def int_in(lo: int, hi: int, **kw: Any) -> Any:
    return Annotated[int, Field(strict=True, ge=lo, le=hi, **kw)]


def pair(lo: int, hi: int) -> Any:
    """An int or a [h, w] list of ints in [lo, hi], normalised to a (h, w) tuple."""
    item = int_in(lo, hi)
    return Annotated[tuple[item, item], BeforeValidator(_broadcast2)]


Filters = int_in(1, MAX_DIM, description="number of output channels")
Kernel = Annotated[pair(1, MAX_KERNEL), Field(description="kernel size: n or [h, w]")]
Strides = Annotated[pair(1, MAX_KERNEL), Field(description="step: n or [h, w]")]
Dilation = Annotated[pair(1, MAX_KERNEL), Field(description="dilation rate: n or [h, w]")]
Padding = Annotated[
    Literal["valid", "same"], Field(description="'valid' (no padding) or 'same' (keep size/stride)")
]
Flag = Annotated[bool, Field(strict=True)]
BnEpsilon = Annotated[
    float, Field(strict=True, gt=0.0, le=1.0, description="batch normalization epsilon")
]  # what blocks pass to the `bn` ops they place
UseBias = Annotated[bool, Field(strict=True, description="add a learned bias per output channel")]
ActivationName = Literal[
    "relu", "relu6", "sigmoid", "tanh", "softmax", "linear", "elu", "selu", "gelu", "swish",
    "silu", "hard_sigmoid", "hard_swish", "softplus", "softsign", "leaky_relu", "mish",
    "exponential", "log_softmax",
]  # fmt: skip
Activation = Annotated[
    ActivationName | None, Field(description="activation applied to the output (Keras name)")
]


GLOBAL = (0, 0, 0)  # `window()` of ops whose output sees the whole input (global pools, dense…)


class Op(Strict):
    """Base of every primitive op. Subclasses set `kind` and implement `infer`."""

    unknown_key_word: ClassVar[str] = "argument"
    kind: ClassVar[str]
    # what Keras calls an unnamed layer of this op (its class in snake_case): `naming: keras`
    keras_name: ClassVar[str]
    arity: ClassVar[tuple[int, int | None]] = (1, 1)  # (min, max) inputs; None = any number

    def infer(self, inputs: list[Shape]) -> Inferred:
        raise NotImplementedError

    def window(self, inputs: list[Shape]) -> tuple[int, int, int] | None:
        """(kernel, stride, dilation) along the height, for the receptive field of an output
        given the `inputs`' shapes; None for ops that look at one position (elementwise,
        merges, padding, a dense layer on H×W×C). GLOBAL: every position."""
        return None

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0]


def need_rank(op: Op, shape: Shape, rank: int, what: str = "H×W×C") -> None:
    if len(shape) != rank:
        raise ShapeError(f"needs a {what} input, got {fmt(shape)}")


def window_out(size: int, window: int, stride: int, padding: str, dilation: int = 1) -> int:
    """Output length of a sliding window, as Keras computes it (channels-last, no batch)."""
    if padding == "same":
        return math.ceil(size / stride)
    span = (window - 1) * dilation + 1
    return (size - span) // stride + 1


def spatial_out(
    op: Op, shape: Shape, window: tuple[int, int], strides: tuple[int, int], padding: str,
    dilation: tuple[int, int] = (1, 1), channels: int | None = None,
) -> Shape:  # fmt: skip
    """H×W after a 2-D window op; a size that reaches ≤ 0 is an error naming both shapes."""
    need_rank(op, shape, 3)
    h, w = (window_out(shape[i], window[i], strides[i], padding, dilation[i]) for i in (0, 1))
    out = (h, w, shape[2] if channels is None else channels)
    if h <= 0 or w <= 0:
        k = "×".join(map(str, window))
        raise ShapeError(
            f"with window {k} and padding '{padding}' shrinks {fmt(shape)} to {fmt(out)}"
        )
    return out


def check_axis(op: Op, shape: Shape, axis: int) -> int:
    """A Keras axis (batch excluded from `shape`, so axis 0 is the batch and is refused)."""
    rank = len(shape) + 1
    if not (-rank < axis < rank) or axis % rank == 0:
        raise ShapeError(f"axis {axis} is not a feature axis of a {fmt(shape)} input")
    return axis % rank - 1
