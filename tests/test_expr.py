"""Tests for archcompiler.spec.expr, the safe `$expression` language of spec files."""

from __future__ import annotations

import math
import operator
import pickle
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from archcompiler.spec import expr
from archcompiler.spec.expr import (
    MAX_DEPTH,
    MAX_EXPR_LENGTH,
    Expr,
    ExprError,
    Record,
    Value,
    evaluate,
    helper,
    is_expr,
    names,
    parse,
)

ENV: dict[str, Value] = {
    "filters": 16,
    "c": 16,
    "alpha": 0.75,
    "i": 1,
    "s": "text",
    "t": "other",
    "flag": True,
    "zero": 0,
    "big": 2**1023,
}


def _error(text: str, env: Mapping[str, Value] = ENV) -> ExprError:
    with pytest.raises(ExprError) as info:
        evaluate(text, env)
    return info.value


# --------------------------------------------------------------------------- basics


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("$a", True),
        ("$", True),
        ("a", False),
        ("", False),
        (" $a", False),
        (5, False),
        (None, False),
    ],
)
def test_is_expr(value: object, expected: bool) -> None:
    assert is_expr(value) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        ("1_000", 1000),
        ("0", 0),
        ("00", 0),
        ("0.5", 0.5),
        (".5", 0.5),
        ("1.", 1.0),
        ("1e-5", 1e-5),
        ("2.5E3", 2500.0),
        ("1_0.0_1", 10.01),
        ("true", True),
        ("false", False),
        ("True", True),
        ("False", False),
    ],
)
def test_literals(text: str, expected: Value) -> None:
    result = evaluate(text, {})
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("100 / 10 / 5", 2.0),
        ("2 * 3 % 4", 2),
        ("1 + 7 // 2", 4),
        ("7 // 2 * 3", 9),
        ("1 - 7 % 4", -2),
        ("2 * 7 // 3", 4),
        ("2 ** 3 ** 2", 512),
        ("(2 ** 3) ** 2", 64),
        ("-2 ** 2", -4),
        ("(-2) ** 2", 4),
        ("2 ** -1", 0.5),
        ("-2 ** -2", -0.25),
        ("2 ** 3 * 2", 16),
        ("- - 3", 3),
        ("+3", 3),
        ("2 + -3", -1),
        ("2*-3", -6),
        ("-3 * 2", -6),
        ("7 / 2", 3.5),
        ("8 / 2", 4.0),
        ("-3 // 2", -2),
        ("7 // 2.0", 3.0),
        ("7 % -3", -2),
        ("-7 % 3", 2),
        ("5.5 % 2", 1.5),
        ("10 ** 0", 1),
        ("0 ** 0", 1),
        ("2.0 ** 2", 4.0),
        ("4 ** 0.5", 2.0),
        ("(-8) ** 2.0", 64.0),
        ("1 + 2 < 4", True),
        ("1 < 2 < 3", True),
        ("3 > 2 > 2", False),
        ("1 < 3 > 2", True),
        ("1 == 1.0", True),
        ("1 != 1", False),
        ("1 > 2 < 1 / 0", False),  # chains stop at the first false comparison
        ("not 1 == 2", True),
        ("not 0", True),
        ("not not 1", True),
        ("true or false and false", True),
        ("(true or false) and false", False),
        ("not true or true", True),
        ("true or 1 / 0", True),
        ("false and 1 / 0", False),
        ("0 or 5", 5),
        ("2 and 3", 3),
        ("0 and 3", 0),
        ("1 if true else 2", 1),
        ("1 if false else 2 if false else 3", 3),
        ("1 + 2 if false else 10", 10),
        ("1 if 1 / 1 else 1 / 0", 1),  # only the chosen branch runs
        ("(1 if false else 2) * 3", 6),
    ],
)
def test_precedence_and_semantics(text: str, expected: Value) -> None:
    result = evaluate(text, {})
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("max(8, round(c * alpha))", 12),
        ("filters * 4", 64),
        ("2 if i == 1 else 1", 2),
        ("2 if i == 2 else 1", 1),
        ("round(2.5)", 2),
        ("round(3.5)", 4),
        ("round(-0.5)", 0),
        ("round(7)", 7),
        ("int(-2.7)", -2),
        ("int(3)", 3),
        ("floor(-2.5)", -3),
        ("ceil(2.1)", 3),
        ("abs(-3)", 3),
        ("abs(-2.5)", 2.5),
        ("min(3, 1, 2)", 1),
        ("max(1, 2.5)", 2.5),
        ("max(1, 2,)", 2),
        ("min(c, filters)", 16),
        ("s == t", False),
        ("s < t", False),
        ("s != t", True),
        ("flag and c", 16),
        ("s == 1", False),
        ("big * 1", 2**1023),
    ],
)
def test_functions_and_env(text: str, expected: Value) -> None:
    result = evaluate(text, ENV)
    assert result == expected
    assert type(result) is type(expected)


