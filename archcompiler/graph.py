"""The one IR: a DAG of primitive nodes with their shapes, weights and costs, in graph order.

Everything after the compile walk (summary, the Keras backend, pictures) reads only this.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .errors import Location
from .ops.base import Op, Shape


@dataclass(slots=True)
class Node:
    """One primitive op placed in the graph. Input nodes have op 'input' and no args."""

    name: str
    op: str
    args: Op | None  # the validated op arguments
    inputs: tuple[str, ...]
    shape: Shape
    weights: int  # learned weights (kernels, biases, BN gamma/beta)
    fixed_weights: int  # weights no optimizer touches (BN moving mean/variance)
    macs: int
    block: tuple[str, ...] = ()  # enclosing block instances, outermost first
    section: str = "backbone"  # 'input', 'backbone' or 'head'
    trainable: bool = True  # False when frozen (`freeze:`)
    source: Location | None = None
    # where the node's values come from (`archc summary --columns origin`): the built-in block
    # kind that placed it (None: written in the spec or in a user block's body), its role there
    # ('shortcut': a projection placed only where shapes change) and the written arguments
    # whose value is a `$` expression; `args.model_fields_set` tells written from defaults
    placed_by: str | None = None
    role: str | None = None
    computed: tuple[str, ...] = ()

    @property
    def trainable_params(self) -> int:
        return self.weights if self.trainable else 0

    @property
    def non_trainable_params(self) -> int:
        return self.fixed_weights + (0 if self.trainable else self.weights)

    @property
    def params(self) -> int:
        return self.weights + self.fixed_weights


@dataclass(frozen=True, slots=True)
class BlockInstance:
    """A placed block (built-in or user-defined): its path and what kind of block it is."""

    path: tuple[str, ...]
    kind: str
    source: Location | None = None
    output: str | None = None  # the node whose shape is the block's output


def folded_into(block: tuple[str, ...], depth: int | None) -> tuple[str, ...] | None:
    """The block instance a node inside `block` folds into when blocks nested deeper than
    `depth` are shown as one (0: top-level blocks only); None when the node shows itself."""
    if depth is None or len(block) <= depth:
        return None
    return block[: depth + 1]


@dataclass
class Totals:
    """Sums over the nodes of a block instance (nested ones included)."""

    params: int = 0
    macs: int = 0
    elements: int = 0  # of every node output, batch 1


@dataclass
class Graph:
    name: str
    doc: str = ""
    nodes: dict[str, Node] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    blocks: dict[tuple[str, ...], BlockInstance] = field(default_factory=dict)
    params: dict[str, object] = field(default_factory=dict)  # the spec's params, as bound
    files: list[str] = field(default_factory=list)  # the spec and the files it extends, base first

    def __iter__(self):  # graph order
        return iter(self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def total_params(self) -> int:
        return sum(n.params for n in self.nodes.values())

    @property
    def trainable_params(self) -> int:
        return sum(n.trainable_params for n in self.nodes.values())

    @property
    def non_trainable_params(self) -> int:
        return sum(n.non_trainable_params for n in self.nodes.values())

    @property
    def macs(self) -> int:
        return sum(n.macs for n in self.nodes.values())

    def block_totals(self) -> dict[tuple[str, ...], Totals]:
        """Params, MACs and output elements of every block instance, at every level."""
        totals: dict[tuple[str, ...], Totals] = {}
        for n in self.nodes.values():
            elements = math.prod(n.shape)
            for i in range(1, len(n.block) + 1):
                t = totals.setdefault(n.block[:i], Totals())
                t.params += n.params
                t.macs += n.macs
                t.elements += elements
        return totals

    @property
    def activations(self) -> int:
        """Elements of every node output summed, batch 1 (docs/contracts.md)."""
        return sum(math.prod(n.shape) for n in self.nodes.values())
