"""Training throughput of a compiled ResNet-50 against keras.applications.ResNet50.

Both models are trained in one process, on the same tf.data pipeline — archc train's own
(image_dataset_from_directory → cache → shuffle → batch → preprocess → prefetch) over a
generated folder of JPEG images — with the same optimizer (Adam) and loss. After a warm-up
epoch each (tracing and compiling the train step), epochs alternate ours, theirs, ours, …, and
images/s of every epoch is printed with the ratio ours ÷ keras.applications (goal ≥ 0.98):
best epoch against best epoch (the figure least disturbed by a shared machine, as in
bench_build.py), the medians, and round by round.

Settings (`archc train`'s options): float32 or --mixed-precision, and --jit (XLA, Keras
`jit_compile`) off or on, passed to both models' `compile` explicitly — Keras's own default
("auto") turns XLA on where there is a GPU, which would make "off" mean on there. `--settings
all` measures the four in one run (each with its own warm-up, then its alternating epochs)
and ends with a table: per setting the median images/s of both, ours ÷ theirs, and each
model's speed-up over its own float32 without XLA.

Run: python benchmarks/bench_train.py [--size 224] [--batch 16] [--steps 4] [--repeats 3]
                                      [--strategy default|mirrored] [--mixed-precision] [--jit]
                                      [--settings one|all]
CPU, all four settings (~10 min on 2 shared cores, mostly XLA compiling):
    --size 96 --batch 8 --steps 3 --repeats 2 --settings all
On a GPU (what benchmarks/gpu.sh runs; add --strategy mirrored for several GPUs):
    python benchmarks/bench_train.py --size 224 --batch 64 --steps 25 --repeats 4 --settings all
Prints figures only; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf

from archcompiler.backends.keras import build_model
from archcompiler.compiler import compile_file
from archcompiler.train import pipeline

SPEC = Path(__file__).resolve().parent.parent / "specs" / "resnet50.yaml"
CLASSES = 4


def write_images(root: Path, count: int, size: int) -> None:
    """`count` random JPEGs in CLASSES class folders (a real decode per image, as in training)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(count):
        folder = root / f"class{i % CLASSES}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i:05d}.jpg", quality=90)


def models(size: int, mixed: bool, jit: bool,
           strategy: tf.distribute.Strategy) -> dict[str, keras.Model]:  # fmt: skip
    """Both networks, compiled alike. With mixed precision both compute in float16: ours through
    build_model's dtype_policy (its output layer stays float32), theirs under the global
    mixed_float16 policy (its 8k-weight classifier then runs in float16 too: negligible).
    `jit`: Keras's jit_compile for both, given explicitly (archc train --jit does the same)."""
    with strategy.scope():
        graph = compile_file(SPEC, {"classes": str(CLASSES), "size": str(size)})
        ours = build_model(graph, dtype_policy="mixed_float16" if mixed else None)
        if mixed:
            keras.mixed_precision.set_global_policy("mixed_float16")
        theirs = keras.applications.ResNet50(
            weights=None, classes=CLASSES, input_shape=(size, size, 3)
        )
        keras.mixed_precision.set_global_policy("float32")
        for model in (ours, theirs):
            model.compile(
                optimizer=keras.optimizers.Adam(1e-3),
                loss=keras.losses.SparseCategoricalCrossentropy(),
                jit_compile=jit,
            )
    return {"archc": ours, "keras.applications": theirs}


def epoch_rate(model: keras.Model, ds: tf.data.Dataset, images: int) -> float:
    start = time.perf_counter()
    model.fit(ds, epochs=1, verbose=0, shuffle=False)  # the pipeline shuffles
    return images / (time.perf_counter() - start)


Setting = tuple[bool, bool]  # (mixed precision, jit)


def label(setting: Setting) -> str:
    mixed, jit = setting
    return ("mixed_float16" if mixed else "float32") + (" + XLA" if jit else "")


