"""The training commands: train, evaluate, predict (TensorFlow is imported only once the data,
the head and the options have been checked)."""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from ..backends.frameworks import choose_framework, running_framework
from ..backends.quiet import import_keras
from ..errors import Location, SpecError
from ..limits import Limits
from ..model_files import check_image_files, check_model_file
from ..train.data import PREPROCESS, scan_folder

if TYPE_CHECKING:
    from ..train.options import TrainOptions
from .app import (
    echo_report,
    format_option,
    main,
    output_option,
    parse_sets,
    reports_errors,
    spec_options,
)


def _reads_a_trained_model(f: Callable[..., Any]) -> Callable[..., Any]:
    """--preprocess and --format, shared by evaluate and predict."""
    f = format_option("table", "json")(f)
    return click.option(
        "--preprocess", type=click.Choice(list(PREPROCESS)), default=None,
        help="Pixel preprocessing [default: the run's (run.json beside MODEL), else unit].",
    )(f)  # fmt: skip


def _size(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    from ..train.memory import parse_size

    try:
        return None if value is None else parse_size(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


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


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "--data",
    required=True,
    type=click.Path(readable=False),  # our scan says what is wrong with it, located
    help="Image folder: DIR/<class>/*.jpg|png…, or DIR/train + DIR/val (or test).",
)
@output_option("Run directory (default: runs/<spec name>-N).", type=click.Path(file_okay=False))
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
@spec_options
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
    "--early-stopping", metavar="N", type=click.IntRange(1), default=None,
    help="Stop when the monitored accuracy (validation, else training) has not improved "
    "in N epochs.",
)  # fmt: skip
@click.option(
    "--lr-schedule", type=click.Choice(["cosine", "step", "plateau"]), default=None,
    help="cosine: decay to 0 over --epochs; step: ÷10 at 1/2 and 3/4 of --epochs; plateau: "
    "÷10 after 2 epochs without improvement [default: a constant rate].",
)  # fmt: skip
@click.option(
    "--strategy",
    type=click.Choice(["default", "mirrored", "multi-worker"]),
    default="default",
    show_default=True,
    help="mirrored: tf.distribute.MirroredStrategy over this machine's GPUs; multi-worker: "
    "MultiWorkerMirroredStrategy over several machines, the cluster from TF_CONFIG or "
    "--workers/--task (docs/distributed.md).",
)
@click.option(
    "--workers", metavar="HOST:PORT,…", default=None,
    help="multi-worker: every worker's address, the same list on each (worker 0 is the chief; "
    "instead of TF_CONFIG).",
)  # fmt: skip
@click.option(
    "--task",
    metavar="N",
    type=click.IntRange(0),
    default=None,
    help="multi-worker: which of --workers this process is.",
)
@click.option(
    "--mixed-precision",
    is_flag=True,
    help="float16 compute with float32 weights and outputs (for GPUs).",
)
@click.option(
    "--jit/--no-jit", default=None,
    help="Compile the training step with XLA (Keras jit_compile) [default: Keras's choice: "
    "on with a GPU, off on a CPU].",
)  # fmt: skip
@click.option("--tensorboard", is_flag=True, help="Write TensorBoard logs to RUN_DIR/logs.")
@click.option("--no-cache", is_flag=True, help="Decode images every epoch instead of once.")
@click.option(
    "--cache-dir", metavar="DIR", type=click.Path(), default=None,  # checked in prepare.py
    help="Keep the decoded images in DIR (on disk, for data larger than memory, reused by later "
    "runs on the same files) instead of in memory.",
)  # fmt: skip
@click.option(
    "--max-memory", metavar="SIZE", default=None, callback=_size,
    help="Refuse a run whose estimated memory passes SIZE (8G, 512M; 0: no check) "
    "[default: the memory this machine has available].",
)  # fmt: skip
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=1337, show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="One line per epoch, no progress bars.")
@reports_errors
def train(spec: str, data: str, output: str | None, epochs: int, batch_size: int,
          lr: float | None, optimizer: str, val_split: float | None, val_dir: str | None,
          augment: bool, preprocess: str, sets: tuple[str, ...], limits: Limits,
          weights: str | None, cache_features: bool, resume: str | None,
          force: bool, early_stopping: int | None, lr_schedule: str | None, strategy: str,
          workers: str | None, task: int | None, mixed_precision: bool, jit: bool | None,
          tensorboard: bool,
          no_cache: bool, cache_dir: str | None, max_memory: int | None, seed: int,
          quiet: bool) -> None:  # fmt: skip
    """Train SPEC on an image folder; keep the best epoch in RUN_DIR/model.keras."""
    from ..train.options import TrainOptions
    from ..train.prepare import prepare

    if val_split is not None and val_dir is not None:
        raise click.UsageError("give --val-split or --val, not both")
    if no_cache and cache_dir is not None:
        raise click.UsageError("--no-cache decodes every epoch; --cache-dir keeps them: not both")
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
        jit=jit, tensorboard=tensorboard, cache=not no_cache, cache_dir=cache_dir,
        cache_features=cache_features,
        weights=weights, verbose=2 if quiet else "auto", max_memory=max_memory,
        early_stopping=early_stopping, lr_schedule=lr_schedule,
    )  # fmt: skip
    if strategy != "default":
        _tensorflow_for(strategy)
    command = _command_line()
    writes = True  # this process writes the run directory: all but a cluster's other workers
    if strategy == "multi-worker":
        writes = _join_cluster(options, workers, task, run_dir, resume)
    elif workers is not None or task is not None:
        raise click.UsageError("--workers and --task are for --strategy multi-worker")
    run = prepare(
        spec, parse_sets(sets), data, val_dir, val_split, run_dir, resume=resume, force=force,
        options=options, limits=limits, command=command, writes=writes,
    )  # fmt: skip
    c = run.classifier
    click.echo(
        f"{'Resuming' if run.resume else 'Training'} {run.graph.name} "
        f"({run.graph.total_params:,} params, {run.graph.trainable_params:,} trainable) "
        f"in {run.run_dir}: {c.loss}{' from logits' if c.from_logits else ''} on "
        f"'{c.output}' ({c.units} {c.activation} unit{'s' if c.units > 1 else ''})."
    )
    import_keras(tensorflow=True)  # quietly, before train/ imports it (backends/quiet.py)
    from ..train import rundir
    from ..train.engine import train as fit

    try:
        echo_report(fit(run, options))
    except BaseException as e:
        if writes and not run.resume and not run.history:  # failed before an epoch: leave
            # nothing behind
            rundir.discard(run.run_dir)
        if isinstance(e, KeyboardInterrupt):
            _interrupted(run.run_dir, len(run.history), epochs, command)
        raise