def test_parse_tree_is_reusable_and_structural() -> None:
    tree = parse("a * 2 + b")
    run = tree.eval  # the root's public method
    assert run({"a": 2, "b": 1}) == 5
    assert run({"a": 3, "b": 0.5}) == 6.5
    assert isinstance(tree, Expr)
    assert parse("1 + 2 * 3") == parse("1 + (2 * 3)")
    assert parse("1 + 2 * 3") != parse("(1 + 2) * 3")
    assert parse("2 ** 3 ** 2") == parse("2 ** (3 ** 2)")
    assert parse("a - b - c") == parse("(a - b) - c")


def test_names() -> None:
    assert names("max(a, round(b * c)) if d else e") == {"a", "b", "c", "d", "e"}
    assert names("1 + 2") == set()
    assert names("min + x") == {"min", "x"}  # a function name not called is a plain name
    assert names("a or b or a") == {"a", "b"}
    assert names("+".join(["x"] * 200)) == {"x"}
    assert names("input.channels + x[k]") == {"input", "x", "k"}  # fields are not names
    with pytest.raises(ExprError):
        names("a.")


def test_long_chains_are_not_deep() -> None:
    text = "1+" * 249 + "1"
    assert len(text) == 499
    assert evaluate(text, {}) == 250
    assert evaluate("1 or " * 99 + "1", {}) == 1
    assert evaluate("1 < " * 99 + "2", {}) is False


def test_error_attributes() -> None:
    err = ExprError("bad thing", 3)
    assert (err.message, err.offset, str(err)) == ("bad thing", 3, "bad thing")
    assert ExprError("x").offset == 0
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.message, copy.offset) == ("bad thing", 3)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "fragment", "offset"),
    [
        ("", "empty expression", 0),
        ("   ", "empty expression", 0),
        ("1 +", "unexpected end of expression", 3),
        ("(1 + 2", "'(' was never closed", 0),
        ("max(1, 2", "'(' was never closed", 3),
        ("1 + * 2", "unexpected '*'", 4),
        ("1 2", "unexpected number '2'", 2),
        ("1)", "unexpected ')'", 1),
        ("()", "unexpected ')'", 1),
        ("a.", "expected a field name after '.', got the end", 2),
        ("a.__class__", "attribute access is not allowed ('__class__')", 1),
        ("x[0", "'[' was never closed", 1),
        ("[1, 2", "'[' was never closed", 0),
        ("lambda: 1", "lambda expressions are not allowed", 0),
        ("__import__('os')", "names starting with '_' are not allowed", 0),
        ("a + _x", "names starting with '_'", 4),
        ("foo(1)", "function 'foo' is not allowed", 0),
        ("(1)(2)", "unexpected '('", 3),
        ("round(1, 2)", "round() takes 1 argument (2 given)", 0),
        ("abs()", "abs() takes 1 argument (0 given)", 0),
        ("max(1)", "max() takes at least 2 arguments (1 given)", 0),
        ("round(x=1)", "keyword arguments are not allowed", 7),
        ("max(1 2)", "expected ',' or ')', got number '2'", 6),
        ("'abc", "this string is never closed", 0),
        ('1 + "a', "this string is never closed", 4),
        ("1 = 1", "use '=='", 2),
        ("!a", "use 'not'", 0),
        ("a && b", "use 'and'", 2),
        ("a || b", "use 'or'", 2),
        ("2 ^ 3", "use '**'", 2),
        ("a @ b", "unexpected character '@'", 2),
        ("$a", "unexpected character '$'", 0),  # callers strip the '$' themselves
        ("x in y", "'in' is not allowed", 2),
        ("None", "'None' is not allowed", 0),
        ("import os", "'import' is not allowed", 0),
        ("2x", "invalid number '2x'", 0),
        ("1.2.3", "invalid number '1.2.3'", 0),
        ("1_", "invalid number '1_'", 0),
        ("0x1f", "invalid number '0x1f'", 0),
        ("007", "leading zeros", 0),
        ("1e999", "number too large", 0),
        ("9" * 400, "number too large", 0),
        ("a if b", "expected 'else', got the end", 6),
        ("a if b if c else d else e", "expected 'else', got 'if'", 7),
        ("else", "unexpected 'else'", 0),
        ("1 == not 2", "'not' needs parentheses", 5),
        ("-not 1", "'not' needs parentheses", 1),
        ("a < b + ", "unexpected end", 8),
    ],
)
def test_syntax_errors(text: str, fragment: str, offset: int) -> None:
    with pytest.raises(ExprError) as info:
        parse(text)
    assert fragment in info.value.message
    assert info.value.offset == offset
    # `evaluate` and `names` report the same problem.
    assert _error(text).message == info.value.message
    with pytest.raises(ExprError):
        names(text)


