"""Build time and CPU inference speed of compiled models against keras.applications.

Measures, in one process so both sides share the machine's state:
1. `archc build` in-process time to a built model (load + validate + infer + Keras layers)
   ÷ the keras.applications constructor's time, for ResNet50, DenseNet121 and MobileNet
   (goal ≤ 1.10). Best of 3 each, alternating, each in a fresh Keras session.
2. CPU inference throughput of our ResNet50 ÷ keras.applications.ResNet50 (same batch, same
   process, interleaved rounds; goal ≥ 0.98).

Run: python benchmarks/bench_build.py [--batch 16] [--rounds 5]
Prints figures only; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from archcompiler.backends.keras import build_model
from archcompiler.compiler import compile_file

SPECS = Path(__file__).resolve().parent.parent / "specs"
NETWORKS = [("resnet50", "ResNet50"), ("densenet121", "DenseNet121"), ("mobilenet", "MobileNet")]


def ours(spec: str) -> keras.Model:
    return build_model(compile_file(SPECS / f"{spec}.yaml"))


def theirs(name: str) -> keras.Model:
    return getattr(keras.applications, name)(weights=None)


def timed(make) -> float:
    keras.backend.clear_session()
    start = time.perf_counter()
    make()
    return time.perf_counter() - start


def build_times(rounds: int) -> None:
    print("build time, best of", rounds)
    for spec, name in NETWORKS:
        timed(lambda s=spec: ours(s))  # warm up both paths (imports, first-call caches)
        timed(lambda n=name: theirs(n))
        a, b = [], []
        for _ in range(rounds):
            a.append(timed(lambda s=spec: ours(s)))
            b.append(timed(lambda n=name: theirs(n)))
        print(
            f"  {name:12s} archc {min(a):6.3f} s   keras.applications {min(b):6.3f} s   "
            f"ratio {min(a) / min(b):.3f}  (goal ≤ 1.10)"
        )


def throughput(batch: int, rounds: int) -> None:
    keras.backend.clear_session()
    a, b = ours("resnet50"), theirs("ResNet50")
    for layer in b.layers:  # same weights, so both do identical arithmetic
        if layer.weights:
            a.get_layer(layer.name).set_weights(layer.get_weights())
    x = np.random.default_rng(0).uniform(-1, 1, (batch, 224, 224, 3)).astype("float32")
    for m in (a, b):
        m.predict_on_batch(x)  # trace and warm up
    times = {"archc": [], "keras.applications": []}
    for _ in range(rounds):
        for label, m in (("archc", a), ("keras.applications", b)):
            start = time.perf_counter()
            m.predict_on_batch(x)
            times[label].append(time.perf_counter() - start)
    rate = {k: batch / min(v) for k, v in times.items()}
    print(f"CPU inference, ResNet50, batch {batch}, best of {rounds}")
    for k, v in rate.items():
        print(f"  {k:20s} {v:7.1f} images/s")
    print(f"  ratio archc / keras.applications: {rate['archc'] / rate['keras.applications']:.3f}"
          "  (goal ≥ 0.98)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    build_times(3)
    throughput(args.batch, args.rounds)


if __name__ == "__main__":
    main()
