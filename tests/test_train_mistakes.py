"""`archc train` mistakes: every one is located at the path, exit 1, no traceback, no run
directory, and found before TensorFlow is imported (one subprocess proves it for all of them).

No TensorFlow here: the loss read from the head (and the heads that are refused), `classes`
against the folders, data-folder mistakes (missing, a file, empty, loose images, no images, an
empty class folder, a lone image, unreadable, one class, train/val that disagree), and the run
directory (exists without --force, --resume without a run). Training itself, on real digits, is
in test_training.py.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from archcompiler.compiler import Limits, compile_file
from archcompiler.errors import Location, SpecError
from archcompiler.train.data import plan_data
from archcompiler.train.head import Classifier
from archcompiler.train.prepare import compile_for_data
from tests.conftest import ROOT
from tests.helpers import located_error, run_cli, write

LENET = str(ROOT / "specs" / "lenet5.yaml")


def placeholder_folder(root: Path, counts: dict[str, int]) -> Path:
    """Class folders of empty `.png` files: enough for every check made before TensorFlow,
    which counts images by name and never decodes them."""
    for name, n in counts.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            (root / name / f"{i}.png").write_bytes(b"")
    return root


def spec_with_head(tmp_path: Path, head: str, name: str = "head.yaml") -> Path:
    """A small 32×32 grayscale classifier ending in `head` (a flow mapping), on line 7."""
    return write(tmp_path, f"""
        archspec: 1
        name: small
        input: {{shape: [32, 32, 1]}}
        backbone:
          - conv: {{filters: 4, kernel: 3, strides: 2, activation: relu}}
          - flatten: {{}}
        head: [{head}]
    """, name)  # fmt: skip


BINARY_HEAD = "{dense: {units: 1, activation: sigmoid, name: out}}"
SOFTMAX_HEAD = "{dense: {units: 2, activation: softmax, name: out}}"


@pytest.mark.parametrize(
    ("head", "loss", "from_logits", "classes"),
    [
        (BINARY_HEAD, "binary_crossentropy", False, 2),
        (SOFTMAX_HEAD, "sparse_categorical_crossentropy", False, 2),
        ("{dense: {units: 2, name: out}}", "sparse_categorical_crossentropy", True, 2),
        ("{dense: {units: 1, name: out}}", "binary_crossentropy", True, 2),
        ("{dense: {units: 5}}, {softmax: {name: out}}", "sparse_categorical_crossentropy",
         False, 5),
    ],
)  # fmt: skip
def test_the_loss_comes_from_the_head(tmp_path: Path, head: str, loss: str, from_logits: bool,
                                      classes: int) -> None:  # fmt: skip
    c = Classifier.of_graph(compile_file(spec_with_head(tmp_path, head)))
    assert (c.output, c.loss, c.from_logits, c.classes) == ("out", loss, from_logits, classes)
    assert c.label_mode == ("binary" if loss == "binary_crossentropy" else "int")
    c.check_classes(tuple("abcde"[:classes]), Location("data"))  # fits that many folders


def test_one_sigmoid_unit_is_the_two_class_form(tmp_path: Path) -> None:
    spec = spec_with_head(tmp_path, BINARY_HEAD)
    _, c = compile_for_data(str(spec), {}, ("cat", "dog"), "data", Limits())
    assert c.binary and c.loss == "binary_crossentropy"
    with pytest.raises(SpecError, match=r"3 class folders .* one sigmoid unit"):
        compile_for_data(str(spec), {}, ("a", "b", "c"), "data", Limits())


@pytest.mark.parametrize(
    ("head", "message"),
    [
        ("{dense: {units: 2}}, {relu: {name: out}}", "the output 'out' ends in 'relu'"),
        ("{dense: {units: 2, activation: relu, name: out}}", "ends in 'relu'"),
        ("{dense: {units: 3, activation: sigmoid, name: out}}", "is 3 sigmoid units"),
    ],
)
def test_a_head_that_is_not_a_classifier_is_a_located_error(
    tmp_path: Path, head: str, message: str
) -> None:
    spec = spec_with_head(tmp_path, head)
    with pytest.raises(SpecError, match=message) as info:
        Classifier.of_graph(compile_file(spec))
    location = info.value.diagnostics[0].location
    assert (location.path, location.line) == (str(spec), 7)  # the head's line
    # and through the CLI: before any data is read into TensorFlow, nothing written
    data = placeholder_folder(tmp_path / "d", {"a": 3, "b": 3})
    code, out, err = run_cli("train", spec, "--data", data, "-o", tmp_path / "run")
    assert code == 1 and err.startswith(f"{spec}:7:") and message in err, err
    assert "Traceback" not in err and out == ""
    assert not (tmp_path / "run").exists()


def test_a_softmax_of_one_unit_is_refused(tmp_path: Path) -> None:
    """softmax over one unit always outputs 1.0: binary cross-entropy on it cannot learn."""
    spec = spec_with_head(tmp_path, "{dense: {units: 1, activation: softmax, name: out}}")
    with pytest.raises(SpecError, match="softmax over one unit") as info:
        Classifier.of_graph(compile_file(spec))
    assert info.value.diagnostics[0].location.line == 7


def test_classes_are_set_from_the_folders() -> None:
    """A spec with a `classes` param used by its output gets the folders' count."""
    graph, c = compile_for_data(LENET, {}, ("a", "b", "c"), "d", Limits())
    assert graph.params["classes"] == 3 and c.units == 3 and c.loss.startswith("sparse")


