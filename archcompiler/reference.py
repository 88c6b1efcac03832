"""The reference of every primitive op and built-in block, generated from their models.

`archc blocks` prints `overview()` (one line per op/block) or `describe(name)` (one in full);
`python -m archcompiler.reference --write docs` writes docs/ops.md, docs/blocks.md and
docs/zoo.md. Nothing here is a hand-written table: names, types, defaults, constraints and
descriptions come from the pydantic fields, summaries from the docstrings, so the reference
cannot drift from what the compiler accepts. No TensorFlow import.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel, BeforeValidator
from pydantic.fields import FieldInfo

from .blocks import BLOCKS
from .ops import OPS
from .spec.errors import did_you_mean
from .spec.validate import STRUCTURAL

Model = type[BaseModel]

# What the structural keys mean; the keys themselves come from spec.validate.STRUCTURAL.
_STRUCTURAL_MEANING = {
    "name": "layer name (a block: the prefix of its layers); unique",
    "from": "input node name or list of names; default: the node above",
    "repeat": "place it n times, each feeding the next (blocks: NAME_block1 … N)",
    "when": "true/false or a $expression: placed only when true",
}

# Example values for required arguments whose type alone suggests no sensible one. Every other
# example value is derived from the field's type and bounds (see `_example_value`).
_EXAMPLE_HINTS: dict[str, Any] = {
    "kernel": 3,
    "rate": 0.5,
    "scale": "$1 / 255",
    "target_shape": [-1, 8],
    "branches": [
        [{"conv": {"filters": 16, "kernel": 1}}],
        [{"max_pool": {"pool": 3, "strides": 1, "padding": "same"}}],
    ],
}
EXAMPLE_INPUTS = ("a", "b")  # the `from` of examples for ops that merge several inputs

# Ops whose nodes count as the network's "depth" in docs/zoo.md: convolutions and dense layers.
_WEIGHTED_LAYERS = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose", "Dense")

GENERATED_NOTE = (
    "<!-- Generated from the models by `python -m archcompiler.reference --write docs`; "
    "do not edit by hand. -->"
)


# ---------------------------------------------------------------------------------------------
# Reading a pydantic field: its type, constraints, default and an example value
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arg:
    """One argument of an op or block, as the reference shows it."""

    name: str
    type: str  # readable: "n or [h, w]"
    compact: str  # for the one-line overview: "int|[h,w]"
    required: bool
    default: str  # as YAML, "" when required
    constraints: str  # "≥ 1, ≤ 65,536"
    description: str


def _split(tp: Any, meta: Sequence[Any] = ()) -> tuple[Any, list[Any]]:
    """Peel `Annotated[...]` layers off a type, collecting their metadata."""
    meta = list(meta)
    while get_origin(tp) is Annotated:
        tp, *extra = get_args(tp)
        for item in extra:
            meta.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return tp, meta


def _drop_none(tp: Any) -> Any:
    if get_origin(tp) in (Union, UnionType):
        rest = [a for a in get_args(tp) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return tp


def _probe(meta: Sequence[Any], value: Any) -> bool:
    """Does a BeforeValidator of this field turn `value` into something else (a shorthand)?"""
    for item in meta:
        if isinstance(item, BeforeValidator):
            try:
                if item.func(value) != value:  # type: ignore[call-arg]
                    return True
            except Exception:  # a validator refusing the probe means "no shorthand"
                continue
    return False


def _is_pair(tp: Any) -> bool:
    args = get_args(tp)
    return get_origin(tp) is tuple and len(args) == 2 and _split(args[0])[0] == _split(args[1])[0]


def _literal(choices: Sequence[Any], compact: bool) -> str:
    if compact:
        shown = [str(c) for c in choices[:3]] + (["…"] if len(choices) > 3 else [])
        return "|".join(shown)
    quoted = [f"'{c}'" for c in choices]
    if len(quoted) == 2:
        return f"{quoted[0]} or {quoted[1]}"
    return "one of " + ", ".join(quoted)


def _type_text(tp: Any, meta: Sequence[Any], compact: bool) -> str:
    """A readable rendering of a field's annotation: int, 'valid' or 'same', n or [h, w] …"""
    tp, meta = _split(tp, meta)
    tp = _drop_none(tp)
    tp, meta = _split(tp, meta)
    origin = get_origin(tp)
    if origin is Literal:
        return _literal(get_args(tp), compact)
    if origin in (Union, UnionType):
        parts = [_type_text(a, (), compact) for a in get_args(tp) if a is not type(None)]
        return ("|" if compact else " or ").join(parts)
    if _is_pair(tp):
        inner = _split(get_args(tp)[0])[0]
        if _is_pair(inner):  # ((top, bottom), (left, right)), as ZeroPadding2D takes it
            forms = ["int", "[h,w]", "[[t,b],[l,r]]"] if compact else ["n", "[h, w]"]
            full = "[[top, bottom], [left, right]]"
            if not _probe(meta, 3):
                forms = forms[1:]
            if not _probe(meta, [1, 2]):
                forms = [f for f in forms if "h" not in f]
            if compact:
                return "|".join(forms)
            return f"{', '.join(forms)} or {full}" if forms else full
        item = _type_text(inner, (), compact)
        pair = "[h,w]" if compact else "[h, w]"
        if item != "int":
            pair = f"[{item}, {item}]"
        if _probe(meta, 3):
            return f"int|{pair}" if compact else f"n or {pair}"
        return pair
    if origin is tuple or origin is list:
        args = [a for a in get_args(tp) if a is not Ellipsis]
        item = _type_text(args[0], (), compact) if args else "any"
        return f"[{item},…]" if compact else f"list of {item}"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "node"
    if tp is Any or tp is object:
        return "any"
    return getattr(tp, "__name__", str(tp))


