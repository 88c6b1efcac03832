"""Expand + infer: the one walk from a validated spec to the Graph (DESIGN §2, step 3).

It resolves `extends`, binds params (and `--set`), substitutes `$expressions`, expands `repeat`,
user blocks and built-in blocks into primitive ops, and asks each op for its output shape, weights
and MACs as it is placed — blocks may depend on the shapes they receive, so expansion and
inference are one pass. Every failure is a located SpecError. No TensorFlow here.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from .blocks import BLOCKS
from .graph import BlockInstance, Graph, Node
from .ops import OPS, ShapeError
from .ops.base import Tensor, fmt
from .spec import expr
from .spec.errors import Diagnostic, Location, SpecError, did_you_mean
from .spec.loader import Doc, Path, load_file
from .spec.model import NODE_NAME_PATTERN, InputDef
from .spec.validate import (
    MAX_REPEAT,
    CheckedFile,
    RawNode,
    UserBlock,
    check_file,
    expr_location,
    param_type_ok,
    pydantic_diagnostics,
    valid_repeat,
)  # fmt: skip

MAX_EXTENDS_DEPTH = 8


@dataclass(frozen=True)
class Limits:
    """Bounds that stop absurd specs before anything is allocated."""

    max_params: int = 10**9
    max_nodes: int = 20_000
    max_block_depth: int = 32
    max_elements: int = 1 << 31  # one tensor, batch 1


def compile_file(
    path: str | os.PathLike[str],
    overrides: Mapping[str, str] | None = None,
    *,
    head: bool = True,
    limits: Limits = Limits(),
) -> Graph:
    """Load, validate, expand and infer a spec file into a Graph; raises SpecError."""
    chain = _load_chain(os.fspath(path))
    return _Walk(chain, dict(overrides or {}), head, limits).run()


def _load_chain(path: str) -> list[CheckedFile]:
    """The file and the files it `extends`, base first."""
    chain: list[CheckedFile] = []
    seen: list[str] = []
    docs: list[Doc] = []
    while True:
        doc = load_file(path)
        docs.append(doc)
        seen.append(os.path.realpath(path))
        data = doc.data if isinstance(doc.data, dict) else {}
        parent = data.get("extends")
        if not isinstance(parent, str):
            break
        target = os.path.join(os.path.dirname(path), parent)
        where = doc.location(("extends",))
        if os.path.realpath(target) in seen:
            raise SpecError.at(where, f"'{parent}' is already in this chain of `extends` (a cycle)")
        if len(seen) > MAX_EXTENDS_DEPTH:
            raise SpecError.at(where, f"`extends` is nested deeper than {MAX_EXTENDS_DEPTH} files")
        if not os.path.isfile(target):
            raise SpecError.at(where, f"cannot find '{parent}' (looked at {target})")
        path = target
    blocks: dict[str, UserBlock] = {}
    for doc in reversed(docs):  # base first, so children see (and may replace) its blocks
        checked = check_file(doc, blocks)
        blocks = checked.blocks
        chain.append(checked)
    return chain


@dataclass
class _Scope:
    """Names a node list can refer to with `from`; local inside a block body."""

    names: dict[str, str]
    prev: str | None
    local: bool


@dataclass(frozen=True)
class _Later:
    """The nodes below position `i` of a list, by name (for "defined further down")."""

    nodes: list[RawNode]
    defined_at: dict[str, int]
    i: int

    def __contains__(self, name: object) -> bool:
        return self.defined_at.get(name, -1) > self.i  # type: ignore[arg-type]

    def __getitem__(self, name: str) -> RawNode:
        return self.nodes[self.defined_at[name]]


@dataclass(frozen=True)
class _Context:
    prefix: str = ""  # prepended to names inside a block instance
    block: tuple[str, ...] = ()
    section: str = "backbone"
    stack: tuple[str, ...] = ()  # user blocks being expanded (recursion check)
    group: str | None = None  # the name of a repeated node, for instances (override by it)
    notes: tuple[str, ...] = ()  # "in block 'x' used at …", added to errors inside blocks


class _Walk:
    def __init__(
        self, chain: list[CheckedFile], overrides: dict[str, str], head: bool, limits: Limits
    ) -> None:
        self.chain = chain
        self.top = chain[-1]
        self.limits = limits
        self.use_head = head
        self.graph = Graph(self.top.spec.name, self.top.spec.doc)
        self.blocks = self.top.blocks
        self.ctx = _Context()
        self.params_so_far = 0
        self.params = self._bind_params(overrides)
        self.graph.params = dict(self.params)
        self.graph.files = [f.doc.path for f in chain]
        self.overrides = self._merge_overrides()
        self.used_overrides: set[str] = set()
        self.auto_named: set[str] = set()
        self.next_suffix: dict[str, int] = {}
        self.instances: dict[str, Location] = {}  # names of block instances and repeat groups
        self.skipped: set[str] = set()  # names of nodes left out by `when: false`

    # ---- params -------------------------------------------------------------------------
    def _bind_params(self, overrides: dict[str, str]) -> dict[str, Any]:
        raw: dict[str, tuple[Any, CheckedFile]] = {}
        for f in self.chain:
            for k, v in f.spec.params.items():
                raw[k] = (v, f)
        env: dict[str, Any] = {}
        for key in overrides:
            if key not in raw:
                where = self._params_location()
                hint = did_you_mean(key, raw)
                raise SpecError.at(where, f"--set {key}=…: the spec has no param '{key}'{hint}")
        for k, (v, f) in raw.items():
            later = expr.is_expr(v) and sorted(expr.names(v[1:]) & (raw.keys() - env.keys()))
            if later:
                raise f.doc.error(
                    ("params", k), f"param '{k}' uses '{later[0]}', which is given below it; "
                    "params may use only the params above them",
                )  # fmt: skip
            value = self.evaluate(v, env, f.doc, ("params", k))
            if k in overrides:
                value = self._coerce_set(k, overrides[k], value, f.doc)
            env[k] = value
        return env

    def _params_location(self) -> Location:
        for f in reversed(self.chain):
            if "params" in f.doc.data:
                return f.doc.location(("params",), key=True)
        return self.top.doc.location(())

    @staticmethod
    def _coerce_set(key: str, text: str, default: Any, doc: Doc) -> Any:
        """`--set k=v` takes the type of the param's default."""
        where = doc.location(("params", key))
        try:
            if isinstance(default, bool):
                if text.lower() in ("true", "1", "yes"):
                    return True
                if text.lower() in ("false", "0", "no"):
                    return False
                raise ValueError
            if isinstance(default, int):
                return int(text)
            if isinstance(default, float):
                value = float(text)
                if not math.isfinite(value):
                    raise ValueError
                return value
        except ValueError:
            kind = type(default).__name__
            raise SpecError.at(
                where, f"--set {key}={text}: '{key}' is {kind} (its default is {default!r})"
            ) from None
        return text

    def _merge_overrides(self) -> dict[str, tuple[dict[str, Any], CheckedFile]]:
        merged: dict[str, tuple[dict[str, Any], CheckedFile]] = {}
        for f in self.chain:
            for name, args in f.spec.override.items():
                merged[name] = ({**merged.get(name, ({}, f))[0], **args}, f)
        return merged

    # ---- expressions ----------------------------------------------------------------------
    def evaluate(self, value: Any, env: Mapping[str, Any], doc: Doc, path: Path) -> Any:
        """Substitute every `$expression` inside `value` (lists and mappings included)."""
        if isinstance(value, list):
            return [self.evaluate(v, env, doc, (*path, i)) for i, v in enumerate(value)]
        if isinstance(value, dict):
            return {k: self.evaluate(v, env, doc, (*path, k)) for k, v in value.items()}
        if expr.is_expr(value):
            try:
                return expr.evaluate(value[1:], env)
            except expr.ExprError as e:
                raise SpecError(
                    Diagnostic(expr_location(doc, path, e.offset), e.message, self.ctx.notes)
                ) from None
        return value

    # ---- the walk ---------------------------------------------------------------------------
    def run(self) -> Graph:
        root = self.ctx = _Context()
        spec_input, spec_inputs, backbone, head = self._pick_sections()
        scope = _Scope({}, None, local=False)
        for i, (d, f) in enumerate(spec_inputs):
            path = ("inputs", i) if spec_input is None else ("input",)
            self._add_input(d, f, path, scope)
        if len(self.graph.inputs) == 1:
            scope.names.setdefault("input", self.graph.inputs[0])
        backbone_nodes, _ = backbone
        self._place_list(backbone_nodes, scope, self.params, root)
        if self.use_head and head[0]:
            self._place_list(head[0], scope, self.params, replace(root, section="head"))
        elif head[0]:  # `outputs:` naming head nodes drop out with the head
            self.skipped |= {n.literal_name for n in head[0] if n.literal_name}
        self._set_outputs(scope)
        self._check_overrides_used()
        self._apply_freeze()
        return self.graph

    def _pick_sections(self) -> tuple:
        """Each section comes from the nearest file in the `extends` chain that gives it."""

        def nearest(key: str) -> CheckedFile | None:
            for f in reversed(self.chain):
                if key in f.doc.data:
                    return f
            return None

        inputs_file = nearest("input") or nearest("inputs")
        if inputs_file is None or nearest("backbone") is None:
            raise SpecError.at(self.top.doc.location(()), "no `input`/`backbone` in this chain")
        spec = inputs_file.spec
        spec_inputs = [(d, inputs_file) for d in ([spec.input] if spec.input else spec.inputs)]
        b = nearest("backbone")
        h = nearest("head")
        return spec.input, spec_inputs, (b.backbone, b), (h.head if h else None, h)

    def _add_input(self, d: InputDef, f: CheckedFile, path: Path, scope: _Scope) -> None:
        shape = self.evaluate(list(d.shape), self.params, f.doc, (*path, "shape"))
        for j, dim in enumerate(shape):
            if isinstance(dim, bool) or not isinstance(dim, int) or not 1 <= dim <= 1 << 16:
                raise f.doc.error((*path, "shape", j), f"input size must be 1…65536, got {dim!r}")
        source = f.doc.location(path)
        self._check_name(d.name, source)
        node = Node(d.name, "input", None, (), tuple(shape), 0, 0, 0, (), "input", True, source)
        self._add(node)
        self.graph.inputs.append(d.name)
        scope.names[d.name] = d.name
        scope.prev = d.name

    def _place_list(self, nodes: list[RawNode], scope: _Scope, env: dict, ctx: _Context) -> None:
        # where each literal name is defined, to tell "defined further down" from "unknown"
        defined_at = {n.literal_name: i for i, n in enumerate(nodes) if n.literal_name}
        for i, raw in enumerate(nodes):
            later = _Later(nodes, defined_at, i)
            self._place(raw, scope, env, ctx, later)

    def _place(self, raw: RawNode, scope: _Scope, env: dict, ctx: _Context, later: _Later) -> None:
        self.ctx = ctx
        when = self.evaluate(raw.when, env, raw.doc, raw.arg_path("when"))
        if not isinstance(when, (bool, type(None))):
            raise SpecError.at(raw.at("when"), f"`when` must be true or false, got {when!r}")
        name = self.evaluate(raw.name, env, raw.doc, raw.arg_path("name"))
        if when is False:  # left out; names referring to it are errors, outputs skip it
            if isinstance(name, str):
                self.skipped.add(ctx.prefix + name)
            return
        if name is not None and (not isinstance(name, str) or not _valid_name(name)):
            raise SpecError.at(raw.at("name"), f"name {name!r} is not a valid name", *ctx.notes)
        repeat = self.evaluate(raw.repeat, env, raw.doc, raw.arg_path("repeat"))
        if repeat is not None and not valid_repeat(repeat):
            raise SpecError.at(
                raw.at("repeat"), f"repeat must be 1…{MAX_REPEAT:,}, got {repeat!r}", *ctx.notes
            )
        inputs = self._resolve_from(raw, scope, later)
        base = ctx.prefix + name if name else self._auto_name(ctx.prefix + raw.op)
        is_op = raw.op in OPS
        if repeat is not None or not is_op:  # a group or block instance: its name is taken too
            self._check_name(base, raw.at("name") if raw.name is not None else raw.at(key=True))
            self.instances[base] = raw.at(key=True)
        if repeat is None:
            instances = [(base, ctx)]
        else:
            group = (*ctx.block, base)
            self.graph.blocks[group] = BlockInstance(group, f"{raw.op} ×{repeat}", raw.at(key=True))
            suffix = "_" if is_op else "_block"
            instances = [
                (f"{base}{suffix}{i}", replace(ctx, block=group, group=base))
                for i in range(1, repeat + 1)
            ]
        out = inputs[0] if inputs else None
        start = len(self.graph)
        for i, (inst, ictx) in enumerate(instances):
            first = i == 0
            if is_op:
                out = self._add_op(raw, inst, inputs, env, ictx, first)
            else:
                out = self._expand_block(raw, inst, inputs, env, ictx, i)
            inputs = [out]
            if first and len(instances) > 1:
                self._check_growth(raw, start, len(instances))
            if repeat is not None and name:
                scope.names[f"{name}_block{i + 1}" if not is_op else f"{name}_{i + 1}"] = out
        if repeat is not None:
            group_path = (*ctx.block, base)
            self.graph.blocks[group_path] = replace(self.graph.blocks[group_path], output=out)
        if name:
            scope.names[name] = out
        scope.prev = out

    def _check_growth(self, raw: RawNode, start: int, count: int) -> None:
        """After the first repeated instance, refuse early if the rest would pass the node bound."""
        per = len(self.graph) - start
        if len(self.graph) + per * (count - 1) > self.limits.max_nodes:
            raise SpecError.at(
                raw.at("repeat"),
                f"repeat {count:,} × {per} nodes passes the bound of {self.limits.max_nodes:,} "
                "nodes (raise it with --max-nodes)",
                *self.ctx.notes,
            )

    def _resolve_from(self, raw: RawNode, scope: _Scope, later: _Later) -> list[str]:
        if raw.source is None:
            if scope.prev is None:
                raise SpecError.at(raw.at(key=True), "this node has no input; say `from: NAME`")
            return [scope.prev]
        names = raw.source if isinstance(raw.source, list) else [raw.source]
        out = []
        for j, ref in enumerate(names):
            path = ("from", j) if isinstance(raw.source, list) else ("from",)
            if ref in scope.names:
                out.append(scope.names[ref])
            elif not scope.local and ref in self.graph.nodes:
                out.append(ref)
            elif ref in self.skipped:
                raise SpecError.at(
                    raw.at(*path),
                    f"'{ref}' is left out here (its `when` is false)",
                    *self.ctx.notes,
                )
            elif ref in later:
                line = later[ref].at(key=True).line
                raise SpecError.at(
                    raw.at(*path),
                    f"'{ref}' is defined further down (line {line}); a node takes inputs only "
                    "from nodes above it",
                    *self.ctx.notes,
                )
            else:
                choices = list(scope.names) + ([] if scope.local else list(self.graph.nodes))
                where = "in this block" if scope.local else "above"
                raise SpecError.at(
                    raw.at(*path),
                    f"no node named '{ref}' {where}{did_you_mean(ref, choices)}",
                    *self.ctx.notes,
                )
        return out

    def _auto_name(self, base: str) -> str:
        """`relu`, then `relu_1`, `relu_2`, … as Keras names unnamed layers."""
        k = self.next_suffix.get(base, 0)
        name = base if k == 0 else f"{base}_{k}"
        while name in self.graph.nodes or name in self.auto_named or name in self.instances:
            k += 1
            name = f"{base}_{k}"
        self.next_suffix[base] = k + 1  # the next search starts here, not at 0
        self.auto_named.add(name)
        return name

    def _check_name(self, name: str, where: Location) -> None:
        if name in self.graph.nodes or name in self.instances:
            node = self.graph.nodes.get(name)
            first = node.source if node else self.instances[name]
            at = f" (first at line {first.line})" if first else ""
            auto = " by an unnamed node" if name in self.auto_named else ""
            raise SpecError.at(where, f"name '{name}' is already used{auto}{at}", *self.ctx.notes)

    def _arguments(
        self, raw: RawNode, name: str, env: dict, first: bool, first_only: tuple
    ) -> tuple[dict[str, Any], dict[str, Any], tuple[Doc, Path] | None]:
        """The node's arguments substituted (first-only ones dropped after the first instance)
        and, apart, those `override` replaces for this instance or its repeat group, with where
        the override is written."""
        args = self.evaluate(raw.args, env, raw.doc, raw.arg_path())
        if not first:
            args = {k: v for k, v in args.items() if k not in first_only}
        extra: dict[str, Any] = {}
        origin: tuple[Doc, Path] | None = None
        for key in (self.ctx.group, name):
            if key in self.overrides:
                written, f = self.overrides[key]
                self.used_overrides.add(key)
                origin = (f.doc, ("override", key))
                extra.update(self.evaluate(written, self.params, *origin))
        return args, extra, origin

    def _validated(
        self, raw: RawNode, model: type, name: str, env: dict, first: bool, first_only: tuple
    ) -> Any:
        """The arguments validated by the op's or block's model; errors point at the node or
        at the override that gave the value."""
        args, extra, origin = self._arguments(raw, name, env, first, first_only)
        try:
            return model.model_validate({**args, **extra})
        except ValidationError as e:
            mine = [err for err in e.errors() if _arg_of(err) not in extra]
            diags = pydantic_diagnostics(raw.doc, raw.arg_path(), mine, args, model)
            if origin:
                theirs = [err for err in e.errors() if _arg_of(err) in extra]
                diags += pydantic_diagnostics(*origin, theirs, extra, model)
            raise SpecError([replace(d, notes=self.ctx.notes) for d in diags]) from None

    def _add_op(
        self, raw: RawNode, name: str, inputs: list[str], env: dict, ctx: _Context, first: bool
    ) -> str:
        self.ctx = ctx
        cls = OPS[raw.op]
        op = self._validated(raw, cls, name, env, first, ("strides",))
        lo, hi = cls.arity
        if len(inputs) < lo or (hi is not None and len(inputs) > hi):
            want = f"{lo}" if lo == hi else f"at least {lo}" if hi is None else f"{lo}–{hi}"
            raise SpecError.at(
                raw.at(key=True),
                f"{raw.op} '{name}' takes {want} input(s), got {len(inputs)}"
                + (" — list them with `from: [a, b]`" if lo > 1 else ""),
                *ctx.notes,
            )
        shapes = [Tensor.of(self.graph.nodes[n].shape, n) for n in inputs]
        try:
            result = op.infer(shapes)
        except ShapeError as e:
            raise SpecError.at(raw.at(key=True), f"{raw.op} '{name}' {e}", *ctx.notes) from None
        node = Node(
            name, raw.op, op, tuple(inputs), tuple(result.shape), result.trainable,
            result.non_trainable, result.macs, ctx.block, ctx.section, True, raw.at(key=True),
        )  # fmt: skip
        self._check_bounds(node, raw)
        self._check_name(name, raw.at("name") if raw.name is not None else raw.at(key=True))
        self._add(node)
        return name

    def _check_bounds(self, node: Node, raw: RawNode) -> None:
        lim = self.limits
        elements = math.prod(node.shape)
        total = self.params_so_far + node.params
        bound = f"over the bound of {lim.max_params:,} (raise it with --max-params)"
        problem = None
        if elements > lim.max_elements:
            problem = (
                f"its output {fmt(node.shape)} holds {elements:,} values, over {lim.max_elements:,}"
            )
        elif node.params > lim.max_params:
            problem = f"it has {node.params:,} params, {bound}"
        elif total > lim.max_params:
            problem = f"the network reaches {total:,} params here, {bound}"
        elif len(self.graph) >= lim.max_nodes:
            problem = f"the network passes {lim.max_nodes:,} nodes here (raise it with --max-nodes)"
        if problem:
            raise SpecError.at(
                raw.at(key=True), f"{node.op} '{node.name}': {problem}", *self.ctx.notes
            )

    def _add(self, node: Node) -> None:
        self.graph.nodes[node.name] = node
        self.params_so_far += node.params

    # ---- blocks ------------------------------------------------------------------------------
    def _expand_block(
        self, raw: RawNode, name: str, inputs: list[str], env: dict, ctx: _Context, index: int
    ) -> str:
        """Expand instance `index` (0-based, under `repeat`) of a built-in or user block."""
        first = index == 0
        path = (*ctx.block, name)
        self.graph.blocks[path] = BlockInstance(path, raw.op, raw.at(key=True))
        note = f"in block '{name}' ({raw.op}) used at {raw.at(key=True)}"
        inner = replace(ctx, prefix=name + "_", block=path, notes=(note, *ctx.notes), group=None)
        if raw.op in BLOCKS:
            return self._expand_builtin(raw, name, inputs, env, ctx, inner, index)
        return self._expand_user(raw, name, inputs, env, ctx, inner, first)

    def _expand_builtin(
        self, raw: RawNode, name: str, inputs: list[str], env: dict, ctx: _Context,
        inner: _Context, index: int,
    ) -> str:  # fmt: skip
        self.ctx = ctx
        first = index == 0
        cls = BLOCKS[raw.op]
        block = self._validated(raw, cls, name, env, first, cls.first_only)
        self._check_arity(raw, name, inputs, cls.arity)
        out = block.expand(Builder(self, raw, inner, index), inputs, name)
        self.graph.blocks[inner.block] = replace(self.graph.blocks[inner.block], output=out)
        return out

    def _expand_user(
        self, raw: RawNode, name: str, inputs: list[str], env: dict, ctx: _Context,
        inner: _Context, first: bool,
    ) -> str:  # fmt: skip
        self.ctx = ctx
        block = self.blocks[raw.op]
        if raw.op in ctx.stack:
            chain = " → ".join((*ctx.stack, raw.op))
            raise SpecError.at(raw.at(key=True), f"block '{raw.op}' uses itself: {chain}")
        if len(ctx.stack) >= self.limits.max_block_depth:
            raise SpecError.at(
                raw.at(key=True), f"blocks nest deeper than {self.limits.max_block_depth} levels"
            )
        d = block.definition
        self._check_arity(raw, name, inputs, (len(d.inputs), len(d.inputs)))
        written, extra, _ = self._arguments(raw, name, env, first, ("strides",))
        args = {**written, **extra}
        bound = dict(self.params)
        for pname, decl in d.params.items():
            if pname in args:
                bound[pname] = self._typed(raw, pname, args[pname], decl.type)
            elif not decl.required:
                bound[pname] = decl.default
            elif first or pname != "strides":
                raise SpecError.at(raw.at(key=True), f"block '{raw.op}' needs parameter '{pname}'")
            else:
                bound[pname] = 1
        for pname in args:
            if pname not in d.params:
                raise SpecError.at(raw.at(pname, key=True), f"block '{raw.op}' has no '{pname}'")
        scope = _Scope(dict(zip(d.inputs, inputs, strict=True)), inputs[0], local=True)
        inner = replace(inner, stack=(*ctx.stack, raw.op))
        self._place_list(block.body, scope, bound, inner)
        self.ctx = ctx
        if d.output is None:
            out = scope.prev
        elif d.output in scope.names:
            out = scope.names[d.output]
        else:
            raise block.doc.error(
                (*block.path, "output"), f"no node named '{d.output}' in the body"
            )
        self.graph.blocks[inner.block] = replace(self.graph.blocks[inner.block], output=out)
        return out  # type: ignore[return-value]

    def _typed(self, raw: RawNode, pname: str, value: Any, kind: str) -> Any:
        if not param_type_ok(value, kind):
            raise SpecError.at(
                raw.at(pname), f"'{pname}' must be {kind}, got {value!r}", *self.ctx.notes
            )
        return float(value) if kind == "float" else value

    def _check_arity(self, raw: RawNode, name: str, inputs: list[str], arity: tuple) -> None:
        lo, hi = arity
        if len(inputs) < lo or (hi is not None and len(inputs) > hi):
            raise SpecError.at(
                raw.at(key=True),
                f"block '{name}' ({raw.op}) takes {lo if lo == hi else f'{lo} or more'} "
                f"input(s), got {len(inputs)}",
                *self.ctx.notes,
            )

    # ---- the end --------------------------------------------------------------------------
    def _set_outputs(self, scope: _Scope) -> None:
        owner = next((f for f in reversed(self.chain) if f.spec.outputs is not None), None)
        if owner is None:
            self.graph.outputs = [scope.prev]  # type: ignore[list-item]
            return
        for i, ref in enumerate(owner.spec.outputs or []):
            if ref in self.skipped:
                continue  # left out by `when: false`
            if ref in scope.names:
                self.graph.outputs.append(scope.names[ref])
            elif ref in self.graph.nodes:
                self.graph.outputs.append(ref)
            else:
                hint = did_you_mean(ref, list(self.graph.nodes))
                raise owner.doc.error(("outputs", i), f"no node named '{ref}'{hint}")
        if not self.graph.outputs:
            self.graph.outputs = [scope.prev]  # type: ignore[list-item]

    def _check_overrides_used(self) -> None:
        for name, (_, f) in self.overrides.items():
            if name not in self.used_overrides:
                hint = did_you_mean(name, list(self.graph.nodes))
                raise f.doc.error(
                    ("override", name),
                    f"`override` names no node or block '{name}'{hint}",
                    key=True,
                )

    def _apply_freeze(self) -> None:
        owner = next((f for f in reversed(self.chain) if f.spec.freeze is not None), None)
        if owner is None:
            return
        freeze = owner.spec.freeze
        if freeze == "all":
            targets = lambda n: True  # noqa: E731
        elif freeze == "backbone":
            targets = lambda n: n.section == "backbone"  # noqa: E731
        else:
            names = set(freeze)  # type: ignore[arg-type]
            found = {n for node in self.graph for n in (node.name, *node.block) if n in names}
            for i, ref in enumerate(freeze):  # type: ignore[arg-type]
                if ref not in found:
                    hint = did_you_mean(ref, list(self.graph.nodes))
                    raise owner.doc.error(("freeze", i), f"no node or block '{ref}'{hint}")
            targets = lambda n: n.name in names or any(b in names for b in n.block)  # noqa: E731
        for node in self.graph:
            if node.op != "input" and targets(node):
                node.trainable = False


