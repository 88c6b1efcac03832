"""`--weights imagenet`: keras.applications' own file for a zoo twin, from Keras's cache.

Offline by construction: Keras's cache is a temporary KERAS_HOME, and the file placed there is
one we make in the official file's layout (the twin's weights saved as a legacy .h5), because
the real one cannot be downloaded here. The file name the twin asks for is Keras's (we read it
off the constructor), so the names below are held against Keras's own naming rules.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.helpers import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture
def keras_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from keras.src.backend import config

    home = tmp_path / "keras_home"
    home.mkdir()
    monkeypatch.setattr(config, "_KERAS_DIR", str(home))
    return home


@pytest.mark.parametrize(
    ("spec", "sets", "no_head", "file_name"),
    [
        ("mobilenet", ["alpha=0.25", "size=128"], False, "mobilenet_2_5_128_tf.h5"),
        ("mobilenet", ["alpha=0.5", "size=160"], True, "mobilenet_5_0_160_tf_no_top.h5"),
        ("mobilenetv2", ["alpha=0.35", "size=96"], True,
         "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"),
        ("resnet50", ["classes=10"], False,  # not ImageNet's classes: the backbone's file
         "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ],
)  # fmt: skip
def test_offline_the_error_names_the_official_file_and_where_it_goes(
    keras_home: Path, spec: str, sets: list[str], no_head: bool, file_name: str
) -> None:
    args = ["build", spec, "-q", "--weights", "imagenet", *(f"--set={s}" for s in sets)]
    code, out, err = run_cli(*args, *(["--no-head"] if no_head else []))
    assert code == 1, (out, err)
    message = err.strip().splitlines()[-1]
    assert message.startswith(f"{Path('specs', spec).resolve()}.yaml: error: --weights imagenet")
    assert "put the file from https://storage.googleapis.com/" in message
    assert message.endswith(f" at {keras_home / 'models' / file_name}")


def test_a_file_in_the_cache_loads_by_name(
    keras_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import keras
    from keras.src.legacy.saving import legacy_h5_format
    from keras.src.utils import file_utils

    from tests.parity import give_fresh_weights

    twin = keras.applications.MobileNet(alpha=0.25, input_shape=(128, 128, 3), weights=None)
    give_fresh_weights(twin)
    models = keras_home / "models"
    models.mkdir()
    import h5py

    with h5py.File(models / "mobilenet_2_5_128_tf.h5", "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, twin)
    # ours is not the official file: let Keras's hash check pass it, as it would the real one
    monkeypatch.setattr(file_utils, "validate_file", lambda *a, **k: True)
    target = tmp_path / "m.keras"
    args = ["build", "mobilenet", "-q", "--set", "alpha=0.25", "--set", "size=128",
            "--weights", "imagenet", "-o", str(target)]  # fmt: skip
    code, out, err = run_cli(*args)
    assert code == 0, (out, err)
    assert f"Loaded weights from {models / 'mobilenet_2_5_128_tf.h5'}" in out
    ours = keras.saving.load_model(target)
    x = np.random.default_rng(0).random((2, 128, 128, 3), dtype=np.float32)
    delta = np.abs(ours.predict(x, verbose=0) - twin.predict(x, verbose=0)).max()
    print(f"imagenet-by-name MobileNet α0.25/128: max |Δ| = {delta:.2e}")
    assert delta <= 1e-5


@pytest.mark.parametrize(
    ("sets", "file_name", "message"),
    [  # MobileNet's files have no published hash: the file fails where it is read
        (["alpha=0.25", "size=128"], "mobilenet_2_5_128_tf.h5", ": error: not an HDF5"),
        ([], "mobilenet_1_0_224_tf.h5", ": error: not an HDF5"),
    ],
)
def test_a_wrong_file_in_the_cache_is_named(
    keras_home: Path, sets: list[str], file_name: str, message: str
) -> None:
    models = keras_home / "models"
    models.mkdir()
    (models / file_name).write_bytes(b"not the weights")
    code, _, err = run_cli("build", "mobilenet", "-q", *(f"--set={s}" for s in sets),
                           "--weights", "imagenet")  # fmt: skip
    assert code == 1
    assert err.startswith(f"{models / file_name}{message}"), err


def test_a_file_with_another_hash_is_not_taken_for_the_official_one(keras_home: Path) -> None:
    models = keras_home / "models"
    models.mkdir()
    name = "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"  # Keras publishes its hash
    (models / name).write_bytes(b"not the weights")
    code, _, err = run_cli("build", "mobilenetv3small", "-q", "--no-head", "--weights", "imagenet")
    assert code == 1
    assert f"{models / name} is not the official {name} (its hash is not " in err


def test_settings_keras_has_no_weights_for_are_refused(keras_home: Path) -> None:
    code, _, err = run_cli("build", "mobilenet", "-q", "--set", "alpha=0.3", "--weights",
                           "imagenet")  # fmt: skip
    assert code == 1
    assert "keras.applications.MobileNet has no imagenet weights for these settings" in err


def test_a_spec_without_a_twin_is_refused_before_tensorflow(keras_home: Path) -> None:
    code, _, err = run_cli("build", "lenet5", "-q", "--weights", "imagenet")
    assert code == 1
    assert "--weights imagenet needs a spec that is a keras.applications twin" in err
