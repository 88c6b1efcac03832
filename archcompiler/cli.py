"""The `archc` command: a thin layer over the library (docs/contracts.md).

`check` and `summary` never import TensorFlow; a test runs them in a subprocess to prove it.
User mistakes print `path:line:col: error: …` on stderr and exit 1, without a traceback.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

import click

from .backends import model_suffix
from .compile import Limits, compile_file
from .errors import SpecError
from .graph import Graph
from .train.data import PREPROCESS


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


def _no_head(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--no-head", is_flag=True, help="Leave out the head (classifier).")(f)


def _depth(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--depth N: fold blocks nested deeper than N into one `what` (row, node)."""
    return click.option(
        "--depth", type=click.IntRange(0), default=None,
        help=f"Fold blocks nested deeper than N into one {what} (0: top-level blocks only).",
    )  # fmt: skip


def _output(help: str, *, required: bool = False, **kwargs: Any) -> Callable[..., Any]:
    """-o/--output FILE (a directory where `kwargs` say so)."""
    kwargs.setdefault("type", click.Path(dir_okay=False))
    return click.option("-o", "--output", required=required, default=None, help=help, **kwargs)


def _format(*choices: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=choices[0], show_default=True
    )


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
    values = _parse_sets(sets)
    failed = 0
    for spec in specs:
        try:
            graph = compile_file(spec, values, limits=_limits(max_params, max_nodes))
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
@_depth("row")
@_format("table", "json", "markdown")
@_no_head
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
@_output("Write the model to FILE.keras (atomically: all or nothing).")
@_common
@_no_head
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

    suffix = model_suffix("keras")
    if output is not None and not output.endswith(suffix):
        raise click.BadParameter(
            f"the file name must end in {suffix}, got {output!r}", param_hint="-o"
        )
    graph = _compile(spec, sets, max_params, max_nodes, no_head)
    if not quiet:
        click.echo(s.render_table(graph))
    _echo_report(build_and_save(graph, output, weights))


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@_output("FILE.dot, FILE.svg or FILE.png (SVG and PNG need Graphviz's `dot`).", required=True)
@_common
@_depth("node")
@_no_head
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


def _reads_a_trained_model(f: Callable[..., Any]) -> Callable[..., Any]:
    """--preprocess and --format, shared by evaluate and predict."""
    f = _format("table", "json")(f)
    return click.option(
        "--preprocess", type=click.Choice(list(PREPROCESS)), default=None,
        help="Pixel preprocessing [default: the run's (run.json beside MODEL), else unit].",
    )(f)  # fmt: skip


def _command_line() -> list[str]:
    """The running command as an `archc …` line: its arguments and the options that differ
    from their defaults (what run.json records to repeat a run)."""
    ctx = click.get_current_context()
    words = ["archc", ctx.info_name or ""]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if isinstance(param, click.Argument):
            words += [str(v) for v in value] if isinstance(value, tuple) else [str(value)]
        elif value not in (None, False, (), param.default):
            for v in value if isinstance(value, tuple) else (value,):
                words += [param.opts[-1]] if v is True else [param.opts[-1], str(v)]
    return words


