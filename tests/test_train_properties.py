"""Properties of the training side, checked against code nobody here wrote:

- the folder scan (no TensorFlow) finds the same classes and images per class as
  keras.utils.image_dataset_from_directory, for generated folder trees;
- evaluate's accuracy, precision, recall, F1 and confusion matrix equal scikit-learn's, and its
  loss equals Keras's cross-entropy, for generated predictions;
- an image read by `predict` is the same array that image_dataset_from_directory yields;
- --lr-schedule step and cosine give the rates of their formulas (He et al.'s steps, the cosine
  of Loshchilov & Hutter), and a run split in two by --resume gets the same rates, and stops
  at the same epoch, as Keras's own ReduceLROnPlateau and EarlyStopping in one uninterrupted
  run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archcompiler.errors import SpecError
from archcompiler.train.data import IMAGE_EXTENSIONS, scan_folder
from archcompiler.train.evaluate import _report

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=6)
EXTENSIONS = st.sampled_from([*IMAGE_EXTENSIONS, ".JPG", ".Png", ".txt", ".tif", ".jpg.bak", ""])


@st.composite
def folder_trees(draw: st.DrawFn) -> dict[str, list[str]]:
    """class folder → relative file paths (some nested, some not images)."""
    classes = draw(st.lists(NAMES, min_size=1, max_size=5, unique=True))
    tree = {}
    for c in classes:
        files = draw(st.lists(
            st.tuples(st.sampled_from(["", "sub/", "sub/deeper/"]), NAMES, EXTENSIONS),
            min_size=1, max_size=6, unique_by=lambda t: t[0] + t[1] + t[2].lower(),
        ))  # fmt: skip
        tree[c] = [f"{d}{n}{e}" for d, n, e in files]
    return tree


def _write(root: Path, tree: dict[str, list[str]]) -> None:
    from PIL import Image

    pixel = Image.new("RGB", (2, 2))
    for c, files in tree.items():
        for f in files:
            path = root / c / f
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix.lower() in IMAGE_EXTENSIONS:
                pixel.save(path, format="PNG")  # Keras reads by content, whatever the suffix
            else:
                path.write_text("not an image")


@pytest.mark.slow
@settings(max_examples=30)
@given(folder_trees())
def test_the_scan_counts_what_image_dataset_from_directory_reads(tree: dict) -> None:
    import keras

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        _write(root, tree)
        has_images = {c: any(f.lower().endswith(IMAGE_EXTENSIONS) for f in fs)
                      for c, fs in tree.items()}  # fmt: skip
        if not all(has_images.values()):  # we refuse empty class folders; Keras counts them
            with pytest.raises(SpecError, match=r"has no images|no images in any"):
                scan_folder(str(root))
            return
        ours = scan_folder(str(root))
        ds = keras.utils.image_dataset_from_directory(
            str(root), batch_size=None, image_size=(2, 2), shuffle=False, verbose=False
        )
        assert list(ours.class_names) == ds.class_names
        per_class = [0] * len(ds.class_names)
        for path in ds.file_paths:
            per_class[ds.class_names.index(Path(path).relative_to(root).parts[0])] += 1
        assert list(ours.counts) == per_class


@st.composite
def predictions(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n_classes = draw(st.integers(2, 7))
    n = draw(st.integers(1, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, n_classes)) * draw(st.sampled_from([0.1, 1.0, 5.0]))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    truth = rng.integers(0, n_classes, size=n)
    return probs, truth


@settings(max_examples=100)
@given(predictions())
def test_evaluation_figures_equal_scikit_learn_and_keras(pair: tuple) -> None:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    probs, truth = pair
    n = probs.shape[1]
    names = tuple(f"c{i}" for i in range(n))
    report = _report(probs, truth, names, skipped=0)
    predicted = probs.argmax(axis=1)
    labels = list(range(n))
    assert report["confusion_matrix"] == confusion_matrix(truth, predicted, labels=labels).tolist()
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    got = report["per_class"]
    np.testing.assert_allclose([c["precision"] for c in got], p, atol=1e-12)
    np.testing.assert_allclose([c["recall"] for c in got], r, atol=1e-12)
    np.testing.assert_allclose([c["f1"] for c in got], f, atol=1e-12)
    assert [c["support"] for c in got] == s.tolist()
    assert report["accuracy"] == pytest.approx(float((predicted == truth).mean()))
    # the loss is the mean sparse categorical cross-entropy (computed here in float64)
    expected_loss = -np.mean(np.log(np.clip(probs[np.arange(len(truth)), truth], 1e-7, 1)))
    assert report["loss"] == pytest.approx(expected_loss, rel=1e-9)


@pytest.mark.slow
def test_the_evaluation_loss_is_keras_cross_entropy() -> None:
    import keras

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 4)).astype("float32") * 3
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    truth = rng.integers(0, 4, size=50)
    report = _report(probs.astype(np.float64), truth, ("a", "b", "c", "d"), skipped=0)
    keras_loss = float(keras.losses.SparseCategoricalCrossentropy()(truth, probs))
    assert report["loss"] == pytest.approx(keras_loss, rel=1e-5)


@pytest.mark.slow
@settings(max_examples=10)
@given(
    st.integers(5, 40), st.integers(5, 40), st.sampled_from([(1, "L"), (3, "RGB")]),
    st.integers(3, 30), st.integers(3, 30), st.integers(0, 2**32 - 1),
)  # fmt: skip
def test_predict_reads_an_image_as_image_dataset_from_directory_does(
    width: int, height: int, mode: tuple, out_h: int, out_w: int, seed: int
) -> None:
    import keras
    from PIL import Image

    from archcompiler.train.pipeline import load_image

    channels, pil_mode = mode
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "c"))
        path = os.path.join(tmp, "c", "x.png")
        Image.fromarray(pixels, "RGB").convert(pil_mode).save(path)
        ds = keras.utils.image_dataset_from_directory(
            tmp, batch_size=None, image_size=(out_h, out_w), shuffle=False, verbose=False,
            color_mode="grayscale" if channels == 1 else "rgb",
        )  # fmt: skip
        ((keras_image, _),) = list(ds.as_numpy_iterator())
        ours = load_image(path, (out_h, out_w), channels)
    np.testing.assert_array_equal(ours, keras_image)


# ---- schedules and early stopping: tiny Keras fits with scripted scores ---------------------

SCORES = [0.5, 0.6, 0.6, 0.6, 0.6, 0.7, 0.7, 0.7, 0.7, 0.7, 0.65, 0.7]  # the "val_accuracy"


def _fit(callbacks: list, start: int, stop: int, model=None) -> tuple[object, list[dict]]:
    """Fit a one-weight model for epochs [start, stop) with `callbacks` after one that sets
    logs["val_accuracy"] to SCORES[epoch]; returns the model and each epoch's logs."""
    import keras

    class Scripted(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs["val_accuracy"] = SCORES[epoch]

    class Logged(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            seen.append({"epoch": epoch + 1, **logs, "rate": rate})

    seen: list[dict] = []
    if model is None:
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x = np.zeros((4, 1), "float32")
    model.fit(x, x, epochs=stop, initial_epoch=start, batch_size=4, verbose=0,
              callbacks=[Scripted(), *callbacks, Logged()])  # fmt: skip
    return model, seen


@pytest.mark.slow
@pytest.mark.parametrize("epochs", [1, 3, 10])
def test_the_step_and_cosine_schedules_follow_their_formulas(epochs: int) -> None:
    import math

    from archcompiler.train.schedules import epoch_schedule

    _, steps = _fit([epoch_schedule("step", 0.1, epochs)], 0, epochs)
    # ÷10 after half the epochs, ÷100 after three quarters (He et al. 2016, §4.2)
    expected = [0.1 * 0.1 ** ((e >= epochs / 2) + (e >= 3 * epochs / 4)) for e in range(epochs)]
    np.testing.assert_allclose([h["learning_rate"] for h in steps], expected, rtol=1e-6)
    _, cosine = _fit([epoch_schedule("cosine", 0.1, epochs)], 0, epochs)
    expected = [0.05 * (1 + math.cos(math.pi * e / epochs)) for e in range(epochs)]
    np.testing.assert_allclose([h["learning_rate"] for h in cosine], expected, rtol=1e-5)
    # resumed, the cosine continues where it was
    for k in sorted({1, epochs // 2, epochs - 1} - {0}):
        model, first = _fit([epoch_schedule("cosine", 0.1, epochs)], 0, k)
        _, rest = _fit([epoch_schedule("cosine", 0.1, epochs)], k, epochs, model)
        assert [h["learning_rate"] for h in first + rest] == [h["learning_rate"] for h in cosine]


@pytest.mark.slow
def test_plateau_and_early_stopping_resume_as_if_never_stopped() -> None:
    import keras

    from archcompiler.train.schedules import EarlyStopping, Plateau

    n = len(SCORES)
    _, whole = _fit([keras.callbacks.ReduceLROnPlateau("val_accuracy", factor=0.1, patience=2,
                                                       mode="max")], 0, n)  # fmt: skip
    rates = [h["rate"] for h in whole]
    assert len(set(rates)) > 2, rates  # it did reduce, more than once
    for k in range(1, n, 2):
        first_plateau = Plateau("val_accuracy", None)
        model, first = _fit([first_plateau], 0, k)
        _, rest = _fit([Plateau("val_accuracy", first_plateau.state())], k, n, model)
        assert [h["rate"] for h in first + rest] == rates, k

    for patience in (1, 2, 3):
        _, whole = _fit([keras.callbacks.EarlyStopping("val_accuracy", patience=patience,
                                                       mode="max")], 0, n)  # fmt: skip
        assert len(whole) < n
        for k in range(1, len(whole)):
            _, first = _fit([EarlyStopping("val_accuracy", patience, [])], 0, k)
            assert len(first) == k
            _, rest = _fit([EarlyStopping("val_accuracy", patience, first)], k, n)
            assert len(first) + len(rest) == len(whole), (patience, k)
