"""`archc build`: Graph → Keras model → (weights) → FILE.keras, never half-written."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

from . import provenance
from .atomic import interrupts_handled_by, replacing
from .backends import Backend, build_checked, get_backend
from .backends.frameworks import running_framework
from .errors import Location, SpecError
from .graph import Graph
from .model_files import check_weights_file
from .summary import human_bytes

IMAGENET = "imagenet"  # `--weights imagenet`: keras.applications' file for the spec's twin


def build_and_save(graph: Graph, output: str | None, weights: str | None,
                   head: bool = True, inference: bool = False) -> Iterator[str]:  # fmt: skip
    """Build the model, check it against the Graph, load weights, (with `inference`, optimize
    it: archcompiler/optimize.py), save; yields report lines."""
    if weights == IMAGENET:
        twin_of(graph)  # a spec without a twin is refused before TensorFlow is imported
    elif weights is not None:  # a wrong weights file is found before TensorFlow is imported
        check_weights_file(weights)
    backend = get_backend("keras")  # TensorFlow is imported here, and only here for `build`
    # the spec's digests now, not after the slow build (archcompiler/provenance.py)
    rec = provenance.record(
        graph, running_framework(), **({"inference": True} if inference else {})
    )
    model = build_checked(graph, backend)
    yield (
        f"Built Keras model '{model.name}': {len(model.layers):,} layers, "
        f"{graph.total_params:,} params — the same as inferred."
    )
    yield from backend.caveats(graph)  # e.g. where Keras on PyTorch computes unlike TensorFlow
    if weights == IMAGENET:
        yield from load_official_weights(backend, model, graph, head)
    elif weights is not None:
        yield load_weights_file(backend, model, weights)
    if inference:
        from .optimize import optimize_for_inference

        optimized = optimize_for_inference(model)
        model = optimized.model
        yield optimized.report()
    if output is not None:
        save_atomically(model, output, backend.save_model, rec)
        yield f"Wrote {output} ({human_bytes(os.path.getsize(output))})."


def load_weights_file(backend: Backend, model: object, path: str) -> str:
    """Load `--weights` into `model`; a located error when the file cannot be used."""
    check_weights_file(path)
    try:
        what = backend.load_weights(model, path)
        return f"Loaded weights from {path} ({what})."
    except (ValueError, OSError, KeyError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise SpecError.at(Location(path), f"cannot load these weights: {first}") from None


def twin_of(graph: Graph) -> str:
    """The keras.applications constructor the spec's `doc` says it is, layer for layer."""
    from .reference.zoo import spec_twin

    twin = spec_twin(graph.doc)
    if twin is None:
        raise SpecError.at(
            Location(graph.files[-1]),
            "--weights imagenet needs a spec that is a keras.applications twin (its `doc` says "
            "'layer for layer as keras.applications.NAME'); this one names none",
            "see `archc zoo` for the networks that have one",
        )
    return twin


def load_official_weights(backend: Backend, model: object, graph: Graph,
                          head: bool) -> Iterator[str]:  # fmt: skip
    """keras.applications' imagenet file for the spec's twin, from Keras's cache or fetched by
    Keras, loaded by layer name (docs/python.md: official weights)."""
    from .backends import keras_weights as kw

    twin = twin_of(graph)
    try:
        request = kw.request_for(twin, graph, head)
        path = kw.fetch(request)
    except kw.WeightsUnavailable as e:
        raise SpecError.at(Location(graph.files[-1]), f"--weights imagenet: {e}") from None
    yield load_weights_file(backend, model, path)
    if head and not request.include_top:
        yield (
            f"warning: the head has {graph.nodes[graph.outputs[0]].shape[-1]} classes, not "
            f"ImageNet's {kw.IMAGENET_CLASSES}: loaded the backbone ({request.file_name}); "
            "the head keeps its initial weights"
        )


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[list[int]]:
    """SIGTERM or Ctrl-C while saving unwinds like Ctrl-C, so the temporary file is removed. The
    signals are also recorded: Keras's saver swallows exceptions in places (a bare `except:`),
    and Python swallows one raised inside a finalizer or weakref callback (printing "Exception
    ignored in …" with a traceback), so the caller checks the record before renaming, and such
    a swallowed interrupt is not printed: it is acted on from the record."""
    received: list[int] = []

    def interrupt(signum: int, frame: object) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    previous_hook = sys.unraisablehook

    def unraisable(info: Any) -> None:
        if not (received and isinstance(info.exc_value, KeyboardInterrupt)):
            previous_hook(info)

    sys.unraisablehook = unraisable
    try:
        with interrupts_handled_by(interrupt):
            yield received
    finally:
        sys.unraisablehook = previous_hook


def save_atomically(
    model: Any,
    target: str,
    save: Callable[[Any, str], None] | None = None,
    record: dict[str, Any] | None = None,
) -> None:
    """Write `model` with `save` (a backend's `save_model`; default: Keras's `model.save`) to a
    temporary file beside the target, then rename it over the target: the target is either the
    old file or the complete new one, never a partial one. `record` (provenance.record) goes
    into the archive's metadata.json before the rename."""
    # the handlers first: a SIGTERM from the moment the temporary file exists unwinds and removes it
    with terminate_as_interrupt() as received, replacing(target, ".keras") as tmp:
        if save is None:
            model.save(tmp)
        else:
            save(model, tmp)
        if record is not None:
            provenance.add_to_archive(tmp, record)
        if received:  # interrupted, though the saver carried on
            raise KeyboardInterrupt
