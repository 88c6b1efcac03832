"""Model, weights, image and run files read defensively (archcompiler/model_files.py,
train/rundir.py): a zip bomb, a truncated or garbage `.keras`, missing members, a weights file
that is not HDF5, a run.json with fields of the wrong type — each a `path: error: …` at once,
found before TensorFlow is imported (checked with TensorFlow made unimportable)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from archcompiler.errors import SpecError
from archcompiler.model_files import MAX_JSON_BYTES, check_keras_archive
from archcompiler.train import rundir
from tests.conftest import ROOT

LENET = str(ROOT / "specs" / "lenet5.yaml")
# the CLI in a fresh interpreter where `import tensorflow` (and keras) fails
NO_TF = ("import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None; "
         "from archcompiler.cli import main; main(sys.argv[1:], prog_name='archc')")  # fmt: skip


def archc_without_tensorflow(*args: str) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, "-c", NO_TF, *args], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    return proc.returncode, proc.stderr


def keras_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


MODEL = {"config.json": b"{}", "metadata.json": b"{}", "model.weights.h5": b"\x89HDF\r\n\x1a\n"}


def broken_models(tmp: Path) -> dict[str, tuple[Path, str]]:
    """name → (a broken .keras file, what the error says)."""
    whole = keras_zip(tmp / "whole.keras", MODEL).read_bytes()
    (tmp / "truncated.keras").write_bytes(whole[: len(whole) // 2])
    (tmp / "garbage.keras").write_bytes(b"this is not a zip archive\n" * 40)
    (tmp / "empty.keras").write_bytes(b"")
    bomb = {**MODEL, "config.json": b" " * (MAX_JSON_BYTES + 1)}  # 64 KB zipped
    many = {**MODEL, **{f"a/{i}": b"" for i in range(10_001)}}
    return {
        "zip bomb": (keras_zip(tmp / "bomb.keras", bomb),
                     "its config.json would inflate to 67,108,865 bytes (at most 67,108,864)"),
        "truncated": (tmp / "truncated.keras", "not a zip archive, or a truncated one"),
        "garbage": (tmp / "garbage.keras", "not a zip archive, or a truncated one"),
        "empty": (tmp / "empty.keras", "not a zip archive, or a truncated one"),
        "no config": (keras_zip(tmp / "noconfig.keras", {"model.weights.h5": b""}),
                      "it has no config.json"),
        "too many members": (keras_zip(tmp / "many.keras", many), "10,004 members"),
    }  # fmt: skip


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    return broken_models(tmp_path_factory.mktemp("models"))


@pytest.mark.parametrize("case", ["zip bomb", "truncated", "garbage", "empty", "no config",
                                  "too many members"])  # fmt: skip
def test_a_broken_keras_file_is_a_located_error_at_once(broken, case) -> None:
    path, said = broken[case]
    with pytest.raises(SpecError) as info:
        check_keras_archive(str(path))
    assert str(info.value) == f"{path}: error: not a .keras file: {said}"


def test_predict_and_evaluate_refuse_them_before_importing_tensorflow(broken, tmp_path) -> None:
    path, said = broken["zip bomb"]
    code, err = archc_without_tensorflow("predict", str(path), str(tmp_path / "x.png"))
    assert code == 1 and err.startswith(f"{path}: error: not a .keras file: {said}"), err
    code, err = archc_without_tensorflow("evaluate", str(path), "--data", str(tmp_path))
    assert code == 1 and err.startswith(f"{path}: error: not a .keras file"), err
    whole = keras_zip(tmp_path / "m.keras", MODEL)
    code, err = archc_without_tensorflow("predict", str(whole), str(tmp_path / "missing.png"))
    assert code == 1 and err.startswith(f"{tmp_path / 'missing.png'}: error: image not found")


@pytest.mark.parametrize(("content", "said"), [
    (None, "weights file not found"),
    (b"garbage, not HDF5", "not an HDF5 weights file (no HDF5 signature)"),
    (b"", "not an HDF5 weights file (no HDF5 signature)"),
])  # fmt: skip
def test_a_wrong_weights_file_is_refused_before_importing_tensorflow(tmp_path, content, said):
    weights = tmp_path / "w.h5"
    if content is not None:
        weights.write_bytes(content)
    code, err = archc_without_tensorflow("build", LENET, "--weights", str(weights), "-q")
    assert code == 1 and err.startswith(f"{weights}: error: {said}"), err


@pytest.mark.parametrize(("record", "said"), [
    ({"data": {"class_names": 5}}, "data.class_names: input should be a valid list"),
    ({"data": {"class_names": ["a", 2]}}, "data.class_names.1: input should be a valid string"),
    ({"spec": {"set": {"size": 32}}}, "spec.set.size: input should be a valid string"),
    ({"resumed": "yesterday"}, "resumed: input should be a valid list"),
    ([1, 2], "not a run file: the file is not a JSON object"),
    ("run", "not a run file: the file is not a JSON object"),
])  # fmt: skip
def test_a_run_file_with_the_wrong_types_is_a_located_error(tmp_path, record, said) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(record))
    with pytest.raises(SpecError) as info:
        rundir.read_run(str(path))
    assert str(info.value) == f"{path}: error: {said}"


def test_a_run_file_that_is_not_json_or_too_large(tmp_path) -> None:
    path = tmp_path / "run.json"
    path.write_text("{not json")
    with pytest.raises(SpecError, match="cannot read this run file"):
        rundir.read_run(str(path))
    path.write_text(json.dumps({"x": "a" * rundir.MAX_RUN_FILE_BYTES}))
    with pytest.raises(SpecError, match="run file over 16,777,216 bytes"):
        rundir.read_run(str(path))


def test_a_good_run_file_reads_as_written(tmp_path) -> None:
    record = {"spec": {"path": "a.yaml", "sha256": "ab", "set": {"size": "32"}},
              "data": {"class_names": ["cat", "dog"], "preprocess": "unit"},
              "training": {"epochs": 3}, "command": ["archc", "train"]}  # fmt: skip
    path = tmp_path / "run.json"
    path.write_text(json.dumps(record))
    assert rundir.read_run(str(path)) == record
    history = tmp_path / "history.json"
    history.write_text(json.dumps([{"epoch": 1, "loss": 0.5, "val_accuracy": None}]))
    assert rundir.read_history(str(history))[0]["loss"] == 0.5
    history.write_text(json.dumps([{"loss": [0.5]}]))
    with pytest.raises(SpecError, match=r"0\.loss: input should be a valid number"):
        rundir.read_history(str(history))
