"""The reference of every primitive op and built-in block, and the zoo table, generated from
the models: `archc blocks [NAME]` on the terminal, and `archc docs --write DIR` for
docs/ops.md, docs/blocks.md and docs/zoo.md.

Nothing here is a hand-written table: names, types, defaults, constraints and descriptions come
from the pydantic fields (fields.py), summaries from the docstrings, the Keras layer of each op
from the Keras backend's table, so the reference cannot drift from what the compiler accepts.
No TensorFlow import.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..zoo import ZOO_DIR
from .fields import EXAMPLE_INPUTS, Arg, arguments, example, yaml_value
from .markdown import GENERATED_NOTE, blocks_markdown, ops_markdown
from .text import describe, overview
from .zoo import ZooEntry, first_sentence, spec_paper, spec_twin, zoo_entries, zoo_markdown


def generated_docs(specs_dir: Path = ZOO_DIR) -> dict[str, str]:
    """File name → text of every generated doc."""
    makers: dict[str, Callable[[], str]] = {
        "ops.md": ops_markdown,
        "blocks.md": blocks_markdown,
        "zoo.md": lambda: zoo_markdown(specs_dir),
    }
    return {name: make() for name, make in makers.items()}


def stale_docs(directory: Path, specs_dir: Path = ZOO_DIR) -> list[str]:
    """The generated docs in `directory` that differ from what the models generate now."""
    docs = generated_docs(specs_dir)
    return [name for name, text in docs.items() if _read(directory / name) != text]


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


__all__ = [
    "EXAMPLE_INPUTS", "GENERATED_NOTE", "Arg", "ZooEntry", "arguments", "blocks_markdown",
    "describe", "example", "first_sentence", "generated_docs", "ops_markdown", "overview",
    "spec_paper", "spec_twin", "stale_docs", "yaml_value", "zoo_entries", "zoo_markdown",
]  # fmt: skip
