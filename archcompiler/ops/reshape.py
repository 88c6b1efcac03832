"""Ops that move values around without weights: zero_pad, crop, flatten, reshape, upsample,
rescaling."""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field

from .base import MAX_DIM, Inferred, Op, Shape, ShapeError, fmt, int_in, need_rank, pair
from .registry import register


def _four_sides(value: Any) -> Any:
    """Keras's three spellings: n, [h, w], [[top, bottom], [left, right]]."""
    if isinstance(value, int) and not isinstance(value, bool):
        return ((value, value), (value, value))
    flat_pair = isinstance(value, (list, tuple)) and len(value) == 2
    if flat_pair and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return ((value[0], value[0]), (value[1], value[1]))
    return value


_side = int_in(0, MAX_DIM)
Sides = Annotated[
    tuple[tuple[_side, _side], tuple[_side, _side]],
    BeforeValidator(_four_sides),
    Field(description="n, [h, w] or [[top, bottom], [left, right]]"),
]


@register
class ZeroPad(Op):
    """Pads height and width with zeros (keras.layers.ZeroPadding2D)."""

    kind: ClassVar[str] = "zero_pad"
    keras_name: ClassVar[str] = "zero_padding2d"
    padding: Sides = ((1, 1), (1, 1))

    def infer(self, inputs: list[Shape]) -> Inferred:
        (shape,) = inputs
        need_rank(self, shape, 3)
        (t, b), (left, r) = self.padding
        return Inferred((shape[0] + t + b, shape[1] + left + r, shape[2]))


@register
class Crop(Op):
    """Cuts rows and columns off the borders (keras.layers.Cropping2D)."""

    kind: ClassVar[str] = "crop"
    keras_name: ClassVar[str] = "cropping2d"
    cropping: Sides = ((0, 0), (0, 0))

    def infer(self, inputs: list[Shape]) -> Inferred:
        (shape,) = inputs
        need_rank(self, shape, 3)
        (t, b), (left, r) = self.cropping
        out = (shape[0] - t - b, shape[1] - left - r, shape[2])
        if out[0] <= 0 or out[1] <= 0:
            raise ShapeError(f"cropping {list(map(list, self.cropping))} turns {fmt(shape)} into "
                             f"{fmt(out)}")  # fmt: skip
        return Inferred(out)


@register
class Flatten(Op):
    """Collapses all axes but the batch into one (keras.layers.Flatten)."""

    kind: ClassVar[str] = "flatten"
    keras_name: ClassVar[str] = "flatten"

    def infer(self, inputs: list[Shape]) -> Inferred:
        return Inferred((math.prod(inputs[0]),))


@register
class Reshape(Op):
    """Reshapes to `target_shape` (batch excluded; one -1 is inferred) (keras.layers.Reshape)."""

    kind: ClassVar[str] = "reshape"
    keras_name: ClassVar[str] = "reshape"
    target_shape: Annotated[
        list[Annotated[int, Field(strict=True, ge=-1, le=1 << 31)]],
        Field(
            min_length=1, max_length=8, description="new shape without the batch; one -1 allowed"
        ),
    ]

    def infer(self, inputs: list[Shape]) -> Inferred:
        (shape,) = inputs
        target, size = self.target_shape, math.prod(shape)
        if 0 in target or target.count(-1) > 1:
            raise ShapeError(f"target {target} may hold one -1 and no 0")
        known = math.prod(d for d in target if d != -1)
        if -1 in target:
            if size % known:
                raise ShapeError(f"cannot fit {fmt(shape)} ({size:,} values) into {target}")
            target = [size // known if d == -1 else d for d in target]
        elif known != size:
            raise ShapeError(
                f"cannot turn {fmt(shape)} ({size:,} values) into {fmt(target)} ({known:,} values)"
            )
        return Inferred(tuple(target))


@register
class Upsample(Op):
    """Repeats rows and columns (keras.layers.UpSampling2D)."""

    kind: ClassVar[str] = "upsample"
    keras_name: ClassVar[str] = "up_sampling2d"
    size: Annotated[pair(1, 1 << 10), Field(description="factor: n or [h, w]")] = (2, 2)
    interpolation: Annotated[
        Literal["nearest", "bilinear"], Field(description="how new pixels are filled")
    ] = "nearest"

    def infer(self, inputs: list[Shape]) -> Inferred:
        (shape,) = inputs
        need_rank(self, shape, 3)
        return Inferred((shape[0] * self.size[0], shape[1] * self.size[1], shape[2]))


@register
class Rescaling(Op):
    """x · scale + offset, e.g. 1/255 for pixels (keras.layers.Rescaling)."""

    kind: ClassVar[str] = "rescaling"
    keras_name: ClassVar[str] = "rescaling"
    scale: Annotated[float, Field(strict=True, description="multiplier, e.g. $1 / 255")]
    offset: Annotated[float, Field(strict=True, description="added after scaling")] = 0.0

    def infer(self, inputs: list[Shape]) -> Inferred:
        return Inferred(inputs[0])
