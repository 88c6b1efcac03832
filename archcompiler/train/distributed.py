"""`archc train --strategy multi-worker`: training on several machines with
tf.distribute.MultiWorkerMirroredStrategy, on a training loop of our own.

Keras 3's `Model.fit` fails under this strategy (`ValueError: Attempt to convert a value
(PerReplica:…)`, keras-team/keras#20585; a test tells when a Keras release fixes it). What
works is the loop tf.distribute documents: the model and its optimizer made in
`strategy.scope()`, a step under `strategy.run` scaled by `tf.nn.compute_average_loss`, the
sums reduced across workers. The rest is what `fit` does for one machine, kept the same: the
schedules and early stopping are the same Keras callbacks, called at the same moments; the
chief's RunRecorder writes history, curves, last.keras (the checkpoint a restarted job resumes
from) and model.keras; the other workers write nothing in the run directory.

Every worker reads only its shard of the files (pipeline.Shard). Training batches repeat, so
every worker takes the same number of steps — a collective waits for all of them. Validation
pads the shorter shards with weight-0 batches for the same reason, so its figures are exact.
BatchNormalization's moving statistics are each worker's own during an epoch (as with one
machine per replica); they are averaged across workers before each epoch is recorded, so the
chief saves the same weights every worker holds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import keras
import tensorflow as tf

from ..errors import Location, SpecError
from . import pipeline
from .cluster import resolve
from .fit import data_lines, epoch_callbacks, final_lines, nothing_to_do, read_data
from .fit import model_for_training as build_model
from .head import Classifier
from .options import Run, TrainOptions

# what a collective raises when a peer is gone (TF's health check aborts the collectives)
LOST_PEER = (
    tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.CancelledError,
    tf.errors.AbortedError, tf.errors.InternalError,
)  # fmt: skip


def train_multi_worker(run: Run, o: TrainOptions) -> Iterator[str]:
    """Train on the cluster TF_CONFIG describes; yields report lines (on every worker)."""
    reason = nothing_to_do(run, o)
    if reason is not None:
        yield reason
        return
    cluster = resolve(None, None)  # TF_CONFIG (the CLI writes it from --workers/--task)
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    replicas = strategy.num_replicas_in_sync
    local = max(1, replicas // cluster.workers)
    if o.batch_size % replicas:
        raise SpecError.at(
            Location("--batch-size"), f"{o.batch_size} does not divide among {replicas} "
            f"replicas ({cluster.workers} workers × {local})", f"use a multiple of {replicas}",
        )  # fmt: skip
    per_replica = o.batch_size // replicas
    devices = list(strategy.extended.worker_devices)
    if o.jit and any("CPU" in d.upper() for d in devices):
        raise SpecError.at(
            Location("--jit"), "XLA cannot compile the cluster's collectives on CPU devices "
            "(TensorFlow's b/194942685)", "drop --jit for CPU workers",
        )  # fmt: skip
    run.record["training"].update(devices=devices, cluster=cluster.describe())
    yield f"Strategy: MultiWorkerMirroredStrategy, {cluster.describe()}, {replicas} replica(s)."
    keras.utils.set_random_seed(o.seed)
    combine = _summing(strategy, local)
    shard = pipeline.Shard(cluster.rank, cluster.workers)
    train_images, val_images = read_data(run, o, shard=shard, combine=combine)
    yield from data_lines(train_images, val_images, run)

    with strategy.scope():
        model = build_model(run, o)
        if not model.optimizer.built:  # its variables made here, not inside a replica's step
            model.optimizer.build(model.trainable_variables)
    augment = pipeline.augmenter(o.seed) if o.augment else None
    seed = o.seed + cluster.rank  # each worker shuffles its own shard its own way
    train = pipeline.batches(train_images, per_replica, o.preprocess, shuffle_seed=seed,
                             augment=augment, repeat=True)  # fmt: skip
    train_ds = strategy.distribute_datasets_from_function(lambda ctx: train)
    steps = max(1, math.ceil(train_images.count_all / o.batch_size))
    val_steps = 0
    if val_images is not None:
        # files in the largest shard (they differ by at most one)
        shard_paths = math.ceil(combine([len(val_images.paths)])[0] / cluster.workers)
        val_steps = max(1, math.ceil(shard_paths / (per_replica * local)))
        val = _padded(val_images, per_replica, o.preprocess, val_steps * local)
        val_ds = strategy.distribute_datasets_from_function(lambda ctx: val)
    train_step, eval_step, average = _steps(strategy, model, run.classifier, o)
    callbacks = keras.callbacks.CallbackList(
        epoch_callbacks(run, o, model, train_images.count_all, writes=cluster.is_chief),
        model=model,
    )  # fmt: skip
    callbacks.on_train_begin()
    iterator = iter(train_ds)
    for epoch in range(len(run.history), o.epochs):
        started = time.perf_counter()
        callbacks.on_epoch_begin(epoch)
        try:
            totals = _run_steps(train_step, iterator, steps)
            logs = {"loss": totals[0] / totals[2], "accuracy": totals[1] / totals[2]}
            if val_images is not None:
                v = _run_steps(eval_step, iter(val_ds), val_steps)
                logs.update(val_loss=v[0] / max(v[2], 1.0), val_accuracy=v[1] / max(v[2], 1.0))
            average()
        except LOST_PEER as e:
            raise _lost(run, epoch, e, cluster.is_chief) from None
        callbacks.on_epoch_end(epoch, logs)
        shown = " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())
        yield f"Epoch {epoch + 1}/{o.epochs} - {time.perf_counter() - started:.1f}s - {shown}"
        if model.stop_training:
            break
    callbacks.on_train_end()
    if cluster.is_chief:
        yield from final_lines(run, o)
    else:
        yield f"Done: epoch {epoch + 1} of {o.epochs}; the chief writes {run.run_dir}."


def _run_steps(step: Callable[[Any], Any], iterator: Any, steps: int) -> list[float]:
    """The sums (loss, correct, images) of `steps` steps."""
    totals = [0.0, 0.0, 0.0]
    for _ in range(steps):
        totals = [a + float(b) for a, b in zip(totals, step(iterator).numpy(), strict=True)]
    return totals


def _summing(strategy: tf.distribute.Strategy, local: int) -> Callable[[list[int]], list[int]]:
    """Sums a vector of counts over the workers (each worker's first replica gives its own)."""

    def combine(values: list[int]) -> list[int]:
        mine = tf.constant(values, tf.int64)
        none = tf.zeros_like(mine)

        def value(ctx: tf.distribute.experimental.ValueContext) -> tf.Tensor:
            return mine if ctx.replica_id_in_sync_group % local == 0 else none

        per_replica = strategy.experimental_distribute_values_from_function(value)
        total = strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)
        return [int(v) for v in total.numpy()]

    return combine


