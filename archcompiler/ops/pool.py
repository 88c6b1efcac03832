"""Pooling: max_pool, avg_pool and the global pools (keras.layers.MaxPooling2D …)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from .base import GLOBAL, Inferred, Op, Padding, Shape, need_rank, pair, spatial_out
from .registry import register


class _Pool(Op):
    pool: Annotated[pair(1, 1 << 10), Field(description="window: n or [h, w]")] = (2, 2)
    strides: Annotated[
        pair(1, 1 << 10) | None, Field(description="step; default: the window size (Keras)")
    ] = None
    padding: Padding = "valid"

    def window(self, inputs: list[Shape]) -> tuple[int, int, int] | None:
        return (self.pool[0], (self.strides or self.pool)[0], 1)

    def infer(self, inputs: list[Shape]) -> Inferred:
        strides = self.strides or self.pool
        return Inferred(spatial_out(self, inputs[0], self.pool, strides, self.padding))


@register
class MaxPool(_Pool):
    """Max over sliding windows (keras.layers.MaxPooling2D)."""

    kind: ClassVar[str] = "max_pool"
    keras_name: ClassVar[str] = "max_pooling2d"


@register
class AvgPool(_Pool):
    """Mean over sliding windows (keras.layers.AveragePooling2D)."""

    kind: ClassVar[str] = "avg_pool"
    keras_name: ClassVar[str] = "average_pooling2d"


class _GlobalPool(Op):
    keepdims: Annotated[
        bool, Field(strict=True, description="keep 1×1 spatial axes: 1×1×C instead of C")
    ] = False

    def window(self, inputs: list[Shape]) -> tuple[int, int, int] | None:
        return GLOBAL

    def infer(self, inputs: list[Shape]) -> Inferred:
        (shape,) = inputs
        need_rank(self, shape, 3)
        return Inferred((1, 1, shape[2]) if self.keepdims else (shape[2],))


@register
class GlobalAvgPool(_GlobalPool):
    """Mean over all positions, one value per channel (keras.layers.GlobalAveragePooling2D)."""

    kind: ClassVar[str] = "global_avg_pool"
    keras_name: ClassVar[str] = "global_average_pooling2d"


@register
class GlobalMaxPool(_GlobalPool):
    """Max over all positions, one value per channel (keras.layers.GlobalMaxPooling2D)."""

    kind: ClassVar[str] = "global_max_pool"
    keras_name: ClassVar[str] = "global_max_pooling2d"
