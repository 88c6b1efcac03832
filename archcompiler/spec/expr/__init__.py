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

import re
from collections.abc import Mapping
from functools import lru_cache

from ...limits import MAX_EXPR_LENGTH
from .base import MAX_DEPTH, ExprError, Helper, Record, Value, is_expr
from .parser import Parser
from .tree import FUNCTIONS, Expr, Name, kind

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPR_LENGTH",
    "Expr",
    "ExprError",
    "Helper",
    "Record",
    "Value",
    "evaluate",
    "helper",
    "is_expr",
    "names",
    "parse",
]


@lru_cache(maxsize=1024)
def _parse_cached(text: str, helpers: tuple[tuple[str, int], ...]) -> Expr:
    return Parser(text, dict(helpers)).parse()


def parse(text: str, helpers: Mapping[str, int] | None = None) -> Expr:
    """Parse expression `text` (WITHOUT the leading '$') into a reusable tree; `helpers` are the
    spec's own functions (name → number of parameters) it may call. Raises ExprError."""
    if not isinstance(text, str):
        raise ExprError(f"an expression must be a string, not {kind(text)}", 0)
    if len(text) > MAX_EXPR_LENGTH:
        message = f"expression is too long ({len(text)} characters, max {MAX_EXPR_LENGTH})"
        raise ExprError(message, MAX_EXPR_LENGTH)
    try:
        return _parse_cached(text, tuple(sorted((helpers or {}).items())))
    except RecursionError:  # a last resort: MAX_DEPTH keeps the parser far shallower
        raise ExprError("expression is nested too deeply", 0) from None


def evaluate(text: str, env: Mapping[str, Value]) -> Value:
    """The value of expression `text` (without '$') with names from `env` (the spec's helpers
    among them, as `Helper` values); raises ExprError."""
    helpers = {k: len(v.params) for k, v in env.items() if isinstance(v, Helper)}
    return parse(text, helpers).evaluate(env)


def names(text: str, helpers: Mapping[str, int] | None = None) -> set[str]:
    """The free variable names `text` uses (function names excluded); raises ExprError."""
    found: set[str] = set()
    stack = [parse(text, helpers)]
    while stack:  # a loop, not recursion: long `a+b+...` chains are deep on the left
        node = stack.pop()
        if isinstance(node, Name):
            found.add(node.name)
        stack.extend(node.children())
    return found


SIGNATURE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\(\s*((?:[A-Za-z][A-Za-z0-9_]*\s*,\s*)*"
                       r"[A-Za-z][A-Za-z0-9_]*)?\s*,?\s*\)$")  # fmt: skip


def helper(signature: str, body: str) -> Helper:
    """A spec's function `name(a, b)` with body expression `body` (without its '$'): the body may
    use only its parameters and the built-in functions. Raises ExprError (offset into `body`;
    -1 when the signature is wrong)."""
    match = SIGNATURE.match(signature.strip())
    if match is None:
        raise ExprError("a function is written `name(a, b)`: letters, digits and _", -1)
    name, params = (
        match.group(1),
        tuple(p.strip() for p in (match.group(2) or "").split(",") if p.strip()),
    )
    if name in FUNCTIONS:
        raise ExprError(f"'{name}' is a built-in function; choose another name", -1)
    if len(set(params)) != len(params):
        raise ExprError("a function's parameters have different names", -1)
    tree = parse(body)
    unknown = sorted(names(body) - set(params))
    if unknown:
        raise ExprError(f"'{unknown[0]}' is not a parameter of {name}()", body.find(unknown[0]))
    return Helper(name, params, tree)
