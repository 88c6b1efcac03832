"""The input pipeline: decoding from Keras's own file list, shards, and `--cache-dir`.

Checked against keras.utils.image_dataset_from_directory (what every image decodes to, its
label in each label mode, the files of each split), shards that partition the files, and a
file cache that a killed run cannot leave behind as trusted (the kill is made deterministic
with a named pipe among the images: reading it blocks until the process is killed).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.digits import write_digits
from tests.helpers import located_error, run_cli

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from archcompiler.train import memory, pipeline  # noqa: E402
from archcompiler.train.cache import COUNTS  # noqa: E402

CLASSES = ("0", "1", "2")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three digit classes, one of them with a nested folder, and one broken file."""
    root = write_digits(tmp_path_factory.mktemp("pipe") / "d", size=12, classes=[0, 1, 2])
    nested = root / "1" / "more"
    nested.mkdir()
    for p in sorted((root / "1").glob("*.png"))[:5]:
        p.rename(nested / p.name)
    (root / "2" / "broken.png").write_bytes(b"not a png")
    return root


def read(folder: Path, **kw: object) -> tuple[pipeline.Decoded, pipeline.Decoded | None]:
    args = {"class_names": CLASSES, "image_size": (10, 10), "channels": 1,
            "label_mode": "int", "seed": 7, **kw}  # fmt: skip
    split = args.pop("val_split", 0.0)
    return pipeline.read_folders(str(folder), None, split, **args)  # type: ignore[arg-type]


def elements(ds: object) -> list[tuple[bytes, bytes]]:
    return [(x.numpy().tobytes(), y.numpy().tobytes()) for x, y in ds]  # type: ignore[attr-defined]


def keras_reads(folder: Path, channels: int, label_mode: str, split: float) -> list:
    common = {
        "class_names": list(CLASSES), "color_mode": {1: "grayscale", 3: "rgb"}[channels],
        "batch_size": None, "image_size": (10, 10), "seed": 7, "label_mode": label_mode,
        "verbose": False,
    }  # fmt: skip
    if split:
        parts = keras.utils.image_dataset_from_directory(
            str(folder), validation_split=split, subset="both", **common
        )
        return [p.ignore_errors() for p in parts]
    return [keras.utils.image_dataset_from_directory(str(folder), **common).ignore_errors()]


@pytest.mark.parametrize("label_mode", ["int", "categorical"])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("split", [0.0, 0.3])
def test_images_and_labels_are_those_keras_reads(
    folder: Path, label_mode: str, channels: int, split: float
) -> None:
    ours = read(folder, label_mode=label_mode, channels=channels, val_split=split)
    theirs = keras_reads(folder, channels, label_mode, split)
    for mine, keras_own in zip([p for p in ours if p is not None], theirs, strict=True):
        a, b = elements(mine.images), elements(keras_own)
        # the training part is shuffled again by Keras (a buffer before decoding): same images
        assert sorted(a) == sorted(b) and len(a) == mine.count
        assert mine.images.element_spec == keras_own.element_spec
    train = ours[0]
    assert train.skipped == (1 if split == 0 else train.skipped)  # broken.png, wherever it fell
    assert (ours[1].skipped if ours[1] else 0) + train.skipped == 1


def test_binary_labels_are_keras_own(folder: Path) -> None:
    two = ("0", "1")
    ours, _ = pipeline.read_folders(str(folder), None, 0.0, class_names=two, image_size=(10, 10),
                                    channels=1, label_mode="binary", seed=7)  # fmt: skip
    theirs = keras.utils.image_dataset_from_directory(
        str(folder), class_names=list(two), color_mode="grayscale", batch_size=None,
        image_size=(10, 10), seed=7, label_mode="binary", verbose=False,
    )  # fmt: skip
    assert sorted(elements(ours.images)) == sorted(elements(theirs))
    assert ours.images.element_spec == theirs.element_spec


def test_shards_partition_the_files(folder: Path) -> None:
    whole, _ = read(folder)
    shards = [read(folder, shard=pipeline.Shard(i, 3))[0] for i in range(3)]
    paths = [p for s in shards for p in s.paths]
    assert sorted(paths) == sorted(whole.paths) and len(set(paths)) == len(paths)
    assert sorted(e for s in shards for e in elements(s.images)) == sorted(elements(whole.images))
    assert sum(s.count for s in shards) == whole.count
    assert max(len(s.paths) for s in shards) - min(len(s.paths) for s in shards) <= 1


def test_counts_combined_over_workers_decide_alike(folder: Path) -> None:
    """With a `combine` (the all-reduce: a sum over workers), each shard reports the whole
    folder's counts. Worker 1's calls are recorded, then worker 0's are answered with the sums."""
    whole, _ = read(folder)
    parts = [read(folder, shard=pipeline.Shard(i, 2))[0] for i in range(2)]
    calls: list[list[int]] = []
    pipeline.check_decoded(str(folder), CLASSES, parts[1], combine=lambda v: calls.append(v) or v)
    replies = iter(calls)

    def summed(values: list[int]) -> list[int]:
        return [a + b for a, b in zip(values, next(replies), strict=True)]

    pipeline.check_decoded(str(folder), CLASSES, parts[0], combine=summed)
    assert (parts[0].count_all, parts[0].skipped_all) == (whole.count, whole.skipped)
    assert (parts[0].count, parts[0].skipped) != (whole.count, whole.skipped)


