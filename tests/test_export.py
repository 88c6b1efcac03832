"""`archc export`: each format's artifact runs in its own runtime (TensorFlow, ONNX Runtime,
LiteRT, OpenVINO) and agrees with Keras; mistakes are located errors; nothing is half-written.

The runtimes are the judges: the slow tests load the artifacts themselves and compare them with
a Keras model the test holds (its weights handed to the CLI), not only with what the CLI says.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from archcompiler import export as ex
from archcompiler.errors import SpecError
from tests.conftest import ROOT
from tests.helpers import located_error, run_cli

LENET = ROOT / "specs" / "lenet5.yaml"
MOBILENET = (ROOT / "specs" / "mobilenetv2.yaml", "size=96", "alpha=0.35")
OUTPUTS = {  # format → output name
    "tf_saved_model": "model/",
    "onnx": "model.onnx",
    "litert": "model.tflite",
    "openvino": "model.xml",
}


def needs(*modules: str) -> pytest.MarkDecorator:
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return pytest.mark.skipif(bool(missing), reason=f"not installed: {missing}")


RUNTIME_OF = {"onnx": ("tf2onnx", "onnxruntime"), "openvino": ("openvino",)}
FORMAT_PARAMS = [pytest.param(f, marks=needs(*RUNTIME_OF.get(f, ()))) for f in OUTPUTS]


def delta_printed(out: str) -> float:
    m = re.search(r"max \|Δ\| = ([0-9.e+-]+)", out)
    assert m, out
    return float(m.group(1))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".archc-"))


def run_artifact(fmt: str, path: Path, x: np.ndarray) -> np.ndarray:
    """The artifact's output on `x`, by each runtime's own API (not archcompiler's)."""
    if fmt == "tf_saved_model":
        import tensorflow as tf

        serve = tf.saved_model.load(str(path)).signatures["serving_default"]
        (y,) = serve(tf.constant(x)).values()
        return y.numpy()
    if fmt == "onnx":
        import onnxruntime

        s = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return s.run(None, {s.get_inputs()[0].name: x})[0]
    if fmt == "litert":
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            import tensorflow as tf

            Interpreter = tf.lite.Interpreter
        it = Interpreter(model_path=str(path))
        (y,) = it.get_signature_runner()(input=x).values()
        return y
    import openvino

    compiled = openvino.Core().compile_model(str(path), "CPU", {"EXECUTION_MODE_HINT": "ACCURACY"})
    return compiled([x])[compiled.outputs[0]]


def export_and_compare(tmp_path: Path, fmt: str, spec: Path, *sets: str) -> float:
    """Build the spec here, hand its weights to `archc export` (which must report a max |Δ|
    within its tolerance), and return the artifact's max |Δ| against this Keras model on
    inputs the CLI never saw, relative to the largest output."""
    from archcompiler.compiler import compile_file

    values = dict(s.split("=") for s in sets)
    model, _ = ex.build_from_graph(compile_file(str(spec), values))
    weights = tmp_path / "w.weights.h5"
    model.save_weights(weights)
    output = tmp_path / OUTPUTS[fmt]
    args = [a for s in sets for a in ("--set", s)]
    code, out, err = run_cli("export", spec, "-o", output, "--weights", weights, *args)
    assert code == 0, err
    said = delta_printed(out)
    largest = float(re.search(r"largest \|y\| = ([0-9.e+-]+)", out).group(1))
    assert said <= ex.DEFAULT_TOLERANCE * largest, out
    assert output.exists() and not leftovers(tmp_path)
    x = np.random.default_rng(7).uniform(0, 1, (3, *model.input_shape[1:])).astype("float32")
    expected = model.predict(x, verbose=0)
    got = run_artifact(fmt, output, x)
    return float(np.max(np.abs(got - expected)) / np.max(np.abs(expected)))


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMAT_PARAMS)
def test_lenet5_exports_and_agrees_with_keras(tmp_path, fmt) -> None:
    assert export_and_compare(tmp_path, fmt, LENET) <= ex.DEFAULT_TOLERANCE


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMAT_PARAMS)
def test_small_mobilenetv2_exports_and_agrees_with_keras(tmp_path, fmt) -> None:
    assert export_and_compare(tmp_path, fmt, *MOBILENET) <= ex.DEFAULT_TOLERANCE


@pytest.mark.slow
@needs("tf2onnx", "onnxruntime")
def test_a_keras_file_exports_and_replaces_the_old_artifact(tmp_path) -> None:
    import keras

    saved = tmp_path / "lenet.keras"
    assert run_cli("build", LENET, "-q", "-o", saved)[0] == 0
    output = tmp_path / "lenet.onnx"
    output.write_bytes(b"an old artifact")
    code, out, err = run_cli("export", saved, "-o", output)
    assert code == 0, err
    assert f"from {saved}" in out and delta_printed(out) <= ex.DEFAULT_TOLERANCE
    x = np.random.default_rng(3).standard_normal((2, 32, 32, 1)).astype("float32")
    expected = keras.saving.load_model(saved).predict(x, verbose=0)
    assert np.max(np.abs(run_artifact("onnx", output, x) - expected)) <= 1e-5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lenet.keras", "lenet.onnx"]


