"""Every primitive op's shape, parameter and MAC rule, checked against Keras itself.

`CASES` holds hand-picked cases for every op in the registry (a test fails when an op is added
without cases). Each case is inferred by our rule (no TensorFlow) and by the equivalent Keras
layer (`compute_output_shape`, `build`, weight counts, and a real forward pass); they must agree.
MACs are checked against independent hand formulas. Keras is imported once, lazily.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import typing
from typing import Any

import pytest
from pydantic import ValidationError

from archcompiler.backends.keras_layers import EMITTERS, keras_layer
from archcompiler.ops import OPS, Inferred, ShapeError
from archcompiler.ops.base import ActivationName, Tensor

Args = dict[str, Any]
Shapes = list[tuple[int, ...]]

# keras.applications EfficientNet's initializers (efficientnet.py), as it passes them
EFFICIENTNET_CONV_INIT = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}
EFFICIENTNET_DENSE_INIT = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"},
}

# kind -> [(args, input shapes without the batch dimension)]
CASES: dict[str, list[tuple[Args, Shapes]]] = {
    "conv": [
        ({"filters": 8, "kernel": 3}, [(32, 32, 3)]),
        ({"filters": 8, "kernel": 3, "strides": 2, "padding": "same"}, [(33, 33, 3)]),
        ({"filters": 5, "kernel": 3, "strides": 2}, [(32, 31, 3)]),  # stride doesn't divide
        ({"filters": 4, "kernel": [3, 5], "strides": [1, 2], "padding": "same"}, [(7, 9, 2)]),
        ({"filters": 4, "kernel": [1, 7], "padding": "same"}, [(6, 6, 3)]),
        ({"filters": 6, "kernel": 3, "dilation_rate": 2}, [(11, 12, 3)]),
        ({"filters": 6, "kernel": 3, "dilation_rate": [2, 3], "padding": "same"}, [(10, 10, 4)]),
        ({"filters": 8, "kernel": 3, "groups": 4, "padding": "same"}, [(8, 8, 8)]),
        ({"filters": 6, "kernel": 1, "groups": 2, "use_bias": False}, [(1, 1, 4)]),
        ({"filters": 3, "kernel": 7, "strides": 3}, [(7, 7, 1)]),  # exactly one window
        ({"filters": 2, "kernel": 4, "strides": 3, "padding": "same"}, [(1, 1, 3)]),
        ({"filters": 4, "kernel": 1, "activation": "relu"}, [(1, 1, 3)]),
        ({"filters": 16, "kernel": 11, "strides": 4}, [(227, 227, 3)]),  # AlexNet conv1
        (
            {
                "filters": 4,
                "kernel": 3,
                "kernel_initializer": "he_normal",
                "bias_initializer": "ones",
            },
            [(5, 5, 2)],
        ),
        (
            {
                "filters": 8,
                "kernel": 1,
                "use_bias": False,
                "kernel_initializer": EFFICIENTNET_CONV_INIT,
            },
            [(4, 4, 3)],
        ),
        (
            {
                "filters": 2,
                "kernel": 3,
                "kernel_initializer": "orthogonal",
                "bias_initializer": {"class_name": "constant", "config": {"value": 0.1}},
            },
            [(4, 4, 3)],
        ),
    ],
    "depthwise_conv": [
        ({"kernel": 3}, [(8, 8, 4)]),
        ({"kernel": 3, "strides": 2, "padding": "same"}, [(15, 15, 3)]),
        ({"kernel": [3, 1], "depth_multiplier": 3}, [(6, 5, 2)]),
        ({"kernel": 3, "dilation_rate": 2, "padding": "same", "use_bias": False}, [(9, 9, 3)]),
        ({"kernel": 5, "strides": [2, 3], "depth_multiplier": 2}, [(11, 13, 2)]),
        ({"kernel": 1, "activation": "relu6"}, [(1, 1, 5)]),
        (
            {
                "kernel": 3,
                "padding": "same",
                "use_bias": False,
                "depthwise_initializer": EFFICIENTNET_CONV_INIT,
            },
            [(6, 6, 4)],
        ),
        (
            {
                "kernel": 3,
                "depthwise_initializer": "lecun_uniform",
                "bias_initializer": "random_normal",
            },
            [(5, 5, 2)],
        ),
    ],
    "separable_conv": [
        ({"filters": 8, "kernel": 3}, [(10, 10, 4)]),
        (
            {"filters": 8, "kernel": 3, "strides": 2, "padding": "same", "depth_multiplier": 2},
            [(9, 9, 3)],
        ),
        ({"filters": 5, "kernel": [1, 3], "dilation_rate": [1, 2], "use_bias": False}, [(6, 8, 3)]),
        ({"filters": 2, "kernel": 1}, [(1, 1, 3)]),
        (
            {
                "filters": 4,
                "kernel": 3,
                "depthwise_initializer": "he_uniform",
                "pointwise_initializer": {"class_name": "Orthogonal", "config": {"gain": 0.5}},
                "bias_initializer": {"class_name": "Constant", "config": {"value": 0.1}},
            },
            [(6, 6, 3)],
        ),
    ],
    "conv_transpose": [
        ({"filters": 4, "kernel": 3}, [(5, 5, 3)]),
        ({"filters": 4, "kernel": 3, "strides": 2}, [(5, 5, 3)]),
        ({"filters": 4, "kernel": 2, "strides": 3}, [(5, 4, 3)]),  # kernel < stride
        ({"filters": 4, "kernel": 3, "strides": 2, "padding": "same"}, [(5, 6, 3)]),
        (
            {
                "filters": 4,
                "kernel": [3, 4],
                "strides": [2, 3],
                "padding": "same",
                "output_padding": [1, 2],
            },
            [(5, 5, 3)],
        ),
        ({"filters": 4, "kernel": 3, "strides": 2, "output_padding": 0}, [(5, 5, 3)]),
        (
            {"filters": 4, "kernel": 4, "strides": 2, "padding": "same", "output_padding": 1},
            [(4, 4, 2)],
        ),
        ({"filters": 2, "kernel": 3, "dilation_rate": 2}, [(4, 4, 3)]),
        ({"filters": 3, "kernel": 3, "dilation_rate": 2, "padding": "same"}, [(4, 5, 3)]),
        ({"filters": 1, "kernel": 1, "use_bias": False}, [(1, 1, 1)]),
        (
            {
                "filters": 3,
                "kernel": 2,
                "strides": 2,
                "kernel_initializer": "truncated_normal",
                "bias_initializer": {
                    "class_name": "RandomUniform",
                    "config": {"minval": -0.1, "maxval": 0.1, "seed": 7},
                },
            },
            [(3, 3, 2)],
        ),
    ],
    "dense": [
        ({"units": 10}, [(64,)]),
        ({"units": 7, "use_bias": False}, [(3,)]),
        ({"units": 4, "activation": "softmax"}, [(5, 6, 3)]),  # acts on the last axis only
        ({"units": 1}, [(1,)]),
        (
            {"units": 10, "activation": "softmax", "kernel_initializer": EFFICIENTNET_DENSE_INIT},
            [(32,)],
        ),  # EfficientNet's predictions
        ({"units": 3, "kernel_initializer": "identity", "bias_initializer": "he_normal"}, [(5,)]),
        (
            {
                "units": 2,
                "kernel_initializer": {"class_name": "glorot_normal", "config": {"seed": 1}},
            },
            [(4, 3)],
        ),
    ],
    "dropout": [
        ({"rate": 0.5}, [(10,)]),
        ({"rate": 0.0}, [(4, 4, 3)]),
        ({"rate": 0.2, "noise_shape": [None, 1, 1, 1]}, [(4, 4, 3)]),  # EfficientNet's
        ({"rate": 0.5, "noise_shape": [1, 5, 1]}, [(5, 3)]),
        ({"rate": 0.3, "noise_shape": [None, None]}, [(7,)]),
    ],
    "bn": [
        ({}, [(8, 8, 16)]),
        ({"center": False}, [(4, 4, 3)]),
        ({"scale": False, "epsilon": 1.001e-5}, [(10,)]),
        ({"center": False, "scale": False, "momentum": 0.9}, [(2, 3, 5)]),
    ],
    "layer_norm": [
        ({}, [(8, 8, 16)]),
        ({"axis": 1}, [(4, 5, 3)]),
        ({"axis": -2, "center": False}, [(4, 5, 3)]),
        ({"scale": False, "epsilon": 1e-5}, [(10,)]),
        ({"center": False, "scale": False}, [(2, 3, 5)]),
        ({"axis": 2}, [(6, 7)]),
    ],
    "normalization": [
        ({}, [(224, 224, 3)]),  # EfficientNet's: mean, variance and count, 7 fixed weights
        ({"axis": 1}, [(4, 5, 3)]),
        ({"mean": [0.485, 0.456, 0.406], "variance": [0.052441, 0.050176, 0.050625]}, [(8, 8, 3)]),
        (
            {"axis": -2, "mean": [0.0, 1.0, 2.0, 3.0, 4.0], "variance": [1.0, 1.0, 4.0, 0.5, 2.0]},
            [(4, 5, 3)],
        ),
        ({}, [(6,)]),
    ],
    "activation": [
        ({"activation": "relu"}, [(4, 4, 3)]),
        ({"activation": "swish"}, [(5,)]),
        ({"activation": "hard_swish"}, [(2, 2, 2)]),
        ({"activation": "log_softmax"}, [(3, 7)]),
    ],
    "relu": [
        ({}, [(4, 4, 3)]),
        ({"max_value": 6.0}, [(5,)]),
        ({"negative_slope": 0.1, "threshold": 0.5}, [(2, 3, 4)]),
    ],
    "relu6": [({}, [(4, 4, 3)])],
    "leaky_relu": [({}, [(4, 4, 3)]), ({"negative_slope": 0.2}, [(7,)])],
    "softmax": [
        ({}, [(10,)]),
        ({"axis": 1}, [(4, 5, 6)]),
        ({"axis": -2}, [(4, 5, 6)]),
    ],
    "sigmoid": [({}, [(4, 4, 3)])],
    "tanh": [({}, [(3,)])],
    "max_pool": [
        ({}, [(32, 32, 3)]),
        ({}, [(7, 5, 2)]),  # odd sizes floor
        ({"pool": 3, "strides": 2}, [(7, 7, 2)]),
        ({"pool": 3, "strides": 2, "padding": "same"}, [(7, 7, 2)]),
        ({"pool": [2, 3]}, [(5, 7, 1)]),
        ({"pool": 3, "strides": [1, 2]}, [(5, 6, 2)]),
        ({"pool": 2, "strides": 1, "padding": "same"}, [(1, 1, 4)]),
    ],
    "avg_pool": [
        ({}, [(8, 8, 3)]),
        ({"pool": 3, "strides": 2}, [(9, 10, 2)]),
        ({"pool": 3, "strides": 1, "padding": "same"}, [(5, 5, 2)]),
        ({"pool": [1, 2], "strides": [2, 1]}, [(5, 5, 1)]),
        ({"pool": 7}, [(7, 7, 4)]),
    ],
    "global_avg_pool": [({}, [(7, 7, 8)]), ({"keepdims": True}, [(1, 1, 3)])],
    "global_max_pool": [({}, [(1, 1, 3)]), ({"keepdims": True}, [(5, 3, 2)])],
    "zero_pad": [
        ({}, [(4, 4, 3)]),
        ({"padding": 3}, [(5, 5, 1)]),
        ({"padding": [1, 2]}, [(3, 4, 2)]),
        ({"padding": [[0, 1], [2, 3]]}, [(1, 1, 2)]),
    ],
    "crop": [
        ({}, [(3, 3, 1)]),
        ({"cropping": 1}, [(5, 5, 3)]),
        ({"cropping": [1, 2]}, [(3, 5, 2)]),
        ({"cropping": [[0, 1], [2, 0]]}, [(4, 6, 2)]),
    ],
    "flatten": [({}, [(7, 7, 2)]), ({}, [(5,)]), ({}, [(1, 1, 1)])],
    "reshape": [
        ({"target_shape": [-1]}, [(4, 4, 3)]),
        ({"target_shape": [4, -1]}, [(2, 2, 6)]),
        ({"target_shape": [1, 1, 12]}, [(12,)]),
        ({"target_shape": [3, 2, 2]}, [(4, 3)]),
        ({"target_shape": [-1, 1, 5]}, [(1, 1, 5)]),
    ],
    "upsample": [
        ({}, [(3, 3, 2)]),
        ({"size": [2, 3], "interpolation": "bilinear"}, [(2, 5, 1)]),
        ({"size": 1}, [(1, 1, 3)]),
    ],
    "rescaling": [
        ({"scale": 1 / 255}, [(8, 8, 3)]),
        ({"scale": 2.0, "offset": -1.0}, [(5,)]),
    ],
    "add": [
        ({}, [(4, 4, 3), (4, 4, 3)]),
        ({}, [(2, 2, 5), (2, 2, 5), (2, 2, 5)]),
        ({}, [(4, 4, 3), (1, 1, 3)]),  # broadcast
        ({}, [(1, 4, 3), (5, 1, 3)]),  # broadcast both ways
        ({}, [(7,), (7,)]),
    ],
    "subtract": [({}, [(4, 4, 3), (4, 4, 3)]), ({}, [(3, 1), (3, 6)])],
    "multiply": [
        ({}, [(6, 6, 8), (1, 1, 8)]),  # squeeze-and-excitation gating
        ({}, [(2, 3), (2, 3), (2, 3)]),
    ],
    "average": [({}, [(4, 4, 3), (4, 4, 3)]), ({}, [(1, 1, 2), (3, 3, 2), (3, 3, 1)])],
    "maximum": [({}, [(4, 4, 3), (4, 4, 3)]), ({}, [(5,), (1,)])],
    "minimum": [({}, [(4, 4, 3), (4, 1, 3)])],
    "concat": [
        ({}, [(4, 4, 3), (4, 4, 5), (4, 4, 1)]),
        ({"axis": 1}, [(2, 4, 3), (5, 4, 3)]),  # along height
        ({"axis": -2}, [(4, 2, 3), (4, 6, 3)]),  # along width
        ({"axis": 2}, [(4, 4, 3), (4, 1, 3)]),
        ({}, [(4, 4, 3)]),  # a single input
        ({}, [(3,), (5,)]),
    ],
    "layer_scale": [
        ({"projection_dim": 96}, [(56, 56, 96)]),  # ConvNeXt-T's stage 1, γ = 1e-6
        ({"projection_dim": 3, "init_values": 0.5}, [(3,)]),
        ({"projection_dim": 4, "init_values": 0.0}, [(2, 5, 3, 4)]),
        ({"projection_dim": 8}, [(16, 9, 8)]),  # not square: Keras's EinsumDense with `...` errs
    ],
}

# The Keras layer class of each op; checked against the Keras backend's table too.
KERAS_CLASS = {
    "conv": "Conv2D", "depthwise_conv": "DepthwiseConv2D", "separable_conv": "SeparableConv2D",
    "conv_transpose": "Conv2DTranspose", "dense": "Dense", "dropout": "Dropout",
    "bn": "BatchNormalization", "layer_norm": "LayerNormalization",
    "normalization": "Normalization", "activation": "Activation", "relu": "ReLU", "relu6": "ReLU",
    "leaky_relu": "LeakyReLU", "softmax": "Softmax", "sigmoid": "Activation",
    "tanh": "Activation", "max_pool": "MaxPooling2D", "avg_pool": "AveragePooling2D",
    "global_avg_pool": "GlobalAveragePooling2D", "global_max_pool": "GlobalMaxPooling2D",
    "zero_pad": "ZeroPadding2D", "crop": "Cropping2D", "flatten": "Flatten",
    "reshape": "Reshape", "upsample": "UpSampling2D", "rescaling": "Rescaling", "add": "Add",
    "subtract": "Subtract", "multiply": "Multiply", "average": "Average", "maximum": "Maximum",
    "minimum": "Minimum", "concat": "Concatenate", "layer_scale": "EinsumDense",
}  # fmt: skip
# Our argument names that Keras spells differently.
RENAME = {"kernel": "kernel_size", "pool": "pool_size"}
# Ops whose fixed arguments are implied by the op kind.
FIXED: dict[str, Args] = {
    "relu6": {"max_value": 6.0},
    "sigmoid": {"activation": "sigmoid"},
    "tanh": {"activation": "tanh"},
}

PARAMS = [
    pytest.param(kind, args, shapes, id=f"{kind}-{i}")
    for kind, cases in CASES.items()
    for i, (args, shapes) in enumerate(cases)
]


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


def to_keras(keras: Any, kind: str, args: Args) -> Any:
    """The Keras layer equivalent to op `kind` with our (raw, user-spelled) `args`."""
    kwargs = {RENAME.get(k, k): _tuples(v) for k, v in args.items()}
    kwargs.update(FIXED.get(kind, {}))
    if kind == "avg_pool":  # Keras 3 has no default here; we keep MaxPooling2D's (2, 2) for both
        kwargs.setdefault("pool_size", (2, 2))
    if kind == "layer_scale":  # the reference is keras.applications' own LayerScale
        from keras.src.applications.convnext import LayerScale

        class Traced(LayerScale):  # its shape by tracing its call (it has no shape rule)
            def compute_output_shape(self, input_shape: Any) -> Any:
                probe = LayerScale(self.init_values, self.projection_dim)
                return probe(keras.KerasTensor(input_shape)).shape

        return Traced(args.get("init_values", 1e-6), args["projection_dim"])
    return getattr(keras.layers, KERAS_CLASS[kind])(**kwargs)


def infer(kind: str, args: Args, shapes: Shapes) -> Inferred:
    return OPS[kind].model_validate(args).infer(list(shapes))


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def hand_macs(kind: str, args: Args, shapes: Shapes, out: tuple[int, ...]) -> int:
    """Multiply-accumulates by the textbook formulas, independent of the ops' own code."""
    kh, kw = _pair(args.get("kernel", 1))
    cin = shapes[0][-1]
    if kind == "conv":  # each output value: a kh×kw×(cin/groups) dot product
        return out[0] * out[1] * kh * kw * (cin // args.get("groups", 1)) * args["filters"]
    if kind == "depthwise_conv":  # each output channel sees a single input channel
        return out[0] * out[1] * kh * kw * cin * args.get("depth_multiplier", 1)
    if kind == "separable_conv":  # depthwise, then a 1×1 conv over the cin·dm channels
        mid = cin * args.get("depth_multiplier", 1)
        return out[0] * out[1] * (kh * kw * mid + mid * args["filters"])
    if kind == "conv_transpose":  # each input value scatters a kh×kw×filters patch
        h, w, _ = shapes[0]
        return h * w * cin * kh * kw * args["filters"]
    if kind == "dense":
        return math.prod(shapes[0][:-1]) * cin * args["units"]
    return 0  # MACs count convolutions and dense layers only (docs/contracts.md)


@pytest.fixture(scope="module")
def keras() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("keras")


def _size(weights: list[Any]) -> int:
    return sum(math.prod(w.shape) for w in weights)


# --- agreement with Keras ---------------------------------------------------------------------


def test_every_op_has_cases() -> None:
    assert set(CASES) == set(OPS)
    assert set(KERAS_CLASS) == set(OPS)


def test_the_keras_emitter_table_has_the_op_tables_keys() -> None:
    assert set(EMITTERS) == set(OPS)


@pytest.mark.parametrize("kind", sorted(OPS))
def test_keras_layer_attribute(kind: str) -> None:
    assert keras_layer(kind) == KERAS_CLASS[kind]
    assert OPS[kind].kind == kind
    assert OPS[kind].summary(), f"op '{kind}' needs a docstring"


@pytest.mark.parametrize(("kind", "args", "shapes"), PARAMS)
def test_matches_keras(keras: Any, kind: str, args: Args, shapes: Shapes) -> None:
    lo, hi = OPS[kind].arity
    assert lo <= len(shapes) and (hi is None or len(shapes) <= hi)
    ours = infer(kind, args, shapes)

    layer = to_keras(keras, kind, args)
    multi = OPS[kind].arity != (1, 1)
    batched = [(None, *s) for s in shapes] if multi else (None, *shapes[0])
    keras_shape = tuple(layer.compute_output_shape(batched))
    assert keras_shape[0] is None
    assert ours.shape == keras_shape[1:]

    layer.build(batched)
    assert ours.trainable + ours.non_trainable == layer.count_params()
    assert ours.trainable == _size(layer.trainable_weights)
    assert ours.non_trainable == _size(layer.non_trainable_weights)

    assert ours.macs == hand_macs(kind, args, shapes, ours.shape)


@pytest.mark.parametrize(("kind", "args", "shapes"), PARAMS)
def test_forward_pass(keras: Any, kind: str, args: Args, shapes: Shapes) -> None:
    """A real tensor through the real layer has the inferred shape."""
    import numpy as np

    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((1, *s)).astype("float32") for s in shapes]
    layer = to_keras(keras, kind, args)
    y = layer(xs if OPS[kind].arity != (1, 1) else xs[0])
    assert tuple(y.shape) == (1, *infer(kind, args, shapes).shape)


