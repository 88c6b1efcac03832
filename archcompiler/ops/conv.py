"""Convolutions: conv, depthwise_conv, separable_conv, conv_transpose (keras.layers.Conv2D …)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from .base import (
    MAX_DIM,
    Activation,
    Dilation,
    Filters,
    Inferred,
    Kernel,
    Op,
    Padding,
    Shape,
    ShapeError,
    Strides,
    UseBias,
    fmt,
    int_in,
    need_rank,
    pair,
    spatial_out,
)  # fmt: skip
from .initializers import BiasInit, KernelInit, initializer
from .registry import register

DepthwiseInit = initializer("the depthwise kernel", 4)
PointwiseInit = initializer("the pointwise (1×1) kernel", 4)
DepthMultiplier = Annotated[
    int_in(1, 1024), Field(description="depthwise channels per input channel")
]


class _Sliding(Op):
    """Convolutions slide `kernel` with `strides` and `dilation_rate` (set by subclasses)."""

    def window(self, inputs: list[Shape]) -> tuple[int, int, int] | None:
        return (self.kernel[0], self.strides[0], self.dilation_rate[0])  # type: ignore[attr-defined]


def _window(op: Op, shape: Shape, channels: int) -> Shape:
    """H×W×channels after the op's kernel, strides, padding and dilation."""
    need_rank(op, shape, 3)
    _check_dilated_strides(op)
    return spatial_out(op, shape, op.kernel, op.strides, op.padding, op.dilation_rate, channels)


def _check_dilated_strides(op: Op) -> None:
    # Conv2D(Transpose) refuse strides > 1 with dilation > 1, and TensorFlow documents the pair
    # as unsupported for the depthwise kernels too; say so before TensorFlow does.
    if max(op.strides) > 1 and max(op.dilation_rate) > 1:
        raise ShapeError("cannot combine strides > 1 with dilation_rate > 1 (TensorFlow can't)")


