"""Graph → Graphviz DOT: primitive nodes with name, op (kernel, strides, fused activation),
output shape and params; frozen layers greyed; blocks as clusters, folded to one node below
`depth`; skip connections dashed, and a legend that says so (`archc graph`).

`write` writes `.dot` itself and renders `.svg`/`.png` through Graphviz's `dot` program, always
to a temporary file renamed over the target, so a failed render leaves no partial file. A PNG
that Graphviz would shrink to fit its bitmap limit is refused before it is drawn.
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
from ..summary import human, op_facts

# suffix → `dot -T` format; None: the DOT text itself, no Graphviz needed
FORMATS: dict[str, str | None] = {".dot": None, ".svg": "svg", ".png": "png"}
DOT_TIMEOUT_S = 120.0  # a runaway layout (tens of thousands of nodes) must not hang the CLI
RANKDIRS = ("TB", "LR")  # top to bottom, left to right
# Graphviz's cairo renderer scales a bitmap down past 32767 pixels a side (CAIRO_XMAX), at its
# default 96 dpi and 4-point margin: such a PNG is refused instead.
PNG_MAX_PX, PNG_DPI, PAD_PT = 32767, 96, 4

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
_FROZEN = {"fillcolor": "#e4e4e4", "fontcolor": "#555555", "class": "frozen"}
_LEGEND = {
    "label": "legend", "style": "rounded", "color": "#bbbbbb", "fontname": _FONT,
    "fontsize": "10", "labeljust": "l",
}  # fmt: skip
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


def to_dot(graph: Graph, depth: int | None = None, rankdir: str = "TB") -> str:
    """Graphviz DOT for `graph`, top to bottom (`rankdir` "LR": left to right). Blocks nested
    deeper than `depth` (0: top-level blocks) are folded into one node each; None draws every
    primitive node. A legend explains the dashed skip edges and frozen layers where there are
    any. Deterministic."""
    if depth is not None and depth < 0:
        raise ValueError(f"depth must be 0 or more, got {depth}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
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
        f"  graph {_attrs(**{**_GRAPH, 'rankdir': rankdir}, label=title)};",
        f"  node {_attrs(**_NODE)};",
        f"  edge {_attrs(**_EDGE)};",
    ]
    _emit(graph, root, lines, "  ", graph.block_totals())
    for (src, dst), skip in edges.items():
        lines.append(f"  {_q(src)} -> {_q(dst)}" + (f" {_attrs(**_SKIP)}" if skip else "") + ";")
    frozen = any(_frozen(f.members) for f in folds.values()) or any(
        _frozen([n]) for n in graph if folded_into(n.block, depth) is None
    )
    lines += _legend(any(edges.values()), frozen)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _legend(skips: bool, frozen: bool) -> list[str]:
    """A small cluster saying what the dashed edges and grey boxes mean, where the picture has
    them (its ids hold ':', which no node name can)."""
    if not (skips or frozen):
        return []
    out = ['  subgraph "cluster_legend" {', f"    graph {_attrs(**_LEGEND)};"]
    small = {"fontname": _FONT, "fontsize": "9", "class": "legend"}
    if skips:
        for end in ("legend:skip_from", "legend:skip_to"):
            out.append(f"    {_q(end)} {_attrs(shape='point', width='0.06', **small)};")
        label = "skip connection: bypasses\nthe layers between its ends"
        edge = {**_SKIP, **small, "label": label}
        out.append(f'    "legend:skip_from" -> "legend:skip_to" {_attrs(**edge)};')
    if frozen:
        node = {**_FROZEN, **small, "label": "frozen: weights not trained"}
        out.append(f'    "legend:frozen" {_attrs(**node)};')
    out.append("  }")
    return out


def _frozen(nodes: list[Node]) -> str:
    """'frozen' when every weighted node is, 'partly frozen' when some are; '' otherwise
    (a layer without weights has nothing to freeze)."""
    weighted = [n for n in nodes if n.weights]
    still = sum(not n.trainable for n in weighted)
    return "" if not still else "frozen" if still == len(weighted) else "partly frozen"


def write(
    graph: Graph, path: str | os.PathLike[str], depth: int | None = None, rankdir: str = "TB"
) -> None:
    """Write `graph` to `path`: `.dot` as text; `.svg`/`.png` rendered by Graphviz's `dot`.
    The target is replaced only by a complete file; RenderError says what went wrong (about
    the output as a whole: its suffix, Graphviz, a PNG too large), SpecError when the file
    system refused."""
    target = os.fspath(path)
    suffix = os.path.splitext(target)[1].lower()
    if suffix not in FORMATS:
        allowed = ", ".join(FORMATS)
        raise RenderError(f"the file name must end in {allowed}")
    data = render(graph, FORMATS[suffix], depth, rankdir)
    write_atomically(target, data)  # SpecError if refused


def render(graph: Graph, fmt: str | None, depth: int | None = None, rankdir: str = "TB") -> bytes:
    """The DOT text (`fmt` None) or what Graphviz's `dot -T<fmt>` renders of it ("svg",
    "png"); RenderError when Graphviz is missing or fails, or when a PNG would pass
    PNG_MAX_PX a side (Graphviz would shrink it to fit, illegibly): the message gives its
    size and what to do instead."""
    text = to_dot(graph, depth, rankdir).encode("utf-8", "replace")
    if fmt is None:
        return text
    dot = shutil.which("dot")
    if dot is None:
        raise RenderError(
            f"writing .{fmt} needs Graphviz's `dot` (Debian/Ubuntu: apt-get install "
            "graphviz; macOS: brew install graphviz); .dot works without it"
        )
    if fmt == "png":
        size = png_size(dot, text)
        if max(size) > PNG_MAX_PX:
            raise RenderError(_too_large(graph, dot, depth, rankdir, size))
    return _run_dot(dot, fmt, text)


def png_size(dot: str, text: bytes) -> tuple[int, int]:
    """Width and height in pixels of the PNG `dot -Tpng` would draw of `text`, from the
    layout alone (`-Tplain`: its first line is `graph SCALE WIDTH HEIGHT`, in inches)."""
    first = _run_dot(dot, "plain", text).split(b"\n", 1)[0].split()
    try:
        inches = float(first[2]), float(first[3])
    except (IndexError, ValueError):
        raise RenderError(f"Graphviz's `dot -Tplain` gave no layout size: {first!r}") from None
    w, h = (round((x * 72 + 2 * PAD_PT) * PNG_DPI / 72) for x in inches)
    return w, h


def _too_large(
    graph: Graph, dot: str, depth: int | None, rankdir: str, size: tuple[int, int]
) -> str:
    """Why the PNG is refused and, when one of the next three does, the deepest --depth
    whose PNG fits."""
    says = (
        f"the PNG would be {size[0]:,}×{size[1]:,} pixels, more than the {PNG_MAX_PX:,} a side "
        "that Graphviz draws (it would shrink the picture to fit, illegibly); write .svg"
    )
    deepest = max((len(p) for p in graph.blocks), default=0) - 1
    start = deepest if depth is None else min(depth - 1, deepest)
    for d in range(start, max(start - 3, -1), -1):  # at most three more layouts
        w, h = png_size(dot, to_dot(graph, d, rankdir).encode("utf-8", "replace"))
        if max(w, h) <= PNG_MAX_PX:
            return f"{says}, or fold blocks: --depth {d} fits ({w:,}×{h:,} pixels)"
    return f"{says}, or fold blocks with --depth N"


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
            frozen = _frozen(item.members)
            weights = f"{params:,} params" + (f", {frozen}" if frozen else "")
            attrs = {
                "label": _label(item.path[-1], f"{kind} · {shape}", weights),
                "shape": "box3d",
                "style": "filled",
                "fillcolor": "#dbe5f4",
                "class": "block",
            }
            if frozen == "frozen":
                attrs.update(_FROZEN, **{"class": "block frozen"})
            if any(n.name in outputs for n in item.members):
                attrs.update(_OUTPUT, **{"class": "block output"})
            lines.append(f"{indent}{_q(item.id)} {_attrs(**attrs)};")
        else:
            attrs = {"label": _label(*_node_lines(item))}
            frozen = bool(_frozen([item]))
            if frozen:
                attrs.update(_FROZEN)
            if item.name in inputs:
                attrs.update(_INPUT)
            elif item.name in outputs:
                attrs.update(_OUTPUT, **({"class": "output frozen"} if frozen else {}))
            lines.append(f"{indent}{_q(item.name)} {_attrs(**attrs)};")


def _node_lines(node: Node) -> list[str]:
    """Name; `conv 3×3 /2 relu · 112×112×64`; params, and whether they are frozen."""
    lines = [node.name, f"{op_text(node)} · {_shape(node.shape)}"]
    if node.params:
        frozen = _frozen([node])
        lines.append(f"{node.params:,} params" + (f", {frozen}" if frozen else ""))
    return lines


def op_text(node: Node) -> str:
    """The op with its kernel, strides (unless 1), dilation (unless 1) and fused activation:
    `conv 3×3 /2 relu`, `max_pool 3×3 /2`, `conv 3×3 d2`; `activation (swish)`."""
    facts = op_facts(node)
    if node.op == "activation" and "activation" in facts:  # `activation` alone says little
        return f"activation ({facts['activation']})"
    words = [node.op]
    if "kernel" in facts:
        words.append("×".join(map(str, facts["kernel"])))
        if facts["strides"] != (1, 1):
            words.append("/" + _pair(facts["strides"]))
        if facts["dilation"] != (1, 1):
            words.append("d" + _pair(facts["dilation"]))
    if "activation" in facts:
        words.append(facts["activation"])
    return " ".join(words)


def _pair(values: tuple[int, ...]) -> str:
    """Strides or dilation: `2` for (2, 2), as papers write `/2`; `1×2` otherwise."""
    return str(values[0]) if len(set(values)) == 1 else "×".join(map(str, values))


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