@pytest.mark.parametrize(("kind", "args", "shapes"), PARAMS)
def test_defaults_match_keras(keras: Any, kind: str, args: Args, shapes: Shapes) -> None:
    """Our filled-in, normalised arguments configure Keras exactly as the user's raw ones do."""
    normalised = OPS[kind].model_validate(args).model_dump()
    raw = to_keras(keras, kind, args).get_config()
    full = to_keras(keras, kind, normalised).get_config()
    raw.pop("name")
    full.pop("name")
    assert full == raw


def test_activation_names_exist_in_keras(keras: Any) -> None:
    for name in typing.get_args(ActivationName):
        assert callable(keras.activations.get(name)), name


@pytest.mark.parametrize(
    ("args", "shape", "macs"),
    [
        # VGG16 block1_conv2: 224·224·3·3·64·64
        (("conv", {"filters": 64, "kernel": 3, "padding": "same"}), (224, 224, 64), 1_849_688_064),
        # ResNet50 conv1_conv after 3-pixel padding: 112·112·7·7·3·64
        (("conv", {"filters": 64, "kernel": 7, "strides": 2}), (230, 230, 3), 118_013_952),
        # grouped: 8·8·3·3·(16/4)·32
        (("conv", {"filters": 32, "kernel": 3, "groups": 4, "padding": "same"}), (8, 8, 16),
         73_728),
        # MobileNet conv_dw_2 (stride 2): 56·56·3·3·64
        (("depthwise_conv", {"kernel": 3, "strides": 2, "padding": "same"}), (112, 112, 64),
         1_806_336),
        # 5·5 output · (3·3·6 depthwise + 6·10 pointwise), depth_multiplier 2 on 3 channels
        (("separable_conv", {"filters": 10, "kernel": 3, "depth_multiplier": 2}), (7, 7, 3), 2_850),
        # 4·4 inputs · 3·3 · 8 in · 2 out
        (("conv_transpose", {"filters": 2, "kernel": 3, "strides": 2}), (4, 4, 8), 2_304),
        # VGG16 fc1: 25088·4096
        (("dense", {"units": 4096}), (25088,), 102_760_448),
    ],
)  # fmt: skip
def test_macs_by_hand(args: tuple[str, Args], shape: tuple[int, ...], macs: int) -> None:
    kind, kwargs = args
    assert infer(kind, kwargs, [shape]).macs == macs


