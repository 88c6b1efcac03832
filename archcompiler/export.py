"""`archc export`: a Keras model → a deployable artifact through Keras's own `model.export` — a
TensorFlow SavedModel, ONNX, LiteRT (.tflite) or OpenVINO IR — written all or nothing and
checked by loading it in its own runtime and comparing its outputs with Keras's.

`plan_export` checks everything that can be checked without TensorFlow (the format, what is at
the output, the optional packages) so that the CLI fails at once; `export_model` writes into a
temporary sibling of the output, verifies it there, and only then renames it into place.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import re
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .atomic import current_umask, replacing, replacing_folder
from .backends import build_checked, get_backend
from .build import load_weights_file, terminate_as_interrupt
from .errors import Location, SpecError, first_line
from .graph import Graph
from .model_files import check_model_file, check_weights_file
from .summary import human_bytes

# Relative to the largest output. Conversions fold batch norms into convolutions and reorder
# float32 sums, so outputs move by a few float32 ulps per layer: ≤ 1e-6 relative measured on
# LeNet-5, MobileNetV2 and ResNet-18 (docs/export.md). 1e-4 leaves ~100× headroom and is far
# below what a wrong layout or lost weights cause (≥ 1e-2).
DEFAULT_TOLERANCE = 1e-4
VERIFY_BATCH = 2
VERIFY_SEED = 0


@dataclass(frozen=True)
class Format:
    """An export format: Keras's name for it, its file suffix ("" for a folder), the modules
    its export and its check need, and the extra that installs them."""

    name: str
    suffix: str
    label: str
    export_needs: tuple[str, ...]
    verify_needs: tuple[str, ...]
    extra: str | None


FORMATS = {
    f.name: f
    for f in (
        Format("tf_saved_model", "", "TensorFlow SavedModel", (), (), None),
        Format("onnx", ".onnx", "ONNX", ("tf2onnx", "onnx"), ("onnxruntime",), "onnx"),
        # TensorFlow's own TFLiteConverter writes it; tf.lite.Interpreter can run it when
        # ai-edge-litert (its successor) is missing, so the extra is only recommended
        Format("litert", ".tflite", "LiteRT", (), (), "litert"),
        Format("openvino", ".xml", "OpenVINO IR", ("openvino",), ("openvino",), "openvino"),
    )
}
_BY_SUFFIX = {f.suffix: f.name for f in FORMATS.values() if f.suffix}


@dataclass(frozen=True)
class Plan:
    """Where and how to export: `target` is the output path (a SavedModel folder without its
    trailing slash); `fmt` one of FORMATS."""

    output: str
    target: str
    fmt: Format
    verify: bool


def plan_export(output: str, fmt: str | None = None, verify: bool = True) -> Plan:
    """Decide the format (from `fmt`, else from the output's name) and check, before TensorFlow
    is imported, that the output can take it and that its packages are installed."""
    where = Location(output)
    as_folder = output.endswith(("/", os.sep))
    target = output.rstrip("/" + os.sep) or output
    suffix = os.path.splitext(target)[1].lower()
    guessed = "tf_saved_model" if as_folder or not suffix else _BY_SUFFIX.get(suffix)
    names = "a folder (DIR/ or a name without a suffix: a SavedModel), FILE.onnx, FILE.tflite "
    names += "or FILE.xml (OpenVINO)"
    if fmt is None:
        if guessed is None:
            raise SpecError.at(where, f"unknown export format '{suffix}': name {names}, "
                               "or give --format")  # fmt: skip
        fmt = guessed
    if fmt not in FORMATS:
        raise SpecError.at(where, f"unknown export format {fmt!r}: one of {', '.join(FORMATS)}")
    chosen = FORMATS[fmt]
    if chosen.suffix and (as_folder or suffix != chosen.suffix):
        raise SpecError.at(where, f"--format {fmt} writes a file FILE{chosen.suffix}")
    if not chosen.suffix and suffix in _BY_SUFFIX and not as_folder:
        raise SpecError.at(where, f"a {suffix} name is for --format {_BY_SUFFIX[suffix]}, "
                           "not a SavedModel folder (name it DIR/ to force one)")  # fmt: skip
    _check_existing(target, chosen)
    parent = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(parent):
        raise SpecError.at(where, f"cannot write here: no folder {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):  # said now, not after building the model
        raise SpecError.at(where, f"cannot write here: the folder {parent} is read-only")
    _check_installed(chosen, verify, where)
    return Plan(output, target, chosen, verify)


def _check_existing(target: str, fmt: Format) -> None:
    """What is at the output already must be the same kind of thing: we replace an old
    artifact, never a file by a folder, a folder by a file, or a folder of other things."""
    paths = [target] + ([target[:-4] + ".bin"] if fmt.name == "openvino" else [])
    for path in paths:
        if os.path.islink(path):
            raise SpecError.at(Location(path), "the output is a symbolic link; not replacing it")
        if not os.path.lexists(path):
            continue
        is_dir = os.path.isdir(path)
        if fmt.suffix and is_dir:
            raise SpecError.at(Location(path), f"is a folder; {fmt.label} is a file")
        if fmt.suffix and not os.path.isfile(path):
            raise SpecError.at(Location(path), "exists and is not a regular file")
        if not fmt.suffix and not is_dir:
            raise SpecError.at(Location(path), "exists and is not a folder (a SavedModel is one)")
        if not fmt.suffix and os.listdir(path) and not _is_saved_model(path):
            raise SpecError.at(Location(path), "is a folder that is not a SavedModel (no "
                               "saved_model.pb); not replacing it")  # fmt: skip


def _is_saved_model(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "saved_model.pb"))


def _check_installed(fmt: Format, verify: bool, where: Location) -> None:
    needs = fmt.export_needs + (fmt.verify_needs if verify else ())
    missing = [m for m in dict.fromkeys(needs) if importlib.util.find_spec(m) is None]
    if missing:
        raise SpecError.at(where, f"{fmt.label} export needs {', '.join(missing)}: "
                           f"install archcompiler[{fmt.extra}] (pip install "
                           f"'archcompiler[{fmt.extra}]')")  # fmt: skip


def load_keras_file(path: str, weights: str | None = None) -> tuple[Any, list[str]]:
    """A saved `.keras` model (and `weights` loaded into it); a located error if it cannot."""
    check_model_file(path)
    if weights is not None:
        check_weights_file(weights)
    backend = get_backend("keras")  # TensorFlow is imported here
    import keras

    try:
        model = keras.saving.load_model(path, compile=False)
    except (ValueError, OSError, KeyError, TypeError) as e:
        message = f"cannot load this model: {first_line(e, 500)}"
        raise SpecError.at(Location(path), message) from None
    lines = [f"Loaded Keras model '{model.name}' from {path}: {model.count_params():,} params."]
    if weights is not None:
        lines.append(load_weights_file(backend, model, weights))
    return model, lines


def build_from_graph(graph: Graph, weights: str | None = None) -> tuple[Any, list[str]]:
    """The Keras model of `graph`, checked against it (and `weights` loaded into it)."""
    if weights is not None:  # a wrong weights file is found before TensorFlow is imported
        check_weights_file(weights)
    backend = get_backend("keras")  # TensorFlow is imported here
    model = build_checked(graph, backend)
    lines = [f"Built Keras model '{model.name}': {graph.total_params:,} params."]
    if weights is not None:
        lines.append(load_weights_file(backend, model, weights))
    return model, lines


def export_model(model: Any, output: str, fmt: str | None = None, *, verify: bool = True,
                 tolerance: float | None = None) -> list[str]:  # fmt: skip
    """Export `model` (a Keras model) to `output` in `fmt` (default: from the name) through
    `model.export`; unless `verify` is false, load the artifact in its own runtime and compare
    with Keras (`verify_export`) before it replaces anything. Returns report lines."""
    plan = plan_export(output, fmt, verify)
    where = Location(output)
    if verify:
        sample_inputs(model, where)  # an input shape we cannot fill: said before the export
    _call_once(model)
    lines: list[str] = []
    start = time.perf_counter()
    with terminate_as_interrupt() as received, _temporary(plan) as tmp:
        _run_export(model, tmp, plan.fmt, where)
        seconds = time.perf_counter() - start
        if verify:
            lines.append(verify_export(model, tmp, plan.fmt.name, tolerance, output=output))
        if received:  # interrupted, though the converter carried on
            raise KeyboardInterrupt
    size = human_bytes(_size(plan.target))
    lines.insert(0, f"Exported {plan.fmt.label} to {output} ({size}) in {seconds:.1f} s.")
    if not verify:
        lines.append("Not verified (--no-verify): the artifact was not loaded in its runtime.")
    return lines


def _call_once(model: Any) -> None:
    """Keras's ONNX export refuses a model that was never called ("The model provided has never
    called"), though a functional model's input signature is known: call it once, on zeros
    (an unknown size as 64)."""
    if getattr(model, "_called", True):
        return
    import numpy as np

    zeros = [np.zeros((1, *(d or 64 for d in i.shape[1:])), str(i.dtype)) for i in model.inputs]
    model(zeros if len(zeros) > 1 else zeros[0], training=False)


def _run_export(model: Any, path: str, fmt: Format, where: Location) -> None:
    quiet = [logging.getLogger(n) for n in ("tf2onnx", "tensorflow")]
    levels = [q.level for q in quiet]
    try:
        for q in quiet:
            q.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            # Keras's tf2onnx patch tests `np.object`, which NumPy 2 warns about
            warnings.simplefilter("ignore", FutureWarning)
            model.export(path, format=fmt.name, verbose=False)
    except (SpecError, KeyboardInterrupt):
        raise
    except Exception as e:  # converters raise anything; the message says which op and where
        layer = _layer_in(model, str(e))
        at = f" (at layer '{layer}')" if layer else ""
        raise SpecError.at(where, f"cannot export to {fmt.label}{at}: "
                           f"{type(e).__name__}: {first_line(e, 500)}") from None  # fmt: skip
    finally:
        for q, level in zip(quiet, levels, strict=True):
            q.setLevel(level)


def _layer_in(model: Any, text: str) -> str | None:
    """The model's layer a converter's message names (TensorFlow ops are named
    `model/layer/op`), longest name first so `conv1_bn` wins over `conv1`."""
    names = sorted((layer.name for layer in _all_layers(model)), key=len, reverse=True)
    for name in names:
        if re.search(rf"(?<![\w]){re.escape(name)}(?:_\d+)?(?=/|'|\"|\b)", text):
            return name
    return None


def _all_layers(model: Any) -> Iterator[Any]:
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def _size(path: str) -> int:
    if os.path.isfile(path):
        extra = path[:-4] + ".bin" if path.endswith(".xml") else None
        return os.path.getsize(path) + (os.path.getsize(extra) if extra and
                                        os.path.isfile(extra) else 0)  # fmt: skip
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


@contextlib.contextmanager
def _temporary(plan: Plan) -> Iterator[str]:
    """A temporary path beside the target, renamed over it when the block completes and
    removed on any exception (Ctrl-C too)."""
    if not plan.fmt.suffix:
        with replacing_folder(plan.target, ".savedmodel") as tmp:
            yield tmp
    elif plan.fmt.name == "openvino":  # FILE.xml and its weights FILE.bin, the .bin first
        with replacing(plan.target, ".xml") as tmp:
            tmp_bin = tmp[:-4] + ".bin"
            try:
                yield tmp
                os.chmod(tmp_bin, 0o666 & ~current_umask())
                os.replace(tmp_bin, plan.target[:-4] + ".bin")
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp_bin)
    else:
        with replacing(plan.target, plan.fmt.suffix) as tmp:
            yield tmp


def sample_inputs(model: Any, where: Location) -> list[Any]:
    """Seeded random float inputs of the model's input shapes, batch VERIFY_BATCH."""
    import numpy as np

    rng = np.random.default_rng(VERIFY_SEED)
    out = []
    for inp in model.inputs:
        shape = tuple(inp.shape[1:])
        if any(d is None for d in shape):
            raise SpecError.at(where, f"cannot verify: input '{inp.name}' has an unknown size "
                               f"{list(shape)}; give --no-verify")  # fmt: skip
        dtype = getattr(inp.dtype, "name", inp.dtype)
        out.append(rng.standard_normal((VERIFY_BATCH, *shape)).astype(str(dtype)))
    return out


def verify_export(model: Any, path: str, fmt: str, tolerance: float | None = None, *,
                  output: str | None = None) -> str:  # fmt: skip
    """Run the artifact at `path` in its own runtime on seeded random input and compare with
    `model`'s predictions: a SpecError at `output` (default `path`) when the largest difference
    exceeds `tolerance` × the largest output magnitude. Returns the report line."""
    import numpy as np

    where = Location(output or path)
    tol = DEFAULT_TOLERANCE if tolerance is None else tolerance
    inputs = sample_inputs(model, where)
    expected = [np.asarray(y) for y in _flat(model(inputs if len(inputs) > 1 else inputs[0],
                                                   training=False))]  # fmt: skip
    runner, runtime = RUNNERS[fmt]
    try:
        got = runner(path, model, inputs)
    except (SpecError, KeyboardInterrupt):
        raise
    except Exception as e:  # e.g. tf2onnx writes an op it cannot convert as is: ONNX Runtime says
        layer = _layer_in(model, str(e))
        at = f" (at layer '{layer}')" if layer else ""
        said = first_line(e, 500).replace(path, where.path)  # the temporary's name means nothing
        raise SpecError.at(where, f"the exported artifact does not run in {runtime}{at}: "
                           f"{type(e).__name__}: {said}") from None  # fmt: skip
    if [g.shape for g in got] != [y.shape for y in expected]:
        raise SpecError.at(where, f"{runtime} gives outputs {[g.shape for g in got]}, Keras "
                           f"{[y.shape for y in expected]}")  # fmt: skip
    pairs = zip(got, expected, strict=True)
    delta = max(float(np.max(np.abs(g.astype(np.float64) - y))) for g, y in pairs)
    # relative to the largest output: an untrained network's outputs can be tiny (6e-10 after
    # MobileNetV2's backbone), where an absolute bound would pass anything
    scale = max(float(np.max(np.abs(y))) if y.size else 0.0 for y in expected)
    bound = tol * scale if scale > 0 else tol
    said = (
        f"max |Δ| = {delta:.2e} against Keras in {runtime}, largest |y| = {scale:.2e} "
        f"(batch {VERIFY_BATCH}, seeded random input; tolerance {tol:.0e} × largest |y|)"
    )
    if not delta <= bound:  # NaN fails too
        raise SpecError.at(where, f"the exported model disagrees with Keras: {said}")
    return f"Verified: {said}."


def _flat(y: Any) -> list[Any]:
    if isinstance(y, dict):
        return [v for _, v in sorted(y.items())]
    return list(y) if isinstance(y, (list, tuple)) else [y]


def _by_output_number(outputs: dict[str, Any]) -> list[Any]:
    """Signature outputs are named output_0, output_1, …: in the model's order by number."""
    import numpy as np

    def key(name: str) -> tuple[int, str]:
        m = re.search(r"(\d+)$", name)
        return (int(m.group(1)) if m else 0, name)

    return [np.asarray(outputs[k]) for k in sorted(outputs, key=key)]


def _named(names: Sequence[str], model: Any, inputs: list[Any]) -> dict[str, Any]:
    """The inputs by the runtime's names: by the model's input names, else in order."""
    ours = [inp.name for inp in model.inputs]
    if sorted(names) == sorted(ours):
        return {n: inputs[ours.index(n)] for n in names}
    return dict(zip(names, inputs, strict=True))


def _run_saved_model(path: str, model: Any, inputs: list[Any]) -> list[Any]:
    import tensorflow as tf

    serve = tf.saved_model.load(path).signatures["serving_default"]
    names = list(serve.structured_input_signature[1])
    feeds = {k: tf.constant(v) for k, v in _named(names, model, inputs).items()}
    return _by_output_number(serve(**feeds))


def _run_onnx(path: str, model: Any, inputs: list[Any]) -> list[Any]:
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return list(session.run(None, _named(names, model, inputs)))


def _run_litert(path: str, model: Any, inputs: list[Any]) -> list[Any]:
    if importlib.util.find_spec("ai_edge_litert") is not None:
        from ai_edge_litert.interpreter import Interpreter
    else:  # TensorFlow's own, deprecated in favour of ai-edge-litert
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    runner = Interpreter(model_path=path).get_signature_runner()
    names = list(runner.get_input_details())
    return _by_output_number(runner(**_named(names, model, inputs)))


def _run_openvino(path: str, model: Any, inputs: list[Any]) -> list[Any]:
    import openvino

    # ACCURACY: the CPU plugin's default PERFORMANCE mode approximates (6e-5 off on LeNet-5's
    # tanh); the check is of the artifact, not of the runtime's shortcuts
    config = {"EXECUTION_MODE_HINT": "ACCURACY", "INFERENCE_PRECISION_HINT": "f32"}
    compiled = openvino.Core().compile_model(path, "CPU", config)
    names = [i.get_any_name() for i in compiled.inputs]
    feeds = _named(names, model, inputs)
    result = compiled([feeds[n] for n in names])
    return [result[o] for o in compiled.outputs]


RUNNERS = {
    "tf_saved_model": (_run_saved_model, "TensorFlow (tf.saved_model.load)"),
    "onnx": (_run_onnx, "ONNX Runtime"),
    "litert": (_run_litert, "the LiteRT interpreter"),
    "openvino": (_run_openvino, "OpenVINO Runtime"),
}
