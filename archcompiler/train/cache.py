"""`--cache-dir`: the decoded images kept on disk (tf.data's file cache), for data that does
not fit in memory, and kept between runs.

A cache is trusted only when it is complete: each one is written into a temporary
`.archc-PID-…` folder by the counting pass (which reads every image once, as the first epoch
would), and renamed to its final name only when that pass ended. A run killed meanwhile leaves
a temporary folder that no run reads (the next one removes it) — never a partial cache that a
later run takes for the data. The final name is a digest of everything the cache depends on:
the files (path, size, modification time, label), the input size and channels, the label
mode, the shard and TensorFlow's version; change any of them and a new cache is written beside.
Each shard (worker) has a folder of its own, so that workers on several hosts sharing the
folder never see each other's temporary folders.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence

import tensorflow as tf

from ..atomic import replacing_folder, write_atomically
from ..errors import Location, SpecError, first_line

FORMAT = 1  # bump when what a cache holds changes
COUNTS = "counts.json"  # images per class, written last inside the temporary folder
DATA = "images"  # tf.data's cache files: images.index, images.data-…


def cache_key(paths: Sequence[str], labels: Sequence[int], label_mode: str, classes: int,
              image_size: tuple[int, int], channels: int) -> str:  # fmt: skip
    """A digest of what the decoded images depend on (a file's change shows in its size or
    modification time, as make and rsync assume)."""
    h = hashlib.sha256()
    settings = {
        "format": FORMAT, "tensorflow": tf.__version__, "label_mode": label_mode,
        "classes": classes, "image_size": list(image_size), "channels": channels,
    }  # fmt: skip
    h.update(json.dumps(settings, sort_keys=True).encode())
    for path, label in zip(paths, labels, strict=True):
        try:
            st = os.stat(path)
            stamp = f"{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            stamp = "missing"  # it will be skipped as undecodable, like any broken file
        h.update(f"{os.path.abspath(path)}\0{stamp}\0{label}\n".encode())
    return h.hexdigest()[:24]


def file_cached(
    images: Callable[[], tf.data.Dataset],
    count: Callable[[tf.data.Dataset], tuple[int, ...]],
    cache_dir: str,
    shard: str,
    role: str,
    key: str,
) -> tuple[tf.data.Dataset, tuple[int, ...]]:
    """The images read through the cache `cache_dir/shard/role-key` (written now, by the
    counting pass `count`, unless a complete one is there), and the images per class."""
    folder = os.path.join(cache_dir, shard)
    final = os.path.join(folder, f"{role}-{key}")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise SpecError.at(
            Location(cache_dir), f"cannot create the image cache folder: {e.strerror or e}"
        ) from None
    counts = _complete(final)
    if counts is None:
        with replacing_folder(final) as tmp:
            try:
                counts = list(count(images().cache(os.path.join(tmp, DATA))))
            except tf.errors.OpError as e:  # a full disk, a folder made read-only meanwhile
                raise SpecError.at(
                    Location(cache_dir), f"cannot write the image cache: {first_line(e)}"
                ) from None
            write_atomically(os.path.join(tmp, COUNTS), json.dumps(counts))
    return images().cache(os.path.join(final, DATA)), tuple(counts)


def _complete(final: str) -> list[int] | None:
    """The per-class counts of a complete cache at `final`; None when there is none."""
    try:
        with open(os.path.join(final, COUNTS), encoding="utf-8") as f:
            counts = json.load(f)
    except (OSError, ValueError):
        return None
    whole = os.path.isfile(os.path.join(final, DATA + ".index"))
    if whole and isinstance(counts, list) and all(isinstance(n, int) for n in counts):
        return counts
    return None