# --- shape errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "args", "shapes", "message"),
    [
        ("max_pool", {"pool": 5}, [(4, 4, 3)], "shrinks 4×4×3 to 0×0×3"),
        ("avg_pool", {"pool": 3, "strides": 1}, [(2, 9, 3)], "shrinks 2×9×3 to 0×7×3"),
        ("conv", {"filters": 8, "kernel": 5}, [(4, 4, 3)], "shrinks 4×4×3 to 0×0×8"),
        ("conv", {"filters": 8, "kernel": 3, "dilation_rate": 3}, [(6, 9, 3)], "to 0×3×8"),
        ("conv", {"filters": 2, "kernel": [1, 9]}, [(9, 8, 3)], "shrinks 9×8×3 to 9×0×2"),
        ("depthwise_conv", {"kernel": 3, "depth_multiplier": 2}, [(2, 2, 3)], "to 0×0×6"),
        ("separable_conv", {"filters": 4, "kernel": 4}, [(3, 5, 2)], "shrinks 3×5×2 to 0×2×4"),
        ("crop", {"cropping": 2}, [(4, 4, 3)], "turns 4×4×3 into 0×0×3"),
        ("crop", {"cropping": [[0, 0], [3, 3]]}, [(4, 5, 3)], "turns 4×5×3 into 4×-1×3"),
        ("conv", {"filters": 6, "kernel": 3, "groups": 4}, [(8, 8, 6)], "groups=4 must divide"),
        ("conv", {"filters": 8, "kernel": 3, "groups": 2}, [(8, 8, 3)], "input channels (3)"),
        ("conv", {"filters": 8, "kernel": 3}, [(8, 8)], "needs a H×W×C input, got 8×8"),
        ("max_pool", {}, [(8,)], "needs a H×W×C input"),
        ("global_avg_pool", {}, [(4, 4, 3, 2)], "needs a H×W×C input"),
        ("concat", {}, [(4, 4, 3), (5, 4, 3)], "got 4×4×3 and 5×4×3"),
        ("concat", {"axis": 1}, [(4, 4, 3), (4, 4, 2)], "on axis 1"),
        ("concat", {}, [(4, 4, 3), (4, 3)], "got 4×4×3 and 4×3"),
        ("concat", {"axis": 0}, [(4, 4, 3), (4, 4, 3)], "axis 0 is not a feature axis"),
        ("concat", {"axis": 4}, [(4, 4, 3), (4, 4, 3)], "axis 4 is not a feature axis"),
        ("softmax", {"axis": -4}, [(4, 4, 3)], "axis -4"),
        ("add", {}, [(4, 4, 3), (4, 4, 5)], "needs equal shapes, got 4×4×3 and 4×4×5"),
        ("add", {}, [(4, 4, 3), (3,)], "needs equal shapes"),
        ("multiply", {}, [(4, 4, 3), (2, 4, 3)], "got 4×4×3 and 2×4×3"),
        ("layer_scale", {"projection_dim": 5}, [(4, 4, 3)], "projection_dim 5 must be the"),
        ("subtract", {}, [(8,), (9,)], "got 8 and 9"),
        ("reshape", {"target_shape": [5, 5]}, [(4, 4)], "cannot turn 4×4 (16 values) into 5×5"),
        ("reshape", {"target_shape": [5, -1]}, [(4, 4)], "cannot fit 4×4 (16 values) into"),
        ("reshape", {"target_shape": [-1, -1]}, [(4, 4)], "one -1"),
        ("reshape", {"target_shape": [0, 16]}, [(4, 4)], "no 0"),
        (
            "conv_transpose",
            {"filters": 4, "kernel": 3, "strides": 2, "output_padding": 2},
            [(5, 5, 3)],
            "output_padding [2, 2] must be smaller than strides [2, 2]",
        ),
        (
            "conv_transpose",
            {"filters": 4, "kernel": 3, "strides": [2, 1], "output_padding": [1, 1]},
            [(5, 5, 3)],
            "must be smaller than strides [2, 1]",
        ),
        ("conv", {"filters": 4, "kernel": 3, "strides": 2, "dilation_rate": 2}, [(9, 9, 3)],
         "strides > 1 with dilation_rate > 1"),
        ("conv", {"filters": 4, "kernel": 3, "strides": [1, 2], "dilation_rate": [2, 1]},
         [(9, 9, 3)], "strides > 1 with dilation_rate > 1"),
        ("conv_transpose", {"filters": 4, "kernel": 3, "strides": 2, "dilation_rate": 2},
         [(5, 5, 3)], "strides > 1 with dilation_rate > 1"),
        # stricter than Keras: its TF backend runs these two, but TF documents them unsupported
        ("depthwise_conv", {"kernel": 3, "strides": 2, "dilation_rate": 2}, [(9, 9, 3)],
         "strides > 1 with dilation_rate > 1"),
        ("separable_conv", {"filters": 4, "kernel": 3, "strides": 2, "dilation_rate": 2},
         [(9, 9, 3)], "strides > 1 with dilation_rate > 1"),
        ("layer_norm", {"axis": 0}, [(4, 4, 3)], "axis 0 is not a feature axis"),
        ("layer_norm", {"axis": -4}, [(4, 4, 3)], "axis -4 is not a feature axis"),
        ("normalization", {"axis": 3}, [(4, 3)], "axis 3 is not a feature axis of a 4×3 input"),
        ("normalization", {"mean": [0.5, 0.5], "variance": [1.0, 1.0]}, [(4, 4, 3)],
         "mean has 2 values; axis -1 of 4×4×3 has 3"),
        ("normalization", {"axis": 1, "mean": [0.0] * 4, "variance": [1.0] * 5}, [(4, 4, 3)],
         "variance has 5 values; axis 1 of 4×4×3 has 4"),
        ("normalization", {"mean": [0.5, 0.5, 0.5]}, [(4, 4, 3)], "mean and variance together"),
        ("normalization", {"variance": [1.0]}, [(1,)], "mean and variance together"),
        ("dropout", {"rate": 0.5, "noise_shape": [None, 1, 1]}, [(4, 4, 3)],
         "noise_shape [null, 1, 1] needs 4 items (the batch and each axis of 4×4×3)"),
        ("dropout", {"rate": 0.5, "noise_shape": [None, 1, 1, 1, 1]}, [(4, 4, 3)], "needs 4 items"),
        ("dropout", {"rate": 0.5, "noise_shape": [None, 2, 1, 1]}, [(4, 4, 3)],
         "item 2 must be null, 1 or 4 (axis 1 of 4×4×3)"),
        ("dropout", {"rate": 0.5, "noise_shape": [None, 5]}, [(3,)], "item 2 must be null, 1 or 3"),
        ("dropout", {"rate": 0.5, "noise_shape": [8, 1]}, [(3,)], "must start with null or 1"),
    ],
)  # fmt: skip
def test_shape_errors(kind: str, args: Args, shapes: Shapes, message: str) -> None:
    op = OPS[kind].model_validate(args)
    with pytest.raises(ShapeError, match=re.escape(message)):
        op.infer(list(shapes))


