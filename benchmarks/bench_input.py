"""Is training input-bound? Images/s of archc train's input pipeline alone against the images/s
the model's training step consumes.

A folder of generated JPEGs (default 3,000 at 320×240 in 4 class folders: gradients, shapes
and noise, so that decoding costs what a photo's does) is written to a temporary folder and
removed at the end. Then, in one run:

1. the input pipeline alone — archcompiler/train/pipeline.py, `read_folders(...)` then
   `batches(...)` (shuffle, batch, caffe preprocessing, prefetch) iterated to the end with no
   model — images/s in each mode:
   - first pass with the memory cache: `read_folders`' counting pass (list the files, decode
     and resize in parallel with AUTOTUNE, fill the cache), as `archc train` runs it;
   - a later epoch from the memory cache (what every epoch after it reads);
   - `--no-cache`: every epoch decodes (AUTOTUNE);
   - the same with sequential decoding (`num_parallel_calls=1`, built here) to show the gain;
   - `--cache-dir`: the first pass (decode, write tf.data's cache files) and a later epoch
     read back from those files (just written, so mostly from the OS page cache);
2. the model alone: a compiled spec (default specs/resnet50.yaml at 96×96) trained with Keras
   `fit` on one batch already in memory, repeated — no input pipeline — after a warm-up;
3. for each pipeline mode, pipeline images/s ÷ model images/s and a verdict: "input-bound"
   when below 1 (the model waits on the input), else "not input-bound".

The four epoch modes run --repeats rounds, interleaved (so that a busy shared machine slows
them alike; the first round also warms tf.data up), and the best is kept; CPU ms per image
(all threads of the process) is printed beside, which parallelism cannot lower.

Training on a CPU, the model and the pipeline share the same cores, so even a ratio above 1
costs the model the pipeline's share of them (about 1 ÷ ratio); on a GPU only the pipeline
runs on the CPU.

Run (~2 min on 2 shared cores, a third of it writing the JPEGs):
    python benchmarks/bench_input.py [--images 3000] [--size 96] [--batch 16] [--steps 6]
                                     [--spec specs/resnet50.yaml] [--repeats 3]
On a GPU machine (the model's step on the GPU, the pipeline on the host's cores):
    python benchmarks/bench_input.py --images 5000 --size 224 --batch 64 --steps 30
Prints figures and ratios only; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf

from archcompiler.backends.keras import build_model
from archcompiler.compiler import compile_file
from archcompiler.train import pipeline

SPEC = Path(__file__).resolve().parent.parent / "specs" / "resnet50.yaml"
CLASSES = 4
NAMES = [f"class{i}" for i in range(CLASSES)]
T = TypeVar("T")
PREPROCESS = "caffe"  # ResNet-50's (keras.applications' weights)
FIRST_MEMORY = "first pass, memory cache (decode + fill)"
LATER_MEMORY = "later epoch, memory cache"
NO_CACHE = "--no-cache, every epoch (AUTOTUNE decode)"
SEQUENTIAL = "--no-cache, sequential decode (1 call)"
FIRST_FILES = "--cache-dir, first pass (decode + write)"
LATER_FILES = "--cache-dir, later epoch (read files)"
ORDER = [FIRST_MEMORY, LATER_MEMORY, NO_CACHE, SEQUENTIAL, FIRST_FILES, LATER_FILES]


def write_images(root: Path, count: int, width: int = 320, height: int = 240) -> int:
    """`count` JPEGs of varied content in CLASSES class folders; returns their total bytes."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    total = 0
    for i in range(count):
        a, b = rng.uniform(0, 255, size=(2, 3)).astype(np.float32)
        angle = rng.uniform(0, np.pi)
        t = (np.cos(angle) * xx / width + np.sin(angle) * yy / height + 1) / 2  # 0..1
        pixels = a + (b - a) * t[..., None] + rng.normal(0, 12, size=(height, width, 3))
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(image)
        for _ in range(rng.integers(3, 9)):
            x0, x1 = sorted(rng.integers(0, width, 2))
            y0, y1 = sorted(rng.integers(0, height, 2))
            fill = tuple(int(c) for c in rng.integers(0, 256, 3))
            shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
            shape((x0, y0, x1 + 1, y1 + 1), fill=fill)
        folder = root / NAMES[i % CLASSES]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{i:05d}.jpg"
        image.save(path, quality=90)
        total += path.stat().st_size
    return total


