"""The Pratt parser of `$expressions`: tokens → tree, every error located."""

from __future__ import annotations

from collections.abc import Mapping

from .base import MAX_DEPTH, ExprError
from .tokens import Token, tokenize
from .tree import (
    ALLOWED,
    FUNCTIONS,
    Attribute,
    Binary,
    BoolOp,
    Call,
    Compare,
    Conditional,
    Const,
    Expr,
    ListExpr,
    Name,
    Subscript,
    Unary,
)

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


class Parser:
    """A Pratt parser over the token list; `depth` counts parens, unary operators, calls,
    `**` exponents and conditional branches, so hostile nesting fails before recursion does."""

    def __init__(self, text: str, helpers: Mapping[str, int] | None = None) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0
        self.helpers = helpers or {}  # the spec's own functions: name → number of parameters

    def parse(self) -> Expr:
        if self.tokens[0].kind == "end":
            raise ExprError("empty expression", 0)
        tree = self.expression(0)
        if self.peek().kind != "end":
            raise _unexpected(self.peek())
        return tree

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def at(self, text: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.text == text

    def advance(self) -> Token:
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

    def nested(self, token: Token, min_power: int) -> Expr:
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
        if token.kind in ("num", "str"):
            return self.postfix(Const(token.value, token.offset))
        if token.kind == "name":
            primary = self.call(token) if self.at("(") else Name(token.text, token.offset)
            return self.postfix(primary)
        if token.kind == "op" and token.text == "(":
            return self.postfix(self.group(token))
        if token.kind == "op" and token.text == "[":
            return self.postfix(self.list_literal(token))
        if token.kind == "op" and token.text in ("-", "+"):
            return Unary(token.text, self.nested(token, _UNARY_POWER), token.offset)
        if token.kind == "kw" and token.text == "not":
            if min_power > _NOT_POWER:
                raise ExprError("'not' needs parentheses here", token.offset)
            return Unary("not", self.nested(token, _NOT_POWER), token.offset)
        raise _unexpected(token)

    def postfix(self, value: Expr) -> Expr:
        """`x.field` and `x[i]`, binding tighter than any operator."""
        while self.at(".") or self.at("["):
            token = self.advance()
            if token.text == "[":
                index = self.nested(token, 0)
                if not self.at("]"):
                    raise _unclosed(self.peek(), token, "']'")
                self.pos += 1
                value = Subscript(value, index, token.offset)
                continue
            attr = self.advance()
            if attr.kind == "bad" and attr.text.startswith("_"):
                raise ExprError(f"attribute access is not allowed ('{attr.text}')", token.offset)
            if attr.kind != "name":
                raise _unexpected(attr, "a field name after '.'")
            value = Attribute(value, attr.text, token.offset)
        return value

    def list_literal(self, opening: Token) -> Expr:
        items: list[Expr] = []
        while not self.at("]"):
            items.append(self.nested(opening, 0))
            if self.at(","):
                self.pos += 1  # a trailing comma is fine, as in Python
            elif not self.at("]"):
                raise _unclosed(self.peek(), opening, "',' or ']'")
        self.pos += 1
        return ListExpr(tuple(items), opening.offset)

    def group(self, opening: Token) -> Expr:
        inner = self.nested(opening, 0)
        if not self.at(")"):
            raise _unclosed(self.peek(), opening)
        self.pos += 1
        return inner

    def call(self, name: Token) -> Expr:
        if name.text not in FUNCTIONS and name.text not in self.helpers:
            mine = f"; this spec's: {', '.join(self.helpers)}" if self.helpers else ""
            message = f"function '{name.text}' is not allowed (allowed: {ALLOWED}{mine})"
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
        arity = FUNCTIONS.get(name.text) or (self.helpers[name.text],) * 2
        _check_arity(name, len(args), arity)
        return Call(name.text, tuple(args), name.offset)

    def infix(self, left: Expr, token: Token, power: int) -> Expr:
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

    def comparison(self, left: Expr, token: Token) -> Expr:
        tokens = [token]
        operands = [left, self.expression(_COMPARE_POWER)]
        while self.peek().kind == "op" and self.peek().text in _COMPARISONS:
            tokens.append(self.advance())
            operands.append(self.expression(_COMPARE_POWER))
        ops = tuple(t.text for t in tokens)
        return Compare(ops, tuple(operands), tuple(t.offset for t in tokens), token.offset)

    def conditional(self, body: Expr, token: Token) -> Expr:
        test = self.nested(token, _INFIX_POWER["if"])  # an `or`-level test, as in Python
        if not (self.peek().kind == "kw" and self.peek().text == "else"):
            raise _unexpected(self.peek(), "'else'")
        self.pos += 1
        orelse = self.nested(token, 0)  # may itself be a conditional: right-associative
        return Conditional(body, test, orelse, token.offset)


def _unexpected(token: Token, expected: str | None = None) -> ExprError:
    if token.kind == "bad":
        return ExprError(token.error, token.offset)
    if expected is not None:
        got = "the end" if token.kind == "end" else token.describe()
        return ExprError(f"expected {expected}, got {got}", token.offset)
    if token.kind == "end":
        return ExprError("unexpected end of expression", token.offset)
    if token.kind == "op" and token.text == "(":
        return ExprError(f"unexpected '(' (only {ALLOWED} can be called)", token.offset)
    return ExprError(f"unexpected {token.describe()}", token.offset)


def _unclosed(token: Token, opening: Token, expected: str = "')'") -> ExprError:
    if token.kind == "end":
        return ExprError(f"'{opening.text}' was never closed", opening.offset)
    return _unexpected(token, expected)


def _check_arity(name: Token, count: int, arity: tuple[int, int | None]) -> None:
    fewest, most = arity
    if most is not None and fewest == most and count != fewest:
        plural = "" if fewest == 1 else "s"
        message = f"{name.text}() takes {fewest} argument{plural} ({count} given)"
        raise ExprError(message, name.offset)
    if count < fewest:
        message = f"{name.text}() takes at least {fewest} arguments ({count} given)"
        raise ExprError(message, name.offset)
