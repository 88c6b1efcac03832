"""`archc train`'s engine: the compiled model, keras `fit`, and a run directory kept current.

Everything here is Keras's own machinery — `fit`, its progress bars, `tf.distribute` for
several GPUs, mixed precision — driven from the spec; our part is choosing the loss from the
head, the best-checkpoint and run-directory bookkeeping, and the feature-extraction path.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from .. import provenance
from ..atomic import interrupts_handled_by
from ..backends import build_checked
from ..backends import keras as backend
from ..backends.frameworks import running_framework
from ..build import load_weights_file, save_atomically
from . import pipeline, rundir
from .data import SHUFFLE_BUFFER
from .head import Classifier
from .options import Run, TrainOptions
from .plots import write_curves
from .schedules import EarlyStopping, Plateau, epoch_schedule, patience_used

OPTIMIZERS = {  # name → (Keras class, extra arguments); learning rates in options.py
    "adam": (keras.optimizers.Adam, {}),
    "sgd": (keras.optimizers.SGD, {"momentum": 0.9}),
    "rmsprop": (keras.optimizers.RMSprop, {}),
}


def _strategy(name: str) -> tuple[tf.distribute.Strategy, list[str]]:
    """The tf.distribute strategy and the devices it trains on."""
    if name == "mirrored":
        strategy = tf.distribute.MirroredStrategy()  # every visible GPU (or the CPU when none)
        return strategy, list(strategy.extended.worker_devices)
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    return tf.distribute.get_strategy(), gpus[:1] or ["CPU"]


def _loss_and_metric(c: Classifier) -> tuple[keras.losses.Loss, keras.metrics.Metric]:
    if c.binary:
        threshold = 0.0 if c.from_logits else 0.5
        return (
            keras.losses.BinaryCrossentropy(from_logits=c.from_logits),
            keras.metrics.BinaryAccuracy(name="accuracy", threshold=threshold),
        )
    return (
        keras.losses.SparseCategoricalCrossentropy(from_logits=c.from_logits),
        keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
    )


def _optimizer(o: TrainOptions) -> keras.optimizers.Optimizer:
    cls, extra = OPTIMIZERS[o.optimizer]
    return cls(learning_rate=o.learning_rate, **extra)


class RunRecorder(keras.callbacks.Callback):
    """After every epoch: history.json, curves.png, last.keras, and model.keras when the
    monitored accuracy improved — each written all-or-nothing, and all of them before a Ctrl-C
    that came meanwhile is acted on, so the files always describe the same epoch."""

    def __init__(self, run: Run, full_model: keras.Model, monitor: str, images: int,
                 early: EarlyStopping | None = None,
                 plateau: Plateau | None = None) -> None:  # fmt: skip
        super().__init__()
        self.run, self.full_model, self.monitor, self.images = run, full_model, monitor, images
        self.early, self.plateau = early, plateau
        # taken once: the spec files as compiled (a resume checks they are unchanged)
        self.provenance = provenance.record(run.graph, running_framework(), saved_by="archc train")
        earlier = [h.get(monitor) for h in run.history if h.get(monitor) is not None]
        self.best = max(earlier, default=-1.0)
        self.started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        interrupts: list[int] = []
        with interrupts_handled_by(lambda signum, frame: interrupts.append(signum)):
            self._record(epoch, logs or {}, interrupts)
        if interrupts:
            raise KeyboardInterrupt

    def _save(self, name: str) -> None:
        target = os.path.join(self.run.run_dir, name)
        save_atomically(self.full_model, target, record=self.provenance)

    def _record(self, epoch: int, logs: dict[str, Any], interrupts: list[int]) -> None:
        seconds = time.perf_counter() - self.started
        entry = {"epoch": epoch + 1, **{k: float(v) for k, v in logs.items()}}
        if "learning_rate" not in entry:  # the schedules log it; a constant rate is logged here
            rate = keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
            entry["learning_rate"] = float(rate)
        entry["seconds"] = round(seconds, 3)
        entry["images_per_second"] = round(self.images / seconds, 1) if seconds else None
        self.run.history.append(entry)
        d = self.run.run_dir
        _to_the_end(lambda: self._save(rundir.LAST), interrupts)
        score = entry.get(self.monitor, -1.0)
        result = self.run.record["result"]
        if score > self.best:
            self.best = score
            _to_the_end(lambda: self._save(rundir.MODEL), interrupts)
            result = self.run.record["result"] = {
                "best_epoch": epoch + 1, f"best_{self.monitor}": score,
                "metrics": {k: v for k, v in entry.items() if k != "epoch"},
            }  # fmt: skip
        result["epochs_done"] = epoch + 1
        if self.early is not None:  # it ran first, so it has decided whether this is the last
            result["stopped_early"] = bool(self.model.stop_training)
            result["stopped_at_epoch"] = epoch + 1 if self.model.stop_training else None
        else:  # resumed without --early-stopping: an earlier stop no longer describes the run
            result.pop("stopped_early", None)
            result.pop("stopped_at_epoch", None)
        if self.plateau is not None:
            result["plateau"] = self.plateau.state()
        rundir.write_json(os.path.join(d, rundir.HISTORY), self.run.history)
        rundir.write_json(os.path.join(d, rundir.RUN), self.run.record)
        _to_the_end(lambda: write_curves(self.run.history, os.path.join(d, rundir.CURVES),
                                         self.run.graph.name, result.get("best_epoch")),
                    interrupts)  # fmt: skip


def _to_the_end(step: Callable[[], None], interrupts: list[int]) -> None:
    """Run `step` again when a Ctrl-C stopped it (a save answers one itself, by unwinding), so
    that the epoch's files are all written before the interrupt is acted on."""
    while True:
        try:
            step()
            return
        except KeyboardInterrupt:
            interrupts.append(signal.SIGINT)


