"""The fidelity harness (docs/contracts.md, Fidelity): our model against its keras.applications
twin."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def keras_twin(name: str, **kwargs):
    """keras.applications.NAME(weights=None, …), built in a fresh session so that Keras's
    automatic layer names (zero_padding2d, …) start from zero, as in a new process."""
    import keras

    keras.backend.clear_session()
    return getattr(keras.applications, name)(weights=None, **kwargs)


def our_model(spec: Path, sets: dict[str, str] | None = None):
    from archcompiler.backends.keras import build_model
    from archcompiler.compiler import compile_file

    graph = compile_file(spec, sets)
    return graph, build_model(graph)


# keras.applications' custom layer classes that a spec writes as one core layer holding the same
# weights: ConvNeXt's LayerScale is an EinsumDense whose kernel is γ (ops/scale.py).
CORE_TWINS = {"LayerScale": "EinsumDense"}


def flat_layers(model) -> list:
    """`model.layers` with each nested model (ConvNeXt's Sequential stem and downsampling
    layers) replaced by its own layers, in order, as our flat models hold them; the same list
    as `model.layers` for a model without nested models."""
    import keras

    out = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            out += [inner for inner in flat_layers(layer) if not _is_input(inner)]
        else:
            out.append(layer)
    return out


def _is_input(layer) -> bool:
    return type(layer).__name__ == "InputLayer"


def layer_names(model) -> list[str]:
    """Every layer but the input layer (whose name Keras numbers per session), nested models'
    layers in their place."""
    return [layer.name for layer in flat_layers(model) if not _is_input(layer)]


def weighted_names(model) -> list[str]:
    """The layers that hold weights (trainable or not), by name, nested models' layers in
    their place."""
    return [layer.name for layer in flat_layers(model) if layer.weights]


def same_class(mine, theirs) -> bool:
    """Ours is of the twin's class, or of the core class that stands for its custom one."""
    name = type(theirs).__name__
    return type(mine).__name__ == CORE_TWINS.get(name, name)


def assert_parity(
    spec: Path, twin_name: str, sets=None, twin_kwargs=None, atol=1e-4,
    weightless_extra: bool = False, fresh_weights: bool = False,
) -> float:  # fmt: skip
    """Same layer names, params (total/trainable/non-trainable), output shape at every layer,
    and — with the twin's weights copied layer by layer — the same predictions.

    `weightless_extra`: ours may have layers without weights that the twin has not (a custom
    Keras layer written as core layers, e.g. InceptionResNetV2's CustomScaleLayer as a
    `rescaling` and an `add`). Then the layers with weights must still be the same, by name,
    and every layer of the twin must exist in ours; the rest is checked as without it.

    A twin that nests models (ConvNeXt's Sequential stem) is compared layer by layer with their
    layers in place (`flat_layers`), and a custom layer class of the twin with the core class
    standing for it (`CORE_TWINS`).

    `fresh_weights`: the twin's weights are not its initial ones before they are copied
    (`give_fresh_weights`), where those would hide a difference (ConvNeXt's LayerScale starts
    at 1e-6, which all but zeroes every block's branch).

    Returns the largest difference of the predictions."""
    from archcompiler.backends.keras import count_params

    twin = keras_twin(twin_name, **(twin_kwargs or {}))
    if fresh_weights:
        give_fresh_weights(twin)
    graph, ours = our_model(spec, sets)
    if weightless_extra:
        assert sorted(weighted_names(ours)) == sorted(weighted_names(twin))
        assert not set(layer_names(twin)) - set(layer_names(ours))
    else:
        assert sorted(layer_names(ours)) == sorted(layer_names(twin))
    assert count_params(ours) == count_params(twin)
    assert (graph.trainable_params, graph.non_trainable_params) == count_params(twin)
    twin_layers = {layer.name: layer for layer in flat_layers(twin)}
    for name in layer_names(twin):
        mine, theirs = ours.get_layer(name), twin_layers[name]
        assert same_class(mine, theirs) or not theirs.weights, name
        assert tuple(mine.output.shape) == tuple(theirs.output.shape), name
        assert [w.shape for w in mine.weights] == [w.shape for w in theirs.weights], name
        mine.set_weights(theirs.get_weights())
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(2, *twin.input_shape[1:])).astype("float32")
    diff = np.abs(ours.predict(x, verbose=0) - twin.predict(x, verbose=0)).max()
    assert diff < atol, diff
    return float(diff)


def layer_config(layer) -> tuple[str, dict]:
    """A layer's class and configuration, the dtype left out and the channel axis written
    one way (Keras writes 3 or [3] where we write -1: the same axis of a channels-last 4-D
    tensor); a custom class of CORE_TWINS as the core layer standing for it."""
    config = _core_config(layer)
    config.pop("dtype", None)
    if config.get("axis") in (-1, [3]):
        config["axis"] = 3
    name = type(layer).__name__
    return CORE_TWINS.get(name, name), config


def _core_config(layer) -> dict:
    """The layer's configuration; for a custom class of CORE_TWINS, that of the core layer
    standing for it, made from the custom layer's arguments."""
    if type(layer).__name__ != "LayerScale":
        return layer.get_config()
    import keras

    config = layer.get_config()
    shape = tuple(layer.output.shape[1:])  # its input's: γ scales the last axis
    axes = "abcdefgh"[: len(shape) + 1]
    core = keras.layers.EinsumDense(
        f"{axes},{axes[-1]}->{axes}",
        output_shape=shape,
        kernel_initializer=keras.initializers.Constant(config["init_values"]),
        name=config["name"],
        trainable=config["trainable"],
    )
    return core.get_config()


def assert_same_layers(
    spec: Path, twin_name: str, sets=None, twin_kwargs=None, weightless_extra: bool = False
) -> None:
    """The same layers in the same order with the same arguments: what Keras's automatic names
    and loading a `.weights.h5` by structure both depend on. Nested models' layers are compared
    in their place (`flat_layers`); with `weightless_extra`, our weightless layers that the twin
    lacks (ConvNeXt's residual adds, which Keras writes as `+`) are left out first."""
    theirs = keras_twin(twin_name, **(twin_kwargs or {}))
    _, ours = our_model(spec, sets)
    want = [layer_config(layer) for layer in flat_layers(theirs)[1:]]  # [0]: the input layer
    names = {config["name"] for _, config in want}
    kept = [
        layer
        for layer in ours.layers[1:]
        if not weightless_extra or layer.weights or layer.name in names
    ]
    mine = [layer_config(layer) for layer in kept]
    assert [c["name"] for _, c in mine] == [c["name"] for _, c in want]
    for got, expected in zip(mine, want, strict=True):
        assert got == expected, expected[1]["name"]


def give_fresh_weights(model) -> None:
    """Weights that are not the initial ones (so every weight must really arrive): N(0, 0.05),
    and U(0.5, 1.5) for variances."""
    rng = np.random.default_rng(3)
    for w in model.weights:
        fresh = (
            rng.uniform(0.5, 1.5, w.shape) if "variance" in w.path else rng.normal(0, 0.05, w.shape)
        )
        w.assign(fresh.astype("float32"))


def twin_weight_files(twin, directory: Path) -> tuple[Path, Path]:
    """Give `twin` weights that are not its initial ones (so every weight must really arrive)
    and write them as keras.applications ships them — a legacy `.h5`, one group per layer
    name — and as Keras 3 writes them (`.weights.h5`, by structure)."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    give_fresh_weights(twin)
    legacy, current = directory / "twin.h5", directory / "twin.weights.h5"
    with h5py.File(legacy, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, twin)
    twin.save_weights(str(current))
    return legacy, current
