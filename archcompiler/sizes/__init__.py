"""The input-size solver: which input heights and widths a compiled Graph accepts, and why.

Every op's spatial output is a formula of its input size — out = floor((in + a) / s) + b for
windows (conv, pools; `same` or `valid`, kernel, dilation, strides), in + a for padding and
cropping, in · f for upsampling, Keras's formula for transposed convs — and merges need equal
sizes (or 1, which broadcasts). The solver evaluates those formulas for *every* candidate size
1…`upto` at once (numpy arrays, one entry per size) along the Graph's op chain, with the input's
H and W as the unknown, and records for each size the first node that refuses it: a size that
shrinks to nothing, a merge of unequal sizes, a tensor or params bound passed. The accepted set
is then summarised as min + step·k (with any exceptions at the low end) and each refusing
node's own constraint the same way. Ops with no formula here (reshape, normalizations over a
spatial axis…) are asked through their own shape rule once per distinct input shape.

The Graph fixes the op chain at the spec's own size. Blocks that place Keras's `correct_pad`
(a padding that depends on the parity of the size) are followed as the formula they are, so
the answer stays exact for them; a block whose *structure* depends on the size (NASNet's
`_adjust_block` compares widths) is followed as placed at the spec's size.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..blocks.base import correct_pad
from ..compiler import compile_file
from ..errors import SpecError
from ..graph import Graph
from ..limits import Limits
from .report import AxisSizes, Constraint, SizeReport, describe_set, render
from .solver import Solver

UPTO = 2048  # candidate sizes 1…UPTO per axis


def parity_pads(graph: Graph, probe: Graph) -> set[str]:
    """The zero_pads written as Keras's correct_pad (`$[[size % 2, 1], …]`): those whose
    padding changes between `graph` and `probe` (the spec one size up) and is correct_pad's at
    both."""
    names = set()
    for node in graph:
        other = probe.nodes.get(node.name)
        if node.op != "zero_pad" or other is None or other.op != "zero_pad":
            continue
        pads = [n.args.padding for n in (node, other)]
        if pads[0] == pads[1]:
            continue
        halves = (pads[0][0][1] * 2, pads[0][1][1] * 2)
        srcs = [g.nodes[n.inputs[0]].shape for g, n in ((graph, node), (probe, other))]
        if all(p == correct_pad(s, halves) for p, s in zip(pads, srcs, strict=True)):
            names.add(node.name)
    return names


def probe(
    graph: Graph, sets: Mapping[str, str] | None = None, limits: Limits | None = None,
    ups: tuple[int, ...] = (1,),
) -> tuple[set[str], list[str]]:  # fmt: skip
    """`graph` (compiled from its own file with `sets`) against the same spec at `size + u` for
    each of `ups` (`size · u + 1` for u > 1): the zero_pads that follow the size as
    correct_pad (`parity_pads`), and the other nodes whose op or arguments change with it.
    Nothing where no `size` param sets the input, or the spec cannot be compiled again."""
    size = graph.params.get("size")
    if not graph.files or not isinstance(size, int) or isinstance(size, bool):
        return set(), []
    if graph.nodes[graph.inputs[0]].shape[:1] != (size,):
        return set(), []
    pads: set[str] = set()
    changed: dict[str, None] = {}
    for u in ups:
        at = size + 1 if u == 1 else size * u + 1
        try:
            other = compile_file(graph.files[-1], {**(sets or {}), "size": str(at)},
                                 limits=limits)  # fmt: skip
        except (SpecError, OSError):
            continue
        pads |= parity_pads(graph, other)
        for n in graph:
            o = other.nodes.get(n.name)
            if n.op != "input" and (o is None or o.op != n.op or o.args != n.args):
                changed[n.name] = None
        changed.update((name, None) for name in other.nodes if name not in graph.nodes)
    return pads, [name for name in changed if name not in pads]


def probe_pads(graph: Graph, sets: Mapping[str, str] | None = None,
               limits: Limits | None = None) -> set[str]:  # fmt: skip
    """The zero_pads of `graph` that follow the size as correct_pad (see `probe`)."""
    return probe(graph, sets, limits)[0]


def solve_file(
    path: str, sets: Mapping[str, str] | None = None, limits: Limits | None = None,
    upto: int = UPTO, graph: Graph | None = None,
) -> SizeReport:  # fmt: skip
    """`solve` for a spec file and its `--set` values, paddings written as expressions of the
    `size` param followed (`probe`); `graph`: the spec already compiled with `sets`."""
    graph = graph or compile_file(path, dict(sets or {}), limits=limits)
    pads, changed = probe(graph, sets, limits, (1, 2))
    report = solve(graph, limits, upto, pads)
    report.follow_size = changed
    return report


def solve(graph: Graph, limits: Limits | None = None, upto: int = UPTO,
          follows: set[str] | frozenset[str] = frozenset()) -> SizeReport:  # fmt: skip
    """The input sizes `graph`'s op chain accepts, per unknown axis (H = W for a square input,
    H and W apart otherwise), for every size 1…`upto`; `follows`: zero_pads that follow the
    size's parity as Keras's correct_pad (besides those built-in blocks place)."""
    lim = limits or Limits()
    shape = graph.nodes[graph.inputs[0]].shape
    if len(shape) != 3:
        return SizeReport(graph.name, [])
    sweeps = [("H = W", (0, 1))] if shape[0] == shape[1] else [("H", (0,)), ("W", (1,))]
    axes = []
    for label, which in sweeps:
        solver = Solver(graph, lim, np.arange(1, upto + 1), which, set(follows))
        solver.run()
        axes.append(_answer(graph, solver, label, shape[which[0]], upto))
    return SizeReport(graph.name, axes)


def _answer(graph: Graph, solver: Solver, label: str, ref: int, upto: int) -> AxisSizes:
    accepted = solver.first < 0
    constraints: list[Constraint] = []
    seen: dict[tuple[str, bytes], Constraint] = {}
    for node, kind, refused, passed in solver.own:
        key = (kind, refused.tobytes())
        if key in seen:
            seen[key].same_as.append(node.name)
            continue
        c = Constraint(node.name, node.op, kind, describe_set(passed), int(refused.sum()))
        seen[key] = c
        constraints.append(c)
    shrunk = [i for i, (n, kind, refused, _) in enumerate(solver.own) if kind == "shrinks"]
    below = 1
    for i in shrunk:
        below = max(below, int(np.flatnonzero(solver.own[i][2])[-1]) + 2)
    return AxisSizes(label, ref, upto, accepted, constraints, below, solver.fixed_by)


__all__ = [
    "UPTO", "AxisSizes", "Constraint", "SizeReport", "describe_set", "parity_pads", "probe",
    "probe_pads", "render", "solve", "solve_file",
]  # fmt: skip
