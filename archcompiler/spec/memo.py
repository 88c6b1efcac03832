"""Validated arguments remembered per model class: a zoo network places the same op with the
same arguments hundreds of times (every `bn: {}`, every 1×1 conv of a width), and pydantic
validation is a third of the walk. Only successes are remembered; a failure is validated again
each time, so its messages are exactly those of a fresh validation."""

from __future__ import annotations

from typing import Any

MAX_ENTRIES = 20_000  # a long-lived process (api, sweep) forgets them all past this

_ATOMS = frozenset({int, str, bool, type(None)})
_validated: dict[tuple[type, Any], Any] = {}
# (id of a validated instance, input shapes) → (the instance, what its `infer` gave)
_inferred: dict[tuple[int, tuple], tuple[Any, Any]] = {}


def key_of(value: Any) -> Any:
    """A hashable form of a YAML value that tells apart what validation may tell apart (the
    exact type of every element: True is not 1, 1.0 is not 1, -0.0 is not 0.0), or None when
    it holds anything else. Written flat for the common case (a mapping of scalars and short
    lists of them): this runs for every node placed."""
    t = type(value)
    if t in _ATOMS:
        return (t, value)
    if t is float:
        return (t, value.hex())
    if t is list or t is tuple:
        types = tuple(map(type, value))
        if _ATOMS.issuperset(types):
            return (t, types, tuple(value))
        items = tuple(map(key_of, value))
        return None if None in items else (t, items)
    if t is dict:
        parts: list[Any] = []
        for k, v in value.items():
            if type(k) is not str:  # 1 and True are one key of a dict
                return None
            tv = type(v)
            if tv in _ATOMS:
                parts.append((k, tv, v))
                continue
            sub = key_of(v)
            if sub is None:
                return None
            parts.append((k, sub))
        return (t, tuple(parts))
    return None


def validate(model: Any, args: dict[str, Any]) -> Any:
    """`model.model_validate(args)`, the same frozen instance again for arguments seen before."""
    key = key_of(args)
    if key is None:
        return model.model_validate(args)
    hit = _validated.get((model, key))
    if hit is None:
        hit = model.model_validate(args)
        if len(_validated) >= MAX_ENTRIES:
            _validated.clear()
        _validated[(model, key)] = hit
    return hit


def inferred(op: Any, shapes: tuple[tuple[int, ...], ...]) -> Any:
    """What `op.infer` gave before for these input shapes, or None. A shape rule is a function
    of the op's arguments and its inputs' shapes only, and the validate memo hands out the same
    instance for the same arguments: so an op placed again on the same shapes (every `bn`, every
    1×1 conv of a stage) skips its rule. Keyed by identity, checked against the instance kept."""
    hit = _inferred.get((id(op), shapes))
    return hit[1] if hit is not None and hit[0] is op else None


def remember_inferred(op: Any, shapes: tuple[tuple[int, ...], ...], result: Any) -> None:
    if len(_inferred) >= MAX_ENTRIES:
        _inferred.clear()
    _inferred[(id(op), shapes)] = (op, result)