@pytest.mark.parametrize(
    ("kind", "args", "shapes"),
    [
        ("max_pool", {"pool": 5}, [(4, 4, 3)]),
        ("conv", {"filters": 8, "kernel": 5}, [(4, 4, 3)]),
        ("conv", {"filters": 8, "kernel": 3, "groups": 2}, [(8, 8, 3)]),
        ("crop", {"cropping": 2}, [(4, 4, 3)]),
        ("concat", {}, [(4, 4, 3), (5, 4, 3)]),
        ("add", {}, [(4, 4, 3), (4, 4, 5)]),
        ("reshape", {"target_shape": [5, 5]}, [(4, 4)]),
        ("conv_transpose", {"filters": 4, "kernel": 3, "strides": 2, "output_padding": 2},
         [(5, 5, 3)]),
        ("conv", {"filters": 4, "kernel": 3, "strides": 2, "dilation_rate": 2}, [(9, 9, 3)]),
        ("conv_transpose", {"filters": 4, "kernel": 3, "strides": 2, "dilation_rate": 2},
         [(5, 5, 3)]),
        ("layer_norm", {"axis": 4}, [(4, 4, 3)]),
        ("layer_norm", {"axis": 0}, [(4, 4, 3)]),
        ("normalization", {"axis": 0}, [(4, 4, 3)]),
        ("normalization", {"mean": [0.5, 0.5], "variance": [1.0, 1.0]}, [(4, 4, 3)]),
        ("normalization", {"mean": [0.5, 0.5, 0.5]}, [(4, 4, 3)]),
        ("layer_scale", {"projection_dim": 5}, [(4, 4, 3)]),
    ],
)  # fmt: skip
def test_keras_refuses_what_we_refuse(keras: Any, kind: str, args: Args, shapes: Shapes) -> None:
    """Our ShapeErrors are real: Keras refuses the same layer, so `check` foresees a bad build."""
    with pytest.raises(ShapeError):
        infer(kind, args, shapes)
    multi = OPS[kind].arity != (1, 1)
    batched = [(None, *s) for s in shapes] if multi else (None, *shapes[0])
    try:
        to_keras(keras, kind, args).build(batched)
        out = to_keras(keras, kind, args).compute_output_shape(batched)
    except Exception:  # a ValueError; LayerNormalization's IndexError; TensorFlow's own error
        return  # Keras refuses it too (Keras ≥ 3.14 refuses all of these)
    # older Keras builds such a layer and infers an empty output: no usable layer either
    sizes = [d for d in (out if isinstance(out[0], (int, type(None))) else out[0]) if d is not None]
    assert min(sizes) <= 0, f"Keras builds this layer, with output {out}"