def _number(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:g}"
    return f"{x:,}" if abs(x) >= 10_000 else str(x)


def _bounds(meta: Iterable[Any]) -> list[str]:
    out = []
    for item in meta:
        if isinstance(item, at.Ge):
            out.append(f"≥ {_number(item.ge)}")
        elif isinstance(item, at.Gt):
            out.append(f"> {_number(item.gt)}")
        elif isinstance(item, at.Le):
            out.append(f"≤ {_number(item.le)}")
        elif isinstance(item, at.Lt):
            out.append(f"< {_number(item.lt)}")
    return out


def _constraints(tp: Any, meta: Sequence[Any]) -> str:
    """Bounds of the value (≥ 1, ≤ 65,536), of its items and of its length."""
    tp, meta = _split(tp, meta)
    tp, meta = _split(_drop_none(tp), meta)
    parts = _bounds(meta)
    lo = next((m.min_length for m in meta if isinstance(m, at.MinLen)), None)
    hi = next((m.max_length for m in meta if isinstance(m, at.MaxLen)), None)
    if lo is not None or hi is not None:
        if lo is not None and hi is not None:
            parts.append(f"{lo}–{hi} items")
        else:
            parts.append(f"≥ {lo} items" if lo is not None else f"≤ {hi} items")
    args = [a for a in get_args(tp) if a is not Ellipsis]
    if get_origin(tp) in (tuple, list) and args:
        inner, inner_meta = _split(args[0])
        while _is_pair(inner):  # the bounds of a pair are those of its numbers
            inner, inner_meta = _split(get_args(inner)[0], inner_meta)
        each = _bounds(inner_meta)
        if each:
            parts.append(("each " if parts else "") + ", ".join(each))
    return ", ".join(parts)


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_YAML_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def yaml_value(value: Any) -> str:
    """A value as it is written in a flow-style YAML spec: 3, 1e-5, same, [1, 2], {a: 1}."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return re.sub(r"e([+-])0*(\d)", lambda m: "e" + m[1].replace("+", "") + m[2], text)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        safe = _PLAIN.match(value) and value.lower() not in _YAML_WORDS
        expression = value.startswith("$") and not re.search(r"[,:\[\]{}#]", value)
        return value if safe or expression else "'" + value.replace("'", "''") + "'"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {yaml_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _shortest(value: Any, meta: Sequence[Any]) -> Any:
    """(1, 1) → 1 and ((1, 1), (1, 1)) → 1 where the field's validator expands that shorthand."""
    scalar = value
    while isinstance(scalar, tuple) and scalar:
        scalar = scalar[0]
    if scalar is not value:
        for item in meta:
            if isinstance(item, BeforeValidator):
                try:
                    if item.func(scalar) == value:  # type: ignore[call-arg]
                        return scalar
                except Exception:
                    pass
    return value


