"""Checks one loaded spec file before anything is expanded, reporting every problem at once.

The file's structure is validated by `SpecFile`; then every node (in backbone, head and block
bodies) is routed by its one key to the model of its op or block, the tag of a discriminated
union: literal arguments are validated now, `$expressions` are only parsed (their values are
known once the walk binds parameters, where the same model validates them again).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationError

from ..blocks import BLOCKS
from ..errors import Diagnostic, Location, SpecError, did_you_mean
from ..grammar import STRUCTURAL, STRUCTURAL_KEYS, NodeFormError, split_arguments, split_node
from ..grammar import valid_name as _valid_name
from ..limits import MAX_DIAGNOSTICS, MAX_REPEAT
from ..ops import OPS
from . import expr, memo
from .diagnostics import dedupe, pydantic_diagnostics
from .loader import Doc, Path
from .model import PARAM_TYPES, BlockDef, RepeatForm, SpecFile


@dataclass
class RawNode:
    """A node as written: its op or block, its arguments, and where it stands in which file."""

    op: str
    args: dict[str, Any]
    doc: Doc
    path: Path  # of the list item, e.g. ("backbone", 3)
    name: Any = None
    source: Any = None  # the `from` value
    repeat: Any = None
    when: Any = None  # placed only when true (e.g. `when: $aux` for auxiliary classifiers)
    otherwise: Any = None  # `else`: the node the name stands for when `when` leaves it out
    # False for the primitives a built-in block places: their arguments are the block's values,
    # not written, so nothing in them is a `$` expression to report (Node.computed)
    written: ClassVar[bool] = True

    def arg_path(self, *sub: Any) -> Path:
        return (*self.path, self.op, *sub)

    def at(self, *sub: Any, key: bool = False) -> Location:
        return self.doc.location(self.arg_path(*sub), key=key)

    @property
    def literal_name(self) -> str | None:
        return self.name if isinstance(self.name, str) and not expr.is_expr(self.name) else None


@dataclass
class UserBlock:
    name: str
    definition: BlockDef
    body: list[RawNode]
    doc: Doc
    path: Path


@dataclass
class CheckedFile:
    doc: Doc
    spec: SpecFile
    backbone: list[RawNode] | None
    head: list[RawNode] | None
    blocks: dict[str, UserBlock] = field(default_factory=dict)
    functions: dict[str, expr.Helper] = field(default_factory=dict)  # its own and inherited


def check_file(
    doc: Doc,
    inherited_blocks: dict[str, UserBlock] | None = None,
    inherited_functions: dict[str, expr.Helper] | None = None,
) -> CheckedFile:
    """Validate a loaded file (with the blocks and functions of the files it extends); raises
    one SpecError listing every problem found."""
    data = doc.data
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"the value {data!r}"
        raise doc.error(
            (), f"a spec is a mapping (archspec, name, backbone, …); this file holds {kind}"
        )
    diags: list[Diagnostic] = []
    for key in [k for k in data if not isinstance(k, str)]:
        hint = did_you_mean(str(key), SpecFile.known_keys())
        diags.append(Diagnostic(doc.location((key,), key=True), f"unknown key {key!r}{hint}"))
        data = {k: v for k, v in data.items() if isinstance(k, str)}
    spec: SpecFile | None = None
    try:
        spec = SpecFile.model_validate(data)
    except ValidationError as e:
        diags += pydantic_diagnostics(doc, (), e.errors(), data, SpecFile)

    inherited = dict(inherited_blocks or {})
    functions = {**(inherited_functions or {}), **_check_functions(doc, data, diags)}
    raw_blocks = data.get("blocks") if isinstance(data.get("blocks"), dict) else {}
    known = Known(
        {*inherited, *raw_blocks},
        {k: b.definition for k, b in inherited.items()},
        {k: len(f.params) for k, f in functions.items()},
    )
    # each block's params are learned on their own, so their uses are checked even when
    # something else in the file is wrong
    for bname, bdata in raw_blocks.items():
        definition = _check_block_def(doc, bname, bdata, diags)
        if definition is not None:
            known.params[bname] = definition

    lists: dict[str, list[RawNode] | None] = {}
    for section in ("backbone", "head"):
        lists[section] = _check_list(doc, (section,), data.get(section), known, diags)
    blocks = inherited
    for bname, bdata in raw_blocks.items():
        body = bdata.get("body") if isinstance(bdata, dict) else None
        nodes = _check_list(doc, ("blocks", bname, "body"), body, known, diags)
        if bname in known.params and nodes is not None:
            blocks[bname] = UserBlock(bname, known.params[bname], nodes, doc, ("blocks", bname))
    if spec is not None:
        _check_top_level(doc, spec, diags, known)
    if diags:
        diags = dedupe(diags)
        diags.sort(key=lambda d: (d.location.line, d.location.col))
        if len(diags) > MAX_DIAGNOSTICS:
            last = diags[MAX_DIAGNOSTICS]
            diags = [*diags[:MAX_DIAGNOSTICS], replace(last, message="too many errors; stopped")]
        raise SpecError(diags)
    assert spec is not None
    return CheckedFile(doc, spec, lists["backbone"], lists["head"], blocks, functions)


def _check_functions(doc: Doc, data: dict, diags: list[Diagnostic]) -> dict[str, expr.Helper]:
    """`functions: {name(a, b): $expression}`: each parsed once, located where it is written."""
    written = data.get("functions")
    out: dict[str, expr.Helper] = {}
    for signature, body in (written if isinstance(written, dict) else {}).items():
        if not isinstance(signature, str) or not expr.is_expr(body):
            continue  # SpecFile reports the wrong type
        try:
            function = expr.helper(signature, body[1:])
        except expr.ExprError as e:
            where = ("functions", signature)
            if e.offset < 0:  # the signature
                diags.append(Diagnostic(doc.location(where, key=True), e.message))
            else:
                diags.append(Diagnostic(expr_location(doc, where, e.offset), e.message))
            continue
        out[function.name] = function
    return out


def _check_block_def(doc: Doc, bname: Any, bdata: Any, diags: list[Diagnostic]) -> BlockDef | None:
    path = ("blocks", bname)
    if isinstance(bname, str) and (bname in OPS or bname in BLOCKS):
        kind = "op" if bname in OPS else "block"
        diags.append(
            Diagnostic(
                doc.location(path, key=True),
                f"block '{bname}' has the name of a built-in {kind}; choose another name",
            )
        )
        return None
    try:
        definition = BlockDef.model_validate(bdata)
    except ValidationError as e:
        diags += pydantic_diagnostics(doc, path, e.errors(), bdata, BlockDef)
        return None
    for pname, decl in definition.params.items():
        where = doc.location((*path, "params", pname), key=True)
        if pname in definition.inputs:
            diags.append(
                Diagnostic(where, f"parameter '{pname}' has the name of an input of the block")
            )
        if pname in STRUCTURAL:
            diags.append(
                Diagnostic(where, f"parameter '{pname}' clashes with the structural key `{pname}`")
            )
        raw = bdata["params"][pname]
        # a type written right needs no suggestion (and difflib is slow)
        typo = isinstance(raw, str) and raw not in PARAM_TYPES
        close = did_you_mean(raw, PARAM_TYPES) if typo else ""
        if close:
            diags.append(
                Diagnostic(
                    doc.location((*path, "params", pname)),
                    f"'{raw}' is not a parameter type{close} (for a string default write "
                    f"`{{type: str, default: {raw}}}`)",
                )
            )
        if not decl.required and not param_type_ok(decl.default, decl.type):
            diags.append(
                Diagnostic(
                    doc.location((*path, "params", pname)),
                    f"default {decl.default!r} of '{pname}' is not {decl.type}",
                )
            )
    return definition


def param_type_ok(value: Any, kind: str) -> bool:
    """int is not bool, float accepts int, `any` accepts anything."""
    if kind == "any":
        return True
    if isinstance(value, bool):
        return kind == "bool"
    if kind == "float":
        return isinstance(value, (int, float))
    return isinstance(value, PARAM_TYPES[kind])


@dataclass
class Known:
    """What a file may use besides the built-ins: its user blocks (and inherited ones) and its
    functions (name → number of parameters)."""

    user: set[str]
    params: dict[str, BlockDef]
    helpers: dict[str, int] = field(default_factory=dict)

    def all(self) -> list[str]:
        return [*OPS, *BLOCKS, *self.user]


def _check_top_level(doc: Doc, spec: SpecFile, diags: list[Diagnostic], known: Known) -> None:
    if spec.extends is None:
        if spec.input is None and spec.inputs is None:
            diags.append(Diagnostic(doc.location(()), "a spec needs `input: {shape: [...]}`"))
        if spec.backbone is None:
            diags.append(Diagnostic(doc.location(()), "a spec needs a `backbone:` list of nodes"))
    if spec.input is not None and spec.inputs is not None:
        diags.append(
            Diagnostic(doc.location(("inputs",), key=True), "give `input` or `inputs`, not both")
        )
    for k, v in spec.params.items():
        _check_exprs(doc, ("params", k), v, diags, known.helpers)
    for i, d in enumerate([spec.input] if spec.input else spec.inputs or []):
        base = ("input",) if spec.input else ("inputs", i)
        for j, dim in enumerate(d.shape):
            _check_exprs(doc, (*base, "shape", j), dim, diags, known.helpers)


def _check_list(
    doc: Doc, path: Path, value: Any, known: Known, diags: list[Diagnostic]
) -> list[RawNode] | None:
    if not isinstance(value, list):
        return None  # absent, or SpecFile reported the wrong type
    nodes = []
    for i, item in enumerate(value):
        if len(diags) > MAX_DIAGNOSTICS:  # a file of nothing but mistakes: enough is enough
            break
        try:
            node = parse_node(doc, (*path, i), item, known)
        except SpecError as e:
            diags.extend(e.diagnostics)
            continue
        diags.extend(_check_node(node, known))
        nodes.append(node)
    return nodes


def parse_node(doc: Doc, path: Path, item: Any, known: Known) -> RawNode:
    """Split `op: {args}` (or a bare `op`) into a RawNode; the op must exist."""
    try:
        op, args = split_node(item)
    except NodeFormError as e:
        raise doc.error(
            path, f"a node is one `op: {{arguments}}` mapping or a bare op name; got {e.got}"
        ) from None
    if not isinstance(op, str) or (op not in OPS and op not in BLOCKS and op not in known.user):
        hint = did_you_mean(str(op), known.all())
        where = path if isinstance(item, str) else (*path, op)
        raise doc.error(where, f"unknown op or block '{op}'{hint}", key=True)
    if not isinstance(args, dict):
        raise doc.error(
            (*path, op), f"the arguments of '{op}' must be a mapping like {{filters: 64}}"
        )
    rest, structural = split_arguments(args)
    fields = {k.attribute: structural.get(k.key) for k in STRUCTURAL_KEYS}
    return RawNode(op, rest, doc, path, **fields)


def _check_node(node: RawNode, known: Known) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    doc = node.doc
    for key in STRUCTURAL_KEYS:
        value = getattr(node, key.attribute)
        if not _plain(value):
            _check_exprs(doc, node.arg_path(key.key), value, diags, known.helpers)
    for key, value in node.args.items():
        if not _plain(value):
            _check_exprs(doc, node.arg_path(key), value, diags, known.helpers)
    diags += _check_structural(node)
    model = OPS.get(node.op) or BLOCKS.get(node.op)
    if model is not None:
        diags += check_literal_args(node, model)
    elif node.op in known.params:
        diags += _check_user_args(node, known.params[node.op])
    return diags


def _check_structural(node: RawNode) -> list[Diagnostic]:
    out = []
    name, source, repeat = node.name, node.source, node.repeat
    if name is not None and not expr.is_expr(name) and not _valid_name(name):
        out.append(
            Diagnostic(
                node.at("name"),
                f"name {name!r} may hold only letters, digits and _ (at most 128)",
            )
        )
    if source is not None:
        items = source if isinstance(source, list) else [source]
        if not items or not all(isinstance(s, str) for s in items):
            out.append(Diagnostic(node.at("from"), "`from` is a node name or a list of names"))
    if node.when is not None and not expr.is_expr(node.when) and not isinstance(node.when, bool):
        out.append(Diagnostic(node.at("when"), "`when` is true, false or a $expression"))
    if isinstance(repeat, dict):
        out += _check_repeat_form(node, repeat)
    elif repeat is not None and not expr.is_expr(repeat) and not valid_repeat(repeat):
        out.append(
            Diagnostic(node.at("repeat"), f"repeat must be an integer from 1 to {MAX_REPEAT:,}")
        )
    if node.otherwise is not None:
        if node.when is None:
            out.append(Diagnostic(node.at("else"), "`else` goes with `when`"))
        elif not isinstance(node.otherwise, str) or expr.is_expr(node.otherwise):
            out.append(Diagnostic(node.at("else"), "`else` is a node name as written"))
    return out


def _check_repeat_form(node: RawNode, repeat: dict) -> list[Diagnostic]:
    """`repeat: {times: n, names: 'block_{i}', start: 1}`."""
    literal = {k: v for k, v in repeat.items() if not has_expr(v)}
    try:
        RepeatForm.model_validate(literal)
    except ValidationError as e:
        deferred = set(repeat) - set(literal)
        return pydantic_diagnostics(
            node.doc, node.arg_path("repeat"), e.errors(), literal, RepeatForm, deferred
        )
    return []


def valid_repeat(n: Any) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_REPEAT


def has_expr(value: Any) -> bool:
    if isinstance(value, list):
        return any(has_expr(v) for v in value)
    if isinstance(value, dict):
        return any(has_expr(v) for v in value.values())
    return expr.is_expr(value)


def check_literal_args(node: RawNode, model: type[BaseModel]) -> list[Diagnostic]:
    """Validate the arguments whose values are written out; `$` ones wait for the walk."""
    literal = {k: v for k, v in node.args.items() if not has_expr(v)}
    deferred = set(node.args) - set(literal)
    try:
        memo.validate(model, literal)  # the walk validates the same values again: remembered
    except ValidationError as e:
        return pydantic_diagnostics(node.doc, node.arg_path(), e.errors(), literal, model, deferred)
    return []


def _check_user_args(node: RawNode, block: BlockDef) -> list[Diagnostic]:
    out = []
    for key in node.args:
        if key not in block.params:
            hint = did_you_mean(key, [*block.params, *STRUCTURAL])
            out.append(
                Diagnostic(
                    node.at(key, key=True), f"block '{node.op}' has no parameter '{key}'{hint}"
                )
            )
        elif not has_expr(node.args[key]) and not param_type_ok(
            node.args[key], block.params[key].type
        ):
            kind = block.params[key].type
            out.append(Diagnostic(node.at(key), f"'{key}' must be {kind}, got {node.args[key]!r}"))
    for pname, decl in block.params.items():
        if decl.required and pname not in node.args and pname not in STRUCTURAL:
            out.append(
                Diagnostic(node.at(key=True), f"block '{node.op}' needs parameter '{pname}'")
            )
    return out


def _check_exprs(
    doc: Doc, path: Path, value: Any, diags: list[Diagnostic], helpers: dict[str, int]
) -> None:
    for sub, text in expressions_in(value):
        try:
            expr.parse(text[1:], helpers)
        except expr.ExprError as e:
            where = (*path, *sub)
            hint = ""
            if "never closed" in e.message and where not in doc.quoted:
                hint = ' — inside {…} YAML splits on commas: quote it, "$f(a, b)"'
            diags.append(Diagnostic(expr_location(doc, where, e.offset), e.message + hint))


_PLAIN = frozenset({int, float, bool, type(None)})


def _plain(value: Any) -> bool:
    """Holds no expression for sure: a number, flag, null, or a str not starting with '$'
    (asked for every argument of every node, before anything is built for it)."""
    t = type(value)
    return t in _PLAIN or (t is str and not value.startswith("$"))


def expressions_in(value: Any, sub: Path = ()) -> Iterator[tuple[Path, str]]:
    """Every `$expression` inside `value` (lists and mappings included), with its sub-path."""
    if isinstance(value, list):
        for i, v in enumerate(value):
            if not _plain(v):
                yield from expressions_in(v, (*sub, i))
    elif isinstance(value, dict):
        for k, v in value.items():
            if not _plain(v):
                yield from expressions_in(v, (*sub, k))
    elif expr.is_expr(value):
        yield sub, value


def expr_location(doc: Doc, path: Path, offset: int) -> Location:
    """The column of character `offset` of the expression after its `$` (and opening quote)."""
    loc = doc.location(path)
    shift = 1 + offset + (1 if tuple(path) in doc.quoted else 0)
    return Location(loc.path, loc.line, loc.col + shift, loc.text)
