"""`archc sweep`: params, MACs and activation memory over a grid of `--set` values, a plot of
them, and with `--measure` the latency of each point on this machine. Without `--measure` it
never imports TensorFlow."""

from __future__ import annotations

import os
import sys
from types import ModuleType
from typing import Any

import click

from ..atomic import write_atomically
from ..compiler import Limits
from .app import format_option, main, no_head_option, output_option, reports_errors, spec_options


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@spec_options
@format_option("table", "json", "csv")
@output_option("Write the table (or JSON, CSV) to FILE, all or nothing, instead of printing it.")
@click.option("--plot", metavar="FILE", type=click.Path(dir_okay=False), default=None,
              help="Also draw MACs against params, one labelled point per setting: FILE.png or "
              "FILE.svg (matplotlib).")  # fmt: skip
@click.option("--measure", is_flag=True,
              help="Build every point (Keras) and time its forward pass on this machine: the "
              "median of --runs calls after a warm-up, at batch 1 and --batch.")  # fmt: skip
@click.option("--batch", type=click.IntRange(1), default=32, show_default=True,
              help="The second batch size --measure times.")  # fmt: skip
@click.option("--runs", type=click.IntRange(1), default=10, show_default=True,
              help="Timed calls per point and batch size (the median is reported).")  # fmt: skip
@click.option("--max-points", type=click.IntRange(1), default=256, show_default=True,
              help="Refuse grids with more points than this.")  # fmt: skip
@no_head_option
@reports_errors
def sweep(spec: str, sets: tuple[str, ...], limits: Limits, fmt: str, output: str | None,
          plot: str | None, measure: bool, batch: int, runs: int, max_points: int,
          no_head: bool) -> None:  # fmt: skip
    """Compile SPEC at every point of a grid of params — `--set KEY=V1,V2,…`, the cartesian
    product of the values (one value holds a param fixed) — and print each point's params,
    MACs and activation memory (float32, batch 1); `--measure` adds measured latency. Every
    point is compiled before any is built; outputs are written only at the end."""
    from .. import sweep as sw

    if plot is not None and os.path.splitext(plot)[1].lower() not in sw.PLOT_SUFFIXES:
        raise click.BadParameter(f"the file name must end in .png or .svg, got {plot!r}",
                                 param_hint="--plot")  # fmt: skip
    try:
        grid = sw.settings(sw.parse_axes(sets), max_points)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--set") from None
    points = sw.compile_grid(spec, grid, head=not no_head, limits=limits)
    if measure:
        _measure(sw, points, batch, runs)
    if fmt == "json":
        text = sw.to_json(spec, points)
    elif fmt == "csv":
        text = sw.to_csv(points)
    else:
        text = sw.render_table(points) + "\n"
    picture = None
    if plot is not None:
        picture = sw.plot_bytes(points, os.path.splitext(plot)[1].lower(), os.path.basename(spec))
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomically(output, text)
        click.echo(f"wrote {output}", err=True)
    if plot is not None and picture is not None:
        write_atomically(plot, picture)  # a SpecError at the file if the system refuses
        click.echo(f"wrote {plot}", err=True)


def _measure(sw: ModuleType, points: list[Any], batch: int, runs: int) -> None:
    """Time every point, with a progress bar on stderr when it is a terminal; Ctrl-C: say how
    far it got and exit 130 (nothing has been written yet)."""
    done = 0

    def step(k: int) -> None:
        nonlocal done
        done = k

    try:
        if sys.stderr.isatty():
            with click.progressbar(length=len(points), label="measuring", file=sys.stderr) as bar:

                def step_bar(k: int) -> None:
                    step(k)
                    bar.update(1)

                sw.measure_all(points, batch, runs, progress=step_bar)
        else:
            sw.measure_all(points, batch, runs, progress=step)
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted after {done} of {len(points)} points", err=True)
        sys.exit(130)