def monitored(run: Run) -> str:
    """The accuracy that picks the best epoch: validation's when there is a validation set."""
    return "val_accuracy" if run.val_dir is not None or run.val_split > 0 else "accuracy"


def nothing_to_do(run: Run, o: TrainOptions) -> str | None:
    """Why a (resumed) run has no epoch left to train, or None."""
    done, monitor = len(run.history), monitored(run)
    if done >= o.epochs:
        return f"Nothing to do: {done} epoch(s) already trained (ask for more with --epochs)."
    if o.early_stopping and done and patience_used(run.history, monitor)[1] >= o.early_stopping:
        return (
            f"Nothing to do: no {monitor} improvement in the last {o.early_stopping} epoch(s) "
            f"(train on with a larger --early-stopping, or without it)."
        )
    return None


def epoch_callbacks(
    run: Run, o: TrainOptions, model: keras.Model, images: int, writes: bool = True
) -> list[keras.callbacks.Callback]:
    """The schedules and early stopping, then the recorder (it writes what they decided) —
    the recorder and TensorBoard only where this process `writes` the run directory."""
    monitor = monitored(run)
    callbacks: list[keras.callbacks.Callback] = []
    plateau = early = None
    if o.lr_schedule == "plateau":
        callbacks.append(plateau := Plateau(monitor, run.record["result"].get("plateau")))
    elif o.lr_schedule is not None:
        callbacks.append(epoch_schedule(o.lr_schedule, o.learning_rate, o.epochs))
    if o.early_stopping:
        callbacks.append(early := EarlyStopping(monitor, o.early_stopping, run.history))
    if writes:
        callbacks.append(RunRecorder(run, model, monitor, images, early, plateau))
    if writes and o.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(run.run_dir, rundir.LOGS)))
    return callbacks


def train(run: Run, o: TrainOptions) -> Iterator[str]:
    """Train and keep `run.run_dir` current; yields report lines. (--strategy multi-worker
    trains in distributed.py: Keras's `fit` fails there.)"""
    reason = nothing_to_do(run, o)
    if reason is not None:
        yield reason
        return
    if o.strategy == "multi-worker":
        raise ValueError("multi-worker training is distributed.train_multi_worker's")
    done = len(run.history)
    keras.utils.set_random_seed(o.seed)
    g, c = run.graph, run.classifier
    train_images, val_images = read_data(run, o)
    yield from data_lines(train_images, val_images, run)

    strategy, devices = _strategy(o.strategy)
    run.record["training"]["devices"] = devices
    with strategy.scope():
        model = model_for_training(run, o)
        if o.cache_features:
            backbone, fitted = backend.split_at(model, g, run.head_boundary or "")
            metric = _loss_and_metric(c)[1]
            fitted.compile(optimizer=model.optimizer, loss=model.loss, metrics=[metric],
                           jit_compile=_jit(o))  # fmt: skip
        else:
            fitted = model
    run.record["training"]["jit"] = bool(fitted.jit_compile)  # "auto" resolved
    if o.strategy == "mirrored":
        yield f"Strategy: MirroredStrategy over {len(devices)} device(s): {', '.join(devices)}."

    augment = pipeline.augmenter(o.seed) if o.augment else None
    if o.cache_features:
        yield (
            f"Extracting features: {train_images.count + (val_images.count if val_images else 0):,}"
            f" images through the frozen backbone, once (up to '{run.head_boundary}')."
        )
        train_ds = _features(backbone, train_images, o, shuffle=True)
        val_ds = _features(backbone, val_images, o, shuffle=False) if val_images else None
    else:
        train_ds = pipeline.batches(
            train_images, o.batch_size, o.preprocess, shuffle_seed=o.seed, augment=augment
        )
        val_ds = pipeline.batches(val_images, o.batch_size, o.preprocess) if val_images else None

    if o.strategy == "mirrored":  # one machine: every replica reads the same pipeline
        train_ds, val_ds = _unsharded(train_ds), _unsharded(val_ds)
    callbacks = epoch_callbacks(run, o, model, train_images.count)
    fitted.fit(
        train_ds, validation_data=val_ds, epochs=o.epochs, initial_epoch=done,
        callbacks=callbacks, verbose=o.verbose, shuffle=False,  # the pipeline shuffles
    )  # fmt: skip
    yield from final_lines(run, o)


