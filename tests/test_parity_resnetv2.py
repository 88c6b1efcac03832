"""The ResNetV2 twins against keras.applications (fidelity, docs/contracts.md; slow: full builds):
names, params, per-layer shapes, copied weights → the same predictions, and the same layers in
the same order with the same arguments.

Params do not depend on the input size, so ResNet101V2 and ResNet152V2 build at 64×64;
ResNet50V2 is built at full size.
"""

from __future__ import annotations

import pytest

from archcompiler.compiler import compile_file
from tests.conftest import ROOT
from tests.parity import assert_parity, assert_same_layers, keras_twin

SPECS = ROOT / "specs"
SMALL = ({"size": "64"}, {"input_shape": (64, 64, 3)})

CASES = [  # (spec, twin, --set values, twin kwargs)
    ("resnet50v2.yaml", "ResNet50V2", None, None),
    ("resnet101v2.yaml", "ResNet101V2", *SMALL),
    ("resnet152v2.yaml", "ResNet152V2", *SMALL),
]
IDS = ["resnet50v2", "resnet101v2_64", "resnet152v2_64"]

# keras.applications' published sizes (the table of keras.io/api/applications), at 1000 classes
PUBLISHED = {"resnet50v2": 25_613_800, "resnet101v2": 44_675_560, "resnet152v2": 60_380_648}


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "twin", "sets", "twin_kwargs"), CASES, ids=IDS)
def test_parity(spec: str, twin: str, sets, twin_kwargs) -> None:
    assert_parity(SPECS / spec, twin, sets=sets, twin_kwargs=twin_kwargs)


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "twin", "sets", "twin_kwargs"), CASES, ids=IDS)
def test_total_params_are_keras_published_counts(spec: str, twin: str, sets, twin_kwargs) -> None:
    published = PUBLISHED[spec.removesuffix(".yaml")]
    assert compile_file(SPECS / spec).total_params == published  # at 224
    assert compile_file(SPECS / spec, sets).total_params == published  # not size-dependent
    assert keras_twin(twin, **(twin_kwargs or {})).count_params() == published


@pytest.mark.slow
def test_same_layers_in_the_same_order_with_the_same_arguments() -> None:
    assert_same_layers(SPECS / "resnet50v2.yaml", "ResNet50V2", *SMALL)


def test_the_specs_are_written_with_blocks_and_repeat() -> None:
    """One line per stack (the stride on the last block and the conv shortcut on the first
    said by `repeat.index`, not by spelling blocks out), and short."""
    for spec in PUBLISHED:
        text = (SPECS / f"{spec}.yaml").read_text()
        assert text.count("- preact_bottleneck:") == 4, spec
        assert text.count("repeat.index == repeat.count - 1") == 3, spec
        assert len(text.splitlines()) <= 100, spec
