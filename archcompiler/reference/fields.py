"""Reading an op's or block's pydantic model: its arguments (type, constraints, default,
description), example values and the YAML they are written in. The rest of the reference
(terminal text, Markdown, the zoo table) is rendered from what this module reads."""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel, BeforeValidator
from pydantic.fields import FieldInfo

from ..blocks import BLOCKS
from ..errors import did_you_mean
from ..ops import OPS

Model = type[BaseModel]

# Example values for required arguments whose type alone suggests no sensible one. Every other
# example value is derived from the field's type and bounds (see `_example_value`).
_EXAMPLE_HINTS: dict[str, Any] = {
    "kernel": 3,
    "rate": 0.5,
    "scale": "$1 / 255",
    "projection_dim": 8,  # the channels of the examples' 32×32×8 input
    "target_shape": [-1, 8],
    "branches": [
        [{"conv": {"filters": 16, "kernel": 1}}],
        [{"max_pool": {"pool": 3, "strides": 1, "padding": "same"}}],
    ],
}
EXAMPLE_INPUTS = ("a", "b")  # the `from` of examples for ops that merge several inputs


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
        return getattr(tp, "doc_type", "node")  # a model may say how its mapping reads
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


def lookup(name: str) -> tuple[str, Model]:
    if name in OPS:
        return "op", OPS[name]
    if name in BLOCKS:
        return "block", BLOCKS[name]
    hint = did_you_mean(name, [*OPS, *BLOCKS]) or "; `archc blocks` lists them all"
    raise LookupError(f"unknown op or block '{name}'{hint}")


def docstring(model: Model) -> tuple[str, str]:
    """(summary line, the rest of the docstring) — the summary is the model's `summary()`."""
    text = inspect.cleandoc(model.__doc__ or "")
    summary = model.summary()  # type: ignore[attr-defined]
    rest = text.split("\n", 1)[1].strip("\n") if "\n" in text else ""
    return summary, rest


def inputs_text(arity: tuple[int, int | None]) -> str:
    lo, hi = arity
    if hi == lo:
        return f"{lo} input" + ("s" if lo != 1 else "")
    if hi is None:
        return f"{lo} or more inputs"
    return f"{lo} to {hi} inputs"


def takes_several(model: Model) -> bool:
    hi = model.arity[1]  # type: ignore[attr-defined]
    return hi is None or hi > 1


def example(name: str) -> str:
    """One YAML node line that places `name` with its required arguments, e.g.
    `- conv: {filters: 16, kernel: 3}`. Ops taking several inputs read `from: [a, b]`."""
    _, model = lookup(name)
    args: dict[str, Any] = {}
    for field_name, field in model.model_fields.items():
        if field.is_required():
            key = field.alias or field_name
            args[key] = _example_value(key, field.annotation, list(field.metadata))
    if takes_several(model):
        args["from"] = list(EXAMPLE_INPUTS)
    return f"- {name}: {yaml_value(args)}" if args else f"- {name}"


def _group_title(model: Model) -> str:
    """The op's family, from its module's docstring: 'Convolutions', 'Pooling' …"""
    doc = inspect.getdoc(sys.modules[model.__module__]) or model.__module__
    title = doc.splitlines()[0].split(":")[0]
    title = re.sub(r"\s*\(keras\.[^)]*\)", "", title)
    return title.strip().rstrip(".,")


def groups(registry: dict[str, Model]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for kind, model in registry.items():
        groups.setdefault(_group_title(model), []).append(kind)
    return groups