def final_lines(run: Run, o: TrainOptions) -> Iterator[str]:
    """The report's last lines: an early stop, and the best epoch."""
    result, monitor = run.record["result"], monitored(run)
    if result.get("stopped_early"):
        yield (
            f"Stopped early after epoch {result['stopped_at_epoch']} of {o.epochs}: no "
            f"{monitor} improvement in {o.early_stopping} epoch(s)."
        )
    yield (
        f"Best epoch {result.get('best_epoch')} of {len(run.history)}: {monitor} "
        f"{result.get('best_' + monitor, 0):.4f}, in {os.path.join(run.run_dir, rundir.MODEL)}."
    )


def model_for_training(run: Run, o: TrainOptions) -> keras.Model:
    """The compiled model: a fresh build from the spec (with --weights), or last.keras."""
    if run.resume:
        model = keras.saving.load_model(os.path.join(run.run_dir, rundir.LAST))
        # the compile config saved holds the first run's choice; this run's flag decides, and
        # without one Keras's "auto" rule: XLA where there is a GPU
        auto = bool(tf.config.list_logical_devices("GPU"))
        model.jit_compile = auto if o.jit is None else o.jit
        return model
    policy = "mixed_float16" if o.mixed_precision else None
    model = build_checked(run.graph, backend, dtype_policy=policy)
    if o.weights:
        load_weights_file(backend, model, o.weights)
    loss, metric = _loss_and_metric(run.classifier)
    model.compile(optimizer=_optimizer(o), loss=loss, metrics=[metric], jit_compile=_jit(o))
    return model


def _jit(o: TrainOptions) -> bool | str:
    return "auto" if o.jit is None else o.jit


def _unsharded(ds: tf.data.Dataset | None) -> tf.data.Dataset | None:
    if ds is None:
        return None
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return ds.with_options(options)


def _features(
    backbone: keras.Model, images: pipeline.Decoded, o: TrainOptions, shuffle: bool
) -> tf.data.Dataset:
    """Run the frozen backbone over every image once; the head trains on what comes out."""
    ordered = pipeline.batches(images, o.batch_size, o.preprocess)
    feats, labels = [], []
    for x, y in ordered:
        feats.append(backbone(x, training=False).numpy())
        labels.append(y.numpy())
    ds = tf.data.Dataset.from_tensor_slices((np.concatenate(feats), np.concatenate(labels)))
    if shuffle:
        ds = ds.shuffle(min(images.count, SHUFFLE_BUFFER), seed=o.seed)
    return ds.batch(o.batch_size).prefetch(tf.data.AUTOTUNE)


def read_data(
    run: Run, o: TrainOptions, **sharding: Any
) -> tuple[pipeline.Decoded, pipeline.Decoded | None]:
    """The run's training and validation images at the model's input size (`sharding`:
    read_folders' shard and combine, for a worker of a multi-worker run)."""
    shape = run.graph.nodes[run.graph.inputs[0]].shape
    return pipeline.read_folders(
        run.train_dir, run.val_dir, run.val_split, class_names=run.class_names,
        image_size=tuple(shape[:2]), channels=shape[2], label_mode=run.classifier.label_mode,
        seed=o.seed, cache=o.cache, cache_dir=o.cache_dir, **sharding,
    )  # fmt: skip


def data_lines(train: pipeline.Decoded, val: pipeline.Decoded | None, run: Run) -> Iterator[str]:
    """What was read (every worker's images together), recorded in run.json too."""
    run.record["data"].update(
        train_images=train.count_all, val_images=val.count_all if val else 0,
        skipped_images=train.skipped_all + (val.skipped_all if val else 0),
    )  # fmt: skip
    n = len(run.class_names)
    line = f"Data: {train.count_all:,} training images"
    if val is not None:
        line += f", {val.count_all:,} validation images"
    yield line + f", {n} classes ({', '.join(run.class_names[:8])}{'…' if n > 8 else ''})."
    skipped = run.record["data"]["skipped_images"]
    if skipped:  # the CLI prints lines starting with "warning:" on stderr
        yield f"warning: skipped {skipped:,} image(s) that could not be decoded"
