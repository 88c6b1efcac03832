"""Inference images/s: keras.applications' model against our zoo twin optimized for inference
(archcompiler/optimize.py: batch norms folded, activations merged, dropout dropped), with the
same weights, on CPU.

For ResNet-50, MobileNet and DenseNet-121: the twin `keras.applications.NAME(weights=None)`
gets fresh random weights (tests/parity.py `give_fresh_weights`), our spec's model is built and
given the twin's weights layer by layer (by name), then optimized. Both are timed in the same
run, calls interleaved (theirs, ours, theirs, …) so that a busy machine slows both alike:

- `predict`: `model.predict(x, batch_size=B)`, Keras's own loop (graph mode, grappler on);
- `tf.function`: one `tf.function(lambda x: model(x, training=False))` call per batch.

Batch 1 (20 calls) and 32 (5 calls) by default; the median call time gives images/s, and the
ratio ours/keras.applications is printed. Keras 3 on TensorFlow computes a BatchNormalization
as its own ops (`tf.nn.batch_normalization`) on variables, which grappler cannot fold into the
convolution's weights; the `tf.function` rows show what remains when Keras's loop is not in
the way. Figures: benchmarks/RESULTS.md.

Run from the repository root (a few minutes on 2 cores):

    python benchmarks/bench_optimize.py
    python benchmarks/bench_optimize.py --size 160 --models ResNet50 --calls 10 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # CPU, as the figures say
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

TWINS = {"ResNet50": "resnet50.yaml", "MobileNet": "mobilenet.yaml",
         "DenseNet121": "densenet121.yaml"}  # fmt: skip


def models(name: str, size: int):
    """keras.applications' model with fresh weights, and our optimized twin with its weights."""
    from archcompiler.backends.keras import build_model
    from archcompiler.compiler import compile_file
    from archcompiler.optimize import optimize_for_inference
    from tests.parity import give_fresh_weights, keras_twin

    twin = keras_twin(name, input_shape=(size, size, 3))
    give_fresh_weights(twin)
    ours = build_model(compile_file(ROOT / "specs" / TWINS[name], {"size": str(size)}))
    for layer in ours.layers:
        if layer.weights:
            layer.set_weights(twin.get_layer(layer.name).get_weights())
    return twin, optimize_for_inference(ours)


def timers(model, batch: int):
    """The two ways of calling `model` on a batch, each returning seconds for one call."""
    import tensorflow as tf

    fn = tf.function(lambda x: model(x, training=False))

    def predict(x):
        start = time.perf_counter()
        model.predict(x, batch_size=batch, verbose=0)
        return time.perf_counter() - start

    def graph(x):
        start = time.perf_counter()
        np.asarray(fn(x))
        return time.perf_counter() - start

    return {"predict": predict, "tf.function": graph}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--models", nargs="+", default=list(TWINS), choices=list(TWINS))
    parser.add_argument("--calls", type=int, nargs=2, default=(20, 5), metavar=("B1", "B32"),
                        help="timed calls at batch 1 and at batch 32")  # fmt: skip
    args = parser.parse_args()
    import tensorflow as tf

    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs, {args.size}×{args.size}, CPU")
    print(f"{'model':12} {'batch':>5} {'mode':12} {'keras img/s':>12} {'ours img/s':>11} "
          f"{'ratio':>6}")  # fmt: skip
    rng = np.random.default_rng(0)
    for name in args.models:
        twin, opt = models(name, args.size)
        x = rng.uniform(-1, 1, (32, args.size, args.size, 3)).astype("float32")
        want = np.asarray(twin(x[:2], training=False), np.float64)
        delta = float(np.max(np.abs(np.asarray(opt.model(x[:2], training=False)) - want)))
        print(f"# {name}: {opt.report()} max |Δ| = {delta:.2e} (largest |y| "
              f"{np.max(np.abs(want)):.2e})")  # fmt: skip
        for batch, calls in zip((1, 32), args.calls, strict=True):
            xb = x[:batch]
            theirs, mine = timers(twin, batch), timers(opt.model, batch)
            for mode in theirs:
                theirs[mode](xb), mine[mode](xb)  # warm-up: tracing, first allocation
                t, m = [], []
                for _ in range(calls):  # interleaved: load on the machine hits both
                    t.append(theirs[mode](xb))
                    m.append(mine[mode](xb))
                kt, km = batch / statistics.median(t), batch / statistics.median(m)
                print(f"{name:12} {batch:>5} {mode:12} {kt:>12.1f} {km:>11.1f} {km / kt:>5.2f}×",
                      flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
