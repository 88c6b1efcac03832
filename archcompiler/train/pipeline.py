"""Image folders → tf.data pipelines (imports TensorFlow: used by train, evaluate, predict).

Reading is keras.utils.image_dataset_from_directory's (decode, resize to the model's input,
grayscale or RGB from its channels). We ask it for single images rather than batches so that
an image that fails to decode is dropped alone (`ignore_errors`) instead of failing the epoch;
the decoded images are cached, and one counting pass over the cache (which the first epoch
would spend decoding anyway) tells how many were skipped before training starts. Then:
shuffle each epoch, batch, augment (training only), preprocess, prefetch.

Preprocessing and augmentation stay in the pipeline, not in the model: the saved model is the
spec's architecture, layer for layer, and run.json records the preprocessing for evaluate and
predict.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from ..errors import Location, SpecError
from .data import COLOR_MODES

SHUFFLE_BUFFER = 10_000
PARALLEL = tf.data.AUTOTUNE


@dataclass
class Decoded:
    """One folder's images, decoded, resized and cached; one (image, label) per element."""

    images: tf.data.Dataset
    count: int
    skipped: int
    per_class: tuple[int, ...] = ()  # images decoded, by class
    paths: tuple[str, ...] = ()  # every image file the folder listed


def _decoded(ds: tf.data.Dataset, cache: bool, classes: int) -> Decoded:
    paths = tuple(ds.file_paths)
    ds = ds.ignore_errors()
    if cache:
        ds = ds.cache()
    per_class = tuple(int(n) for n in ds.reduce(tf.zeros([classes], tf.int64),
                                                _count_by_label(classes)).numpy())  # fmt: skip
    count = sum(per_class)
    # skipping made the size unknown to tf.data; telling it keeps Keras's progress bar exact
    ds = ds.apply(tf.data.experimental.assert_cardinality(count))
    return Decoded(ds, count, len(paths) - count, per_class, paths)


def _count_by_label(classes: int) -> Callable[[Any, Any], Any]:
    """Adds one to a class's count per element, whatever the label mode (an index, one-hot
    vector, or binary 0/1)."""

    def add(counts: Any, element: Any) -> Any:
        label = element[1]
        if label.shape.rank == 0:
            index = tf.cast(label, tf.int64)
        elif label.shape[-1] == 1:  # binary
            index = tf.cast(tf.reshape(label, []) > 0.5, tf.int64)
        else:
            index = tf.argmax(label, output_type=tf.int64)
        return counts + tf.one_hot(index, classes, dtype=tf.int64)

    return add


def _decodes(path: str) -> bool:
    try:
        tf.io.decode_image(tf.io.read_file(path), expand_animations=False)
    except (tf.errors.OpError, ValueError):
        return False
    return True


def check_decoded(folder: str, class_names: Sequence[str], *parts: Decoded) -> None:
    """Every class has an image that decoded (else: an error at its folder), and images that
    were skipped really do not decode — else the decode pass failed for another reason (the
    resize or the cache ran out of memory) and saying "could not be decoded" would be false."""
    per_class = [sum(p.per_class[i] for p in parts) for i in range(len(class_names))]
    for name, n in zip(class_names, per_class, strict=True):
        if n == 0:
            raise SpecError.at(
                Location(os.path.join(folder, name)),
                f"no image in class folder '{name}' could be decoded",
                "its files are empty, broken or not images: fix them or remove the folder",
            )  # fmt: skip
    skipped = sum(p.skipped for p in parts)
    if skipped:
        broken = sum(not _decodes(path) for p in parts for path in p.paths)
        if broken < skipped:
            raise SpecError.at(
                Location(folder), f"{skipped - broken:,} image(s) decode but could not be "
                "resized or cached: most likely out of memory",
                "try a smaller input size or --no-cache",
            )  # fmt: skip


def read_folders(
    train_dir: str,
    val_dir: str | None,
    val_split: float,
    *,
    class_names: Sequence[str],
    image_size: tuple[int, int],
    channels: int,
    label_mode: str,
    seed: int,
    cache: bool = True,
    shuffle: bool = True,
) -> tuple[Decoded, Decoded | None]:
    """The training images and the validation images (a folder, a split, or none); every
    class must have an image that decodes (check_decoded)."""
    n = len(class_names)
    common = {
        "labels": "inferred", "label_mode": label_mode, "class_names": list(class_names),
        "color_mode": COLOR_MODES[channels], "batch_size": None, "image_size": image_size,
        "shuffle": shuffle, "seed": seed, "interpolation": "bilinear", "verbose": False,
    }  # fmt: skip
    if val_dir is None and val_split > 0:
        with contextlib.redirect_stdout(io.StringIO()):  # its "Using N files for …" lines
            train, val = keras.utils.image_dataset_from_directory(
                train_dir, validation_split=val_split, subset="both", **common
            )
        both = _decoded(train, cache, n), _decoded(val, cache, n)
        check_decoded(train_dir, class_names, *both)  # a split may leave a class out of one
        return both
    train = keras.utils.image_dataset_from_directory(train_dir, **common)
    decoded = _decoded(train, cache, n)
    check_decoded(train_dir, class_names, decoded)
    if val_dir is None:
        return decoded, None
    val = keras.utils.image_dataset_from_directory(val_dir, **{**common, "shuffle": False})
    checked = _decoded(val, cache, n)
    check_decoded(val_dir, class_names, checked)
    return decoded, checked


def preprocessor(mode: str) -> Callable[[Any], Any]:
    """The pixel preprocessing of `mode` (see PREPROCESS), on float32 0–255 images."""
    if mode == "unit":
        return lambda x: x / 255.0
    if mode == "none":
        return lambda x: x
    from keras.applications import imagenet_utils

    return lambda x: imagenet_utils.preprocess_input(x, mode=mode)


def augmenter(seed: int) -> keras.Sequential:
    """The classic light augmentation (Chollet §5.2): flips, small rotations and zooms."""
    from keras import layers

    return keras.Sequential(
        [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomRotation(0.1, seed=seed),
            layers.RandomZoom(0.1, seed=seed),
        ],
        name="augment",
    )


def batches(
    decoded: Decoded,
    batch_size: int,
    preprocess: str,
    *,
    shuffle_seed: int | None = None,
    augment: keras.Sequential | None = None,
) -> tf.data.Dataset:
    """Shuffled (training) or in order, batched, augmented, preprocessed, prefetched."""
    ds = decoded.images
    if shuffle_seed is not None:
        ds = ds.shuffle(min(max(decoded.count, 1), SHUFFLE_BUFFER), seed=shuffle_seed)
    ds = ds.batch(batch_size)
    if augment is not None:
        ds = ds.map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=PARALLEL)
    prep = preprocessor(preprocess)
    ds = ds.map(lambda x, y: (prep(x), y), num_parallel_calls=PARALLEL)
    return ds.prefetch(tf.data.AUTOTUNE)


def load_image(path: str, image_size: tuple[int, int], channels: int) -> np.ndarray:
    """One image read as image_dataset_from_directory reads it (decode, bilinear resize), as
    float32 0–255; an unreadable or undecodable file is a located error."""
    try:
        raw = tf.io.read_file(path)
        image = tf.image.decode_image(raw, channels=channels, expand_animations=False)
    except (tf.errors.OpError, ValueError) as e:
        first = (getattr(e, "message", None) or str(e)).strip().splitlines()[0]
        raise SpecError.at(Location(path), f"cannot read this image: {first}") from None
    return tf.image.resize(image, image_size, method="bilinear").numpy()
