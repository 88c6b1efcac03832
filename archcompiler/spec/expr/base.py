"""What every part of the expression language shares: values, the error, the bounds."""

from __future__ import annotations

from typing import TypeAlias

from ...limits import MAX_EXPR_DEPTH, MAX_EXPR_INT_BITS

Value: TypeAlias = int | float | bool | str

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
