"""The parsed expression: one node class per construct, each evaluating itself over the
whitelisted semantics below (checked arithmetic, comparisons, the callable functions)."""

from __future__ import annotations

import difflib
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .base import MAX_INT_BITS, MAX_ITEMS, MAX_STRING, ExprError, Helper, Record, Value


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
    """A literal number, bool or string."""

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
        if isinstance(value, Helper):
            raise ExprError(f"'{self.name}' is a function: call it, {value}", self.offset)
        if not _is_value(value):
            kind = type(value).__name__
            raise ExprError(f"name '{self.name}' has unsupported type {kind}", self.offset)
        return value


@dataclass(frozen=True, slots=True)
class ListExpr(Expr):
    """`[a, b, …]`."""

    items: tuple[Expr, ...]
    offset: int = field(compare=False)

    def children(self) -> tuple[Expr, ...]:
        return self.items

    def _run(self, env: Mapping[str, Value]) -> Value:
        return [item._run(env) for item in self.items]


@dataclass(frozen=True, slots=True)
class Subscript(Expr):
    """`x[i]`: an item of a list or a character of a string; negative `i` counts from the end."""

    value: Expr
    index: Expr
    offset: int = field(compare=False)

    def children(self) -> tuple[Expr, ...]:
        return (self.value, self.index)

    def _run(self, env: Mapping[str, Value]) -> Value:
        value, index = self.value._run(env), self.index._run(env)
        if not isinstance(value, (list, str)):
            raise ExprError(f"only lists and strings have items, not {kind(value)}", self.offset)
        if not isinstance(index, int) or isinstance(index, bool):
            raise ExprError(f"an index is an integer, got {kind(index)}", self.offset)
        if not -len(value) <= index < len(value):
            raise ExprError(f"index {index} is out of range for {len(value)} items", self.offset)
        return value[index]


@dataclass(frozen=True, slots=True)
class Attribute(Expr):
    """`x.field` of a record: `input.channels`, `repeat.index`."""

    value: Expr
    attr: str
    offset: int = field(compare=False)

    def children(self) -> tuple[Expr, ...]:
        return (self.value,)

    def _run(self, env: Mapping[str, Value]) -> Value:
        value = self.value._run(env)
        if not isinstance(value, Record):
            raise ExprError(
                f"attribute access is not allowed on {kind(value)} (only on shapes such as "
                "`input.channels` and on `repeat`)",
                self.offset,
            )
        return value.field(self.attr, self.offset)


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
            raise ExprError(f"'{self.op}' needs a number, got {kind(value)}", self.offset)
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
        args = [arg._run(env) for arg in self.args]
        if self.func in FUNCTIONS:
            return _call(self.func, args, self.offset)
        helper = env.get(self.func)
        if not isinstance(helper, Helper):
            raise ExprError(f"function '{self.func}' is not defined", self.offset)
        if len(args) != len(helper.params):
            message = f"{self.func}() takes {len(helper.params)} arguments ({len(args)} given)"
            raise ExprError(message, self.offset)
        # its parameters only (and the built-in functions): a helper sees nothing else
        return helper.body._run(dict(zip(helper.params, args, strict=True)))  # type: ignore[attr-defined]


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
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "abs": (1, 1),
    "ceil": (1, 1),
    "floor": (1, 1),
    "int": (1, 1),
    "len": (1, 1),
    "max": (2, None),
    "min": (2, None),
    "round": (1, 1),
    "str": (1, 1),
}
ALLOWED = ", ".join(FUNCTIONS)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_value(value: object) -> bool:
    """A value expressions take: a number, bool, string, record, or a list of values."""
    if isinstance(value, list):
        return all(_is_value(v) for v in value)
    return isinstance(value, (int, float, str, Record))  # bool is an int


def kind(value: object) -> str:
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
    if op == "+" and isinstance(a, str) and isinstance(b, str):
        if len(a) + len(b) > MAX_STRING:
            raise ExprError(f"string too long (max {MAX_STRING:,} characters)", offset)
        return a + b
    if op == "+" and isinstance(a, list) and isinstance(b, list):
        if len(a) + len(b) > MAX_ITEMS:
            raise ExprError(f"list too long (max {MAX_ITEMS:,} items)", offset)
        return a + b
    for value in (a, b):
        if not _is_number(value):
            raise ExprError(f"'{op}' needs numbers, got {kind(value)}", offset)
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
        message = f"'{op}' needs numbers or two strings, got {kind(a)} and {kind(b)}"
        raise ExprError(message, offset)
    return _ORDERING[op](a, b)


def _call(func: str, args: list[Value], offset: int) -> Value:
    if func == "len":
        if not isinstance(args[0], (list, str)):
            raise ExprError(f"'len' needs a list or a string, got {kind(args[0])}", offset)
        return len(args[0])
    if func == "str":
        if not isinstance(args[0], (int, float, str)) or isinstance(args[0], bool):
            raise ExprError(f"'str' needs a number or a string, got {kind(args[0])}", offset)
        return str(args[0])
    for value in args:
        if not _is_number(value):
            noun = "numbers" if len(args) > 1 else "a number"
            raise ExprError(f"'{func}' needs {noun}, got {kind(value)}", offset)
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
