"""The figures a summary shows, read off a Graph: rows (nodes and block headers), receptive
fields, per-node op facts (kernel, strides, …), totals, and the JSON of docs/contracts.md."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..graph import Graph, Node, Totals, folded_into
from ..ops.base import GLOBAL, Shape, fmt

FLOAT32 = 4
# JSON node fields that `--columns` can add (the other columns' figures are in the JSON already)
JSON_EXTRAS = ("kernel", "strides", "dilation", "padding", "activation", "trainable", "origin")


def to_json(graph: Graph, extras: Iterable[str] = ()) -> dict[str, Any]:
    """The `archc summary --format json` object (docs/contracts.md); node figures add up to the
    totals. `extras` (names from JSON_EXTRAS) add those fields to every node."""
    nodes = graph.nodes
    rf = receptive_fields(graph)
    wanted = [e for e in JSON_EXTRAS if e in set(extras)]
    out = []
    for n in graph:
        item = {
            "name": n.name,
            "op": n.op,
            "block": list(n.block),
            "inputs": list(n.inputs),
            "output_shape": list(n.shape),
            "params": n.params,
            "trainable_params": n.trainable_params,
            "macs": n.macs,
            "receptive_field": rf[n.name],
        }
        facts = op_facts(n)
        for key in wanted:
            if key == "origin":
                item.update(origin(n))
                continue
            value = n.trainable if key == "trainable" else facts.get(key)
            item[key] = list(value) if isinstance(value, tuple) else value
        out.append(item)
    return {
        "name": graph.name,
        "inputs": {n: list(nodes[n].shape) for n in graph.inputs},
        "outputs": {n: list(nodes[n].shape) for n in graph.outputs},
        "params": {
            "total": graph.total_params,
            "trainable": graph.trainable_params,
            "non_trainable": graph.non_trainable_params,
        },
        "macs": graph.macs,
        "activations": graph.activations,
        "nodes": out,
    }


def op_facts(node: Node) -> dict[str, Any]:
    """What a node's op slides and applies: `kernel`, `strides`, `dilation` ((h, w) pairs),
    `padding` ('same'/'valid') and `activation` (a fused one, or an activation op's function);
    only the keys the op has. A pool's window is its kernel; its strides default to it."""
    args = node.args
    if args is None:
        return {}
    facts: dict[str, Any] = {}
    kernel = getattr(args, "kernel", None) or getattr(args, "pool", None)
    if kernel is not None:
        facts["kernel"] = tuple(kernel)
        facts["strides"] = tuple(getattr(args, "strides", None) or kernel)
        facts["dilation"] = tuple(getattr(args, "dilation_rate", None) or (1, 1))
    padding = getattr(args, "padding", None)
    if isinstance(padding, str):  # zero_pad's `padding` is a tuple of sides, not a mode
        facts["padding"] = padding
    activation = getattr(args, "activation", None)
    if isinstance(activation, str) and activation != "linear":
        facts["activation"] = activation
    return facts


def origin(node: Node) -> dict[str, Any]:
    """Where a node's values come from: `written` (argument names given in the spec, an
    `override:` included), `computed` (those of them written as `$` expressions), `derived`
    (those the built-in block that placed it chose), `defaults` (the op's arguments nobody
    gave), `placed_by` (that block's kind, or None) and `role` ('shortcut' or None)."""
    fields = list(type(node.args).model_fields) if node.args is not None else []
    given = node.args.model_fields_set if node.args is not None else set()
    chosen = [f for f in fields if f in given]
    return {
        "written": [] if node.placed_by else chosen,
        "computed": [f for f in fields if f in node.computed],
        "derived": chosen if node.placed_by else [],
        "defaults": [f for f in fields if f not in given],
        "placed_by": node.placed_by,
        "role": node.role,
    }


def receptive_fields(graph: Graph) -> dict[str, int | None]:
    """Receptive field (in input pixels, along the height) of every node's output; None when it
    sees the whole input. r' = r + (k − 1)·d·j and j' = j·s, over each op's `window()`."""
    rf: dict[str, int | None] = {}
    jump: dict[str, int] = {}
    for node in graph:
        if node.op == "input":
            rf[node.name], jump[node.name] = 1, 1
            continue
        ins = [rf[i] for i in node.inputs]
        r = None if None in ins else max(ins)  # type: ignore[type-var]
        j = max(jump[i] for i in node.inputs)
        shapes = [graph.nodes[i].shape for i in node.inputs]
        window = node.args.window(shapes) if node.args is not None else None
        if r is None or window == GLOBAL:
            r = None
        elif window is not None:
            k, s, d = window
            r, j = r + (k - 1) * d * j, j * s
        rf[node.name], jump[node.name] = r, j
    return rf


def human(count: float, unit: str = "") -> str:
    """4.09 G — three significant digits with an SI prefix."""
    for prefix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(count) >= scale:
            return f"{count / scale:.3g} {prefix}{unit}"
    return f"{count:g} {unit}".rstrip()


def human_bytes(n: float) -> str:
    """97.7 MB — binary multiples, as Keras's model.summary() prints them."""
    for prefix, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {prefix}"
    return f"{n:.0f} B"


@dataclass
class Row:
    name: str
    op: str
    shape: str
    params: int
    macs: int
    level: int  # indentation: how many blocks enclose it
    inputs: str = ""  # the From cell: `sources` joined
    is_block: bool = False
    memory: int = 0  # bytes of float32 activations: the output (node) or all outputs (block)
    rf: str = ""
    sources: tuple[str, ...] = ()  # From: the inputs, unless it reads just the row above
    node: Node | None = None  # the node of a node row
    members: list[Node] = field(default_factory=list)  # a block row's nodes, nested ones too
    input_shapes: list[Shape] = field(default_factory=list)  # what flows in from outside
    within: tuple[str, ...] = ()  # the enclosing blocks


def rows(graph: Graph, depth: int | None = None) -> list[Row]:
    """Graph order; a block opens with a header row (its totals) and, deeper than `depth`,
    stands for its contents as one folded row."""
    totals = graph.block_totals()
    rf = receptive_fields(graph)
    members: dict[tuple[str, ...], list[Node]] = {}
    for node in graph:
        for i in range(1, len(node.block) + 1):
            members.setdefault(node.block[:i], []).append(node)
    out: list[Row] = []
    opened: tuple[str, ...] = ()
    prev: Node | None = None
    for node in graph:
        path = node.block
        common = 0
        while common < min(len(path), len(opened)) and path[common] == opened[common]:
            common += 1
        headed = folded_into(path, depth) or path  # the deepest block that gets a row
        for i in range(common + 1, len(headed) + 1):
            sub = path[:i]
            out.append(_block_row(graph, sub, totals[sub], rf, members[sub]))
        opened = path
        if folded_into(path, depth) is None:
            linked = prev is None or node.inputs != (prev.name,)
            shown = node.inputs if linked and node.op != "input" else ()
            row = Row(node.name, node.op, fmt(node.shape), node.params, node.macs, len(path))
            row.inputs, row.sources, row.node = ", ".join(shown), shown, node
            row.within = path
            row.memory = math.prod(node.shape) * FLOAT32
            row.rf = _rf_text(rf[node.name])
            row.input_shapes = [graph.nodes[i].shape for i in node.inputs]
            out.append(row)
        prev = node
    return out


def _rf_text(r: int | None) -> str:
    return "all" if r is None else str(r)


def _block_row(
    graph: Graph, path: tuple[str, ...], total: Totals, rf: dict[str, int | None],
    inside: list[Node],
) -> Row:  # fmt: skip
    block = graph.blocks.get(path)
    kind = block.kind if block else "block"
    shape = field_ = ""
    if block and block.output and block.output in graph.nodes:
        shape = fmt(graph.nodes[block.output].shape)
        field_ = _rf_text(rf[block.output])
    row = Row(path[-1], kind, shape, total.params, total.macs, len(path) - 1, is_block=True)
    row.memory, row.rf, row.members = total.elements * FLOAT32, field_, inside
    row.within = path[:-1]
    names = {n.name for n in inside}
    outside = dict.fromkeys(i for n in inside for i in n.inputs if i not in names)
    row.input_shapes = [graph.nodes[i].shape for i in outside]
    return row


def totals_lines(graph: Graph) -> list[tuple[str, str]]:
    p, a = graph.total_params, graph.activations
    return [
        ("Total params", f"{p:,}  ({human_bytes(p * FLOAT32)} float32)"),
        ("Trainable params", f"{graph.trainable_params:,}"),
        ("Non-trainable params", f"{graph.non_trainable_params:,}"),
        ("MACs (batch 1)", f"{human(graph.macs)}  ({graph.macs:,})"),
        ("Activations (batch 1)", f"{human(a)} values  ({human_bytes(a * FLOAT32)} float32)"),
        ("Nodes", f"{len(graph):,} primitive ops, {len(graph.blocks):,} blocks"),
        *_input_sizes(graph),
    ]


def _input_sizes(graph: Graph) -> list[tuple[str, str]]:
    """The input-size solver's answer (`archc check --sizes` says which nodes constrain it)."""
    from ..sizes import probe_pads, solve  # numpy: only summaries pay for importing it

    report = solve(graph, follows=probe_pads(graph))
    return [("Input sizes", report.line())] if report.axes else []
