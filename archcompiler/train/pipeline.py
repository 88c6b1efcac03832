"""Image folders → tf.data pipelines (imports TensorFlow: used by train, evaluate, predict).

The files, their order and the validation split are keras.utils.image_dataset_from_directory's;
decoding is done as it does it (decode, bilinear resize to the model's input, grayscale or RGB
from its channels; a test compares the two), but here, from the file list, so that a worker of
multi-worker training reads only its shard of the files, decoding runs in parallel (AUTOTUNE),
and an image that fails to decode is dropped alone (`ignore_errors`) instead of failing the
epoch. The decoded images are cached — in memory, in `--cache-dir` (cache.py), or not at all —
and one counting pass over the cache (which the first epoch would spend decoding anyway) tells
how many were skipped before training starts. Then: shuffle each epoch, batch, augment
(training only), preprocess, prefetch.

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

from ..errors import Location, SpecError, first_line
from .cache import cache_key, file_cached
from .data import COLOR_MODES, shuffle_held

PARALLEL = tf.data.AUTOTUNE


@dataclass(frozen=True)
class Shard:
    """Which part of every folder this process reads: files `index`, `index + count`, …
    (one machine: all of them; multi-worker training: one worker's share)."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"shard {self.index} of {self.count}")

    @property
    def label(self) -> str:
        return f"shard-{self.index}-of-{self.count}"


@dataclass
class Decoded:
    """One folder's images (this process's shard of them), decoded, resized and cached;
    one (image, label) per element."""

    images: tf.data.Dataset
    count: int  # images decoded in this shard
    skipped: int
    per_class: tuple[int, ...] = ()  # images decoded, by class
    paths: tuple[str, ...] = ()  # every image file of the shard
    count_all: int = -1  # decoded in all shards (-1: this is the only one)
    skipped_all: int = -1

    def __post_init__(self) -> None:
        if self.count_all < 0:
            self.count_all, self.skipped_all = self.count, self.skipped


Combine = Callable[[list[int]], list[int]]  # sums a vector of counts over all workers


def _listing(
    folder: str, common: dict[str, Any], split: float
) -> tuple[tuple[str, ...], tuple[str, ...] | None]:
    """The image files, in the order (and split) image_dataset_from_directory reads them."""
    if split > 0:
        with contextlib.redirect_stdout(io.StringIO()):  # its "Using N files for …" lines
            train, val = keras.utils.image_dataset_from_directory(
                folder, validation_split=split, subset="both", **common
            )
        return tuple(train.file_paths), tuple(val.file_paths)
    return tuple(keras.utils.image_dataset_from_directory(folder, **common).file_paths), None


def _labels(paths: Sequence[str], folder: str, class_names: Sequence[str]) -> list[int]:
    """Each file's class index: the class folder it lies in (nested folders included)."""
    index = {name: i for i, name in enumerate(class_names)}
    return [index[os.path.relpath(p, folder).split(os.sep)[0]] for p in paths]


def _images(paths: Sequence[str], labels: Sequence[int], label_mode: str, classes: int,
            image_size: tuple[int, int], channels: int) -> tf.data.Dataset:  # fmt: skip
    """(image, label) as image_dataset_from_directory makes them (decoded with
    decode_image, bilinear resize, float32 0–255; int32, one-hot or binary float labels),
    decoded in parallel (AUTOTUNE); an image that fails to decode is dropped alone."""
    label_ds = tf.data.Dataset.from_tensor_slices(np.asarray(labels, dtype="int32"))
    if label_mode == "binary":
        label_ds = label_ds.map(lambda y: tf.expand_dims(tf.cast(y, "float32"), -1))
    elif label_mode == "categorical":
        label_ds = label_ds.map(lambda y: tf.one_hot(y, classes))
    path_ds = tf.data.Dataset.from_tensor_slices(tf.constant(list(paths), dtype=tf.string))

    def load(path: Any, label: Any) -> tuple[Any, Any]:
        image = _load(path, image_size, channels)
        image.set_shape((*image_size, channels))
        return image, label

    ds = tf.data.Dataset.zip((path_ds, label_ds)).map(load, num_parallel_calls=PARALLEL)
    return ds.ignore_errors()


def _load(path: Any, image_size: tuple[int, int], channels: int) -> Any:
    """One image as image_dataset_from_directory loads it: decode_image, bilinear resize."""
    raw = tf.io.read_file(path)
    image = tf.image.decode_image(raw, channels=channels, expand_animations=False)
    return tf.image.resize(image, image_size, method="bilinear")


def _decoded(paths: tuple[str, ...], folder: str, class_names: Sequence[str], label_mode: str,
             image_size: tuple[int, int], channels: int, cache: bool,
             cache_dir: str | None, shard: Shard, role: str) -> Decoded:  # fmt: skip
    """The shard's images, cached (in memory, in `cache_dir`, or not at all), counted by one
    pass that also fills the cache — the pass the first epoch would otherwise spend."""
    paths = paths[shard.index :: shard.count]
    labels = _labels(paths, folder, class_names)
    classes = len(class_names)

    def images() -> tf.data.Dataset:
        return _images(paths, labels, label_mode, classes, image_size, channels)

    def count(ds: tf.data.Dataset) -> tuple[int, ...]:  # images per class, in one pass
        counts = ds.reduce(tf.zeros([classes], tf.int64), _count_by_label(classes)).numpy()
        return tuple(int(n) for n in counts)

    if cache_dir is not None:
        key = cache_key(paths, labels, label_mode, classes, image_size, channels)
        ds, per_class = file_cached(images, count, cache_dir, shard.label, role, key)
    else:
        ds = images().cache() if cache else images()
        per_class = count(ds)
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


def check_decoded(
    folder: str, class_names: Sequence[str], *parts: Decoded, combine: Combine | None = None
) -> None:
    """Every class has an image that decoded (else: an error at its folder), and images that
    were skipped really do not decode — else the decode pass failed for another reason (the
    resize or the cache ran out of memory) and saying "could not be decoded" would be false.
    With `combine`, the counts are every worker's together (so all of them decide alike)."""
    n = len(class_names)
    per_class = [sum(p.per_class[i] for p in parts) for i in range(n)]
    skipped = sum(p.skipped for p in parts)
    broken = sum(not _decodes(path) for p in parts for path in p.paths) if skipped else 0
    if combine is not None:  # one all-reduce: the checks' counts, then each part's
        each = [x for p in parts for x in (p.count, p.skipped)]
        total = combine([*per_class, skipped, broken, *each])
        per_class, (skipped, broken) = total[:n], total[n : n + 2]
        for i, p in enumerate(parts):
            p.count_all, p.skipped_all = total[n + 2 + 2 * i : n + 4 + 2 * i]
    for name, count in zip(class_names, per_class, strict=True):
        if count == 0:
            raise SpecError.at(
                Location(os.path.join(folder, name)),
                f"no image in class folder '{name}' could be decoded",
                "its files are empty, broken or not images: fix them or remove the folder",
            )  # fmt: skip
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
    cache_dir: str | None = None,
    shuffle: bool = True,
    shard: Shard = Shard(),
    combine: Combine | None = None,
) -> tuple[Decoded, Decoded | None]:
    """The training images and the validation images (a folder, a split, or none) of this
    process's shard; every class must have an image that decodes (check_decoded)."""
    common = {
        "labels": "inferred", "label_mode": label_mode, "class_names": list(class_names),
        "color_mode": COLOR_MODES[channels], "batch_size": None, "image_size": image_size,
        "shuffle": shuffle, "seed": seed, "interpolation": "bilinear", "verbose": False,
    }  # fmt: skip
    reading = {
        "class_names": class_names, "label_mode": label_mode, "image_size": image_size,
        "channels": channels, "cache": cache, "cache_dir": cache_dir, "shard": shard,
    }  # fmt: skip
    split = val_split if val_dir is None else 0.0
    train_paths, split_paths = _listing(train_dir, common, split)
    train = _decoded(train_paths, train_dir, role="train", **reading)
    if split_paths is not None:
        val = _decoded(split_paths, train_dir, role="val", **reading)
        check_decoded(train_dir, class_names, train, val, combine=combine)  # a split may leave
        return train, val  # a class out of one part
    check_decoded(train_dir, class_names, train, combine=combine)
    if val_dir is None:
        return train, None
    val_paths, _ = _listing(val_dir, {**common, "shuffle": False}, 0.0)
    val = _decoded(val_paths, val_dir, role="val", **reading)
    check_decoded(val_dir, class_names, val, combine=combine)
    return train, val


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
    repeat: bool = False,
) -> tf.data.Dataset:
    """Shuffled (training) or in order, batched, augmented, preprocessed, prefetched; with
    `repeat`, endless and in whole batches (multi-worker training counts its own steps)."""
    ds = decoded.images
    if shuffle_seed is not None:
        ds = ds.shuffle(shuffle_buffer(decoded), seed=shuffle_seed)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=repeat)
    if augment is not None:
        ds = ds.map(lambda x, y: (augment(x, training=True), y), num_parallel_calls=PARALLEL)
    prep = preprocessor(preprocess)
    ds = ds.map(lambda x, y: (prep(x), y), num_parallel_calls=PARALLEL)
    return ds.prefetch(tf.data.AUTOTUNE)


def shuffle_buffer(decoded: Decoded) -> int:
    """Images the training shuffle holds (data.shuffle_held), at least one."""
    image = decoded.images.element_spec[0]
    return max(1, shuffle_held(decoded.count, int(np.prod(image.shape)) * image.dtype.size))


def load_image(path: str, image_size: tuple[int, int], channels: int) -> np.ndarray:
    """One image read as image_dataset_from_directory reads it (decode, bilinear resize), as
    float32 0–255; an unreadable or undecodable file is a located error."""
    try:
        return _load(path, image_size, channels).numpy()
    except (tf.errors.OpError, ValueError) as e:
        raise SpecError.at(Location(path), f"cannot read this image: {first_line(e)}") from None
