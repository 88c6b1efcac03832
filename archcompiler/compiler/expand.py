"""Block instances: a built-in block expands through a `Builder`, a user block by placing its
body; either way every primitive enters the graph through `Walk.place_primitive`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ..blocks import BLOCKS
from ..errors import Location, SpecError, brief
from ..graph import BlockInstance, Graph
from ..limits import Limits
from ..ops.base import Shape
from ..spec.expr import Record
from ..spec.loader import Path
from ..spec.validate import RawNode, UserBlock, param_type_ok
from .checks import check_arity
from .context import Context, Names, Scope


class Placer(Protocol):
    """What expanding a block needs of the walk (compiler/walk.py implements it)."""

    graph: Graph
    names: Names
    env: dict[str, Any]  # the spec's params and functions
    blocks: dict[str, UserBlock]
    limits: Limits

    def place_list(self, nodes: list[RawNode], scope: Scope, env: dict, ctx: Context) -> None: ...

    def automatic_name(self, op: str, ctx: Context) -> str: ...

    def place_primitive(
        self, raw: RawNode, name: str, inputs: list[str], env: dict, ctx: Context, first: bool
    ) -> str: ...

    def arguments(
        self, raw: RawNode, name: str, env: dict, ctx: Context, first_only: tuple[str, ...] = ()
    ) -> tuple[dict[str, Any], dict[str, Any], tuple | None]: ...

    def validated(
        self, raw: RawNode, model: type, name: str, env: dict, ctx: Context,
        first_only: tuple[str, ...] = (),
    ) -> Any: ...  # fmt: skip


def expand_block(
    walk: Placer, raw: RawNode, name: str, inputs: list[str], env: dict, ctx: Context, index: int
) -> str:
    """Expand instance `index` (0-based, under `repeat`) of a built-in or user block."""
    path = (*ctx.block, name)
    walk.graph.blocks[path] = BlockInstance(path, raw.op, raw.at(key=True))
    note = f"in block '{name}' ({raw.op}) used at {raw.at(key=True)}"
    inner = replace(ctx, prefix=name + "_", block=path, notes=(note, *ctx.notes), group=None)
    if raw.op in BLOCKS:
        out = _expand_builtin(walk, raw, name, inputs, env, ctx, inner, index)
    else:
        out = _expand_user(walk, raw, name, inputs, env, ctx, inner, index == 0)
    walk.graph.blocks[path] = replace(walk.graph.blocks[path], output=out)
    return out


def _expand_builtin(
    walk: Placer, raw: RawNode, name: str, inputs: list[str], env: dict, ctx: Context,
    inner: Context, index: int,
) -> str:  # fmt: skip
    cls = BLOCKS[raw.op]
    block = walk.validated(raw, cls, name, env, ctx, cls.first_only if index else ())
    check_arity(f"block '{name}' ({raw.op})", cls.arity, len(inputs), raw.at(key=True), ctx.notes)
    return block.expand(BlockBuilder(walk, raw, inner, index), inputs, name)


def _expand_user(
    walk: Placer, raw: RawNode, name: str, inputs: list[str], env: dict, ctx: Context,
    inner: Context, first: bool,
) -> str:  # fmt: skip
    block = walk.blocks[raw.op]
    if raw.op in ctx.stack:
        chain = " → ".join((*ctx.stack, raw.op))
        raise SpecError.at(raw.at(key=True), f"block '{raw.op}' uses itself: {chain}")
    if len(ctx.stack) >= walk.limits.max_block_depth:
        raise SpecError.at(
            raw.at(key=True), f"blocks nest deeper than {walk.limits.max_block_depth} levels"
        )
    d = block.definition
    arity = (len(d.inputs), len(d.inputs))
    check_arity(f"block '{name}' ({raw.op})", arity, len(inputs), raw.at(key=True), ctx.notes)
    written, extra, _ = walk.arguments(raw, name, env, ctx, () if first else ("strides",))
    args = {**written, **extra}
    bound = dict(walk.env)
    for pname, decl in d.params.items():
        if pname in args:
            bound[pname] = _typed(raw, pname, args[pname], decl.type, ctx.notes)
        elif not decl.required:
            bound[pname] = decl.default
        elif first or pname != "strides":
            raise SpecError.at(raw.at(key=True), f"block '{raw.op}' needs parameter '{pname}'")
        else:
            bound[pname] = 1
    for pname in args:
        if pname not in d.params:
            raise SpecError.at(raw.at(pname, key=True), f"block '{raw.op}' has no '{pname}'")
    for iname, node in zip(d.inputs, inputs, strict=True):  # the body reads its inputs' shapes
        bound[iname] = shape_record(iname, walk.graph.nodes[node].shape)
    scope = Scope(dict(zip(d.inputs, inputs, strict=True)), inputs[0], local=True)
    walk.place_list(block.body, scope, bound, replace(inner, stack=(*ctx.stack, raw.op)))
    if d.output is None:
        return scope.prev  # type: ignore[return-value]
    if d.output in scope.names:
        return scope.names[d.output]
    raise block.doc.error((*block.path, "output"), f"no node named '{d.output}' in the body")


def shape_record(name: str, shape: Shape) -> Record:
    """What `$name.…` reads of a block's input: `shape` (a list), `rank`, `channels` (the last
    axis) and, for H×W×C inputs, `height` and `width`."""
    fields: dict[str, Any] = {"shape": list(shape), "rank": len(shape), "channels": shape[-1]}
    if len(shape) == 3:
        fields.update(height=shape[0], width=shape[1])
    return Record(f"the shape of {name}", **fields)


def _typed(raw: RawNode, pname: str, value: Any, kind: str, notes: tuple[str, ...]) -> Any:
    if not param_type_ok(value, kind):
        raise SpecError.at(raw.at(pname), f"'{pname}' must be {kind}, got {brief(value)}", *notes)
    return float(value) if kind == "float" else value


@dataclass
class BlockBuilder:
    """The walk's side of the `Builder` contract (blocks/base.py), for one block instance."""

    walk: Placer
    raw: RawNode  # the block's node in the YAML: where its primitives' errors point
    ctx: Context  # the instance's
    index: int = 0
    placed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # looked up once per instance, not once per primitive placed
        self._where = self.raw.at(key=True)
        self._shortcut = BLOCKS[self.raw.op].shortcut

    def add(self, op: str, inputs: str | list[str], name: str | None = None, **args: Any) -> str:
        if name and name.startswith("/"):
            full = name[1:]
        elif name:
            full = self.ctx.prefix + name
        else:
            full = self.walk.automatic_name(op, self.ctx)
        node = _BlockOp(op, args, self.raw, self._where)
        ins = [inputs] if isinstance(inputs, str) else list(inputs)
        out = self.walk.place_primitive(node, full, ins, self.walk.env, self.ctx, first=True)
        placed = self.walk.graph.nodes[out]
        placed.placed_by = self.raw.op  # (its `computed` is empty: the block's values, not written)
        if name in self._shortcut:
            placed.role = "shortcut"
        self.placed.append(out)
        return out

    def shape(self, name: str) -> Shape:
        return self.walk.graph.nodes[name].shape


class _BlockOp(RawNode):
    """A primitive placed by a built-in block: located at the block's node in the YAML."""

    written = False

    def __init__(self, op: str, args: dict[str, Any], parent: RawNode, where: Location) -> None:
        # only what differs from RawNode's defaults is set (no name, `from`, `repeat`, `when`):
        # one of these is made for every primitive a block places
        self.op, self.args, self.doc, self.path = op, args, parent.doc, parent.path
        self._parent, self._where = parent, where

    def arg_path(self, *sub: Any) -> Path:
        return self._parent.arg_path()

    def at(self, *sub: Any, key: bool = False) -> Location:
        return self._where  # the block's node, `parent.at(key=True)`
