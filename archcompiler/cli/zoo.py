"""`archc zoo`: the networks archcompiler comes with, without TensorFlow."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from ..errors import Location, SpecError, did_you_mean
from ..zoo import zoo_names, zoo_path
from .app import format_option, main, reports_errors


@main.command()
@click.argument("name", required=False)
@format_option("table", "json")
@click.option("--path", "show_path", is_flag=True, help="Print the spec file's path only.")
@reports_errors
def zoo(name: str | None, fmt: str, show_path: bool) -> None:
    """List the zoo: every network with its keras.applications twin, input, params and MACs.

    With NAME, print that network's spec (a start for your own: `archc zoo resnet50 >
    mynet.yaml`). Any command takes a zoo name where it takes a spec: `archc build resnet50`.
    """
    if name is not None:
        path = zoo_path(name)
        if path is None:
            raise SpecError.at(
                Location(name), f"no zoo network is named '{name}'{did_you_mean(name, zoo_names())}"
            )
        click.echo(str(path) if show_path else path.read_text(encoding="utf-8"), nl=show_path)
        return
    if show_path:
        raise click.UsageError("--path needs a NAME")
    from ..reference.zoo import zoo_entries
    from ..summary import human

    entries = zoo_entries()
    if fmt == "json":
        out = [{**asdict(e), "name": e.file.removesuffix(".yaml")} for e in entries]
        click.echo(json.dumps(out, indent=1, ensure_ascii=False))
        return
    head = ("Name", "keras.applications", "Input", "Params", "MACs", "Depth")
    body = [
        (e.file.removesuffix(".yaml"), e.twin or "–", e.inputs, f"{e.params:,}", human(e.macs),
         str(e.depth))
        for e in entries
    ]  # fmt: skip
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    right = {3, 4, 5}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    click.echo(line(head))
    click.echo("─" * len(line(head)))
    for r in body:
        click.echo(line(r))
    click.echo(
        f"{len(entries)} networks; `archc zoo NAME` prints one, `archc summary NAME` shows it."
    )