@pytest.mark.parametrize(
    ("text", "fragment", "offset"),
    [
        ("1 / 0", "division by zero", 2),
        ("1 // 0.0", "division by zero", 2),
        ("5 % zero", "modulo by zero", 2),
        ("0 ** -1", "zero cannot be raised to a negative power", 2),
        ("0.0 ** -0.5", "zero cannot be raised", 4),
        ("true + 1", "'+' needs numbers, got bool", 5),
        ("1 * flag", "'*' needs numbers, got bool", 2),
        ("s + 1", "'+' needs numbers, got str", 2),  # strings join only strings
        ("s * 3", "'*' needs numbers, got str", 2),  # no string repetition
        ("-s", "'-' needs a number, got str", 0),
        ("-flag", "'-' needs a number, got bool", 0),
        ("s < 1", "'<' needs numbers or two strings, got str and int", 2),
        ("flag < 2", "'<' needs numbers or two strings, got bool and int", 5),
        ("1 < 2 < flag", "got int and bool", 6),
        ("round(flag)", "'round' needs a number, got bool", 0),
        ("max(1, s)", "'max' needs numbers, got str", 0),
        ("(-8) ** 0.5", "complex", 5),
        ("(-8.0) ** (1 / 3)", "complex", 7),
        ("10 ** 400", "result too large", 3),
        ("2.0 ** 1024", "result too large", 4),
        ("0.5 ** -2000", "result too large", 4),
        ("2 ** 1024", "result too large", 2),
        ("2 ** 1023 * 2", "result too large", 10),
        ("big + big", "result too large", 4),
        ("-big - big", "result too large", 5),
        ("1e308 * 10", "result too large", 6),
        ("1e308 + 1e308", "result too large", 6),
        ("big * 1.0 * 4.0", "result too large", 10),
        ("9 ** 300 * 9 ** 300", "result too large", 9),
        ("undefined_thing", "undefined name 'undefined_thing'", 0),
        ("filtrs * 2", "undefined name 'filtrs'; did you mean 'filters'?", 0),
        ("1 + zzzzzz", "undefined name 'zzzzzz'", 4),
    ],
)
def test_evaluation_errors(text: str, fragment: str, offset: int) -> None:
    parse(text)  # syntactically fine
    err = _error(text)
    assert fragment in err.message
    assert err.offset == offset


def test_undefined_name_without_close_match_has_no_suggestion() -> None:
    err = _error("qqq", {"filters": 1})
    assert err.message == "undefined name 'qqq'"


def test_env_values_must_be_values() -> None:
    err = _error("a + 1", {"a": {"k": 1}})  # type: ignore[dict-item]
    assert err.message == "name 'a' has unsupported type dict"


def test_env_values_beyond_the_bounds() -> None:
    huge = {"h": 10**5000, "inf": math.inf, "nan": math.nan}
    assert evaluate("h > 1", huge) is True
    for text in ("h * 2", "h ** 2", "h / 3", "h + 0.5", "inf + 1", "inf - inf", "round(inf)"):
        with pytest.raises(ExprError):
            evaluate(text, huge)
    assert "finite" in _error("floor(nan)", huge).message


@pytest.mark.parametrize(
    "text",
    [
        "10**10**10",
        "9**9**9**9",
        "(10**300)**(10**300)",
        "2**(2**1000)",
        "1.0000001 ** 10**300",
        "0.5 ** -(10**300)",
    ],
)
def test_hostile_powers_fail_fast(text: str) -> None:
    assert "too large" in _error(text).message