def test_set_classes_that_disagrees_with_the_folder_is_an_error_at_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = placeholder_folder(tmp_path / "d", {"a": 3, "b": 3, "c": 3})
    code, out, err = run_cli("train", LENET, "--data", data, "--set", "classes=5")
    located_error(code, out, err, data, "3 class folders (a, b, c)")
    assert "has 5 units" in err
    fixed = write(tmp_path, """
        archspec: 1
        name: fixed
        input: {shape: [32, 32, 1]}
        backbone: [{flatten: {}}]
        head: [{dense: {units: 10, activation: softmax, name: out}}]
    """, "fixed.yaml")  # fmt: skip
    code, out, err = run_cli("train", fixed, "--data", data)
    located_error(code, out, err, data, "3 class folders (a, b, c) but the output 'out' has 10")
    assert not (tmp_path / "runs").exists()


def _data_cases(tmp_path: Path) -> list[tuple[list[object], Path, str]]:
    """(extra train arguments, the path the error names, what it says), one per mistake."""
    cases: list[tuple[list[object], Path, str]] = []
    missing = tmp_path / "missing"
    cases.append(([missing], missing, "no such data folder"))
    a_file = tmp_path / "file.png"
    a_file.write_bytes(b"")
    cases.append(([a_file], a_file, "not a folder"))
    empty = tmp_path / "empty"
    empty.mkdir()
    cases.append(([empty], empty, "no class folders"))
    loose = tmp_path / "loose"
    loose.mkdir()
    for name in ("a.png", "b.jpg"):
        (loose / name).write_bytes(b"")
    cases.append(([loose], loose, "no class folders"))
    no_images = tmp_path / "no_images"
    (no_images / "a").mkdir(parents=True)
    (no_images / "a" / "notes.txt").write_text("x")
    cases.append(([no_images], no_images, "no images in any class folder"))
    hollow = placeholder_folder(tmp_path / "hollow", {"a": 3, "b": 3})
    (hollow / "c").mkdir()
    cases.append(([hollow], hollow / "c", "class folder 'c' has no images"))
    lone = placeholder_folder(tmp_path / "lone", {"a": 3, "b": 1})
    cases.append(([lone], lone / "b", "class 'b' has one image: too few to split off"))
    train = placeholder_folder(tmp_path / "t", {"a": 3, "b": 3, "c": 3})
    val = placeholder_folder(tmp_path / "v", {"a": 1, "b": 1, "d": 1})
    cases.append(([train, "--val", val], val, "class folders differ from the training folder"))
    layout = placeholder_folder(tmp_path / "layout" / "train", {"a": 3, "b": 3}).parent
    placeholder_folder(layout / "val", {"a": 1, "z": 1})
    # train/ + val/ is found without --val: the mismatch is reported at layout/val
    cases.append(([layout], layout / "val", "missing b; unknown z"))
    cases.append(([layout, "--val-split", "0.1"], layout, "already has train/ and val/"))
    return cases