def _tensorflow_for(strategy: str) -> None:
    """`--strategy` is tf.distribute's: it distributes TensorFlow variables. Under JAX or
    PyTorch the model's variables are that framework's, and a strategy would claim devices it
    does not train on: refused before anything loads."""
    chosen = running_framework() or choose_framework(None)
    if chosen != "tensorflow":
        raise SpecError.at(
            Location("--strategy"),
            f"--strategy {strategy} distributes with TensorFlow's tf.distribute, but Keras runs "
            f"on {chosen} here (KERAS_BACKEND): train with KERAS_BACKEND=tensorflow, or on one "
            "device without --strategy",
        )


def _join_cluster(o: TrainOptions, workers: str | None, task: int | None, run_dir: str | None,
                  resume: str | None) -> bool:  # fmt: skip
    """Check a multi-worker run's options and set TF_CONFIG (before TensorFlow is imported);
    True on the chief, the one process that writes the run directory."""
    from ..train.cluster import TF_CONFIG, check_batch_size, resolve

    cluster = resolve(workers, task)
    check_batch_size(cluster, o.batch_size)
    if run_dir is None and resume is None:
        raise click.UsageError(
            "--strategy multi-worker needs -o RUN_DIR, the same folder on every worker "
            "(a shared file system: the chief writes it, the others read it on --resume)"
        )
    if o.cache_features or o.tensorboard:
        raise click.UsageError(
            "--strategy multi-worker does not take --cache-features or --tensorboard (yet)"
        )
    os.environ[TF_CONFIG] = cluster.tf_config()
    return cluster.is_chief


def _interrupted(run_dir: str, done: int, epochs: int, command: list[str]) -> None:
    """Ctrl-C: what is saved and the command that continues it; exit 130 (as the shell's)."""
    if not done:
        click.echo("interrupted before the first epoch ended: nothing was saved", err=True)
        sys.exit(130)
    click.echo(
        f"interrupted: epoch {done} of {epochs} is saved in {run_dir}; continue with: "
        f"{shlex.join(resume_command(command, run_dir))}",
        err=True,
    )
    sys.exit(130)


def resume_command(command: list[str], run_dir: str) -> list[str]:
    """`command` (an `archc train …` line) made to continue `run_dir`: without -o and --force,
    with --resume RUN_DIR."""
    words, i = [], 0
    while i < len(command):
        if command[i] in ("--output", "--resume"):
            i += 2
            continue
        if command[i] != "--force":
            words.append(command[i])
        i += 1
    return [*words, "--resume", run_dir]


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
    help="Confusion-matrix PNG [default: confusion-DATA.png beside MODEL, DATA the folder's "
    "name; the report goes to evaluation-DATA.json there].",
)
@_reads_a_trained_model
@reports_errors
def evaluate(model: str, data: str, batch_size: int, preprocess: str | None,
             confusion: str | None, fmt: str) -> None:  # fmt: skip
    """Accuracy, loss, per-class precision/recall and a confusion matrix of MODEL on DATA."""
    check_model_file(model)  # before TensorFlow's import
    scan_folder(data)  # likewise (evaluate scans it again: the walk is cached by then)
    import_keras(tensorflow=True)
    from ..train import rundir
    from ..train.evaluate import evaluate as run_evaluation
    from ..train.plots import write_confusion
    from ..train.report import render_evaluation

    report = run_evaluation(model, data, batch_size, preprocess)
    default_png, report_json = rundir.evaluation_files(model, data)
    confusion = confusion or default_png
    write_confusion(report["confusion_matrix"], report["class_names"], confusion,
                    f"{os.path.basename(model)} on {data}")  # fmt: skip
    report["confusion_png"] = confusion
    report["report_json"] = report_json
    rundir.write_json(report_json, report)
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
@reports_errors
def predict(model: str, images: tuple[str, ...], top: int, preprocess: str | None,
            fmt: str) -> None:  # fmt: skip
    """The most probable classes of each IMAGE under MODEL."""
    check_model_file(model)  # before TensorFlow's import
    check_image_files(list(images))
    import_keras(tensorflow=True)
    from ..train.evaluate import predict as run_prediction

    results = run_prediction(model, list(images), top, preprocess)
    if fmt == "json":
        click.echo(json.dumps(results, indent=1))
        return
    for r in results:
        best = "  ".join(f"{t['class']} {t['probability']:.3f}" for t in r["top"])
        click.echo(f"{r['image']}: {best}")
