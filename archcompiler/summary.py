"""Tables and totals from a Graph: the terminal table, Markdown, and the JSON whose fields
docs/contracts.md lists."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .graph import Graph, Node, Totals, folded_into
from .ops.base import GLOBAL, fmt

FLOAT32 = 4


def to_json(graph: Graph) -> dict[str, Any]:
    """The `archc summary --format json` object (docs/contracts.md); node figures add up to the
    totals."""
    nodes = graph.nodes
    rf = receptive_fields(graph)
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
        "nodes": [
            {
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
            for n in graph
        ],
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
    inputs: str = ""
    is_block: bool = False
    memory: int = 0  # bytes of float32 activations: the output (node) or all outputs (block)
    rf: str = ""


def rows(graph: Graph, depth: int | None = None) -> list[Row]:
    """Graph order; a block opens with a header row (its totals) and, deeper than `depth`,
    stands for its contents as one folded row."""
    totals = graph.block_totals()
    rf = receptive_fields(graph)
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
            out.append(_block_row(graph, path[:i], totals[path[:i]], rf))
        opened = path
        if folded_into(path, depth) is None:
            linked = prev is None or node.inputs != (prev.name,)
            shown = ", ".join(node.inputs) if linked and node.op != "input" else ""
            row = Row(node.name, node.op, fmt(node.shape), node.params, node.macs, len(path), shown)
            row.memory = math.prod(node.shape) * FLOAT32
            row.rf = _rf_text(rf[node.name])
            out.append(row)
        prev = node
    return out


def _rf_text(r: int | None) -> str:
    return "all" if r is None else str(r)


def _block_row(
    graph: Graph, path: tuple[str, ...], total: Totals, rf: dict[str, int | None]
) -> Row:
    block = graph.blocks.get(path)
    kind = block.kind if block else "block"
    shape = field = ""
    if block and block.output and block.output in graph.nodes:
        shape = fmt(graph.nodes[block.output].shape)
        field = _rf_text(rf[block.output])
    row = Row(path[-1], kind, shape, total.params, total.macs, len(path) - 1, is_block=True)
    row.memory, row.rf = total.elements * FLOAT32, field
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
    ]


def _cells(r: Row) -> list[str]:
    label = ("  " * r.level) + (f"▸ {r.name}" if r.is_block else r.name)
    return [
        label,
        r.op,
        r.shape,
        f"{r.params:,}" if r.params else "–",
        human(r.macs) if r.macs else "–",
        human_bytes(r.memory),
        r.rf,
        r.inputs,
    ]


HEAD = ["Layer", "Op", "Output shape", "Params", "MACs", "Memory", "RF", "From"]
RIGHT = {3, 4, 5, 6}
FROM = len(HEAD) - 1


def render_table(graph: Graph, depth: int | None = None) -> str:
    """The terminal table: blocks indented, thousands separators, MACs in SI units, float32
    activation memory (a block's row: all its outputs) and receptive field (RF, input pixels)."""
    body = [_cells(r) for r in rows(graph, depth)]
    cols = [c for c in range(len(HEAD)) if c != FROM or any(r[FROM] for r in body)]
    widths = {c: max(len(HEAD[c]), *(len(r[c]) for r in body)) for c in cols}

    def line(cells: list[str]) -> str:
        parts = [
            cells[c].rjust(widths[c]) if c in RIGHT else cells[c].ljust(widths[c]) for c in cols
        ]
        return "  ".join(parts).rstrip()

    rule = "─" * len(line(HEAD))
    title = f"Model: {graph.name}"
    if graph.doc:
        first = graph.doc.split(": ")[0].split(". ")[0].strip()
        title += f" — {first[:90]}…" if len(first) > 90 else f" — {first}"
    out = [title, rule, line(HEAD), rule, *(line(r) for r in body), rule]
    label = max(len(k) for k, _ in totals_lines(graph))
    out += [f"{k + ':':<{label + 1}} {v}" for k, v in totals_lines(graph)]
    return "\n".join(out)


def render_markdown(graph: Graph, depth: int | None = None) -> str:
    """A GitHub-flavoured Markdown table, for papers and READMEs."""
    out = [f"### {graph.name}", "", "| " + " | ".join(HEAD) + " |"]
    out.append("|" + "|".join("---:" if c in RIGHT else "---" for c in range(len(HEAD))) + "|")
    for r in rows(graph, depth):
        cells = _cells(r)
        cells[0] = "&nbsp;" * 2 * r.level + (f"**{r.name}**" if r.is_block else f"`{r.name}`")
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    out.append("")
    out += [f"- **{k}:** {v}" for k, v in totals_lines(graph)]
    return "\n".join(out)
