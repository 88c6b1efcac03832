"""`repeat`: how many instances of a node, what each is named, and what each sees (`repeat.index`,
`repeat.count`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from pydantic import ValidationError

from ..errors import SpecError, brief
from ..grammar import valid_name
from ..limits import MAX_REPEAT
from ..ops import OPS
from ..spec.expr import Record
from ..spec.model import RepeatForm
from ..spec.validate import RawNode, valid_repeat
from .bindings import evaluate
from .context import Context


@dataclass(frozen=True)
class Repeat:
    """A node's `repeat`, evaluated: how many instances, their name pattern, the first number."""

    times: int
    names: str | None = None
    start: int = 1
    inputs: int = 1  # earlier outputs each instance takes (RepeatForm.inputs)


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def instance_name(
    pattern: str, number: int, index: int, env: dict, raw: RawNode, notes: tuple[str, ...]
) -> str:
    """The `names` pattern of `repeat` filled in: `{i}` the number, `{a}` the letter (a, b, …),
    `{p}` the value of param or block parameter p."""

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "i":
            return str(number)
        if key == "a":
            if index >= 26:
                raise SpecError.at(raw.at("repeat"), "`{a}` letters name at most 26 instances",
                                   *notes)  # fmt: skip
            return chr(ord("a") + index)
        value = env.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise SpecError.at(
                raw.at("repeat"),
                f"`{{{key}}}` in `names` is not `i`, `a` or a param holding a number or a name",
                *notes,
            )
        return str(value)

    name = _PLACEHOLDER.sub(fill, pattern)
    if not valid_name(name):
        raise SpecError.at(raw.at("repeat"), f"instance name {name!r} is not a valid name", *notes)
    return name


def repeat_of(raw: RawNode, env: dict, notes: tuple[str, ...]) -> Repeat | None:
    """`repeat: n` or `repeat: {times, names, start}`, evaluated and checked."""
    if raw.repeat is None:  # most nodes: nothing to evaluate
        return None
    written = evaluate(raw.repeat, env, raw.doc, raw.arg_path("repeat"), notes)
    if written is None:
        return None
    form = written if isinstance(written, dict) else {"times": written}
    try:
        checked = RepeatForm.model_validate(form)
    except ValidationError:
        checked = None
    if checked is None or not valid_repeat(checked.times):
        shown = form.get("times")
        raise SpecError.at(
            raw.at("repeat"), f"repeat must be 1…{MAX_REPEAT:,}, got {brief(shown)}", *notes
        )
    return Repeat(checked.times, checked.names, checked.start, checked.inputs)  # type: ignore[arg-type]


def instances_of(
    raw: RawNode, base: str, local: str | None, repeat: Repeat | None, env: dict, ctx: Context
) -> Iterator[tuple[str, str | None, dict, Context]]:
    """(name, name in the node list, env, context) of each instance, one at a time (so that a
    walk stopped by a bound has not made the rest): one without `repeat`; with it,
    NAME_block{i} / NAME_{i} or the `names` pattern, each seeing `repeat`."""
    if repeat is None:
        yield (base, None, env, ctx)
        return
    group = (*ctx.block, base)
    suffix = "_" if raw.op in OPS else "_block"
    for k in range(repeat.times):
        number = repeat.start + k
        if repeat.names is None:
            name, key = f"{base}{suffix}{number}", local and f"{local}{suffix}{number}"
        else:
            key = instance_name(repeat.names, number, k, env, raw, ctx.notes)
            name = key[1:] if key.startswith("/") else ctx.prefix + key
            key = key.lstrip("/")
        seen = {**env, "repeat": Record("repeat", index=k, count=repeat.times)}
        yield (name, key, seen, replace(ctx, block=group, group=base))
