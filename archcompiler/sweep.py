"""`archc sweep`: a grid of `--set` values, each point compiled to its params, MACs and
activation memory, and optionally built and timed on this machine.

`--set alpha=0.25,0.5 --set size=128,160` is the cartesian product of the values (a single
value holds a param fixed). Every point is compiled before anything is built, so a bad setting
fails at once, located. Measuring goes through the backend (`get_backend`, `build_checked`),
imported only when asked for: the grid itself never imports TensorFlow.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .compiler import Limits, compile_file
from .errors import SpecError
from .graph import Graph
from .summary import human_bytes

MAX_POINTS = 256  # `--max-points`: a grid is a product and grows faster than one expects
BYTES_PER_ELEMENT = 4  # activation memory is counted as float32, batch 1


@dataclass(frozen=True)
class Timing:
    """Forward-pass latency, milliseconds (median of the runs), at batch 1 and batch `batch`."""

    ms_1: float
    ms_batch: float
    batch: int

    @property
    def images_per_s(self) -> float:
        return self.batch / (self.ms_batch / 1000.0)


@dataclass
class Point:
    """One setting of the grid and its figures (the Graph kept for measuring)."""

    setting: dict[str, str]
    graph: Graph = field(repr=False)
    timing: Timing | None = None

    @property
    def params(self) -> int:
        return self.graph.total_params

    @property
    def trainable(self) -> int:
        return self.graph.trainable_params

    @property
    def macs(self) -> int:
        return self.graph.macs

    @property
    def activation_bytes(self) -> int:
        return self.graph.activations * BYTES_PER_ELEMENT

    def label(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.setting.items())


def parse_axes(sets: Iterable[str]) -> dict[str, list[str]]:
    """`KEY=V1,V2,…` items → {KEY: [V1, V2, …]}, in the order given; a repeated KEY replaces
    the earlier one (as `--set` does elsewhere). ValueError for an item that is no KEY=VALUES."""
    axes: dict[str, list[str]] = {}
    for item in sets:
        key, sep, text = item.partition("=")
        values = [v.strip() for v in text.split(",")]
        if not sep or not key.strip():
            raise ValueError(f"expected KEY=V1,V2,…, got {item!r}")
        if any(v == "" for v in values):
            raise ValueError(f"an empty value in {item!r}")
        axes[key.strip()] = list(dict.fromkeys(values))  # a value given twice is one point
    return axes


def grid_size(axes: Mapping[str, Sequence[str]]) -> int:
    """How many points the grid has: the product of the number of values per param."""
    return math.prod(len(v) for v in axes.values())


def settings(
    axes: Mapping[str, Sequence[str]], max_points: int = MAX_POINTS
) -> list[dict[str, str]]:
    """Every setting of the grid, the last param varying fastest. ValueError when there are
    more than `max_points` (counted before any is made)."""
    n = grid_size(axes)
    if n > max_points:
        shape = " × ".join(f"{len(v)} {k}" for k, v in axes.items())
        raise ValueError(
            f"the grid has {n:,} points ({shape}), more than --max-points {max_points}"
        )
    keys = list(axes)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*axes.values())]


def compile_grid(
    spec: str,
    grid: Sequence[dict[str, str]],
    *,
    head: bool = True,
    limits: Limits | None = None,
) -> list[Point]:
    """Compile `spec` at every setting of `grid`. A SpecError names the point it failed at
    (a note after the compiler's own located message)."""
    points = []
    for setting in grid:
        try:
            graph = compile_file(spec, setting, head=head, limits=limits)
        except SpecError as e:
            where = " ".join(f"--set {k}={v}" for k, v in setting.items()) or "(no --set)"
            first, *rest = e.diagnostics
            note = f"at the sweep point {where}"
            raise SpecError([replace(first, notes=(*first.notes, note)), *rest]) from None
        points.append(Point(dict(setting), graph))
    return points


def measure(graph: Graph, batch: int = 32, runs: int = 10) -> Timing:
    """Build `graph` with the Keras backend and time its forward pass: the median of `runs`
    calls, after one warm-up call, at batch 1 and at `batch`.

    Timed with `model.predict_on_batch`: Keras runs it through its compiled predict function
    (a `tf.function` on TensorFlow, `jax.jit` on JAX) in inference mode, on every backend Keras
    runs on, without this module importing a framework; the warm-up call pays the tracing. It
    includes returning the output as a NumPy array, as a caller of the model gets it."""
    import numpy as np

    from .backends import build_checked, get_backend

    model = build_checked(graph, get_backend("keras"))
    rng = np.random.default_rng(0)
    out = []
    for n in (1, batch):
        shapes = [graph.nodes[name].shape for name in graph.inputs]
        xs = [rng.standard_normal((n, *s), dtype=np.float32) for s in shapes]
        x = xs[0] if len(xs) == 1 else xs
        model.predict_on_batch(x)  # warm-up: traces and compiles for this batch size
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            model.predict_on_batch(x)
            times.append((time.perf_counter() - start) * 1000.0)
        out.append(statistics.median(times))
    return Timing(out[0], out[1], batch)


def clear_session() -> None:
    """Forget the models built so far (Keras's global state grows with every model)."""
    from .backends.quiet import import_keras

    import_keras().backend.clear_session()


def measure_all(
    points: Sequence[Point],
    batch: int,
    runs: int,
    measure_one: Callable[[Graph, int, int], Timing] | None = None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Time every point in order (`point.timing`), clearing Keras's session between points.
    `progress(k)` is called after the k-th point. A KeyboardInterrupt propagates: the caller
    counts the points with a timing."""
    one = measure_one or measure
    for k, point in enumerate(points, 1):
        try:
            point.timing = one(point.graph, batch, runs)
        finally:
            clear_session_if_loaded()
        if progress is not None:
            progress(k)


def clear_session_if_loaded() -> None:
    """`clear_session`, unless Keras was never imported (nothing to clear; nothing imported)."""
    import sys

    if "keras" in sys.modules:
        clear_session()


# ---- the figures: rows, table, JSON, CSV, plot ----------------------------------------------


def rows(points: Sequence[Point]) -> list[dict[str, Any]]:
    """One dict per point: the setting's values, then params, trainable, macs, activation_bytes
    and, when measured, ms@1, ms@B, images/s@B (B the batch)."""
    out = []
    for p in points:
        row: dict[str, Any] = dict(p.setting)
        row.update(params=p.params, trainable=p.trainable, macs=p.macs)
        row["activation_bytes"] = p.activation_bytes
        if p.timing is not None:
            b = p.timing.batch
            row["ms@1"] = round(p.timing.ms_1, 3)
            row[f"ms@{b}"] = round(p.timing.ms_batch, 3)
            row[f"images/s@{b}"] = round(p.timing.images_per_s, 1)
        out.append(row)
    return out


def render_table(points: Sequence[Point]) -> str:
    """An aligned text table: settings left, figures right-aligned."""
    data = rows(points)
    if not data:
        return ""
    keys = list(data[0])
    names = {"activation_bytes": "activations", "macs": "MACs"}
    head = [names.get(k, k) for k in keys]
    cells = [[_cell(k, r[k]) for k in keys] for r in data]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(head)]
    n_setting = len(points[0].setting)

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.ljust(w) if i < n_setting else v.rjust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, cells)])


def _cell(key: str, value: Any) -> str:
    if key == "activation_bytes":
        return human_bytes(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}" if key.startswith("images/s") else f"{value:.2f}"
    return str(value)


def to_json(spec: str, points: Sequence[Point]) -> str:
    """`{"spec": …, "points": [row, …]}` with the raw numbers."""
    return json.dumps({"spec": spec, "points": rows(points)}, indent=1) + "\n"


def to_csv(points: Sequence[Point]) -> str:
    """The rows as CSV (a header line, then one line per point), raw numbers."""
    data = rows(points)
    buf = io.StringIO()
    if data:
        writer = csv.DictWriter(buf, fieldnames=list(data[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
    return buf.getvalue()


PLOT_SUFFIXES = (".png", ".svg")


def figure(points: Sequence[Point], title: str = "") -> Any:
    """A matplotlib Figure (Agg, no display): MACs against params, one labelled point per
    setting. Returned, not written, so a test can count its points."""
    import matplotlib

    matplotlib.use("Agg", force=True)  # never a window, whatever the environment says
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 5), dpi=100)
    ax = fig.add_subplot()
    xs = [p.params / 1e6 for p in points]
    ys = [p.macs / 1e6 for p in points]
    ax.scatter(xs, ys)
    for p, x, y in zip(points, xs, ys, strict=True):
        ax.annotate(p.label(), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlabel("params (M)")
    ax.set_ylabel("MACs (M)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    return fig


def plot_bytes(points: Sequence[Point], suffix: str, title: str = "") -> bytes:
    """The plot as PNG or SVG bytes (`suffix` .png or .svg), for an atomic write."""
    buf = io.BytesIO()
    figure(points, title).savefig(buf, format=suffix.lstrip("."))
    return buf.getvalue()


__all__ = [
    "MAX_POINTS", "Point", "Timing", "compile_grid", "figure", "grid_size", "measure",
    "measure_all", "parse_axes", "plot_bytes", "render_table", "rows", "settings", "to_csv",
    "to_json",
]  # fmt: skip
