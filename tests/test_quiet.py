"""A quiet terminal (archcompiler/backends/quiet.py): `archc build`, `train`, `evaluate` and
`predict` write nothing to stderr on a clean run — none of TensorFlow's start-up lines
(oneDNN, CUDA drivers, cuInit, CPU features) — while `archc -v` lets them through; and with
TensorFlow unimportable, every mistake about a file is still its `path: error: …`.

Each run is a fresh `python -m archcompiler.cli` (the lines come from C++ at TensorFlow's first
import, so only a new process shows them), with TF_CPP_MIN_LOG_LEVEL unset, as a user has it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.digits import write_digits

LENET = str(ROOT / "specs" / "lenet5.yaml")


def archc(cwd: Path, *args: str, pythonpath: Path | None = None) -> tuple[int, str, str]:
    """`archc ARGS…` in a fresh interpreter: (exit code, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "ARCHC_VERBOSE", "ARCHC_DEBUG")}  # fmt: skip
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (pythonpath, ROOT) if p)
    proc = subprocess.run([sys.executable, "-m", "archcompiler.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    return proc.returncode, proc.stdout, proc.stderr


# ---- clean runs: stderr exactly empty --------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, str]]:
    """train (1 epoch, 3 digit classes), evaluate, predict and build, each in its own process."""
    tmp = tmp_path_factory.mktemp("quiet")
    write_digits(tmp / "digits", classes=range(3))
    out = {"train": archc(tmp, "train", LENET, "--data", "digits", "-o", "run", "--epochs", "1",
                          "-q")}  # fmt: skip
    out["evaluate"] = archc(tmp, "evaluate", "run/model.keras", "--data", "digits")
    out["predict"] = archc(tmp, "predict", "run/model.keras", "digits/0/0000.png")
    out["build"] = archc(tmp, "build", LENET, "-o", "x.keras")
    out["build -v"] = archc(tmp, "-v", "build", LENET, "-q")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "build"])
def test_a_clean_run_writes_nothing_to_stderr(runs, command: str) -> None:
    code, out, err = runs[command]
    assert code == 0, err
    assert out  # it did report, on stdout
    assert err == ""


@pytest.mark.slow
def test_verbose_lets_the_framework_lines_through(runs) -> None:
    """TensorFlow's own lines, in its own (absl's) format: `I0000 00:00:… port.cc:…] …`."""
    code, _, err = runs["build -v"]
    assert code == 0, err
    lines = err.splitlines()
    assert any(line[:1] in "IWE" and "] " in line and ".cc:" in line for line in lines), err


# ---- silenced, yet not hidden ----------------------------------------------------------------


def python(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=60)  # fmt: skip


HOLD = "import os\nfrom archcompiler.backends.quiet import _stderr_held\n"


def test_what_is_held_is_dropped_on_success_and_shown_on_failure() -> None:
    done = python(HOLD + "with _stderr_held():\n    os.write(2, b'noise\\n')\nprint('after')")
    assert (done.returncode, done.stdout, done.stderr) == (0, "after\n", "")
    done = python(HOLD + "with _stderr_held():\n    os.write(2, b'why\\n')\n    raise OSError(7)")
    assert done.returncode == 1
    assert done.stderr.startswith("why\n") and "OSError: 7" in done.stderr, done.stderr
    done = python(HOLD + "import sys\nwith _stderr_held():\n    print('py', file=sys.stderr)\n"
                  "os.write(2, b'restored\\n')")  # fmt: skip
    assert done.stderr == "restored\n"


def test_a_crash_inside_still_reaches_the_terminal() -> None:
    done = python(HOLD + "import ctypes\nwith _stderr_held():\n    ctypes.string_at(0)")
    assert done.returncode != 0
    assert "Fatal Python error: Segmentation fault" in done.stderr, done.stderr


# ---- TensorFlow unimportable: located errors all the same ------------------------------------


@pytest.fixture(scope="module")
def no_tf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a folder whose tensorflow and keras raise ImportError, a working folder)."""
    blocked = tmp_path_factory.mktemp("blocked")
    for name in ("tensorflow", "keras"):
        (blocked / name).mkdir()
        (blocked / name / "__init__.py").write_text('raise ImportError("blocked")\n')
    work = tmp_path_factory.mktemp("work")
    with zipfile.ZipFile(work / "m.keras", "w") as z:
        z.writestr("config.json", "{}")
        z.writestr("metadata.json", "{}")
    (work / "garbage.keras").write_bytes(b"not a zip archive\n" * 10)
    write_digits(work / "digits", classes=range(2))
    return blocked, work


@pytest.mark.parametrize(("args", "path", "said"), [
    (("build", LENET, "-q", "--weights", "missing.h5"), "missing.h5", "weights file not found"),
    (("predict", "missing.keras", "x.png"), "missing.keras", "model file not found"),
    (("predict", "garbage.keras", "x.png"), "garbage.keras",
     "not a .keras file: not a zip archive"),
    (("predict", "m.keras", "missing.png"), "missing.png", "image not found"),
    (("evaluate", "m.keras", "--data", "missing"), "missing", "no such data folder"),
    (("evaluate", "missing.keras", "--data", "digits"), "missing.keras", "model file not found"),
    (("summary", "m.keras"), "m.keras", "this is a Keras model file (a zip archive), not a spec"),
    (("check", "digits/0/0000.png"), "digits/0/0000.png", "this is a PNG image, not a spec"),
    (("train", LENET, "--data", "missing"), "missing", "no such data folder"),
])  # fmt: skip
def test_mistakes_are_located_without_tensorflow(no_tf, args, path, said) -> None:
    blocked, work = no_tf
    code, out, err = archc(work, *args, pythonpath=blocked)
    assert code == 1, (code, err)
    assert err.startswith(f"{path}: error: {said}"), err  # the path alone: no made-up line:col
    assert out == "" and "Traceback" not in err and "blocked" not in err


def test_a_keras_file_given_as_a_spec_says_what_to_do(no_tf) -> None:
    blocked, work = no_tf
    _, _, err = archc(work, "summary", "m.keras", pythonpath=blocked)
    assert "note: to inspect it: keras.saving.load_model(FILE).summary()" in err, err


def test_a_missing_framework_is_said_plainly(no_tf) -> None:
    """Not `internal error … a bug in archcompiler`: the installation lacks TensorFlow."""
    blocked, work = no_tf
    code, out, err = archc(work, "build", LENET, "-q", pythonpath=blocked)
    assert code == 1 and out == ""
    assert err.startswith("archc: error: cannot import tensorflow (blocked)"), err
    assert "pip install tensorflow" in err and "internal error" not in err
