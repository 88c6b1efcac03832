"""Output safety: `archc build -o out.keras` never leaves a partial or corrupt file at the target.

The real CLI runs in a subprocess on a mid-size network (VGG16 at 64×64, 40 M params, a 150 MB
file, so the save takes a while); the test waits for the temporary `.archc-*.keras` file beside
the target and kills the process at several moments of the save. Whatever the moment, the target
is either the old file, byte for byte, or (when there was none) absent or a complete model. With
SIGTERM or SIGINT the process also removes its temporary file. Each build imports TensorFlow, so
most cases are marked slow (`pytest --slow`); one SIGKILL and one SIGTERM case run by default.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "specs" / "vgg16.yaml"
SWALLOW = (
    "bug: Keras's saving_lib._save_model_to_fileobj has a bare `except:` around creating its "
    "weights temp file, which swallows the KeyboardInterrupt that "
    "build.terminate_as_interrupt raises (and a real Ctrl-C): the save goes on, the target is "
    "replaced and archc exits 0"
)
BUILD = [
    sys.executable, "-m", "archcompiler.cli", "build", str(SPEC),
    "--set", "size=64", "--set", "classes=2", "-o",
]  # fmt: skip
OLD = b"an earlier model that must survive\n" * 1000
STARTUP = 240.0  # seconds for TensorFlow's import and the build, before the save starts


def temp_files(directory: Path) -> list[Path]:
    return sorted(directory.glob(".archc-*.keras"))


def build_and_interrupt(directory: Path, sig: int, moment: str) -> tuple[int, bytes]:
    """Start a build into directory/out.keras; send `sig` at `moment` of the save.

    moments: "created" (as soon as the temporary file exists), "growing" (once it has bytes),
    "late" (once it holds over 100 MB of the ~150 MB)."""
    proc = subprocess.Popen(
        [*BUILD, str(directory / "out.keras")],
        cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    threshold = {"created": -1, "growing": 0, "late": 100 * 1024 * 1024}[moment]
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"the build finished before {moment!r}: {proc.returncode} {err[-2000:]!r}")
        tmp = temp_files(directory)
        try:
            if tmp and tmp[0].stat().st_size > threshold:
                proc.send_signal(sig)
                _, err = proc.communicate(timeout=120)
                return proc.returncode, err
        except FileNotFoundError:  # renamed over the target between glob and stat
            pass
        time.sleep(0.002)
    proc.kill()
    proc.communicate()
    pytest.fail("no temporary file appeared")


def assert_complete_model(path: Path) -> None:
    import keras

    model = keras.saving.load_model(path, compile=False)
    assert model.count_params() == 39_896_898


SIGKILL_CASES = [
    pytest.param("created", marks=pytest.mark.slow),
    pytest.param("growing"),
    pytest.param("late", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("moment", SIGKILL_CASES)
def test_sigkill_during_save_keeps_the_old_file(tmp_path, moment) -> None:
    target = tmp_path / "out.keras"
    target.write_bytes(OLD)
    returncode, _ = build_and_interrupt(tmp_path, signal.SIGKILL, moment)
    assert returncode == -signal.SIGKILL
    assert target.read_bytes() == OLD
    # SIGKILL cannot be caught: temporary files may stay behind (ours, `.archc-*.keras`, and
    # Keras's own `tmp*` weights file, which it makes beside the file it saves), never the target
    left = {p.name for p in tmp_path.iterdir()} - {"out.keras"}
    assert all(n.startswith((".archc-", "tmp")) for n in left), left


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["created", "growing", "late"])
def test_sigkill_during_save_without_an_old_file(tmp_path, moment) -> None:
    target = tmp_path / "out.keras"
    build_and_interrupt(tmp_path, signal.SIGKILL, moment)
    if target.exists():  # only if the rename had happened: then it is the complete model
        assert_complete_model(target)


@pytest.mark.parametrize(
    ("sig", "moment"),
    [
        # "growing" lands in the window of Keras's swallowing `except:`, mostly
        pytest.param(signal.SIGTERM, "growing"),
        pytest.param(signal.SIGTERM, "late"),
        pytest.param(signal.SIGINT, "growing", marks=pytest.mark.slow),
        pytest.param(signal.SIGINT, "created", marks=pytest.mark.slow),
    ],
)
def test_sigterm_and_sigint_remove_the_temporary_file(tmp_path, sig, moment) -> None:
    target = tmp_path / "out.keras"
    target.write_bytes(OLD)
    returncode, err = build_and_interrupt(tmp_path, sig, moment)
    assert returncode != 0
    assert b"Traceback" not in err and b"internal error" not in err, err[-2000:]
    assert target.read_bytes() == OLD
    assert temp_files(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.keras"]


class _SwallowingModel:
    """Saves like Keras: a signal that arrives inside a bare `except:` is swallowed."""

    def save(self, path: str) -> None:
        with open(path, "wb") as f:
            f.write(b"PK partial")
            try:  # noqa: SIM105 — written as keras/src/saving/saving_lib.py writes it
                os.kill(os.getpid(), signal.SIGTERM)  # the handler raises KeyboardInterrupt here
            except:  # noqa: E722
                pass
            f.write(b" ... the rest")


def test_sigterm_swallowed_by_the_saver_still_stops_the_save(tmp_path) -> None:
    """Regression test for the swallowed signal, deterministic and in-process."""
    from archcompiler.build import save_atomically

    target = tmp_path / "out.keras"
    target.write_bytes(OLD)
    with pytest.raises(KeyboardInterrupt):
        save_atomically(_SwallowingModel(), str(target))
    assert target.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.keras"]


class _SignalledInACallback:
    """A signal that lands while Python runs a weakref callback: the KeyboardInterrupt the handler
    raises there is swallowed by Python itself ("Exception ignored in …", with a traceback)."""

    def save(self, path: str) -> None:
        import weakref

        with open(path, "wb") as f:
            f.write(b"PK partial")

        class Gone:
            pass

        def callback(ref: object) -> None:
            os.kill(os.getpid(), signal.SIGTERM)  # handled while this callback runs
            sum(range(1000))  # bytecode for the pending signal to be handled in

        gone = Gone()
        keep = weakref.ref(gone, callback)
        del gone  # the callback runs now
        assert keep() is None


def test_a_signal_swallowed_in_a_callback_stops_the_save_quietly(tmp_path, monkeypatch) -> None:
    """Regression test (seen once under load): the swallowed interrupt reaches no unraisable
    hook (which prints a traceback on stderr), and no file is replaced."""
    from archcompiler.build import save_atomically

    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: unraisable.append(info.exc_value))
    target = tmp_path / "out.keras"
    target.write_bytes(OLD)
    with pytest.raises(KeyboardInterrupt):
        save_atomically(_SignalledInACallback(), str(target))
    assert unraisable == []
    assert target.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.keras"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_just_after_the_temporary_file_is_made_removes_it(
    tmp_path, monkeypatch, sig
) -> None:
    """Regression test (CI saw `.archc-*.keras` left by a SIGINT at "created"): the signal lands
    between mkstemp making the file and `replacing` knowing its name, deterministically."""
    import tempfile

    from archcompiler.build import save_atomically

    make = tempfile.mkstemp

    def make_then_signal(*args, **kwargs):
        made = make(*args, **kwargs)
        os.kill(os.getpid(), sig)
        return made

    class NeverSaved:
        def save(self, path: str) -> None:
            pytest.fail("the save started although the signal came first")

    monkeypatch.setattr(tempfile, "mkstemp", make_then_signal)
    target = tmp_path / "out.keras"
    target.write_bytes(OLD)
    with pytest.raises(KeyboardInterrupt):
        save_atomically(NeverSaved(), str(target))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.keras"]
    assert target.read_bytes() == OLD


def test_a_failed_build_keeps_the_old_file(tmp_path) -> None:
    """A build that fails before saving (weights that do not exist) leaves the target alone."""
    target = tmp_path / "out.keras"
    target.write_bytes(OLD)
    spec = ROOT / "specs" / "lenet5.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "archcompiler.cli", "build", str(spec), "-o", str(target),
         "--weights", str(tmp_path / "missing.weights.h5")],
        capture_output=True, text=True, timeout=STARTUP, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "weights file not found" in proc.stderr
    assert target.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.keras"]
