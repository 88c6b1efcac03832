"""Backends: what turns a finished Graph into a model that runs, and the contract each one keeps.

A backend reads the Graph only (it never re-derives a shape) and provides the four things of
`Backend` below. Each also has an emitter table — op kind → how that op becomes one of its
layers — whose keys equal the op table's (a test keeps them equal), importable without the
framework itself so the reference docs can read it (Keras's: `keras_layers.EMITTERS`), in the
manner of tinygrad's `Renderer` with its `code_for_op`.

`get_backend` is the one place a backend module is imported by name: `check`, `summary`,
`graph` and `schema` never get here, so they never import TensorFlow. `build_checked` is the
one place a model is built and its parameter counts held against the Graph's, for `archc
build` and `archc train` alike.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from ..graph import Graph

# name → (the module implementing `Backend`, the suffix of the model files it writes)
BACKENDS = {"keras": ("archcompiler.backends.keras", ".keras")}


class Backend(Protocol):
    """What a backend module provides (module-level functions)."""

    def build_model(self, graph: Graph, dtype_policy: str | None = None) -> Any:
        """The model of `graph`, one layer per node, named as the node, in graph order."""
        ...

    def count_params(self, model: Any) -> tuple[int, int]:
        """(trainable, non-trainable) parameters as the framework counts them."""
        ...

    def load_weights(self, model: Any, path: str) -> str:
        """Load a weights file into `model`; returns what was loaded, for the report. Raises
        ValueError, OSError or KeyError for a file that does not fit."""
        ...

    def save_model(self, model: Any, path: str) -> None:
        """Write `model` to `path` (the caller makes the write all-or-nothing)."""
        ...

    def caveats(self, graph: Graph) -> list[str]:
        """Warnings ("warning: …" report lines) where the framework the backend runs on
        computes `graph` otherwise than its reference (Keras: TensorFlow)."""
        ...


def get_backend(name: str = "keras") -> Backend:
    """The backend module called `name`, imported now (for Keras: TensorFlow with it)."""
    return importlib.import_module(BACKENDS[name][0])  # type: ignore[return-value]


def model_suffix(name: str = "keras") -> str:
    """The file suffix of the models backend `name` saves (checked before anything is built)."""
    return BACKENDS[name][1]


class CountMismatch(RuntimeError):
    """The framework counts other parameters than the Graph infers: a bug in an op's rule or in
    its emitter, never a user mistake."""


def build_checked(graph: Graph, backend: Backend, dtype_policy: str | None = None) -> Any:
    """Build `graph` with `backend` and check its (trainable, non-trainable) counts against the
    Graph's; CountMismatch if they differ."""
    model = backend.build_model(graph, dtype_policy=dtype_policy)
    counts = backend.count_params(model)
    inferred = (graph.trainable_params, graph.non_trainable_params)
    if counts != inferred:
        raise CountMismatch(
            f"the backend counts {counts} params (trainable, non-trainable) but the spec "
            f"infers {inferred}"
        )
    return model