def test_errors_name_where_shapes_come_from() -> None:
    a, b = Tensor.of((28, 28, 512), "conv3_block1_3_bn"), Tensor.of((56, 56, 256), "conv2_out")
    with pytest.raises(ShapeError) as e:
        OPS["add"]().infer([a, b])
    assert "28×28×512 (from conv3_block1_3_bn) and 56×56×256 (from conv2_out)" in str(e.value)
    with pytest.raises(ShapeError, match=re.escape("shrinks 4×4×3 (from x) to 0×0×3")):
        OPS["max_pool"](pool=5).infer([Tensor.of((4, 4, 3), "x")])


# --- argument validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "args"),
    [
        ("conv", {"filters": 0, "kernel": 3}),
        ("conv", {"filters": -8, "kernel": 3}),
        ("conv", {"filters": True, "kernel": 3}),  # bool is not an int here
        ("conv", {"filters": 8.0, "kernel": 3}),
        ("conv", {"filters": "8", "kernel": 3}),
        ("conv", {"filters": 8, "kernel": -3}),
        ("conv", {"filters": 8, "kernel": 0}),
        ("conv", {"filters": 8, "kernel": True}),
        ("conv", {"filters": 8, "kernel": [3]}),
        ("conv", {"filters": 8, "kernel": [3, 3, 3]}),
        ("conv", {"filters": 8, "kernel": [3, False]}),
        ("conv", {"filters": 8, "kernel": 3, "padding": "sme"}),
        ("conv", {"filters": 8, "kernel": 3, "padding": "SAME"}),
        ("conv", {"filters": 8, "kernel": 3, "strides": 0}),
        ("conv", {"filters": 8, "kernel": 3, "dilation_rate": 0}),
        ("conv", {"filters": 8, "kernel": 3, "groups": 0}),
        ("conv", {"filters": 8, "kernel": 3, "use_bias": "yes"}),
        ("conv", {"filters": 8, "kernel": 3, "use_bias": 1}),
        ("conv", {"filters": 8, "kernel": 3, "activation": "relux"}),
        ("conv", {"filters": 8, "kernel": 3, "filter": 8}),  # unknown key
        ("conv", {"kernel": 3}),  # filters missing
        ("conv", {"filters": 8}),  # kernel missing
        ("conv", {"filters": 1 << 20, "kernel": 3}),
        ("depthwise_conv", {"kernel": 3, "depth_multiplier": 0}),
        ("depthwise_conv", {"kernel": 3, "filters": 8}),
        ("conv_transpose", {"filters": 4, "kernel": 3, "output_padding": -1}),
        ("dense", {"units": 0}),
        ("dense", {"units": 2.5}),
        ("dense", {"units": True}),
        ("dropout", {"rate": 1.0}),
        ("dropout", {"rate": -0.1}),
        ("dropout", {}),
        ("bn", {"epsilon": 0.0}),
        ("bn", {"momentum": 1.5}),
        ("bn", {"center": "false"}),
        ("activation", {"activation": "sigmod"}),
        ("activation", {}),
        ("relu", {"negative_slope": -0.1}),
        ("relu", {"max_value": -1.0}),
        ("relu", {"threshold": -1.0}),  # Keras refuses a negative threshold
        ("leaky_relu", {"negative_slope": -0.1}),
        ("softmax", {"axis": 1.0}),
        ("max_pool", {"pool": 0}),
        ("max_pool", {"pool": 2, "padding": "full"}),
        ("avg_pool", {"strides": 0}),
        ("global_avg_pool", {"keepdims": "yes"}),
        ("zero_pad", {"padding": -1}),
        ("zero_pad", {"padding": [1, 2, 3]}),
        ("crop", {"cropping": [[1, -1], [0, 0]]}),
        ("reshape", {"target_shape": []}),
        ("reshape", {"target_shape": [-2, 4]}),
        ("reshape", {"target_shape": 16}),
        ("upsample", {"size": 0}),
        ("upsample", {"interpolation": "cubic"}),
        ("rescaling", {}),
        ("concat", {"axis": "channels"}),
        ("relu6", {"max_value": 6.0}),
        ("add", {"axis": -1}),
        ("layer_norm", {"epsilon": 0.0}),
        ("layer_norm", {"axis": 1.0}),
        ("layer_norm", {"axis": [1, 2]}),
        ("layer_norm", {"center": "no"}),
        ("normalization", {"mean": []}),
        ("normalization", {"mean": "0.5"}),
        ("normalization", {"mean": [0.5, "1"]}),
        ("normalization", {"mean": [float("inf")], "variance": [1.0]}),
        ("normalization", {"mean": [0.0], "variance": [-1.0]}),
        ("normalization", {"invert": True}),
        ("dropout", {"rate": 0.5, "noise_shape": [None, 0]}),
        ("dropout", {"rate": 0.5, "noise_shape": [None, -1]}),
        ("dropout", {"rate": 0.5, "noise_shape": [None, True]}),
        ("dropout", {"rate": 0.5, "noise_shape": [None, 1.0]}),
        ("dropout", {"rate": 0.5, "noise_shape": [None]}),
        ("dropout", {"rate": 0.5, "noise_shape": "batch"}),
        ("layer_scale", {}),  # projection_dim missing
        ("layer_scale", {"projection_dim": 0}),
        ("layer_scale", {"projection_dim": 4, "init_values": "1e-6"}),
        ("layer_scale", {"projection_dim": 4, "init_values": float("nan")}),
        ("conv", {"filters": 8, "kernel": 3, "kernel_initializer": "glorot_unifrom"}),
        ("conv", {"filters": 8, "kernel": 3, "kernel_initializer": "GlorotUniform"}),
        ("conv", {"filters": 8, "kernel": 3, "kernel_initializer": "identity"}),  # 2-D only
        ("conv", {"filters": 8, "kernel": 3, "kernel_initializer": {"class_name": "Identity"}}),
        ("conv", {"filters": 8, "kernel": 3, "kernel_initializer": "constant"}),  # needs value
        ("conv", {"filters": 8, "kernel": 3, "kernel_initializer": None}),
        ("conv", {"filters": 8, "kernel": 3, "kernel_initializer": 0.1}),
        ("conv", {"filters": 8, "kernel": 3, "kernel_initializer": {"class_name": "Foo"}}),
        ("conv", {"filters": 8, "kernel": 3, "kernel_initializer": {"config": {}}}),
        ("conv", {"filters": 8, "kernel": 3,
                  "kernel_initializer": {"class_name": "Zeros", "module": "keras"}}),
        ("conv", {"filters": 8, "kernel": 3,
                  "kernel_initializer": {"class_name": "VarianceScaling", "config": {"scal": 2}}}),
        ("conv", {"filters": 8, "kernel": 3, "kernel_initializer": {
            "class_name": "VarianceScaling", "config": {"mode": "fan"}}}),
        ("conv", {"filters": 8, "kernel": 3, "kernel_initializer": {
            "class_name": "VarianceScaling", "config": {"scale": -2.0}}}),
        ("conv", {"filters": 8, "kernel": 3, "kernel_initializer": {
            "class_name": "HeNormal", "config": {"seed": True}}}),
        ("conv", {"filters": 8, "kernel": 3, "kernel_initializer": {
            "class_name": "HeNormal", "config": {"seed": [1]}}}),
        ("conv", {"filters": 8, "kernel": 3, "kernel_initializer": {
            "class_name": "RandomNormal", "config": {"stddev": "0.1"}}}),
        ("conv", {"filters": 8, "kernel": 3, "kernel_initializer": {
            "class_name": "RandomNormal", "config": {f"k{i}": 1 for i in range(9)}}}),
        ("conv", {"filters": 8, "kernel": 3, "bias_initializer": "orthogonal"}),  # 1-D bias
        ("conv", {"filters": 8, "kernel": 3, "bias_initializer": {"class_name": "Constant"}}),
        ("dense", {"units": 2, "bias_initializer": "identity"}),
        ("depthwise_conv", {"kernel": 3, "kernel_initializer": "he_normal"}),  # Keras: depthwise_
        ("separable_conv", {"filters": 2, "kernel": 3, "kernel_initializer": "he_normal"}),
        ("separable_conv", {"filters": 2, "kernel": 3, "pointwise_initializer": "identity"}),
    ],
)  # fmt: skip
def test_invalid_arguments(kind: str, args: Args) -> None:
    with pytest.raises(ValidationError):
        OPS[kind].model_validate(args)


