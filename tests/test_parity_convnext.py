"""ConvNeXt (specs/convnext*.yaml) against keras.applications' ConvNeXtTiny … ConvNeXtXLarge
(fidelity, docs/contracts.md; slow: full builds): names, params, per-layer shapes, copied weights
→ the same predictions; the same layers in the same order with the same arguments; the twin's
weights files; and, without TensorFlow, the figures the paper publishes.

Keras nests the stem and each downsampling layer in a Sequential; ours are flat, those
Sequentials' layers named as Keras names them, so the comparisons take the twin's nested layers
in their place (tests/parity.py `flat_layers`). Keras's LayerScale is a custom class: ours is the
core EinsumDense with its weight (`CORE_TWINS`). Keras adds each block's residual with `+`,
which makes no layer, so ours has one weightless `…_add` layer per block more
(`weightless_extra`). Params do not depend on the input size: ConvNeXtTiny is built at its
full 224 px, the others at 32 px (Keras's smallest).
"""

from __future__ import annotations

import math

import pytest

from archcompiler.compiler import compile_file
from tests.conftest import ROOT
from tests.parity import (
    assert_parity,
    assert_same_layers,
    flat_layers,
    give_fresh_weights,
    keras_twin,
    our_model,
    same_class,
    twin_weight_files,
)

SPECS = ROOT / "specs"
SMALL = ({"size": "32"}, {"input_shape": (32, 32, 3)})

CASES = [  # (spec, twin, --set values, twin kwargs)
    ("convnext_tiny.yaml", "ConvNeXtTiny", None, None),
    ("convnext_small.yaml", "ConvNeXtSmall", *SMALL),
    ("convnext_base.yaml", "ConvNeXtBase", *SMALL),
    ("convnext_large.yaml", "ConvNeXtLarge", *SMALL),
    ("convnext_xlarge.yaml", "ConvNeXtXLarge", *SMALL),
]
IDS = ["tiny_224", "small_32", "base_32", "large_32", "xlarge_32"]


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "twin", "sets", "twin_kwargs"), CASES, ids=IDS)
def test_parity(spec: str, twin: str, sets, twin_kwargs) -> None:
    """Fresh weights: the initial LayerScale (1e-6) would all but zero each block's branch. The
    softmax outputs are about 1e-3 here, and one weight off by half moves them about 1e-6, so
    the tolerance is 1e-8 (the same ops in the same order: we measure 0.0)."""
    assert_parity(SPECS / spec, twin, sets, twin_kwargs, atol=1e-8, weightless_extra=True,
                  fresh_weights=True)  # fmt: skip


@pytest.mark.slow
def test_same_layers_in_the_same_order_with_the_same_arguments() -> None:
    assert_same_layers(SPECS / "convnext_tiny.yaml", "ConvNeXtTiny", *SMALL, weightless_extra=True)


# Keras prints one warning per nested container of the twin's .weights.h5 it cannot place.
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Skipping nested container:UserWarning")
def test_the_twins_weights_files_load(tmp_path) -> None:
    """keras.applications ships legacy .h5 files, one group per top-level layer: the stem's and
    each downsampling layer's weights lie in the group of their Sequential, named
    `…_stem/…_stem_conv/kernel`; load_weights gives them to our flat layers of those names. A
    `.keras` file of the twin loads by name too. Keras 3's `.weights.h5` holds the structure
    only (a Sequential's layers in their own group, no names), which a flat model does not
    have: it is refused, not half loaded."""
    import numpy as np

    from archcompiler.backends.keras import load_weights

    twin = keras_twin("ConvNeXtTiny", **SMALL[1])
    legacy, current = twin_weight_files(twin, tmp_path)
    whole = tmp_path / "twin.keras"
    twin.save(str(whole))
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32")  # pixels, as ConvNeXt takes them
    want = twin.predict(x, verbose=0)
    loaded = {}
    for path in (legacy, whole):
        _, ours = our_model(SPECS / "convnext_tiny.yaml", SMALL[0])
        loaded[path] = load_weights(ours, str(path))
        assert np.abs(ours.predict(x, verbose=0) - want).max() < 1e-8, path.name
    assert loaded == {
        legacy: "layers by name, 8 of them from nested models",  # the stem's 2 and 3 × 2
        whole: "100 of 100 layers with weights, by name",
    }
    _, ours = our_model(SPECS / "convnext_tiny.yaml", SMALL[0])
    with pytest.raises(ValueError, match=r"a legacy \.h5 or a \.keras file loads by name"):
        load_weights(ours, str(current))


