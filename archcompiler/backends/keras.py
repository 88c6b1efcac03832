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
from typing import Any

from ..errors import first_line
from ..graph import Graph, Node
from .keras_layers import EMITTERS
from .quiet import import_keras

keras = import_keras()  # without the framework's start-up lines on the terminal (quiet.py)
layers = keras.layers


def make_layer(node: Node, dtype: str | None = None) -> keras.layers.Layer:
    """The Keras layer for one primitive node, named as the node."""
    class_name, emit = EMITTERS[node.op]
    cls, kwargs = getattr(layers, class_name), emit(node.args, node.shape)
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
    was loaded, for the report.

    Where Keras nests models (ConvNeXt's Sequential stem and downsampling layers), our models
    hold their layers flat, named as Keras names them: a legacy `.h5` keeps such a model's
    weights in one group named after it, each weight named `…/LAYER/WEIGHT`, and those go to
    our layer LAYER (`_load_nested_groups`); a `.keras` model's nested layers match by name
    too. A `.weights.h5` stores no names, only the structure, so one of a nested model does
    not fit a flat one: Keras refuses it."""
    if path.endswith(".keras"):
        copied, total = copy_weights_by_name(model, path)
        if not copied:
            raise ValueError("no layer here has a layer of the same name and weight shapes there")
        return f"{copied} of {total} layers with weights, by name"
    if path.endswith(".weights.h5"):
        try:
            model.load_weights(path)
        except ValueError as e:  # Keras's message first, then what would load
            first = first_line(e, empty="it does not fit")
            raise ValueError(
                f"{first} — a .weights.h5 loads by structure only into a model of the same "
                "layers and nesting; a legacy .h5 or a .keras file loads by name"
            ) from e
        return "all layers"
    model.load_weights(path, by_name=True)
    nested = _load_nested_groups(model, path)
    return f"layers by name, {nested} of them from nested models" if nested else "layers by name"


def _load_nested_groups(model: keras.Model, path: str) -> int:
    """Assign the weights of a legacy `.h5`'s groups that name no layer of `model` (a nested
    model's) to the layers of `model` their weight names name (`STEM/LAYER/kernel`, Keras 2's
    `LAYER/kernel:0`), in the file's order; returns how many layers got weights. Keras's own
    by-name loading has loaded the other groups already."""
    import h5py
    from keras.src.legacy.saving.legacy_h5_format import (
        load_attributes_from_hdf5_group,
        load_subset_weights_from_hdf5_group,
    )

    layers = {layer.name: layer for layer in model.layers}
    found: dict[str, list[Any]] = {}
    with h5py.File(path, "r") as f:
        root = f.get("model_weights", f)  # a whole saved model's file keeps them there
        for group in load_attributes_from_hdf5_group(root, "layer_names"):
            if group in layers:
                continue
            names = load_attributes_from_hdf5_group(root[group], "weight_names")
            values = load_subset_weights_from_hdf5_group(root[group])
            for name, value in zip(names, values, strict=True):
                parts = name.split("/")
                if len(parts) > 1 and parts[-2] in layers:
                    found.setdefault(parts[-2], []).append(value)
    for name, values in found.items():
        layer = layers[name]
        weights = layer.trainable_weights + layer.non_trainable_weights  # the legacy order
        shapes = [tuple(w.shape) for w in weights]
        if shapes != [v.shape for v in values]:
            raise ValueError(
                f"layer {name} has weights of shapes {shapes}; the file has "
                f"{[v.shape for v in values]}"
            )
        for weight, value in zip(weights, values, strict=True):
            weight.assign(value)
    return len(found)


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
    and weight shapes (an earlier run's backbone, say; the layers of models nested in it count
    by their own names); returns (layers copied, with weights)."""
    source = keras.saving.load_model(source_path, compile=False)
    by_name = {layer.name: layer for layer in _flat_layers(source)}
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


def _flat_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers of `model`, each nested model's own layers in its place."""
    out: list[keras.layers.Layer] = []
    for layer in model.layers:
        out += _flat_layers(layer) if isinstance(layer, keras.Model) else [layer]
    return out


def caveats(graph: Graph) -> list[str]:
    """Warnings (report lines) where the framework Keras runs on computes `graph` otherwise than
    TensorFlow: on PyTorch, Keras 3.15 averages a 'same'-padded pool whose padding is uneven
    over copies of the edge values instead of over the input alone (fixed in Keras's main,
    keras-team/keras#23233; probed, so a fixed Keras gives no warning)."""
    if keras.backend.backend() != "torch" or not _pads_average_pools_by_copying():
        return []
    uneven = [node.name for node in graph if node.op == "avg_pool" and _uneven(graph, node)]
    if not uneven:
        return []
    shown = ", ".join(uneven[:5]) + (f" and {len(uneven) - 5} more" if len(uneven) > 5 else "")
    return [
        f"warning: on PyTorch, Keras {keras.__version__} averages 'same'-padded pools with uneven "
        f"padding over copied edge values, unlike TensorFlow and JAX: {shown} will predict "
        "otherwise at their bottom and right edges"
    ]


def _pads_average_pools_by_copying() -> bool:
    """Whether this Keras averages [10, 20] in a window of 3, stride 2, 'same', as 16.7 (the
    edge copied) rather than 15 (TensorFlow's: the padding left out)."""
    x = keras.ops.convert_to_tensor([[[[10.0], [20.0]]]])  # batch, 1 × 2, one channel
    y = keras.ops.average_pool(x, (1, 3), (1, 2), padding="same")
    return abs(float(keras.ops.convert_to_numpy(y).ravel()[0]) - 15.0) > 1e-3


def _uneven(graph: Graph, node: Node) -> bool:
    """Whether 'same' padding pads `node` (a pool) by an odd total on some axis."""
    if node.args.padding != "same":
        return False
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    pool, strides = pair(node.args.pool), pair(node.args.strides or node.args.pool)
    size = graph.nodes[node.inputs[0]].shape[:2]
    pads = (
        max((-(-n // s) - 1) * s + k - n, 0) for n, k, s in zip(size, pool, strides, strict=True)
    )
    return any(p % 2 for p in pads)