def test_data_mistakes_are_located_and_leave_no_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default run directory would be ./runs/lenet5-1
    for args, path, message in _data_cases(tmp_path):
        code, out, err = run_cli("train", LENET, "--data", *args, "-o", tmp_path / "run")
        located_error(code, out, err, path, message)
        code, out, err = run_cli("train", LENET, "--data", *args)  # and with the default run dir
        located_error(code, out, err, path, message)
    assert not (tmp_path / "run").exists() and not (tmp_path / "runs").exists()


def test_no_class_folders_says_what_it_found(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    for name in ("a.png", "b.JPG", "c.txt"):
        (loose / name).write_bytes(b"")
    code, out, err = run_cli("train", LENET, "--data", loose)
    located_error(code, out, err, loose, "no class folders")
    assert "note: it holds 2 images directly; put them in one folder per class" in err, err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run_cli("train", LENET, "--data", empty)
    located_error(code, out, err, empty, "no class folders")
    assert "note: expected one folder per class" in err, err


def test_a_train_and_val_layout_is_detected(tmp_path: Path) -> None:
    for val_name in ("val", "validation", "test"):
        root = tmp_path / val_name
        placeholder_folder(root / "train", {"a": 3, "b": 3})
        placeholder_folder(root / val_name, {"a": 1, "b": 1})
        plan = plan_data(str(root), None, None)
        assert plan.train.path == str(root / "train")
        assert plan.val is not None and plan.val.path == str(root / val_name)
        assert plan.val_split == 0.0 and plan.class_names == ("a", "b")
    # without either, the folder's own subfolders are the classes (split 20 %)
    plain = placeholder_folder(tmp_path / "plain", {"train": 3, "other": 3})
    plan = plan_data(str(plain), None, None)
    assert plan.val is None and plan.val_split == 0.2 and plan.class_names == ("other", "train")


def test_val_split_and_val_together_are_a_usage_error(tmp_path: Path) -> None:
    data = placeholder_folder(tmp_path / "d", {"a": 3, "b": 3})
    code, _, err = run_cli("train", LENET, "--data", data, "--val", data, "--val-split", "0.1",
                         "-o", tmp_path / "run")  # fmt: skip
    assert code == 2 and "give --val-split or --val, not both" in err, err
    assert "Traceback" not in err and not (tmp_path / "run").exists()


def _chmod_000(path: Path) -> None:
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads anything: the test says nothing there
        path.chmod(stat.S_IRWXU)
        pytest.skip("running as a user who can read a mode-000 folder (root)")


@pytest.mark.parametrize("which", ["root", "class"])
def test_an_unreadable_folder_is_a_located_error(tmp_path: Path, which: str) -> None:
    data = placeholder_folder(tmp_path / "d", {"a": 3, "b": 3})
    locked = data if which == "root" else data / "b"
    _chmod_000(locked)
    try:
        code, out, err = run_cli("train", LENET, "--data", data, "-o", tmp_path / "run")
    finally:
        locked.chmod(stat.S_IRWXU)
    located_error(code, out, err, locked, "cannot read this folder: Permission denied")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("which", ["root", "class"])
def test_an_unreadable_folder_even_as_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    """The same, with the operating system's refusal simulated (root reads mode-000 folders)."""
    data = placeholder_folder(tmp_path / "d", {"a": 3, "b": 3})
    locked = str(data if which == "root" else data / "b")
    scandir = os.scandir

    def refusing(path: object = ".") -> object:
        if os.fspath(path) == locked:  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", locked)
        return scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", refusing)
    code, out, err = run_cli("train", LENET, "--data", data, "-o", tmp_path / "run")
    located_error(code, out, err, locked, "cannot read this folder: Permission denied")
    assert not (tmp_path / "run").exists()


def test_data_mistakes_never_import_tensorflow(tmp_path: Path) -> None:
    """Every mistake of `_data_cases`, plus run-directory and classes mistakes, in one fresh
    interpreter: each exits 1, and TensorFlow, Keras and matplotlib were never imported."""
    argvs = [["--data", *map(str, args)] for args, _, _ in _data_cases(tmp_path)]
    good = placeholder_folder(tmp_path / "good", {"a": 3, "b": 3})
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    argvs += [
        ["--data", str(good), "-o", str(taken)],
        ["--data", str(good), "--set", "classes=5"],
        ["--data", str(good), "--resume", str(taken)],
    ]
    probe = (
        "import sys\n"
        "from archcompiler.cli import main\n"
        f"for argv in {argvs!r}:\n"
        "    try:\n"
        f"        main.main(['train', {LENET!r}, *argv], prog_name='archc')\n"
        "    except SystemExit as e:\n"
        "        print('EXIT', e.code)\n"
        "print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'keras', 'matplotlib', 'jax', 'torch')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.count("EXIT 1") == len(argvs), out.stdout + out.stderr
    assert "HEAVY []" in out.stdout, out.stdout
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "runs").exists()


def test_an_existing_run_directory_is_refused_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = placeholder_folder(tmp_path / "d", {"a": 3, "b": 3})
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    code, out, err = run_cli("train", LENET, "--data", data, "-o", taken)
    located_error(code, out, err, taken, "the run directory already exists")
    assert "--force" in err and "--resume" in err
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]
    a_file = tmp_path / "file"
    a_file.write_text("x")
    code, _, err = run_cli("train", LENET, "--data", data, "-o", a_file)  # click refuses it
    assert code == 2 and "is a file" in err and "Traceback" not in err, err