@pytest.mark.slow
def test_stochastic_depth_is_a_per_sample_dropout() -> None:
    """With drop_path_rate > 0 Keras places its StochasticDepth from the first block with a
    rate above 0 (np.linspace over all blocks, so block 0 keeps the identity); ours is a Dropout
    of the same rate with noise_shape (batch, 1, 1, 1): the same layers, the same rates to the
    bit, the same predictions at inference, and in training both zero a whole sample or scale
    it by 1 / (1 − rate)."""
    import keras
    import numpy as np
    from keras.src.applications.convnext import ConvNeXt

    depths, widths = [3, 3, 9, 3], [96, 192, 384, 768]
    keras.backend.clear_session()
    twin = ConvNeXt(depths, widths, drop_path_rate=0.1, name="convnext_tiny", weights=None,
                    input_shape=(32, 32, 3))  # fmt: skip
    give_fresh_weights(twin)
    _, ours = our_model(SPECS / "convnext_tiny.yaml", {**SMALL[0], "drop_path_rate": "0.1"})
    theirs = {layer.name: layer for layer in flat_layers(twin)}
    dropped = [n for n, layer in theirs.items() if type(layer).__name__ == "StochasticDepth"]
    assert len(dropped) == sum(depths) - 1 and "convnext_tiny_stage_0_block_0_identity" in theirs
    for name, layer in theirs.items():
        if type(layer).__name__ == "InputLayer":
            continue
        mine = ours.get_layer(name)
        assert same_class(mine, layer) or name in dropped, name
        if name in dropped:
            assert type(mine).__name__ == "Dropout" and mine.rate == layer.drop_path_rate
            assert mine.noise_shape == (None, 1, 1, 1)
        mine.set_weights(layer.get_weights())
    x = np.random.default_rng(5).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    assert np.abs(ours.predict(x, verbose=0) - twin.predict(x, verbose=0)).max() < 1e-8
    ones = np.ones((512, 2, 2, 3), "float32")
    for layer in (theirs[dropped[-1]], ours.get_layer(dropped[-1])):
        y = np.asarray(layer(ones, training=True)).reshape(512, -1)
        keep = 1 - 0.1
        assert np.all((y == 0).all(axis=1) | np.isclose(y, 1 / keep).all(axis=1))
        assert 0.8 < np.isclose(y[:, 0], 1 / keep).mean() < 0.97  # ≈ 0.9 of the samples kept


def test_layer_scale_is_keras_layer_scale() -> None:
    """The EinsumDense our `layer_scale` op becomes holds Keras's LayerScale's one weight and
    computes the same x · γ."""
    import numpy as np

    keras = pytest.importorskip("keras")
    from keras.src.applications.convnext import LayerScale

    from archcompiler.backends.keras_layers import EMITTERS
    from archcompiler.ops import OPS

    class_name, emit = EMITTERS["layer_scale"]
    ours = getattr(keras.layers, class_name)(
        **emit(OPS["layer_scale"](projection_dim=5), (3, 4, 5))
    )
    theirs = LayerScale(1e-6, 5)
    x = np.random.default_rng(6).normal(size=(2, 3, 4, 5)).astype("float32")  # not square
    ours(x), theirs(x)
    assert [w.shape for w in ours.weights] == [w.shape for w in theirs.weights] == [(5,)]
    assert np.allclose(ours.get_weights()[0], 1e-6)
    gamma = np.arange(1, 6, dtype="float32")
    ours.set_weights([gamma]), theirs.set_weights([gamma])
    assert np.allclose(ours(x), x * gamma) and np.allclose(ours(x), theirs(x))


# Liu et al., "A ConvNet for the 2020s", CVPR 2022, Table 1 (as the official repository's
# README lists them): params in millions, FLOPs (multiply-accumulates, as the paper counts them
# with fvcore) in G, at 224 px. The paper rounds to the million and to 0.1 G; ConvNeXt-T's 28.6 M
# is torchvision's figure for the same model (the README rounds it to 28 M and 29 M).
PUBLISHED = {
    "convnext_tiny": (28.6, 4.5),
    "convnext_small": (50, 8.7),
    "convnext_base": (89, 15.4),
    "convnext_large": (198, 34.4),
    "convnext_xlarge": (350, 60.9),
}


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_the_papers_params_and_flops(name: str) -> None:
    """Our counts, rounded as the paper rounds: MACs count convolutions and dense layers only
    (LayerNorm, GELU, LayerScale and the adds count 0), which gives fvcore's figures."""
    params, gmacs = PUBLISHED[name]
    g = compile_file(SPECS / f"{name}.yaml")
    digits = 1 if isinstance(params, float) else 0
    assert round(g.total_params / 1e6, digits) == params
    assert round(g.macs / 1e9, 1) == gmacs
    assert g.trainable_params == g.total_params  # LayerNorm has no moving statistics


def test_convnext_t_counts_exactly() -> None:
    """keras.applications.ConvNeXtTiny's count, and its MACs by hand: per block at H×W×C a 7×7
    depthwise conv (49·C per position) and the 4× MLP (8·C² per position)."""
    g = compile_file(SPECS / "convnext_tiny.yaml")
    assert g.total_params == 28_589_128
    sides, widths, depths = [56, 28, 14, 7], [96, 192, 384, 768], [3, 3, 9, 3]
    stages = zip(depths, sides, widths, strict=True)
    blocks = sum(d * s * s * (49 * c + 8 * c * c) for d, s, c in stages)
    stem = 56 * 56 * 4 * 4 * 3 * 96
    down = sum(s * s * 2 * 2 * widths[i] * widths[i + 1] for i, s in enumerate(sides[1:]))
    head = 768 * 1000
    assert g.macs == blocks + stem + down + head
    assert math.isclose(g.macs, 4.456e9, rel_tol=1e-3)  # torchvision: 4.456 GFLOPs
