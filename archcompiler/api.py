"""The Python API: what `archc` does, callable from a script or a notebook (docs/python.md).

    import archcompiler
    net = archcompiler.compile("resnet50", classes=10)   # a zoo name or a spec file
    net.params, net.macs, net.output_shape                # inferred, without TensorFlow
    print(net.summary())                                  # the table `archc summary` prints
    model = net.to_keras()                                # TensorFlow is imported here

Every user mistake raises `SpecError`, whose `diagnostics` are the located messages the CLI
prints (`str(e)` is their text). Only `to_keras`, `save`, `train`, `evaluate` and `predict`
import TensorFlow; everything else answers from the shape rules.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .compiler import Limits, compile_file, resolve_spec
from .graph import Graph, Node
from .limits import limits_for

Shape = tuple[int, ...]


def compile(
    spec: str | os.PathLike[str],
    /,
    *,
    head: bool = True,
    sets: Mapping[str, Any] | None = None,
    max_params: int | None = None,
    max_nodes: int | None = None,
    allow_paths: tuple[str, ...] = (),
    **params: Any,
) -> Network:
    """Compile a spec — a file, or a zoo network's name such as `"resnet50"` — into a Network.

    Keyword arguments override the spec's params, typed by their defaults as `--set` is
    (`classes=10`, `alpha=0.5`); `sets` takes the same as a mapping (for names that are not
    Python identifiers). `head=False` leaves the head out (`--no-head`); `max_params`,
    `max_nodes` and `allow_paths` are the bounds of `--max-params`, `--max-nodes` and
    `--allow-path`. Raises SpecError."""
    values = {**dict(sets or {}), **params}
    limits = limits_for(
        max_params or Limits.max_params, max_nodes or Limits.max_nodes, tuple(allow_paths)
    )
    path = resolve_spec(os.fspath(spec))
    graph = compile_file(path, {k: _as_set(v) for k, v in values.items()}, head=head,
                         limits=limits)  # fmt: skip
    return Network(graph, path, dict(values), head, limits)


def _as_set(value: Any) -> str:
    """A Python value as the `--set` text the compiler types by the param's default."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Network:
    """A compiled spec: its Graph (every node with shape, params and MACs) and what made it."""

    graph: Graph
    spec: str  # the spec file (a zoo name resolved to its file)
    overrides: dict[str, Any]  # the params given to compile()
    head: bool = True
    limits: Limits = field(default_factory=Limits)

    # -- what the shape rules say -------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.graph.name

    @property
    def doc(self) -> str:
        return self.graph.doc

    @property
    def params(self) -> int:
        """All parameters, trainable and not."""
        return self.graph.total_params

    @property
    def trainable_params(self) -> int:
        return self.graph.trainable_params

    @property
    def non_trainable_params(self) -> int:
        return self.graph.non_trainable_params

    @property
    def macs(self) -> int:
        """Multiply-accumulates of one image (batch 1)."""
        return self.graph.macs

    @property
    def activations(self) -> int:
        """Elements of every node's output, batch 1."""
        return self.graph.activations

    @property
    def spec_params(self) -> dict[str, object]:
        """The spec's params as bound (defaults, `extends`, overrides)."""
        return dict(self.graph.params)

    @property
    def input_shapes(self) -> list[Shape]:
        return [tuple(self.graph.nodes[n].shape) for n in self.graph.inputs]

    @property
    def output_shapes(self) -> list[Shape]:
        return [tuple(self.graph.nodes[n].shape) for n in self.graph.outputs]

    @property
    def input_shape(self) -> Shape:
        """The shape of the only input (batch left out); ValueError for several."""
        return _only(self.input_shapes, "inputs")

    @property
    def output_shape(self) -> Shape:
        """The shape of the only output (batch left out); ValueError for several."""
        return _only(self.output_shapes, "outputs")

    @property
    def nodes(self) -> list[Node]:
        """Every primitive node in graph order (name, op, args, shape, params, MACs, block)."""
        return list(self.graph)

    def node(self, name: str) -> Node:
        """The node called `name` (KeyError if none)."""
        return self.graph.nodes[name]

    def shapes(self) -> dict[str, Shape]:
        """Every node's output shape by name, graph order."""
        return {n.name: tuple(n.shape) for n in self.graph}

    def __iter__(self) -> Iterator[Node]:
        return iter(self.graph)

    def __len__(self) -> int:
        return len(self.graph)

    # -- summary and graph ---------------------------------------------------------------------
    def summary(self, depth: int | None = None, format: str = "table") -> str:
        """The summary `archc summary` prints: format "table", "markdown" or "json"."""
        from . import summary as s

        if format == "table":
            return s.render_table(self.graph, depth)
        if format == "markdown":
            return s.render_markdown(self.graph, depth)
        if format == "json":
            import json

            return json.dumps(s.to_json(self.graph), indent=1)
        raise ValueError(f"format must be table, markdown or json, not {format!r}")

    def print_summary(self, depth: int | None = None) -> None:
        print(self.summary(depth))

    def to_json(self) -> dict[str, Any]:
        """The summary as data (what `archc summary --format json` prints)."""
        from .summary import to_json

        return to_json(self.graph)

    def to_dot(self, depth: int | None = None) -> str:
        """The graph in Graphviz's DOT language (what `archc graph -o x.dot` writes)."""
        from .render.graph import to_dot

        return to_dot(self.graph, depth)

    def to_svg(self, depth: int | None = None) -> str:
        """The graph drawn as SVG by Graphviz's `dot` (RenderError when it is missing)."""
        from .render.graph import render

        return render(self.graph, "svg", depth).decode("utf-8")

    def draw(self, path: str | os.PathLike[str], depth: int | None = None) -> None:
        """Write the graph to `path`: .dot, .svg or .png (the last two need Graphviz)."""
        from .render.graph import write

        write(self.graph, path, depth)

    # -- notebooks -------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return (
            f"<Network {self.name}: {self.params:,} params, {_human(self.macs)} MACs, "
            f"{len(self.graph):,} nodes, input {_shapes(self.input_shapes)} → "
            f"{_shapes(self.output_shapes)}>"
        )

    def _repr_html_(self) -> str:
        from .render.html import summary_html

        return summary_html(self.graph, depth=1)

    def _repr_svg_(self) -> str | None:
        """The folded graph (top-level blocks) when Graphviz is here; None tells Jupyter to
        show the HTML summary alone."""
        from .render.graph import RenderError

        try:
            return self.to_svg(depth=0)
        except RenderError:
            return None

    # -- with TensorFlow -------------------------------------------------------------------------
    def to_keras(self, weights: str | None = None, dtype_policy: str | None = None) -> Any:
        """The Keras model, layer for layer the Graph (its param counts checked against the
        Graph's); `weights`: a .weights.h5 or a legacy .h5 loaded by layer name."""
        from .backends import build_checked, get_backend
        from .build import load_weights_file
        from .model_files import check_weights_file

        if weights is not None:
            check_weights_file(weights)
        backend = get_backend("keras")
        model = build_checked(self.graph, backend, dtype_policy)
        if weights is not None:
            load_weights_file(backend, model, weights)
        return model

    def save(self, path: str | os.PathLike[str], weights: str | None = None) -> list[str]:
        """Build and write FILE.keras atomically, as `archc build -o`; returns the report."""
        from .build import build_and_save

        target = os.fspath(path)
        if not target.endswith(".keras"):
            raise ValueError(f"the file name must end in .keras, got {target!r}")
        return list(build_and_save(self.graph, target, weights))

    def train(
        self, data: str, output: str | None = None, *, val: str | None = None,
        val_split: float | None = None, resume: str | None = None, force: bool = False,
        **options: Any,
    ) -> dict[str, Any]:  # fmt: skip
        """Train on an image folder as `archc train` does (same checks, same run directory);
        `options` are TrainOptions' fields (epochs, batch_size, optimizer, lr, augment, …).
        Returns run.json's record. The spec is compiled again for the data's classes."""
        from .train.engine import train as fit
        from .train.options import TrainOptions
        from .train.prepare import prepare

        opts = TrainOptions(**{"verbose": 2, **options})
        sets = {k: _as_set(v) for k, v in self.overrides.items()}
        run = prepare(
            self.spec, sets, data, val, val_split, output, resume=resume, force=force,
            options=opts, limits=self.limits, command=["python", "archcompiler.api"],
        )  # fmt: skip
        for line in fit(run, opts):
            print(line)
        return run.record


