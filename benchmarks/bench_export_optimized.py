"""Exported inference images/s: `archc export` of a zoo model against `archc export --optimize`
of the same model (same weights), in ONNX Runtime and in the LiteRT interpreter, on CPU.

For ResNet-50, MobileNet and DenseNet-121: our spec's Keras model is built the way `archc
export` builds it (`export.build_from_graph`), given fresh random weights (tests/parity.py
`give_fresh_weights`), and optimized (`optimize.optimize_for_inference`: batch norms folded,
activations merged, dropout dropped). Both models are exported with `export.export_model` —
the files a user gets, each verified against its Keras model in its runtime — to ONNX and to
LiteRT (.tflite), then timed:

- ONNX Runtime: `InferenceSession(..., providers=["CPUExecutionProvider"])`, graph
  optimizations at their default (ORT_ENABLE_ALL, which fuses Conv + BatchNormalization and
  Conv + Mul/Add itself);
- LiteRT: `ai_edge_litert.interpreter.Interpreter(num_threads=CPUs)`, the input resized to the
  batch once (XNNPACK, its default delegate).

Batch 1 and 32; each round times a few calls of the unoptimized and of the optimized export,
the order alternating between rounds, and the best round's mean call time gives images/s. The
ratio optimized ÷ unoptimized is printed, with the max |Δ| between the two exports' outputs on
the same random input (required ≤ 1e-4 × the largest output) and the op counts of each file,
which show what the runtimes' converters already fold. Figures: benchmarks/RESULTS.md.

Run from the repository root (about 5 minutes on 2 cores at --size 160, mostly conversion):

    python benchmarks/bench_export_optimized.py --size 160
    python benchmarks/bench_export_optimized.py --size 96 --models MobileNet --rounds 2
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # CPU, as the figures say
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.bench_optimize import TWINS as SPECS  # noqa: E402  (the same three networks)

TOLERANCE = 1e-4  # × the largest output, as `archc export` checks against Keras
COUNTED = ("Conv", "BatchNormalization", "Mul", "Add", "Sub", "Relu", "Clip")


def exports(name: str, size: int, folder: str) -> tuple[dict[str, dict[str, str]], str]:
    """`{"plain"|"optimized": {"onnx"|"litert": path}}` of one model with fresh weights, and
    the optimizer's report line."""
    from archcompiler.compiler import compile_file
    from archcompiler.export import build_from_graph, export_model
    from archcompiler.optimize import optimize_for_inference
    from tests.parity import give_fresh_weights

    model, _ = build_from_graph(compile_file(ROOT / "specs" / SPECS[name], {"size": str(size)}))
    give_fresh_weights(model)
    opt = optimize_for_inference(model)
    paths: dict[str, dict[str, str]] = {}
    for kind, m in (("plain", model), ("optimized", opt.model)):
        paths[kind] = {}
        for fmt, suffix in (("onnx", ".onnx"), ("litert", ".tflite")):
            path = os.path.join(folder, f"{name}-{kind}{suffix}")
            start = time.perf_counter()
            lines = export_model(m, path, fmt)
            print(f"#   {kind} {fmt}: {time.perf_counter() - start:.0f} s; {lines[-1]}",
                  flush=True)  # fmt: skip
            paths[kind][fmt] = path
    return paths, opt.report()


def onnx_runner(path: str, batch: int):
    """A function running the ONNX file on a batch, and a note of its ops before and after
    ONNX Runtime's own graph optimizations."""
    import onnx
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.log_severity_level = 3  # not the warning that the saved graph is machine-specific
    fused = path + ".ort.onnx"  # what ORT_ENABLE_ALL made of it, to count its ops
    options.optimized_model_filepath = fused
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    note = f"{_onnx_ops(onnx.load(path))} → ORT: {_onnx_ops(onnx.load(fused), top=True)}"
    return (lambda x: session.run(None, {name: x})[0]), note


def _onnx_ops(model, top: bool = False) -> str:
    ops = collections.Counter(n.op_type for n in model.graph.node)
    kinds = [k for k, _ in ops.most_common(5)] if top else [k for k in COUNTED if ops[k]]
    shown = ", ".join(f"{ops[k]} {k}" for k in kinds)
    return f"{sum(ops.values())} nodes ({shown})"


