"""The design-time commands: check, summary, build, graph, schema, blocks, docs. All but
`build` answer without importing TensorFlow (a test runs them in a subprocess to prove it)."""

from __future__ import annotations

import json
import os
import sys
from functools import partial

import click

from ..atomic import write_atomically
from ..backends import model_suffix
from ..backends.frameworks import FRAMEWORKS, choose_framework
from ..compiler import Limits, compile_file
from ..errors import Location, SpecError
from .app import (
    compile_spec,
    depth_option,
    echo_report,
    format_option,
    main,
    no_head_option,
    output_option,
    parse_sets,
    reports_errors,
    spec_options,
)  # fmt: skip
from .workers import in_order, workers_for


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@spec_options
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
@click.option("--sizes", is_flag=True,
              help="Also say which input sizes the spec accepts (min, step, the nodes that "
              "constrain them), solved from the shape rules for every size 1…2048.")  # fmt: skip
@click.option("-j", "--jobs", type=click.IntRange(0), default=0, show_default=True,
              help="Check the specs in N processes (0: one per CPU core; 1: in this one). "
              "The answers come in the order of SPECS either way.")  # fmt: skip
@reports_errors
def check(specs: tuple[str, ...], sets: tuple[str, ...], limits: Limits,
          quiet: bool, sizes: bool, jobs: int) -> None:  # fmt: skip
    """Validate SPECS and infer every shape, without TensorFlow. Exit 0 if all are valid."""
    answer = partial(_check_one, values=parse_sets(sets), limits=limits, quiet=quiet, sizes=sizes)
    failed = False
    for lines, bad in in_order(answer, specs, workers_for(jobs, len(specs))):
        for text, err in lines:
            click.echo(text, err=err)
        failed |= bad
    if failed:
        sys.exit(1)


def _check_one(
    spec: str, values: dict[str, str], limits: Limits, quiet: bool, sizes: bool
) -> tuple[list[tuple[str, bool]], bool]:
    """What `check` says of one spec, as (text, on stderr) lines, and whether it failed."""
    try:
        graph = compile_file(spec, values, limits=limits)
    except SpecError as e:
        return [(e.render(), True)], True
    lines = []
    if not quiet:
        from ..summary import human

        lines.append((f"{spec}: ok — {graph.total_params:,} params, {human(graph.macs)} MACs, "
                      f"{len(graph):,} layers", False))  # fmt: skip
    if sizes:
        from ..sizes import render, solve_file

        lines.append((render(solve_file(spec, values, limits, graph=graph), spec), False))
    return lines, False


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@spec_options
@depth_option("row")
@format_option("table", "json", "markdown")
@no_head_option
@click.option("--columns", metavar="LIST", default=None,
              help="Columns after Layer, comma-separated: `default` (op, output_shape, params, "
              "macs, memory, rf, from) and input_shape, kernel, strides, dilation, padding, "
              "activation, trainable, percent, origin; torchinfo's names work too.")  # fmt: skip
@click.option("--wide", is_flag=True, help="Cut nothing, whatever the terminal's width.")
@click.option("--width", type=click.IntRange(1), default=None,
              help="Fit N characters (default: the terminal's; no limit when stdout is not "
              "a terminal).")  # fmt: skip
