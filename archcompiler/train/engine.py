"""The one entry point of training: Keras's `fit` (fit.py) on one machine, the loop of our own
(distributed.py) for --strategy multi-worker."""

from __future__ import annotations

from collections.abc import Iterator

from .distributed import train_multi_worker
from .fit import train as fit
from .options import Run, TrainOptions


def train(run: Run, o: TrainOptions) -> Iterator[str]:
    """Train and keep `run.run_dir` current; yields report lines."""
    if o.strategy == "multi-worker":
        return train_multi_worker(run, o)
    return fit(run, o)
