"""specs/efficientnet*.yaml and specs/efficientnetv2*.yaml against keras.applications'
EfficientNetB0…B7 and EfficientNetV2B0…B3, S, M, L (fidelity, docs/contracts.md; slow: full
builds). All fifteen: names, params, per-layer shapes, copied weights → the same predictions, and
the drop-connect and dropout rates (each constructor's coefficients give its own). B1 and V2-S:
the same layers in the same order with the same arguments; B0 and V2-B0: the twins' weights
files. Then the published figures (not slow, no TensorFlow).

Params do not depend on the input size, so all but B0 and V2-B0 are built at a reduced size
(odd ones too, where Keras's correct_pad pads differently); the rates do not depend on it either.
"""

from __future__ import annotations

from unittest import mock

import pytest

from archcompiler.compiler import compile_file
from tests.conftest import ROOT
from tests.parity import (
    assert_parity,
    assert_same_layers,
    keras_twin,
    our_model,
    twin_weight_files,
)

SPECS = ROOT / "specs"

# spec → (twin, size it is built at: None for the constructor's own, Keras's params)
TWINS = {
    "efficientnetb0": ("EfficientNetB0", None, 5_330_571),
    "efficientnetb1": ("EfficientNetB1", 65, 7_856_239),
    "efficientnetb2": ("EfficientNetB2", 64, 9_177_569),
    "efficientnetb3": ("EfficientNetB3", 67, 12_320_535),
    "efficientnetb4": ("EfficientNetB4", 64, 19_466_823),
    "efficientnetb5": ("EfficientNetB5", 64, 30_562_527),
    "efficientnetb6": ("EfficientNetB6", 64, 43_265_143),
    "efficientnetb7": ("EfficientNetB7", 64, 66_658_687),
    "efficientnetv2b0": ("EfficientNetV2B0", None, 7_200_312),
    "efficientnetv2b1": ("EfficientNetV2B1", 65, 8_212_124),
    "efficientnetv2b2": ("EfficientNetV2B2", 64, 10_178_374),
    "efficientnetv2b3": ("EfficientNetV2B3", 64, 14_467_622),
    "efficientnetv2s": ("EfficientNetV2S", 64, 21_612_360),
    "efficientnetv2m": ("EfficientNetV2M", 64, 54_431_388),
    "efficientnetv2l": ("EfficientNetV2L", 64, 119_027_848),
}  # fmt: skip


def _case(spec: str) -> tuple[dict | None, dict]:
    """(--set values, twin kwargs) at the size the case is built at."""
    size = TWINS[spec][1]
    if size is None:
        return None, {}
    return {"size": str(size)}, {"input_shape": (size, size, 3)}


def _rates(model) -> list[tuple[str, float]]:
    return [(layer.name, layer.rate) for layer in model.layers if type(layer).__name__ == "Dropout"]


@pytest.mark.slow
@pytest.mark.parametrize("spec", list(TWINS))
def test_parity(spec: str) -> None:
    """assert_parity, and the twin's drop-connect and dropout rates: each constructor's
    coefficients give its own (drop_connect · b / blocks per block, V2 dividing by the table's
    repeats before rounding), which predictions, made in inference, do not show."""
    sets, twin_kwargs = _case(spec)
    twins = []

    def twin(name: str, **kwargs):  # the twin assert_parity builds, kept for its rates
        twins.append(keras_twin(name, **kwargs))
        return twins[-1]

    path = SPECS / f"{spec}.yaml"
    with mock.patch("tests.parity.keras_twin", twin):
        assert_parity(path, TWINS[spec][0], sets=sets, twin_kwargs=twin_kwargs)
    ours = [(n.name, n.args.rate) for n in compile_file(path, sets) if n.op == "dropout"]
    assert ours == _rates(twins[0])


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["efficientnetb1", "efficientnetv2s"])
def test_same_layers_in_the_same_order_with_the_same_arguments(spec: str) -> None:
    sets, twin_kwargs = _case(spec)
    assert_same_layers(SPECS / f"{spec}.yaml", TWINS[spec][0], sets, twin_kwargs)


WEIGHTS_CASES = ["efficientnetb0", "efficientnetv2b0"]


@pytest.mark.slow
@pytest.mark.parametrize("spec", WEIGHTS_CASES)
def test_the_twins_weights_files_load(tmp_path, spec: str) -> None:
    """keras.applications ships legacy .h5 files (a group per layer name, EfficientNet's
    Normalization mean, variance and count among them), and Keras 3 writes `.weights.h5` (by
    structure): both, written from the twin with weights that are not the initial ones, load
    into ours through `--weights` and give the twin's predictions."""
    import numpy as np

    from archcompiler.backends.keras import load_weights

    sets, twin_kwargs = {"size": "64"}, {"input_shape": (64, 64, 3)}
    twin = keras_twin(TWINS[spec][0], **twin_kwargs)
    files = twin_weight_files(twin, tmp_path)
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    want = twin.predict(x, verbose=0)
    _, ours = our_model(SPECS / f"{spec}.yaml", sets)
    for path in files:
        for w in ours.weights:  # so that every weight must come from the file
            w.assign(np.zeros(w.shape, "float32"))
        load_weights(ours, str(path))
        assert np.abs(ours.predict(x, verbose=0) - want).max() < 1e-5, path.name


