"""InceptionV3 and Xception against their keras.applications twins (fidelity, docs/contracts.md;
slow: full builds): names, params, per-layer shapes, copied weights → the same predictions, and
the same layers in the same order with the same arguments — which Keras's automatic names
(`naming: keras`) and loading `.weights.h5` both depend on.

Params do not depend on the input size: InceptionV3 is built at its full 299, Xception at 150,
and the layer-by-layer comparison at the smallest sizes Keras takes.
"""

from __future__ import annotations

import pytest

from archcompiler.compiler import compile_file
from tests.conftest import ROOT
from tests.parity import assert_parity, assert_same_layers

SPECS = ROOT / "specs"

CASES = [  # (spec, twin, --set values, twin kwargs)
    ("inception_v3.yaml", "InceptionV3", None, None),
    ("xception.yaml", "Xception", {"size": "150"}, {"input_shape": (150, 150, 3)}),
]
IDS = ["inception_v3", "xception_150"]

SMALL = [  # the smallest inputs Keras accepts (min_size)
    ("inception_v3.yaml", "InceptionV3", {"size": "75"}, {"input_shape": (75, 75, 3)}),
    ("xception.yaml", "Xception", {"size": "71"}, {"input_shape": (71, 71, 3)}),
]

# keras.applications' counts (total, trainable, non-trainable) at 1000 classes
COUNTS = {
    "inception_v3.yaml": (23_851_784, 23_817_352, 34_432),
    "xception.yaml": (22_910_480, 22_855_952, 54_528),
}


@pytest.mark.parametrize("spec", sorted(COUNTS))
def test_params_are_keras_s(spec: str) -> None:
    g = compile_file(SPECS / spec)
    assert (g.total_params, g.trainable_params, g.non_trainable_params) == COUNTS[spec]
    assert f"{COUNTS[spec][0]:,} params" in (g.doc or "")


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "twin", "sets", "twin_kwargs"), CASES, ids=IDS)
def test_parity(spec: str, twin: str, sets, twin_kwargs) -> None:
    # with test_params_are_keras_s: the twins' counts are COUNTS
    assert_parity(SPECS / spec, twin, sets=sets, twin_kwargs=twin_kwargs)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("spec", "twin", "sets", "twin_kwargs"), SMALL, ids=["inception_v3_75", "xception_71"]
)
def test_same_layers_in_the_same_order_with_the_same_arguments(
    spec: str, twin: str, sets, twin_kwargs
) -> None:
    assert_same_layers(SPECS / spec, twin, sets, twin_kwargs)


def test_specs_are_written_with_blocks_and_repeat() -> None:
    """Not flat files: Inception's 94 convs are in five stem conv2d_bn lines and eleven module
    lines (built-in blocks), Xception's middle flow is one line."""
    inception = (SPECS / "inception_v3.yaml").read_text()
    xception = (SPECS / "xception.yaml").read_text()
    assert "- conv:" not in inception and inception.count("- conv2d_bn:") == 5
    assert all(f"concat: mixed{i}}}" in inception for i in range(11))
    assert 'names: "block{i}", start: 5' in xception and "block5" not in xception
    assert max(len(inception.splitlines()), len(xception.splitlines())) <= 60
