"""Everything `archc train` checks before TensorFlow is imported: the data folder, the spec
with `classes` set from it, the head's loss, the options, and the run directory.

A mistake in any of these fails in well under a second, located, with nothing written; the run
directory is created only once all of them pass.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from ..compiler import Limits, compile_file
from ..errors import Location, SpecError
from ..graph import Graph
from ..model_files import check_weights_file
from . import memory, rundir
from .data import COLOR_MODES, DataPlan, check_same_classes, plan_data
from .head import Classifier
from .options import Run, TrainOptions

IMAGENET_MODES = ("caffe", "tf", "torch")


def compile_for_data(
    spec: str, sets: dict[str, str], class_names: tuple[str, ...], data_path: str, limits: Limits
) -> tuple[Graph, Classifier]:
    """Compile the spec so that its output fits the data's classes: `classes` is set from the
    folders when the spec has that param and --set does not give it."""
    graph = compile_file(spec, sets, limits=limits)
    classifier = Classifier.of_graph(graph)
    n = len(class_names)
    if classifier.classes != n and "classes" in graph.params and "classes" not in sets:
        graph = compile_file(spec, {**sets, "classes": str(n)}, limits=limits)
        classifier = Classifier.of_graph(graph)
    classifier.check_classes(class_names, Location(data_path))
    return graph, classifier


def head_boundary(graph: Graph) -> str:
    """The one backbone node the head reads, for --cache-features; the backbone must be frozen
    (otherwise caching its output would train something else than the spec says)."""
    unfrozen = [n for n in graph if n.section == "backbone" and n.trainable and n.weights]
    if unfrozen:
        node = unfrozen[0]
        raise SpecError.at(
            node.source or Location(graph.name),
            f"--cache-features needs a frozen backbone, but '{node.name}' is trainable "
            f"({len(unfrozen)} backbone layers are)", "add `freeze: backbone` to the spec",
        )  # fmt: skip
    head = [n for n in graph if n.section == "head"]
    names = {n.name for n in head}
    reads = sorted({i for n in head for i in n.inputs if i not in names})
    if len(reads) != 1:
        where = head[0].source if head else None
        raise SpecError.at(
            where or Location(graph.name),
            "--cache-features needs a head that reads one backbone tensor; "
            + (f"this one reads {', '.join(reads)}" if reads else "this spec has no head"),
        )  # fmt: skip
    return reads[0]


def check_options(graph: Graph, o: TrainOptions, spec: str) -> None:
    channels = graph.nodes[graph.inputs[0]].shape[-1]
    where = graph.nodes[graph.inputs[0]].source or Location(spec)
    if len(graph.nodes[graph.inputs[0]].shape) != 3 or channels not in COLOR_MODES:
        raise SpecError.at(
            where, f"the input is {list(graph.nodes[graph.inputs[0]].shape)}; image folders "
            "give height × width × 1 (grayscale), 3 (RGB) or 4 (RGBA)",
        )  # fmt: skip
    if o.preprocess in IMAGENET_MODES and channels != 3:
        raise SpecError.at(
            where, f"--preprocess {o.preprocess} is ImageNet's RGB preprocessing; this input "
            f"has {channels} channel(s)",
        )  # fmt: skip
    if o.weights is not None:
        check_weights_file(o.weights)
    if o.cache_dir is not None:
        check_cache_dir(o.cache_dir)


def check_cache_dir(path: str) -> None:
    """--cache-dir is a folder, or can be made one, that this user can write in."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise SpecError.at(Location(path), "--cache-dir: this is a file, not a folder")
    existing = os.path.abspath(path)
    while not os.path.isdir(existing):
        existing = os.path.dirname(existing)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SpecError.at(Location(path), f"--cache-dir: cannot write in {existing}")