def evaluate(model: str, data: str, *, batch_size: int = 32,
             preprocess: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Accuracy, loss, per-class precision/recall and the confusion matrix of a trained
    `.keras` model on an image folder, as `archc evaluate --format json` reports them."""
    from .model_files import check_model_file
    from .train.evaluate import evaluate as run_evaluation

    check_model_file(model)
    return run_evaluation(model, data, batch_size, preprocess)


def predict(model: str, images: list[str], *, top: int = 3,
            preprocess: str | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """The `top` most probable classes of each image under a trained `.keras` model."""
    from .model_files import check_image_files, check_model_file
    from .train.evaluate import predict as run_prediction

    check_model_file(model)
    check_image_files(list(images))
    return run_prediction(model, list(images), top, preprocess)


def list_zoo() -> list[Any]:
    """Every network of the zoo: name, keras.applications twin, input, params, MACs, …"""
    from .reference.zoo import zoo_entries

    return zoo_entries()


def _only(shapes: list[Shape], what: str) -> Shape:
    if len(shapes) != 1:
        raise ValueError(f"this network has {len(shapes)} {what}; use {what[:-1]}_shapes")
    return shapes[0]


def _human(n: int) -> str:
    from .summary import human

    return human(n)


def _shapes(shapes: list[Shape]) -> str:
    return ", ".join("×".join(map(str, s)) for s in shapes)


__all__ = ["Network", "compile", "evaluate", "list_zoo", "predict"]