def _arg_of(error: Any) -> Any:
    """The top-level argument a pydantic error is about."""
    loc = error.get("loc") or ()
    return loc[0] if loc else None


def _valid_name(name: str) -> bool:
    return re.match(NODE_NAME_PATTERN, name) is not None


@dataclass
class Builder:
    """What a built-in block sees while it expands: place ops, read shapes. Nothing else."""

    walk: _Walk
    raw: RawNode
    ctx: _Context
    index: int = 0  # which instance under `repeat` (0 = the first)
    placed: list[str] = field(default_factory=list)

    def add(self, op: str, inputs: str | list[str], name: str | None = None, **args: Any) -> str:
        """Place primitive `op` named NAME (prefixed by the block's name unless it starts with
        '/'), taking `inputs`; returns the node's name."""
        w = self.walk
        full = name[1:] if name and name.startswith("/") else (name and self.ctx.prefix + name)
        full = full or w._auto_name(self.ctx.prefix + op)
        sub = RawNode(op, args, self.raw.doc, self.raw.path)
        sub.op = op
        saved = w.ctx
        out = w._add_op(
            _BlockOp(sub, self.raw), full, [inputs] if isinstance(inputs, str) else list(inputs),
            w.params, self.ctx, True,
        )  # fmt: skip
        w.ctx = saved
        self.placed.append(out)
        return out

    def shape(self, name: str) -> tuple[int, ...]:
        return self.walk.graph.nodes[name].shape


class _BlockOp(RawNode):
    """A primitive placed by a built-in block: located at the block's node in the YAML."""

    def __init__(self, sub: RawNode, parent: RawNode) -> None:
        super().__init__(sub.op, sub.args, parent.doc, parent.path)
        self._parent = parent

    def arg_path(self, *sub: Any) -> Path:
        return self._parent.arg_path()

    def at(self, *sub: Any, key: bool = False) -> Location:
        return self._parent.at(key=True)


__all__ = ["Builder", "Limits", "compile_file"]
