"""Graph → Graphviz DOT: primitive nodes with name, op, output shape and params; blocks as
clusters, folded to one node below `depth`; skip connections drawn apart (`archc graph`).

`write` writes `.dot` itself and renders `.svg`/`.png` through Graphviz's `dot` program, always
to a temporary file renamed over the target, so a failed render leaves no partial file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..atomic import write_atomically
from ..graph import Graph, Node, Totals, folded_into
from ..summary import human

# suffix → `dot -T` format; None: the DOT text itself, no Graphviz needed
FORMATS: dict[str, str | None] = {".dot": None, ".svg": "svg", ".png": "png"}
DOT_TIMEOUT_S = 120.0  # a runaway layout (tens of thousands of nodes) must not hang the CLI

_FONT = "Helvetica"
_GRAPH = {
    "rankdir": "TB", "labelloc": "t", "fontname": _FONT, "fontsize": "14",
    "nodesep": "0.25", "ranksep": "0.3",
}  # fmt: skip
_NODE = {
    "shape": "box", "style": "rounded,filled", "fillcolor": "#ffffff", "color": "#7a7a7a",
    "fontname": _FONT, "fontsize": "10", "margin": "0.1,0.03", "height": "0.3",
}  # fmt: skip
_EDGE = {"color": "#555555", "arrowsize": "0.6"}
_CLUSTER = {
    "style": "rounded,filled", "color": "#9aa8bd", "labeljust": "l", "fontname": _FONT,
    "fontsize": "11",
}  # fmt: skip
_CLUSTER_FILLS = ("#f3f5f9", "#e6ebf3", "#d9e1ee")  # alternate by nesting level
_INPUT = {"fillcolor": "#d7efd7", "color": "#2e7d32", "penwidth": "2", "class": "input"}
_OUTPUT = {"fillcolor": "#fde1c3", "color": "#e65100", "penwidth": "2", "class": "output"}
_SKIP = {"color": "#1f6fb4", "style": "dashed", "class": "skip"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RenderError(Exception):
    """A picture could not be written (unknown suffix, Graphviz missing or failing, I/O)."""


@dataclass
class _Fold:
    """A block drawn as one node: the block's path and the primitive nodes it stands for."""

    path: tuple[str, ...]
    id: str
    members: list[Node] = field(default_factory=list)


@dataclass
class _Cluster:
    """A block drawn as a cluster; items in order of first appearance in the graph."""

    path: tuple[str, ...]
    items: list[Node | _Fold | _Cluster] = field(default_factory=list)


def _skips(edges: list[tuple[str, str]], order: dict[str, int]) -> dict[tuple[str, str], bool]:
    """A skip connection is an edge whose two ends are also joined by a longer path (a residual
    identity, a DenseNet concat input). Merging branches (inception, projection shortcuts) are
    not skips: each is the only path it draws. Only edges into merges need a search, and it
    never passes the target's place in graph order."""
    succ: dict[str, list[str]] = {}
    fan_in: dict[str, int] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
        fan_in[b] = fan_in.get(b, 0) + 1
    out = {}
    for src, dst in edges:
        out[src, dst] = fan_in[dst] > 1 and _reaches(succ, src, dst, order)
    return out


def _reaches(succ: dict[str, list[str]], src: str, dst: str, order: dict[str, int]) -> bool:
    """Is `dst` reachable from `src` other than by the direct edge?"""
    limit = order[dst]
    stack = [b for b in succ.get(src, []) if b != dst and order[b] < limit]
    seen = set(stack)
    while stack:
        for nxt in succ.get(stack.pop(), []):
            if nxt == dst:
                return True
            if nxt not in seen and order[nxt] < limit:
                seen.add(nxt)
                stack.append(nxt)
    return False


