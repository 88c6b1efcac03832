"""--lr-schedule and --early-stopping: Keras's own callbacks, made to continue on --resume.

With E = --epochs and lr = --lr, epoch e (1-based) trains at:

- cosine: keras.optimizers.schedules.CosineDecay(lr, decay_steps=E) at step e − 1, i.e.
  lr · ½(1 + cos(π(e − 1)/E)): from lr down toward 0, never 0 itself.
- step: lr, divided by 10 from epoch ⌈E/2⌉ + 1 and by 100 from epoch ⌈3E/4⌉ + 1 (the ResNet
  CIFAR schedule of He et al., 2016).
- plateau: keras.callbacks.ReduceLROnPlateau on the monitored metric: × 0.1 after
  PLATEAU_PATIENCE epochs without improvement.

Both epoch schedules are functions of the epoch, and fit's epochs count from the start of the
run, so a resumed run continues the curve at the epoch it reached; resumed with a new --epochs
total, the curve is the one over that total (from the epoch reached). ReduceLROnPlateau's
counters are kept in run.json (the reduced rate itself is in last.keras's optimizer) and
EarlyStopping's are recomputed from history.json, so neither starts over on --resume.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import keras

PLATEAU_FACTOR = 0.1  # Keras's default
PLATEAU_PATIENCE = 2  # epochs without improvement before the rate drops
STEP_FACTOR = 0.1
STEP_AT = (1 / 2, 3 / 4)  # fractions of --epochs after which the rate drops


def step_rate(lr: float, epoch: int, epochs: int) -> float:
    """The step schedule's rate for `epoch` (0-based) of `epochs`."""
    drops = sum(epoch >= math.ceil(epochs * f) for f in STEP_AT)
    return lr * STEP_FACTOR**drops


def epoch_schedule(name: str, lr: float, epochs: int) -> keras.callbacks.Callback:
    """The callback that sets the rate of every epoch (cosine, step)."""
    if name == "cosine":
        cosine = keras.optimizers.schedules.CosineDecay(lr, decay_steps=epochs)
        return keras.callbacks.LearningRateScheduler(lambda epoch, _: float(cosine(epoch)))
    return keras.callbacks.LearningRateScheduler(lambda epoch, _: step_rate(lr, epoch, epochs))


class Plateau(keras.callbacks.ReduceLROnPlateau):
    """ReduceLROnPlateau whose counters start from `state` (what `state()` returned at the end
    of an earlier run's last epoch) instead of from zero."""

    def __init__(self, monitor: str, state: dict[str, Any] | None) -> None:
        super().__init__(monitor=monitor, mode="max", factor=PLATEAU_FACTOR,
                         patience=PLATEAU_PATIENCE)  # fmt: skip
        self.saved = state or {}

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        super().on_train_begin(logs)
        self.best = self.saved.get("best")
        self.wait = int(self.saved.get("wait", 0))
        self.cooldown_counter = int(self.saved.get("cooldown", 0))

    def state(self) -> dict[str, Any]:
        best = None if self.best is None else float(self.best)
        return {"best": best, "wait": self.wait, "cooldown": self.cooldown_counter}


def patience_used(history: Sequence[dict[str, Any]], monitor: str) -> tuple[float | None, int]:
    """EarlyStopping's (best, wait) after the epochs of `history`: the best monitored value and
    the epochs since it (Keras's rule: an improvement is strictly greater)."""
    best, wait = None, 0
    for entry in history:
        value = entry.get(monitor)
        if value is None:
            continue
        wait += 1
        if best is None or value > best:
            best, wait = value, 0
    return best, wait


class EarlyStopping(keras.callbacks.EarlyStopping):
    """keras.callbacks.EarlyStopping on the monitored metric (higher is better), its counters
    continued from the epochs already in `history`. The best weights are model.keras already,
    so they are not restored into the model."""

    def __init__(self, monitor: str, patience: int, history: Sequence[dict[str, Any]]) -> None:
        super().__init__(monitor=monitor, mode="max", patience=patience)
        self.earlier = patience_used(history, monitor)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        super().on_train_begin(logs)
        self.best, self.wait = self.earlier