def _padded(decoded: pipeline.Decoded, batch: int, preprocess: str, batches: int
            ) -> tf.data.Dataset:  # fmt: skip
    """The shard's validation batches, weight 1 per image, then weight-0 batches of zeros up
    to `batches` in all: every worker runs the same number of steps, the sums stay exact."""
    real = pipeline.batches(decoded, batch, preprocess)
    real = real.map(lambda x, y: (x, y, tf.ones(tf.shape(x)[:1])))
    x_spec, y_spec = real.element_spec[0], real.element_spec[1]
    zeros = (
        tf.zeros([batch, *x_spec.shape[1:]], x_spec.dtype),
        tf.zeros([batch, *y_spec.shape[1:]], y_spec.dtype),
        tf.zeros([batch]),
    )
    return real.concatenate(tf.data.Dataset.from_tensors(zeros).repeat()).take(batches)


def _steps(
    strategy: tf.distribute.Strategy, model: keras.Model, c: Classifier, o: TrainOptions
) -> tuple[Callable[[Any], Any], Callable[[Any], Any], Callable[[], None]]:
    """The distributed training step, evaluation step and moving-statistics average; the
    steps return the sums (loss, correct, images) over every replica of the cluster."""
    per_example = _per_example_loss(c)
    correct = _correct(c)
    optimizer = model.optimizer

    def train_one(x: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            out = tf.cast(model(x, training=True), tf.float32)
            losses = per_example(y, out)
            loss = tf.nn.compute_average_loss(losses, global_batch_size=o.batch_size)
            if model.losses:  # regularizers, scaled as compute_average_loss scales the rest
                loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
            scaled = optimizer.scale_loss(loss)  # mixed precision's loss scale, else itself
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        count = tf.cast(tf.size(losses), tf.float32)
        return tf.stack([tf.reduce_sum(losses), tf.reduce_sum(correct(y, out)), count])

    def eval_one(x: Any, y: Any, w: Any) -> Any:
        out = tf.cast(model(x, training=False), tf.float32)
        return tf.stack([tf.reduce_sum(per_example(y, out) * w),
                         tf.reduce_sum(correct(y, out) * w), tf.reduce_sum(w)])  # fmt: skip

    if o.jit:  # XLA for the replica's step, as Keras's own trainer compiles it
        train_one = tf.function(train_one, jit_compile=True)

    @tf.function
    def train_step(iterator: Any) -> Any:
        totals = strategy.run(train_one, args=next(iterator))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, totals, axis=None)

    @tf.function
    def eval_step(iterator: Any) -> Any:
        totals = strategy.run(eval_one, args=next(iterator))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, totals, axis=None)

    moving = [v for v in model.non_trainable_variables if v.dtype in ("float16", "float32")]

    @tf.function
    def average() -> None:
        def mean_of_workers() -> None:
            ctx = tf.distribute.get_replica_context()
            for v in moving:
                v.assign(ctx.all_reduce(tf.distribute.ReduceOp.MEAN, tf.identity(v.value)))

        strategy.run(mean_of_workers)

    return train_step, eval_step, (average if moving else lambda: None)


