"""`optimize_for_inference` (archcompiler/optimize.py): the rewritten model predicts what Keras
predicts with the model as built — on random input and on real digit images — with the batch
norms it can fold gone and the others (DenseNet's pre-activation ones) still there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT

TOLERANCE = 1e-4  # of the largest |output|, as `archc export` checks (archcompiler/export.py)


def _built(spec: str, head: bool = True, **sets: object):
    from archcompiler.backends.keras import build_model
    from archcompiler.compiler import compile_file
    from tests.parity import give_fresh_weights

    graph = compile_file(ROOT / "specs" / spec, {k: str(v) for k, v in sets.items()}, head=head)
    model = build_model(graph)
    give_fresh_weights(model)  # random moving statistics: a wrong fold cannot hide
    return model


def _digits(root: Path, size: int, channels: int, n: int = 4) -> np.ndarray:
    """The first `n` digit images, size×size, scaled to [-1, 1]."""
    from PIL import Image

    from tests.digits import write_digits

    mode = "L" if channels == 1 else "RGB"
    folder = write_digits(root, size=size, classes=range(n), mode=mode)
    files = [sorted((folder / str(d)).glob("*.png"))[0] for d in range(n)]
    images = np.stack([np.asarray(Image.open(f), np.float32) for f in files])
    return (images.reshape(n, size, size, channels) / 127.5 - 1).astype(np.float32)


def _relative_delta(a, b, x) -> float:
    want = np.asarray(a(x, training=False), np.float64)
    got = np.asarray(b(x, training=False), np.float64)
    scale = float(np.max(np.abs(want)))
    assert scale > 0
    return float(np.max(np.abs(got - want))) / scale


def _count(model, kind: str) -> int:
    return sum(type(layer).__name__ == kind for layer in model.layers)


def _check(model, tmp_path: Path, bn_left: int | None = 0) -> tuple[float, object]:
    from archcompiler.optimize import optimize_for_inference

    result = optimize_for_inference(model)
    fast = result.model
    shape = tuple(model.input_shape[1:])
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(2, *shape)).astype(np.float32)
    real = _digits(tmp_path / "digits", shape[0], shape[-1])
    delta = max(_relative_delta(model, fast, x), _relative_delta(model, fast, real))
    print(f"{model.name}: max |Δ| / max |y| = {delta:.2e}, {result.report()}")
    assert delta < TOLERANCE, delta
    assert len(result.folded) == _count(model, "BatchNormalization") - _count(
        fast, "BatchNormalization"
    )
    if bn_left is not None:
        assert _count(fast, "BatchNormalization") == bn_left
    assert len(fast.layers) == len(model.layers) - len(result.folded) - len(result.merged) - len(
        result.dropped
    )
    assert _count(fast, "Dropout") == 0
    assert fast.count_params() <= model.count_params()
    return delta, result


def test_lenet5_keeps_its_predictions(tmp_path: Path) -> None:
    """No batch norm to fold: the model is rebuilt layer for layer."""
    _, result = _check(_built("lenet5.yaml"), tmp_path)
    assert not result.folded


def test_a_tiny_network_folds_every_kind_of_host(tmp_path: Path) -> None:
    """Conv2D without bias, DepthwiseConv2D with a depth multiplier, SeparableConv2D and Dense,
    each followed by a BN; ReLU(6), a residual Add with two inputs, Dropout; and a BN after an
    Add, which nothing can take."""
    import keras

    from tests.parity import give_fresh_weights

    L = keras.layers
    x = inp = keras.Input((16, 16, 3), name="image")
    x = L.Conv2D(8, 3, padding="same", use_bias=False, name="c1")(x)
    x = L.BatchNormalization(name="c1_bn")(x)
    x = L.ReLU(6.0, name="c1_relu6")(x)
    y = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="dw")(x)
    y = L.BatchNormalization(name="dw_bn")(y)
    y = L.Activation("swish", name="dw_swish")(y)
    y = L.SeparableConv2D(8, 3, padding="same", name="sep")(y)
    y = L.BatchNormalization(name="sep_bn")(y)
    x = L.Add(name="add")([x, y])
    x = L.BatchNormalization(name="after_add")(x)  # after a merge: stays
    x = L.GlobalAveragePooling2D(name="gap")(x)
    x = L.Dropout(0.5, name="drop")(x)
    x = L.Dense(10, name="fc")(x)
    x = L.BatchNormalization(name="fc_bn")(x)
    out = L.Softmax(name="probs")(x)
    model = keras.Model(inp, out)
    give_fresh_weights(model)
    _, result = _check(model, tmp_path, bn_left=1)
    assert sorted(result.folded) == ["c1_bn", "dw_bn", "fc_bn", "sep_bn"]
    assert sorted(result.merged) == ["c1_relu6", "dw_swish", "probs"]
    assert result.dropped == ["drop"]


def test_an_output_is_not_swallowed(tmp_path: Path) -> None:
    """A conv whose output is also a model output keeps its BN beside it."""
    import keras

    from archcompiler.optimize import optimize_for_inference

    inp = keras.Input((8, 8, 3))
    c = keras.layers.Conv2D(4, 3, name="c")(inp)
    b = keras.layers.BatchNormalization(name="b")(c)
    result = optimize_for_inference(keras.Model(inp, [c, b]))
    assert not result.folded and len(result.model.outputs) == 2


# Headless: with random weights a softmax head saturates to exact 0s and 1s, which would hide
# any difference before it (the tiny network above covers a Dense head).
FAMILIES = [
    # spec, --set, batch norms left
    ("resnet18.yaml", {"size": 64}, 0),
    ("mobilenetv2.yaml", {"size": 96, "alpha": 0.35}, 0),
]
SLOW_FAMILIES = [
    ("resnet50.yaml", {"size": 64}, 0),
    ("mobilenet.yaml", {"size": 96, "alpha": 0.25}, 0),
    ("densenet121.yaml", {"size": 64}, None),  # pre-activation BNs remain
    ("efficientnetb0.yaml", {"size": 64}, 0),
    ("convnext_tiny.yaml", {"size": 64}, 0),  # LayerNorm: nothing to fold
]


@pytest.mark.parametrize(("spec", "sets", "left"), FAMILIES, ids=[f[0] for f in FAMILIES])
def test_a_family_keeps_its_predictions(spec, sets, left, tmp_path: Path) -> None:
    _, result = _check(_built(spec, head=False, **sets), tmp_path, bn_left=left)
    assert result.folded


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "sets", "left"), SLOW_FAMILIES, ids=[f[0] for f in SLOW_FAMILIES])
def test_a_large_family_keeps_its_predictions(spec, sets, left, tmp_path: Path) -> None:
    model = _built(spec, head=False, **sets)
    _, result = _check(model, tmp_path, bn_left=left)
    if spec.startswith("densenet"):  # the BN after each dense block's concatenation stays
        fast = result.model
        assert 0 < _count(fast, "BatchNormalization") < _count(model, "BatchNormalization")
        for layer in fast.layers:
            if type(layer).__name__ == "BatchNormalization":
                before = layer._inbound_nodes[0].input_tensors[0]._keras_history.operation
                assert type(before).__name__ not in {"Conv2D", "Dense"}, layer.name


def test_build_inference_writes_the_optimized_model(tmp_path: Path) -> None:
    """`archc build --inference` says what it did and writes a model without the folded batch
    norms, which plain Keras loads and which predicts what the model as built predicts."""
    import keras

    from tests.helpers import run_cli

    plain, fast = tmp_path / "plain.keras", tmp_path / "fast.keras"
    spec = ROOT / "specs" / "resnet18.yaml"
    sets = ["--set", "size=32", "--set", "classes=10", "-q"]
    assert run_cli("build", spec, *sets, "-o", plain)[0] == 0
    code, out, err = run_cli("build", spec, *sets, "--inference", "-o", fast)
    assert code == 0, err
    assert "20 batch norms folded" in out, out
    before = keras.saving.load_model(plain, compile=False)
    after = keras.saving.load_model(fast, compile=False)
    assert _count(after, "BatchNormalization") == 0
    assert f"{len(before.layers):,} → {len(after.layers):,} layers" in out, out
    from archcompiler.optimize import optimize_for_inference  # the two builds' weights differ

    again = optimize_for_inference(before).model
    assert [type(a).__name__ for a in again.layers] == [type(b).__name__ for b in after.layers]


@pytest.mark.slow
def test_export_optimize(tmp_path: Path) -> None:
    """`archc export --optimize`: the artifact is of the optimized model, verified in its
    runtime."""
    from tests.helpers import run_cli

    spec = ROOT / "specs" / "mobilenetv2.yaml"
    out_dir = tmp_path / "mnv2"
    code, out, err = run_cli("export", spec, "--set", "size=32", "--set", "alpha=0.35",
                             "--optimize", "-o", f"{out_dir}/")  # fmt: skip
    assert code == 0, err
    assert "52 batch norms folded" in out and "Verified:" in out, out
