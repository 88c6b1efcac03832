"""`archc build`: the Keras model, atomic writes, weights, and a file that loads anywhere."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from archcompiler.cli import main
from tests.conftest import ROOT
from tests.helpers import build, load_in_plain_keras, write

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
LENET = str(ROOT / "specs" / "lenet5.yaml")

SMALL = """
archspec: 1
name: small
input: {shape: [16, 16, 3]}
backbone:
  - conv: {filters: 4, kernel: 3, use_bias: false, name: c1}
  - bn: {name: bn1}
  - relu6: {name: r1}
  - depthwise_conv: {kernel: 3, padding: same, name: dw}
  - concat: {from: [dw, r1], name: cat}
head:
  - global_avg_pool: {name: gap}
  - dense: {units: 3, activation: softmax, name: predictions}
freeze: backbone
"""


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_build_prints_summary_and_checks_counts(tmp_path) -> None:
    result = run("build", str(write(tmp_path, SMALL)))
    assert result.exit_code == 0, result.output
    assert "Output shape" in result.stdout
    assert "Built Keras model 'small'" in result.stdout and "the same as inferred" in result.stdout


def test_freeze_is_honoured_in_keras(tmp_path) -> None:
    from archcompiler.backends.keras import build_model, count_params

    graph = build(tmp_path, SMALL)
    model = build_model(graph)
    assert not model.get_layer("c1").trainable and model.get_layer("predictions").trainable
    assert count_params(model) == (graph.trainable_params, graph.non_trainable_params)
    assert graph.trainable_params == 8 * 3 + 3


def test_written_file_loads_without_archcompiler(tmp_path) -> None:
    out = tmp_path / "lenet.keras"
    result = run("build", LENET, "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    shown = load_in_plain_keras(out, "m.count_params(), [l.name for l in m.layers][1:3]")
    assert "61706 ['c1', 's2']" in shown
    assert sorted(os.listdir(tmp_path)) == ["lenet.keras"]  # no temporary file left


def test_failed_build_leaves_the_existing_file_alone(tmp_path) -> None:
    out = tmp_path / "model.keras"
    out.write_bytes(b"previous model")
    bad = write(tmp_path, SMALL.replace("units: 3", "units: 0"))
    result = run("build", str(bad), "-o", str(out))
    assert result.exit_code == 1
    assert out.read_bytes() == b"previous model"
    assert sorted(os.listdir(tmp_path)) == ["model.keras", "spec.yaml"]


def test_interrupted_save_leaves_nothing_behind(tmp_path, monkeypatch) -> None:
    from archcompiler.backends.keras import build_model
    from archcompiler.build import save_atomically

    model = build_model(build(tmp_path, SMALL))
    target = tmp_path / "out.keras"
    target.write_bytes(b"old")

    def interrupted_save(path: str) -> None:
        with open(path, "wb") as f:
            f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(model, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        save_atomically(model, str(target))
    assert target.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["out.keras", "spec.yaml"]


def test_output_must_be_a_keras_file(tmp_path) -> None:
    result = run("build", LENET, "-o", str(tmp_path / "model.h5"))
    assert result.exit_code == 2 and ".keras" in result.output


def test_weights_round_trip_both_formats(tmp_path) -> None:
    import numpy as np

    from archcompiler.backends.keras import build_model

    graph = build(tmp_path, SMALL)
    donor = build_model(graph)
    for w in donor.weights:
        w.assign(np.random.default_rng(1).normal(size=w.shape).astype("float32"))
    donor.save_weights(str(tmp_path / "w.weights.h5"))
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(tmp_path / "legacy.h5", "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, donor)
    x = np.random.default_rng(2).uniform(size=(1, 16, 16, 3)).astype("float32")
    expected = donor.predict(x, verbose=0)
    spec = write(tmp_path, SMALL, "again.yaml")
    for name in ("w.weights.h5", "legacy.h5"):
        from archcompiler.backends.keras import load_weights
        from archcompiler.compiler import compile_file

        model = build_model(compile_file(spec))
        load_weights(model, str(tmp_path / name))
        np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-6)
        assert run("build", str(spec), "--weights", str(tmp_path / name), "-q").exit_code == 0


def test_missing_weights_file_is_a_located_error(tmp_path) -> None:
    result = run("build", LENET, "--weights", str(tmp_path / "nope.h5"), "-q")
    assert result.exit_code == 1
    assert f"{tmp_path / 'nope.h5'}: error: weights file not found" in result.stderr


# Keras warns for each container of the wrong file it cannot match before it refuses the file.
@pytest.mark.filterwarnings("ignore:Skipping nested container:UserWarning")
def test_weights_that_do_not_fit_are_a_located_error(tmp_path) -> None:
    from archcompiler.backends.keras import build_model

    build_model(build(tmp_path, SMALL)).save_weights(str(tmp_path / "small.weights.h5"))
    result = run("build", LENET, "--weights", str(tmp_path / "small.weights.h5"), "-q")
    assert result.exit_code == 1
    assert "cannot load these weights" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_weights_of_the_keras_applications_twin_load_by_name(tmp_path) -> None:
    """keras.applications ships legacy .h5 files (one group per layer name); one written from
    the twin loads into our ResNet-50 and gives the twin's predictions."""
    import h5py
    import numpy as np
    from keras.src.legacy.saving import legacy_h5_format

    from archcompiler.backends.keras import build_model, load_weights
    from archcompiler.compiler import compile_file
    from tests.parity import keras_twin

    twin = keras_twin("ResNet50")
    rng = np.random.default_rng(3)
    for w in twin.weights:  # not the initial values: every weight must really arrive
        fresh = (
            rng.uniform(0.5, 1.5, w.shape) if "variance" in w.path else rng.normal(0, 0.05, w.shape)
        )
        w.assign(fresh.astype("float32"))
    path = tmp_path / "resnet50_weights_tf_dim_ordering_tf_kernels.h5"
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, twin)
    ours = build_model(compile_file(ROOT / "specs" / "resnet50.yaml"))
    load_weights(ours, str(path))
    x = np.random.default_rng(4).uniform(-1, 1, (2, 224, 224, 3)).astype("float32")
    diff = np.abs(ours.predict(x, verbose=0) - twin.predict(x, verbose=0)).max()
    assert diff < 1e-5, diff
    result = run("build", str(ROOT / "specs" / "resnet50.yaml"), "--weights", str(path), "-q")
    assert result.exit_code == 0 and "Loaded weights" in result.stdout


