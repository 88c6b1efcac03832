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
    from archcompiler.compile import compile_file

    graph = compile_file(spec, sets)
    return graph, build_model(graph)


def layer_names(model) -> list[str]:
    """Every layer but the input layer (whose name Keras numbers per session)."""
    return [layer.name for layer in model.layers if type(layer).__name__ != "InputLayer"]


def weighted_names(model) -> list[str]:
    """The layers that hold weights (trainable or not), by name."""
    return [layer.name for layer in model.layers if layer.weights]


def assert_parity(
    spec: Path, twin_name: str, sets=None, twin_kwargs=None, atol=1e-4,
    weightless_extra: bool = False,
) -> float:  # fmt: skip
    """Same layer names, params (total/trainable/non-trainable), output shape at every layer,
    and — with the twin's weights copied layer by layer — the same predictions.

    `weightless_extra`: ours may have layers without weights that the twin has not (a custom
    Keras layer written as core layers, e.g. InceptionResNetV2's CustomScaleLayer as a
    `rescaling` and an `add`). Then the layers with weights must still be the same, by name,
    and every layer of the twin must exist in ours; the rest is checked as without it.

    Returns the largest difference of the predictions."""
    from archcompiler.backends.keras import count_params

    twin = keras_twin(twin_name, **(twin_kwargs or {}))
    graph, ours = our_model(spec, sets)
    if weightless_extra:
        assert sorted(weighted_names(ours)) == sorted(weighted_names(twin))
        assert not set(layer_names(twin)) - set(layer_names(ours))
    else:
        assert sorted(layer_names(ours)) == sorted(layer_names(twin))
    assert count_params(ours) == count_params(twin)
    assert (graph.trainable_params, graph.non_trainable_params) == count_params(twin)
    for name in layer_names(twin):
        mine, theirs = ours.get_layer(name), twin.get_layer(name)
        assert type(mine).__name__ == type(theirs).__name__ or not theirs.weights, name
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
    tensor)."""
    config = layer.get_config()
    config.pop("dtype", None)
    if config.get("axis") in (-1, [3]):
        config["axis"] = 3
    return type(layer).__name__, config


def assert_same_layers(spec: Path, twin_name: str, sets=None, twin_kwargs=None) -> None:
    """The same layers in the same order with the same arguments: what Keras's automatic names
    and loading a `.weights.h5` by structure both depend on."""
    theirs = keras_twin(twin_name, **(twin_kwargs or {}))
    _, ours = our_model(spec, sets)
    mine = [layer_config(layer) for layer in ours.layers[1:]]  # [0] is the input layer
    want = [layer_config(layer) for layer in theirs.layers[1:]]
    assert [c["name"] for _, c in mine] == [c["name"] for _, c in want]
    for got, expected in zip(mine, want, strict=True):
        assert got == expected, expected[1]["name"]


def twin_weight_files(twin, directory: Path) -> tuple[Path, Path]:
    """Give `twin` weights that are not its initial ones (so every weight must really arrive)
    and write them as keras.applications ships them — a legacy `.h5`, one group per layer
    name — and as Keras 3 writes them (`.weights.h5`, by structure)."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    rng = np.random.default_rng(3)
    for w in twin.weights:
        fresh = (
            rng.uniform(0.5, 1.5, w.shape) if "variance" in w.path else rng.normal(0, 0.05, w.shape)
        )
        w.assign(fresh.astype("float32"))
    legacy, current = directory / "twin.h5", directory / "twin.weights.h5"
    with h5py.File(legacy, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, twin)
    twin.save_weights(str(current))
    return legacy, current
