"""The inspection commands: `resolve` (a spec flattened, with where each value comes from) and
`diff` (two specs, or one under two sets of `--set`, stage by stage and node by node). Neither
imports TensorFlow."""

from __future__ import annotations

import json
import sys

import click

from ..atomic import write_atomically
from ..compiler import Limits, compile_file
from ..errors import SpecError
from .app import (
    format_option,
    main,
    no_head_option,
    output_option,
    parse_sets,
    reports_errors,
    spec_options,
)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@spec_options
@format_option("yaml", "json")
@click.option("--strict", is_flag=True, help="Params that nothing reads are errors, not warnings.")
@output_option("Write the resolved spec to FILE (all or nothing) instead of printing it.")
@reports_errors
def resolve(spec: str, sets: tuple[str, ...], limits: Limits, fmt: str, strict: bool,
            output: str | None) -> None:  # fmt: skip
    """Print SPEC as the compiler sees it: one flat spec, after `extends`, `override:` and
    `--set`, that compiles to the same Graph, each value with the file and line it comes from
    (YAML comments, or `--format json`). Warns about params that nothing reads."""
    from .. import resolve as r

    resolved = r.resolve(spec, parse_sets(sets), limits)
    unused = r.unused_diagnostics(resolved)
    if strict and unused:
        raise SpecError(unused)
    for key, _ in resolved.unused:
        o = resolved.origin(("params", key))
        inherited = " (inherited)" if o.level else ""
        click.echo(f"warning: {o.file}:{o.line}: param '{key}'{inherited} is never used: nothing "
                   "reads it (--strict makes this an error)", err=True)  # fmt: skip
    if fmt == "json":
        text = json.dumps(r.to_json(resolved), indent=1, ensure_ascii=False) + "\n"
    else:
        text = r.to_yaml(resolved)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomically(output, text)
        click.echo(f"wrote {output}")


@main.command()
@click.argument("spec_a", metavar="A", type=click.Path(dir_okay=False))
@click.argument("spec_b", metavar="B", type=click.Path(dir_okay=False))
@spec_options
@click.option("--set-a", "sets_a", multiple=True, metavar="KEY=VALUE",
              help="Override a param of A only (after --set). Repeatable.")  # fmt: skip
@click.option("--set-b", "sets_b", multiple=True, metavar="KEY=VALUE",
              help="Override a param of B only (after --set). Repeatable.")  # fmt: skip
@format_option("table", "markdown", "json")
@no_head_option
@click.option("--all", "every", is_flag=True, help="List the stages that are the same too.")
@click.option("--exit-code", is_flag=True,
              help="Exit 1 when A and B differ (as diff(1) and git diff --exit-code do); "
              "without it, 0 either way.")  # fmt: skip
@reports_errors
def diff(spec_a: str, spec_b: str, sets: tuple[str, ...], limits: Limits,
         sets_a: tuple[str, ...], sets_b: tuple[str, ...], fmt: str, no_head: bool,
         every: bool, exit_code: bool) -> None:  # fmt: skip
    """Compare spec A with spec B (or one spec under two sets of --set) stage by stage and node
    by node: nodes added, removed and changed, shapes, params and MACs, per top-level block
    and in total. Exit 0 whether or not they differ (1 with --exit-code when they do)."""
    from .. import diff as d

    shared = parse_sets(sets)
    values_a, values_b = {**shared, **parse_sets(sets_a)}, {**shared, **parse_sets(sets_b)}
    a = compile_file(spec_a, values_a, head=not no_head, limits=limits)
    b = compile_file(spec_b, values_b, head=not no_head, limits=limits)
    labels = (_label(spec_a, values_a), _label(spec_b, values_b))
    result = d.diff(a, b)
    if fmt == "json":
        click.echo(json.dumps(d.to_json(result, labels), indent=1, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(d.render_markdown(result, labels, every))
    else:
        click.echo(d.render_table(result, labels, every))
    if exit_code and not result.same:
        sys.exit(1)


def _label(spec: str, values: dict[str, str]) -> str:
    return " ".join([spec, *(f"--set {k}={v}" for k, v in values.items())])