def to_dot(graph: Graph, depth: int | None = None) -> str:
    """Graphviz DOT for `graph`, top to bottom. Blocks nested deeper than `depth` (0: top-level
    blocks) are folded into one node each; None draws every primitive node. Deterministic."""
    if depth is not None and depth < 0:
        raise ValueError(f"depth must be 0 or more, got {depth}")
    root = _Cluster(())
    clusters: dict[tuple[str, ...], _Cluster] = {(): root}
    folds: dict[tuple[str, ...], _Fold] = {}
    rep: dict[str, str] = {}  # node name → id of what stands for it (itself or its folded block)
    before: dict[str, str | None] = {}  # drawn id → the id drawn just before its first node
    last: str | None = None
    for node in graph:
        path = folded_into(node.block, depth)
        if path is not None:
            fold = folds.get(path)
            if fold is None:
                fold = folds[path] = _Fold(path, _fold_id(path, graph))
                _cluster(clusters, path[:-1]).items.append(fold)
            fold.members.append(node)
            rep[node.name] = fold.id
        else:
            _cluster(clusters, node.block).items.append(node)
            rep[node.name] = node.name
        here = rep[node.name]
        if here not in before:
            before[here] = last
        last = here

    # One edge per pair of drawn nodes: edges inside a folded block vanish, parallel ones merge.
    pairs: dict[tuple[str, str], None] = {}
    for node in graph:
        dst = rep[node.name]
        for name in node.inputs:
            if rep[name] != dst:
                pairs[rep[name], dst] = None
    order = {name: i for i, name in enumerate(dict.fromkeys(rep.values()))}
    edges = _skips(list(pairs), order)

    title = _label(graph.name, f"{graph.total_params:,} params · {human(graph.macs)} MACs")
    lines = [
        f"digraph {_q(graph.name)} {{",
        f"  graph {_attrs(**_GRAPH, label=title)};",
        f"  node {_attrs(**_NODE)};",
        f"  edge {_attrs(**_EDGE)};",
    ]
    _emit(graph, root, lines, "  ", graph.block_totals())
    for (src, dst), skip in edges.items():
        lines.append(f"  {_q(src)} -> {_q(dst)}" + (f" {_attrs(**_SKIP)}" if skip else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write(graph: Graph, path: str | os.PathLike[str], depth: int | None = None) -> None:
    """Write `graph` to `path`: `.dot` as text; `.svg`/`.png` rendered by Graphviz's `dot`.
    The target is replaced only by a complete file; RenderError says what went wrong (about
    the output as a whole: its suffix, Graphviz), SpecError when the file system refused."""
    target = os.fspath(path)
    suffix = os.path.splitext(target)[1].lower()
    if suffix not in FORMATS:
        allowed = ", ".join(FORMATS)
        raise RenderError(f"the file name must end in {allowed}")
    fmt = FORMATS[suffix]
    dot = None
    if fmt is not None:
        dot = shutil.which("dot")
        if dot is None:
            raise RenderError(
                f"writing {suffix} needs Graphviz's `dot` (Debian/Ubuntu: apt-get install "
                "graphviz; macOS: brew install graphviz); .dot works without it"
            )
    text = to_dot(graph, depth).encode("utf-8", "replace")
    data = text if dot is None else _run_dot(dot, fmt or "", text)
    write_atomically(target, data)  # a SpecError at the target if the system refuses


def _run_dot(dot: str, fmt: str, text: bytes) -> bytes:
    """The rendered bytes from `dot -T<fmt>`, fed the DOT text on stdin (no shell)."""
    try:
        proc = subprocess.run(
            [dot, f"-T{fmt}"], input=text, capture_output=True, timeout=DOT_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise RenderError(
            f"Graphviz's `dot` took longer than {DOT_TIMEOUT_S:g} s; try --depth to fold "
            "blocks, or write .dot"
        ) from None
    except OSError as e:
        raise RenderError(f"cannot run Graphviz's `dot` ({dot}): {e.strerror or e}") from None
    if proc.returncode != 0 or not proc.stdout:
        said = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = f": {said[-1]}" if said else ""
        raise RenderError(f"Graphviz's `dot` failed (exit {proc.returncode}){detail}")
    return proc.stdout


def _cluster(clusters: dict[tuple[str, ...], _Cluster], path: tuple[str, ...]) -> _Cluster:
    """The cluster for `path`, creating it (and its parents) in order of first appearance."""
    found = clusters.get(path)
    if found is None:
        found = clusters[path] = _Cluster(path)
        _cluster(clusters, path[:-1]).items.append(found)
    return found


def _fold_id(path: tuple[str, ...], graph: Graph) -> str:
    """A node id for a folded block that no primitive node has (names cannot hold ':' or '/',
    but the loop keeps that true whatever the names)."""
    fid = "block:" + "/".join(path)
    while fid in graph.nodes:
        fid += "'"
    return fid


def _emit(
    graph: Graph, cluster: _Cluster, lines: list[str], indent: str,
    totals: dict[tuple[str, ...], Totals],
) -> None:  # fmt: skip
    """Append the DOT statements of `cluster`'s items (nested clusters recursively)."""
    inputs, outputs = graph.inputs, graph.outputs  # a few names each
    for item in cluster.items:
        if isinstance(item, _Cluster):
            path = item.path
            block = graph.blocks.get(path)
            kind = block.kind if block else "block"
            fill = _CLUSTER_FILLS[(len(path) - 1) % len(_CLUSTER_FILLS)]
            lines.append(f"{indent}subgraph {_q('cluster_' + '/'.join(path))} {{")
            label = _label(f"{path[-1]} ({kind})")
            lines.append(f"{indent}  graph {_attrs(**_CLUSTER, fillcolor=fill, label=label)};")
            _emit(graph, item, lines, indent + "  ", totals)
            lines.append(f"{indent}}}")
        elif isinstance(item, _Fold):
            block = graph.blocks.get(item.path)
            kind = block.kind if block else "block"
            out = block.output if block and block.output in graph.nodes else item.members[-1].name
            params = totals[item.path].params
            shape = _shape(graph.nodes[out].shape)
            attrs = {
                "label": _label(item.path[-1], f"{kind} · {shape}", f"{params:,} params"),
                "shape": "box3d",
                "style": "filled",
                "fillcolor": "#dbe5f4",
                "class": "block",
            }
            if any(n.name in outputs for n in item.members):
                attrs.update(_OUTPUT, **{"class": "block output"})
            lines.append(f"{indent}{_q(item.id)} {_attrs(**attrs)};")
        else:
            attrs = {"label": _label(*_node_lines(item))}
            if item.name in inputs:
                attrs.update(_INPUT)
            elif item.name in outputs:
                attrs.update(_OUTPUT)
            lines.append(f"{indent}{_q(item.name)} {_attrs(**attrs)};")


def _node_lines(node: Node) -> list[str]:
    op = node.op
    function = getattr(node.args, "activation", None) if op == "activation" else None
    if isinstance(function, str):  # `activation` alone says little; name the function
        op = f"{op} ({function})"
    lines = [node.name, f"{op} · {_shape(node.shape)}"]
    if node.params:
        lines.append(f"{node.params:,} params")
    return lines


def _shape(shape: Sequence[int]) -> str:
    return "×".join(str(d) for d in shape) if shape else "scalar"


def _label(*lines: str) -> str:
    """A quoted multi-line label. Each line is cleaned of control characters, and `&` is
    written as an entity because Graphviz decodes entities in labels (a name `a&amp;b` would
    otherwise be drawn as `a&b`)."""
    clean = (_CONTROL.sub(" ", str(line)).replace("&", "&amp;") for line in lines)
    return "\n".join(clean)


def _q(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, newlines as `\\n` (a label
    line break), other control characters as spaces."""
    s = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + _CONTROL.sub(" ", s) + '"'


def _attrs(**attrs: str) -> str:
    return "[" + ", ".join(f"{key}={_q(value)}" for key, value in attrs.items()) + "]"