def _example_value(name: str, tp: Any, meta: Sequence[Any]) -> Any:
    """A sensible value for a required argument, from its type and bounds."""
    if name in _EXAMPLE_HINTS:
        return _EXAMPLE_HINTS[name]
    tp, meta = _split(tp, meta)
    tp, meta = _split(_drop_none(tp), meta)
    if get_origin(tp) is Literal:
        return get_args(tp)[0]
    if _is_pair(tp):
        return 3
    lo = next((m.ge for m in meta if isinstance(m, at.Ge)), None)
    hi = next((m.le for m in meta if isinstance(m, at.Le)), None)
    if tp is bool:
        return True
    if tp is int:
        value = 2 if hi is not None and hi <= 64 else 16  # counts vs. channels
        return max(value, lo) if lo is not None else value
    if tp is float:
        return 0.5
    raise ValueError(f"no example value for argument '{name}'; add one to _EXAMPLE_HINTS")


def arguments(model: Model) -> list[Arg]:
    """Every argument of an op or block model, in declaration order."""
    out = []
    for name, field in model.model_fields.items():
        meta = list(field.metadata)
        key = field.alias or name
        required = field.is_required()
        out.append(
            Arg(
                name=key,
                type=_type_text(field.annotation, meta, compact=False),
                compact=_type_text(field.annotation, meta, compact=True),
                required=required,
                default="" if required else yaml_value(_shortest(field.default, meta)),
                constraints=_constraints(field.annotation, meta),
                description=field.description or "",
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# Looking ops and blocks up
# ---------------------------------------------------------------------------------------------


def _lookup(name: str) -> tuple[str, Model]:
    if name in OPS:
        return "op", OPS[name]
    if name in BLOCKS:
        return "block", BLOCKS[name]
    hint = did_you_mean(name, [*OPS, *BLOCKS]) or "; `archc blocks` lists them all"
    raise LookupError(f"unknown op or block '{name}'{hint}")


def _docstring(model: Model) -> tuple[str, str]:
    """(summary line, the rest of the docstring) — the summary is the model's `summary()`."""
    text = inspect.cleandoc(model.__doc__ or "")
    summary = model.summary()  # type: ignore[attr-defined]
    rest = text.split("\n", 1)[1].strip("\n") if "\n" in text else ""
    return summary, rest


def _inputs_text(arity: tuple[int, int | None]) -> str:
    lo, hi = arity
    if hi == lo:
        return f"{lo} input" + ("s" if lo != 1 else "")
    if hi is None:
        return f"{lo} or more inputs"
    return f"{lo} to {hi} inputs"


def _takes_several(model: Model) -> bool:
    hi = model.arity[1]  # type: ignore[attr-defined]
    return hi is None or hi > 1


def example(name: str) -> str:
    """One YAML node line that places `name` with its required arguments, e.g.
    `- conv: {filters: 16, kernel: 3}`. Ops taking several inputs read `from: [a, b]`."""
    _, model = _lookup(name)
    args: dict[str, Any] = {}
    for field_name, field in model.model_fields.items():
        if field.is_required():
            key = field.alias or field_name
            args[key] = _example_value(key, field.annotation, list(field.metadata))
    if _takes_several(model):
        args["from"] = list(EXAMPLE_INPUTS)
    return f"- {name}: {yaml_value(args)}" if args else f"- {name}"


def _group_title(model: Model) -> str:
    """The op's family, from its module's docstring: 'Convolutions', 'Pooling' …"""
    doc = inspect.getdoc(sys.modules[model.__module__]) or model.__module__
    title = doc.splitlines()[0].split(":")[0]
    title = re.sub(r"\s*\(keras\.[^)]*\)", "", title)
    return title.strip().rstrip(".,")


def _groups(registry: dict[str, Model]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for kind, model in registry.items():
        groups.setdefault(_group_title(model), []).append(kind)
    return groups


# ---------------------------------------------------------------------------------------------
# The terminal: `archc blocks` and `archc blocks NAME`
# ---------------------------------------------------------------------------------------------


def _arg_words(args: list[Arg]) -> str:
    return "  ".join(
        f"{a.name}:{a.compact}" if a.required else f"{a.name}={a.default}" for a in args
    )


def overview() -> str:
    """Every primitive op and built-in block, grouped, one line each: name, summary, arguments
    (`name:type` when required, `name=default` otherwise)."""
    names = [*OPS, *BLOCKS]
    width = max(map(len, names)) + 2
    lines = [
        "Every primitive op and built-in block; `archc blocks NAME` shows one in full.",
        "Arguments: name:type is required, name=default is optional; any value may instead be "
        "a $expression.",
    ]
    sections = [(f"PRIMITIVE OPS ({len(OPS)})", None, [])]
    sections += [(title, kinds, OPS) for title, kinds in _groups(OPS).items()]
    sections.append((f"BUILT-IN BLOCKS ({len(BLOCKS)})", list(BLOCKS), BLOCKS))
    for title, kinds, registry in sections:
        lines += ["", title]
        if not kinds:
            continue
        doc_width = max(len(registry[k].summary()) for k in kinds) + 2
        for kind in kinds:
            model = registry[kind]
            row = f"  {kind:<{width}}{model.summary():<{doc_width}}{_arg_words(arguments(model))}"
            lines.append(row.rstrip())
    return "\n".join(lines)


def _wrap_cell(cell: str, cap: int) -> list[str]:
    glued = re.sub(r"([≥≤<>]) ", "\\1\u00a0", cell)  # never wrap between "≤" and its number
    return [line.replace("\u00a0", " ") for line in textwrap.wrap(glued, cap)] or [""]


def _wrap_table(header: list[str], rows: list[list[str]], caps: list[int], indent: str) -> str:
    """A plain-text table; a cell wider than its column's cap wraps onto further lines."""
    cells = [[_wrap_cell(c, cap) for c, cap in zip(r, caps, strict=True)] for r in [header, *rows]]
    widths = [max(len(line) for row in cells for line in row[i]) for i in range(len(header))]
    out = []
    for row in cells:
        for k in range(max(len(c) for c in row)):
            parts = [(c[k : k + 1] or [""])[0].ljust(w) for c, w in zip(row, widths, strict=True)]
            out.append((indent + "  ".join(parts)).rstrip())
    return "\n".join(out)


def describe(name: str) -> str:
    """One op or block in full: summary, docstring, Keras layer, arguments, example.
    Raises LookupError (with a did-you-mean) for an unknown name."""
    what, model = _lookup(name)
    summary, rest = _docstring(model)
    facts = [f"{what}", _inputs_text(model.arity)]  # type: ignore[attr-defined]
    if what == "op":
        facts.insert(1, f"Keras layer: keras.layers.{model.keras_layer}")  # type: ignore[attr-defined]
    lines = [f"{name} — {summary}", " · ".join(facts)]
    if rest:
        lines += ["", textwrap.indent(rest, "  ")]
    args = arguments(model)
    lines.append("")
    if args:
        lines.append("Arguments (any value may also be a $expression):")
        rows = [
            [a.name, a.type, "required" if a.required else a.default, a.constraints, a.description]
            for a in args
        ]
        header = ["name", "type", "default", "constraints", "description"]
        lines.append(_wrap_table(header, rows, [24, 30, 12, 24, 48], "  "))
    else:
        lines.append("Arguments: none.")
    lines += ["", "Structural keys (any node):"]
    width = max(map(len, STRUCTURAL))
    lines += [f"  {k:<{width}}  {_STRUCTURAL_MEANING.get(k, '')}".rstrip() for k in STRUCTURAL]
    first_only = getattr(model, "first_only", ())
    if first_only:
        lines.append(f"  Under `repeat`, only the first instance gets: {', '.join(first_only)}.")
    lines += ["", "Example:", "  " + example(name)]
    if _takes_several(model):
        lines.append(f"  ({' and '.join(EXAMPLE_INPUTS)} name earlier nodes)")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Markdown: docs/ops.md and docs/blocks.md
# ---------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or "—"


def _code(text: str) -> str:
    return f"`{text}`" if text else "—"


def _fence_indented(text: str) -> str:
    """Docstrings show code as indented blocks; fence them (YAML when they look like YAML) so
    they render as code and the docs' snippet test checks them."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        after_blank = i == 0 or not lines[i - 1].strip()
        if line.startswith("    ") and after_blank:
            block = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                block.append(lines[i][4:])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            yamlish = re.match(r"^(- |[A-Za-z_]\w*:)", block[0])
            out += ["```yaml" if yamlish else "```", *block, "```", ""]
            continue
        out.append(line)
        i += 1
    return "\n".join(out).strip("\n")


def _md_section(name: str, model: Model, level: str) -> list[str]:
    what = "op" if name in OPS else "block"
    summary, rest = _docstring(model)
    out = [f"{level} `{name}`", "", summary, ""]
    if rest:
        out += [_fence_indented(rest), ""]
    facts = [_inputs_text(model.arity)]  # type: ignore[attr-defined]
    if what == "op":
        facts.insert(0, f"Keras layer: `keras.layers.{model.keras_layer}`")  # type: ignore[attr-defined]
    first_only = getattr(model, "first_only", ())
    if first_only:
        keys = ", ".join(f"`{k}`" for k in first_only)
        facts.append(f"under `repeat`, only the first instance gets {keys}")
    out += [" · ".join(facts), ""]
    args = arguments(model)
    if args:
        out += [
            "| argument | type | default | constraints | description |",
            "|---|---|---|---|---|",
        ]
        for a in args:
            default = "required" if a.required else _code(a.default)
            cells = [f"`{a.name}`", _cell(a.type), default, _cell(a.constraints)]
            out.append("| " + " | ".join([*cells, _cell(a.description)]) + " |")
    else:
        out.append("No arguments.")
    out += ["", "```yaml", example(name), "```", ""]
    if _takes_several(model):
        out += [f"(`{'` and `'.join(EXAMPLE_INPUTS)}` name earlier nodes.)", ""]
    return out


def _md_preamble(title: str, intro: str) -> list[str]:
    keys = ", ".join(f"`{k}`" for k in STRUCTURAL)
    return [
        f"# {title}",
        "",
        GENERATED_NOTE,
        "",
        intro,
        "Any argument's value may instead be a `$expression` over the spec's params "
        f"([language.md](language.md)). Every node may also carry the structural keys {keys}.",
        "In the tables, a size written `n or [h, w]` takes one number for both sides.",
        "",
    ]


def _md_index(registry: dict[str, Model], kinds: Iterable[str], layer: bool) -> list[str]:
    head = "| name | Keras layer | inputs | what it is |" if layer else "| name | what it is |"
    out = [head, "|---|---|---|---|" if layer else "|---|---|"]
    for kind in kinds:
        model = registry[kind]
        link = f"[`{kind}`](#{kind})"
        if layer:
            layer_name = f"`{model.keras_layer}`"  # type: ignore[attr-defined]
            inputs = _inputs_text(model.arity).split(" input")[0]  # type: ignore[attr-defined]
            out.append(f"| {link} | {layer_name} | {inputs} | {_cell(model.summary())} |")
        else:
            out.append(f"| {link} | {_cell(model.summary())} |")
    return [*out, ""]


def ops_markdown() -> str:
    """docs/ops.md: every primitive op, grouped by family, with its arguments and an example."""
    groups = _groups(OPS)
    out = _md_preamble(
        "Primitive ops",
        f"The {len(OPS)} primitive ops: each becomes exactly one Keras layer and has one shape "
        "rule, weight count and MAC count (in `archcompiler/ops/`).",
    )
    out += _md_index(OPS, OPS, layer=True)
    for title, kinds in groups.items():
        out += [f"## {title}", ""]
        for kind in kinds:
            out += _md_section(kind, OPS[kind], "###")
    return "\n".join(out).rstrip("\n") + "\n"


def blocks_markdown() -> str:
    """docs/blocks.md: every built-in block with its arguments and an example."""
    out = _md_preamble(
        "Built-in blocks",
        f"The {len(BLOCKS)} built-in blocks: each expands into primitive ops (see "
        "[ops.md](ops.md)); its layers are named `NAME_…` after the instance name, and "
        "`repeat: n` gives instances `NAME_block1 … NAME_blockn`.",
    )
    out += _md_index(BLOCKS, BLOCKS, layer=False)
    for kind, model in BLOCKS.items():
        out += _md_section(kind, model, "##")
    return "\n".join(out).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------------------------
# docs/zoo.md: the specs in specs/
# ---------------------------------------------------------------------------------------------

_ABBREVIATIONS = {"al", "cf", "e.g", "eq", "fig", "figs", "i.e", "no", "proc", "sec", "vol", "vs"}
_SENTENCE_END = re.compile(r"\.\s+(?=[A-Z][a-z]|[0-9`])")
_SURNAME = re.compile(r"[A-Z][\w'\-]*,")  # `He,` in `K. He, X. Zhang, …`


def first_sentence(text: str) -> str:
    """The first sentence of prose that cites papers: a period ends it unless it follows an
    initial (`K. He,`) or an abbreviation (`Fig. 3`, `Proc. IEEE`)."""
    text = " ".join(text.split())
    for m in _SENTENCE_END.finditer(text):
        word = text[: m.start()].rsplit(" ", 1)[-1].lstrip("(\"'")
        if len(word) == 1 and word.isupper() and _SURNAME.match(text, m.end()):
            continue
        if word.lower() in _ABBREVIATIONS:
            continue
        return text[: m.start() + 1]
    return text


def spec_paper(text: str) -> str:
    """The source paper named by a spec's header comment (`# ResNet-50 — K. He, …, CVPR 2016,
    Table 1 …`): the first sentence of the leading comments after the dash, without the period."""
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if "yaml-language-server" not in line:
            header.append(line.lstrip("#").strip())
    sentence = first_sentence(" ".join(header))
    if " — " in sentence:
        sentence = sentence.split(" — ", 1)[1]
    return sentence.rstrip(".")


def _is_weighted_layer(op: str) -> bool:
    model = OPS.get(op)
    return model is not None and model.keras_layer in _WEIGHTED_LAYERS


@dataclass(frozen=True)
class ZooEntry:
    file: str
    name: str
    inputs: str
    params: int
    macs: int
    depth: int
    paper: str
    doc: str


def zoo_entries(specs_dir: Path) -> list[ZooEntry]:
    """Compile every spec in `specs_dir` (sorted by file name) and read off the zoo's columns."""
    from .compile import compile_file
    from .ops import fmt

    entries = []
    for path in sorted(specs_dir.glob("*.yaml")):
        graph = compile_file(path)
        entries.append(
            ZooEntry(
                file=path.name,
                name=graph.name,
                inputs=", ".join(fmt(graph.nodes[i].shape) for i in graph.inputs),
                params=graph.total_params,
                macs=graph.macs,
                depth=sum(_is_weighted_layer(n.op) for n in graph),
                paper=spec_paper(path.read_text(encoding="utf-8")),
                doc=first_sentence(graph.doc),
            )
        )
    return entries


def zoo_markdown(specs_dir: Path) -> str:
    """docs/zoo.md: one row per spec in `specs_dir`, then what each one is."""
    from .summary import human

    entries = zoo_entries(specs_dir)
    out = [
        "# The model zoo",
        "",
        GENERATED_NOTE,
        "",
        f"The {len(entries)} specs in `specs/`, compiled with their default params (head "
        "included). *Params* counts all weights (trainable and not); *MACs* are the "
        "multiply-accumulates of convolutions and dense layers for one image; *depth* counts "
        "the layers with weights of the convolution and dense kinds (`"
        + "`, `".join(k for k in OPS if _is_weighted_layer(k))
        + "`), projection shortcuts and depthwise convolutions included. "
        "`archc summary specs/NAME.yaml` shows every layer.",
        "",
        "| spec | input | params | MACs | depth | paper |",
        "|---|---|--:|--:|--:|---|",
    ]
    for e in entries:
        link = f"[`{e.name}`](../specs/{e.file})"
        params = f"{e.params:,} ({human(e.params)})"
        out.append(
            f"| {link} | {e.inputs} | {params} | {human(e.macs)} | {e.depth} | {_cell(e.paper)} |"
        )
    out += ["", "## What each spec is", ""]
    out += [f"- **{e.name}** — {e.doc}" for e in entries]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# python -m archcompiler.reference --write docs
# ---------------------------------------------------------------------------------------------

DEFAULT_SPECS = Path(__file__).resolve().parent.parent / "specs"  # the repository's zoo


def generated_docs(specs_dir: Path = DEFAULT_SPECS) -> dict[str, str]:
    """File name → text of every generated doc."""
    makers: dict[str, Callable[[], str]] = {
        "ops.md": ops_markdown,
        "blocks.md": blocks_markdown,
        "zoo.md": lambda: zoo_markdown(specs_dir),
    }
    return {name: make() for name, make in makers.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Print the overview, or write (or check) docs/ops.md, docs/blocks.md and docs/zoo.md."""
    parser = argparse.ArgumentParser(
        prog="python -m archcompiler.reference",
        description="The op and block reference, generated from the models.",
    )
    parser.add_argument("name", nargs="?", help="show one op or block in full")
    parser.add_argument("--write", metavar="DIR", type=Path, help="write the docs into DIR")
    parser.add_argument(
        "--check", metavar="DIR", type=Path, help="exit 1 if the docs in DIR are stale"
    )
    parser.add_argument(
        "--specs", metavar="DIR", type=Path, default=DEFAULT_SPECS, help="the zoo (specs/)"
    )
    opts = parser.parse_args(argv)
    if opts.write is None and opts.check is None:
        try:
            print(overview() if opts.name is None else describe(opts.name))
        except LookupError as e:
            print(f"Error: {e.args[0]}", file=sys.stderr)
            return 1
        return 0
    docs = generated_docs(opts.specs)
    if opts.check is not None:
        stale = [n for n, t in docs.items() if _read(opts.check / n) != t]
        for name in stale:
            print(f"{opts.check / name} is stale", file=sys.stderr)
        if stale:
            print("regenerate: python -m archcompiler.reference --write docs", file=sys.stderr)
        return 1 if stale else 0
    opts.write.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (opts.write / name).write_text(text, encoding="utf-8")
        print(f"wrote {opts.write / name}")
    return 0


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


if __name__ == "__main__":
    sys.exit(main())
