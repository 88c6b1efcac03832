"""The twins the modern language makes possible, against keras.applications (fidelity,
docs/contracts.md; slow: full builds): names, params, per-layer shapes, copied weights → the same
predictions, and the same layers in the same order with the same arguments.

Params do not depend on the input size, so most cases build at a reduced size; one member of
each family is built at full size.
"""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from tests.parity import (
    assert_parity,
    assert_same_layers,
    keras_twin,
    our_model,
    twin_weight_files,
)

SPECS = ROOT / "specs"

CASES = [  # (spec, twin, --set values, twin kwargs)
    ("mobilenetv2.yaml", "MobileNetV2", None, None),
    ("mobilenetv2.yaml", "MobileNetV2", {"alpha": "0.35", "size": "96"},
     {"alpha": 0.35, "input_shape": (96, 96, 3)}),
    ("mobilenetv2.yaml", "MobileNetV2", {"alpha": "1.4", "size": "128"},
     {"alpha": 1.4, "input_shape": (128, 128, 3)}),
    ("mobilenetv2.yaml", "MobileNetV2", {"alpha": "0.75", "size": "97"},  # odd sizes pad
     {"alpha": 0.75, "input_shape": (97, 97, 3)}),
]  # fmt: skip
IDS = ["mobilenetv2", "mobilenetv2_0.35_96", "mobilenetv2_1.4_128", "mobilenetv2_0.75_97"]


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "twin", "sets", "twin_kwargs"), CASES, ids=IDS)
def test_parity(spec: str, twin: str, sets, twin_kwargs) -> None:
    assert_parity(SPECS / spec, twin, sets=sets, twin_kwargs=twin_kwargs)


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "twin", "sets", "twin_kwargs"), CASES[1:2], ids=IDS[1:2])
def test_same_layers_in_the_same_order_with_the_same_arguments(
    spec: str, twin: str, sets, twin_kwargs
) -> None:
    assert_same_layers(SPECS / spec, twin, sets, twin_kwargs)


def test_mobilenetv2_needs_no_hand_threaded_channels() -> None:
    """The point of blocks that read their inputs: no `in_ch` passed by hand, and one line per
    stage (the issue's workaround spelled out all 17 blocks)."""
    text = (SPECS / "mobilenetv2.yaml").read_text()
    assert "in_ch" not in text and text.count("- inverted_residual:") == 7
    assert len(text.splitlines()) <= 100


# Each twin at a small size: (spec, --set values, twin, twin kwargs)
WEIGHTS_CASES = {
    "mobilenetv2": ("mobilenetv2.yaml", {"alpha": "0.35", "size": "96"}, "MobileNetV2",
                    {"alpha": 0.35, "input_shape": (96, 96, 3)}),
    "resnet50v2": ("resnet50v2.yaml", {"size": "64"}, "ResNet50V2", {"input_shape": (64, 64, 3)}),
    "inception_v3": ("inception_v3.yaml", {"size": "75"}, "InceptionV3",
                     {"input_shape": (75, 75, 3)}),
    "xception": ("xception.yaml", {"size": "71"}, "Xception", {"input_shape": (71, 71, 3)}),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("case", list(WEIGHTS_CASES))
def test_the_twins_weights_files_load(tmp_path, case: str) -> None:
    """keras.applications ships legacy .h5 files (a group per layer name), and Keras 3 writes
    `.weights.h5` (by structure): both, written from the twin with weights that are not the
    initial ones, load into ours through `--weights` and give the twin's predictions."""
    import numpy as np

    from archcompiler.backends.keras import load_weights

    spec, sets, twin_name, twin_kwargs = WEIGHTS_CASES[case]
    twin = keras_twin(twin_name, **twin_kwargs)
    legacy, current = twin_weight_files(twin, tmp_path)
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (2, *twin.input_shape[1:])).astype("float32")
    want = twin.predict(x, verbose=0)
    for path in (legacy, current):
        _, ours = our_model(SPECS / spec, sets)
        load_weights(ours, str(path))
        assert np.abs(ours.predict(x, verbose=0) - want).max() < 1e-5, path.name
