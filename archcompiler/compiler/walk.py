"""The walk: places every node of a checked chain, in order, as primitive ops with their shapes.

Each node's values are bound (bindings.py), its inputs resolved by `from`, `repeat` expanded
into instances, blocks expanded (expand.py) and each primitive asked for its output shape,
weights and MACs as it is placed; bounds are checked on the way. The context of a node (the
block instance around it) is passed down as a parameter.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from ..errors import SpecError, brief, did_you_mean
from ..grammar import valid_name
from ..graph import BlockInstance, Graph, Node
from ..limits import MAX_DIM, Limits
from ..ops import OPS, ShapeError
from ..ops.base import Tensor
from ..spec import expr, memo
from ..spec.diagnostics import pydantic_diagnostics
from ..spec.model import InputDef
from ..spec.validate import CheckedFile, RawNode, expressions_in
from . import expand, finish
from .bindings import Overrides, bind_params, evaluate
from .chain import nearest
from .checks import check_arity, check_bounds, check_growth, too_much_work
from .context import Context, Later, Names, Scope
from .repeat import instances_of, repeat_of


class Walk:
    """One compilation: the chain, its bound params and overrides, and the Graph being built."""

    def __init__(
        self, chain: list[CheckedFile], sets: dict[str, str], head: bool, limits: Limits
    ) -> None:
        self.chain = chain
        self.top = chain[-1]
        self.limits = limits
        self.use_head = head
        self.graph = Graph(self.top.spec.name, self.top.spec.doc)
        self.blocks = self.top.blocks
        self.functions = self.top.functions
        self.params = bind_params(chain, sets, self.functions)
        self.graph.params = dict(self.params)
        self.env = {**self.functions, **self.params}  # what top-level expressions see
        self.arities = {name: len(f.params) for name, f in self.functions.items()}
        self.graph.files = [f.doc.path for f in chain]
        self.overrides = Overrides(chain)
        self.names = Names(self.graph.nodes)
        naming = next((f.spec.naming for f in reversed(chain) if f.spec.naming), "ops")
        self.keras_naming = naming == "keras"
        self.params_so_far = 0
        self.visits = 0  # nodes and instances walked, placed or not (check_visits)

    def run(self) -> Graph:
        inputs_file = nearest(self.chain, "input") or nearest(self.chain, "inputs")
        backbone, head = nearest(self.chain, "backbone"), nearest(self.chain, "head")
        if inputs_file is None or backbone is None:
            raise SpecError.at(self.top.doc.location(()), "no `input`/`backbone` in this chain")
        root = Context()
        scope = Scope({}, None, local=False)
        spec = inputs_file.spec
        for i, d in enumerate([spec.input] if spec.input else spec.inputs or []):
            path = ("input",) if spec.input else ("inputs", i)
            self._add_input(d, inputs_file, path, scope)
        if len(self.graph.inputs) == 1:
            scope.names.setdefault("input", self.graph.inputs[0])
        self.place_list(backbone.backbone or [], scope, self.env, root)
        head_nodes = head.head if head else None
        if self.use_head and head_nodes:
            self.place_list(head_nodes, scope, self.env, replace(root, section="head"))
        elif head_nodes:  # `outputs:` naming head nodes drop out with the head
            self.names.skipped |= {n.literal_name for n in head_nodes if n.literal_name}
        finish.set_outputs(self.graph, self.chain, scope, self.names)
        finish.check_overrides_used(self.graph, self.overrides)
        finish.apply_freeze(self.graph, self.chain)
        finish.check_budget(self.graph, self.chain)
        return self.graph

    def _add_input(self, d: InputDef, f: CheckedFile, path: tuple, scope: Scope) -> None:
        shape = evaluate(list(d.shape), self.env, f.doc, (*path, "shape"))
        for j, dim in enumerate(shape):
            if isinstance(dim, bool) or not isinstance(dim, int) or not 1 <= dim <= MAX_DIM:
                raise f.doc.error(
                    (*path, "shape", j), f"input size must be 1…{MAX_DIM}, got {brief(dim)}"
                )
        source = f.doc.location(path)
        self.names.claim(d.name, source, ())
        node = Node(name=d.name, op="input", args=None, inputs=(), shape=tuple(shape),
                    weights=0, fixed_weights=0, macs=0, section="input", source=source)  # fmt: skip
        self._add(node)
        self.graph.inputs.append(d.name)
        scope.names[d.name] = d.name
        scope.prev = d.name

    # ---- node lists and nodes ----------------------------------------------------------------
    def place_list(self, nodes: list[RawNode], scope: Scope, env: dict, ctx: Context) -> None:
        # where each literal name is defined, to tell "defined further down" from "unknown"
        defined_at = {name: i for i, n in enumerate(nodes) if (name := n.literal_name)}
        for i, raw in enumerate(nodes):
            self._place(raw, scope, env, ctx, Later(nodes, defined_at, i))

    def _place(self, raw: RawNode, scope: Scope, env: dict, ctx: Context, later: Later) -> None:
        notes = ctx.notes
        self.visits += 1
        if self.visits > self.limits.max_visits:  # the location only when it is needed
            raise too_much_work(self.limits, raw.at(key=True), notes)
        # most nodes write neither `when` nor a `$name`: no path is built for them
        when = raw.when
        if when is not None:
            when = evaluate(when, env, raw.doc, raw.arg_path("when"), notes)
        if not isinstance(when, (bool, type(None))):
            raise SpecError.at(raw.at("when"), f"`when` must be true or false, got {brief(when)}")
        name = raw.name
        if name is not None:
            name = evaluate(name, env, raw.doc, raw.arg_path("name"), notes)
        if name is not None and not valid_name(name):
            raise SpecError.at(raw.at("name"), f"name {name!r} is not a valid name", *notes)
        absolute = isinstance(name, str) and name.startswith("/")
        local = name[1:] if absolute else name  # how the node list refers to it
        if when is False:  # left out: its name stands for `else`, or is an error to refer to
            self._leave_out(raw, local, scope, later, ctx)
            return
        repeat = repeat_of(raw, env, notes)
        inputs = self._resolve_from(raw, scope, later, env, notes)
        if local:
            base = local if absolute else ctx.prefix + local
        else:
            base = self.automatic_name(raw.op, ctx)
        is_op = raw.op in OPS
        if repeat is not None or not is_op:  # a group or block instance: its name is taken too
            self.names.claim(base, raw.at("name") if raw.name is not None else raw.at(key=True),
                             notes)  # fmt: skip
            self.names.instances[base] = raw.at(key=True)
        if repeat is not None:
            group = (*ctx.block, base)
            kind = f"{raw.op} ×{repeat.times}"
            self.graph.blocks[group] = BlockInstance(group, kind, raw.at(key=True))
        instances = instances_of(raw, base, local, repeat, env, ctx)
        count = repeat.times if repeat else 1
        out = inputs[0] if inputs else None
        start = len(self.graph)
        width = repeat.inputs if repeat else 1
        if len(inputs) < width:
            raise SpecError.at(raw.at("repeat"), f"`inputs: {width}` needs `from` with at least "
                               f"{width} nodes, for the first instance", *notes)  # fmt: skip
        trail = list(inputs)  # the outputs so far, newest first, after the node's `from`
        for i, (instance, key, instance_env, instance_ctx) in enumerate(instances):
            self.visits += i > 0  # the first instance is the visit counted above
            if self.visits > self.limits.max_visits:
                raise too_much_work(self.limits, raw.at("repeat"), notes)
            if is_op:
                out = self.place_primitive(raw, instance, inputs, instance_env, instance_ctx,
                                           first=i == 0)  # fmt: skip
            else:
                out = expand.expand_block(self, raw, instance, inputs, instance_env,
                                          instance_ctx, i)  # fmt: skip
            trail.insert(0, out)
            inputs = trail[:width]
            if i == 0 and count > 1:
                check_growth(self.limits, len(self.graph) - start, len(self.graph),
                             count, raw.at("repeat"), notes)  # fmt: skip
            if key:
                scope.names[key] = out
        if repeat is not None:
            group_path = (*ctx.block, base)
            self.graph.blocks[group_path] = replace(self.graph.blocks[group_path], output=out)
        if local:
            scope.names[local] = out
            scope.written.add(local)
        else:
            scope.names[base.removeprefix(ctx.prefix)] = out
            if scope.local and raw.op not in scope.written:
                scope.names[raw.op] = out  # a body's `from: max_pool`: its last unnamed max_pool
        scope.prev = out

    def automatic_name(self, op: str, ctx: Context) -> str:
        """The name of an unnamed node: after its op, prefixed inside a block instance — or, with
        `naming: keras`, after its Keras layer class with model-wide counters, unprefixed
        (`conv2d`, `conv2d_1`, …), as Keras names the layers a model leaves unnamed."""
        if self.keras_naming and op in OPS:
            return self.names.automatic_name(OPS[op].keras_name)
        return self.names.automatic_name(ctx.prefix + op)

    def _leave_out(
        self, raw: RawNode, local: str | None, scope: Scope, later: Later, ctx: Context
    ) -> None:
        if raw.otherwise is not None and local:
            scope.names[local] = self._lookup(
                raw.otherwise, raw, ("else",), scope, later, ctx.notes
            )
        elif isinstance(local, str):
            self.names.skipped.add(ctx.prefix + local)

    def _resolve_from(
        self, raw: RawNode, scope: Scope, later: Later, env: dict, notes: tuple[str, ...]
    ) -> list[str]:
        if raw.source is None:
            if scope.prev is None:
                raise SpecError.at(raw.at(key=True), "this node has no input; say `from: NAME`")
            return [scope.prev]
        refs = raw.source if isinstance(raw.source, list) else [raw.source]
        found = []
        for j, ref in enumerate(refs):
            path = ("from", j) if isinstance(raw.source, list) else ("from",)
            if expr.is_expr(ref):  # `from: "$'a' + str(n - 1)"`: a name worked out
                ref = evaluate(ref, env, raw.doc, raw.arg_path(*path), notes)
                if not isinstance(ref, str) or not valid_name(ref):
                    raise SpecError.at(raw.at(*path), f"`from` names a node; this expression "
                                       f"gives {brief(ref)}", *notes)  # fmt: skip
            found.append(self._lookup(ref, raw, path, scope, later, notes))
        return found

    def _lookup(
        self, ref: str, raw: RawNode, path: tuple, scope: Scope, later: Later,
        notes: tuple[str, ...],
    ) -> str:  # fmt: skip
        """The node `ref` names, written at `path` of `raw` (a `from` item, `else`)."""
        if ref in scope.names:
            return scope.names[ref]
        if not scope.local and ref in self.graph.nodes:
            return ref
        if ref in self.names.skipped:
            raise SpecError.at(
                raw.at(*path), f"'{ref}' is left out here (its `when` is false)", *notes
            )
        if ref in later:
            line = later[ref].at(key=True).line
            raise SpecError.at(
                raw.at(*path),
                f"'{ref}' is defined further down (line {line}); a node takes inputs only "
                "from nodes above it",
                *notes,
            )
        choices = list(scope.names) + ([] if scope.local else list(self.graph.nodes))
        where = "in this block" if scope.local else "above"
        raise SpecError.at(
            raw.at(*path), f"no node named '{ref}' {where}{did_you_mean(ref, choices)}", *notes
        )

    # ---- arguments ----------------------------------------------------------------------------
    def arguments(
        self, raw: RawNode, name: str, env: dict, ctx: Context, first_only: tuple[str, ...] = ()
    ) -> tuple[dict[str, Any], dict[str, Any], tuple | None]:
        """The node's arguments substituted (`first_only` ones dropped: they belong to the first
        instance) and, apart, those `override` replaces for this instance or its repeat group,
        with where the override is written."""
        # a built-in block's primitives carry its values, already worked out: no `$` in them
        args = (
            evaluate(raw.args, env, raw.doc, raw.arg_path(), ctx.notes) if raw.written else raw.args
        )
        # `strides: $2 if repeat.index == 0 else 1` says itself which instances get it
        dropped = {k for k in first_only if not _reads_repeat(raw.args.get(k), self.arities)}
        if dropped:
            args = {k: v for k, v in args.items() if k not in dropped}
        extra, origin = self.overrides.for_node((ctx.group, name), self.env)
        return args, extra, origin

    def validated(
        self, raw: RawNode, model: type, name: str, env: dict, ctx: Context,
        first_only: tuple[str, ...] = (),
    ) -> Any:  # fmt: skip
        """The arguments validated by the op's or block's model; errors point at the node or
        at the override that gave the value."""
        args, extra, origin = self.arguments(raw, name, env, ctx, first_only)
        try:
            return memo.validate(model, {**args, **extra} if extra else args)
        except ValidationError as e:
            mine = [err for err in e.errors() if _arg_of(err) not in extra]
            diags = pydantic_diagnostics(raw.doc, raw.arg_path(), mine, args, model)
            if origin:
                theirs = [err for err in e.errors() if _arg_of(err) in extra]
                diags += pydantic_diagnostics(*origin, theirs, extra, model)
            raise SpecError([replace(d, notes=ctx.notes) for d in diags]) from None

    # ---- primitives ---------------------------------------------------------------------------
    def place_primitive(
        self, raw: RawNode, name: str, inputs: list[str], env: dict, ctx: Context, first: bool
    ) -> str:
        """Place primitive op `raw.op` as node `name`: validate its arguments, infer its shape and
        costs, check the bounds. The one way a node enters the graph (blocks too)."""
        cls = OPS[raw.op]
        op = self._as_placed(raw, cls) if first and not raw.written else None
        if op is None:
            op = self.validated(raw, cls, name, env, ctx, () if first else ("strides",))
        where = raw.at(key=True)  # looked up once: this runs for every node placed
        check_arity(f"{raw.op} '{name}'", cls.arity, len(inputs), where, ctx.notes)
        nodes = self.graph.nodes
        shapes = tuple([nodes[n].shape for n in inputs])
        result = memo.inferred(op, shapes)
        if result is None:
            try:
                result = op.infer([Tensor.of(s, n) for s, n in zip(shapes, inputs, strict=True)])
            except ShapeError as e:
                raise SpecError.at(where, f"{raw.op} '{name}' {e}", *ctx.notes) from None
            memo.remember_inferred(op, shapes, result)
        node = Node(
            name=name, op=raw.op, args=op, inputs=tuple(inputs), shape=tuple(result.shape),
            weights=result.trainable, fixed_weights=result.non_trainable, macs=result.macs,
            block=ctx.block, section=ctx.section, source=where,
            computed=_computed(raw.args, op.model_fields_set) if raw.written else (),
        )  # fmt: skip
        check_bounds(self.limits, node, self.params_so_far, len(self.graph), where, ctx.notes)
        self.names.claim(name, raw.at("name") if raw.name is not None else where, ctx.notes)
        self._add(node)
        return name

    def _as_placed(self, raw: RawNode, cls: type) -> Any:
        """A built-in block's primitive validated as the block gave it: its values are worked
        out (no `$` in them) and, when no file has `override:`, nothing replaces any. None where
        that does not hold or validation fails: `validated` then says where and why."""
        if self.overrides.written:
            return None
        try:
            return memo.validate(cls, raw.args)
        except ValidationError:
            return None

    def _add(self, node: Node) -> None:
        self.graph.nodes[node.name] = node
        self.params_so_far += node.params


def _reads_repeat(value: Any, functions: dict[str, int]) -> bool:
    """Does a written value use `repeat` (the instance of a repeated node)?"""
    return any("repeat" in expr.names(text[1:], functions) for _, text in expressions_in(value))


def _computed(written: dict[str, Any], given: set[str]) -> tuple[str, ...]:
    """The arguments given whose written value is (or holds) a `$` expression."""
    return tuple(k for k, v in written.items() if k in given and next(expressions_in(v), None))


def _arg_of(error: Any) -> Any:
    """The top-level argument a pydantic error is about."""
    loc = error.get("loc") or ()
    return loc[0] if loc else None
