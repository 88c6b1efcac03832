"""The Keras side of every primitive op: the core Keras layer it becomes and that layer's
arguments, as one table keyed like the op table (a test keeps the keys equal).

Layer classes are named, not imported, so this table loads without TensorFlow: the reference
docs read it, and backends/keras.py looks each class up in `keras.layers` when it builds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..ops.initializers import to_keras

# an op's validated arguments and its output shape (no batch axis) → the layer's keyword args
Emitter = Callable[[Any, tuple[int, ...]], dict[str, Any]]


def _conv_args(a: Any) -> dict[str, Any]:
    return {
        "kernel_size": a.kernel, "strides": a.strides, "padding": a.padding,
        "dilation_rate": a.dilation_rate, "use_bias": a.use_bias, "activation": a.activation,
    }  # fmt: skip


def _inits(a: Any, *names: str) -> dict[str, Any]:
    """The layer's initializer arguments (Keras's names: kernel_, depthwise_, bias_ …)."""
    return {f"{n}_initializer": to_keras(getattr(a, f"{n}_initializer")) for n in names}


def _scale_args(a: Any, shape: tuple[int, ...]) -> dict[str, Any]:
    """keras.applications' LayerScale (a custom class) as the core layer with its one weight:
    `EinsumDense("abcd,d->abcd")` for a batch of H×W×C, γ of shape (C,). The axes are spelled
    out: with `...` Keras 3.15 infers the axes before the channels in reverse order."""
    axes = "abcdefghijklmnop"[: len(shape) + 1]
    return {
        "equation": f"{axes},{axes[-1]}->{axes}", "output_shape": tuple(shape),
        "kernel_initializer": {"class_name": "Constant", "config": {"value": a.init_values}},
    }  # fmt: skip


def _pool_args(a: Any) -> dict[str, Any]:
    return {"pool_size": a.pool, "strides": a.strides or a.pool, "padding": a.padding}


# One entry per primitive op: the Keras layer class it becomes and its arguments from the op's
# validated ones (the layer is named by the caller, after the node).
EMITTERS: dict[str, tuple[str, Emitter]] = {
    "conv": (
        "Conv2D",
        lambda a, _: {
            "filters": a.filters,
            "groups": a.groups,
            **_conv_args(a),
            **_inits(a, "kernel", "bias"),
        },
    ),
    "depthwise_conv": (
        "DepthwiseConv2D",
        lambda a, _: {
            "depth_multiplier": a.depth_multiplier,
            **_conv_args(a),
            **_inits(a, "depthwise", "bias"),
        },
    ),
    "separable_conv": (
        "SeparableConv2D",
        lambda a, _: {
            "filters": a.filters,
            "depth_multiplier": a.depth_multiplier,
            **_conv_args(a),
            **_inits(a, "depthwise", "pointwise", "bias"),
        },
    ),
    "conv_transpose": (
        "Conv2DTranspose",
        lambda a, _: {
            "filters": a.filters,
            "output_padding": a.output_padding,
            **_conv_args(a),
            **_inits(a, "kernel", "bias"),
        },
    ),
    "dense": (
        "Dense",
        lambda a, _: {
            "units": a.units,
            "use_bias": a.use_bias,
            "activation": a.activation,
            **_inits(a, "kernel", "bias"),
        },
    ),
    "dropout": (
        "Dropout",
        lambda a, _: {
            "rate": a.rate,
            "noise_shape": None if a.noise_shape is None else tuple(a.noise_shape),
        },
    ),
    "bn": (
        "BatchNormalization",
        lambda a, _: {
            "axis": -1,
            "epsilon": a.epsilon,
            "momentum": a.momentum,
            "center": a.center,
            "scale": a.scale,
        },
    ),
    "layer_norm": (
        "LayerNormalization",
        lambda a, _: {"axis": a.axis, "epsilon": a.epsilon, "center": a.center, "scale": a.scale},
    ),
    "normalization": (
        "Normalization",
        lambda a, _: {"axis": a.axis, "mean": a.mean, "variance": a.variance},
    ),
    "activation": ("Activation", lambda a, _: {"activation": a.activation}),
    "relu": (
        "ReLU",
        lambda a, _: {
            "max_value": a.max_value,
            "negative_slope": a.negative_slope,
            "threshold": a.threshold,
        },
    ),
    "relu6": ("ReLU", lambda a, _: {"max_value": 6.0}),
    "leaky_relu": ("LeakyReLU", lambda a, _: {"negative_slope": a.negative_slope}),
    "softmax": ("Softmax", lambda a, _: {"axis": a.axis}),
    "sigmoid": ("Activation", lambda a, _: {"activation": "sigmoid"}),
    "tanh": ("Activation", lambda a, _: {"activation": "tanh"}),
    "max_pool": ("MaxPooling2D", lambda a, _: _pool_args(a)),
    "avg_pool": ("AveragePooling2D", lambda a, _: _pool_args(a)),
    "global_avg_pool": ("GlobalAveragePooling2D", lambda a, _: {"keepdims": a.keepdims}),
    "global_max_pool": ("GlobalMaxPooling2D", lambda a, _: {"keepdims": a.keepdims}),
    "zero_pad": ("ZeroPadding2D", lambda a, _: {"padding": a.padding}),
    "crop": ("Cropping2D", lambda a, _: {"cropping": a.cropping}),
    "flatten": ("Flatten", lambda a, _: {}),
    "reshape": ("Reshape", lambda a, _: {"target_shape": tuple(a.target_shape)}),
    "upsample": ("UpSampling2D", lambda a, _: {"size": a.size, "interpolation": a.interpolation}),
    "rescaling": ("Rescaling", lambda a, _: {"scale": a.scale, "offset": a.offset}),
    "add": ("Add", lambda a, _: {}),
    "subtract": ("Subtract", lambda a, _: {}),
    "multiply": ("Multiply", lambda a, _: {}),
    "average": ("Average", lambda a, _: {}),
    "maximum": ("Maximum", lambda a, _: {}),
    "minimum": ("Minimum", lambda a, _: {}),
    "concat": ("Concatenate", lambda a, _: {"axis": a.axis}),
    # keras.applications' LayerScale (a custom class) as the core layer with its one weight
    "layer_scale": ("EinsumDense", _scale_args),
}


def keras_layer(op: str) -> str:
    """The name of the core Keras layer class op `op` becomes (`Conv2D`, `ReLU`, …)."""
    return EMITTERS[op][0]