@pytest.mark.slow
def test_a_saved_model_folder_is_replaced_whole_and_no_verify_says_so(tmp_path) -> None:
    output = tmp_path / "sm"
    assert run_cli("export", LENET, "-o", output)[0] == 0
    (output / "stray.txt").write_text("from the old export")
    code, out, err = run_cli("export", LENET, "-o", f"{output}/", "--no-verify")
    assert code == 0, err
    assert "Not verified (--no-verify)" in out and "max |Δ|" not in out
    assert (output / "saved_model.pb").is_file() and not (output / "stray.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sm"]


# --- mistakes: all said before TensorFlow is imported -------------------------------------


@pytest.mark.parametrize(
    ("output", "args", "message"),
    [
        ("model.pb", (), "unknown export format '.pb'"),
        ("model.tflite", ("--format", "onnx"), "--format onnx writes a file FILE.onnx"),
        ("model.onnx", ("--format", "tf_saved_model"), "a .onnx name is for --format onnx"),
        ("model.onnx/", ("--format", "onnx"), "--format onnx writes a file FILE.onnx"),
    ],
)
def test_a_format_the_name_cannot_take_is_a_located_error(tmp_path, output, args, message):
    target = f"{tmp_path}/{output}"  # a Path would drop the trailing slash
    code, out, err = run_cli("export", LENET, "-o", target, *args)
    located_error(code, out, err, target, message)


def test_an_output_of_the_wrong_kind_is_not_replaced(tmp_path) -> None:
    a_file = tmp_path / "model"
    a_file.write_text("not a folder")
    located_error(*run_cli("export", LENET, "-o", a_file), a_file, "is not a folder")
    a_folder = tmp_path / "model.onnx"
    a_folder.mkdir()
    located_error(*run_cli("export", LENET, "-o", a_folder), a_folder, "is a folder")
    others = tmp_path / "photos"
    others.mkdir()
    (others / "cat.jpg").write_bytes(b"\xff\xd8")
    located_error(*run_cli("export", LENET, "-o", others), others, "not a SavedModel")
    assert (others / "cat.jpg").exists() and a_file.read_text() == "not a folder"


@pytest.mark.parametrize(
    ("module", "output", "extra"),
    [("onnxruntime", "m.onnx", "onnx"), ("tf2onnx", "m.onnx", "onnx"),
     ("openvino", "m.xml", "openvino")],
)  # fmt: skip
def test_a_missing_runtime_names_the_extra_to_install(tmp_path, monkeypatch, module, output,
                                                      extra) -> None:  # fmt: skip
    monkeypatch.setitem(sys.modules, module, None)  # importing it now fails: as if missing
    target = tmp_path / output
    code, out, err = run_cli("export", LENET, "-o", target)
    located_error(code, out, err, target, f"install archcompiler[{extra}]")
    assert module in err


