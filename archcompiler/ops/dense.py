"""Fully connected layer (keras.layers.Dense) and dropout."""

from __future__ import annotations

import math
from typing import Annotated, ClassVar

from pydantic import Field

from .base import GLOBAL, Activation, Inferred, Op, Shape, ShapeError, UseBias, int_in
from .registry import register


@register
class Dense(Op):
    """Fully connected layer on the last axis (keras.layers.Dense)."""

    kind: ClassVar[str] = "dense"
    units: Annotated[int_in(1, 1 << 24), Field(description="output size")]

    def window(self) -> tuple[int, int, int] | None:
        return GLOBAL  # after flatten a unit sees every position

    use_bias: UseBias = True
    activation: Activation = None

    def infer(self, inputs: list[Shape]) -> Inferred:
        (shape,) = inputs
        if not shape:
            raise ShapeError("needs an input with at least one axis")
        weights = shape[-1] * self.units + (self.units if self.use_bias else 0)
        positions = math.prod(shape[:-1])
        return Inferred((*shape[:-1], self.units), weights, macs=positions * shape[-1] * self.units)


@register
class Dropout(Op):
    """Randomly zeroes a fraction `rate` of the inputs while training (keras.layers.Dropout)."""

    kind: ClassVar[str] = "dropout"
    rate: Annotated[
        float, Field(strict=True, ge=0.0, lt=1.0, description="fraction dropped, in [0, 1)")
    ]

    def infer(self, inputs: list[Shape]) -> Inferred:
        return Inferred(inputs[0])
