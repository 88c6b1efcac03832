"""What a training run is asked to do (no TensorFlow here: checked before it is imported)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..graph import Graph
from .head import Classifier

DEFAULT_LEARNING_RATES = {"adam": 1e-3, "sgd": 1e-2, "rmsprop": 1e-3}
LR_SCHEDULES = ("cosine", "step", "plateau")  # what each does: train/schedules.py


@dataclass(frozen=True)
class TrainOptions:
    epochs: int = 10
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float | None = None  # None: DEFAULT_LEARNING_RATES[optimizer]
    augment: bool = False
    preprocess: str = "unit"
    seed: int = 1337
    strategy: str = "default"  # or "mirrored": tf.distribute.MirroredStrategy
    mixed_precision: bool = False
    jit: bool | None = None  # XLA for the training step; None: Keras's "auto" (on a GPU)
    tensorboard: bool = False
    cache: bool = True  # decoded images in memory (when cache_dir is None)
    cache_dir: str | None = None  # decoded images in this folder instead (train/cache.py)
    cache_features: bool = False
    weights: str | None = None
    verbose: str | int = "auto"
    max_memory: int | None = None  # bytes; None: what the machine has available; 0: no check
    early_stopping: int | None = None  # patience in epochs on the monitored metric; None: off
    lr_schedule: str | None = None  # one of LR_SCHEDULES; None: a constant learning rate

    def __post_init__(self) -> None:  # the CLI's choices, for the Python API too
        if self.lr_schedule is not None and self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, not {self.lr_schedule!r}")
        if self.early_stopping is not None and self.early_stopping < 1:
            raise ValueError(
                f"early_stopping is a patience of 1 epoch or more, not {self.early_stopping}"
            )

    @property
    def learning_rate(self) -> float:
        return self.lr or DEFAULT_LEARNING_RATES[self.optimizer]


@dataclass
class Run:
    """What train() needs besides the options: the compiled spec and where things go."""

    graph: Graph
    classifier: Classifier
    head_boundary: str | None  # the node the head reads (for --cache-features)
    train_dir: str
    val_dir: str | None
    val_split: float
    class_names: tuple[str, ...]
    run_dir: str
    record: dict[str, Any]  # run.json, filled in as training goes
    history: list[dict[str, Any]]  # earlier epochs when resuming
    resume: bool
