"""How long does `archc graph specs/resnet152.yaml -o x.svg` take at full depth?

Times the whole command as a user runs it (one process, `python -m archcompiler.cli graph …`,
best of N after a warm-up), then the same work in-process, broken down: `compile_file`, `to_dot`,
Graphviz's `dot -Tsvg` (a subprocess), and the atomic write. The in-process rows are also shown
folded (`--depth 1` and `--depth 0`) for scale. The issue's goal is under 5 s at full depth.

Prints timings only: no assertions, no pass/fail. Needs Graphviz's `dot` for the SVG rows
(without it, only compile and to_dot are timed).

Run from the repository root:

    python benchmarks/bench_graph.py [--spec specs/resnet152.yaml] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import TypeVar

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
GOAL_S = 5.0
T = TypeVar("T")


def best(runs: int, fn: Callable[..., T], *args: object) -> tuple[float, T]:
    """The fastest of `runs` calls of fn(*args): its seconds and its result."""
    fastest: tuple[float, T] | None = None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn(*args)
        t = time.perf_counter() - t0
        if fastest is None or t < fastest[0]:
            fastest = (t, result)
    assert fastest is not None, "runs must be at least 1"
    return fastest


def cpu_of(fn: Callable[[], T]) -> tuple[T, float]:
    """fn()'s result and the CPU seconds its child processes used (theirs and their children's)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = fn()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return result, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", default="specs/resnet152.yaml")
    ap.add_argument("--runs", type=int, default=5, help="repetitions of each timing (best kept)")
    opts = ap.parse_args()

    from archcompiler.compiler import compile_file
    from archcompiler.render import graph as render

    dot = shutil.which("dot")
    version = "not installed"
    if dot:
        said = subprocess.run([dot, "-V"], capture_output=True, text=True, check=False).stderr
        version = said.strip()
    print(f"python {sys.version.split()[0]}; {os.cpu_count()} CPUs; graphviz: {version}")

    spec = os.path.join(ROOT, opts.spec)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "x.svg" if dot else "x.dot")
        if dot:
            cmd = [sys.executable, "-m", "archcompiler.cli", "graph", opts.spec, "-o", out]
            quiet = {"cwd": ROOT, "capture_output": True, "check": False}
            subprocess.run(cmd, **quiet)  # warm the file cache and .pyc files once
            t, (proc, cpu) = best(opts.runs, cpu_of, lambda: subprocess.run(cmd, **quiet))
            status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
            print(
                f"\n`archc graph {opts.spec} -o x.svg` (full depth), one process, best of "
                f"{opts.runs}: {t:.2f} s wall ({status}); goal < {GOAL_S:g} s → "
                f"{t / GOAL_S:.2f} of it\n  CPU time (user + sys, python and dot): {cpu:.2f} s "
                "(of that fastest run)"
            )
            startup, _ = best(opts.runs, lambda: subprocess.run([sys.executable, "-c", "pass"]))
            print(f"  (python -c pass, for scale: {startup * 1000:.0f} ms)")

        t_compile, graph = best(opts.runs, compile_file, spec)
        print(
            f"\nin-process, best of {opts.runs}: {graph.name}: {len(graph):,} nodes, "
            f"{sum(len(n.inputs) for n in graph):,} edges, {len(graph.blocks):,} blocks"
        )
        print(f"  compile_file {t_compile * 1000:9.1f} ms")
        header = f"  {'depth':>6} {'to_dot':>10} {'dot -Tsvg':>11} {'write':>9} {'sum':>9}"
        print(header + f" {'DOT size':>10} {'SVG size':>10}")
        for depth in (None, 1, 0):
            t_dot, text = best(opts.runs, render.to_dot, graph, depth)
            data = text.encode()
            t_svg, svg = (0.0, b"")
            if dot:
                t_svg, svg = best(opts.runs, render._run_dot, dot, "svg", data)
            target = os.path.join(tmp, "y.svg")
            t_write, _ = best(opts.runs, render._write_atomically, target, svg or data)
            total = t_compile + t_dot + t_svg + t_write
            label = "full" if depth is None else str(depth)
            svg_kb = f"{len(svg) / 1024:8.0f} KB" if svg else f"{'-':>10}"
            print(
                f"  {label:>6} {t_dot * 1000:7.1f} ms {t_svg * 1000:8.1f} ms "
                f"{t_write * 1000:6.1f} ms {total * 1000:6.0f} ms {len(data) / 1024:7.0f} KB "
                f"{svg_kb}"
            )
        if not dot:
            print("Graphviz's `dot` is missing: no SVG timings (apt-get install graphviz)")


if __name__ == "__main__":
    main()
