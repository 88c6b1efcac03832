"""Transfer learning: specs/vgg16_transfer.yaml (extends vgg16, `freeze: backbone`) freezes
exactly the backbone, keeps its weights bit for bit while the head learns, and the
feature-extraction path (`--cache-features`) trains the same head to the same result.

VGG16 is used at 32×32 (`--set size=32`: block5_pool is 1×1×512) on two digit classes in RGB,
so a run takes seconds; the structure is the full network's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from archcompiler.compiler import compile_file
from tests.conftest import ROOT
from tests.digits import write_digits
from tests.helpers import run_cli

TRANSFER = str(ROOT / "specs" / "vgg16_transfer.yaml")
SMALL = {"size": "32"}


@pytest.fixture(scope="module")
def two_digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_digits(tmp_path_factory.mktemp("rgb") / "d", classes=[0, 1], mode="RGB")


@pytest.fixture(scope="module")
def backbone_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A VGG16 backbone (no head) with seeded random weights, as a .keras file: the weights
    `--weights` loads by layer name (what ImageNet weights would be in real use)."""
    import keras

    from archcompiler.backends.keras import build_model

    keras.utils.set_random_seed(7)
    path = tmp_path_factory.mktemp("w") / "base.keras"
    build_model(compile_file(ROOT / "specs" / "vgg16.yaml", SMALL, head=False)).save(path)
    return path


def test_the_transfer_spec_freezes_exactly_the_backbone() -> None:
    graph = compile_file(TRANSFER, SMALL)
    head = [n for n in graph if n.section == "head"]
    backbone = [n for n in graph if n.section == "backbone"]
    assert graph.trainable_params == sum(n.weights for n in head) == 8192 // 16 * 256 + 256 + 257
    assert graph.non_trainable_params == sum(n.params for n in backbone) == 14_714_688
    assert all(not n.trainable for n in backbone) and all(n.trainable for n in head)


@pytest.mark.slow
def test_the_built_model_freezes_the_same_layers() -> None:
    from archcompiler.backends.keras import build_model, count_params

    graph = compile_file(TRANSFER, SMALL)
    model = build_model(graph)
    assert count_params(model) == (graph.trainable_params, graph.non_trainable_params)
    for node in graph:
        if node.op != "input":
            assert model.get_layer(node.name).trainable == (node.section == "head"), node.name


def _weights(path: Path) -> dict[str, list[np.ndarray]]:
    import keras

    model = keras.saving.load_model(path, compile=False)
    return {layer.name: layer.get_weights() for layer in model.layers if layer.weights}


@pytest.fixture(scope="module")
def runs(two_digits: Path, backbone_weights: Path, tmp_path_factory: pytest.TempPathFactory
         ) -> dict[str, Path]:  # fmt: skip
    """The same transfer trained twice from the same backbone: end to end, and on features."""
    out = {}
    for kind, extra in (("plain", ()), ("features", ("--cache-features",))):
        run_dir = tmp_path_factory.mktemp(kind) / "run"
        code, stdout, err = run_cli(
            "train", TRANSFER, "--set", "size=32", "--data", two_digits, "-o", run_dir,
            "--weights", backbone_weights, "--epochs", 2, "--lr", "0.01", "-q", *extra,
        )  # fmt: skip
        assert code == 0, err
        assert "14,846,273 params, 131,585 trainable" in stdout
        out[kind] = run_dir
    return out


@pytest.mark.slow
def test_frozen_weights_are_unchanged_and_the_head_learns(runs: dict, backbone_weights: Path
                                                          ) -> None:  # fmt: skip
    start = _weights(backbone_weights)
    for run_dir in runs.values():
        trained = _weights(run_dir / "last.keras")
        assert set(start) < set(trained)
        for name, arrays in start.items():  # every backbone weight, bit for bit
            for a, b in zip(arrays, trained[name], strict=True):
                np.testing.assert_array_equal(a, b, err_msg=name)
        head = [name for name in trained if name not in start]
        assert sorted(head) == ["fc", "predictions"]
        # the head moved away from where it started (the weights file has no head)
        record = json.loads((run_dir / "run.json").read_text())
        assert record["model"]["trainable_params"] == 131_585
        assert record["training"]["weights"] == str(backbone_weights)


@pytest.mark.slow
def test_feature_extraction_trains_the_same_head_to_the_same_result(runs: dict) -> None:
    import keras

    plain = keras.saving.load_model(runs["plain"] / "model.keras", compile=False)
    cached = keras.saving.load_model(runs["features"] / "model.keras", compile=False)

    def layers(m: keras.Model) -> list:
        return [
            (layer.name, type(layer).__name__, layer.get_config(), [w.shape for w in layer.weights])
            for layer in m.layers
        ]

    assert layers(plain) == layers(cached)
    h1 = json.loads((runs["plain"] / "history.json").read_text())
    h2 = json.loads((runs["features"] / "history.json").read_text())
    for a, b in zip(h1, h2, strict=True):
        for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
            assert a[key] == pytest.approx(b[key], rel=1e-3, abs=1e-3), (key, a, b)


@pytest.mark.slow
def test_the_cached_path_saves_the_full_network(runs: dict, two_digits: Path) -> None:
    """model.keras of a feature-extraction run is backbone + trained head: on raw images it
    gives what the head gives on the backbone's features."""
    import keras

    from archcompiler.backends.keras import split_at

    model = keras.saving.load_model(runs["features"] / "model.keras", compile=False)
    graph = compile_file(TRANSFER, SMALL)
    backbone, head = split_at(model, graph, "block5_pool")
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(4, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(
        model.predict(x, verbose=0), head.predict(backbone.predict(x, verbose=0), verbose=0),
        rtol=1e-5, atol=1e-6,
    )  # fmt: skip


@pytest.mark.slow
def test_weights_from_an_unrelated_model_are_refused(tmp_path: Path, two_digits: Path) -> None:
    import keras

    from archcompiler.backends.keras import build_model

    other = tmp_path / "lenet.keras"
    build_model(compile_file(ROOT / "specs" / "lenet5.yaml")).save(other)
    keras.backend.clear_session()
    code, _, err = run_cli("train", TRANSFER, "--set", "size=32", "--data", two_digits,
                       "-o", tmp_path / "run", "--weights", other)  # fmt: skip
    assert code == 1 and err.startswith(f"{other}: error: cannot load these weights"), err
    assert not (tmp_path / "run").exists()  # a run that failed before its first epoch