@register
class Conv(_Sliding):
    """2-D convolution (keras.layers.Conv2D)."""

    kind: ClassVar[str] = "conv"
    keras_name: ClassVar[str] = "conv2d"
    filters: Filters
    kernel: Kernel
    strides: Strides = (1, 1)
    padding: Padding = "valid"
    dilation_rate: Dilation = (1, 1)
    groups: Annotated[int_in(1, MAX_DIM), Field(description="grouped convolution")] = 1
    use_bias: UseBias = True
    activation: Activation = None
    kernel_initializer: KernelInit = "glorot_uniform"
    bias_initializer: BiasInit = "zeros"

    def infer(self, inputs: list[Shape]) -> Inferred:
        (shape,) = inputs
        out = _window(self, shape, self.filters)
        cin = shape[2]
        if cin % self.groups or self.filters % self.groups:
            raise ShapeError(
                f"groups={self.groups} must divide both the input channels ({cin}) "
                f"and filters ({self.filters})"
            )
        per_output = self.kernel[0] * self.kernel[1] * (cin // self.groups)
        weights = per_output * self.filters + (self.filters if self.use_bias else 0)
        return Inferred(out, weights, macs=out[0] * out[1] * per_output * self.filters)


@register
class DepthwiseConv(_Sliding):
    """Depthwise 2-D convolution: one filter per input channel (keras.layers.DepthwiseConv2D)."""

    kind: ClassVar[str] = "depthwise_conv"
    keras_name: ClassVar[str] = "depthwise_conv2d"
    kernel: Kernel
    strides: Strides = (1, 1)
    padding: Padding = "valid"
    depth_multiplier: DepthMultiplier = 1
    dilation_rate: Dilation = (1, 1)
    use_bias: UseBias = True
    activation: Activation = None
    depthwise_initializer: DepthwiseInit = "glorot_uniform"
    bias_initializer: BiasInit = "zeros"

    def infer(self, inputs: list[Shape]) -> Inferred:
        (shape,) = inputs
        need_rank(self, shape, 3)
        cout = shape[2] * self.depth_multiplier
        out = _window(self, shape, cout)
        k = self.kernel[0] * self.kernel[1]
        weights = k * cout + (cout if self.use_bias else 0)
        return Inferred(out, weights, macs=out[0] * out[1] * k * cout)


@register
class SeparableConv(_Sliding):
    """Depthwise then pointwise 2-D convolution (keras.layers.SeparableConv2D)."""

    kind: ClassVar[str] = "separable_conv"
    keras_name: ClassVar[str] = "separable_conv2d"
    filters: Filters
    kernel: Kernel
    strides: Strides = (1, 1)
    padding: Padding = "valid"
    depth_multiplier: DepthMultiplier = 1
    dilation_rate: Dilation = (1, 1)
    use_bias: UseBias = True
    activation: Activation = None
    depthwise_initializer: DepthwiseInit = "glorot_uniform"
    pointwise_initializer: PointwiseInit = "glorot_uniform"
    bias_initializer: BiasInit = "zeros"

    def infer(self, inputs: list[Shape]) -> Inferred:
        (shape,) = inputs
        need_rank(self, shape, 3)
        mid = shape[2] * self.depth_multiplier
        out = _window(self, shape, self.filters)
        k = self.kernel[0] * self.kernel[1]
        weights = k * mid + mid * self.filters + (self.filters if self.use_bias else 0)
        return Inferred(out, weights, macs=out[0] * out[1] * (k * mid + mid * self.filters))


def transpose_out(size: int, k: int, s: int, padding: str, out_pad: int | None, d: int) -> int:
    """keras.src.ops.operation_utils: output length of a transposed convolution."""
    span = (k - 1) * d + 1
    if padding == "valid":
        extra = max(span, s) - span if out_pad is None else out_pad
        return (size - 1) * s + span + extra
    if out_pad is None:
        return size * s
    return (size - 1) * s + span - 2 * (span // 2) + out_pad


@register
class ConvTranspose(Op):
    """Transposed 2-D convolution, a.k.a. deconvolution (keras.layers.Conv2DTranspose)."""

    kind: ClassVar[str] = "conv_transpose"
    keras_name: ClassVar[str] = "conv2d_transpose"
    filters: Filters
    kernel: Kernel
    strides: Strides = (1, 1)
    padding: Padding = "valid"
    output_padding: Annotated[
        pair(0, 1024) | None, Field(description="extra rows/cols on one side; < strides")
    ] = None
    dilation_rate: Dilation = (1, 1)
    use_bias: UseBias = True
    activation: Activation = None
    kernel_initializer: KernelInit = "glorot_uniform"
    bias_initializer: BiasInit = "zeros"

    def infer(self, inputs: list[Shape]) -> Inferred:
        (shape,) = inputs
        need_rank(self, shape, 3)
        _check_dilated_strides(self)
        pad = self.output_padding or (None, None)
        if self.output_padding and any(p >= s for p, s in zip(pad, self.strides, strict=True)):
            raise ShapeError(
                f"output_padding {list(pad)} must be smaller than strides {list(self.strides)}"
            )
        h, w = (
            transpose_out(
                shape[i], self.kernel[i], self.strides[i], self.padding, pad[i],
                self.dilation_rate[i],
            )
            for i in (0, 1)
        )  # fmt: skip
        out = (h, w, self.filters)
        if h <= 0 or w <= 0 or h > MAX_DIM or w > MAX_DIM:
            raise ShapeError(f"turns {fmt(shape)} into {fmt(out)}")
        k = self.kernel[0] * self.kernel[1]
        weights = k * shape[2] * self.filters + (self.filters if self.use_bias else 0)
        # every input pixel scatters a k×k×filters patch
        return Inferred(out, weights, macs=shape[0] * shape[1] * k * shape[2] * self.filters)
