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
from dataclasses import dataclass, field

import numpy as np

from .blocks.base import correct_pad
from .compiler import compile_file
from .errors import SpecError
from .graph import Graph, Node
from .limits import MAX_DIM, Limits
from .ops.base import ShapeError

UPTO = 2048  # candidate sizes 1…UPTO per axis
WINDOW_OPS = {"conv", "depthwise_conv", "separable_conv", "max_pool", "avg_pool"}
MERGE_OPS = {"add", "subtract", "multiply", "average", "maximum", "minimum"}
SAME_SHAPE_OPS = {"bn", "activation", "relu", "relu6", "leaky_relu", "sigmoid", "tanh",
                  "softmax", "dropout", "rescaling", "layer_scale"}  # fmt: skip
# built-in blocks whose zero_pad is Keras's correct_pad of its input (named zero_pads only)
CORRECT_PAD_BLOCKS = {"mbconv", "inverted_residual", "mobilenet_v3", "nasnet_normal",
                      "nasnet_reduction"}  # fmt: skip

Dims = list[np.ndarray]


@dataclass
class Constraint:
    """What one node refuses, given that its inputs exist: `kind` is 'shrinks' (a size falls to
    zero or below), 'merge' (unequal sizes meet), 'bound' (a tensor or params bound) or 'rule'
    (another shape rule); `accepted` summarises the sizes it lets through."""

    node: str
    op: str
    kind: str
    accepted: str
    refused: int  # how many candidate sizes it is the first to refuse
    same_as: list[str] = field(default_factory=list)  # later nodes with the same constraint


@dataclass
class AxisSizes:
    """The answer for one unknown: 'H = W' (a square input), 'H' or 'W'."""

    axis: str
    reference: int  # the spec's own size
    upto: int
    accepted: np.ndarray  # bool, index n-1 for size n
    constraints: list[Constraint]
    shrink_below: int  # every size below it makes some layer shrink to nothing (1: none)
    fixed_by: list[str]  # flatten → dense nodes: their weights follow the size

    @property
    def sizes(self) -> list[int]:
        return [int(n) + 1 for n in np.flatnonzero(self.accepted)]

    def pattern(self) -> str:
        return describe_set(self.accepted)


@dataclass
class SizeReport:
    name: str
    axes: list[AxisSizes]
    # nodes whose arguments follow the `size` param otherwise than as correct_pad (a pool of
    # `$size // 32`): the answer is for the op chain as compiled at the spec's size
    follow_size: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for the summary's totals."""
        parts = []
        for a in self.axes:
            lead = "" if a.axis == "H = W" else f"{a.axis}: "
            parts.append(lead + a.pattern())
        return "; ".join(parts)


def _periodic(acc: np.ndarray, lo: int, hi: int, m: int) -> tuple[int, list[int]]:
    """(the first index from which acc[lo..hi] follows period m, the accepted residues)."""
    top = acc[max(lo, hi - m + 1) : hi + 1]
    residues = sorted({(i + max(lo, hi - m + 1) + 1) % m for i in np.flatnonzero(top)})
    n = np.arange(lo, hi + 1) + 1
    want = np.isin(n % m, residues)
    wrong = np.flatnonzero(want != acc[lo : hi + 1])
    start = lo if wrong.size == 0 else lo + int(wrong[-1]) + 1
    return start, residues


