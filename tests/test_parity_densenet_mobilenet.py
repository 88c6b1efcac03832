"""DenseNet121/169/201 and MobileNet against keras.applications (fidelity, docs/contracts.md;
slow: full builds).

Beyond `assert_parity` (names, params, shapes, copied weights → same predictions) these check the
creation order and every layer's configuration, so the specs are the Keras functions layer for
layer. The one difference allowed is the channel axis written as -1 where Keras writes 3 (the
same axis for the 4-D channels-last tensors of these networks).
"""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from tests.parity import assert_parity, assert_same_layers

SPECS = ROOT / "specs"
MOBILENET_SMALL = ({"alpha": "0.5", "size": "128"}, {"alpha": 0.5, "input_shape": (128, 128, 3)})

CASES = [
    ("densenet121.yaml", "DenseNet121", None, None),
    ("densenet169.yaml", "DenseNet169", None, None),
    ("densenet201.yaml", "DenseNet201", None, None),
    ("mobilenet.yaml", "MobileNet", None, None),
    ("mobilenet.yaml", "MobileNet", *MOBILENET_SMALL),
]
IDS = ["densenet121", "densenet169", "densenet201", "mobilenet", "mobilenet_0.5_128"]


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "twin", "sets", "twin_kwargs"), CASES, ids=IDS)
def test_parity(spec: str, twin: str, sets, twin_kwargs) -> None:
    assert_parity(SPECS / spec, twin, sets=sets, twin_kwargs=twin_kwargs)


# DenseNet169/201 differ from 121 only in repeat counts, which test_parity's names cover
ORDER_CASES = [CASES[0], CASES[3], CASES[4]]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("spec", "twin", "sets", "twin_kwargs"), ORDER_CASES, ids=[IDS[0], IDS[3], IDS[4]]
)
def test_same_layers_in_the_same_order_with_the_same_arguments(
    spec: str, twin: str, sets, twin_kwargs
) -> None:
    assert_same_layers(SPECS / spec, twin, sets, twin_kwargs)
