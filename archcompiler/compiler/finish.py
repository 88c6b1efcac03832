"""The end of the walk: the model's outputs, `override:` entries nothing used, `freeze:` and
`budget:`."""

from __future__ import annotations

import math
from collections.abc import Callable

from ..errors import SpecError, did_you_mean
from ..graph import Graph, Node
from ..spec.validate import CheckedFile
from .bindings import Overrides
from .context import Names, Scope


def set_outputs(graph: Graph, chain: list[CheckedFile], scope: Scope, names: Names) -> None:
    """`outputs:` of the nearest file that gives them (nodes a false `when` left out are
    skipped), else the last node placed."""
    owner = next((f for f in reversed(chain) if f.spec.outputs is not None), None)
    for i, ref in enumerate(owner.spec.outputs or [] if owner else []):
        if ref in names.skipped:
            continue
        if ref in scope.names:
            graph.outputs.append(scope.names[ref])
        elif ref in graph.nodes:
            graph.outputs.append(ref)
        else:
            hint = did_you_mean(ref, list(graph.nodes))
            raise owner.doc.error(("outputs", i), f"no node named '{ref}'{hint}")  # type: ignore[union-attr]
    if not graph.outputs:
        graph.outputs = [scope.prev]  # type: ignore[list-item]


def check_overrides_used(graph: Graph, overrides: Overrides) -> None:
    """An `override:` entry that matched no node or block is a mistake (a typo, a renamed node)."""
    for name, f in overrides.unused():
        hint = did_you_mean(name, list(graph.nodes))
        raise f.doc.error(
            ("override", name), f"`override` names no node or block '{name}'{hint}", key=True
        )


def apply_freeze(graph: Graph, chain: list[CheckedFile]) -> None:
    """`freeze:` of the nearest file that gives it: `backbone`, `all`, or node/block names."""
    owner = next((f for f in reversed(chain) if f.spec.freeze is not None), None)
    if owner is None:
        return
    freeze = owner.spec.freeze
    targets: Callable[[Node], bool]
    if freeze == "all":
        targets = lambda n: True  # noqa: E731
    elif freeze == "backbone":
        targets = lambda n: n.section == "backbone"  # noqa: E731
    else:
        names = set(freeze)  # type: ignore[arg-type]
        found = {n for node in graph for n in (node.name, *node.block) if n in names}
        for i, ref in enumerate(freeze):  # type: ignore[arg-type]
            if ref not in found:
                hint = did_you_mean(ref, list(graph.nodes))
                raise owner.doc.error(("freeze", i), f"no node or block '{ref}'{hint}")
        targets = lambda n: n.name in names or any(b in names for b in n.block)  # noqa: E731
    for node in graph:
        if node.op != "input" and targets(node):
            node.trainable = False


FLOAT32 = 4  # bytes per value: what `activations` and `weights` budgets count
BUDGET_WORDS = {"params": "params", "macs": "MACs", "activations": "of activations (float32)",
                "weights": "of weights (float32)"}  # fmt: skip


def _measure(graph: Graph, key: str, nodes: list[Node] | None = None) -> int:
    ns = list(graph) if nodes is None else nodes
    if key == "params":
        return sum(n.params for n in ns)
    if key == "macs":
        return sum(n.macs for n in ns)
    if key == "weights":
        return FLOAT32 * sum(n.params for n in ns)
    return FLOAT32 * sum(math.prod(n.shape) for n in ns)


def _figure(key: str, value: int) -> str:
    """25,636,712 for counts; 141.6 MB (binary, as the summary prints bytes) for memory."""
    if key in ("params", "macs"):
        return f"{value:,}"
    for prefix, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if value >= scale:
            return f"{value / scale:.1f} {prefix}"
    return f"{value} B"


def check_budget(graph: Graph, chain: list[CheckedFile]) -> None:
    """Every `budget:` entry (a child's replace its base's, entry by entry) holds; one that
    does not is an error at its line, naming the figure and the three biggest top-level
    blocks (or nodes outside blocks)."""
    entries: dict[str, tuple[int, CheckedFile]] = {}
    for f in chain:
        if f.spec.budget is not None:
            for key, bound in f.spec.budget.model_dump(exclude_none=True).items():
                entries[key] = (bound, f)
    for key, (bound, f) in entries.items():
        measured = _measure(graph, key)
        if measured <= bound:
            continue
        parts: dict[str, list[Node]] = {}
        for n in graph:
            parts.setdefault(n.block[0] if n.block else n.name, []).append(n)
        sized = sorted(((_measure(graph, key, ns), name) for name, ns in parts.items()),
                       reverse=True)[:3]  # fmt: skip
        biggest = ", ".join(f"{name} {_figure(key, v)}" for v, name in sized if v)
        word = BUDGET_WORDS[key]
        raise SpecError.at(
            f.doc.location(("budget", key)),
            f"over budget: {_figure(key, measured)} {word}, the budget is "
            f"{_figure(key, bound)} (the biggest: {biggest})",
        )
