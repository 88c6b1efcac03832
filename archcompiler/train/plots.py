"""Pictures of a run: training curves and the confusion matrix (matplotlib, no display)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..atomic import replacing


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only: works without a display
    import matplotlib.pyplot as plt

    return plt


def curves_figure(history: Sequence[dict[str, Any]], title: str,
                  best_epoch: int | None = None) -> Any:  # fmt: skip
    """The figure of write_curves: loss and accuracy per epoch, training and validation side
    by side, whole-number epoch ticks, and a dashed line at `best_epoch` labelled
    "best: epoch N" on both axes."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    epochs = [h["epoch"] for h in history]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        lines = ((metric, "training", "o-"), (f"val_{metric}", "validation", "s-"))
        for key, label, style in lines:
            values = [h.get(key) for h in history]
            if any(v is not None for v in values):
                ax.plot(epochs, values, style, label=label, markersize=3)
        if best_epoch is not None:
            ax.axvline(best_epoch, color="0.4", linestyle="--", linewidth=1,
                       label=f"best: epoch {best_epoch}")  # fmt: skip
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    return fig


def write_curves(history: Sequence[dict[str, Any]], path: str, title: str,
                 best_epoch: int | None = None) -> None:  # fmt: skip
    """curves_figure as a PNG; its metadata says the best epoch too (Description)."""
    plt = _pyplot()
    fig = curves_figure(history, title, best_epoch)
    metadata = {"Title": title}
    if best_epoch is not None:
        metadata["Description"] = f"best: epoch {best_epoch}"
    with replacing(path, ".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100, metadata=metadata)
    plt.close(fig)


def write_confusion(matrix: Sequence[Sequence[int]], class_names: Sequence[str], path: str,
                    title: str) -> None:  # fmt: skip
    """Rows: true class; columns: predicted class; counts in the cells when they fit."""
    plt = _pyplot()
    n = len(class_names)
    size = min(4 + 0.4 * n, 30)
    fig, ax = plt.subplots(figsize=(size, size), layout="constrained")
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, shrink=0.8)
    if n <= 40:
        long = n > 8 and max(len(c) for c in class_names) > 3
        ax.set_xticks(range(n), class_names, rotation=90 if long else 0)
        ax.set_yticks(range(n), class_names)
        peak = max((max(row) for row in matrix), default=0)
        for i in range(n):
            for j in range(n):
                value = matrix[i][j]
                color = "white" if value > peak / 2 else "black"
                ax.text(j, i, str(value), ha="center", va="center", color=color, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    with replacing(path, ".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