@pytest.mark.parametrize(
    ("args", "shape"),
    [
        ({"rate": 0.5, "noise_shape": [None, 2, 1, 1]}, (4, 4, 3)),
        ({"rate": 0.5, "noise_shape": [None, 1, 5, 1]}, (4, 1, 3)),  # would grow axis 2
        ({"rate": 0.5, "noise_shape": [None, 1, 1, 1, 1]}, (4, 4, 3)),  # an axis too many
        ({"rate": 0.5, "noise_shape": [None, 4, 3]}, (4, 4, 3)),  # misaligned
        ({"rate": 0.5, "noise_shape": [3, 1]}, (3,)),  # a batch of 3 only
    ],
)
def test_keras_refuses_the_noise_shapes_we_refuse(keras: Any, args: Args, shape: tuple) -> None:
    """Keras takes any noise_shape when building and fails (or grows its output) only while
    training, with rate > 0: we say so when checking."""
    import numpy as np

    with pytest.raises(ShapeError):
        infer("dropout", args, [shape])
    x = np.ones((2, *shape), "float32")
    try:
        y = to_keras(keras, "dropout", args)(x, training=True)
    except Exception:  # TensorFlow's broadcast error
        return
    assert tuple(y.shape) != x.shape


def test_initializers_are_keras_own(keras: Any) -> None:
    """Every name and class we take is one of keras.initializers, and each config key we
    accept is an argument of that class's constructor."""
    import inspect

    from archcompiler.ops import initializers as ini

    for name in ini.NAMES:
        assert callable(keras.initializers.get(name)), name
    for spelled, cls in ini.CANONICAL.items():
        config = {k: 0.0 for k in ini.REQUIRED.get(cls, ())}
        obj = keras.initializers.get({"class_name": spelled, "config": config})
        assert type(obj).__name__ == cls
        assert set(ini.CLASSES[cls]) <= set(inspect.signature(type(obj).__init__).parameters)
    for name in ["glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal",
                 "lecun_uniform", "zeros", "ones", "random_normal", "random_uniform",
                 "truncated_normal", "orthogonal", "variance_scaling", "identity"]:  # fmt: skip
        assert name in ini.NAMES


