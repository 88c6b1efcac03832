"""`archc train`, `evaluate` and `predict` on real images (scikit-learn's digits).

The headline: LeNet-5 (specs/lenet5.yaml, unchanged) trained through the CLI reaches ≥ 95 %
validation accuracy; evaluate and predict agree with `model.predict`; resume, --force, binary
heads, undecodable images, the mirrored strategy and augmentation work. The mistakes a user can
make (data, head, run directory) are in test_train_mistakes.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from archcompiler.compiler import compile_file
from archcompiler.errors import SpecError
from archcompiler.train.head import Classifier
from tests.conftest import ROOT
from tests.digits import write_digits
from tests.helpers import located_error, run_cli, write

LENET = str(ROOT / "specs" / "lenet5.yaml")


def history(run_dir: Path) -> list[dict]:
    return json.loads((run_dir / "history.json").read_text())


def record(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


# ---- the headline run, shared by several tests --------------------------------------------


@pytest.fixture(scope="module")
def lenet_run(digits_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "lenet5"
    code, out, err = run_cli(
        "train", LENET, "--data", digits_dir, "-o", run_dir, "--epochs", 8, "-q"
    )
    assert code == 0, err
    assert "Best epoch" in out
    return run_dir


@pytest.mark.slow
def test_lenet5_learns_the_digits(lenet_run: Path) -> None:
    """≥ 95 % validation accuracy on 359 held-out digits, 8 epochs, fixed seed."""
    h = history(lenet_run)
    assert [e["epoch"] for e in h] == list(range(1, 9))
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "seconds", "images_per_second"):
        assert all(key in e for e in h), key
    best = max(e["val_accuracy"] for e in h)
    assert best >= 0.95, h
    r = record(lenet_run)
    assert r["result"]["best_val_accuracy"] == best
    assert h[r["result"]["best_epoch"] - 1]["val_accuracy"] == best


@pytest.mark.slow
def test_the_run_directory_holds_everything(lenet_run: Path, digits_dir: Path) -> None:
    import keras

    assert {"model.keras", "last.keras", "history.json", "curves.png", "run.json"} <= {
        p.name for p in lenet_run.iterdir()
    }
    assert (lenet_run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = record(lenet_run)
    assert r["spec"]["sha256"] == hashlib.sha256(Path(LENET).read_bytes()).hexdigest()
    assert r["spec"]["params"] == {"classes": 10, "activation": "tanh"}
    assert r["data"]["class_names"] == [str(d) for d in range(10)]
    assert r["data"]["train_images"] + r["data"]["val_images"] == 1797
    assert r["data"]["skipped_images"] == 0
    assert r["model"]["loss"] == "sparse_categorical_crossentropy"
    assert {"tensorflow", "keras", "python", "archcompiler"} <= set(r["versions"])
    assert r["command"][:5] == ["archc", "train", LENET, "--data", str(digits_dir)]
    assert r["command"][-3:] == ["--epochs", "8", "--quiet"]
    # the best model is the spec, layer for layer, and loads with plain Keras
    model = keras.saving.load_model(lenet_run / "model.keras")
    graph = compile_file(LENET)
    assert [layer.name for layer in model.layers] == [n.name for n in graph]
    assert model.count_params() == graph.total_params


@pytest.mark.slow
def test_evaluate_and_predict_agree_with_model_predict(lenet_run: Path, digits_dir: Path) -> None:
    import keras
    from PIL import Image

    paths = sorted(digits_dir.glob("*/*.png"))
    x = np.stack([np.asarray(Image.open(p), dtype="float32")[..., None] for p in paths]) / 255
    truth = np.array([int(p.parent.name) for p in paths])
    model = keras.saving.load_model(lenet_run / "model.keras")
    probs = model.predict(x, verbose=0)

    confusion = lenet_run / "cm.png"
    code, out, err = run_cli(
        "evaluate", lenet_run / "model.keras", "--data", digits_dir, "--format", "json",
        "--confusion", confusion,
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["images"] == len(paths)
    assert report["accuracy"] == pytest.approx(float((probs.argmax(1) == truth).mean()))
    expected = np.zeros((10, 10), dtype=int)
    np.add.at(expected, (truth, probs.argmax(1)), 1)
    assert report["confusion_matrix"] == expected.tolist()
    assert confusion.read_bytes()[:4] == b"\x89PNG"

    some = paths[::300]
    code, out, err = run_cli(
        "predict", lenet_run / "model.keras", *some, "--top", 3, "--format", "json"
    )
    assert code == 0, err
    for result, p in zip(json.loads(out), probs[::300], strict=True):
        order = np.argsort(-p)[:3]
        assert [t["index"] for t in result["top"]] == order.tolist()
        got = [t["probability"] for t in result["top"]]
        np.testing.assert_allclose(got, p[order], rtol=1e-5)


@pytest.mark.slow
def test_predict_refuses_a_file_that_is_not_an_image(lenet_run: Path, tmp_path: Path) -> None:
    bad = tmp_path / "x.png"
    bad.write_text("not an image")
    code, out, err = run_cli("predict", lenet_run / "model.keras", bad)
    located_error(code, out, err, bad, "cannot read this image")


@pytest.mark.slow
def test_resume_continues_from_the_last_epoch(lenet_run: Path, digits_dir: Path,
                                              tmp_path: Path) -> None:  # fmt: skip
    run_dir = tmp_path / "resumed"
    shutil.copytree(lenet_run, run_dir)
    code, out, err = run_cli("train", LENET, "--data", digits_dir, "--resume", run_dir,
                         "--epochs", 9, "-q")  # fmt: skip
    assert code == 0, err
    assert "Resuming" in out
    assert [e["epoch"] for e in history(run_dir)] == list(range(1, 10))
    assert record(run_dir)["resumed"][0]["from_epoch"] == 8
    # nothing more to do once the total is reached
    code, out, _ = run_cli("train", LENET, "--data", digits_dir, "--resume", run_dir, "--epochs", 9)
    assert code == 0 and "Nothing to do" in out


# ---- fast: classes and heads, without TensorFlow ------------------------------------------------


def test_a_feature_map_output_and_several_outputs_are_refused() -> None:
    with pytest.raises(SpecError, match="one vector of class scores"):
        Classifier.of_graph(compile_file(ROOT / "specs" / "vgg16.yaml", {"size": "32"}, head=False))
    with pytest.raises(SpecError, match="one input and one output"):
        Classifier.of_graph(compile_file(ROOT / "specs" / "googlenet.yaml", {"aux": "true"}))


def test_cache_features_needs_a_frozen_backbone(digits_dir: Path) -> None:
    code, _, err = run_cli("train", LENET, "--data", digits_dir, "--cache-features")
    assert code == 1 and "needs a frozen backbone, but 'c1' is trainable" in err
    assert err.startswith(f"{LENET}:")
    code, _, err = run_cli("train", LENET, "--data", digits_dir, "--cache-features", "--augment")
    assert code == 2 and "no --augment" in err


# ---- slow: what real folders do --------------------------------------------------------------


@pytest.mark.slow
def test_undecodable_images_are_skipped_and_counted(tmp_path: Path) -> None:
    data = write_digits(tmp_path / "d", classes=[0, 1])
    good = sum(1 for _ in data.rglob("*.png"))
    (data / "0" / "random.png").write_bytes(os.urandom(600))
    png = next((data / "1").glob("*.png")).read_bytes()
    (data / "1" / "truncated.png").write_bytes(png[: len(png) // 3])
    (data / "1" / "text.jpg").write_text("this is not a JPEG")
    run_dir = tmp_path / "run"
    code, out, err = run_cli("train", LENET, "--data", data, "-o", run_dir, "--epochs", 2, "-q")
    assert code == 0, err
    assert "warning: skipped 3 image(s) that could not be decoded" in err
    d = record(run_dir)["data"]
    assert d["skipped_images"] == 3 and d["train_images"] + d["val_images"] == good
    # evaluate skips them too, and says so
    code, out, err = run_cli(
        "evaluate", run_dir / "model.keras", "--data", data, "--format", "json"
    )
    assert code == 0, err
    assert json.loads(out)["images"] == good and "skipped 3" in err


@pytest.mark.slow
def test_a_class_with_no_decodable_image_is_an_error_at_its_folder(tmp_path: Path) -> None:
    """A class folder of zero-byte files used to train with a warning only; now it is refused,
    and the skipped images of the other class are still only counted."""
    data = write_digits(tmp_path / "d", classes=[0, 1])
    (data / "2").mkdir()
    for i in range(5):
        (data / "2" / f"{i}.png").write_bytes(b"")
    run_dir = tmp_path / "run"
    code, _, err = run_cli("train", LENET, "--data", data, "-o", run_dir, "--epochs", 1, "-q")
    assert code == 1, err
    assert err.startswith(f"{data / '2'}: error: no image in class folder '2' could be decoded")
    assert "Traceback" not in err and not run_dir.exists()


@pytest.mark.slow
def test_skipped_images_that_decode_are_not_called_undecodable(tmp_path: Path) -> None:
    """When the decode pass drops images that do decode (the resize or the cache ran out of
    memory), "could not be decoded" would be false: it is an error saying what happened."""
    from archcompiler.train.pipeline import Decoded, check_decoded

    data = write_digits(tmp_path / "d", classes=[0, 1])
    paths = tuple(str(p) for p in sorted(data.rglob("*.png")))
    lost = Decoded(None, len(paths) - 2, 2, (len(paths) // 2 - 2, len(paths) // 2), paths)
    with pytest.raises(SpecError, match="2 image\\(s\\) decode but could not be resized"):
        check_decoded(str(data), ("0", "1"), lost)
    (data / "0" / "broken.png").write_bytes(b"not a png")
    really = Decoded(
        None,
        len(paths),
        1,
        (len(paths) // 2, len(paths) // 2),
        (*paths, str(data / "0" / "broken.png")),
    )
    check_decoded(str(data), ("0", "1"), really)  # one skipped, and it does not decode: fine


@pytest.mark.slow
def test_a_binary_head_with_classes_from_folders_and_force(tmp_path: Path) -> None:
    """One sigmoid unit on two classes trains with binary cross-entropy; --force replaces a
    run but keeps the user's own files."""
    data = write_digits(tmp_path / "d", classes=[0, 1])
    spec = write(tmp_path, """
        archspec: 1
        name: binary
        input: {shape: [32, 32, 1]}
        backbone:
          - conv: {filters: 4, kernel: 3, strides: 2, activation: relu}
          - global_avg_pool: {}
        head:
          - dense: {units: 1, activation: sigmoid, name: out}
    """)  # fmt: skip
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "notes.txt").write_text("mine")
    (run_dir / "model.keras").write_text("an old run")
    code, out, err = run_cli("train", spec, "--data", data, "-o", run_dir, "--epochs", 6,
                         "--lr", "0.02", "--force", "-q", "--tensorboard")  # fmt: skip
    assert code == 0, err
    assert "binary_crossentropy on 'out' (1 sigmoid unit)" in out
    assert max(e["val_accuracy"] for e in history(run_dir)) > 0.8
    assert (run_dir / "notes.txt").read_text() == "mine"
    assert any((run_dir / "logs").rglob("events.out.tfevents.*"))


@pytest.mark.slow
def test_classes_set_from_a_three_class_folder_mirrored_and_augmented(tmp_path: Path) -> None:
    import keras

    data = write_digits(tmp_path / "d", classes=[3, 5, 8])
    run_dir = tmp_path / "run"
    code, _, err = run_cli("train", LENET, "--data", data, "-o", run_dir, "--epochs", 1, "-q",
                       "--strategy", "mirrored", "--augment")  # fmt: skip
    assert code == 0, err
    r = record(run_dir)
    assert r["spec"]["params"]["classes"] == 3 and r["data"]["class_names"] == ["3", "5", "8"]
    assert r["training"]["strategy"] == "mirrored" and r["training"]["devices"]
    assert keras.saving.load_model(run_dir / "model.keras").output_shape == (None, 3)