def test_the_file_cache_is_written_once_and_reused(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    plain, _ = read(folder, cache=False)
    first, _ = read(folder, cache_dir=str(cache))
    shard = cache / "shard-0-of-1"
    made = sorted(p.name for p in shard.iterdir())
    assert len(made) == 1 and made[0].startswith("train-")
    index = shard / made[0] / "images.index"
    stamp = index.stat().st_mtime_ns
    assert json.loads((shard / made[0] / COUNTS).read_text()) == list(first.per_class)
    assert elements(first.images) == elements(plain.images)
    again, _ = read(folder, cache_dir=str(cache))
    assert elements(again.images) == elements(plain.images) and again.count == plain.count
    assert sorted(p.name for p in shard.iterdir()) == made and index.stat().st_mtime_ns == stamp
    # another input size is another cache, beside the first
    read(folder, cache_dir=str(cache), image_size=(8, 8))
    assert len(list(shard.iterdir())) == 2


KILLED = """
import sys
from archcompiler.train import pipeline
pipeline.read_folders(sys.argv[1], None, 0.0, class_names=("0", "1", "2", "3"),
                      image_size=(10, 10), channels=1, label_mode="int", seed=7,
                      cache_dir=sys.argv[2])
"""


@pytest.mark.slow
def test_a_killed_cache_write_is_never_trusted(folder: Path, tmp_path: Path) -> None:
    """A run killed while writing its cache leaves only a temporary folder; the next run
    removes it and writes the cache again (equal to reading without one)."""
    data = tmp_path / "data"
    import shutil

    shutil.copytree(folder, data)
    (data / "3").mkdir()
    fifo = data / "3" / "blocks.png"
    os.mkfifo(fifo)  # read_file waits on it forever: the process is inside the counting pass
    cache = tmp_path / "cache"
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(data), str(cache)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    shard = cache / "shard-0-of-1"
    try:
        deadline = time.monotonic() + 120
        while not (shard.is_dir() and any(shard.iterdir())):
            assert proc.poll() is None and time.monotonic() < deadline, "it never began"
            time.sleep(0.2)
        time.sleep(1.0)  # into the pass, blocked on the pipe
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    left = [p.name for p in shard.iterdir()]
    assert left and all(name.startswith(".archc-") for name in left), left
    fifo.unlink()
    (data / "3" / "ok.png").write_bytes((data / "0").glob("*.png").__next__().read_bytes())
    classes = ("0", "1", "2", "3")
    cached, _ = pipeline.read_folders(str(data), None, 0.0, class_names=classes,
                                      image_size=(10, 10), channels=1, label_mode="int",
                                      seed=7, cache_dir=str(cache))  # fmt: skip
    plain, _ = pipeline.read_folders(str(data), None, 0.0, class_names=classes,
                                     image_size=(10, 10), channels=1, label_mode="int",
                                     seed=7, cache=False)  # fmt: skip
    assert elements(cached.images) == elements(plain.images)
    names = [p.name for p in shard.iterdir()]
    assert len(names) == 1 and names[0].startswith("train-"), names  # the stale one is gone


def test_a_cache_without_its_counts_is_not_trusted(folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    read(folder, cache_dir=str(cache))
    (made,) = (cache / "shard-0-of-1").iterdir()
    (made / COUNTS).unlink()  # as if the folder were half copied
    again, _ = read(folder, cache_dir=str(cache))
    assert (made / COUNTS).is_file() and again.count == read(folder, cache=False)[0].count


def test_the_shuffle_buffer_is_bounded_in_bytes() -> None:
    big = tf.data.Dataset.from_tensors((tf.zeros([224, 224, 3]), tf.constant(0)))
    assert pipeline.shuffle_buffer(pipeline.Decoded(big, 50_000, 0)) == (1 << 30) // 602_112
    small = tf.data.Dataset.from_tensors((tf.zeros([8, 8, 1]), tf.constant(0)))
    assert pipeline.shuffle_buffer(pipeline.Decoded(small, 50_000, 0)) == 10_000
    assert pipeline.shuffle_buffer(pipeline.Decoded(small, 37, 0)) == 37


def test_memory_estimate_counts_the_shuffle_buffer_when_not_cached_in_memory() -> None:
    from archcompiler.compiler import compile_file

    g = compile_file(str(ROOT / "specs" / "resnet50.yaml"), {})
    in_memory = memory.training_needs(g, 8, "adam", 100_000, True)
    on_disk = memory.training_needs(g, 8, "adam", 100_000, False)
    assert in_memory.cache == 100_000 * 602_112
    assert on_disk.cache == ((1 << 30) // 602_112) * 602_112


@pytest.mark.slow
def test_train_with_a_cache_dir(digits_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    run_dir = tmp_path / "run"
    lenet = ROOT / "specs" / "lenet5.yaml"
    code, _, err = run_cli("train", lenet, "--data", digits_dir, "-o", run_dir,
                           "--epochs", 1, "--cache-dir", cache, "-q")  # fmt: skip
    assert code == 0, err
    record = json.loads((run_dir / "run.json").read_text())
    assert record["training"]["cache_dir"] == str(cache)
    names = sorted(p.name.split("-")[0] for p in (cache / "shard-0-of-1").iterdir())
    assert names == ["train", "val"]
    assert json.loads((run_dir / "history.json").read_text())[0]["val_accuracy"] > 0.5


def test_cache_dir_mistakes_fail_before_tensorflow(digits_dir: Path, tmp_path: Path) -> None:
    lenet = ROOT / "specs" / "lenet5.yaml"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    code, out, err = run_cli("train", lenet, "--data", digits_dir, "--cache-dir", a_file)
    located_error(code, out, err, a_file, "--cache-dir: this is a file, not a folder")
    code, _, err = run_cli("train", lenet, "--data", digits_dir, "--cache-dir", tmp_path / "c",
                           "--no-cache")  # fmt: skip
    assert code == 2 and "not both" in err