@pytest.mark.parametrize(
    ("kind", "args", "shape"),
    [
        ("conv", {"filters": 2, "kernel": 3, "kernel_initializer": {"class_name": "Identity"}},
         (5, 5, 3)),
        ("dense", {"units": 2, "bias_initializer": {"class_name": "Orthogonal"}}, (4,)),
        ("dense", {"units": 2, "bias_initializer": {"class_name": "identity"}}, (4,)),
        ("dense", {"units": 2, "kernel_initializer": "constant"}, (4,)),
        ("conv", {"filters": 2, "kernel": 3, "kernel_initializer": {
            "class_name": "VarianceScaling", "config": {"mode": "fan"}}}, (5, 5, 3)),
        ("conv", {"filters": 2, "kernel": 3, "kernel_initializer": {
            "class_name": "VarianceScaling", "config": {"scale": -2.0}}}, (5, 5, 3)),
        ("conv", {"filters": 2, "kernel": 3, "kernel_initializer": {
            "class_name": "VarianceScaling", "config": {"scal": 2.0}}}, (5, 5, 3)),
        ("conv", {"filters": 2, "kernel": 3, "kernel_initializer": {
            "class_name": "HeNormal", "config": {"seed": "s"}}}, (5, 5, 3)),
        ("dense", {"units": 2, "bias_initializer": {"class_name": "Constant"}}, (4,)),
    ],
)  # fmt: skip
def test_keras_refuses_the_initializers_we_refuse(
    keras: Any, kind: str, args: Args, shape: tuple
) -> None:
    with pytest.raises(ValidationError):
        OPS[kind].model_validate(args)
    with pytest.raises((ValueError, TypeError, KeyError)):
        to_keras(keras, kind, args).build((None, *shape))


