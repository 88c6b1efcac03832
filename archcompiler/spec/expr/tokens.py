"""The tokenizer of `$expressions`: numbers, names, keywords and operators, located."""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass

from .base import MAX_INT_BITS, Value

_DIGITS = r"[0-9](?:_?[0-9])*"
_NUMBER_RE = re.compile(rf"(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_GLUED_RE = re.compile(r"[A-Za-z0-9_.]*")  # what sticks to a number, as in `2x` or `1.2.3`
_WHITESPACE = " \t\r\n"
# Two-character operators first so that `**` is not read as `*` `*`.
_OPERATORS = (
    "**", "//", "<=", ">=", "==", "!=", "+", "-", "*", "/", "%", "<", ">", "(", ")", ",", "[", "]",
    ".",
)  # fmt: skip
_KEYWORDS = frozenset({"and", "or", "not", "if", "else"})
_CONSTANTS: dict[str, Value] = {"true": True, "false": False, "True": True, "False": False}
_BAD_CHARS = {
    "=": "'=' is not allowed (use '==' to compare)",
    "!": "'!' is not allowed (use 'not' or '!=')",
    "&": "'&' is not allowed (use 'and')",
    "|": "'|' is not allowed (use 'or')",
    "^": "'^' is not allowed (use '**' for powers)",
}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # num, str, name, kw, op, end, or bad (raised when the parser reaches it)
    text: str
    offset: int
    value: Value = 0  # the literal's value, for "num" and "str"
    error: str = ""  # the message, for "bad"

    def describe(self) -> str:
        if self.kind == "num":
            return f"number '{self.text}'"
        if self.kind == "str":
            return f"string {self.text}"
        if self.kind == "name":
            return f"name '{self.text}'"
        return f"'{self.text}'"


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens. Bad characters become "bad" tokens, not errors, so the
    parser reports problems in reading order (`lambda: 1` complains about `lambda`)."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos] in _WHITESPACE:
            pos += 1
            continue
        if text[pos] in "'\"":
            token = _string_token(text, pos)
        elif number := _NUMBER_RE.match(text, pos):
            token = _number_token(text, number)
        elif word := _NAME_RE.match(text, pos):
            token = _word_token(word.group(), pos)
        else:
            token = _symbol_token(text, pos)
        tokens.append(token)
        pos += len(token.text)
    tokens.append(Token("end", "", len(text)))
    return tokens


def _number_token(text: str, match: re.Match[str]) -> Token:
    start, literal = match.start(), match.group()
    glued = _GLUED_RE.match(text, match.end())
    if glued is not None and glued.group():
        whole = literal + glued.group()
        return Token("bad", whole, start, error=f"invalid number '{whole}'")
    digits = literal.replace("_", "")
    if any(c in digits for c in ".eE"):
        value: Value = float(digits)
        if math.isinf(value):
            return Token("bad", literal, start, error="number too large")
        return Token("num", literal, start, value)
    if digits[0] == "0" and digits.strip("0"):
        return Token("bad", literal, start, error=f"leading zeros are not allowed in '{literal}'")
    value = int(digits)  # at most 500 digits: far below Python's int-parsing limit
    if value.bit_length() > MAX_INT_BITS:
        return Token("bad", literal, start, error="number too large")
    return Token("num", literal, start, value)


def _string_token(text: str, start: int) -> Token:
    """'…' or "…": no escapes; the quote that opened it closes it."""
    end = text.find(text[start], start + 1)
    if end < 0:
        return Token("bad", text[start:], start, error="this string is never closed")
    return Token("str", text[start : end + 1], start, text[start + 1 : end])


def _word_token(word: str, start: int) -> Token:
    if word in _CONSTANTS:
        return Token("num", word, start, _CONSTANTS[word])
    if word in _KEYWORDS:
        return Token("kw", word, start)
    if word.startswith("_"):
        message = f"names starting with '_' are not allowed ('{word}')"
        return Token("bad", word, start, error=message)
    if word == "lambda":
        return Token("bad", word, start, error="lambda expressions are not allowed")
    if keyword.iskeyword(word):  # `in`, `is`, `None`, `for`, `import`, ...
        return Token("bad", word, start, error=f"'{word}' is not allowed")
    return Token("name", word, start)


def _symbol_token(text: str, pos: int) -> Token:
    for op in _OPERATORS:
        if text.startswith(op, pos):
            return Token("op", op, pos)
    char = text[pos]
    message = _BAD_CHARS.get(char, f"unexpected character {char!r}")
    return Token("bad", char, pos, error=message)
