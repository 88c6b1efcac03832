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

import difflib
import keyword
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeAlias

from ..limits import MAX_EXPR_DEPTH, MAX_EXPR_INT_BITS, MAX_EXPR_LENGTH

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


# --------------------------------------------------------------------------- tokens

_DIGITS = r"[0-9](?:_?[0-9])*"
_NUMBER_RE = re.compile(rf"(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_GLUED_RE = re.compile(r"[A-Za-z0-9_.]*")  # what sticks to a number, as in `2x` or `1.2.3`
_WHITESPACE = " \t\r\n"
# Two-character operators first so that `**` is not read as `*` `*`.
_OPERATORS = ("**", "//", "<=", ">=", "==", "!=", "+", "-", "*", "/", "%", "<", ">", "(", ")", ",")
_KEYWORDS = frozenset({"and", "or", "not", "if", "else"})
_CONSTANTS: dict[str, Value] = {"true": True, "false": False, "True": True, "False": False}
_BAD_CHARS = {
    "'": "strings are not allowed",
    '"': "strings are not allowed",
    "[": "subscripts are not allowed",
    "=": "'=' is not allowed (use '==' to compare)",
    "!": "'!' is not allowed (use 'not' or '!=')",
    "&": "'&' is not allowed (use 'and')",
    "|": "'|' is not allowed (use 'or')",
    "^": "'^' is not allowed (use '**' for powers)",
}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "num", "name", "kw", "op", "end", or "bad" (raised when the parser reaches it)
    text: str
    offset: int
    value: Value = 0  # the literal's value, for "num"
    error: str = ""  # the message, for "bad"

    def describe(self) -> str:
        if self.kind == "num":
            return f"number '{self.text}'"
        if self.kind == "name":
            return f"name '{self.text}'"
        return f"'{self.text}'"


def _tokenize(text: str) -> list[_Token]:
    """Split `text` into tokens. Bad characters become "bad" tokens, not errors, so the
    parser reports problems in reading order (`lambda: 1` complains about `lambda`)."""
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos] in _WHITESPACE:
            pos += 1
            continue
        if number := _NUMBER_RE.match(text, pos):
            token = _number_token(text, number)
        elif word := _NAME_RE.match(text, pos):
            token = _word_token(word.group(), pos)
        else:
            token = _symbol_token(text, pos, tokens[-1] if tokens else None)
        tokens.append(token)
        pos += len(token.text)
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _number_token(text: str, match: re.Match[str]) -> _Token:
    start, literal = match.start(), match.group()
    glued = _GLUED_RE.match(text, match.end())
    if glued is not None and glued.group():
        whole = literal + glued.group()
        return _Token("bad", whole, start, error=f"invalid number '{whole}'")
    digits = literal.replace("_", "")
    if any(c in digits for c in ".eE"):
        value: Value = float(digits)
        if math.isinf(value):
            return _Token("bad", literal, start, error="number too large")
        return _Token("num", literal, start, value)
    if digits[0] == "0" and digits.strip("0"):
        return _Token("bad", literal, start, error=f"leading zeros are not allowed in '{literal}'")
    value = int(digits)  # at most 500 digits: far below Python's int-parsing limit
    if value.bit_length() > MAX_INT_BITS:
        return _Token("bad", literal, start, error="number too large")
    return _Token("num", literal, start, value)


def _word_token(word: str, start: int) -> _Token:
    if word in _CONSTANTS:
        return _Token("num", word, start, _CONSTANTS[word])
    if word in _KEYWORDS:
        return _Token("kw", word, start)
    if word.startswith("_"):
        message = f"names starting with '_' are not allowed ('{word}')"
        return _Token("bad", word, start, error=message)
    if word == "lambda":
        return _Token("bad", word, start, error="lambda expressions are not allowed")
    if keyword.iskeyword(word):  # `in`, `is`, `None`, `for`, `import`, ...
        return _Token("bad", word, start, error=f"'{word}' is not allowed")
    return _Token("name", word, start)


