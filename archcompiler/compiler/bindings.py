"""What a node's values come from: the spec's params (with `--set`), `override:` along the
`extends` chain, and `$expressions` over them."""

from __future__ import annotations

import math
import re
from collections import ChainMap
from collections.abc import Mapping
from typing import Any

from ..errors import Diagnostic, Location, SpecError, brief, did_you_mean
from ..spec import expr
from ..spec.loader import Doc, Path
from ..spec.validate import CheckedFile, expr_location

Origin = tuple[Doc, Path]  # where a value is written
_PLAIN = frozenset({int, float, bool, type(None)})  # values with nothing to substitute


def evaluate(
    value: Any, env: Mapping[str, Any], doc: Doc, path: Path, notes: tuple[str, ...] = ()
) -> Any:
    """Substitute every `$expression` inside `value` (lists and mappings included)."""
    # numbers, flags, null and strs that are no `$expr` are kept without a call or a path built
    # for them: this runs for every argument of every node placed
    if isinstance(value, list):
        return [v if type(v) in _PLAIN or (type(v) is str and v[:1] != "$")
                else evaluate(v, env, doc, (*path, i), notes)
                for i, v in enumerate(value)]  # fmt: skip
    if isinstance(value, dict):
        return {k: v if type(v) in _PLAIN or (type(v) is str and v[:1] != "$")
                else evaluate(v, env, doc, (*path, k), notes)
                for k, v in value.items()}  # fmt: skip
    if expr.is_expr(value):
        try:
            return expr.evaluate(value[1:], env)
        except expr.ExprError as e:
            where = expr_location(doc, path, e.offset)
            raise SpecError(Diagnostic(where, e.message, notes)) from None
    return value


def bind_params(
    chain: list[CheckedFile], sets: Mapping[str, str], functions: Mapping[str, expr.Helper]
) -> dict[str, Any]:
    """The params of the chain (a child's replace its base's), in order, each evaluated over the
    params above it and the spec's `functions`; `sets` (`--set KEY=VALUE`) replace values,
    typed by their defaults."""
    raw: dict[str, tuple[Any, CheckedFile]] = {}
    for f in chain:
        for k, v in f.spec.params.items():
            raw[k] = (v, f)
    for key in sets:
        if key not in raw:
            hint = did_you_mean(key, raw)
            raise SpecError.at(
                _params_location(chain), f"--set {key}=…: the spec has no param '{key}'{hint}"
            )
    env: dict[str, Any] = {}
    seen = ChainMap(env, dict(functions))  # a param's expression sees the params above it
    arities = {name: len(f.params) for name, f in functions.items()}
    for k, (v, f) in raw.items():
        written = expr.is_expr(v) and expr.names(v[1:], arities)
        later = written and sorted(written & (raw.keys() - env.keys()))
        if later:
            raise f.doc.error(
                ("params", k), f"param '{k}' uses '{later[0]}', which is given below it; "
                "params may use only the params above them",
            )  # fmt: skip
        value = evaluate(v, seen, f.doc, ("params", k))
        if k in sets:
            value = coerce_set(k, sets[k], value, f.doc.location(("params", k)))
        env[k] = value
    return env


def _params_location(chain: list[CheckedFile]) -> Location:
    for f in reversed(chain):
        if "params" in f.doc.data:
            return f.doc.location(("params",), key=True)
    return chain[-1].doc.location(())


_ASCII_INT = re.compile(r"[+-]?[0-9]+")
_ASCII_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def coerce_set(key: str, text: str, default: Any, where: Location) -> Any:
    """`--set k=v` takes the type of the param's default."""
    try:
        if isinstance(default, bool):
            if text.lower() in ("true", "1", "yes"):
                return True
            if text.lower() in ("false", "0", "no"):
                return False
            raise ValueError
        if isinstance(default, int):
            if not _ASCII_INT.fullmatch(text):  # int() also takes '١٠', ' 1_0 '
                raise ValueError
            return int(text)
        if isinstance(default, float):
            if not _ASCII_FLOAT.fullmatch(text):
                raise ValueError
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
            return value
    except ValueError:
        kind = type(default).__name__
        shown = brief(text)[1:-1]
        raise SpecError.at(
            where, f"--set {key}={shown}: '{key}' is {kind} (its default is {default!r})"
        ) from None
    return text


class Overrides:
    """`override:` of every file in the chain, merged by node or block name (a child's win),
    and which of them some node used."""

    def __init__(self, chain: list[CheckedFile]) -> None:
        self.written: dict[str, tuple[dict[str, Any], CheckedFile]] = {}
        for f in chain:
            for name, args in f.spec.override.items():
                self.written[name] = ({**self.written.get(name, ({}, f))[0], **args}, f)
        self.used: set[str] = set()

    def for_node(
        self, names: tuple[str | None, ...], params: Mapping[str, Any]
    ) -> tuple[dict[str, Any], Origin | None]:
        """The arguments overridden for a node known by `names` (its repeat group, its own name;
        later names win), evaluated over the spec's params, and where the last is written."""
        extra: dict[str, Any] = {}
        origin: Origin | None = None
        for key in names:
            if key in self.written:
                written, f = self.written[key]
                self.used.add(key)
                origin = (f.doc, ("override", key))
                extra.update(evaluate(written, params, *origin))
        return extra, origin

    def unused(self) -> list[tuple[str, CheckedFile]]:
        return [(name, f) for name, (_, f) in self.written.items() if name not in self.used]
