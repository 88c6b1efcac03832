"""`--optimize` / `--inference`: a built Keras functional model → an equivalent one for
inference, of core layers only.

Three rewrites, each exact up to float32 rounding:

- a BatchNormalization that is the only consumer of a Conv2D, DepthwiseConv2D, SeparableConv2D
  or Dense (without an activation of its own) is folded into that layer's kernel and bias:
  y = γ·(Wx + b − μ)/√(σ² + ε) + β = (sW)x + s(b − μ) + β with s = γ/√(σ² + ε);
- an activation layer that is the only consumer of such a layer (folded or not) becomes the
  layer's own `activation`, where Keras names it (relu, relu6, swish, sigmoid, …);
- layers that do nothing at inference (Dropout and its kin, Activation('linear')) are dropped.

The model is rebuilt through the functional API by walking `model.layers` (in the order Keras
keeps them: every layer after its inputs) and each layer's call arguments, so layers of several
inputs (Add, Concatenate) are rebuilt with their inputs in place. A BatchNormalization after
anything else (DenseNet's pre-activation ones, after a concatenation) stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .backends.quiet import import_keras

HOSTS = {"Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Dense"}  # layers that take a BN
NO_OPS = {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
          "GaussianNoise", "GaussianDropout", "AlphaDropout"}  # fmt: skip
# Activation layers' functions that a host's `activation` argument can name as well
NAMED = {"relu", "relu6", "swish", "silu", "sigmoid", "tanh", "elu", "selu", "gelu",
         "softplus", "softsign", "hard_sigmoid", "hard_swish", "hard_silu", "mish",
         "exponential"}  # fmt: skip


@dataclass
class Optimized:
    """The optimized model and what was done to get it."""

    model: Any
    folded: list[str] = field(default_factory=list)  # BN layers folded into the layer before
    merged: list[str] = field(default_factory=list)  # activation layers merged into one
    dropped: list[str] = field(default_factory=list)  # inference no-ops removed
    layers_before: int = 0

    def report(self) -> str:
        """One line: what was done, and the layer counts."""
        return (
            f"Optimized for inference: {len(self.folded)} batch norms folded, "
            f"{len(self.merged)} activations merged, {len(self.dropped)} no-ops dropped; "
            f"{self.layers_before:,} → {len(self.model.layers):,} layers."
        )


def optimize_for_inference(model: Any) -> Optimized:
    """A new functional model computing what `model` computes at inference (training=False),
    with batch norms folded, activations merged and no-ops dropped; `model` is left as it
    was. Layers the rewrites do not touch are copies (same config and weights)."""
    keras = import_keras()
    if not isinstance(model, keras.Model) or not hasattr(model, "_nodes_by_depth"):
        raise TypeError("optimize_for_inference takes a Keras functional model")
    producer, consumers = _edges(model)
    plan = Optimized(model=None, layers_before=len(model.layers))
    chains: dict[str, list[Any]] = {}  # host name → [host, bn?, activation?]
    absorbed: set[str] = set()
    for layer in model.layers:
        if _kind(layer) in HOSTS and _activation(layer) == "linear":
            chain = _chain(layer, producer, consumers, model)
            if len(chain) > 1:
                chains[layer.name] = chain
                absorbed |= {c.name for c in chain[1:]}
    new: dict[int, Any] = {}  # id(old KerasTensor) → new KerasTensor
    for old, inp in zip(model.inputs, _new_inputs(model), strict=True):
        new[id(old)] = inp
    for layer in model.layers:
        if _kind(layer) == "InputLayer" or layer.name in absorbed:
            continue
        node = layer._inbound_nodes[0]
        args, kwargs = node.arguments.fill_in(new)
        if _is_no_op(layer):
            new[id(layer.output)] = args[0]
            plan.dropped.append(layer.name)
            continue
        chain = chains.get(layer.name, [layer])
        rebuilt = _rebuild(chain, plan)
        new[id(chain[-1].output)] = rebuilt(*args, **kwargs)
        _set_weights(rebuilt, chain)
    outs = [new[id(t)] for t in model.outputs]
    ins = [new[id(t)] for t in model.inputs]
    plan.model = keras.Model(
        inputs=ins[0] if len(ins) == 1 else ins,
        outputs=outs[0] if len(outs) == 1 else outs,
        name=model.name,
    )
    return plan


def _kind(layer: Any) -> str:
    return type(layer).__name__


def _activation(layer: Any) -> str:
    act = layer.get_config().get("activation", "linear")
    return act if isinstance(act, str) else str(act)


def _edges(model: Any) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Each layer's producers (by name) and how many times its output is used, a use as a
    model output included (such an output must stay a tensor of its own)."""
    producer: dict[str, list[str]] = {}
    consumers: dict[str, int] = {layer.name: 0 for layer in model.layers}
    for layer in model.layers:
        if not layer._inbound_nodes:
            continue
        if len(layer._inbound_nodes) > 1:
            raise ValueError(f"layer '{layer.name}' is shared: not supported")
        names = [t._keras_history.operation.name for t in layer._inbound_nodes[0].input_tensors]
        producer[layer.name] = names
        for name in names:
            consumers[name] = consumers.get(name, 0) + 1
    for t in model.outputs:
        name = t._keras_history.operation.name
        consumers[name] = consumers.get(name, 0) + 1
    return producer, consumers


