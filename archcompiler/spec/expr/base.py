"""What every part of the expression language shares: values, the error, the bounds."""

from __future__ import annotations

from typing import TypeAlias

from ...limits import MAX_EXPR_DEPTH, MAX_EXPR_INT_BITS

Scalar: TypeAlias = int | float | bool | str
Value: TypeAlias = "Scalar | list[Value] | Record | Helper"

MAX_STRING = 1024  # characters in a string an expression builds
MAX_ITEMS = 1024  # items in a list an expression builds

# Results of 2**1024 or more in magnitude are refused: that is float's range too, and it keeps
# every integer operation cheap no matter what a spec file asks for.
MAX_DEPTH, MAX_INT_BITS = MAX_EXPR_DEPTH, MAX_EXPR_INT_BITS


class ExprError(Exception):
    """A problem in an expression. `offset` is the 0-based index in the expression text (the
    text AFTER the leading '$') where the problem starts."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message, offset)  # both in args, so the error pickles intact
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        return self.message


def is_expr(value: object) -> bool:
    """True for a str starting with '$' (a spec value that is an expression)."""
    return isinstance(value, str) and value.startswith("$")


class Record:
    """A read-only value with named fields, read as `x.field`: an input's shape inside a block
    (`input.channels`), the instance of a `repeat` (`repeat.index`)."""

    __slots__ = ("_fields", "_what")

    def __init__(self, what: str, **fields: Value) -> None:
        self._what, self._fields = what, fields

    def field(self, name: str, offset: int) -> Value:
        if name not in self._fields:
            known = ", ".join(self._fields)
            raise ExprError(f"{self._what} has no '{name}' (it has {known})", offset)
        return self._fields[name]

    def __repr__(self) -> str:
        return f"<{self._what}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and (self._what, self._fields) == (
            other._what,
            other._fields,
        )

    def __hash__(self) -> int:
        return hash(self._what)


class Helper:
    """A function a spec declares once (`functions:`) and calls in its expressions: a parsed body
    over named parameters. Helpers call only the built-in functions, never each other or
    themselves, so a call costs at most one body's evaluation."""

    __slots__ = ("body", "name", "params")

    def __init__(self, name: str, params: tuple[str, ...], body: object) -> None:
        self.name, self.params, self.body = name, params, body

    def __repr__(self) -> str:
        return f"<function {self.name}({', '.join(self.params)})>"
