"""pydantic's validation errors, mapped back to the YAML: one located message per offending key
or value, in our words ("'filters' should be greater than 0 (got -1)")."""

from __future__ import annotations

import re
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from ..errors import Diagnostic, brief, did_you_mean
from ..limits import MAX_DIAGNOSTICS
from .loader import Doc, Path


def pydantic_diagnostics(
    doc: Doc,
    base: Path,
    errors: list[Any],
    data: Any,
    model: type[BaseModel],
    deferred: set[str] | frozenset[str] = frozenset(),
) -> list[Diagnostic]:
    """Map pydantic's errors (`ValidationError.errors()`) back to YAML locations, one message
    per offending key or value. `deferred` arguments hold $expressions: not missing."""
    out = []
    errors = errors[: 2 * MAX_DIAGNOSTICS]  # suggestions cost time; nobody reads thousands
    meant: set[tuple] = set()  # (mapping path, key) a typo most likely meant: not also "missing"
    for e in errors:
        path, rest = _data_path(data, tuple(e["loc"]))
        kind = e["type"]
        if kind == "extra_forbidden" and path:
            known = _model_at(model, path[:-1])
            word = getattr(known, "unknown_key_word", "key")
            keys = known.known_keys() if known and hasattr(known, "known_keys") else []
            hint = did_you_mean(path[-1], keys)
            meant.add((path[:-1], hint.split("'")[1] if hint else None))
            message = f"unknown {word} '{path[-1]}'{hint}"
            out.append(Diagnostic(doc.location((*base, *path), key=True), message))
    for e in errors:
        path, rest = _data_path(data, tuple(e["loc"]))
        kind = e["type"]
        if kind == "extra_forbidden" and path:
            continue
        if kind == "missing":
            missing = rest[-1] if rest else "?"
            if (missing in deferred and not path) or (path, missing) in meant:
                continue
            if isinstance(missing, int):
                message = f"{_subject(path)} needs at least {missing + 1} items"
            else:
                message = f"missing required key '{missing}'"
            out.append(Diagnostic(doc.location((*base, *path), key=True), message))
        else:
            got = e.get("input")
            shown = f" (got {brief(got)})" if isinstance(got, (int, float, str, bool)) else ""
            message = f"{_subject(path)} {_predicate(e['msg'])}{shown}"
            out.append(Diagnostic(doc.location((*base, *path)), message))
    return out


def _model_at(model: Any, path: Path) -> Any:
    """The pydantic model class that validates the mapping at `path` below `model`."""
    current = model
    for part in path:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) or next(
                (f for f in current.model_fields.values() if f.alias == part), None
            )
            current = field.annotation if field else None
        else:
            current = _element_type(current, part)
        current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _element_type(tp: Any, part: Any) -> Any:
    args = get_args(tp)
    origin = get_origin(tp)
    if origin in (list, tuple) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def _unwrap(tp: Any) -> Any:
    """Annotated[X, …] → X; X | None → X; the first model in a union."""
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if get_origin(tp) in (Union, UnionType):
        models = [a for a in map(_unwrap, get_args(tp)) if a is not type(None)]
        picked = [a for a in models if isinstance(a, type) and issubclass(a, BaseModel)]
        return (picked or models or [None])[0]
    return tp


def _subject(path: Path) -> str:
    """'kernel' item 2 — what the message is about, from the end of its path."""
    named = [i for i, p in enumerate(path) if isinstance(p, str)]
    if not named:
        return "value"
    i = named[-1]
    items = "".join(f" item {p + 1}" for p in path[i + 1 :])
    return f"'{path[i]}'{items}"


def _predicate(msg: str) -> str:
    """pydantic says 'Input should be …'; we say "'filters' should be …"."""
    for lead in ("Value error, ", "Assertion failed, "):
        if msg.startswith(lead):
            return msg[len(lead) :]
    msg = msg.replace(" after validation", "")  # pydantic's wording for list lengths
    match = re.match(r"^\w+ should ", msg)  # "Input should …", "String should …", "Tuple …"
    if match:
        return "should " + msg[match.end() :]
    return ": " + msg[0].lower() + msg[1:] if msg else ""


def _data_path(data: Any, loc: tuple) -> tuple[Path, tuple]:
    """Keep the parts of pydantic's loc that index into the data; drop union-branch labels."""
    path: list[Any] = []
    rest: list[Any] = []
    cur = data
    for part in loc:
        if (isinstance(cur, dict) and part in cur) or (
            isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur)
        ):
            path.append(part)
            cur = cur[part]
        else:
            rest.append(part)
    return tuple(path), tuple(rest)


def dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    """pydantic reports a union failure once per branch; keep the first message per place."""
    seen, out = set(), []
    for d in diags:
        subject = d.message.split(" should")[0].split(":")[0]
        key = (d.location.path, d.location.line, d.location.col, subject)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
