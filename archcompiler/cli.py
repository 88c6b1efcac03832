"""The `archc` command: a thin layer over the library (DESIGN §6).

`check` and `summary` never import TensorFlow; a test runs them in a subprocess to prove it.
User mistakes print `path:line:col: error: …` on stderr and exit 1, without a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from .compile import Limits, compile_file
from .graph import Graph
from .spec.errors import SpecError


def _parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--set")
        out[key.strip()] = value.strip()
    return out


def _limits(max_params: int, max_nodes: int) -> Limits:
    return Limits(max_params=max_params, max_nodes=max_nodes)


def _compile(
    spec: str, sets: tuple[str, ...], max_params: int, max_nodes: int, no_head: bool
) -> Graph:
    """What summary, build and graph share: the spec with --set, bounds and --no-head."""
    return compile_file(
        spec, _parse_sets(sets), head=not no_head, limits=_limits(max_params, max_nodes)
    )


def _common(f: Callable[..., Any]) -> Callable[..., Any]:
    """--set, --max-params and --max-nodes, shared by every command that compiles a spec."""
    f = click.option(
        "--max-nodes", type=click.IntRange(1), default=Limits.max_nodes, show_default=True,
        help="Refuse specs that expand to more primitive ops than this.",
    )(f)  # fmt: skip
    f = click.option(
        "--max-params", type=click.IntRange(1), default=Limits.max_params, show_default=True,
        help="Refuse specs with more parameters than this.",
    )(f)  # fmt: skip
    return click.option(
        "--set", "sets", multiple=True, metavar="KEY=VALUE",
        help="Override a param of the spec (typed by its default). Repeatable.",
    )(f)  # fmt: skip


def _reports_errors(f: Callable[..., Any]) -> Callable[..., Any]:
    """SpecError → located messages on stderr, exit 1; any other failure is our bug: exit 2."""

    @wraps(f)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except SpecError as e:
            click.echo(e.render(), err=True)
            sys.exit(1)
        except click.ClickException:
            raise  # usage errors: click prints them and exits 2
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as e:  # an internal error: say so plainly, keep the trace for debugging
            if os.environ.get("ARCHC_DEBUG"):
                raise
            click.echo(
                f"archc: internal error: {type(e).__name__}: {e}\n"
                "(this is a bug in archcompiler; rerun with ARCHC_DEBUG=1 for the traceback)",
                err=True,
            )
            sys.exit(2)

    return run


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="archcompiler")
def main() -> None:
    """archcompiler: YAML architecture specs in, shape-checked Keras models out."""


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_common
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
@_reports_errors
def check(specs: tuple[str, ...], sets: tuple[str, ...], max_params: int, max_nodes: int,
          quiet: bool) -> None:  # fmt: skip
    """Validate SPECS and infer every shape, without TensorFlow. Exit 0 if all are valid."""
    overrides = _parse_sets(sets)
    failed = 0
    for spec in specs:
        try:
            graph = compile_file(spec, overrides, limits=_limits(max_params, max_nodes))
        except SpecError as e:
            click.echo(e.render(), err=True)
            failed += 1
            continue
        if not quiet:
            from .summary import human

            click.echo(
                f"{spec}: ok — {graph.total_params:,} params, {human(graph.macs)} MACs, "
                f"{len(graph):,} layers"
            )
    if failed:
        sys.exit(1)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@_common
@click.option(
    "--depth",
    type=click.IntRange(0),
    default=None,
    help="Fold blocks nested deeper than N into one row (0: top-level blocks only).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
)
@click.option("--no-head", is_flag=True, help="Leave out the head (classifier).")
@_reports_errors
def summary(spec: str, sets: tuple[str, ...], max_params: int, max_nodes: int,
            depth: int | None, fmt: str, no_head: bool) -> None:  # fmt: skip
    """Print every layer's output shape, params and MACs, without TensorFlow."""
    from . import summary as s

    graph = _compile(spec, sets, max_params, max_nodes, no_head)
    if fmt == "json":
        click.echo(json.dumps(s.to_json(graph), indent=1))
    elif fmt == "markdown":
        click.echo(s.render_markdown(graph, depth))
    else:
        click.echo(s.render_table(graph, depth))


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the model to FILE.keras (atomically: all or nothing).",
)
@_common
@click.option("--no-head", is_flag=True, help="Leave out the head (classifier).")
@click.option(
    "--weights",
    type=click.Path(dir_okay=False),
    default=None,
    help="Load weights: a Keras .weights.h5, or a legacy .h5 (by layer name) such as "
    "keras.applications ships.",
)
@click.option("-q", "--quiet", is_flag=True, help="Do not print the summary table.")
@_reports_errors
def build(spec: str, output: str | None, sets: tuple[str, ...], max_params: int, max_nodes: int,
          no_head: bool, weights: str | None, quiet: bool) -> None:  # fmt: skip
    """Compile SPEC into a Keras model; print its summary; optionally write FILE.keras."""
    from . import summary as s
    from .build import build_and_save

    if output is not None and not output.endswith(".keras"):
        raise click.BadParameter(
            f"the file name must end in .keras, got {output!r}", param_hint="-o"
        )
    graph = _compile(spec, sets, max_params, max_nodes, no_head)
    if not quiet:
        click.echo(s.render_table(graph))
    for line in build_and_save(graph, output, weights):
        click.echo(line)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    required=True,
    help="FILE.dot, FILE.svg or FILE.png (SVG and PNG need Graphviz's `dot`).",
)
@_common
@click.option(
    "--depth",
    type=click.IntRange(0),
    default=None,
    help="Fold blocks nested deeper than N into one node (0: top-level blocks only).",
)
@click.option("--no-head", is_flag=True, help="Leave out the head (classifier).")
@_reports_errors
def graph(spec: str, output: str, sets: tuple[str, ...], max_params: int, max_nodes: int,
          depth: int | None, no_head: bool) -> None:  # fmt: skip
    """Draw SPEC: nodes with name, op and shape; blocks as clusters, folded at --depth."""
    from .render.graph import RenderError, write

    compiled = _compile(spec, sets, max_params, max_nodes, no_head)
    try:
        write(compiled, output, depth)
    except RenderError as e:  # e.g. Graphviz missing for .svg/.png
        raise click.ClickException(str(e)) from None
    click.echo(f"Wrote {output}")


@main.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the schema to FILE instead of printing it.",
)
@_reports_errors
def schema(output: str | None) -> None:
    """Print the JSON Schema of the spec language (for editors: yaml-language-server)."""
    from .schema import schema_text

    text = schema_text()
    if output is None:
        click.echo(text, nl=False)
    else:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
        click.echo(f"Wrote {output}")


@main.command()
@click.argument("name", required=False)
@_reports_errors
def blocks(name: str | None) -> None:
    """List every primitive op and built-in block with its arguments; NAME shows one in full."""
    from .reference import describe, overview

    try:
        click.echo(overview() if name is None else describe(name))
    except LookupError as e:  # an unknown name, with a suggestion
        raise click.ClickException(str(e.args[0])) from None


if __name__ == "__main__":  # pragma: no cover
    main()
