"""Fidelity (docs/contracts.md) of the VGG and ResNet zoo specs against their keras.applications
twins:
same layer names, params, per-layer output shapes and weights layout, and the same predictions
with the twin's weights copied in; plus the same layer order and layer arguments. Full-size
Keras builds, so marked slow."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ROOT
from tests.parity import assert_parity, keras_twin, layer_names, our_model

TWINS = {
    "vgg16": "VGG16",
    "vgg19": "VGG19",
    "resnet50": "ResNet50",
    "resnet101": "ResNet101",
    "resnet152": "ResNet152",
}


def spec(name: str):
    return ROOT / "specs" / f"{name}.yaml"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TWINS))
def test_zoo_spec_matches_keras_applications(name: str) -> None:
    assert_parity(spec(name), TWINS[name])  # 224×224×3, 1000 classes


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vgg16", "resnet50"])
def test_classes_and_size_match_keras_too(name: str) -> None:
    twin = {"classes": 10, "input_shape": (64, 64, 3)}
    assert_parity(spec(name), TWINS[name], sets={"classes": "10", "size": "64"}, twin_kwargs=twin)


def _arguments(layer: Any) -> dict[str, Any]:
    config = {k: v for k, v in layer.get_config().items() if k != "name"}
    if type(layer).__name__ == "BatchNormalization" and config["axis"] in (3, [3]):
        config["axis"] = -1  # Keras writes the channel axis as 3, we as -1: the same for NHWC
    return config


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TWINS))
def test_layer_order_types_and_arguments_match_keras(name: str) -> None:
    # epsilon, use_bias, padding, activation … and the creation order (projection shortcut
    # first), which the parity harness does not look at; the arguments do not depend on size
    twin = keras_twin(TWINS[name], classes=10, input_shape=(64, 64, 3))
    _, ours = our_model(spec(name), {"classes": "10", "size": "64"})
    assert layer_names(ours) == layer_names(twin)
    for mine, theirs in zip(ours.layers[1:], twin.layers[1:], strict=True):
        assert type(mine).__name__ == type(theirs).__name__, mine.name
        assert _arguments(mine) == _arguments(theirs), mine.name
