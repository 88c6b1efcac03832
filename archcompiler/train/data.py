"""Image folders: find the layout, the classes and the images, without TensorFlow.

Two layouts, as in the Keras tutorials: `DIR/<class>/*.png|jpg…` (validation split off by
`--val-split`), or `DIR/train/<class>/…` beside `DIR/val/`, `DIR/validation/` or `DIR/test/`.
Every mistake here is a located `SpecError` raised before TensorFlow is imported, so a wrong
path fails in a fraction of a second. The scan mirrors what
`keras.utils.image_dataset_from_directory` will read (the same extensions, class folders in
sorted order, images in nested folders counted), so the counts printed here are Keras's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import Location, SpecError

# What keras.utils.image_dataset_from_directory reads (its ALLOWLIST_FORMATS).
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
TRAIN_NAMES = ("train",)
VAL_NAMES = ("val", "validation", "test")
MAX_CLASSES = 100_000  # a bound, so a wrong --data (say, a home folder) fails fast
COLOR_MODES = {1: "grayscale", 3: "rgb", 4: "rgba"}  # input channels → how images are read
# unit: [0, 1] (training from scratch); none: raw 0–255; caffe, tf, torch: the ImageNet
# preprocessing keras.applications' weights expect (VGG/ResNet, MobileNet, DenseNet).
PREPROCESS = ("unit", "none", "caffe", "tf", "torch")
SHUFFLE_BUFFER = 10_000  # images the training shuffle holds, and at most SHUFFLE_BYTES of them
SHUFFLE_BYTES = 1 << 30  # (224×224 RGB: 1,783 images), so large data shuffles in bounded memory


def shuffle_held(images: int, image_bytes: int) -> int:
    """Images the training shuffle holds: all of them, up to SHUFFLE_BUFFER and SHUFFLE_BYTES
    (the pipeline's buffer, and the memory check's estimate of it)."""
    return min(images, SHUFFLE_BUFFER, SHUFFLE_BYTES // max(image_bytes, 1))


@dataclass(frozen=True)
class ImageFolder:
    """One folder of class folders: its class names (sorted) and images per class."""

    path: str
    class_names: tuple[str, ...]
    counts: tuple[int, ...]

    @property
    def images(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class DataPlan:
    """Where the training and validation images come from."""

    train: ImageFolder
    val: ImageFolder | None  # a separate folder, or None: split off `train` (or no validation)
    val_split: float  # the fraction of `train` held out when `val` is None

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.train.class_names


def data_error(path: str, message: str, *notes: str) -> SpecError:
    return SpecError.at(Location(path), message, *notes)


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def _count_images(folder: str) -> int:
    """Images under `folder`, nested folders included (as Keras counts them, links not
    followed); an unreadable folder is an error rather than silently fewer images."""
    total = 0

    def fail(e: OSError) -> None:
        raise data_error(e.filename or folder, f"cannot read this folder: {e.strerror}")

    for _, _, files in os.walk(folder, onerror=fail):
        total += sum(1 for f in files if _is_image(f))
    return total


def scan_folder(path: str) -> ImageFolder:
    """The class folders of `path` and their image counts; errors for every way it is unusable."""
    if not os.path.exists(path):
        raise data_error(path, "no such data folder")
    if not os.path.isdir(path):
        raise data_error(path, "not a folder: --data takes a folder of class folders")
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as e:
        raise data_error(path, f"cannot read this folder: {e.strerror}") from None
    classes = [e.name for e in entries if e.is_dir(follow_symlinks=False)]
    loose = [e.name for e in entries if e.is_file() and _is_image(e.name)]
    if not classes:
        hint = (
            f"it holds {len(loose):,} images directly; put them in one folder per class"
            if loose
            else "expected one folder per class, e.g. DIR/cat/*.jpg and DIR/dog/*.jpg"
        )
        raise data_error(path, "no class folders", hint)
    if len(classes) > MAX_CLASSES:
        raise data_error(path, f"{len(classes):,} class folders (at most {MAX_CLASSES:,})")
    counts = [_count_images(os.path.join(path, c)) for c in classes]
    if not any(counts):
        raise data_error(
            path, "no images in any class folder",
            f"images are files ending in {', '.join(IMAGE_EXTENSIONS)}",
        )  # fmt: skip
    empty = [c for c, n in zip(classes, counts, strict=True) if n == 0]
    if empty:
        more = f" (nor do {len(empty) - 1} more: {', '.join(empty[1:4])}…)" if empty[1:] else ""
        raise data_error(
            os.path.join(path, empty[0]),
            f"class folder '{empty[0]}' has no images{more}",
            "remove empty class folders: every folder under the data folder is a class",
        )  # fmt: skip
    return ImageFolder(path, tuple(classes), tuple(counts))


def _split_layout(path: str) -> tuple[str, str] | None:
    """(train, val) folders when `path` holds train/ and val/validation/test/, else None."""
    try:
        names = {e.name for e in os.scandir(path) if e.is_dir()}
    except OSError:
        return None
    train = next((n for n in TRAIN_NAMES if n in names), None)
    val = next((n for n in VAL_NAMES if n in names), None)
    if train is None or val is None:
        return None
    return os.path.join(path, train), os.path.join(path, val)


def plan_data(data: str, val: str | None, val_split: float | None) -> DataPlan:
    """Decide where training and validation images come from, and check both agree."""
    if val_split is not None and not 0.0 <= val_split < 1.0:
        raise data_error(data, f"--val-split must be in [0, 1), got {val_split}")
    split = None if val is not None else (_split_layout(data) if os.path.isdir(data) else None)
    if split is not None:
        if val_split:
            raise data_error(
                data, "--val-split with a folder that already has train/ and val/ (or test/)",
                "leave out --val-split to validate on that folder",
            )  # fmt: skip
        data, val = split
    train = scan_folder(data)
    if len(train.class_names) < 2:
        raise data_error(
            data, f"1 class folder ('{train.class_names[0]}'): a classifier needs at least two",
            "put each class's images in a folder of its own under the data folder",
        )  # fmt: skip
    if val is None:
        fraction = 0.2 if val_split is None else val_split
        if fraction and any(n < 2 for n in train.counts):
            few = train.class_names[train.counts.index(min(train.counts))]
            raise data_error(
                os.path.join(data, few), f"class '{few}' has one image: too few to split off "
                "validation images", "add images, or give --val-split 0 or --val DIR",
            )  # fmt: skip
        return DataPlan(train, None, fraction)
    validation = scan_folder(val)
    check_same_classes(validation, train.class_names, f"the training folder {data}")
    return DataPlan(train, validation, 0.0)


def check_same_classes(folder: ImageFolder, expected: tuple[str, ...], whose: str) -> None:
    """`folder` must have exactly the class folders `expected` (order is alphabetical in both)."""
    if folder.class_names == expected:
        return
    missing = sorted(set(expected) - set(folder.class_names))
    extra = sorted(set(folder.class_names) - set(expected))
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing[:5])}{'…' if len(missing) > 5 else ''}")
    if extra:
        parts.append(f"unknown {', '.join(extra[:5])}{'…' if len(extra) > 5 else ''}")
    raise data_error(
        folder.path,
        f"class folders differ from {whose}: {'; '.join(parts)}",
        f"expected {len(expected)} classes: {', '.join(expected[:10])}"
        + ("…" if len(expected) > 10 else ""),
    )