def test_resume_mistakes(tmp_path: Path) -> None:
    data = placeholder_folder(tmp_path / "d", {"a": 3, "b": 3})
    no_run = tmp_path / "no_run"
    no_run.mkdir()
    code, out, err = run_cli("train", LENET, "--data", data, "--resume", no_run)
    located_error(code, out, err, no_run, "cannot resume: no run.json here")
    for extra in (["-o", tmp_path / "other"], ["--force"]):
        code, _, err = run_cli("train", LENET, "--data", data, "--resume", no_run, *extra)
        assert code == 2 and "--resume continues its own directory" in err, err
    assert not (tmp_path / "other").exists()


def test_a_single_class_folder_says_two_classes_are_needed(tmp_path: Path) -> None:
    data = placeholder_folder(tmp_path / "d", {"only": 3})
    code, out, err = run_cli("train", LENET, "--data", data, "-o", tmp_path / "run")
    located_error(code, out, err, data, "1 class folder ('only'): a classifier needs at least two")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("framework", ["jax", "torch"])
@pytest.mark.parametrize("strategy", ["mirrored", "multi-worker"])
def test_a_strategy_under_jax_or_pytorch_is_refused_before_anything_loads(
    tmp_path, framework: str, strategy: str
) -> None:
    """tf.distribute distributes TensorFlow variables: under another Keras backend a strategy
    would claim devices it does not train on (it ran on one, saying it used all of them)."""
    data = placeholder_folder(tmp_path / "data", {"a": 4, "b": 4})
    cluster = ["--workers", "127.0.0.1:1,127.0.0.1:2", "--task", "0"]
    argv = ["train", LENET, "--data", str(data), "-o", str(tmp_path / "run"),
            "--strategy", strategy, *(cluster if strategy == "multi-worker" else [])]  # fmt: skip
    env = {**os.environ, "KERAS_BACKEND": framework}
    out = subprocess.run([sys.executable, "-m", "archcompiler.cli", *argv], capture_output=True,
                         text=True, env=env, cwd=tmp_path, timeout=120, check=False)  # fmt: skip
    located_error(out.returncode, out.stdout, out.stderr, "--strategy",
                  f"--strategy {strategy} distributes with TensorFlow's tf.distribute, but "
                  f"Keras runs on {framework} here")  # fmt: skip
    assert not (tmp_path / "run").exists()