MODERN = """
archspec: 1
name: modern
naming: keras
input: {shape: [16, 16, 3]}
backbone:
  - normalization: {mean: [0.5, 0.5, 0.5], variance: [0.25, 0.25, 0.25]}
  - conv: {filters: 8, kernel: 3, padding: same,
           kernel_initializer: {class_name: VarianceScaling, config: {scale: 2.0, mode: fan_out,
                                                                  distribution: truncated_normal}}}
  - layer_norm: {epsilon: 1.0e-6}
  - activation: {activation: gelu}
  - se: {ratio: 0.25, gate: hard_sigmoid}
  - inverted_residual: {filters: 8, strides: 2, name: block_1}
  - dropout: {rate: 0.2, noise_shape: [null, 1, 1, 1]}
  - global_avg_pool
  - dense: {units: 4, activation: softmax, kernel_initializer: he_normal}
"""


def test_a_model_of_the_modern_ops_loads_without_archcompiler(tmp_path) -> None:
    """The new ops and arguments (normalization, layer_norm, initializer mappings, noise_shape,
    se, inverted_residual) still make core Keras layers only: plain Keras loads the file."""
    out = tmp_path / "modern.keras"
    result = run("build", str(write(tmp_path, MODERN)), "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    shown = load_in_plain_keras(
        out, "m.count_params(), m.layers[1].name, m.get_layer('dropout').noise_shape"
    )
    graph = build(tmp_path, MODERN)
    assert shown.split()[:2] == [str(graph.total_params), "normalization"]
    assert "(None, 1, 1, 1)" in shown