def read(root: Path, size: int, **kwargs: object) -> pipeline.Decoded:
    """`read_folders` as archc train calls it (no validation), for one cache mode."""
    train, _ = pipeline.read_folders(
        str(root), None, 0.0, class_names=NAMES, image_size=(size, size), channels=3,
        label_mode="int", seed=0, **kwargs,
    )  # fmt: skip
    return train


def sequential(decoded: pipeline.Decoded, root: Path, size: int) -> pipeline.Decoded:
    """The same files decoded as pipeline._images decodes them, but one at a time
    (num_parallel_calls=1; tf.data's map_parallelization rewrite turned off), uncached."""
    labels = [NAMES.index(os.path.relpath(p, root).split(os.sep)[0]) for p in decoded.paths]

    def load(path: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image = tf.image.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        image = tf.image.resize(image, (size, size), method="bilinear")
        image.set_shape((size, size, 3))
        return image, label

    ds = tf.data.Dataset.from_tensor_slices((list(decoded.paths), np.asarray(labels, "int32")))
    ds = ds.map(load, num_parallel_calls=1).ignore_errors()
    options = tf.data.Options()
    options.experimental_optimization.map_parallelization = False
    ds = ds.with_options(options).apply(tf.data.experimental.assert_cardinality(decoded.count))
    return pipeline.Decoded(ds, decoded.count, 0, decoded.per_class, decoded.paths)


def epoch(ds: tf.data.Dataset) -> tuple[float, float]:
    """One epoch of `ds` iterated to the end, no model: images/s, and CPU ms per image (all
    of this process's threads: what parallelism cannot lower)."""
    wall, cpu = time.perf_counter(), time.process_time()
    n = sum(int(x.shape[0]) for x, _ in ds)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return n / wall, 1000 * cpu / n


def timed(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    """fn(...) and the seconds it took."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def pipeline_rates(root: Path, args: argparse.Namespace) -> dict[str, float]:
    """Best images/s of each pipeline mode. The four epoch modes run interleaved, round by
    round, so that a busy shared machine slows them alike."""
    rates: dict[str, float] = {}

    def show(mode: str, values: list[float], cpu: float) -> None:
        rates[mode] = max(values)
        shown = ", ".join(f"{v:.0f}" for v in values)
        print(f"  {mode:42s} {rates[mode]:6.0f} images/s, {cpu:5.2f} CPU ms/image  (runs: {shown})")

    with contextlib.redirect_stdout(io.StringIO()):  # "Found N files belonging to …"
        _, listing = timed(keras.utils.image_dataset_from_directory, str(root), batch_size=None)
    print(f"  (listing the files, part of every first pass: {listing:.2f} s)")

    cpu = time.process_time()
    memory, first = timed(read, root, args.size)
    show(FIRST_MEMORY, [memory.count / first], 1000 * (time.process_time() - cpu) / memory.count)
    cache_dir = root.parent / "cache"
    cpu = time.process_time()
    ondisk, first = timed(read, root, args.size, cache_dir=str(cache_dir))
    show(FIRST_FILES, [ondisk.count / first], 1000 * (time.process_time() - cpu) / ondisk.count)
    nocache = read(root, args.size, cache=False)  # its counting pass decodes once (untimed)
    modes = {
        LATER_MEMORY: memory, NO_CACHE: nocache,
        SEQUENTIAL: sequential(nocache, root, args.size), LATER_FILES: ondisk,
    }  # fmt: skip
    datasets = {
        mode: pipeline.batches(decoded, args.batch, PREPROCESS, shuffle_seed=0)
        for mode, decoded in modes.items()
    }
    runs: dict[str, list[tuple[float, float]]] = {mode: [] for mode in modes}
    for _ in range(args.repeats):
        for mode, ds in datasets.items():
            runs[mode].append(epoch(ds))
    for mode, values in runs.items():
        show(mode, [r for r, _ in values], min(c for _, c in values))
    size = sum(f.stat().st_size for f in cache_dir.rglob("*") if f.is_file())
    print(f"  (cache files: {size / 2**20:.0f} MiB for {ondisk.count:,} images)", flush=True)
    return rates


def model_rate(args: argparse.Namespace) -> tuple[float, keras.Model]:
    """Images/s of the training step alone: fit on one in-memory batch, repeated."""
    graph = compile_file(args.spec, {"classes": str(CLASSES), "size": str(args.size)})
    model = build_model(graph)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.SparseCategoricalCrossentropy()
    )
    rng = np.random.default_rng(0)
    x = rng.normal(0, 60, size=(args.batch, args.size, args.size, 3)).astype("float32")
    y = rng.integers(0, CLASSES, size=(args.batch,)).astype("int32")
    ds = tf.data.Dataset.from_tensors((x, y)).repeat()
    # warm-up: trace the train step
    model.fit(ds, steps_per_epoch=2, epochs=1, verbose=0, shuffle=False)
    best = 0.0
    for _ in range(args.repeats):
        start = time.perf_counter()
        model.fit(ds, steps_per_epoch=args.steps, epochs=1, verbose=0, shuffle=False)
        best = max(best, args.batch * args.steps / (time.perf_counter() - start))
    return best, model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=3000, help="JPEGs generated")
    ap.add_argument("--size", type=int, default=96, help="the model's input (images resized)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=6, help="timed training steps per run")
    ap.add_argument("--repeats", type=int, default=3, help="runs per figure (best kept)")
    ap.add_argument("--spec", type=Path, default=SPEC)
    args = ap.parse_args()
    keras.utils.set_random_seed(0)
    devices = [d.name for d in tf.config.list_logical_devices("GPU")] or ["CPU"]
    print(
        f"input pipeline vs model, {args.images:,} JPEGs 320×240 → {args.size}×{args.size}, "
        f"batch {args.batch}, {PREPROCESS} preprocessing, {os.cpu_count()} CPU cores, "
        f"devices {devices}, TensorFlow {tf.__version__}, Keras {keras.__version__}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        total, seconds = timed(write_images, root, args.images)
        print(f"generated {args.images:,} JPEGs ({total / args.images / 1024:.1f} KiB each) "
              f"in {seconds:.1f} s\npipeline alone (best of the runs):")  # fmt: skip
        rates = pipeline_rates(root, args)
    (model, net), seconds = timed(model_rate, args)
    print(
        f"model alone: {args.spec.name} ({net.count_params():,} params), training step on "
        f"in-memory batches: {model:.1f} images/s (best of {args.repeats} × {args.steps} steps)"
    )
    print(f"\n  {'pipeline mode':44s} {'images/s':>9s} {'÷ model':>9s}  verdict")
    for mode in ORDER:
        rate = rates[mode]
        ratio = rate / model
        verdict = "input-bound" if ratio < 1 else "not input-bound"
        print(f"  {mode:44s} {rate:9.0f} {ratio:9.2f}  {verdict}")
    gain = rates[NO_CACHE] / rates[SEQUENTIAL]
    print(f"\nparallel (AUTOTUNE) ÷ sequential decoding: {gain:.2f}× on {os.cpu_count()} cores")
    steady = rates[LATER_MEMORY] / model
    print(
        f"verdict for archc train's default (memory cache, epochs after the first): "
        f"{'input-bound' if steady < 1 else 'not input-bound'} (pipeline ÷ model {steady:.2f})"
    )


if __name__ == "__main__":
    main()
