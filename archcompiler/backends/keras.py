"""The Keras backend (the `Backend` contract of backends/__init__.py): Graph → keras.Model, one
core Keras layer per primitive node.

The only module that turns a Graph into Keras (TensorFlow is imported here and by the training
commands in train/, never by check, summary, graph or schema). It never re-derives shapes: every
layer gets its name and arguments from the Graph, so the model's layer names, weight layout and
parameter count are the spec's. Only core layers (no Lambda, no custom classes): the saved
`.keras` file loads with plain `keras.saving.load_model`.
"""

from __future__ import annotations

import math
import os
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's C++ log off the terminal

import keras
from keras import layers

from ..graph import Graph, Node
from .keras_layers import EMITTERS


def make_layer(node: Node, dtype: str | None = None) -> keras.layers.Layer:
    """The Keras layer for one primitive node, named as the node."""
    class_name, emit = EMITTERS[node.op]
    cls, kwargs = getattr(layers, class_name), emit(node.args)
    if dtype is not None:
        kwargs["dtype"] = dtype
    layer = cls(name=node.name, **kwargs)
    layer.trainable = node.trainable
    return layer


def build_model(graph: Graph, dtype_policy: str | None = None) -> keras.Model:
    """The Keras functional model of `graph`, layer for node, in graph order.

    `dtype_policy` (e.g. "mixed_float16" for training on GPUs) applies to every layer but the
    outputs, which stay float32 so softmax and the loss keep their precision (Keras's mixed
    precision guide)."""
    tensors: dict[str, Any] = {}
    outputs = set(graph.outputs)
    for node in graph:
        if node.op == "input":
            tensors[node.name] = keras.Input(shape=node.shape, name=node.name)
            continue
        args = [tensors[name] for name in node.inputs]
        dtype = "float32" if dtype_policy and node.name in outputs else dtype_policy
        tensors[node.name] = make_layer(node, dtype)(args[0] if len(args) == 1 else args)
    ins = [tensors[n] for n in graph.inputs]
    outs = [tensors[n] for n in graph.outputs]
    return keras.Model(
        inputs=ins[0] if len(ins) == 1 else ins,
        outputs=outs[0] if len(outs) == 1 else outs,
        name=graph.name,
    )


def load_weights(model: keras.Model, path: str) -> str:
    """Load a weights file: Keras 3 `.weights.h5`, a legacy `.h5` (as keras.applications ships
    them) matched by layer name, or a saved `.keras` model matched by layer name. Returns what
    was loaded, for the report."""
    if path.endswith(".keras"):
        copied, total = copy_weights_by_name(model, path)
        if not copied:
            raise ValueError("no layer here has a layer of the same name and weight shapes there")
        return f"{copied} of {total} layers with weights, by name"
    if path.endswith(".weights.h5"):
        model.load_weights(path)
        return "all layers"
    model.load_weights(path, by_name=True)
    return "layers by name"


def save_model(model: keras.Model, path: str) -> None:
    """Write the model as a `.keras` file (core layers only: plain Keras loads it)."""
    model.save(path)


def count_params(model: keras.Model) -> tuple[int, int]:
    """(trainable, non-trainable) as Keras counts them."""
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    fixed = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    return trainable, fixed


def split_at(model: keras.Model, graph: Graph, boundary: str) -> tuple[keras.Model, keras.Model]:
    """(backbone, head) sharing `model`'s layers and weights: the backbone runs the input to
    node `boundary`; the head takes a tensor of that node's shape through the head's layers.
    Training the head trains `model`'s head (feature extraction, Chollet §5.3)."""
    backbone = keras.Model(model.inputs, model.get_layer(boundary).output, name="backbone")
    tensors: dict[str, Any] = {boundary: keras.Input(shape=graph.nodes[boundary].shape)}
    for node in graph:
        if node.section == "head":
            args = [tensors[name] for name in node.inputs]
            layer = model.get_layer(node.name)
            tensors[node.name] = layer(args[0] if len(args) == 1 else args)
    head = keras.Model(tensors[boundary], tensors[graph.outputs[0]], name="head")
    return backbone, head


def copy_weights_by_name(model: keras.Model, source_path: str) -> tuple[int, int]:
    """Copy weights from a saved `.keras` model into the layers of `model` with the same name
    and weight shapes (an earlier run's backbone, say); returns (layers copied, with weights)."""
    source = keras.saving.load_model(source_path, compile=False)
    by_name = {layer.name: layer for layer in source.layers}
    copied = total = 0
    for layer in model.layers:
        if not layer.weights:
            continue
        total += 1
        other = by_name.get(layer.name)
        if other is None or [w.shape for w in other.weights] != [w.shape for w in layer.weights]:
            continue
        layer.set_weights(other.get_weights())
        copied += 1
    return copied, total
