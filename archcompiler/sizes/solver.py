"""One sweep of the input-size solver: every node's shape for all candidate sizes at once,
each op's spatial formula vectorised over numpy arrays (see the package's docstring)."""

from __future__ import annotations

import numpy as np

from ..blocks.base import correct_pad
from ..graph import Graph, Node
from ..limits import MAX_DIM, Limits
from ..ops.base import ShapeError

WINDOW_OPS = {"conv", "depthwise_conv", "separable_conv", "max_pool", "avg_pool"}
MERGE_OPS = {"add", "subtract", "multiply", "average", "maximum", "minimum"}
SAME_SHAPE_OPS = {"bn", "activation", "relu", "relu6", "leaky_relu", "sigmoid", "tanh",
                  "softmax", "dropout", "rescaling", "layer_scale"}  # fmt: skip
# built-in blocks whose zero_pad is Keras's correct_pad of its input (named zero_pads only)
CORRECT_PAD_BLOCKS = {"mbconv", "inverted_residual", "mobilenet_v3", "nasnet_normal",
                      "nasnet_reduction"}  # fmt: skip

Dims = list[np.ndarray]


class Solver:
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
