"""One exception for every mistake a user can make in a spec, always with a source location.

A `SpecError` carries one or more `Diagnostic`s; each renders as

    specs/x.yaml:41:9: error: message
       41 |   - add: {name: conv3_block1_add}
          |         ^

so editors and terminals can jump to the fault (Lark-style: the line and a caret under it).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Location:
    """A place in a source file; `line` and `col` are 1-based. `text` is that source line.
    Line 0 (the default) is the file as a whole — a weights file, an image, a folder, a spec
    too large to read — and renders as the path alone, with no made-up position."""

    path: str
    line: int = 0
    col: int = 0
    text: str | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}" if self.line else self.path


@dataclass(frozen=True)
class Diagnostic:
    """One located message. `notes` are extra located lines (e.g. where a block was used)."""

    location: Location
    message: str
    notes: tuple[str, ...] = field(default=())

    def render(self, caret: bool = True) -> str:
        out = [f"{self.location}: error: {self.message}"]
        text = self.location.text
        if caret and text is not None and text.strip():
            gutter = f"{self.location.line:>5} | "
            out.append(gutter + text.rstrip("\n"))
            pad = "".join(c if c == "\t" else " " for c in text[: self.location.col - 1])
            out.append(" " * (len(gutter) - 2) + "| " + pad + "^")
        out.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(out)


class SpecError(Exception):
    """Every user mistake: bad YAML, invalid spec, bad expression, impossible shapes."""

    def __init__(self, diagnostics: Diagnostic | Iterable[Diagnostic]) -> None:
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__(self.render(caret=False))

    @classmethod
    def at(cls, location: Location, message: str, *notes: str) -> SpecError:
        return cls(Diagnostic(location, message, tuple(notes)))

    def render(self, caret: bool = True) -> str:
        return "\n".join(d.render(caret) for d in self.diagnostics)


# Keras argument names users will guess, mapped to ours (ours are shorter; docs/language.md).
KERAS_ALIASES = {
    "kernel_size": "kernel",
    "pool_size": "pool",
    "stride": "strides",
    "dilation": "dilation_rate",
    "bias": "use_bias",
    "eps": "epsilon",
    "filter": "filters",
    "channels": "filters",
    "out_channels": "filters",
    "p": "rate",
    "drop": "rate",
}


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' — did you mean 'x'?' for a close match among `choices`, else ''."""
    choices = list(choices)
    alias = KERAS_ALIASES.get(str(word))
    if alias in choices:
        return f" — did you mean '{alias}'?"
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""


def first_line(e: BaseException, limit: int | None = None, empty: str | None = None) -> str:
    """The first line of an exception's message, for ours (a library's or the framework's
    text goes on for lines), cut to `limit` characters; `empty` (else the exception's class
    name) when it says nothing."""
    text = str(e).strip()
    if not text:
        return empty or type(e).__name__
    return text.splitlines()[0][:limit]


def brief(value: object, limit: int = 80) -> str:
    """`repr(value)` for a message, kept short: an integer of more than 20 digits as
    `9.99e308 (a 309-digit number)`, any other long repr cut with `…`."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**20:
        digits = str(abs(value))
        sign = "-" if value < 0 else ""
        return f"{sign}{digits[0]}.{digits[1:3]}e{len(digits) - 1} (a {len(digits)}-digit number)"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
