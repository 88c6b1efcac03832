"""`archc train`, `evaluate` and `predict` on real images (scikit-learn's digits).

The headline: LeNet-5 (specs/lenet5.yaml, unchanged) trained through the CLI reaches ≥ 95 %
validation accuracy; evaluate and predict agree with `model.predict`; resume, --force, binary
heads, undecodable images, the mirrored strategy and augmentation work; early stopping stops
where Keras's rule says, Ctrl-C leaves a consistent run and the command that continues it (a
cosine schedule included), curves mark the best epoch, and evaluations of two folders keep
both. The mistakes a user can make (data, head, run directory) are in test_train_mistakes.py;
the schedules' formulas and their resumption in test_train_properties.py.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
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
    # a constant rate is logged too; curves.png says which epoch it marks as the best
    assert [e["learning_rate"] for e in history(lenet_run)] == pytest.approx([1e-3] * 8)
    from PIL import Image

    marked = Image.open(lenet_run / "curves.png").text["Description"]
    assert marked == f"best: epoch {r['result']['best_epoch']}"


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


@pytest.mark.slow
def test_evaluations_of_two_folders_keep_both(lenet_run: Path, digits_dir: Path,
                                              tmp_path: Path) -> None:  # fmt: skip
    """The confusion matrix and the report are named after the data folder."""
    holdout = tmp_path / "holdout"
    for digit in range(10):
        (holdout / str(digit)).mkdir(parents=True)
        for png in sorted((digits_dir / str(digit)).glob("*.png"))[:5]:
            shutil.copy(png, holdout / str(digit) / png.name)
    model = lenet_run / "model.keras"
    reports = {}
    for folder in (digits_dir, holdout):
        code, out, err = run_cli("evaluate", model, "--data", folder)
        assert code == 0, err
        png, report = (
            lenet_run / f"confusion-{folder.name}.png",
            lenet_run / f"evaluation-{folder.name}.json",
        )
        assert out.endswith(f"Wrote the confusion matrix to {png} and this report to {report}.\n")
        reports[folder.name] = json.loads(report.read_text())
    assert (lenet_run / "confusion-digits.png").read_bytes()[:4] == b"\x89PNG"
    assert (lenet_run / "confusion-holdout.png").read_bytes()[:4] == b"\x89PNG"
    assert reports["digits"]["images"] == 1797 and reports["holdout"]["images"] == 50
    code, out, _ = run_cli("evaluate", model, "--data", holdout, "--format", "json")
    assert json.loads(out)["confusion_matrix"] == reports["holdout"]["confusion_matrix"]


@pytest.mark.slow
def test_early_stopping_stops_where_keras_rule_says(digits_dir: Path, tmp_path: Path) -> None:
    """--early-stopping 2: the run ends at the first epoch whose last two epochs did not beat
    the best before them; run.json says so, and --resume has nothing left to do."""
    run_dir = tmp_path / "run"
    code, out, err = run_cli("train", LENET, "--data", digits_dir, "-o", run_dir,
                             "--epochs", 40, "--early-stopping", 2, "-q")  # fmt: skip
    assert code == 0, err
    scores = [e["val_accuracy"] for e in history(run_dir)]
    stop = next(k for k in range(3, 41) if max(scores[k - 2 : k]) <= max(scores[: k - 2]))
    assert len(scores) == stop < 40, scores
    result = record(run_dir)["result"]
    assert result["stopped_early"] is True and result["stopped_at_epoch"] == stop
    assert result["best_epoch"] == scores.index(max(scores)) + 1
    assert f"Stopped early after epoch {stop} of 40: no val_accuracy improvement in 2" in out
    assert record(run_dir)["training"]["early_stopping"] == 2
    code, out, err = run_cli("train", LENET, "--data", digits_dir, "--resume", run_dir,
                             "--epochs", 40, "--early-stopping", 2, "-q")  # fmt: skip
    assert code == 0 and "Nothing to do: no val_accuracy improvement" in out, err
    assert len(history(run_dir)) == stop


@pytest.mark.slow
def test_ctrl_c_says_what_is_saved_and_how_to_continue(digits_dir: Path, tmp_path: Path) -> None:
    """SIGINT mid-training: exit 130, the epoch saved and the --resume command on stderr, a run
    directory that agrees with itself; that command continues the cosine schedule at the
    epoch reached, as if never stopped."""
    run_dir = tmp_path / "run"
    epochs = 6
    command = [sys.executable, "-m", "archcompiler.cli", "train", LENET, "--data",
               str(digits_dir), "-o", str(run_dir), "--epochs", str(epochs),
               "--lr-schedule", "cosine", "-q"]  # fmt: skip
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not (run_dir / "history.json").exists():  # the first epoch has ended
            assert child.poll() is None and time.monotonic() < deadline, child.poll()
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 130, err
    done = len(history(run_dir))
    assert 1 <= done < epochs
    line = next(x for x in err.splitlines() if x.startswith("interrupted:"))
    prefix = f"interrupted: epoch {done} of {epochs} is saved in {run_dir}; continue with: "
    assert line.startswith(prefix), line
    again = shlex.split(line[len(prefix) :])
    assert again[:2] == ["archc", "train"] and again[-2:] == ["--resume", str(run_dir)]
    assert "--output" not in again and "--lr-schedule" in again
    assert "Traceback" not in err
    r = record(run_dir)
    assert r["result"]["epochs_done"] == done and r["result"]["best_epoch"] <= done
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".archc-")]

    code, _, err = run_cli(*again[1:])
    assert code == 0, err
    h = history(run_dir)
    assert [e["epoch"] for e in h] == list(range(1, epochs + 1))
    assert record(run_dir)["resumed"][0]["from_epoch"] == done
    cosine = [1e-3 * 0.5 * (1 + math.cos(math.pi * e / epochs)) for e in range(epochs)]
    assert [e["learning_rate"] for e in h] == pytest.approx(cosine, rel=1e-5)


@pytest.mark.slow
def test_a_ctrl_c_while_an_epoch_is_saved_waits_for_all_its_files(tmp_path: Path) -> None:
    """The interrupt arrives inside the save of last.keras: every file of that epoch is still
    written (one Ctrl-C does not leave last.keras ahead of history.json), then it is raised."""
    from types import SimpleNamespace

    from archcompiler.train.fit import RunRecorder

    class Model:  # what the recorder uses of a Keras model
        optimizer = SimpleNamespace(learning_rate=0.001)
        stop_training = False
        saves = 0

        def save(self, path: str) -> None:
            Model.saves += 1
            if Model.saves == 1:
                os.kill(os.getpid(), signal.SIGINT)
            import zipfile

            with zipfile.ZipFile(path, "w") as z:  # a .keras's members, for the provenance record
                for member in ("metadata.json", "config.json"):
                    z.writestr(member, "{}")
                z.writestr("model.weights.h5", b"")

    graph = compile_file(LENET)
    run = SimpleNamespace(history=[], run_dir=str(tmp_path), record={"result": {}}, graph=graph)
    recorder = RunRecorder(run, Model(), "val_accuracy", 100)
    recorder.set_model(Model())
    recorder.on_epoch_begin(0)
    with pytest.raises(KeyboardInterrupt):
        recorder.on_epoch_end(0, {"loss": 1.0, "val_accuracy": 0.5})
    assert Model.saves == 3  # last.keras twice (the interrupted one again), model.keras once
    assert {p.name for p in tmp_path.iterdir()} == {
        "last.keras",
        "model.keras",
        "history.json",
        "run.json",
        "curves.png",
    }
    assert len(history(tmp_path)) == 1 and record(tmp_path)["result"]["epochs_done"] == 1


# ---- fast: classes and heads, without TensorFlow ------------------------------------------------


def test_curves_have_whole_epoch_ticks_and_mark_the_best_epoch(tmp_path: Path) -> None:
    from PIL import Image

    from archcompiler.train.plots import curves_figure, write_curves

    for epochs, best in ((2, 1), (3, 2), (7, 5), (40, 33)):
        h = [{"epoch": e, "loss": 1 / e, "accuracy": 1 - 1 / (e + 1), "val_loss": 1.1 / e,
              "val_accuracy": 0.9 - abs(e - best) / 100} for e in range(1, epochs + 1)]  # fmt: skip
        fig = curves_figure(h, "t", best)
        fig.canvas.draw()
        for ax in fig.axes[:2]:
            low, high = ax.get_xlim()
            ticks = [t for t in ax.get_xticks() if low <= t <= high]
            assert ticks and all(float(t).is_integer() for t in ticks), ticks
            marks = [line for line in ax.get_lines() if line.get_label() == f"best: epoch {best}"]
            assert len(marks) == 1 and set(marks[0].get_xdata()) == {best}
            assert f"best: epoch {best}" in [t.get_text() for t in ax.get_legend().get_texts()]
    write_curves(h, str(tmp_path / "c.png"), "t", 33)
    assert Image.open(tmp_path / "c.png").text["Description"] == "best: epoch 33"


def test_the_resume_command_drops_output_and_force() -> None:
    from archcompiler.cli.training import resume_command

    command = ["archc", "train", "s.yaml", "--data", "d", "--output", "r", "--epochs", "9",
               "--force", "--early-stopping", "3", "--quiet"]  # fmt: skip
    assert resume_command(command, "r") == [
        "archc", "train", "s.yaml", "--data", "d", "--epochs", "9", "--early-stopping", "3",
        "--quiet", "--resume", "r",
    ]  # fmt: skip
    assert resume_command(["archc", "train", "s", "--resume", "r"], "r") == [
        "archc", "train", "s", "--resume", "r",
    ]  # fmt: skip


def test_force_removes_earlier_evaluations_but_not_the_users_files(tmp_path: Path) -> None:
    from archcompiler.train import rundir

    for name in ("model.keras", "confusion-val.png", "evaluation-val.json", "notes.txt",
                 "confusion.png", "evaluation.json"):  # fmt: skip
        (tmp_path / name).write_text("x")
    rundir.prepare_new(str(tmp_path), force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evaluation.json", "notes.txt"]
    assert rundir.evaluation_files("runs/m.keras", "data/my test/") == (
        os.path.abspath("runs/confusion-my_test.png"),
        os.path.abspath("runs/evaluation-my_test.json"),
    )


def test_schedule_options_are_checked_for_the_python_api_too() -> None:
    from archcompiler.train.options import TrainOptions

    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        TrainOptions(lr_schedule="linear")
    with pytest.raises(ValueError, match="patience of 1 epoch or more"):
        TrainOptions(early_stopping=0)
    code, _, err = run_cli("train", LENET, "--data", ".", "--lr-schedule", "linear")
    assert code == 2 and "'linear' is not one of 'cosine', 'step', 'plateau'" in err


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
          - conv: {filters: 8, kernel: 3, strides: 2, activation: relu}
          - conv: {filters: 8, kernel: 3, strides: 2, activation: relu}
          - global_avg_pool: {}
        head:
          - dense: {units: 1, activation: sigmoid, name: out}
    """)  # fmt: skip
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "notes.txt").write_text("mine")
    (run_dir / "model.keras").write_text("an old run")
    code, out, err = run_cli("train", spec, "--data", data, "-o", run_dir, "--epochs", 8,
                         "--lr", "0.01", "--force", "-q", "--tensorboard")  # fmt: skip
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
