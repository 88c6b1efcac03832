"""Activations: the general `activation` op and the shorthands relu, relu6, softmax, …"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from .base import ActivationName, Inferred, Op, Shape, check_axis
from .registry import register


class _Elementwise(Op):
    """Shape-preserving, weightless."""

    def infer(self, inputs: list[Shape]) -> Inferred:
        return Inferred(inputs[0])


@register
class Activation(_Elementwise):
    """Applies a named activation function (keras.layers.Activation)."""

    kind: ClassVar[str] = "activation"
    keras_name: ClassVar[str] = "activation"
    activation: Annotated[ActivationName, Field(description="Keras activation name")]


@register
class Relu(_Elementwise):
    """Rectified linear unit, optionally capped or leaky (keras.layers.ReLU)."""

    kind: ClassVar[str] = "relu"
    keras_name: ClassVar[str] = "re_lu"
    max_value: Annotated[
        float | None, Field(strict=True, gt=0.0, description="cap; 6 gives ReLU6")
    ] = None
    negative_slope: Annotated[
        float, Field(strict=True, ge=0.0, description="slope below threshold")
    ] = 0.0
    threshold: Annotated[
        float,
        Field(strict=True, ge=0.0, description="x below it gives negative_slope·(x − threshold)"),
    ] = 0.0


@register
class Relu6(_Elementwise):
    """min(max(x, 0), 6), as MobileNet uses it (keras.layers.ReLU(6.0))."""

    kind: ClassVar[str] = "relu6"
    keras_name: ClassVar[str] = "re_lu"


@register
class LeakyRelu(_Elementwise):
    """x for x > 0, negative_slope·x otherwise (keras.layers.LeakyReLU)."""

    kind: ClassVar[str] = "leaky_relu"
    keras_name: ClassVar[str] = "leaky_re_lu"
    negative_slope: Annotated[float, Field(strict=True, ge=0.0, description="slope for x < 0")] = (
        0.3
    )


@register
class Softmax(_Elementwise):
    """Softmax over an axis (keras.layers.Softmax)."""

    kind: ClassVar[str] = "softmax"
    keras_name: ClassVar[str] = "softmax"
    axis: Annotated[int, Field(strict=True, description="axis to normalise over")] = -1

    def infer(self, inputs: list[Shape]) -> Inferred:
        check_axis(self, inputs[0], self.axis)
        return Inferred(inputs[0])


@register
class Sigmoid(_Elementwise):
    """Logistic sigmoid (keras.layers.Activation('sigmoid'))."""

    kind: ClassVar[str] = "sigmoid"
    keras_name: ClassVar[str] = "activation"


@register
class Tanh(_Elementwise):
    """Hyperbolic tangent (keras.layers.Activation('tanh'))."""

    kind: ClassVar[str] = "tanh"
    keras_name: ClassVar[str] = "activation"
