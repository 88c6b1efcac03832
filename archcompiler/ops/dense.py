"""Fully connected layer (keras.layers.Dense) and dropout."""

from __future__ import annotations

import math
from typing import Annotated, ClassVar

from pydantic import Field

from .base import GLOBAL, MAX_DIM, Activation, Inferred, Op, Shape, ShapeError, UseBias, fmt, int_in
from .initializers import BiasInit, initializer
from .registry import register

DenseKernelInit = initializer("the kernel", 2)  # inputs × units


@register
class Dense(Op):
    """Fully connected layer on the last axis (keras.layers.Dense)."""

    kind: ClassVar[str] = "dense"
    keras_name: ClassVar[str] = "dense"
    units: Annotated[int_in(1, 1 << 24), Field(description="output size")]

    use_bias: UseBias = True
    activation: Activation = None

    def window(self, inputs: list[Shape]) -> tuple[int, int, int] | None:
        # on a flat vector a unit sees every position; on H×W×C it acts position by position
        return GLOBAL if len(inputs[0]) == 1 else None

    kernel_initializer: DenseKernelInit = "glorot_uniform"
    bias_initializer: BiasInit = "zeros"

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
    keras_name: ClassVar[str] = "dropout"
    rate: Annotated[
        float, Field(strict=True, ge=0.0, lt=1.0, description="fraction dropped, in [0, 1)")
    ]
    noise_shape: Annotated[
        list[int_in(1, MAX_DIM) | None] | None,
        Field(
            min_length=2, max_length=9,
            description="shape of the drop mask, batch first; null or 1 on an axis shares the "
            "mask along it, e.g. [null, 1, 1, 1] drops whole samples",
        ),
    ] = None  # fmt: skip

    def infer(self, inputs: list[Shape]) -> Inferred:
        (shape,) = inputs
        noise = self.noise_shape
        if noise is None:
            return Inferred(shape)
        # Keras only fails while training (TensorFlow's broadcast), and a longer mask silently
        # grows the output then: say so at check time.
        if len(noise) != len(shape) + 1:
            raise ShapeError(
                f"noise_shape {_show(noise)} needs {len(shape) + 1} items (the batch and each "
                f"axis of {fmt(shape)})"
            )
        if noise[0] not in (None, 1):
            raise ShapeError(f"noise_shape {_show(noise)} must start with null or 1 (the batch)")
        for i, (n, d) in enumerate(zip(noise[1:], shape, strict=True)):
            if n not in (None, 1, d):
                raise ShapeError(
                    f"noise_shape {_show(noise)} item {i + 2} must be null, 1 or {d} "
                    f"(axis {i + 1} of {fmt(shape)})"
                )
        return Inferred(shape)


def _show(noise: list[int | None]) -> str:
    return "[" + ", ".join("null" if n is None else str(n) for n in noise) + "]"