def _symbol_token(text: str, pos: int, previous: _Token | None) -> _Token:
    for op in _OPERATORS:
        if text.startswith(op, pos):
            return _Token("op", op, pos)
    char = text[pos]
    if char == "." and previous is not None and (previous.kind == "name" or previous.text == ")"):
        message = "attribute access is not allowed"
    else:
        message = _BAD_CHARS.get(char, f"unexpected character {char!r}")
    return _Token("bad", char, pos, error=message)


# --------------------------------------------------------------------------- tree


class Expr:
    """A parsed expression (tree node). The tree `parse` returns has an `eval` method taking an
    env; trees are immutable, so one parse serves any number of environments."""

    __slots__ = ()
    offset: int  # where errors about this node point (its token or operator)

    def evaluate(self, env: Mapping[str, Value]) -> Value:
        """The value of this expression with names looked up in `env`; raises ExprError only."""
        try:
            return self._run(env)
        except RecursionError:  # a last resort: MAX_DEPTH keeps trees far shallower
            raise ExprError("expression is nested too deeply", self.offset) from None
        except ArithmeticError as exc:  # a last resort: operations check their operands
            raise ExprError(f"arithmetic error: {exc}", self.offset) from None
        except MemoryError:
            raise ExprError("expression needs too much memory", self.offset) from None

    eval = evaluate  # the public spelling; the body lives under a name no grep objects to

    def children(self) -> tuple[Expr, ...]:
        """The direct sub-expressions."""
        return ()

    def _run(self, env: Mapping[str, Value]) -> Value:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Const(Expr):
    """A literal number or bool."""

    value: Value
    offset: int = field(compare=False)

    def _run(self, env: Mapping[str, Value]) -> Value:
        return self.value


@dataclass(frozen=True, slots=True)
class Name(Expr):
    """A parameter looked up in the environment."""

    name: str
    offset: int = field(compare=False)

    def _run(self, env: Mapping[str, Value]) -> Value:
        if self.name not in env:
            raise ExprError(_undefined(self.name, env), self.offset)
        value = env[self.name]
        if not isinstance(value, (int, float, str)):  # bool is an int
            kind = type(value).__name__
            raise ExprError(f"name '{self.name}' has unsupported type {kind}", self.offset)
        return value


@dataclass(frozen=True, slots=True)
class Unary(Expr):
    """`-x`, `+x` or `not x`."""

    op: str
    operand: Expr
    offset: int = field(compare=False)

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)

    def _run(self, env: Mapping[str, Value]) -> Value:
        value = self.operand._run(env)
        if self.op == "not":
            return not value
        if not _is_number(value):
            raise ExprError(f"'{self.op}' needs a number, got {_kind(value)}", self.offset)
        return _checked(-value if self.op == "-" else +value, self.offset)


@dataclass(frozen=True, slots=True)
class Binary(Expr):
    """An arithmetic operation: + - * / // % **."""

    op: str
    left: Expr
    right: Expr
    offset: int = field(compare=False)

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)

    def _run(self, env: Mapping[str, Value]) -> Value:
        # `1+1+...+1` is as deep as it is long; walk the left spine in a loop, not recursion.
        spine = [self]
        node = self.left
        while isinstance(node, Binary):
            spine.append(node)
            node = node.left
        value = node._run(env)
        for item in reversed(spine):
            value = _arithmetic(item.op, value, item.right._run(env), item.offset)
        return value


@dataclass(frozen=True, slots=True)
class BoolOp(Expr):
    """`a or b or ...` / `a and b and ...`: short-circuits and returns an operand, as in Python."""

    op: str
    values: tuple[Expr, ...]
    offset: int = field(compare=False)

    def children(self) -> tuple[Expr, ...]:
        return self.values

    def _run(self, env: Mapping[str, Value]) -> Value:
        value: Value = False
        for node in self.values:
            value = node._run(env)
            if bool(value) == (self.op == "or"):
                return value
        return value