def measure(setting: Setting, args: argparse.Namespace, ds: tf.data.Dataset, images: int,
            strategy: tf.distribute.Strategy) -> dict[str, list[float]]:  # fmt: skip
    """Images/s of every timed epoch of both models under one setting, alternating."""
    nets = models(args.size, *setting, strategy)
    print(f"{label(setting)}:")
    print(f"  params: archc {nets['archc'].count_params():,}, "
          f"keras.applications {nets['keras.applications'].count_params():,}")  # fmt: skip
    for model in nets.values():  # warm-up: trace and compile (XLA: also compile) the step
        epoch_rate(model, ds, images)
    rates: dict[str, list[float]] = {name: [] for name in nets}
    for _ in range(args.repeats):
        for name, model in nets.items():
            rates[name].append(epoch_rate(model, ds, images))
    ours, theirs = rates["archc"], rates["keras.applications"]
    for name, values in rates.items():
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {name:19s} images/s per epoch: {shown}  (median {statistics.median(values):.2f})")
    pairwise = [a / b for a, b in zip(ours, theirs, strict=True)]
    median = statistics.median(ours) / statistics.median(theirs)
    print(
        f"  ratio archc / keras.applications: best {max(ours) / max(theirs):.3f} (goal ≥ 0.98); "
        f"median {median:.3f}; per round {', '.join(f'{r:.3f}' for r in pairwise)}",
        flush=True,
    )
    del nets
    keras.backend.clear_session()  # the next setting's models start from a clean slate
    return rates


def summary(results: dict[Setting, dict[str, list[float]]]) -> None:
    """Medians per setting, ours ÷ theirs, and speed-ups over float32 without XLA."""
    base = results.get((False, False))
    print("\nsummary (medians of the timed epochs; speed-up: over the same model's float32)")
    print(f"  {'setting':23s} {'archc img/s':>11s} {'keras img/s':>11s} {'ratio':>6s} "
          f"{'archc ×':>8s} {'keras ×':>8s}")  # fmt: skip
    for setting, rates in results.items():
        ours = statistics.median(rates["archc"])
        theirs = statistics.median(rates["keras.applications"])
        line = f"  {label(setting):23s} {ours:11.2f} {theirs:11.2f} {ours / theirs:6.3f}"
        if base is not None:
            ours_up = ours / statistics.median(base["archc"])
            theirs_up = theirs / statistics.median(base["keras.applications"])
            line += f" {ours_up:8.3f} {theirs_up:8.3f}"
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=4, help="batches per epoch")
    ap.add_argument("--repeats", type=int, default=3, help="timed epochs per model")
    ap.add_argument("--strategy", choices=["default", "mirrored"], default="default")
    ap.add_argument("--mixed-precision", action="store_true")
    ap.add_argument("--jit", action="store_true", help="XLA (Keras jit_compile) for both")
    ap.add_argument(
        "--settings", choices=["one", "all"], default="one",
        help="one: the setting --mixed-precision/--jit give; all: float32 and mixed precision, "
        "each with XLA off and on",
    )  # fmt: skip
    args = ap.parse_args()
    settings: list[Setting] = (
        [(False, False), (False, True), (True, False), (True, True)]
        if args.settings == "all"
        else [(args.mixed_precision, args.jit)]
    )

    keras.utils.set_random_seed(0)
    strategy = (
        tf.distribute.MirroredStrategy()
        if args.strategy == "mirrored"
        else tf.distribute.get_strategy()
    )
    images = args.batch * args.steps
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        write_images(root, images, args.size)
        decoded, _ = pipeline.read_folders(
            str(root), None, 0.0, class_names=[f"class{i}" for i in range(CLASSES)],
            image_size=(args.size, args.size), channels=3, label_mode="int", seed=0,
        )  # fmt: skip
        ds = pipeline.batches(decoded, args.batch, "caffe", shuffle_seed=0)
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or ["CPU"]
        print(
            f"ResNet-50 training, {args.size}×{args.size}, batch {args.batch}, {args.steps} steps"
            f"/epoch, {args.repeats} timed epochs per model, {args.strategy} strategy, "
            f"TensorFlow {tf.__version__}, Keras {keras.__version__}, devices {devices}",
            flush=True,
        )
        results = {s: measure(s, args, ds, images, strategy) for s in settings}
    if len(results) > 1:
        summary(results)


if __name__ == "__main__":
    main()