@reports_errors
def summary(spec: str, sets: tuple[str, ...], limits: Limits, depth: int | None, fmt: str,
            no_head: bool, columns: str | None, wide: bool, width: int | None) -> None:  # fmt: skip
    """Print every layer's output shape, params and MACs, without TensorFlow."""
    from .. import summary as s

    try:
        keys = s.parse_columns(columns)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--columns") from None
    graph = compile_spec(spec, sets, limits, no_head)
    if fmt == "json":
        click.echo(json.dumps(s.to_json(graph, keys), indent=1))
    elif fmt == "markdown":
        click.echo(s.render_markdown(graph, depth, keys))
    else:
        fit = None if wide else width or s.terminal_width()
        click.echo(s.render_table(graph, depth, keys, fit))


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@output_option("Write the model to FILE.keras (atomically: all or nothing).")
@spec_options
@no_head_option
@click.option(
    "--weights",
    type=click.Path(dir_okay=False),
    default=None,
    help="Load weights: a Keras .weights.h5, a legacy .h5 (by layer name) such as "
    "keras.applications ships, or `imagenet`: keras.applications' own file for a zoo twin "
    "(from Keras's cache, ~/.keras/models, or downloaded).",
)
@click.option(
    "--backend",
    type=click.Choice(list(FRAMEWORKS)),
    default=None,
    help="The framework Keras runs on [default: KERAS_BACKEND, else tensorflow].",
)
@click.option(
    "--inference", is_flag=True,
    help="Optimize for inference: fold batch norms into the layer before, merge activations, "
    "drop dropout (docs/export.md). For serving, not for further training.",
)  # fmt: skip
@click.option("-q", "--quiet", is_flag=True, help="Do not print the summary table.")
@reports_errors
def build(spec: str, output: str | None, sets: tuple[str, ...], limits: Limits,
          no_head: bool, weights: str | None, backend: str | None, inference: bool,
          quiet: bool) -> None:  # fmt: skip
    """Compile SPEC into a Keras model; print its summary; optionally write FILE.keras."""
    from .. import summary as s
    from ..build import IMAGENET, build_and_save
    from ..model_files import check_weights_file

    suffix = model_suffix("keras")
    if output is not None and not output.endswith(suffix):
        raise click.BadParameter(
            f"the file name must end in {suffix}, got {output!r}", param_hint="-o"
        )
    if weights is not None and weights != IMAGENET:
        check_weights_file(weights)  # a wrong file is named before anything else is done
    choose_framework(backend)  # before Keras is imported: it reads KERAS_BACKEND once
    graph = compile_spec(spec, sets, limits, no_head)
    if not quiet:
        click.echo(s.render_table(graph))
    echo_report(build_and_save(graph, output, weights, head=not no_head, inference=inference))


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@output_option("FILE.dot, FILE.svg or FILE.png (SVG and PNG need Graphviz's `dot`).", required=True)
@spec_options
@depth_option("node")
@no_head_option
@click.option("--rankdir", type=click.Choice(["TB", "LR"]), default="TB", show_default=True,
              help="Draw top to bottom (TB) or left to right (LR).")  # fmt: skip
@reports_errors
def graph(spec: str, output: str, sets: tuple[str, ...], limits: Limits,
          depth: int | None, no_head: bool, rankdir: str) -> None:  # fmt: skip
    """Draw SPEC: nodes with name, op and shape; blocks as clusters, folded at --depth."""
    from ..render.graph import RenderError, write

    compiled = compile_spec(spec, sets, limits, no_head)
    try:
        write(compiled, output, depth, rankdir)
    except RenderError as e:  # e.g. Graphviz missing for .svg/.png: about this output
        raise SpecError.at(Location(output), str(e)) from None
    click.echo(f"Wrote {output}")


@main.command()
@output_option("Write the schema to FILE (atomically) instead of printing it.")
@reports_errors
def schema(output: str | None) -> None:
    """Print the JSON Schema of the spec language (for editors: yaml-language-server)."""
    from ..schema import schema_text

    text = schema_text()
    if output is None:
        click.echo(text, nl=False)
        return
    write_atomically(output, text)  # a SpecError at the file if the system refuses
    click.echo(f"Wrote {output}")


@main.command()
@click.argument("name", required=False)
@reports_errors
def blocks(name: str | None) -> None:
    """List every primitive op and built-in block with its arguments; NAME shows one in full."""
    from ..reference import describe, overview

    try:
        click.echo(overview() if name is None else describe(name))
    except LookupError as e:  # an unknown name, with a suggestion
        raise click.ClickException(str(e.args[0])) from None


@main.command()
@click.option("--write", "write_dir", type=click.Path(file_okay=False), default=None,
              help="Write ops.md, blocks.md and zoo.md into DIR.")  # fmt: skip
@click.option("--check", "check_dir", type=click.Path(file_okay=False), default=None,
              help="Exit 1 if the docs in DIR are stale.")  # fmt: skip
@reports_errors
def docs(write_dir: str | None, check_dir: str | None) -> None:
    """Generate the reference docs (ops, blocks, zoo) from the models: `--write docs`."""
    from pathlib import Path

    from ..reference import generated_docs, stale_docs

    if (write_dir is None) == (check_dir is None):
        raise click.UsageError("give --write DIR or --check DIR")
    if check_dir is not None:
        stale = stale_docs(Path(check_dir))
        for name in stale:
            click.echo(f"{Path(check_dir) / name} is stale", err=True)
        if stale:
            click.echo("regenerate: archc docs --write docs", err=True)
            sys.exit(1)
        return
    os.makedirs(write_dir, exist_ok=True)  # type: ignore[arg-type]
    for name, text in generated_docs().items():
        target = os.path.join(write_dir, name)  # type: ignore[arg-type]
        write_atomically(target, text)
        click.echo(f"wrote {target}")