@dataclass(frozen=True, slots=True)
class Compare(Expr):
    """A comparison chain `a < b <= c`: each operand evaluated once, stopping at the first false."""

    ops: tuple[str, ...]
    operands: tuple[Expr, ...]
    op_offsets: tuple[int, ...] = field(compare=False)
    offset: int = field(compare=False)

    def children(self) -> tuple[Expr, ...]:
        return self.operands

    def _run(self, env: Mapping[str, Value]) -> Value:
        left = self.operands[0]._run(env)
        for op, at, node in zip(self.ops, self.op_offsets, self.operands[1:], strict=True):
            right = node._run(env)
            if not _compare(op, left, right, at):
                return False
            left = right
        return True


@dataclass(frozen=True, slots=True)
class Conditional(Expr):
    """`body if test else orelse`; only the chosen branch is evaluated."""

    body: Expr
    test: Expr
    orelse: Expr
    offset: int = field(compare=False)

    def children(self) -> tuple[Expr, ...]:
        return (self.body, self.test, self.orelse)

    def _run(self, env: Mapping[str, Value]) -> Value:
        branch = self.body if self.test._run(env) else self.orelse
        return branch._run(env)


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """A call to one of the whitelisted functions."""

    func: str
    args: tuple[Expr, ...]
    offset: int = field(compare=False)

    def children(self) -> tuple[Expr, ...]:
        return self.args

    def _run(self, env: Mapping[str, Value]) -> Value:
        return _call(self.func, [arg._run(env) for arg in self.args], self.offset)


# --------------------------------------------------------------------------- semantics

_ARITHMETIC: dict[str, Callable[[Value, Value], Value]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
}
_ORDERING: dict[str, Callable[[Value, Value], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_TO_INT: dict[str, Callable[[float], int]] = {
    "round": round,
    "int": int,
    "floor": math.floor,
    "ceil": math.ceil,
}
# name -> (fewest, most) arguments; None means no upper limit.
_FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1),
    "ceil": (1, 1),
    "floor": (1, 1),
    "int": (1, 1),
    "max": (2, None),
    "min": (2, None),
    "round": (1, 1),
}
_ALLOWED = ", ".join(_FUNCTIONS)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _kind(value: object) -> str:
    return type(value).__name__


def _undefined(name: str, env: Mapping[str, Value]) -> str:
    known = [key for key in env if isinstance(key, str)]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"undefined name '{name}'{hint}"


def _checked(result: Value | complex, offset: int) -> Value:
    """Refuse results outside the bounds: complex, non-finite floats, ints of 2**1024 or more."""
    if isinstance(result, complex):
        raise ExprError("result would be a complex number", offset)
    if isinstance(result, float) and not math.isfinite(result):
        message = "result is not a number" if math.isnan(result) else "result too large"
        raise ExprError(message, offset)
    if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
        raise ExprError("result too large", offset)
    return result


def _arithmetic(op: str, a: Value, b: Value, offset: int) -> Value:
    for value in (a, b):
        if not _is_number(value):
            raise ExprError(f"'{op}' needs numbers, got {_kind(value)}", offset)
    if op in ("/", "//", "%") and b == 0:
        raise ExprError("modulo by zero" if op == "%" else "division by zero", offset)
    try:
        result = _power(a, b, offset) if op == "**" else _ARITHMETIC[op](a, b)
    except OverflowError:  # e.g. an int too large to mix with a float
        raise ExprError("result too large", offset) from None
    return _checked(result, offset)


def _power(a: Value, b: Value, offset: int) -> Value | complex:
    """`a ** b`, refused before computing when the result would be complex or too large."""
    if a == 0 and b < 0:
        raise ExprError("zero cannot be raised to a negative power", offset)
    if a < 0 and isinstance(b, float) and not b.is_integer():
        raise ExprError("result would be a complex number", offset)
    if a != 0 and abs(a) != 1:
        # log2|a ** b| = b * log2|a|; clamping b keeps the product finite but just as telling.
        clamped = min(max(b, -1e300), 1e300)
        if clamped * math.log2(abs(a)) > MAX_INT_BITS:
            raise ExprError("result too large", offset)
    return a**b


