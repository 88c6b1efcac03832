"""The one IR: a DAG of primitive nodes with their shapes, weights and costs, in graph order.

Everything after the compile walk (summary, the Keras backend, pictures) reads only this.
"""

from __future__ import annotations

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

    @property
    def activations(self) -> int:
        """Elements of every node output summed, batch 1 (DESIGN §6)."""
        total = 0
        for n in self.nodes.values():
            size = 1
            for d in n.shape:
                size *= d
            total += size
        return total
