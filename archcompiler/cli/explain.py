"""`archc explain MODEL.keras [LAYER]`: the provenance a `.keras` made by `archc build` or
`archc train` carries (archcompiler/provenance.py), read with zipfile: no TensorFlow."""

from __future__ import annotations

import json

import click

from .. import provenance as p
from .app import format_option, main, reports_errors


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("layer", required=False)
@format_option("text", "json")
@click.option("--layers", "every", is_flag=True,
              help="List every recorded layer with its spec file:line and block path.")  # fmt: skip
@reports_errors
def explain(model: str, layer: str | None, fmt: str, every: bool) -> None:
    """Say where MODEL.keras came from: the spec (its files' sha256, and whether the files on
    disk are unchanged, changed since or missing), the params, the archcompiler version and
    Keras backend, the layer count. With LAYER: that layer's spec file and line, block path
    and op. Reads the record `archc build` and `archc train` put in the model's
    metadata.json; plain Keras loads such a model as any other."""
    rec = p.read_record(model)
    if layer is not None:
        entry = p.layer(rec, layer, model)
        click.echo(json.dumps(entry, indent=1) if fmt == "json" else p.render_layer(entry).rstrip())
        return
    if every:
        entries = [{"name": name, **e} for name, e in rec["layers"].items()]
        if fmt == "json":
            click.echo(json.dumps(entries, indent=1))
            return
        width = max((len(e["name"]) for e in entries), default=0)
        for e in entries:
            block = " > ".join(e.get("block") or [])
            click.echo(
                f"{e['name']:<{width}}  {e.get('op', ''):<16} {p.where(e)}  {block}".rstrip()
            )
        return
    o = p.overview(rec)
    click.echo(json.dumps(o, indent=1) if fmt == "json" else p.render_overview(o).rstrip())
