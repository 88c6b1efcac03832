"""Fidelity (docs/contracts.md): for every spec, the shapes and params `archc summary` infers
without TensorFlow equal what the built Keras model reports, node by node."""

from __future__ import annotations

import math
import os

import pytest

from archcompiler.compiler import compile_file
from tests.conftest import SPECS

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.mark.slow
@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_summary_agrees_with_keras_layer_by_layer(path) -> None:
    import keras

    from archcompiler.backends.keras import build_model

    keras.backend.clear_session()
    graph = compile_file(path)
    model = build_model(graph)
    assert len(model.layers) == len(graph)
    for node in graph:
        layer = model.get_layer(node.name)
        assert tuple(layer.output.shape)[1:] == node.shape, node.name
        trainable = sum(math.prod(w.shape) for w in layer.trainable_weights)
        fixed = sum(math.prod(w.shape) for w in layer.non_trainable_weights)
        assert (trainable, fixed) == (node.trainable_params, node.non_trainable_params), node.name
