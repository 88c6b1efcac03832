"""`archc diff`: two Graphs compared stage by stage (top-level blocks, and top-level nodes on
their own) and node by node (matched by name).

A node is changed when its op, arguments, inputs, output shape or params differ. A stage is
matched by name too; its figures are the sums over its nodes, its shape the shape of its
output. Readers of the Graph only: no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .graph import Graph, Node
from .ops.base import fmt
from .summary.figures import human


@dataclass
class NodeChange:
    """One node that differs: added, removed, or changed (and in what)."""

    name: str
    stage: str
    status: str  # "added", "removed", "changed"
    what: list[str] = field(default_factory=list)  # "strides: 2 → 1", "shape: …"


@dataclass
class Stage:
    """A top-level block or node of A and/or B, with its figures on each side."""

    name: str
    kind_a: str | None
    kind_b: str | None
    shape_a: tuple[int, ...] | None
    shape_b: tuple[int, ...] | None
    params: tuple[int, int]
    macs: tuple[int, int]
    added: int = 0
    removed: int = 0
    changed: int = 0

    @property
    def status(self) -> str:
        if self.kind_a is None:
            return "added"
        if self.kind_b is None:
            return "removed"
        same = not (self.added or self.removed or self.changed) and self.kind_a == self.kind_b
        return "same" if same and self.shape_a == self.shape_b else "changed"


@dataclass
class Diff:
    """Everything `archc diff` reports."""

    a: Graph
    b: Graph
    stages: list[Stage]
    nodes: list[NodeChange]

    @property
    def same(self) -> bool:
        return not self.nodes and all(s.status == "same" for s in self.stages)

    @property
    def totals(self) -> tuple[tuple[int, int], tuple[int, int]]:
        return (self.a.total_params, self.b.total_params), (self.a.macs, self.b.macs)


def stage_of(node: Node) -> str:
    """The top-level block a node is in, or the node itself."""
    return node.block[0] if node.block else node.name


def diff(a: Graph, b: Graph) -> Diff:
    """Compare Graph `a` with Graph `b`."""
    changes: list[NodeChange] = []
    for node in a:
        other = b.nodes.get(node.name)
        if other is None:
            changes.append(NodeChange(node.name, stage_of(node), "removed"))
        else:
            what = node_differences(node, other)
            if what:
                changes.append(NodeChange(node.name, stage_of(other), "changed", what))
    for node in b:
        if node.name not in a.nodes:
            changes.append(NodeChange(node.name, stage_of(node), "added", [_facts(node)]))
    for c in changes:
        if c.status == "removed":
            c.what = [_facts(a.nodes[c.name])]
    order = _merged_order([stage_of(n) for n in a], [stage_of(n) for n in b])
    position = {name: i for i, name in enumerate(a.nodes)} | {n: i for i, n in enumerate(b.nodes)}
    changes.sort(key=lambda c: (order.index(c.stage), position[c.name], c.status != "removed"))
    stages = [_stage(name, a, b, changes) for name in order]
    return Diff(a, b, stages, changes)


def node_differences(x: Node, y: Node) -> list[str]:
    """What differs between two nodes of the same name, as `what: old → new` lines."""
    out = []
    if x.op != y.op:
        out.append(f"op: {x.op} → {y.op}")
    else:
        ax = x.args.model_dump() if x.args is not None else {}
        ay = y.args.model_dump() if y.args is not None else {}
        for k in dict.fromkeys([*ax, *ay]):
            if ax.get(k) != ay.get(k):
                out.append(f"{k}: {_value(ax.get(k))} → {_value(ay.get(k))}")
    if x.inputs != y.inputs:
        out.append(f"from: {', '.join(x.inputs)} → {', '.join(y.inputs)}")
    if x.shape != y.shape:
        out.append(f"shape: {fmt(x.shape)} → {fmt(y.shape)}")
    if x.params != y.params:
        out.append(f"params: {x.params:,} → {y.params:,}")
    if x.macs != y.macs and x.shape == y.shape:  # a new shape says why already
        out.append(f"MACs: {human(x.macs)} → {human(y.macs)}")
    return out


def _facts(node: Node) -> str:
    """What an added or removed node is: `conv → 56×56×256, 590,080 params, 1.85 G MACs`."""
    return f"{node.op} → {fmt(node.shape)}, {node.params:,} params, {human(node.macs)} MACs"


def _value(v: Any) -> str:
    if isinstance(v, (list, tuple)) and len(v) == 2 and v[0] == v[1]:
        return str(v[0])  # (2, 2): as a spec writes it
    return str(v)


def _merged_order(a: list[str], b: list[str]) -> list[str]:
    """A's stages in order, each of B's new ones after the stage it follows in B."""
    order = list(dict.fromkeys(a))
    last = -1
    for name in dict.fromkeys(b):
        if name in order:
            last = order.index(name)
        else:
            last += 1
            order.insert(last, name)
    return order


def _sums(g: Graph, name: str) -> tuple[str | None, tuple[int, ...] | None, int, int]:
    nodes = [n for n in g if stage_of(n) == name]
    if not nodes:
        return None, None, 0, 0
    block = g.blocks.get((name,))
    kind = block.kind if block else nodes[0].op
    out = block.output if block and block.output else nodes[-1].name
    shape = g.nodes[out].shape if out in g.nodes else nodes[-1].shape
    return kind, shape, sum(n.params for n in nodes), sum(n.macs for n in nodes)


def _stage(name: str, a: Graph, b: Graph, changes: list[NodeChange]) -> Stage:
    ka, sa, pa, ma = _sums(a, name)
    kb, sb, pb, mb = _sums(b, name)
    mine = [c for c in changes if c.stage == name]
    count = {s: sum(c.status == s for c in mine) for s in ("added", "removed", "changed")}
    return Stage(name, ka, kb, sa, sb, (pa, pb), (ma, mb), **count)


# ---- reports ---------------------------------------------------------------------------------
def _delta(x: int, y: int, big: bool = False) -> str:
    d = y - x
    if not d:
        return "="
    text = human(abs(d)) if big else f"{abs(d):,}"
    return ("+" if d > 0 else "−") + text


def _shape_cell(s: Stage) -> str:
    if s.shape_a == s.shape_b:
        return fmt(s.shape_a or ())
    return f"{fmt(s.shape_a) if s.shape_a else '—'} → {fmt(s.shape_b) if s.shape_b else '—'}"


def _nodes_cell(s: Stage) -> str:
    parts = [f"+{s.added}" if s.added else "", f"−{s.removed}" if s.removed else "",
             f"~{s.changed}" if s.changed else ""]  # fmt: skip
    return " ".join(p for p in parts if p) or "="


def _rows(d: Diff, every: bool) -> list[list[str]]:
    rows = []
    for s in d.stages:
        if s.status == "same" and not every:
            continue
        kind = s.kind_b or s.kind_a or ""
        if s.kind_a and s.kind_b and s.kind_a != s.kind_b:
            kind = f"{s.kind_a} → {s.kind_b}"
        rows.append([s.name, kind, s.status, _shape_cell(s), f"{s.params[1]:,}",
                     _delta(*s.params), human(s.macs[1]), _delta(*s.macs, big=True),
                     _nodes_cell(s)])  # fmt: skip
    return rows


HEADINGS = ["Stage", "Kind", "Status", "Output shape (A → B)", "Params (B)", "Δ params",
            "MACs (B)", "Δ MACs", "Nodes"]  # fmt: skip


_RIGHT = {4, 5, 6, 7}  # the figures


def _title(d: Diff, labels: tuple[str, str]) -> str:
    return f"A: {labels[0]} ({d.a.name})   B: {labels[1]} ({d.b.name})"


def _totals(d: Diff) -> list[str]:
    (pa, pb), (ma, mb) = d.totals
    counts = {s: sum(c.status == s for c in d.nodes) for s in ("added", "removed", "changed")}
    nodes = ", ".join(f"{v} {k}" for k, v in counts.items())
    return [
        f"Params: {pa:,} → {pb:,} ({_delta(pa, pb)})",
        f"MACs:   {human(ma)} → {human(mb)} ({_delta(ma, mb, big=True)})",
        f"Nodes:  {len(d.a):,} → {len(d.b):,} ({nodes})",
    ]


def render_table(d: Diff, labels: tuple[str, str], every: bool = False) -> str:
    """The plain-text report: the stages that differ (all with `every`), the nodes that
    differ, and the totals."""
    lines = [_title(d, labels)]
    if d.same:
        return "\n".join([*lines, "No differences: the same nodes, shapes, params and MACs.",
                          *_totals(d)])  # fmt: skip
    rows = [HEADINGS, *_rows(d, every)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADINGS))]
    right = {4, 5, 6}
    for j, r in enumerate(rows):
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    for c in d.nodes:
        sign = {"added": "+", "removed": "-", "changed": "~"}[c.status]
        lines.append(
            f"{sign} {c.name}" + (f": {'; '.join(c.what)}" if c.what else f" ({c.status})")
        )
    lines += ["", *_totals(d)]
    return "\n".join(lines)


def render_markdown(d: Diff, labels: tuple[str, str], every: bool = False) -> str:
    """The report as Markdown: a stage table, the node list, the totals."""
    lines = [f"**{_title(d, labels)}**", ""]
    if not d.same:
        lines += [
            "| " + " | ".join(HEADINGS) + " |",
            "|" + "|".join("---:" if i in _RIGHT else "---" for i in range(len(HEADINGS))) + "|",
        ]
        lines += ["| " + " | ".join(_md(c) for c in r) + " |" for r in _rows(d, every)]
        lines += [""]
        for c in d.nodes:
            lines.append(f"- `{_md(c.name)}` ({c.status}): {_md('; '.join(c.what))}")
        lines += [""]
    else:
        lines += ["No differences.", ""]
    lines += [f"- {_md(t)}" for t in _totals(d)]
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_json(d: Diff, labels: tuple[str, str]) -> dict[str, Any]:
    """The report as a JSON document."""
    (pa, pb), (ma, mb) = d.totals
    return {
        "a": {"spec": labels[0], "name": d.a.name}, "b": {"spec": labels[1], "name": d.b.name},
        "same": d.same,
        "stages": [
            {"name": s.name, "status": s.status, "kind": [s.kind_a, s.kind_b],
             "shape": [list(s.shape_a) if s.shape_a else None,
                       list(s.shape_b) if s.shape_b else None],
             "params": list(s.params), "macs": list(s.macs),
             "nodes": {"added": s.added, "removed": s.removed, "changed": s.changed}}
            for s in d.stages
        ],
        "nodes": [{"name": c.name, "stage": c.stage, "status": c.status, "changes": c.what}
                  for c in d.nodes],
        "total": {"params": [pa, pb], "macs": [ma, mb], "nodes": [len(d.a), len(d.b)]},
    }  # fmt: skip
