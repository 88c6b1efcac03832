"""The reference on the terminal: `archc blocks` (one line per op and block) and
`archc blocks NAME` (one in full)."""

from __future__ import annotations

import re
import textwrap

from ..backends.keras_layers import keras_layer
from ..blocks import BLOCKS
from ..grammar import STRUCTURAL_KEYS
from ..ops import OPS
from .fields import (
    EXAMPLE_INPUTS,
    Arg,
    arguments,
    docstring,
    example,
    groups,
    inputs_text,
    lookup,
    takes_several,
)


def _arg_words(args: list[Arg]) -> str:
    return "  ".join(
        f"{a.name}:{a.compact}" if a.required else f"{a.name}={a.default}" for a in args
    )


def overview() -> str:
    """Every primitive op and built-in block, grouped, one line each: name, summary, arguments
    (`name:type` when required, `name=default` otherwise)."""
    names = [*OPS, *BLOCKS]
    width = max(map(len, names)) + 2
    lines = [
        "Every primitive op and built-in block; `archc blocks NAME` shows one in full.",
        "Arguments: name:type is required, name=default is optional; any value may instead be "
        "a $expression.",
    ]
    sections = [(f"PRIMITIVE OPS ({len(OPS)})", None, [])]
    sections += [(title, kinds, OPS) for title, kinds in groups(OPS).items()]
    sections.append((f"BUILT-IN BLOCKS ({len(BLOCKS)})", list(BLOCKS), BLOCKS))
    for title, kinds, registry in sections:
        lines += ["", title]
        if not kinds:
            continue
        doc_width = max(len(registry[k].summary()) for k in kinds) + 2
        for kind in kinds:
            model = registry[kind]
            row = f"  {kind:<{width}}{model.summary():<{doc_width}}{_arg_words(arguments(model))}"
            lines.append(row.rstrip())
    return "\n".join(lines)


def _wrap_cell(cell: str, cap: int) -> list[str]:
    glued = re.sub(r"([≥≤<>]) ", "\\1\u00a0", cell)  # never wrap between "≤" and its number
    return [line.replace("\u00a0", " ") for line in textwrap.wrap(glued, cap)] or [""]


def _wrap_table(header: list[str], rows: list[list[str]], caps: list[int], indent: str) -> str:
    """A plain-text table; a cell wider than its column's cap wraps onto further lines."""
    cells = [[_wrap_cell(c, cap) for c, cap in zip(r, caps, strict=True)] for r in [header, *rows]]
    widths = [max(len(line) for row in cells for line in row[i]) for i in range(len(header))]
    out = []
    for row in cells:
        for k in range(max(len(c) for c in row)):
            parts = [(c[k : k + 1] or [""])[0].ljust(w) for c, w in zip(row, widths, strict=True)]
            out.append((indent + "  ".join(parts)).rstrip())
    return "\n".join(out)


def describe(name: str) -> str:
    """One op or block in full: summary, docstring, Keras layer, arguments, example.
    Raises LookupError (with a did-you-mean) for an unknown name."""
    what, model = lookup(name)
    summary, rest = docstring(model)
    facts = [f"{what}", inputs_text(model.arity)]  # type: ignore[attr-defined]
    if what == "op":
        facts.insert(1, f"Keras layer: keras.layers.{keras_layer(name)}")
    lines = [f"{name} — {summary}", " · ".join(facts)]
    if rest:
        lines += ["", textwrap.indent(rest, "  ")]
    args = arguments(model)
    lines.append("")
    if args:
        lines.append("Arguments (any value may also be a $expression):")
        rows = [
            [a.name, a.type, "required" if a.required else a.default, a.constraints, a.description]
            for a in args
        ]
        header = ["name", "type", "default", "constraints", "description"]
        lines.append(_wrap_table(header, rows, [24, 30, 12, 24, 48], "  "))
    else:
        lines.append("Arguments: none.")
    lines += ["", "Structural keys (any node):"]
    width = max(len(k.key) for k in STRUCTURAL_KEYS)
    lines += [f"  {k.key:<{width}}  {k.meaning}".rstrip() for k in STRUCTURAL_KEYS]
    first_only = getattr(model, "first_only", ())
    if first_only:
        lines.append(f"  Under `repeat`, only the first instance gets: {', '.join(first_only)}.")
    lines += ["", "Example:", "  " + example(name)]
    if takes_several(model):
        lines.append(f"  ({' and '.join(EXAMPLE_INPUTS)} name earlier nodes)")
    return "\n".join(lines)
