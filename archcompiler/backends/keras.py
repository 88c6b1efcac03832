"""Graph → keras.Model: one core Keras layer per primitive node (DESIGN §2 step 4, §7).

The only module that imports TensorFlow/Keras. It never re-derives shapes: every layer gets its
name and arguments from the Graph, so the model's layer names, weight layout and parameter count
are the spec's. Only core layers (no Lambda, no custom classes): the saved `.keras` file loads
with plain `keras.saving.load_model`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's C++ log off the terminal

import keras
from keras import layers

from ..graph import Graph, Node


def _conv_args(a: Any) -> dict[str, Any]:
    return {
        "kernel_size": a.kernel, "strides": a.strides, "padding": a.padding,
        "dilation_rate": a.dilation_rate, "use_bias": a.use_bias, "activation": a.activation,
    }  # fmt: skip


def _pool_args(a: Any) -> dict[str, Any]:
    return {"pool_size": a.pool, "strides": a.strides or a.pool, "padding": a.padding}


# One emitter per primitive op: its validated args → the Keras layer (named by the caller).
EMITTERS: dict[str, Callable[[Any], dict[str, Any] | tuple[type, dict[str, Any]]]] = {
    "conv": lambda a: (layers.Conv2D, {"filters": a.filters, "groups": a.groups, **_conv_args(a)}),
    "depthwise_conv": lambda a: (
        layers.DepthwiseConv2D, {"depth_multiplier": a.depth_multiplier, **_conv_args(a)},
    ),
    "separable_conv": lambda a: (
        layers.SeparableConv2D,
        {"filters": a.filters, "depth_multiplier": a.depth_multiplier, **_conv_args(a)},
    ),
    "conv_transpose": lambda a: (
        layers.Conv2DTranspose,
        {"filters": a.filters, "output_padding": a.output_padding, **_conv_args(a)},
    ),
    "dense": lambda a: (
        layers.Dense, {"units": a.units, "use_bias": a.use_bias, "activation": a.activation},
    ),
    "dropout": lambda a: (layers.Dropout, {"rate": a.rate}),
    "bn": lambda a: (
        layers.BatchNormalization,
        {"axis": -1, "epsilon": a.epsilon, "momentum": a.momentum, "center": a.center,
         "scale": a.scale},
    ),
    "activation": lambda a: (layers.Activation, {"activation": a.activation}),
    "relu": lambda a: (
        layers.ReLU,
        {"max_value": a.max_value, "negative_slope": a.negative_slope, "threshold": a.threshold},
    ),
    "relu6": lambda a: (layers.ReLU, {"max_value": 6.0}),
    "leaky_relu": lambda a: (layers.LeakyReLU, {"negative_slope": a.negative_slope}),
    "softmax": lambda a: (layers.Softmax, {"axis": a.axis}),
    "sigmoid": lambda a: (layers.Activation, {"activation": "sigmoid"}),
    "tanh": lambda a: (layers.Activation, {"activation": "tanh"}),
    "max_pool": lambda a: (layers.MaxPooling2D, _pool_args(a)),
    "avg_pool": lambda a: (layers.AveragePooling2D, _pool_args(a)),
    "global_avg_pool": lambda a: (layers.GlobalAveragePooling2D, {"keepdims": a.keepdims}),
    "global_max_pool": lambda a: (layers.GlobalMaxPooling2D, {"keepdims": a.keepdims}),
    "zero_pad": lambda a: (layers.ZeroPadding2D, {"padding": a.padding}),
    "crop": lambda a: (layers.Cropping2D, {"cropping": a.cropping}),
    "flatten": lambda a: (layers.Flatten, {}),
    "reshape": lambda a: (layers.Reshape, {"target_shape": tuple(a.target_shape)}),
    "upsample": lambda a: (
        layers.UpSampling2D, {"size": a.size, "interpolation": a.interpolation},
    ),
    "rescaling": lambda a: (layers.Rescaling, {"scale": a.scale, "offset": a.offset}),
    "add": lambda a: (layers.Add, {}),
    "subtract": lambda a: (layers.Subtract, {}),
    "multiply": lambda a: (layers.Multiply, {}),
    "average": lambda a: (layers.Average, {}),
    "maximum": lambda a: (layers.Maximum, {}),
    "minimum": lambda a: (layers.Minimum, {}),
    "concat": lambda a: (layers.Concatenate, {"axis": a.axis}),
}  # fmt: skip


def make_layer(node: Node) -> keras.layers.Layer:
    """The Keras layer for one primitive node, named as the node."""
    cls, kwargs = EMITTERS[node.op](node.args)
    layer = cls(name=node.name, **kwargs)
    layer.trainable = node.trainable
    return layer


def build_model(graph: Graph) -> keras.Model:
    """The Keras functional model of `graph`, layer for node, in graph order."""
    tensors: dict[str, Any] = {}
    for node in graph:
        if node.op == "input":
            tensors[node.name] = keras.Input(shape=node.shape, name=node.name)
            continue
        args = [tensors[name] for name in node.inputs]
        tensors[node.name] = make_layer(node)(args[0] if len(args) == 1 else args)
    ins = [tensors[n] for n in graph.inputs]
    outs = [tensors[n] for n in graph.outputs]
    return keras.Model(
        inputs=ins[0] if len(ins) == 1 else ins,
        outputs=outs[0] if len(outs) == 1 else outs,
        name=graph.name,
    )


def load_weights(model: keras.Model, path: str) -> None:
    """Load a weights file: Keras 3 `.weights.h5`, or a legacy `.h5` (as keras.applications
    ships them) matched by layer name."""
    if path.endswith(".weights.h5"):
        model.load_weights(path)
    else:
        model.load_weights(path, by_name=True)


def count_params(model: keras.Model) -> tuple[int, int]:
    """(trainable, non-trainable) as Keras counts them."""
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    fixed = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    return trainable, fixed
