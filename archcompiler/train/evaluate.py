"""`archc evaluate` and `archc predict` on a saved model (imports TensorFlow).

A model trained by `archc train` has run.json beside it: its class names, input size and
preprocessing come from there, so evaluation and prediction see images exactly as training
did. A bare `.keras` (from `archc build`, say) works too: the input size comes from the model,
class names from the data folder (evaluate) or are the output indices (predict), and
preprocessing from --preprocess.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from ..errors import Location, SpecError, first_line
from ..model_files import check_model_file
from . import pipeline, rundir
from .data import check_same_classes, scan_folder
from .head import SOFTMAX, Classifier, activation_of_keras_layer


@dataclass
class Trained:
    """A loaded model and what it takes to feed it."""

    model: keras.Model
    classifier: Classifier
    class_names: tuple[str, ...] | None  # None: not known (a bare .keras file)
    image_size: tuple[int, int]
    channels: int
    preprocess: str


def load_trained(path: str, preprocess: str | None) -> Trained:
    check_model_file(path)  # the CLI checked it before importing TensorFlow; the API too
    try:
        model = keras.saving.load_model(path, compile=False)
    except (ValueError, OSError, KeyError, TypeError) as e:
        raise SpecError.at(Location(path), f"cannot load this model: {first_line(e)}") from None
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise SpecError.at(Location(path), "evaluate and predict take one-input, one-output models")
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or shape[2] not in pipeline.COLOR_MODES or None in shape:
        raise SpecError.at(Location(path), f"the model's input {list(shape)} is not an image")
    last = model.layers[-1]
    activation = activation_of_keras_layer(last.get_config(), type(last).__name__)
    classifier = Classifier.of(last.name, tuple(model.outputs[0].shape[1:]), activation,
                               Location(path))  # fmt: skip
    meta_path = os.path.join(os.path.dirname(os.path.abspath(path)), rundir.RUN)
    data = rundir.read_run(meta_path).get("data", {}) if os.path.isfile(meta_path) else {}
    names = tuple(data["class_names"]) if "class_names" in data else None
    if names is not None and len(names) != classifier.classes:
        names = None  # run.json of another model: do not trust it
    return Trained(
        model, classifier, names, (shape[0], shape[1]), shape[2],
        preprocess or data.get("preprocess", "unit"),
    )  # fmt: skip


def probabilities(t: Trained, outputs: np.ndarray) -> np.ndarray:
    """Per-class probabilities (N × classes) from the model's outputs, whatever its head."""
    c = t.classifier
    out = outputs.astype(np.float64)
    if c.binary:
        p = out[:, 0] if c.activation != "linear" else 1 / (1 + np.exp(-out[:, 0]))
        return np.stack([1 - p, p], axis=1)
    if c.activation == SOFTMAX:
        return out
    e = np.exp(out - out.max(axis=1, keepdims=True))  # logits → softmax
    return e / e.sum(axis=1, keepdims=True)


def evaluate(path: str, data: str, batch_size: int, preprocess: str | None) -> dict[str, Any]:
    """Accuracy, loss, per-class precision/recall/F1 and the confusion matrix on `data`."""
    t = load_trained(path, preprocess)
    folder = scan_folder(data)
    if t.class_names is not None:
        check_same_classes(folder, t.class_names, f"the model's classes ({rundir.RUN})")
    names = t.class_names or folder.class_names
    t.classifier.check_classes(names, Location(data))
    decoded, _ = pipeline.read_folders(
        data, None, 0.0, class_names=names, image_size=t.image_size, channels=t.channels,
        label_mode="int", seed=0, shuffle=False,
    )  # fmt: skip
    ds = pipeline.batches(decoded, batch_size, t.preprocess)
    outputs, labels = [], []
    for x, y in ds:
        outputs.append(np.asarray(t.model(x, training=False)))
        labels.append(y.numpy())
    probs = probabilities(t, np.concatenate(outputs))
    truth = np.concatenate(labels).astype(int)
    return _report(probs, truth, names, decoded.skipped)


def _report(probs: np.ndarray, truth: np.ndarray, names: tuple[str, ...], skipped: int
            ) -> dict[str, Any]:  # fmt: skip
    n = len(names)
    predicted = probs.argmax(axis=1)
    matrix = np.zeros((n, n), dtype=int)
    np.add.at(matrix, (truth, predicted), 1)
    picked = np.clip(probs[np.arange(len(truth)), truth], 1e-7, 1.0)
    per_class = []
    for i, name in enumerate(names):
        tp, predicted_i, actual_i = matrix[i, i], matrix[:, i].sum(), matrix[i, :].sum()
        precision = tp / predicted_i if predicted_i else 0.0
        recall = tp / actual_i if actual_i else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class.append({
            "class": name, "precision": float(precision), "recall": float(recall),
            "f1": float(f1), "support": int(actual_i),
        })  # fmt: skip
    report: dict[str, Any] = {
        "images": len(truth),
        "skipped_images": skipped,
        "accuracy": float((predicted == truth).mean()) if len(truth) else math.nan,
        "loss": float(-np.log(picked).mean()) if len(truth) else math.nan,
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
        "class_names": list(names),
    }
    if n > 5:
        top5 = np.argsort(-probs, axis=1)[:, :5]
        report["top5_accuracy"] = float((top5 == truth[:, None]).any(axis=1).mean())
    return report


def predict(path: str, images: list[str], top: int, preprocess: str | None
            ) -> list[dict[str, Any]]:  # fmt: skip
    """The top-K classes of every image, with probabilities; every image is read first, so a
    bad one fails before any prediction is printed."""
    t = load_trained(path, preprocess)
    for image in images:
        if not os.path.isfile(image):
            raise SpecError.at(Location(image), "image not found")
    batch = np.stack([pipeline.load_image(p, t.image_size, t.channels) for p in images])
    x = pipeline.preprocessor(t.preprocess)(batch.astype("float32"))
    probs = probabilities(t, np.asarray(t.model.predict(x, verbose=0)))
    names = t.class_names or tuple(str(i) for i in range(probs.shape[1]))
    k = min(top, probs.shape[1])
    out = []
    for image, p in zip(images, probs, strict=True):
        best = np.argsort(-p)[:k]
        out.append({
            "image": image,
            "top": [{"class": names[i], "index": int(i), "probability": float(p[i])} for i in best],
        })  # fmt: skip
    return out
