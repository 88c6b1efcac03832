"""Ops that merge several inputs: add, subtract, multiply, average, maximum, minimum, concat."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from .base import Inferred, Op, Shape, ShapeError, check_axis, fmt
from .registry import register


class _Elementwise(Op):
    """Same shapes in, same shape out; a size of 1 broadcasts (as Keras's merge layers)."""

    arity: ClassVar[tuple[int, int | None]] = (2, None)

    def infer(self, inputs: list[Shape]) -> Inferred:
        out = inputs[0]
        for shape in inputs[1:]:
            if len(shape) != len(out) or any(
                a != b and 1 not in (a, b) for a, b in zip(shape, out, strict=False)
            ):
                raise ShapeError(f"needs equal shapes, got {' and '.join(map(fmt, inputs))}")
            out = tuple(max(a, b) for a, b in zip(shape, out, strict=True))
        return Inferred(out)


@register
class Add(_Elementwise):
    """Element-wise sum, e.g. a residual connection (keras.layers.Add)."""

    kind: ClassVar[str] = "add"
    keras_name: ClassVar[str] = "add"


@register
class Subtract(_Elementwise):
    """First input minus the second (keras.layers.Subtract)."""

    kind: ClassVar[str] = "subtract"
    keras_name: ClassVar[str] = "subtract"
    arity: ClassVar[tuple[int, int | None]] = (2, 2)


@register
class Multiply(_Elementwise):
    """Element-wise product, e.g. squeeze-and-excitation gating (keras.layers.Multiply)."""

    kind: ClassVar[str] = "multiply"
    keras_name: ClassVar[str] = "multiply"


@register
class Average(_Elementwise):
    """Element-wise mean (keras.layers.Average)."""

    kind: ClassVar[str] = "average"
    keras_name: ClassVar[str] = "average"


@register
class Maximum(_Elementwise):
    """Element-wise maximum (keras.layers.Maximum)."""

    kind: ClassVar[str] = "maximum"
    keras_name: ClassVar[str] = "maximum"


@register
class Minimum(_Elementwise):
    """Element-wise minimum (keras.layers.Minimum)."""

    kind: ClassVar[str] = "minimum"
    keras_name: ClassVar[str] = "minimum"


@register
class Concat(Op):
    """Joins inputs along an axis, channels by default (keras.layers.Concatenate)."""

    kind: ClassVar[str] = "concat"
    keras_name: ClassVar[str] = "concatenate"
    arity: ClassVar[tuple[int, int | None]] = (1, None)
    axis: Annotated[int, Field(strict=True, description="-1: channels")] = -1

    def infer(self, inputs: list[Shape]) -> Inferred:
        first = inputs[0]
        i = check_axis(self, first, self.axis)
        for shape in inputs[1:]:
            if len(shape) != len(first) or any(
                a != b for k, (a, b) in enumerate(zip(shape, first, strict=True)) if k != i
            ):
                raise ShapeError(
                    f"on axis {self.axis} needs equal shapes on the other axes, got "
                    + " and ".join(map(fmt, inputs))
                )
        return Inferred((*first[:i], sum(s[i] for s in inputs), *first[i + 1 :]))