def _per_example_loss(c: Classifier) -> keras.losses.Loss:
    if c.binary:
        return keras.losses.BinaryCrossentropy(from_logits=c.from_logits, reduction=None)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=c.from_logits, reduction=None)


def _correct(c: Classifier) -> Callable[[Any, Any], Any]:
    """1.0 per image classified right, as Keras's accuracy metrics count it."""
    if c.binary:
        threshold = 0.0 if c.from_logits else 0.5

        def binary(y: Any, out: Any) -> Any:
            guess = tf.cast(out > threshold, tf.float32)
            return tf.reshape(tf.cast(tf.equal(guess, tf.cast(y, tf.float32)), tf.float32), [-1])

        return binary

    def sparse(y: Any, out: Any) -> Any:
        guess = tf.argmax(out, axis=-1, output_type=tf.int32)
        return tf.cast(tf.equal(guess, tf.reshape(tf.cast(y, tf.int32), [-1])), tf.float32)

    return sparse


_CAUSES = ("abort", "unavailable", "connect", "peer", "timed out", "deadline", "socket")


def _lost(run: Run, epoch: int, e: tf.errors.OpError, chief: bool) -> SpecError:
    lines = [line.strip() for line in (e.message or str(e)).splitlines() if line.strip()]
    # TF's message starts with "Graph execution error:" and the node; the cause is further on
    telling = [line for line in lines if any(w in line.lower() for w in _CAUSES)]
    first = (telling or lines or [type(e).__name__])[0][:300]
    done = len(run.history)
    if not chief:  # the chief knows what it saved
        note = f"restart every worker, with --resume {run.run_dir} if the chief saved an epoch"
    elif done:
        where = run.run_dir
        note = f"epoch {done} is saved in {where}; restart every worker with --resume {where}"
    else:
        note = "no epoch was saved yet; start the job again"
    return SpecError.at(
        Location(run.run_dir), f"the cluster lost a worker during epoch {epoch + 1}: {first}", note
    )