def test_powers_that_stay_small() -> None:
    assert evaluate("1 ** 10**300", {}) == 1
    assert evaluate("(-1) ** (10**300 + 1)", {}) == -1
    assert evaluate("0 ** 10**300", {}) == 0
    assert evaluate("2 ** -(10**300)", {}) == 0.0
    assert evaluate("2 ** 1023", {}) == 2**1023


def test_length_limit() -> None:
    at_limit = "1+" * 249 + "10"
    assert len(at_limit) == MAX_EXPR_LENGTH
    assert evaluate(at_limit, {}) == 259
    err = _error(at_limit + " ")
    assert "too long" in err.message
    assert err.offset == MAX_EXPR_LENGTH
    assert "too long" in _error("x" * 10_000).message


def test_depth_limit() -> None:
    ok = "(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH
    assert evaluate(ok, {}) == 1
    err = _error("(" + ok + ")")
    assert "nested too deeply" in err.message
    assert err.offset == MAX_DEPTH  # the first '(' past the limit
    deep_parens = "(" * 1000 + "1" + ")" * 1000  # too long as well as too deep
    with pytest.raises(ExprError):
        evaluate(deep_parens, {})
    for text in (
        "(" * 200 + "1" + ")" * 200,
        "-" * 300 + "1",
        "not " * 100 + "1",
        "abs(" * 90 + "1" + ")" * 90,
        "1**" * 150 + "1",
        "(1+" * 100 + "1" + ")" * 100,
    ):
        assert len(text) <= MAX_EXPR_LENGTH
        assert "nested too deeply" in _error(text).message, text


def test_module_never_uses_python_evaluation() -> None:
    source = Path(expr.__file__).read_text()
    # Patterns built from pieces so that this test file passes the same grep.
    for pattern in ("ev" + r"al\(", "ex" + r"ec\(", r"(?<!re\.)comp" + r"ile\(", r"\bast\b"):
        assert not re.search(pattern, source), pattern


# --------------------------------------------------------------------------- properties


@dataclass(frozen=True)
class Node:
    """A generated expression tree; `op` is the literal, name, operator(s), function or exponent."""

    kind: str  # num, name, neg, not, bin, pow, cmp, bool, call, if
    op: Any
    kids: tuple[Node, ...] = ()


_NUMBER_NAMES = ("a", "b", "c", "alpha", "x_1", "n", "f")
_OTHER_NAMES = ("flag", "label")
_INTS = st.integers(-(10**6), 10**6)
_FLOATS = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
}
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": min,
    "max": max,
    "abs": abs,
    "round": round,
    "int": int,
    "floor": math.floor,
    "ceil": math.ceil,
}

envs = st.fixed_dictionaries(
    {
        **{name: st.one_of(_INTS, _FLOATS) for name in ("a", "b", "c", "alpha", "x_1")},
        "n": st.sampled_from([2**1023, -(2**1023), 10**300, 3**600]),  # near the int bound
        "f": st.sampled_from([1e308, -1.5e308, 1e-308, 5e-324]),  # near float's limits
        "flag": st.booleans(),
        "label": st.sampled_from(["", "abc", "xyz"]),
    }
)
numbers = st.one_of(_INTS, _FLOATS, st.sampled_from([0, 1, 2, -1, 0.5, 0.0, 10**200]))
number_leaves = st.one_of(
    numbers.map(lambda v: Node("num", v)),
    st.sampled_from(_NUMBER_NAMES).map(lambda n: Node("name", n)),
)
leaves = st.one_of(number_leaves, st.sampled_from(_OTHER_NAMES).map(lambda n: Node("name", n)))


def _node(
    kind: str, ops: st.SearchStrategy[Any], kids: st.SearchStrategy[Node], count: int
) -> st.SearchStrategy[Node]:
    return st.builds(Node, st.just(kind), ops, st.tuples(*[kids] * count))


def _fold(first: Node, rest: list[tuple[str, Node]], kind: str = "bin") -> Node:
    """`first op1 x1 op2 x2 ...` as a left-leaning tree, the shape Python gives it."""
    for op, kid in rest:
        first = Node(kind, op, (first, kid))
    return first


