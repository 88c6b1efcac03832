"""The terminal table and the Markdown table of `archc summary`.

The terminal table fits a width when given one (`archc summary` passes the terminal's when
stdout is a terminal): the From, Input shape, Layer and Op cells are cut with `…` (a From list
keeps whole names and says `… +3 more`), then columns are hidden from the right, and a last
line says which. Without a width (`--wide`, or stdout not a terminal) nothing is cut.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from collections.abc import Sequence
from typing import IO

from ..graph import Graph
from .columns import COLUMNS, DEFAULT, Column
from .figures import Row, rows, totals_lines

MIN_WIDTH = 60  # narrower widths are treated as 60: the totals lines need about that much
LAYER_SOFT, LAYER_HARD = 20, 12  # Layer is cut to 20 before From goes, to 12 before others go
RULE = "─"


def terminal_width(stream: IO[str] | None = None) -> int | None:
    """The terminal's width (COLUMNS wins, as shutil reads it) when `stream` (stdout) is a
    terminal; None otherwise: output to a file or a pipe is never cut."""
    stream = sys.stdout if stream is None else stream
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # closed or file-less streams
        tty = False
    return shutil.get_terminal_size().columns if tty else None


def _label(r: Row, short: bool = False) -> str:
    name = _short(r.name, r.within) if short else r.name
    return ("  " * r.level) + (f"▸ {name}" if r.is_block else name)


def _short(name: str, within: tuple[str, ...]) -> str:
    """A name less its block's name, which it starts with: `…_0_conv` in conv2_block1."""
    if within and name.startswith(within[-1] + "_"):
        return "…" + name[len(within[-1]) :]
    return name


def _grid(
    graph: Graph, depth: int | None, keys: Sequence[str]
) -> tuple[list[Row], list[Column], list[str], list[list[str]]]:
    """Rows, the non-empty columns among `keys`, headings and cells (Layer first)."""
    body = rows(graph, depth)
    cols = [COLUMNS[k] for k in keys]
    cells = [[c.cell(r, graph) for c in cols] for r in body]
    shown = [i for i in range(len(cols)) if any(row[i] for row in cells)]  # drop empty ones
    cols = [cols[i] for i in shown]
    grid = [[_label(r), *(row[i] for i in shown)] for r, row in zip(body, cells, strict=True)]
    return body, cols, ["Layer", *(c.head for c in cols)], grid


def render_table(
    graph: Graph, depth: int | None = None, columns: Sequence[str] | None = None,
    width: int | None = None,
) -> str:  # fmt: skip
    """The terminal table: blocks indented, thousands separators, MACs in SI units, float32
    activation memory (a block's row: all its outputs) and receptive field (RF, input pixels).
    `columns`: keys of COLUMNS (default: DEFAULT); columns empty in every row are left out.
    `width`: fit that many characters (at least MIN_WIDTH); None: cut nothing."""
    body, cols, heads, grid = _grid(graph, depth, columns or DEFAULT)
    right = {i + 1 for i, c in enumerate(cols) if c.right}
    natural = [max(len(heads[i]), *(len(row[i]) for row in grid)) for i in range(len(heads))]
    keep, widths, hidden = list(range(len(heads))), natural, []
    short = False
    if width is not None:
        width = max(width, MIN_WIDTH)
        keep, widths, hidden = _fit(cols, heads, natural, width)
        source = next((i + 1 for i, c in enumerate(cols) if c.key == "from"), None)
        cut = [
            i for i in (0, source) if i is not None and (i not in keep or widths[i] < natural[i])
        ]
        if cut:  # names go short everywhere: `…_0_conv` under block conv2_block1
            short = True
            for r, row in zip(body, grid, strict=True):
                row[0] = _label(r, short)
                if source is not None:
                    row[source] = ", ".join(_short(n, r.within) for n in r.sources)
            natural = [
                max(len(heads[i]), *(len(row[i]) for row in grid)) for i in range(len(heads))
            ]
            keep, widths, hidden = _fit(cols, heads, natural, width)

    def line(cells: list[str]) -> str:
        parts = [
            cells[c].rjust(widths[c]) if c in right else cells[c].ljust(widths[c]) for c in keep
        ]
        return "  ".join(parts).rstrip()

    cells = [_cut_row(r, row, cols, widths, short) for r, row in zip(body, grid, strict=True)]
    head = line(heads)
    rule = RULE * len(head)
    out = [*_title(graph, width), rule, head, rule, *(line(r) for r in cells), rule]
    label = max(len(k) for k, _ in totals_lines(graph))
    out += [_cut(f"{k + ':':<{label + 1}} {v}", width) for k, v in totals_lines(graph)]
    if hidden:
        note = f"({', '.join(hidden)} hidden to fit {width} columns; --wide shows all)"
        out.append(_cut(note, width))
    return "\n".join(out)


