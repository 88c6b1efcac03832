"""specs/inception_resnet_v2.yaml against keras.applications.InceptionResNetV2 (fidelity,
docs/contracts.md; slow: full builds). Keras's CustomScaleLayer (x + scale·r, a custom class that
plain Keras cannot deserialize) is a weightless `rescaling` and an `add` in ours, so ours has one
layer per block more: the layers with weights are the same, and every Keras layer is in ours.

Params do not depend on the input size, so the models are built at Keras's minimum, 75×75.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from archcompiler.cli import main
from tests.conftest import ROOT
from tests.helpers import load_in_plain_keras
from tests.parity import assert_parity, keras_twin, layer_names, our_model, twin_weight_files

SPEC = ROOT / "specs" / "inception_resnet_v2.yaml"
SMALL = {"size": "75"}
TWIN = {"input_shape": (75, 75, 3)}
PARAMS = 55_873_736  # keras.applications.InceptionResNetV2(weights=None).count_params()


@pytest.mark.slow
def test_parity() -> None:
    assert_parity(SPEC, "InceptionResNetV2", sets=SMALL, twin_kwargs=TWIN, weightless_extra=True)


@pytest.mark.slow
def test_total_params_the_extra_layers_and_keras_weight_files(tmp_path) -> None:
    import numpy as np

    from archcompiler.backends.keras import load_weights

    twin = keras_twin("InceptionResNetV2", **TWIN)
    graph, ours = our_model(SPEC, SMALL)
    assert graph.total_params == ours.count_params() == twin.count_params() == PARAMS
    scales = [layer for layer in twin.layers if type(layer).__name__ == "CustomScaleLayer"]
    extra = set(layer_names(ours)) - set(layer_names(twin))
    assert len(scales) == 40 and {type(ours.get_layer(n)).__name__ for n in extra} == {"Rescaling"}
    assert len(extra) == len(scales) and len(ours.layers) == len(twin.layers) + len(scales)
    for layer in scales:  # x + scale·r: an add, named as Keras names it, of x and rescaled r
        add = ours.get_layer(layer.name)
        x, rescaled = (_source(t) for t in add.input)
        assert type(add).__name__ == "Add" and x.name == _source(layer.input[0]).name
        assert (rescaled.scale, rescaled.offset) == (layer.scale, 0.0), layer.name
        assert _source(rescaled.input).name == _source(layer.input[1]).name  # blockN_conv
    # the layers with weights come in Keras's order, and Keras's weight files load into ours
    assert [w.path for w in ours.weights] == [w.path for w in twin.weights]
    files = twin_weight_files(twin, tmp_path)
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (2, 75, 75, 3)).astype("float32")
    expected = twin.predict(x, verbose=0)
    for path in files:
        for w in ours.weights:
            w.assign(np.zeros(w.shape, "float32"))
        load_weights(ours, str(path))
        diff = np.abs(ours.predict(x, verbose=0) - expected).max()
        assert diff < 1e-5, (path.name, diff)


def _source(tensor):
    """The layer that gives a symbolic tensor."""
    return tensor._keras_history.operation


def test_spec_is_short_and_written_with_blocks() -> None:
    text = SPEC.read_text()
    assert len(text.splitlines()) <= 100 and text.count("repeat:") == 3
    assert "55,873,736" in text and "Inception-ResNet" in text


@pytest.mark.slow
def test_built_file_loads_in_plain_keras(tmp_path) -> None:
    out = tmp_path / "irv2.keras"
    result = CliRunner().invoke(
        main, ["build", str(SPEC), "--set", "size=75", "-o", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    shown = load_in_plain_keras(
        out, "m.count_params(), m.get_layer('custom_scale_layer_39').__class__.__name__"
    )
    assert f"{PARAMS} Add" in shown
