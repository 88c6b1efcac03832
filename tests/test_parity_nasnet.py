"""NASNet-A against keras.applications (fidelity, docs/contracts.md; slow: full builds) and
against the paper's figures (fast: the compiler alone).

NASNetMobile's parity is held at its full size (224); the rest at reduced sizes, the smallest
Keras takes (≥ 32) at which every layer and every argument is the one of the full size (each
padding Keras's correct_pad computes from a size's parity, each adjust path its size
comparisons choose): 32 for NASNetMobile (as 224), 43 for NASNetLarge (as 331), which a fast
test below holds. Params do not depend on the size.
"""

from __future__ import annotations

import pytest

from archcompiler.compiler import compile_file
from tests.conftest import ROOT
from tests.parity import assert_parity, assert_same_layers, keras_twin, our_model, twin_weight_files

SPECS = ROOT / "specs"
MOBILE, LARGE = SPECS / "nasnet_mobile.yaml", SPECS / "nasnet_large.yaml"


@pytest.mark.slow
def test_nasnet_mobile_parity_at_full_size() -> None:
    assert_parity(MOBILE, "NASNetMobile")  # 224×224×3, 1000 classes


@pytest.mark.slow
def test_nasnet_large_parity_at_a_reduced_size() -> None:
    assert_parity(
        LARGE, "NASNetLarge", sets={"size": "43"}, twin_kwargs={"input_shape": (43, 43, 3)}
    )


@pytest.mark.slow
def test_nasnet_mobile_same_layers_in_the_same_order_with_the_same_arguments() -> None:
    assert_same_layers(MOBILE, "NASNetMobile", {"size": "32"}, {"input_shape": (32, 32, 3)})


@pytest.mark.slow
def test_the_nasnet_mobile_weights_files_load(tmp_path) -> None:
    """The twin's legacy .h5 (by layer name, as keras.applications ships NASNet-mobile.h5) and
    its Keras 3 .weights.h5 (by structure) load into ours and give the twin's predictions."""
    import numpy as np

    from archcompiler.backends.keras import load_weights

    twin = keras_twin("NASNetMobile", input_shape=(32, 32, 3))
    legacy, current = twin_weight_files(twin, tmp_path)
    x = np.random.default_rng(4).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    want = twin.predict(x, verbose=0)
    for path in (legacy, current):
        _, ours = our_model(MOBILE, {"size": "32"})
        load_weights(ours, str(path))
        assert np.abs(ours.predict(x, verbose=0) - want).max() < 1e-5, path.name


# ---- the paper's figures --------------------------------------------------------------------
# Zoph et al., CVPR 2018: Table 3 (mobile, 224×224) NASNet-A (4 @ 1056): 5.3 M parameters,
# 564 M mult-adds; Table 2 (large, 331×331) NASNet-A (6 @ 4032): 88.9 M parameters, 23.8 B
# mult-adds. Convention: the paper's mult-adds are our MACs (multiply-accumulates of the convs
# and the classifier, batch 1; the paper's figures include the 1000-way classifier, as do
# Keras's counts). Tolerance: half a unit of the last printed digit (the paper rounds).
PAPER = {  # spec: (params, params unit, mult-adds, mult-adds unit)
    "nasnet_mobile": (5.3, 1e6, 564, 1e6),
    "nasnet_large": (88.9, 1e6, 23.8, 1e9),
}


@pytest.mark.parametrize("name", list(PAPER))
def test_params_and_mult_adds_of_the_paper(name: str) -> None:
    params, p_unit, macs, m_unit = PAPER[name]
    g = compile_file(SPECS / f"{name}.yaml")
    assert abs(g.total_params - params * p_unit) <= 0.05 * p_unit
    assert abs(g.macs - macs * m_unit) <= (0.5 if m_unit == 1e6 else 0.05) * m_unit


def layers(spec, sets=None) -> list:
    return [(n.name, n.op, n.inputs, n.args and n.args.model_dump()) for n in
            compile_file(spec, sets)]  # fmt: skip


def test_keras_counts_without_tensorflow() -> None:
    """keras.applications' NASNetMobile and NASNetLarge counts (total, trainable), from the
    compiler alone; the slow tests above hold them against the built twins. The family spec at
    its defaults is NASNetMobile, node for node."""
    mobile, large = compile_file(MOBILE), compile_file(LARGE)
    assert (mobile.total_params, mobile.trainable_params) == (5_326_716, 5_289_978)
    assert (large.total_params, large.trainable_params) == (88_949_818, 88_753_150)
    assert layers(SPECS / "nasnet.yaml") == layers(MOBILE)


@pytest.mark.parametrize(("spec", "size"), [(MOBILE, "32"), (LARGE, "43")], ids=["mobile", "large"])
def test_the_reduced_size_has_the_full_sizes_layers_and_arguments(spec, size: str) -> None:
    """What lets the slow tests build small: the same layers, inputs and arguments."""
    assert layers(spec, {"size": size}) == layers(spec)


def test_the_family_wires_any_num_blocks() -> None:
    """Each cell reads the two cells before it (`repeat: {inputs: 2}`): n cells per stage, for
    any n, the stage's last two named by expression; n = 1 reads the stage's entry as Keras."""
    for n in range(1, 9):
        g = compile_file(SPECS / "nasnet.yaml", {"num_blocks": str(n)})
        first, last = g.nodes["normal_concat_0"], g.nodes[f"normal_concat_{3 * n}"]
        assert first.shape[-1] == 6 * 1056 // 24 and last.shape[-1] == 1056
        assert f"normal_concat_{3 * n + 1}" not in g.nodes


def test_specs_stay_small() -> None:
    assert len((SPECS / "nasnet.yaml").read_text().splitlines()) <= 100
    for spec in (MOBILE, LARGE):
        assert len(spec.read_text().splitlines()) <= 20


@pytest.mark.slow
def test_an_odd_num_blocks_is_kerass_nasnet_too(monkeypatch) -> None:
    """`repeat: {inputs: 2}` wires any num_blocks as Keras's loop does: the family at 3 @ 288
    against keras.applications.nasnet.NASNet built with the same arguments."""
    import keras
    from keras.src.applications import nasnet

    import tests.parity as parity

    def twin(name: str, **kwargs):
        keras.backend.clear_session()
        return nasnet.NASNet(input_shape=(32, 32, 3), penultimate_filters=288, num_blocks=3,
                             stem_block_filters=32, skip_reduction=True, weights=None,
                             default_size=32)  # fmt: skip

    monkeypatch.setattr(parity, "keras_twin", twin)
    sets = {"penultimate_filters": "288", "num_blocks": "3", "skip_reduction": "true",
            "size": "32"}  # fmt: skip
    assert_parity(SPECS / "nasnet.yaml", "NASNet", sets=sets)
