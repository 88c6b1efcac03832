"""The end of the walk: the model's outputs, `override:` entries nothing used, and `freeze:`."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import did_you_mean
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
