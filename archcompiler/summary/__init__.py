"""Tables and totals from a Graph: the terminal table (fitted to a width on request), Markdown,
and the JSON whose fields docs/contracts.md lists.

`figures` reads the Graph (rows, receptive fields, op facts, JSON), `columns` defines what the
table can show (`archc summary --columns`), `table` lays it out.
"""

from __future__ import annotations

from .columns import ALIASES, COLUMNS, DEFAULT, Column, parse_columns
from .figures import (
    FLOAT32,
    JSON_EXTRAS,
    Row,
    human,
    human_bytes,
    op_facts,
    origin,
    receptive_fields,
    rows,
    to_json,
    totals_lines,
)
from .table import MIN_WIDTH, cut_names, render_markdown, render_table, terminal_width

__all__ = [
    "ALIASES", "COLUMNS", "DEFAULT", "FLOAT32", "JSON_EXTRAS", "MIN_WIDTH", "Column", "Row",
    "cut_names", "human", "human_bytes", "op_facts", "origin", "parse_columns", "receptive_fields",
    "render_markdown", "render_table", "rows", "terminal_width", "to_json", "totals_lines",
]  # fmt: skip
