"""Safe `$expressions` in spec values: ``"$filters * 4"``, ``"$max(8, round(c * alpha))"``.

A spec string that starts with ``$`` is an expression over named parameters. The text after
the ``$`` is read by this module's own tokenizer and Pratt parser over a small whitelist; it is
never handed to Python's evaluator. Spec files may be hostile, so the text length, the nesting
depth and the size of every number are bounded, and every problem, for any input string,
surfaces as an `ExprError` carrying an offset into the text.

Grammar, loosest binding first (as in Python)::

    A if C else B                      conditional (only the chosen branch is evaluated)
    or, and, not                       Python truthiness; `and`/`or` return an operand
    < <= > >= == !=                    chained like Python: a < b < c
    + -        * / // %                `/` is true division, `//` and `%` floor like Python
    unary + -  **                      `**` is right-associative: -2**2 == -4, 2**-1 == 0.5
    literals, names, calls, ( ... )

Literals are ints (``1_000``), floats (``.5``, ``2.5E3``) and ``true``/``false``
(``True``/``False``). The callable functions are ``min`` and ``max`` (two or more
arguments, like Python's for plain numbers), and ``round`` (banker's rounding), ``int``
(truncates), ``floor``, ``ceil`` (these four return ints) and ``abs``, with one argument each.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from ...limits import MAX_EXPR_LENGTH
from .base import MAX_DEPTH, ExprError, Value, is_expr
from .parser import Parser
from .tree import Expr, Name, kind

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPR_LENGTH",
    "Expr",
    "ExprError",
    "Value",
    "evaluate",
    "is_expr",
    "names",
    "parse",
]


@lru_cache(maxsize=1024)
def _parse_cached(text: str) -> Expr:
    return Parser(text).parse()


def parse(text: str) -> Expr:
    """Parse expression `text` (WITHOUT the leading '$') into a reusable tree; raises ExprError."""
    if not isinstance(text, str):
        raise ExprError(f"an expression must be a string, not {kind(text)}", 0)
    if len(text) > MAX_EXPR_LENGTH:
        message = f"expression is too long ({len(text)} characters, max {MAX_EXPR_LENGTH})"
        raise ExprError(message, MAX_EXPR_LENGTH)
    try:
        return _parse_cached(text)
    except RecursionError:  # a last resort: MAX_DEPTH keeps the parser far shallower
        raise ExprError("expression is nested too deeply", 0) from None


def evaluate(text: str, env: Mapping[str, Value]) -> Value:
    """The value of expression `text` (without '$') with names from `env`; raises ExprError."""
    return parse(text).evaluate(env)


def names(text: str) -> set[str]:
    """The free variable names `text` uses (function names excluded); raises ExprError."""
    found: set[str] = set()
    stack = [parse(text)]
    while stack:  # a loop, not recursion: long `a+b+...` chains are deep on the left
        node = stack.pop()
        if isinstance(node, Name):
            found.add(node.name)
        stack.extend(node.children())
    return found