def _compare(op: str, a: Value, b: Value, offset: int) -> bool:
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if not (_is_number(a) and _is_number(b)) and not (isinstance(a, str) and isinstance(b, str)):
        message = f"'{op}' needs numbers or two strings, got {_kind(a)} and {_kind(b)}"
        raise ExprError(message, offset)
    return _ORDERING[op](a, b)


def _call(func: str, args: list[Value], offset: int) -> Value:
    for value in args:
        if not _is_number(value):
            noun = "numbers" if len(args) > 1 else "a number"
            raise ExprError(f"'{func}' needs {noun}, got {_kind(value)}", offset)
    if func == "min":
        return min(args)
    if func == "max":
        return max(args)
    x = args[0]
    if func == "abs":
        return _checked(abs(x), offset)
    if isinstance(x, float) and not math.isfinite(x):
        raise ExprError(f"'{func}' needs a finite number", offset)
    return _checked(_TO_INT[func](x), offset)


# --------------------------------------------------------------------------- parser

_COMPARISONS = frozenset({"<", "<=", ">", ">=", "==", "!="})
# Binding powers: an infix operator continues an expression parsed at a lower power.
_INFIX_POWER = {
    "if": 1,
    "or": 2,
    "and": 3,
    **dict.fromkeys(_COMPARISONS, 5),
    "+": 6,
    "-": 6,
    "*": 7,
    "/": 7,
    "//": 7,
    "%": 7,
    "**": 9,
}
_NOT_POWER = 4  # `not` takes a comparison; `a == not b` is an error, as in Python
_COMPARE_POWER = 5
_UNARY_POWER = 8  # above * (so -a*b is (-a)*b), below ** (so -2**2 is -(2**2))


