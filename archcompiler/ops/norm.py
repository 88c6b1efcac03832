"""Batch normalization (keras.layers.BatchNormalization)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from .base import Inferred, Op, Shape, ShapeError
from .registry import register


@register
class BatchNorm(Op):
    """Batch normalization over the channel axis (keras.layers.BatchNormalization)."""

    kind: ClassVar[str] = "bn"
    epsilon: Annotated[
        float, Field(strict=True, gt=0.0, le=1.0, description="added to the variance")
    ] = 1e-3
    momentum: Annotated[
        float, Field(strict=True, ge=0.0, le=1.0, description="moving-average momentum")
    ] = 0.99
    center: Annotated[bool, Field(strict=True, description="learn the offset β")] = True
    scale: Annotated[bool, Field(strict=True, description="learn the scale γ")] = True

    def infer(self, inputs: list[Shape]) -> Inferred:
        (shape,) = inputs
        if not shape:
            raise ShapeError("needs an input with a channel axis")
        c = shape[-1]
        # gamma and beta learn; the moving mean and variance do not (Keras counts them apart)
        return Inferred(shape, c * (int(self.center) + int(self.scale)), 2 * c)
