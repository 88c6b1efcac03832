"""The summary as an HTML table: how a compiled spec shows itself in Jupyter (`_repr_html_`).

The same rows and totals as `archc summary` (summary.rows, summary.totals_lines), escaped;
block rows in bold and indented, numbers right-aligned.
"""

from __future__ import annotations

from html import escape

from ..graph import Graph
from ..summary import human, human_bytes, rows, totals_lines

_HEAD = ["Layer", "Op", "Output shape", "Params", "MACs", "Memory", "RF", "From"]
_RIGHT = {"Params", "MACs", "Memory", "RF"}


def summary_html(graph: Graph, depth: int | None = None) -> str:
    """A self-contained `<div>`: title, the layer table (blocks folded below `depth`), totals."""
    body = []
    for r in rows(graph, depth):
        name = escape(r.name)
        cells = {
            "Layer": f"<b>▸ {name}</b>" if r.is_block else f"<code>{name}</code>",
            "Op": escape(r.op),
            "Output shape": escape(r.shape),
            "Params": f"{r.params:,}" if r.params else "–",
            "MACs": escape(human(r.macs)) if r.macs else "–",
            "Memory": escape(human_bytes(r.memory)),
            "RF": escape(r.rf),
            "From": escape(r.inputs),
        }
        indent = f"padding-left:{0.3 + 1.2 * r.level:.1f}em"
        tds = [
            f'<td style="{indent}">{cells["Layer"]}</td>',
            *(
                f'<td style="text-align:{"right" if c in _RIGHT else "left"}">{cells[c]}</td>'
                for c in _HEAD[1:]
            ),
        ]
        body.append("<tr>" + "".join(tds) + "</tr>")
    head = "".join(
        f'<th style="text-align:{"right" if c in _RIGHT else "left"}">{c}</th>' for c in _HEAD
    )
    totals = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>"
                     for k, v in totals_lines(graph))  # fmt: skip
    title = escape(graph.name) + (f" — {escape(graph.doc.split('. ')[0])}" if graph.doc else "")
    return (
        f'<div class="archcompiler-summary"><p><b>{title}</b></p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        f"<table>{totals}</table></div>"
    )