def _sum_of_products(kids: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    """`a * b + c // d - e`-shaped trees, so that unparenthesized text tests precedence."""
    products = st.builds(
        _fold, kids, st.lists(st.tuples(st.sampled_from(["*", "/", "//", "%"]), kids), max_size=2)
    )
    return st.builds(
        _fold, products, st.lists(st.tuples(st.sampled_from(["+", "-"]), products), max_size=2)
    )


def _extend_arithmetic(kids: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        _node("bin", st.sampled_from(sorted(_ARITHMETIC)), kids, 2),
        _sum_of_products(kids),
        _node("pow", st.integers(-2, 4), kids, 1),
        _node("neg", st.just("-"), kids, 1),
        st.builds(
            Node,
            st.just("call"),
            st.sampled_from(["min", "max"]),
            st.lists(kids, min_size=2, max_size=3).map(tuple),
        ),
        _node("call", st.sampled_from(["abs", "round", "int", "floor", "ceil"]), kids, 1),
    )


def _extend_mixed(kids: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    chain = st.integers(1, 2).flatmap(
        lambda k: st.builds(
            Node,
            st.just("cmp"),
            st.tuples(*[st.sampled_from(sorted(_COMPARISONS))] * k),
            st.tuples(*[kids] * (k + 1)),
        )
    )
    conjunctions = st.builds(
        _fold, kids, st.lists(st.tuples(st.just("and"), kids), max_size=2), st.just("bool")
    )
    return st.one_of(
        _extend_arithmetic(kids),
        chain,
        st.builds(
            _fold,
            conjunctions,
            st.lists(st.tuples(st.just("or"), conjunctions), max_size=2),
            st.just("bool"),
        ),
        _node("bool", st.sampled_from(["and", "or"]), kids, 2),
        _node("not", st.just("not"), kids, 1),
        _node("if", st.just("if"), kids, 3),
    )


arithmetic_trees = st.recursive(number_leaves, _extend_arithmetic, max_leaves=16)
mixed_trees = st.recursive(leaves, _extend_mixed, max_leaves=16)

# Python's precedence levels, loosest first; an operand below the level its place needs gets
# parentheses. A negative literal is the unary minus applied to a positive one.
_ATOM = 10


def level(node: Node) -> int:
    if node.kind == "num":
        return 8 if repr(node.op).startswith("-") else _ATOM
    if node.kind == "bin":
        return 6 if node.op in ("+", "-") else 7
    if node.kind == "bool":
        return 2 if node.op == "or" else 3
    levels = {"name": _ATOM, "call": _ATOM, "pow": 9, "neg": 8, "cmp": 5, "not": 4, "if": 1}
    return levels[node.kind]


def render(node: Node, minimal: bool) -> str:
    """Expression text for `node`: with the fewest parentheses, or around every operation."""

    def sub(kid: Node, needed: int) -> str:
        text = render(kid, minimal)
        bare = level(kid) >= needed and (minimal or level(kid) == _ATOM)
        return text if bare else f"({text})"

    own, kids = level(node), node.kids
    if node.kind in ("num", "name"):
        return repr(node.op) if node.kind == "num" else node.op
    if node.kind == "neg":
        return f"-{sub(kids[0], 8)}"
    if node.kind == "not":
        return f"not {sub(kids[0], 4)}"
    if node.kind == "pow":
        return f"{sub(kids[0], _ATOM)} ** {node.op}"
    if node.kind in ("bin", "bool"):
        return f"{sub(kids[0], own)} {node.op} {sub(kids[1], own + 1)}"
    if node.kind == "cmp":
        parts = [sub(kids[0], 6)]
        for op, kid in zip(node.op, kids[1:], strict=True):
            parts += [op, sub(kid, 6)]
        return " ".join(parts)
    if node.kind == "call":
        return f"{node.op}({', '.join(sub(kid, 1) for kid in kids)})"
    assert node.kind == "if"
    return f"{sub(kids[0], 2)} if {sub(kids[1], 2)} else {sub(kids[2], 1)}"


def depth(node: Node) -> int:
    return 1 + max((depth(kid) for kid in node.kids), default=0)


def tree_names(node: Node) -> set[str]:
    found = {node.op} if node.kind == "name" else set()
    for kid in node.kids:
        found |= tree_names(kid)
    return found


class Refused(Exception):
    """The reference computation hit a case the language refuses."""


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Refused
    return value


def _bounded(value: Any) -> Any:
    if isinstance(value, complex):
        raise Refused
    if isinstance(value, float) and not math.isfinite(value):
        raise Refused
    if isinstance(value, int) and abs(value) >= 2**1024:
        raise Refused
    return value


def reference(node: Node, env: Mapping[str, Any]) -> Any:
    """The expected value, computed straight from the tree with Python's operators."""
    kind, op, kids = node.kind, node.op, node.kids
    if kind == "num":
        return op
    if kind == "name":
        return env[op]
    if kind == "not":
        return not reference(kids[0], env)
    if kind == "neg":
        return _bounded(-_number(reference(kids[0], env)))
    if kind == "pow":
        return _bounded(_number(reference(kids[0], env)) ** op)
    if kind == "bin":
        left = _number(reference(kids[0], env))
        right = _number(reference(kids[1], env))
        return _bounded(_ARITHMETIC[op](left, right))
    if kind == "cmp":
        return _chain(op, kids, env)
    if kind == "bool":
        left = reference(kids[0], env)
        return left if (op == "or") == bool(left) else reference(kids[1], env)
    if kind == "call":
        return _bounded(_FUNCTIONS[op](*[_number(reference(kid, env)) for kid in kids]))
    assert kind == "if"
    return reference(kids[0] if reference(kids[1], env) else kids[2], env)


def _chain(ops: tuple[str, ...], kids: tuple[Node, ...], env: Mapping[str, Any]) -> bool:
    left = reference(kids[0], env)
    for op, kid in zip(ops, kids[1:], strict=True):
        right = reference(kid, env)
        if op not in ("==", "!=") and not (isinstance(left, str) and isinstance(right, str)):
            _number(left)
            _number(right)
        if not _COMPARISONS[op](left, right):
            return False
        left = right
    return True


def check_against_reference(tree: Node, env: dict[str, Value], minimal: bool) -> None:
    assume(depth(tree) <= 20)
    text = render(tree, minimal)
    assume(len(text) <= MAX_EXPR_LENGTH)
    try:
        expected = reference(tree, env)
    except (Refused, ZeroDivisionError, OverflowError):
        with pytest.raises(ExprError):
            evaluate(text, env)
        return
    result = evaluate(text, env)
    assert type(result) is type(expected), text
    if isinstance(expected, float):
        assert math.isclose(result, expected, rel_tol=1e-12, abs_tol=0.0), text
    else:
        assert result == expected, text
    assert names(text) == tree_names(tree)


@settings(
    max_examples=300,
    deadline=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(tree=arithmetic_trees, env=envs, minimal=st.booleans())
def test_arithmetic_matches_python(tree: Node, env: dict[str, Value], minimal: bool) -> None:
    check_against_reference(tree, env, minimal)


@settings(
    max_examples=300,
    deadline=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(tree=mixed_trees, env=envs, minimal=st.booleans())
def test_mixed_expressions_match_python(tree: Node, env: dict[str, Value], minimal: bool) -> None:
    check_against_reference(tree, env, minimal)


_JUNK_ALPHABET = "0123456789abcxyz_+-*/%().,<>=! \t'\"[]{}:;`\\@#$^&|~"
_JUNK_WORDS = [
    *("and", "or", "not", "if", "else", "true", "false", "True", "None", "in", "lambda"),
    *("min", "max", "round", "int", "floor", "ceil", "abs", "__import__", "a", "b", "c"),
    *("0", "1", "9", "0.5", ".5", "1e308", "1e-5", "10", "999", "2**1023"),
    *("+", "-", "*", "/", "//", "%", "**", "<", "<=", "==", "!=", "(", ")", ",", ".", "[", "="),
]
_JUNK_ENV: dict[str, Value] = {
    "a": 3,
    "b": 2.5,
    "c": True,
    "x": "s",
    "y": 0,
    "z": -1,
    "abc": 9**300,
}
junk = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=_JUNK_ALPHABET, max_size=80),
    st.lists(st.sampled_from(_JUNK_WORDS), max_size=30).map(" ".join),
    st.lists(st.sampled_from(_JUNK_WORDS), max_size=30).map("".join),
)


@settings(max_examples=500, deadline=None)
@given(text=junk)
def test_junk_only_ever_raises_expr_error(text: str) -> None:
    for attempt in (lambda: evaluate(text, _JUNK_ENV), lambda: names(text)):
        try:
            result = attempt()
        except ExprError as exc:
            assert exc.message and not exc.message[0].isupper(), exc.message
            assert 0 <= exc.offset <= len(text), (exc.offset, text)
        else:
            assert isinstance(result, (int, float, bool, str, set))


# --- typed values: strings, lists, records, the spec's own functions ----------------------------


def test_strings_lists_and_items() -> None:
    assert evaluate("'valid' if s == 1 else 'same'", {"s": 2}) == "same"
    assert evaluate("'block_' + str(i + 1)", {"i": 0}) == "block_1"
    assert evaluate("[k, k]", {"k": 7}) == [7, 7]
    assert evaluate("[1, 7] if wide else [3, 3]", {"wide": True}) == [1, 7]
    assert evaluate("x[-1] + len(x)", {"x": [4, 5, 6]}) == 9
    assert evaluate("[1] + [2, 3]", {}) == [1, 2, 3]
    assert evaluate("'ab'[1]", {}) == "b"
    assert evaluate("x == [1, 2]", {"x": [1, 2]}) is True


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(st.integers(-1000, 1000), min_size=1, max_size=20),
    index=st.integers(-25, 25),
    a=st.text("abc_01", max_size=10),
    b=st.text("xyz_9", max_size=10),
)
def test_items_and_joins_agree_with_python(items: list[int], index: int, a: str, b: str) -> None:
    env = {"x": items, "i": index, "a": a, "b": b}
    if -len(items) <= index < len(items):
        assert evaluate("x[i]", env) == items[index]
    else:
        assert "out of range" in _error("x[i]", env).message
    assert evaluate("a + b", env) == a + b
    assert evaluate("x + x", env) == items + items
    assert evaluate("len(x) + len(a)", env) == len(items) + len(a)


def test_records_have_only_their_fields() -> None:
    shape = Record("the shape of input", channels=32, height=8, width=8, shape=[8, 8, 32])
    env = {"input": shape, "w": 8}
    assert evaluate("input.channels * 4 + input.shape[0]", env) == 136
    assert (
        "has no 'chanels' (it has channels, height, width, shape)"
        in _error("input.chanels", env).message
    )
    assert "attribute access is not allowed on int" in _error("w.real", env).message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("'a' * 3", "'*' needs numbers, got str"),  # no string repetition
        ("s + s", "string too long"),
        ("l + l", "list too long"),
        ("[1][1]", "index 1 is out of range for 1 items"),
        ("[1]['a']", "an index is an integer, got str"),
        ("w[0]", "only lists and strings have items, not int"),
        ("len(w)", "'len' needs a list or a string, got int"),
        ("str([1])", "'str' needs a number or a string, got list"),
    ],
)
def test_typed_values_stay_bounded_and_typed(text: str, fragment: str) -> None:
    env = {"s": "x" * 600, "l": [0] * 600, "w": 8}
    assert fragment in _error(text, env).message


