"""The reference as Markdown: docs/ops.md and docs/blocks.md."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..backends.keras_layers import keras_layer
from ..blocks import BLOCKS
from ..grammar import STRUCTURAL
from ..ops import OPS
from .fields import (
    EXAMPLE_INPUTS,
    Model,
    arguments,
    docstring,
    example,
    groups,
    inputs_text,
    takes_several,
)

GENERATED_NOTE = (
    "<!-- Generated from the models by `archc docs --write docs`; do not edit by hand. -->"
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or "—"


def _code(text: str) -> str:
    return f"`{text}`" if text else "—"


def _fence_indented(text: str) -> str:
    """Docstrings show code as indented blocks; fence them (YAML when they look like YAML) so
    they render as code and the docs' snippet test checks them."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        after_blank = i == 0 or not lines[i - 1].strip()
        if line.startswith("    ") and after_blank:
            block = []
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                block.append(lines[i][4:])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            yamlish = re.match(r"^(- |[A-Za-z_]\w*:)", block[0])
            out += ["```yaml" if yamlish else "```", *block, "```", ""]
            continue
        out.append(line)
        i += 1
    return "\n".join(out).strip("\n")


def _md_section(name: str, model: Model, level: str) -> list[str]:
    what = "op" if name in OPS else "block"
    summary, rest = docstring(model)
    out = [f"{level} `{name}`", "", summary, ""]
    if rest:
        out += [_fence_indented(rest), ""]
    facts = [inputs_text(model.arity)]  # type: ignore[attr-defined]
    if what == "op":
        facts.insert(0, f"Keras layer: `keras.layers.{keras_layer(name)}`")
    first_only = getattr(model, "first_only", ())
    if first_only:
        keys = ", ".join(f"`{k}`" for k in first_only)
        facts.append(f"under `repeat`, only the first instance gets {keys}")
    out += [" · ".join(facts), ""]
    args = arguments(model)
    if args:
        out += [
            "| argument | type | default | constraints | description |",
            "|---|---|---|---|---|",
        ]
        for a in args:
            default = "required" if a.required else _code(a.default)
            cells = [f"`{a.name}`", _cell(a.type), default, _cell(a.constraints)]
            out.append("| " + " | ".join([*cells, _cell(a.description)]) + " |")
    else:
        out.append("No arguments.")
    out += ["", "```yaml", example(name), "```", ""]
    if takes_several(model):
        out += [f"(`{'` and `'.join(EXAMPLE_INPUTS)}` name earlier nodes.)", ""]
    return out


def _md_preamble(title: str, intro: str) -> list[str]:
    keys = ", ".join(f"`{k}`" for k in STRUCTURAL)
    return [
        f"# {title}",
        "",
        GENERATED_NOTE,
        "",
        intro,
        "Any argument's value may instead be a `$expression` over the spec's params "
        f"([language.md](language.md)). Every node may also carry the structural keys {keys}.",
        "In the tables, a size written `n or [h, w]` takes one number for both sides.",
        "",
    ]


def _md_index(registry: dict[str, Model], kinds: Iterable[str], layer: bool) -> list[str]:
    head = "| name | Keras layer | inputs | what it is |" if layer else "| name | what it is |"
    out = [head, "|---|---|---|---|" if layer else "|---|---|"]
    for kind in kinds:
        model = registry[kind]
        link = f"[`{kind}`](#{kind})"
        if layer:
            layer_name = f"`{keras_layer(kind)}`"
            inputs = inputs_text(model.arity).split(" input")[0]  # type: ignore[attr-defined]
            out.append(f"| {link} | {layer_name} | {inputs} | {_cell(model.summary())} |")
        else:
            out.append(f"| {link} | {_cell(model.summary())} |")
    return [*out, ""]


def ops_markdown() -> str:
    """docs/ops.md: every primitive op, grouped by family, with its arguments and an example."""
    families = groups(OPS)
    out = _md_preamble(
        "Primitive ops",
        f"The {len(OPS)} primitive ops: each becomes exactly one Keras layer and has one shape "
        "rule, weight count and MAC count (in `archcompiler/ops/`).",
    )
    out += _md_index(OPS, OPS, layer=True)
    for title, kinds in families.items():
        out += [f"## {title}", ""]
        for kind in kinds:
            out += _md_section(kind, OPS[kind], "###")
    return "\n".join(out).rstrip("\n") + "\n"


def blocks_markdown() -> str:
    """docs/blocks.md: every built-in block with its arguments and an example."""
    out = _md_preamble(
        "Built-in blocks",
        f"The {len(BLOCKS)} built-in blocks: each expands into primitive ops (see "
        "[ops.md](ops.md)); its layers are named `NAME_…` after the instance name, and "
        "`repeat: n` gives instances `NAME_block1 … NAME_blockn`.",
    )
    out += _md_index(BLOCKS, BLOCKS, layer=False)
    for kind, model in BLOCKS.items():
        out += _md_section(kind, model, "##")
    return "\n".join(out).rstrip("\n") + "\n"