def test_onnx_runtime_is_not_needed_with_no_verify(monkeypatch, tmp_path) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    plan = ex.plan_export(str(tmp_path / "m.onnx"), verify=False)
    assert plan.fmt.name == "onnx"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_a_located_error(tmp_path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        target = folder / "m.tflite"
        located_error(*run_cli("export", LENET, "-o", target), target, "read-only")
    finally:
        folder.chmod(0o755)


def test_a_folder_the_system_refuses_is_a_located_error(tmp_path, monkeypatch) -> None:
    """What chmod cannot show as root: the system refusing the temporary folder."""

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    import tempfile

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    target = tmp_path / "sm"
    with pytest.raises(SpecError, match="cannot write this folder: Permission denied"):
        ex.export_model(FakeModel(), str(target), verify=False)
    assert list(tmp_path.iterdir()) == []


# --- failures leave nothing behind (a stand-in model: no TensorFlow) ----------------------


class FakeModel:
    """Enough of a Keras model for export_model: `export` writes part of an artifact, then
    does what `failure` says."""

    name = "fake"
    inputs = [SimpleNamespace(name="input", shape=(None, 4), dtype="float32")]
    layers = [SimpleNamespace(name="c3"), SimpleNamespace(name="c3_bn")]
    _called = True

    def __init__(self, failure: BaseException | None = None) -> None:
        self.failure = failure

    def __call__(self, x, training=False):
        return np.asarray(x) * 0.1

    def export(self, path, format, verbose=False):
        if os.path.isdir(path):
            os.makedirs(os.path.join(path, "variables"))
            Path(path, "saved_model.pb").write_bytes(b"partial")
        else:
            Path(path).write_bytes(b"partial")
        if self.failure is not None:
            raise self.failure


@pytest.mark.parametrize("fmt", list(OUTPUTS))
@pytest.mark.parametrize("failure", [KeyboardInterrupt(), RuntimeError("converter crashed")])
def test_a_failed_or_interrupted_export_leaves_the_old_artifact(tmp_path, fmt, failure) -> None:
    target = tmp_path / OUTPUTS[fmt].rstrip("/")
    if fmt == "tf_saved_model":
        target.mkdir()
        (target / "saved_model.pb").write_bytes(b"old")
    else:
        target.write_bytes(b"old")
    before = sorted(p.name for p in tmp_path.iterdir())
    expected = KeyboardInterrupt if isinstance(failure, KeyboardInterrupt) else SpecError
    with pytest.raises(expected):
        ex.export_model(FakeModel(failure), str(target), fmt, verify=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    old = target / "saved_model.pb" if fmt == "tf_saved_model" else target
    assert old.read_bytes() == b"old"


class SwallowingModel(FakeModel):
    """Converts like TensorFlow's converters can: a signal inside a bare `except:` is lost."""

    def export(self, path, format, verbose=False):
        super().export(path, format, verbose)
        try:  # noqa: SIM105
            os.kill(os.getpid(), signal.SIGTERM)  # the handler raises KeyboardInterrupt here
        except:  # noqa: E722
            pass


@pytest.mark.parametrize("fmt", list(OUTPUTS))
def test_a_signal_the_converter_swallows_still_stops_the_export(tmp_path, fmt) -> None:
    with pytest.raises(KeyboardInterrupt):
        ex.export_model(SwallowingModel(), str(tmp_path / OUTPUTS[fmt]), verify=False)
    assert list(tmp_path.iterdir()) == []


def test_a_converter_error_names_the_layer(tmp_path) -> None:
    failure = ValueError("Unsupported ops: Erfinv in node 'fake_1/c3_bn_1/Erfinv'\nmore")
    with pytest.raises(SpecError) as info:
        ex.export_model(FakeModel(failure), str(tmp_path / "m.tflite"), verify=False)
    message = str(info.value)
    assert "cannot export to LiteRT (at layer 'c3_bn'): ValueError: Unsupported ops" in message
    assert "more" not in message and list(tmp_path.iterdir()) == []


def test_an_artifact_that_disagrees_with_keras_is_refused(tmp_path, monkeypatch) -> None:
    def off_by(delta):
        return lambda path, model, inputs: [model(inputs[0]) + delta]

    target = tmp_path / "m.tflite"
    monkeypatch.setitem(ex.RUNNERS, "litert", (off_by(2e-4), "a runtime"))
    with pytest.raises(SpecError, match=r"disagrees with Keras: max \|Δ\| = 2\.00e-04"):
        ex.export_model(FakeModel(), str(target))
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setitem(ex.RUNNERS, "litert", (off_by(1e-6), "a runtime"))
    lines = ex.export_model(FakeModel(), str(target))
    assert "max |Δ| = 1.00e-06" in lines[1] and target.read_bytes() == b"partial"
    monkeypatch.setitem(ex.RUNNERS, "litert", (off_by(np.nan), "a runtime"))
    with pytest.raises(SpecError, match="disagrees"):
        ex.export_model(FakeModel(), str(target), tolerance=1.0)


def test_an_input_of_unknown_size_cannot_be_verified(tmp_path) -> None:
    model = FakeModel()
    model.inputs = [SimpleNamespace(name="image", shape=(None, None, None, 3), dtype="float32")]
    with pytest.raises(SpecError, match=r"unknown size .*give --no-verify"):
        ex.export_model(model, str(tmp_path / "m.tflite"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize("fmt", [pytest.param("onnx", marks=needs("tf2onnx", "onnxruntime")),
                                 "litert"])  # fmt: skip
def test_an_op_the_format_cannot_take_is_a_located_error_naming_the_layer(tmp_path, fmt) -> None:
    """Erfinv: tf2onnx writes it unconverted (ONNX Runtime refuses the file), the TFLite
    converter refuses it."""
    import keras
    import tensorflow as tf

    inputs = keras.Input((8, 8, 3), name="input")
    odd = keras.layers.Lambda(lambda x: tf.math.erfinv(tf.tanh(x) * 0.5), name="odd_one")(inputs)
    model = keras.Model(inputs, keras.layers.Flatten(name="flat")(odd))
    target = tmp_path / OUTPUTS[fmt]
    with pytest.raises(SpecError, match=r"\(at layer 'odd_one'\)") as info:
        ex.export_model(model, str(target))
    assert str(info.value).startswith(f"{target}: error: ") and ".archc-" not in str(info.value)
    assert list(tmp_path.iterdir()) == []