# ---- without TensorFlow ---------------------------------------------------------------------


@pytest.mark.parametrize("spec", list(TWINS))
def test_params_are_kerass(spec: str) -> None:
    """Each spec's count is its twin's (keras.applications.X(weights=None).count_params())."""
    assert compile_file(SPECS / f"{spec}.yaml").total_params == TWINS[spec][2]


def test_the_families_at_their_defaults_are_b0() -> None:
    for family, b0 in (("efficientnet", "efficientnetb0"), ("efficientnetv2", "efficientnetv2b0")):
        a, b = compile_file(SPECS / f"{family}.yaml"), compile_file(SPECS / f"{b0}.yaml")
        assert [(n.name, n.op, n.shape, n.params) for n in a] == [
            (n.name, n.op, n.shape, n.params) for n in b
        ]


def test_block_names_and_drop_connect_of_b0() -> None:
    """Keras's names (block1a … block7a) and rates: drop_connect · b / 16 for block b, with no
    dropout where the rate is 0 (block1a) or there is no residual (each stage's first)."""
    g = compile_file(SPECS / "efficientnetb0.yaml")
    blocks = sorted({n.block[-1] for n in g if n.block and n.block[-1].startswith("block")})
    assert blocks == [
        "block1a", "block2a", "block2b", "block3a", "block3b", "block4a", "block4b", "block4c",
        "block5a", "block5b", "block5c", "block6a", "block6b", "block6c", "block6d", "block7a",
    ]  # fmt: skip
    drops = {n.name: n.args.rate for n in g if n.name.endswith("_drop")}
    assert drops == {f"{b}_drop": 0.2 * blocks.index(b) / 16 for b in blocks if b[-1] != "a"}
    assert g.nodes["stem_conv_pad"].args.padding == ((0, 1), (0, 1))
    assert g.nodes["block3a_dwconv_pad"].args.padding == ((1, 2), (1, 2))  # 5×5 on 56×56


def test_efficientnet_b0_against_the_paper() -> None:
    """Tan & Le 2019, Table 2 (and §4): EfficientNet-B0 has 5.3M params and 0.39B FLOPS, which
    the paper counts as multiply-adds. Our MACs count convolutions and the dense layer only
    (docs/contracts.md); SE's pooling and gating products, BN, swish and the adds count 0 here,
    so ours may fall a little short of the paper's — within its printed precision, 0.39 ± 0.005
    (385,814,752: 1.1 % under 0.39 B)."""
    g = compile_file(SPECS / "efficientnetb0.yaml")
    assert round(g.total_params / 1e6, 1) == 5.3
    assert abs(g.macs / 1e9 - 0.39) <= 0.005
    assert g.macs == 385_814_752


# The authors' release (google/automl, efficientnetv2/README.md, §2): params (the trainable
# ones: BN's moving statistics excluded) and FLOPs (multiply-adds) of each checkpoint, at its
# default size. Keras builds the released code, so ours meets them: params to their rounding,
# FLOPs within 1 % (ours count convs and the dense layer only; SE's and BN's work is 0 here).
# The paper's Table 7 gives EfficientNetV2-S 24M params and 8.8B FLOPs, which neither the
# release (21.5M, 8.4B) nor Keras's model (21,612,360 params, 8.37 G MACs at 384×384) has.
RELEASE = {  # spec: (params in millions, FLOPs in billions)
    "efficientnetv2b0": (7.1, 0.72),
    "efficientnetv2b1": (8.1, 1.2),
    "efficientnetv2b2": (10.1, 1.7),
    "efficientnetv2b3": (14.4, 3.0),
    "efficientnetv2s": (21.5, 8.4),
    "efficientnetv2m": (54.1, 24.7),
    "efficientnetv2l": (None, 56.3),  # the release lists 119.5M, ours and Keras's train 118.5M
}


@pytest.mark.parametrize("spec", list(RELEASE))
def test_efficientnetv2_against_the_release(spec: str) -> None:
    params, flops = RELEASE[spec]
    g = compile_file(SPECS / f"{spec}.yaml")
    if params is not None:
        assert round(g.trainable_params / 1e6, 1) == params
    assert abs(g.macs / 1e9 - flops) <= 0.01 * flops