def _fit(
    cols: list[Column], heads: list[str], natural: list[int], width: int
) -> tuple[list[int], list[int], list[str]]:
    """Which columns to keep and how wide, so that a line fits `width`; and the headings of
    the hidden ones. Cut From/Input shape first, then Layer to LAYER_SOFT; hide From before
    cutting Layer further; then cut Layer and Op to their least, then hide from the right."""
    keys = ["layer", *(c.key for c in cols)]
    least = [LAYER_HARD, *(c.squeeze for c in cols)]
    loose = [i for i, k in enumerate(keys) if k in ("from", "input_shape")]
    soft = [(i, least[i]) for i in loose] + [(0, LAYER_SOFT)]
    ops = [i for i, k in enumerate(keys) if k == "op"]
    hard = [*soft, *((i, 10) for i in ops), (0, LAYER_HARD), *((i, least[i]) for i in ops)]

    def attempt(keep: list[int], floors: list[tuple[int, int]]) -> list[int]:
        widths = list(natural)
        for i, lo in floors:
            over = sum(widths[c] for c in keep) + 2 * (len(keep) - 1) - width
            if over > 0 and i in keep:
                widths[i] -= max(0, min(over, widths[i] - max(lo, len(heads[i]))))
        return widths

    def fits(widths: list[int], keep: list[int]) -> bool:
        return sum(widths[c] for c in keep) + 2 * (len(keep) - 1) <= width

    keep, hidden = list(range(len(heads))), []
    while len(keep) > 1 and not fits(attempt(keep, soft), keep):
        if keys[keep[-1]] != "from" and fits(attempt(keep, hard), keep):
            break
        hidden.insert(0, heads[keep.pop()])
    widths = attempt(keep, hard)
    while len(keep) > 1 and not fits(widths, keep):
        hidden.insert(0, heads[keep.pop()])
        widths = attempt(keep, hard)
    return keep, widths, hidden


def _cut_row(
    r: Row, cells: list[str], cols: list[Column], widths: list[int], short: bool
) -> list[str]:
    """The row's cells cut to `widths`: names in the middle, From lists by whole names."""
    out = list(cells)
    for i, text in enumerate(cells):
        w = widths[i]
        if len(text) <= w:
            continue
        if i == 0:
            out[i] = _cut_label(r, w, short)
        elif cols[i - 1].key == "from":
            out[i] = cut_names([_short(n, r.within) if short else n for n in r.sources], w)
        else:
            out[i] = _cut(text, w)
    return out


def _cut(text: str, width: int | None) -> str:
    """`text`, ending in `…` where it passes `width`."""
    if width is None or len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"


def cut_middle(text: str, width: int) -> str:
    """conv5_b…2_conv: both ends of a name kept, as they tell names apart."""
    if len(text) <= width:
        return text
    if width < 5:
        return _cut(text, width)
    tail = (width - 1) // 2
    return text[: width - 1 - tail] + "…" + text[len(text) - tail :]


def _cut_label(r: Row, width: int, short: bool) -> str:
    """Indentation kept, the name cut in the middle."""
    label = _label(r, short)
    name = _short(r.name, r.within) if short else r.name
    prefix = label[: len(label) - len(name)]
    if width - len(prefix) < 5:
        return _cut(label, width)
    return prefix + cut_middle(name, width - len(prefix))


def cut_names(names: Sequence[str], width: int) -> str:
    """`a, b, … +3 more`: as many whole names as fit `width`, and how many did not; then
    `a +3`, then `4 inputs`; a single name too long is cut in the middle."""
    full = ", ".join(names)
    if len(full) <= width:
        return full
    for k in range(len(names) - 1, 0, -1):
        text = ", ".join(names[:k]) + f", … +{len(names) - k} more"
        if len(text) <= width:
            return text
    if len(names) == 1:
        return cut_middle(names[0], width)
    if len(names[0]) + len(more := f" +{len(names) - 1}") <= width:
        return names[0] + more
    return _cut(f"{len(names)} inputs", width)  # rather than a name cut past reading


def _title(graph: Graph, width: int | None) -> list[str]:
    """`Model: NAME — the doc's first sentence`; to fit `width`, wrapped onto a second line
    and cut there with `…`."""
    title = f"Model: {graph.name}"
    first = graph.doc.split(": ")[0].split(". ")[0].strip() if graph.doc else ""
    if first:
        title += f" — {' '.join(first.split())}"
    if width is None or len(title) <= width:
        return [title]
    lines = textwrap.wrap(title, width, subsequent_indent="  ", break_on_hyphens=False)
    if len(lines) > 2:
        lines = [lines[0], _cut(lines[1] + " …", width)]
        if not lines[1].endswith("…"):
            lines[1] = _cut(lines[1], width - 1) + "…"
    return lines


def render_markdown(
    graph: Graph, depth: int | None = None, columns: Sequence[str] | None = None
) -> str:
    """A GitHub-flavoured Markdown table, for papers and READMEs; columns empty in every row
    (From, in a chain) are left out."""
    body, cols, heads, grid = _grid(graph, depth, columns or DEFAULT)
    out = [f"### {graph.name}", "", "| " + " | ".join(heads) + " |"]
    out.append("|---|" + "|".join("---:" if c.right else "---" for c in cols) + "|")
    for r, cells in zip(body, grid, strict=True):
        cells[0] = "&nbsp;" * 2 * r.level + (f"**{r.name}**" if r.is_block else f"`{r.name}`")
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    out.append("")
    out += [f"- **{k}:** {v}" for k, v in totals_lines(graph)]
    return "\n".join(out)
