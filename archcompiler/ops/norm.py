"""Normalization: bn, layer_norm and normalization (keras.layers.BatchNormalization …)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from .base import MAX_DIM, Inferred, Op, Shape, ShapeError, check_axis, fmt
from .registry import register

Epsilon = Annotated[float, Field(strict=True, gt=0.0, le=1.0, description="added to the variance")]
Center = Annotated[bool, Field(strict=True, description="learn the offset β")]
Scale = Annotated[bool, Field(strict=True, description="learn the scale γ")]
FeatureAxis = Annotated[int, Field(strict=True)]  # a Keras axis: 0 is the batch (refused)


@register
class BatchNorm(Op):
    """Batch normalization over the channel axis (keras.layers.BatchNormalization)."""

    kind: ClassVar[str] = "bn"
    keras_name: ClassVar[str] = "batch_normalization"
    epsilon: Epsilon = 1e-3
    momentum: Annotated[
        float, Field(strict=True, ge=0.0, le=1.0, description="moving-average momentum")
    ] = 0.99
    center: Center = True
    scale: Scale = True

    def infer(self, inputs: list[Shape]) -> Inferred:
        (shape,) = inputs
        if not shape:
            raise ShapeError("needs an input with a channel axis")
        c = shape[-1]
        # gamma and beta learn; the moving mean and variance do not (Keras counts them apart)
        return Inferred(shape, c * (int(self.center) + int(self.scale)), 2 * c)


@register
class LayerNorm(Op):
    """Layer normalization: each sample over one axis (keras.layers.LayerNormalization)."""

    kind: ClassVar[str] = "layer_norm"
    keras_name: ClassVar[str] = "layer_normalization"
    axis: Annotated[
        FeatureAxis, Field(description="axis normalized over: -1 the last (channels), 1 the first")
    ] = -1
    epsilon: Epsilon = 1e-3
    center: Center = True
    scale: Scale = True

    def infer(self, inputs: list[Shape]) -> Inferred:
        (shape,) = inputs
        size = shape[check_axis(self, shape, self.axis)]
        # gamma and beta span the normalized axis
        return Inferred(shape, size * (int(self.center) + int(self.scale)))


def _stats(lo: float | None, description: str) -> object:
    """A list of floats, one per entry of the axis, or null."""
    item = Annotated[float, Field(strict=True, ge=lo, allow_inf_nan=False)]
    return Annotated[
        list[item] | None, Field(min_length=1, max_length=MAX_DIM, description=description)
    ]


Mean = _stats(None, "a mean per entry of the axis; null: weights, set by adapt or loading")
Variance = _stats(0.0, "a variance per entry of the axis; null: weights, as for mean")


@register
class Normalization(Op):
    """(x − mean) / √variance per feature, as in EfficientNet's stem (keras.layers.Normalization).

    Without `mean` and `variance` the layer holds them as non-trainable weights (a mean and a
    variance per feature and a sample count), set by Keras's `adapt` or by loaded weights (as
    keras.applications' EfficientNet ships them). Given here, they are constants: no weights."""

    kind: ClassVar[str] = "normalization"
    keras_name: ClassVar[str] = "normalization"
    axis: Annotated[
        FeatureAxis, Field(description="axis with a mean and variance per entry (-1: channels)")
    ] = -1
    mean: Mean = None
    variance: Variance = None

    def infer(self, inputs: list[Shape]) -> Inferred:
        (shape,) = inputs
        size = shape[check_axis(self, shape, self.axis)]
        if (self.mean is None) != (self.variance is None):
            raise ShapeError("takes mean and variance together, or neither")
        if self.mean is None or self.variance is None:
            return Inferred(shape, 0, 2 * size + 1)  # mean, variance, and a scalar count
        for name, values in (("mean", self.mean), ("variance", self.variance)):
            if len(values) != size:
                raise ShapeError(
                    f"{name} has {len(values)} values; axis {self.axis} of {fmt(shape)} has {size}"
                )
        return Inferred(shape)