def describe_set(acc: np.ndarray) -> str:
    """'32 + 32k (min 32)', 'all sizes ≥ 1', 'exactly 224', 'none' … for a bool mask of sizes."""
    idx = np.flatnonzero(acc)
    if idx.size == 0:
        return f"none in 1…{acc.size}"
    lo, hi = int(idx[0]), int(idx[-1])
    if lo == hi:
        return f"exactly {lo + 1}"
    best = None
    for m in range(1, max(2, (hi - lo) // 4 + 1)):
        start, residues = _periodic(acc, lo, hi, m)
        if best is None or start < best[0]:
            best = (start, m, residues)
        if start == lo:
            break
    start, m, residues = best  # type: ignore[misc]
    first = int(start + np.flatnonzero(acc[start:])[0]) + 1
    top = f" up to {hi + 1}" if hi + 1 < acc.size else ""
    if m == 1:
        text = f"any size ≥ {first}{top}"
    elif len(residues) == 1:
        text = f"{first} + {m}k (min {lo + 1}, step {m}{top and ','}{top})"
    else:
        shown = ", ".join(map(str, residues))
        text = f"n ≥ {first} with n mod {m} in {{{shown}}} (min {lo + 1}{top and ','}{top})"
    extra = [int(i) + 1 for i in np.flatnonzero(acc[:start])]
    if extra:  # sizes below the regular part that pass too (a size 1 broadcasts in merges)
        text = ", ".join(map(str, extra[:6])) + (", …" if len(extra) > 6 else "") + ", then " + text
    return text


class _Solver:
    """One sweep: the shapes of every node for all candidates at once."""

    def __init__(self, graph: Graph, limits: Limits, sizes: np.ndarray, axes: tuple[int, ...],
                 follows: set[str]) -> None:  # fmt: skip
        self.g, self.lim, self.k, self.follows = graph, limits, sizes.size, follows
        self.sizes, self.axes = sizes, axes
        self.shapes: dict[str, Dims] = {}
        self.ok: dict[str, np.ndarray] = {}
        self.first = np.full(self.k, -1)  # index of the first refusing node
        # nodes refusing something: (node, kind, refused, passed up to it)
        self.own: list[tuple[Node, str, np.ndarray, np.ndarray]] = []
        self.total = np.zeros(self.k, dtype=np.int64)
        self.fixed_by: list[str] = []

    def const(self, value: int) -> np.ndarray:
        return np.full(self.k, value, dtype=np.int64)

    def run(self) -> None:
        for i, node in enumerate(self.g):
            self.place(i, node)

    def place(self, i: int, node: Node) -> None:
        ins = [self.shapes[s] for s in node.inputs]
        ok = np.ones(self.k, dtype=bool)
        for s in node.inputs:
            ok &= self.ok[s]
        if node.op == "input":
            dims = [self.const(d) for d in node.shape]
            if node.name == self.g.inputs[0]:
                for a in self.axes:
                    dims[a] = self.sizes.astype(np.int64)
            bad, kind, params = np.zeros(self.k, dtype=bool), "rule", None
        else:
            dims, bad, kind, params = self.infer(node, ins, ok)
        elements = np.ones(self.k, dtype=np.int64)
        for d in dims:
            elements = elements * d
        params = self.const(node.params) if params is None else params
        self.total = self.total + np.where(ok & ~bad, params, 0)
        over = ~bad & ((elements > self.lim.max_elements) | (params > self.lim.max_params)
                       | (self.total > self.lim.max_params))  # fmt: skip
        if (ok & over).any():
            self.own.append((node, "bound", ok & over, ok & ~bad & ~over))
        if (ok & bad).any():
            self.own.append((node, kind, ok & bad, ok & ~bad & ~over))
        bad = bad | over
        self.first[ok & bad & (self.first < 0)] = i
        ok = ok & ~bad
        # a refused size carries 1s on, so later formulas stay in range
        self.shapes[node.name] = [np.where(ok, d, 1) for d in dims]
        self.ok[node.name] = ok

    def infer(self, node: Node, ins: list[Dims], ok: np.ndarray):
        op, args, k = node.op, node.args, self.k
        no = np.zeros(k, dtype=bool)
        refs = [self.g.nodes[name].shape for name in node.inputs]
        spatial_const = all(
            len(s) == len(r)
            and all((d[ok] == r[j]).all() for j, d in enumerate(s) if not (len(s) == 3 and j < 2))
            for s, r in zip(ins, refs, strict=True)
        )  # only H and W vary: the op's weights and channel checks are the reference's
        if op in WINDOW_OPS and spatial_const:
            (s,) = ins
            pool = op in ("max_pool", "avg_pool")
            strides = (args.strides or args.pool) if pool else args.strides
            window = args.pool if pool else args.kernel
            dil = getattr(args, "dilation_rate", (1, 1))
            out = [None, None, s[2]]
            for a in (0, 1):
                if args.padding == "same":
                    out[a] = -(-s[a] // strides[a])
                else:
                    span = (window[a] - 1) * dil[a] + 1
                    out[a] = (s[a] - span) // strides[a] + 1
            out[2] = self.const(node.shape[2])
            return out, (out[0] <= 0) | (out[1] <= 0), "shrinks", None
        if op == "conv_transpose" and spatial_const:
            (s,) = ins
            pad = args.output_padding or (None, None)
            out = [self.transpose(s[a], a, args, pad[a]) for a in (0, 1)]
            out.append(self.const(node.shape[2]))
            bad = (out[0] <= 0) | (out[1] <= 0) | (out[0] > MAX_DIM) | (out[1] > MAX_DIM)
            return out, bad, "shrinks", None
        if op == "zero_pad" and spatial_const:
            (s,) = ins
            pads = self.padding(node, s)
            return [s[0] + pads[0], s[1] + pads[1], s[2]], no, "rule", None
        if op == "crop" and spatial_const:
            (s,) = ins
            (t, b), (left, r) = args.cropping
            out = [s[0] - t - b, s[1] - left - r, s[2]]
            return out, (out[0] <= 0) | (out[1] <= 0), "shrinks", None
        if op == "upsample" and spatial_const:
            (s,) = ins
            return [s[0] * args.size[0], s[1] * args.size[1], s[2]], no, "rule", None
        if op in ("global_avg_pool", "global_max_pool") and spatial_const:
            return [self.const(d) for d in node.shape], no, "rule", None
        if op == "flatten":
            flat = np.ones(k, dtype=np.int64)
            for d in ins[0]:
                flat = flat * d
            return [flat], no, "rule", None
        if op in MERGE_OPS and all(len(s) == len(ins[0]) for s in ins):
            out, bad = list(ins[0]), no.copy()
            for s in ins[1:]:
                for j, d in enumerate(s):
                    bad |= (d != out[j]) & (d != 1) & (out[j] != 1)
                    out[j] = np.maximum(out[j], d)
            return out, bad, "merge", None
        if op == "concat" and all(len(s) == len(ins[0]) for s in ins):
            axis = args.axis % (len(ins[0]) + 1) - 1
            out, bad = list(ins[0]), no.copy()
            for s in ins[1:]:
                for j, d in enumerate(s):
                    if j != axis:
                        bad |= d != out[j]
            out[axis] = sum(s[axis] for s in ins)
            return out, bad, "merge", None
        if op == "dense" and len(ins[0]) == 1:
            fan_in = ins[0][0]
            if not (fan_in[ok] == self.g.nodes[node.inputs[0]].shape[0]).all():
                self.fixed_by.append(node.name)
            units = args.units
            params = fan_in * units + (units if args.use_bias else 0)
            return [self.const(units)], no, "rule", params
        if op in SAME_SHAPE_OPS | {"dense"} and spatial_const and len(ins[0]) == 3:
            return [*ins[0][:2], self.const(node.shape[2])], no, "rule", None
        return self.fallback(node, ins, ok)

    def transpose(self, s: np.ndarray, a: int, args, out_pad: int | None) -> np.ndarray:
        """keras's transposed-conv length, vectorised (the formula of ops/conv.transpose_out)."""
        k, st, d = args.kernel[a], args.strides[a], args.dilation_rate[a]
        span = (k - 1) * d + 1
        if args.padding == "valid":
            extra = max(span, st) - span if out_pad is None else out_pad
            return (s - 1) * st + span + extra
        if out_pad is None:
            return s * st
        return (s - 1) * st + span - 2 * (span // 2) + out_pad

    def padding(self, node: Node, s: Dims) -> list[np.ndarray]:
        """Rows and columns a zero_pad adds; Keras's correct_pad follows the size's parity."""
        (t, b), (left, r) = node.args.padding
        kind = self.g.blocks[node.block].kind if node.block else ""
        block_pad = kind in CORRECT_PAD_BLOCKS and not node.name.startswith("zero_padding2d")
        if block_pad or node.name in self.follows:
            src = self.g.nodes[node.inputs[0]].shape
            if ((t, b), (left, r)) == correct_pad(src, (2 * b, 2 * r)):
                return [b - 1 + s[0] % 2 + b, r - 1 + s[1] % 2 + r]
        return [self.const(t + b), self.const(left + r)]

    def fallback(self, node: Node, ins: list[Dims], ok: np.ndarray):
        """The op's own shape rule, once per distinct input shape among the candidates."""
        k = self.k
        rows = np.stack([d for s in ins for d in s], axis=1)
        cuts = np.cumsum([0] + [len(s) for s in ins])
        out_rank = len(node.shape)
        out = np.ones((k, out_rank), dtype=np.int64)
        params = self.const(node.params)
        bad = np.zeros(k, dtype=bool)
        live = np.flatnonzero(ok)
        if live.size:
            uniq, back = np.unique(rows[live], axis=0, return_inverse=True)
            for u, row in enumerate(uniq):
                shapes = [tuple(int(v) for v in row[cuts[j] : cuts[j + 1]])
                          for j in range(len(ins))]  # fmt: skip
                where = live[back.reshape(-1) == u]
                try:
                    got = node.args.infer(shapes)
                except ShapeError:
                    bad[where] = True
                    continue
                if len(got.shape) != out_rank:
                    bad[where] = True  # a rank the rest of the chain was not built for
                    continue
                out[where] = got.shape
                params[where] = got.trainable + got.non_trainable
        return [out[:, j] for j in range(out_rank)], bad, "rule", params


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
        solver = _Solver(graph, lim, np.arange(1, upto + 1), which, set(follows))
        solver.run()
        axes.append(_answer(graph, solver, label, shape[which[0]], upto))
    return SizeReport(graph.name, axes)


def _answer(graph: Graph, solver: _Solver, label: str, ref: int, upto: int) -> AxisSizes:
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


KIND_WORDS = {"shrinks": "shrinks to nothing", "merge": "unequal sizes meet",
              "bound": "over a bound", "rule": "a shape rule"}  # fmt: skip


def render(report: SizeReport, spec: str, limit: int = 8) -> str:
    """`archc check --sizes`: the answer per axis, then the nodes that impose a constraint, each
    with the sizes that pass it and every node before it."""
    lines = []
    if report.follow_size:
        shown = ", ".join(report.follow_size[:5]) + (", …" if len(report.follow_size) > 5 else "")
        lines.append(f"{spec}: note: the arguments of {shown} follow `size`; the answer is for "
                     "the op chain as compiled at the spec's size")  # fmt: skip
    for a in report.axes:
        own = "accepted" if a.accepted[a.reference - 1] else "REFUSED"
        lines.append(f"{spec}: input sizes ({a.axis}): {a.pattern()}")
        lines.append(f"  solved for every size 1…{a.upto}; the spec's own {a.reference}: {own}")
        if a.shrink_below > 1:
            lines.append(f"  below {a.shrink_below} some layer shrinks to nothing")
        if a.constraints:
            lines.append("  constrained by (sizes that pass the node and all before it):")
            width = max(len(f"{c.op} '{c.node}'") for c in a.constraints[:limit])
            for c in a.constraints[:limit]:
                more = f"  (+{len(c.same_as)} nodes alike)" if c.same_as else ""
                who = f"{c.op} '{c.node}'"
                lines.append(f"    {who:<{width}}  {KIND_WORDS[c.kind]:<18}  {c.accepted}{more}")
            if len(a.constraints) > limit:
                lines.append(f"    … {len(a.constraints) - limit} more nodes")
        if a.fixed_by:
            lines.append(f"  {', '.join(a.fixed_by)}: weights follow the size (flatten → dense); "
                         f"a weights file fits {a.reference} only")  # fmt: skip
    return "\n".join(lines)


__all__ = [
    "UPTO", "AxisSizes", "Constraint", "SizeReport", "describe_set", "parity_pads", "probe",
    "probe_pads", "render", "solve", "solve_file",
]  # fmt: skip