def _echo_report(lines: Iterable[str]) -> None:
    """Report lines on stdout; those starting with "warning:" on stderr."""
    for line in lines:
        click.echo(line, err=line.startswith("warning:"))


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "--data",
    required=True,
    type=click.Path(readable=False),  # our scan says what is wrong with it, located
    help="Image folder: DIR/<class>/*.jpg|png…, or DIR/train + DIR/val (or test).",
)
@_output("Run directory (default: runs/<spec name>-N).", type=click.Path(file_okay=False))
@click.option(
    "--epochs",
    type=click.IntRange(1, 100_000),
    default=10,
    show_default=True,
    help="Train up to this many epochs in all (with --resume: the new total).",
)
@click.option("--batch-size", type=click.IntRange(1, 65_536), default=32, show_default=True)
@click.option(
    "--lr",
    type=click.FloatRange(0, 10, min_open=True),
    default=None,
    help="Learning rate [default: adam 0.001, sgd 0.01 (momentum 0.9), rmsprop 0.001].",
)
@click.option(
    "--optimizer", type=click.Choice(["adam", "sgd", "rmsprop"]), default="adam", show_default=True
)
@click.option(
    "--val-split",
    type=click.FloatRange(0, 1, max_open=True),
    default=None,
    help="Hold out this fraction of DIR for validation [default: 0.2; 0: none].",
)
@click.option(
    "--val",
    "val_dir",
    type=click.Path(readable=False),
    default=None,
    help="Validate on this image folder instead of a split of --data.",
)
@click.option(
    "--augment",
    is_flag=True,
    help="Random flips, rotations (±10%) and zooms (±10%) while training.",
)
@click.option(
    "--preprocess",
    type=click.Choice(list(PREPROCESS)),
    default="unit",
    show_default=True,
    help="Pixels: unit = x/255; none = raw 0–255; caffe, tf, torch = ImageNet's, "
    "as keras.applications weights expect (VGG/ResNet, MobileNet, DenseNet).",
)
@_common
@click.option(
    "--weights",
    type=click.Path(dir_okay=False),
    default=None,
    help="Start from these weights: .weights.h5, a legacy .h5 or a .keras file "
    "(the last two by layer name, e.g. a pretrained backbone).",
)
@click.option(
    "--cache-features",
    is_flag=True,
    help="Run the frozen backbone once and train the head on its outputs "
    "(needs `freeze: backbone`; no --augment).",
)
@click.option(
    "--resume",
    type=click.Path(file_okay=False),
    default=None,
    help="Continue the run in this directory from its last epoch.",
)
@click.option("--force", is_flag=True, help="Replace the run in an existing run directory.")
@click.option(
    "--strategy",
    type=click.Choice(["default", "mirrored"]),
    default="default",
    show_default=True,
    help="mirrored: tf.distribute.MirroredStrategy over all GPUs.",
)
@click.option(
    "--mixed-precision",
    is_flag=True,
    help="float16 compute with float32 weights and outputs (for GPUs).",
)
@click.option("--tensorboard", is_flag=True, help="Write TensorBoard logs to RUN_DIR/logs.")
@click.option("--no-cache", is_flag=True, help="Decode images every epoch instead of once.")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=1337, show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="One line per epoch, no progress bars.")
@_reports_errors
def train(spec: str, data: str, output: str | None, epochs: int, batch_size: int,
          lr: float | None, optimizer: str, val_split: float | None, val_dir: str | None,
          augment: bool, preprocess: str, sets: tuple[str, ...], max_params: int,
          max_nodes: int, weights: str | None, cache_features: bool, resume: str | None,
          force: bool, strategy: str, mixed_precision: bool, tensorboard: bool,
          no_cache: bool, seed: int, quiet: bool) -> None:  # fmt: skip
    """Train SPEC on an image folder; keep the best epoch in RUN_DIR/model.keras."""
    from .train.options import TrainOptions
    from .train.prepare import prepare

    if val_split is not None and val_dir is not None:
        raise click.UsageError("give --val-split or --val, not both")
    if cache_features and augment:
        raise click.UsageError("--cache-features runs the backbone once, so no --augment")
    run_dir = output
    if resume is not None and (force or run_dir is not None):
        raise click.UsageError("--resume continues its own directory: no -o or --force")
    if tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise click.UsageError(
            "--tensorboard needs the tensorboard package: pip install 'archcompiler[tensorboard]'"
        )
    options = TrainOptions(
        epochs=epochs, batch_size=batch_size, optimizer=optimizer, lr=lr, augment=augment,
        preprocess=preprocess, seed=seed, strategy=strategy, mixed_precision=mixed_precision,
        tensorboard=tensorboard, cache=not no_cache, cache_features=cache_features,
        weights=weights, verbose=2 if quiet else "auto",
    )  # fmt: skip
    run = prepare(
        spec, _parse_sets(sets), data, val_dir, val_split, run_dir, resume=resume, force=force,
        options=options, limits=_limits(max_params, max_nodes), command=_command_line(),
    )  # fmt: skip
    c = run.classifier
    click.echo(
        f"{'Resuming' if run.resume else 'Training'} {run.graph.name} "
        f"({run.graph.total_params:,} params, {run.graph.trainable_params:,} trainable) "
        f"in {run.run_dir}: {c.loss}{' from logits' if c.from_logits else ''} on "
        f"'{c.output}' ({c.units} {c.activation} unit{'s' if c.units > 1 else ''})."
    )
    from .train import rundir
    from .train.fit import train as fit

    try:
        _echo_report(fit(run, options))
    except BaseException:
        if not run.resume and not run.history:  # failed before an epoch: leave nothing behind
            rundir.discard(run.run_dir)
        raise


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option(
    "--data", required=True, type=click.Path(readable=False), help="Image folder: DIR/<class>/…"
)
@click.option("--batch-size", type=click.IntRange(1, 65_536), default=32, show_default=True)
@click.option(
    "--confusion",
    type=click.Path(dir_okay=False),
    default=None,
    help="Confusion-matrix PNG [default: confusion.png beside MODEL].",
)
@_reads_a_trained_model
@_reports_errors
def evaluate(model: str, data: str, batch_size: int, preprocess: str | None,
             confusion: str | None, fmt: str) -> None:  # fmt: skip
    """Accuracy, loss, per-class precision/recall and a confusion matrix of MODEL on DATA."""
    from .train.evaluate import evaluate as run_evaluation
    from .train.plots import write_confusion
    from .train.report import render_evaluation

    report = run_evaluation(model, data, batch_size, preprocess)
    confusion = confusion or os.path.join(os.path.dirname(os.path.abspath(model)), "confusion.png")
    write_confusion(report["confusion_matrix"], report["class_names"], confusion,
                    f"{os.path.basename(model)} on {data}")  # fmt: skip
    report["confusion_png"] = confusion
    if report["skipped_images"]:
        click.echo(f"warning: skipped {report['skipped_images']:,} image(s) that could not be "
                   "decoded", err=True)  # fmt: skip
    click.echo(json.dumps(report, indent=1) if fmt == "json" else render_evaluation(report))


