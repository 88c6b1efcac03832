"""How much memory a training run needs, estimated from the Graph before TensorFlow is imported,
and a refusal — naming the figure and what this machine has — of a run that cannot fit.

A size the bounds allow (one tensor under 2³¹ values) can still be far more than memory holds:
a 46,340² input builds, then dies inside TensorFlow. The estimate counts, in float32:

- the weights, their gradients and the optimizer's slots (Adam 2, RMSprop 1, SGD with momentum 1);
- the activations of one batch, every layer's output kept for the backward pass;
- the decoded-image cache (`archc train` decodes and resizes once, at the model's input size),
  or the cached backbone features of `--cache-features`.

It is an estimate from above for the activations and a floor for TensorFlow's own overhead, so
it refuses only what clearly cannot fit. `--max-memory SIZE` replaces the machine's available
memory as the budget (`--max-memory 0` turns the check off).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

from ..errors import Location, SpecError
from ..graph import Graph
from ..summary import human_bytes
from .data import shuffle_held

FLOAT = 4  # bytes
OPTIMIZER_SLOTS = {"adam": 2, "rmsprop": 1, "sgd": 1}
_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(?:i?B)?", re.IGNORECASE)


@dataclass(frozen=True)
class Needs:
    weights: int  # weights, gradients, optimizer slots
    activations: int  # one batch, kept for the backward pass
    cache: int  # decoded images or backbone features, all of them

    @property
    def total(self) -> int:
        return self.weights + self.activations + self.cache


def training_needs(
    graph: Graph, batch_size: int, optimizer: str, images: int, cache: bool,
    features_of: str | None = None,
) -> Needs:  # fmt: skip
    """What `archc train` holds at its peak; `features_of` is --cache-features' boundary."""
    weights = graph.total_params * FLOAT * (2 + OPTIMIZER_SLOTS.get(optimizer, 2))
    activations = sum(math.prod(n.shape) for n in graph) * batch_size * FLOAT
    cached = 0
    if features_of is not None:
        cached = images * math.prod(graph.nodes[features_of].shape) * FLOAT
    else:
        image = sum(math.prod(graph.nodes[i].shape) for i in graph.inputs) * FLOAT
        # in memory: every image; else (--no-cache, --cache-dir) the shuffle buffer's
        held = images if cache else shuffle_held(images, image)
        cached = held * image
    return Needs(weights, activations, cached)


def available_bytes() -> int | None:
    """Memory this machine can give a new process now (Linux's MemAvailable; elsewhere the free
    physical pages), or None where the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def parse_size(text: str) -> int:
    """`12G`, `512MB`, `1.5GiB`, `0` → bytes (binary multiples); ValueError otherwise."""
    m = _SIZE.fullmatch(text.strip())
    if not m:
        raise ValueError(f"expected a size such as 8G or 512M, got {text!r}")
    scale = 1 << (10 * " KMGT".index(m.group(2).upper() or " "))
    return int(float(m.group(1)) * scale)


def check_fits(needs: Needs, budget: int | None, where: Location, batch_size: int) -> None:
    """Refuse a run that needs more than `budget` (None: what the machine has available)."""
    limit = available_bytes() if budget is None else budget
    if not limit or needs.total <= limit:
        return
    source = "this machine has" if budget is None else "--max-memory allows"
    raise SpecError.at(
        where,
        f"training needs about {human_bytes(needs.total)} of memory and {source} "
        f"{human_bytes(limit)}: {human_bytes(needs.weights)} for the weights, gradients and "
        f"optimizer state, {human_bytes(needs.activations)} for the activations of a batch of "
        f"{batch_size}, {human_bytes(needs.cache)} for the cached images or features",
        "need less with a smaller --batch-size, --no-cache, or a smaller input size; "
        "--max-memory SIZE sets the budget (0: no check)",
    )