def litert_runner(path: str, batch: int):
    """A function running the .tflite file on a batch (input resized once), and its op count."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=path, num_threads=os.cpu_count() or 1)
    inp = interp.get_input_details()[0]
    interp.resize_tensor_input(inp["index"], [batch, *inp["shape"][1:]])
    interp.allocate_tensors()
    out = interp.get_output_details()[0]["index"]
    ops = collections.Counter(op["op_name"] for op in interp._get_ops_details())
    shown = ", ".join(f"{n} {k}" for k, n in ops.most_common(4))
    note = f"{sum(ops.values())} ops ({shown})"

    def run(x):
        interp.set_tensor(inp["index"], x)
        interp.invoke()
        return interp.get_tensor(out).copy()

    return run, note


RUNTIMES = {"onnx": ("ONNX Runtime", onnx_runner), "litert": ("LiteRT", litert_runner)}


def best_rates(plain, optimized, x: np.ndarray, calls: int, rounds: int) -> tuple[float, float]:
    """Images/s of each function on `x`: the best round's mean, the order alternating."""
    best = {"plain": float("inf"), "optimized": float("inf")}
    fns = {"plain": plain, "optimized": optimized}
    for f in fns.values():
        f(x)  # warm-up: first allocation, kernel selection
    for r in range(rounds):
        for kind in ("plain", "optimized") if r % 2 == 0 else ("optimized", "plain"):
            start = time.perf_counter()
            for _ in range(calls):
                fns[kind](x)
            best[kind] = min(best[kind], (time.perf_counter() - start) / calls)
    return len(x) / best["plain"], len(x) / best["optimized"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--models", nargs="+", default=list(SPECS), choices=list(SPECS))
    parser.add_argument("--calls", type=int, nargs=2, default=(10, 1), metavar=("B1", "B32"),
                        help="timed calls per round at batch 1 and at batch 32")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from importlib.metadata import version

    import tensorflow as tf

    print(
        f"TensorFlow {tf.__version__}, onnxruntime {version('onnxruntime')}, ai-edge-litert "
        f"{version('ai-edge-litert')}, {os.cpu_count()} CPUs, {args.size}×{args.size}, CPU"
    )
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (32, args.size, args.size, 3)).astype("float32")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.models:
            print(f"# {name}", flush=True)
            paths, report = exports(name, args.size, folder)
            print(f"#   {report}")
            for fmt, (label, runner) in RUNTIMES.items():
                for batch, calls in zip((1, 32), args.calls, strict=True):
                    xb = x[:batch]
                    plain, note_p = runner(paths["plain"][fmt], batch)
                    opt, note_o = runner(paths["optimized"][fmt], batch)
                    if batch == 1:
                        print(f"#   {label} ops: plain {note_p}; optimized {note_o}")
                    want = plain(xb).astype(np.float64)
                    delta = float(np.max(np.abs(opt(xb) - want)))
                    scale = float(np.max(np.abs(want)))
                    ok = "ok" if delta <= TOLERANCE * scale else "TOO FAR"
                    rp, ro = best_rates(plain, opt, xb, calls, args.rounds)
                    rows.append((name, label, batch, rp, ro, delta, scale, ok))
                    print(
                        f"{name:12} {label:12} {batch:>3} {rp:>8.1f} {ro:>8.1f} "
                        f"{ro / rp:>5.2f}× |Δ| {delta:.1e} of {scale:.1e} {ok}",
                        flush=True,
                    )
    print("\n| model | runtime | batch | export img/s | --optimize img/s | ratio | max |Δ| "
          "| largest |y| |\n|---|---|--:|--:|--:|--:|--:|--:|")  # fmt: skip
    for name, label, batch, rp, ro, delta, scale, _ in rows:
        print(f"| {name} | {label} | {batch} | {rp:.1f} | {ro:.1f} | {ro / rp:.2f}× "
              f"| {delta:.1e} | {scale:.1e} |")  # fmt: skip
    if any(r[-1] != "ok" for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
