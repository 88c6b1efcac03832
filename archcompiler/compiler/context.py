"""Where the walk stands while it places a node: the enclosing block instance, the names a
node list can refer to, and the names taken so far."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import Location, SpecError
from ..graph import Node
from ..spec.validate import RawNode


@dataclass(frozen=True)
class Context:
    """The block instance (if any) a node is placed in; passed down, never stored."""

    prefix: str = ""  # prepended to names inside a block instance
    block: tuple[str, ...] = ()  # the enclosing block instances, outermost first
    section: str = "backbone"
    stack: tuple[str, ...] = ()  # user blocks being expanded (recursion check)
    group: str | None = None  # the name of a repeated node, for its instances (override by it)
    notes: tuple[str, ...] = ()  # "in block 'x' used at …", added to errors inside blocks


@dataclass
class Scope:
    """Names a node list can refer to with `from`; local inside a block body."""

    names: dict[str, str]
    prev: str | None
    local: bool
    written: set[str] = field(default_factory=set)  # names the list gives its nodes itself


@dataclass(frozen=True)
class Later:
    """The nodes below position `i` of a list, by name (for "defined further down")."""

    nodes: list[RawNode]
    defined_at: dict[str, int]
    i: int

    def __contains__(self, name: object) -> bool:
        return self.defined_at.get(name, -1) > self.i  # type: ignore[arg-type]

    def __getitem__(self, name: str) -> RawNode:
        return self.nodes[self.defined_at[name]]


class Names:
    """Every name the graph has given out: nodes, block instances and repeat groups, the names
    chosen for unnamed nodes, and the nodes a false `when` left out."""

    def __init__(self, nodes: dict[str, Node]) -> None:
        self.nodes = nodes  # the graph's, by name
        self.instances: dict[str, Location] = {}  # names of block instances and repeat groups
        self.automatic: set[str] = set()
        self.skipped: set[str] = set()
        self._next_suffix: dict[str, int] = {}

    def taken(self, name: str) -> bool:
        return name in self.nodes or name in self.instances or name in self.automatic

    def automatic_name(self, base: str) -> str:
        """`relu`, then `relu_1`, `relu_2`, … for unnamed nodes of op `relu`."""
        k = self._next_suffix.get(base, 0)
        name = base if k == 0 else f"{base}_{k}"
        while self.taken(name):
            k += 1
            name = f"{base}_{k}"
        self._next_suffix[base] = k + 1  # the next search starts here, not at 0
        self.automatic.add(name)
        return name

    def claim(self, name: str, where: Location, notes: tuple[str, ...]) -> None:
        """Refuse `name` when a node, block instance or repeat group already has it."""
        if name in self.nodes or name in self.instances:
            node = self.nodes.get(name)
            first = node.source if node else self.instances[name]
            at = f" (first at line {first.line})" if first else ""
            auto = " by an unnamed node" if name in self.automatic else ""
            raise SpecError.at(where, f"name '{name}' is already used{auto}{at}", *notes)