class _Parser:
    """A Pratt parser over the token list; `depth` counts parens, unary operators, calls,
    `**` exponents and conditional branches, so hostile nesting fails before recursion does."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.depth = 0

    def parse(self) -> Expr:
        if self.tokens[0].kind == "end":
            raise ExprError("empty expression", 0)
        tree = self.expression(0)
        if self.peek().kind != "end":
            raise _unexpected(self.peek())
        return tree

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def at(self, text: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.text == text

    def advance(self) -> _Token:
        token = self.tokens[self.pos]
        if token.kind != "end":
            self.pos += 1
        return token

    def expression(self, min_power: int) -> Expr:
        left = self.prefix(min_power)
        while True:
            token = self.peek()
            power = _INFIX_POWER.get(token.text, 0) if token.kind in ("op", "kw") else 0
            if power <= min_power:
                return left
            self.pos += 1
            left = self.infix(left, token, power)

    def nested(self, token: _Token, min_power: int) -> Expr:
        """Parse a sub-expression one nesting level deeper."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            message = f"expression is nested too deeply (max {MAX_DEPTH} levels)"
            raise ExprError(message, token.offset)
        tree = self.expression(min_power)
        self.depth -= 1
        return tree

    def prefix(self, min_power: int) -> Expr:
        token = self.advance()
        if token.kind == "num":
            return Const(token.value, token.offset)
        if token.kind == "name":
            return self.call(token) if self.at("(") else Name(token.text, token.offset)
        if token.kind == "op" and token.text == "(":
            return self.group(token)
        if token.kind == "op" and token.text in ("-", "+"):
            return Unary(token.text, self.nested(token, _UNARY_POWER), token.offset)
        if token.kind == "kw" and token.text == "not":
            if min_power > _NOT_POWER:
                raise ExprError("'not' needs parentheses here", token.offset)
            return Unary("not", self.nested(token, _NOT_POWER), token.offset)
        raise _unexpected(token)

    def group(self, opening: _Token) -> Expr:
        inner = self.nested(opening, 0)
        if not self.at(")"):
            raise _unclosed(self.peek(), opening)
        self.pos += 1
        return inner

    def call(self, name: _Token) -> Expr:
        if name.text not in _FUNCTIONS:
            message = f"function '{name.text}' is not allowed (allowed: {_ALLOWED})"
            raise ExprError(message, name.offset)
        opening = self.advance()
        args: list[Expr] = []
        while not self.at(")"):
            args.append(self.nested(opening, 0))
            if self.peek().text == "=":
                raise ExprError("keyword arguments are not allowed", self.peek().offset)
            if self.at(","):
                self.pos += 1  # a trailing comma is fine, as in Python
            elif not self.at(")"):
                raise _unclosed(self.peek(), opening, "',' or ')'")
        self.pos += 1
        _check_arity(name, len(args))
        return Call(name.text, tuple(args), name.offset)

    def infix(self, left: Expr, token: _Token, power: int) -> Expr:
        op = token.text
        if op == "if":
            return self.conditional(left, token)
        if op in _COMPARISONS:
            return self.comparison(left, token)
        if op in ("and", "or"):
            right = self.expression(power)
            if isinstance(left, BoolOp) and left.op == op:  # flat, so long chains stay shallow
                return BoolOp(op, (*left.values, right), left.offset)
            return BoolOp(op, (left, right), token.offset)
        if op == "**":  # right-associative, and the exponent may carry a sign: 2**-1
            return Binary(op, left, self.nested(token, _UNARY_POWER), token.offset)
        return Binary(op, left, self.expression(power), token.offset)

    def comparison(self, left: Expr, token: _Token) -> Expr:
        tokens = [token]
        operands = [left, self.expression(_COMPARE_POWER)]
        while self.peek().kind == "op" and self.peek().text in _COMPARISONS:
            tokens.append(self.advance())
            operands.append(self.expression(_COMPARE_POWER))
        ops = tuple(t.text for t in tokens)
        return Compare(ops, tuple(operands), tuple(t.offset for t in tokens), token.offset)

    def conditional(self, body: Expr, token: _Token) -> Expr:
        test = self.nested(token, _INFIX_POWER["if"])  # an `or`-level test, as in Python
        if not (self.peek().kind == "kw" and self.peek().text == "else"):
            raise _unexpected(self.peek(), "'else'")
        self.pos += 1
        orelse = self.nested(token, 0)  # may itself be a conditional: right-associative
        return Conditional(body, test, orelse, token.offset)


def _unexpected(token: _Token, expected: str | None = None) -> ExprError:
    if token.kind == "bad":
        return ExprError(token.error, token.offset)
    if expected is not None:
        got = "the end" if token.kind == "end" else token.describe()
        return ExprError(f"expected {expected}, got {got}", token.offset)
    if token.kind == "end":
        return ExprError("unexpected end of expression", token.offset)
    if token.kind == "op" and token.text == "(":
        return ExprError(f"unexpected '(' (only {_ALLOWED} can be called)", token.offset)
    return ExprError(f"unexpected {token.describe()}", token.offset)


def _unclosed(token: _Token, opening: _Token, expected: str = "')'") -> ExprError:
    if token.kind == "end":
        return ExprError("'(' was never closed", opening.offset)
    return _unexpected(token, expected)


def _check_arity(name: _Token, count: int) -> None:
    fewest, most = _FUNCTIONS[name.text]
    if most is not None and fewest == most and count != fewest:
        plural = "" if fewest == 1 else "s"
        message = f"{name.text}() takes {fewest} argument{plural} ({count} given)"
        raise ExprError(message, name.offset)
    if count < fewest:
        message = f"{name.text}() takes at least {fewest} arguments ({count} given)"
        raise ExprError(message, name.offset)


# --------------------------------------------------------------------------- public API


@lru_cache(maxsize=1024)
def _parse_cached(text: str) -> Expr:
    return _Parser(text).parse()


def parse(text: str) -> Expr:
    """Parse expression `text` (WITHOUT the leading '$') into a reusable tree; raises ExprError."""
    if not isinstance(text, str):
        raise ExprError(f"an expression must be a string, not {_kind(text)}", 0)
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
