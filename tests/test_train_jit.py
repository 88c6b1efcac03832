"""`archc train --jit`: Keras's `jit_compile` (XLA) for the training step.

What is checked is what Keras itself reads when it makes the training function
(`Model.jit_compile`, at `fit`), recorded by wrapping `keras.Model.fit`; a resumed run follows
the --jit of the command that resumes it, not the one saved with the model; run.json records
the choice; --jit with --mixed-precision trains (CPU here). Speed is the benchmark's business
(benchmarks/bench_train.py), not a test's.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.helpers import run_cli

LENET = str(ROOT / "specs" / "lenet5.yaml")


def record(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def history(run_dir: Path) -> list[dict]:
    return json.loads((run_dir / "history.json").read_text())


@pytest.fixture
def jit_seen(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """`jit_compile` of every model `fit` is called on, as Keras sees it then."""
    import keras

    seen: list[bool] = []
    fit = keras.Model.fit

    def recording_fit(self: keras.Model, *args: object, **kwargs: object) -> object:
        seen.append(self.jit_compile)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", recording_fit)
    return seen


def test_the_option_is_offered_and_off_by_default() -> None:
    from archcompiler.train.options import TrainOptions

    code, out, _ = run_cli("train", "--help")
    assert code == 0 and "--jit" in out and "XLA" in out
    assert TrainOptions().jit is None  # Keras's "auto"


@pytest.mark.slow
def test_jit_trains_is_recorded_and_a_resume_follows_its_own_flag(
    digits_dir: Path, tmp_path: Path, jit_seen: list[bool]
) -> None:
    run_dir = tmp_path / "jit"
    code, out, err = run_cli(
        "train", LENET, "--data", digits_dir, "-o", run_dir, "--epochs", 1, "--jit", "-q"
    )
    assert code == 0, err
    assert "Best epoch 1" in out
    assert jit_seen == [True]
    assert record(run_dir)["training"]["jit"] is True
    assert math.isfinite(history(run_dir)[0]["loss"])

    # the saved compile config says jit_compile=True; resuming without --jit turns it off
    code, _, err = run_cli("train", LENET, "--data", digits_dir, "--resume", run_dir,
                           "--epochs", 2, "-q")  # fmt: skip
    assert code == 0, err
    assert jit_seen == [True, False]
    assert record(run_dir)["training"]["jit"] is False

    code, _, err = run_cli("train", LENET, "--data", digits_dir, "--resume", run_dir,
                           "--epochs", 3, "--jit", "-q")  # fmt: skip
    assert code == 0, err
    assert jit_seen == [True, False, True]
    assert record(run_dir)["training"]["jit"] is True
    assert [e["epoch"] for e in history(run_dir)] == [1, 2, 3]


@pytest.mark.slow
def test_without_jit_keras_does_not_compile_with_xla(
    digits_dir: Path, tmp_path: Path, jit_seen: list[bool]
) -> None:
    """Off means off, also where Keras's own default ("auto") would turn XLA on (GPUs)."""
    run_dir = tmp_path / "plain"
    code, _, err = run_cli("train", LENET, "--data", digits_dir, "-o", run_dir,
                           "--epochs", 1, "-q")  # fmt: skip
    assert code == 0, err
    assert jit_seen == [False]
    assert record(run_dir)["training"]["jit"] is False


@pytest.mark.slow
def test_jit_with_mixed_precision_trains(
    digits_dir: Path, tmp_path: Path, jit_seen: list[bool]
) -> None:
    import keras

    run_dir = tmp_path / "jit-mixed"
    code, _, err = run_cli("train", LENET, "--data", digits_dir, "-o", run_dir, "--epochs", 1,
                           "--jit", "--mixed-precision", "-q")  # fmt: skip
    assert code == 0, err
    assert jit_seen == [True]
    training = record(run_dir)["training"]
    assert training["jit"] is True and training["mixed_precision"] is True
    assert math.isfinite(history(run_dir)[0]["loss"])
    model = keras.saving.load_model(run_dir / "model.keras")
    assert any(layer.dtype_policy.name == "mixed_float16" for layer in model.layers)