def prepare(
    spec: str,
    sets: dict[str, str],
    data: str,
    val: str | None,
    val_split: float | None,
    run_dir: str | None,
    *,
    resume: str | None,
    force: bool,
    options: TrainOptions,
    limits: Limits,
    command: list[str],
    writes: bool = True,
) -> Run:
    """Check everything, then create (or reopen) the run directory; returns the Run. A
    multi-worker run's other workers (`writes` False) neither create nor write it."""
    plan = plan_data(data, val, val_split)
    graph, classifier = compile_for_data(spec, sets, plan.class_names, plan.train.path, limits)
    check_options(graph, options, spec)
    boundary = head_boundary(graph) if options.cache_features else None
    if options.max_memory != 0:
        images = plan.train.images + (plan.val.images if plan.val else 0)
        needs = memory.training_needs(graph, options.batch_size, options.optimizer, images,
                                      options.cache and options.cache_dir is None,
                                      boundary)  # fmt: skip
        where = graph.nodes[graph.inputs[0]].source or Location(spec)
        memory.check_fits(needs, options.max_memory, where, options.batch_size)
    digest = rundir.spec_hash(graph.files)
    if resume is not None:
        run_dir = resume
        record, history = rundir.load_resume(resume, digest)
        _check_same_run(record, sets, plan, resume)
        record.setdefault("resumed", []).append(
            {"command": command, "at": _now(), "from_epoch": len(history)}
        )
        record["training"].update(_training_record(options))
    else:
        run_dir = run_dir or rundir.default_run_dir(graph.name)
        if writes:
            rundir.prepare_new(run_dir, force)
        history = []
        record = _record(spec, sets, graph, classifier, plan, options, digest)
        record["command"] = command
    record.setdefault("result", {})
    if writes:
        try:
            rundir.write_json(os.path.join(run_dir, rundir.RUN), record)
        except BaseException:  # e.g. a full disk: a new run leaves no empty directory behind
            if resume is None:
                rundir.discard(run_dir)
            raise
    return Run(
        graph, classifier, boundary, plan.train.path, plan.val.path if plan.val else None,
        plan.val_split, plan.class_names, run_dir, record, history, resume is not None,
    )  # fmt: skip


def _check_same_run(record: dict[str, Any], sets: dict[str, str], plan: DataPlan,
                    run_dir: str) -> None:  # fmt: skip
    """A resumed run continues the same model on the same classes."""
    before = record.get("spec", {}).get("set", {})
    if sets != before:
        shown = " ".join(f"--set {k}={v}" for k, v in before.items()) or "no --set"
        raise SpecError.at(
            Location(run_dir), "cannot resume with other --set values than the run began with",
            f"the run began with {shown}",
        )  # fmt: skip
    classes = record.get("data", {}).get("class_names")
    if classes is not None and tuple(classes) != plan.class_names:
        check_same_classes(plan.train, tuple(classes), f"the run in {run_dir}")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _training_record(o: TrainOptions) -> dict[str, Any]:
    return {
        "epochs": o.epochs, "batch_size": o.batch_size, "optimizer": o.optimizer,
        "learning_rate": o.learning_rate, "augment": o.augment,
        "seed": o.seed, "strategy": o.strategy, "mixed_precision": o.mixed_precision,
        "jit": o.jit, "cache_features": o.cache_features, "cache_dir": o.cache_dir,
        "weights": o.weights,
        "early_stopping": o.early_stopping, "lr_schedule": o.lr_schedule,
    }  # fmt: skip


def _record(spec: str, sets: dict[str, str], graph: Graph, c: Classifier, plan: DataPlan,
            o: TrainOptions, digest: str) -> dict[str, Any]:  # fmt: skip
    """run.json as the run starts; fit fills in data counts, devices and the result."""
    shape = graph.nodes[graph.inputs[0]].shape
    return {
        "started": _now(),
        "spec": {
            "path": spec, "files": graph.files, "sha256": digest, "name": graph.name,
            "set": sets, "params": graph.params,
        },
        "model": {
            "total_params": graph.total_params, "trainable_params": graph.trainable_params,
            "non_trainable_params": graph.non_trainable_params, "macs": graph.macs,
            "output": c.output, "activation": c.activation, "units": c.units, "loss": c.loss,
        },
        "data": {
            "train": plan.train.path, "val": plan.val.path if plan.val else None,
            "val_split": plan.val_split, "class_names": list(plan.class_names),
            "image_size": list(shape[:2]), "channels": shape[2], "preprocess": o.preprocess,
        },
        "training": _training_record(o),
        "versions": rundir.versions(),
    }  # fmt: skip