KERAS_MAKE_DIVISIBLE = (  # keras.applications' _make_divisible(v, divisor), as one expression
    "max(d, int(v + d / 2) // d * d) + (d if max(d, int(v + d / 2) // d * d) < 0.9 * v else 0)"
)


def _keras_make_divisible(v: float, divisor: int) -> int:
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


@settings(max_examples=80, deadline=None)
@given(channels=st.integers(1, 2048), alpha=st.sampled_from([0.35, 0.5, 0.75, 1.0, 1.3, 1.4]))
def test_a_spec_function_computes_what_keras_does(channels: int, alpha: float) -> None:
    make_divisible = helper("make_divisible(v, d)", KERAS_MAKE_DIVISIBLE)
    env = {"make_divisible": make_divisible, "c": channels, "alpha": alpha}
    assert evaluate("make_divisible(c * alpha, 8)", env) == _keras_make_divisible(
        channels * alpha, 8
    )


def test_spec_functions_see_only_their_parameters() -> None:
    with pytest.raises(ExprError, match="'w' is not a parameter of f"):
        helper("f(v)", "v * w")
    with pytest.raises(ExprError, match="written `name"):
        helper("f(v", "v")
    with pytest.raises(ExprError, match="built-in function"):
        helper("max(a, b)", "a")
    f = helper("f(v)", "v * 2")
    with pytest.raises(ExprError, match="function 'f' is not allowed"):
        helper("g(v)", "f(v)")  # functions call the built-ins only: no chains, no recursion
    assert evaluate("f(f(3))", {"f": f}) == 12
    assert _error("f(1, 2)", {"f": f}).message == "f() takes 1 argument (2 given)"
    assert "is a function: call it" in _error("f + 1", {"f": f}).message