@main.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("images", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--top",
    type=click.IntRange(1),
    default=3,
    show_default=True,
    help="Show the K most probable classes.",
)
@_reads_a_trained_model
@_reports_errors
def predict(model: str, images: tuple[str, ...], top: int, preprocess: str | None,
            fmt: str) -> None:  # fmt: skip
    """The most probable classes of each IMAGE under MODEL."""
    from .train.evaluate import predict as run_prediction

    results = run_prediction(model, list(images), top, preprocess)
    if fmt == "json":
        click.echo(json.dumps(results, indent=1))
        return
    for r in results:
        best = "  ".join(f"{t['class']} {t['probability']:.3f}" for t in r["top"])
        click.echo(f"{r['image']}: {best}")


@main.command()
@_output("Write the schema to FILE (atomically) instead of printing it.")
@_reports_errors
def schema(output: str | None) -> None:
    """Print the JSON Schema of the spec language (for editors: yaml-language-server)."""
    from .schema import schema_text

    text = schema_text()
    if output is None:
        click.echo(text, nl=False)
        return
    _write_file(output, text)
    click.echo(f"Wrote {output}")


def _write_file(path: str, text: str) -> None:
    """All or nothing; a failure of the file system is the user's to fix, so exit 1."""
    from .atomic import write_atomically
    from .errors import Location

    try:
        write_atomically(path, text)
    except OSError as e:
        raise SpecError.at(Location(path), f"cannot write this file: {e.strerror or e}") from None


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


@main.command()
@click.option("--write", "write_dir", type=click.Path(file_okay=False), default=None,
              help="Write ops.md, blocks.md and zoo.md into DIR.")  # fmt: skip
@click.option("--check", "check_dir", type=click.Path(file_okay=False), default=None,
              help="Exit 1 if the docs in DIR are stale.")  # fmt: skip
@_reports_errors
def docs(write_dir: str | None, check_dir: str | None) -> None:
    """Generate the reference docs (ops, blocks, zoo) from the models: `--write docs`."""
    from pathlib import Path

    from .reference import generated_docs, stale_docs

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
        _write_file(target, text)
        click.echo(f"wrote {target}")


if __name__ == "__main__":  # pragma: no cover
    main()