def _sole_consumer(layer: Any, producer: dict[str, list[str]], consumers: dict[str, int],
                   model: Any) -> Any | None:  # fmt: skip
    if consumers.get(layer.name) != 1:
        return None
    for other in model.layers:
        if producer.get(other.name) == [layer.name]:
            return other
    return None


def _chain(host: Any, producer: dict[str, list[str]], consumers: dict[str, int],
           model: Any) -> list[Any]:  # fmt: skip
    """host, then the BN it can take, then the activation it can take."""
    chain = [host]
    nxt = _sole_consumer(host, producer, consumers, model)
    if nxt is not None and _foldable_bn(nxt, host):
        chain.append(nxt)
        nxt = _sole_consumer(nxt, producer, consumers, model)
    if nxt is not None and _named_activation(nxt) is not None:
        chain.append(nxt)
    return chain


def _foldable_bn(layer: Any, host: Any) -> bool:
    """A BatchNormalization over the host's channels (the last axis), in float32 or wider."""
    if _kind(layer) != "BatchNormalization":
        return False
    axis = layer.get_config()["axis"]
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    rank = len(host.output.shape)
    return len(axes) == 1 and axes[0] % rank == rank - 1


def _named_activation(layer: Any) -> str | None:
    """The `activation=` name that computes what this layer computes, if Keras has one."""
    keras = import_keras()
    config = layer.get_config()
    kind = _kind(layer)
    if kind == "Activation":
        name = config["activation"]
        return name if isinstance(name, str) and name in NAMED else None
    if kind == "ReLU" and not config.get("negative_slope") and not config.get("threshold"):
        top = config.get("max_value")
        if top is None:
            return "relu"
        if float(top) == 6.0 and hasattr(keras.activations, "relu6"):
            return "relu6"
    if kind == "Softmax" and config.get("axis") in (-1, [-1]):
        return "softmax"
    return None


def _is_no_op(layer: Any) -> bool:
    if _kind(layer) in NO_OPS:
        return True
    return _kind(layer) == "Activation" and layer.get_config()["activation"] == "linear"


def _new_inputs(model: Any) -> list[Any]:
    keras = import_keras()
    return [
        keras.Input(batch_shape=t.shape, dtype=t.dtype, name=t._keras_history.operation.name)
        for t in model.inputs
    ]


def _rebuild(chain: list[Any], plan: Optimized) -> Any:
    """A fresh layer from the host's config: a bias when a BN is folded in, the activation
    merged. Its weights come after it is built (`_set_weights`)."""
    host = chain[0]
    config = host.get_config()
    for extra in chain[1:]:
        if _kind(extra) == "BatchNormalization":
            config["use_bias"] = True
            plan.folded.append(extra.name)
        else:
            config["activation"] = _named_activation(extra)
            plan.merged.append(extra.name)
    return type(host).from_config(config)


def _set_weights(layer: Any, chain: list[Any]) -> None:
    host = chain[0]
    bn = next((c for c in chain[1:] if _kind(c) == "BatchNormalization"), None)
    if bn is None:
        layer.set_weights(host.get_weights())
        return
    kind = _kind(host)
    weights = [np.asarray(w, np.float64) for w in host.get_weights()]
    if kind == "SeparableConv2D":  # depthwise, pointwise[, bias]: the pointwise one scales
        depthwise, kernel = weights[0], weights[1]
        bias = weights[2] if len(weights) == 3 else np.zeros(kernel.shape[-1])
    else:
        kernel = weights[0]
        bias = weights[1] if len(weights) == 2 else None
    scale, shift = _bn_affine(bn)
    if kind == "DepthwiseConv2D":  # (kh, kw, in, mult): output channel c·mult + m
        kernel = kernel * scale.reshape(kernel.shape[2], kernel.shape[3])
    else:  # (…, out): the last axis is the output channel
        kernel = kernel * scale
    if bias is None:
        bias = np.zeros(scale.shape)
    bias = bias * scale + shift
    folded = [kernel, bias] if kind != "SeparableConv2D" else [depthwise, kernel, bias]
    dtype = host.get_weights()[0].dtype
    layer.set_weights([w.astype(dtype) for w in folded])


def _bn_affine(bn: Any) -> tuple[np.ndarray, np.ndarray]:
    """s and t such that BN(x) = s·x + t at inference."""
    mean = np.asarray(bn.moving_mean, np.float64)
    var = np.asarray(bn.moving_variance, np.float64)
    gamma = np.asarray(bn.gamma, np.float64) if getattr(bn, "gamma", None) is not None else 1.0
    beta = np.asarray(bn.beta, np.float64) if getattr(bn, "beta", None) is not None else 0.0
    scale = gamma / np.sqrt(var + bn.epsilon)
    return scale * np.ones_like(mean), beta - mean * scale
