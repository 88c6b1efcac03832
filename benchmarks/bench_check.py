"""How fast is `archc check` compared with merely importing TensorFlow?

Measures the wall time of ONE process `archc check specs/*.yaml` (run as `python -m
archcompiler.cli check ...` so the console script need not be installed; best of 5) and divides
it by the wall time of `python -c "import tensorflow"` (best of 3); `check -j 1` (one process,
no forked workers) is shown too. Everything `check` answers
comes in well under a second without importing TensorFlow (docs/contracts.md): the bound is a
ratio of 0.2, the aim 0.05. Both run with bytecode caching on (in a temporary folder, even where
PYTHONDONTWRITEBYTECODE is set), as installed packages have it; `check` compiling its sources
every run is shown too, with `python -c pass` and `import pydantic` as the floor. It also prints
the five slowest imports of the check process, from `python -X importtime`, to show where
start-up time goes.

Prints timings and ratios only: no assertions, no pass/fail.

Run from the repository root:

    python benchmarks/bench_check.py [--runs 5] [--tf-runs 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from archcompiler.cli import workers
from archcompiler.zoo import zoo_specs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOUND, AIM = 0.2, 0.05  # the contract's ratio, and the one aimed at (issue 15, item 5)


def wall(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Seconds one subprocess takes, and its exit status (output discarded)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - t0, proc.returncode


def best_of(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[float, int]:
    times, rc = [], 0
    for _ in range(runs):
        t, rc = wall(cmd, env)
        times.append(t)
    return min(times), rc


def import_breakdown(
    cmd: list[str], env: dict[str, str] | None = None
) -> list[tuple[int, int, str]]:
    """(cumulative µs, self µs, module) for every import of `cmd`, from `-X importtime`."""
    proc = subprocess.run(
        [cmd[0], "-X", "importtime", *cmd[1:]],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s*(\d+) \|\s*(\d+) \|\s*(\S+)", line)
        if m:
            rows.append((int(m[2]), int(m[1]), m[3]))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="runs of `archc check` (best is kept)")
    ap.add_argument("--tf-runs", type=int, default=3, help="runs of `import tensorflow`")
    opts = ap.parse_args()

    specs = [os.path.relpath(p, ROOT) for p in zoo_specs()]
    check_cmd = [sys.executable, "-m", "archcompiler.cli", "check", *specs]
    serial_cmd = [*check_cmd[:4], "-j", "1", *specs]  # one process, no forked workers
    tf_cmd = [sys.executable, "-c", "import tensorflow"]
    # bytecode as an installed package has it: PYTHONDONTWRITEBYTECODE (set in some CI and
    # container images) would make every run compile our ~80 modules from source (~130 ms),
    # while site-packages (TensorFlow, pydantic) ships its .pyc files; they go to a
    # temporary folder, not into the tree
    pycache = tempfile.mkdtemp(prefix="archc-pyc-")
    cached = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = pycache
    env = dict(cached, TF_CPP_MIN_LOG_LEVEL="3")
    uncached = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")

    print(f"python {sys.version.split()[0]} ({sys.executable})")
    print(f"specs: {len(specs)} files ({', '.join(os.path.basename(s) for s in specs)})")

    wall(check_cmd, cached)  # warm the file cache and .pyc files once
    check_t, check_rc = best_of(check_cmd, opts.runs, cached)
    serial_t, _ = best_of(serial_cmd, opts.runs, cached)
    source_t, _ = best_of(check_cmd, opts.runs, uncached)
    tf_t, tf_rc = best_of(tf_cmd, opts.tf_runs, env)

    rows_out = [
        ("archc check specs/*.yaml", opts.runs, check_t, check_rc),
        ('python -c "import tensorflow"', opts.tf_runs, tf_t, tf_rc),
    ]
    for label, runs, t, rc in rows_out:
        print(f"{label:31} best of {runs}: {t * 1000:8.1f} ms  (exit {rc})")
    print(f"{'  (compiling sources each run)':31} best of {opts.runs}: {source_t * 1000:8.1f} ms")
    print(f"{'  (-j 1: in one process)':31} best of {opts.runs}: {serial_t * 1000:8.1f} ms"
          f"  ({workers.cores()} cores here; the default forks one worker per core)")  # fmt: skip
    for label, code in (("python -c pass", "pass"), ("import pydantic", "import pydantic")):
        t, _ = best_of([sys.executable, "-c", code], opts.runs, cached)
        print(f"{'(' + label + ', the floor)':31} best of {opts.runs}: {t * 1000:8.1f} ms")
    print(f"ratio check / import tensorflow: {check_t / tf_t:.3f}   (bound {BOUND}, aim {AIM})")
    print(f"ratio check -j 1 / import tensorflow: {serial_t / tf_t:.3f}")
    if check_rc != 0:
        print("note: `archc check` exited non-zero; some spec is invalid (timing still shown)")

    rows = import_breakdown(check_cmd, cached)
    total = sum(r[1] for r in rows)
    print(
        f"\nimports of the check process (-X importtime): {len(rows)} modules, "
        f"{total / 1000:.1f} ms in all (importtime itself slows imports down)"
    )
    for title, key in (("cumulative", lambda r: r[0]), ("self", lambda r: r[1])):
        print(f"top 5 by {title} time:\n  {'cumulative':>11} {'self':>10}  module")
        for cum, self_us, name in sorted(rows, key=key, reverse=True)[:5]:
            print(f"  {cum / 1000:8.1f} ms {self_us / 1000:7.1f} ms  {name}")
    groups: dict[str, int] = {}
    for _, self_us, name in rows:
        parts = name.split(".")
        key = ".".join(parts[:2]) if parts[0] == "archcompiler" else parts[0]
        groups[key] = groups.get(key, 0) + self_us
    print("top 5 packages by summed self time:")
    for key, us in sorted(groups.items(), key=lambda kv: kv[1], reverse=True)[:5]:
        print(f"  {us / 1000:8.1f} ms  {key}")
    tf_loaded = any(r[2] in ("tensorflow", "keras") for r in rows)
    print(f"tensorflow/keras imported by check: {'YES' if tf_loaded else 'no'}")
    shutil.rmtree(pycache, ignore_errors=True)


if __name__ == "__main__":
    main()