@pytest.mark.parametrize(
    ("kind", "args", "shape", "expected"),
    [
        (
            "conv",
            {"filters": 4, "kernel": 3, "bias_initializer": "ones", "kernel_initializer": {
                "class_name": "VarianceScaling",
                "config": {"scale": "$s", "mode": "fan_out", "distribution": "truncated_normal"},
            }},
            (8, 8, 3),
            {"kernel_initializer": ("VarianceScaling", {"scale": 2.0, "mode": "fan_out",
                                                         "distribution": "truncated_normal"}),
             "bias_initializer": ("Ones", {})},
        ),
        (
            "depthwise_conv",
            {"kernel": 3, "depthwise_initializer": "he_normal",
             "bias_initializer": {"class_name": "constant", "config": {"value": 0.5}}},
            (6, 6, 2),
            {"depthwise_initializer": ("HeNormal", {}),
             "bias_initializer": ("Constant", {"value": 0.5})},
        ),
        (
            "separable_conv",
            {"filters": 2, "kernel": 1, "depthwise_initializer": "lecun_normal",
             "pointwise_initializer": {"class_name": "Orthogonal", "config": {"gain": 0.5}}},
            (4, 4, 3),
            {"depthwise_initializer": ("LecunNormal", {}),
             "pointwise_initializer": ("Orthogonal", {"gain": 0.5}),
             "bias_initializer": ("Zeros", {})},
        ),
        (
            "conv_transpose",
            {"filters": 2, "kernel": 2, "kernel_initializer": "zeros",
             "bias_initializer": "random_uniform"},
            (3, 3, 2),
            {"kernel_initializer": ("Zeros", {}), "bias_initializer": ("RandomUniform", {})},
        ),
        (
            "dense",
            {"units": 3, "kernel_initializer": "identity",
             "bias_initializer": {"class_name": "RandomNormal", "config": {"seed": 3}}},
            (5,),
            {"kernel_initializer": ("Identity", {}),
             "bias_initializer": ("RandomNormal", {"seed": 3})},
        ),
    ],
)  # fmt: skip
def test_initializers_reach_the_keras_layer(
    keras: Any, tmp_path: Any, kind: str, args: Args, shape: tuple, expected: dict
) -> None:
    """A compiled spec's initializers (a $expression inside a mapping too) configure the
    Keras layer build_model makes, and fill its weights."""
    import numpy as np
    import yaml

    from archcompiler.backends.keras import build_model
    from archcompiler.compiler import compile_file

    spec = {"archspec": 1, "name": "t", "params": {"s": 2.0}, "input": {"shape": list(shape)},
            "backbone": [{kind: {**args, "name": "x"}}]}  # fmt: skip
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    layer = build_model(compile_file(path)).get_layer("x")
    config = layer.get_config()
    for key, (cls, values) in expected.items():
        assert config[key]["class_name"] == cls, key
        assert values.items() <= config[key]["config"].items(), key
    weights = {w.path.rsplit("/", 1)[-1]: np.asarray(w) for w in layer.weights}
    if "bias_initializer" in args and args["bias_initializer"] == "ones":
        assert (weights["bias"] == 1).all()
    if kind == "depthwise_conv":
        assert (weights["bias"] == 0.5).all()
    if kind == "conv_transpose":
        assert not weights["kernel"].any()
    if kind == "dense":
        assert (weights["kernel"] == np.eye(5, 3)).all()


def test_unknown_argument_suggests_a_fix() -> None:
    from archcompiler.errors import SpecError
    from archcompiler.spec.loader import load_text
    from archcompiler.spec.validate import check_file

    doc = load_text(
        "archspec: 1\nname: t\ninput: {shape: [8, 8, 3]}\nbackbone:\n"
        "  - conv: {filters: 8, kernel: 3, filter: 8}\n"
    )
    with pytest.raises(SpecError, match=r"unknown argument 'filter' — did you mean 'filters'"):
        check_file(doc)


@pytest.mark.parametrize(
    ("kind", "args", "field", "value"),
    [
        ("conv", {"filters": 8, "kernel": 3}, "kernel", (3, 3)),
        ("conv", {"filters": 8, "kernel": [1, 7]}, "kernel", (1, 7)),
        ("conv", {"filters": 8, "kernel": 3, "strides": 2}, "strides", (2, 2)),
        ("max_pool", {}, "pool", (2, 2)),
        ("max_pool", {}, "strides", None),
        ("zero_pad", {"padding": 2}, "padding", ((2, 2), (2, 2))),
        ("zero_pad", {"padding": [1, 2]}, "padding", ((1, 1), (2, 2))),
        ("crop", {"cropping": [[0, 1], [2, 3]]}, "cropping", ((0, 1), (2, 3))),
        ("bn", {}, "epsilon", 1e-3),
        ("bn", {}, "momentum", 0.99),
        ("leaky_relu", {}, "negative_slope", 0.3),
    ],
)
def test_normalised_arguments(kind: str, args: Args, field: str, value: Any) -> None:
    assert getattr(OPS[kind].model_validate(args), field) == value


def test_ops_are_frozen() -> None:
    op = OPS["conv"].model_validate({"filters": 8, "kernel": 3})
    with pytest.raises(ValidationError):
        op.filters = 16  # type: ignore[misc]


def test_ops_that_stock_cpu_kernels_lack_still_run(tmp_path) -> None:
    """TensorFlow's stock CPU kernels refuse a depthwise conv with unequal strides and a
    dilated transposed conv; importing archcompiler turns on the oneDNN kernels, which run
    them (TensorFlow does so by default only on some CPUs). A fresh process with the variable
    unset, as a user's shell has it: a compiled spec with both ops predicts."""
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "archspec: 1\nname: s\ninput: {shape: [11, 13, 2]}\nbackbone:\n"
        "  - depthwise_conv: {kernel: 3, strides: [2, 3]}\n"
        "  - conv_transpose: {filters: 2, kernel: 3, dilation_rate: 2}\n"
    )
    probe = (
        "import numpy as np\n"
        "from archcompiler.compiler import compile_file\n"
        "from archcompiler.backends.keras import build_model\n"
        f"model = build_model(compile_file({str(spec)!r}))\n"
        "print('SHAPE', model.predict(np.ones((1, 11, 13, 2), 'float32'), verbose=0).shape)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "SHAPE (1, 9, 8, 2)" in out.stdout, out.stdout


@pytest.mark.parametrize("kind", sorted(OPS))
def test_keras_name_is_how_keras_names_the_layer_class(keras: Any, kind: str) -> None:
    """`naming: keras` names an unnamed node as Keras names an unnamed layer of its class."""
    from keras.src.utils.naming import to_snake_case

    assert OPS[kind].keras_name == to_snake_case(keras_layer(kind))
