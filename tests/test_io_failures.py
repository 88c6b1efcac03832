"""Failures of the world on write (issue: every I/O failure a clear error): a full disk, a
read-only folder, a name too long, a missing folder give `path: error: <in the system's words>`,
exit 1, the target untouched and no temporary file left — for every file archcompiler writes,
since each goes through atomic.replacing. Temporary files that a killed run left behind are
removed by the next write into the folder.

A full disk and a read-only folder are simulated (CI runs as root, which ignores folder
permissions, and cannot mount a small tmpfs): the system call that fails on them raises the
errno it would. A name too long and a missing folder are real.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from archcompiler import atomic
from archcompiler.errors import SpecError
from tests.conftest import ROOT
from tests.helpers import run_cli

LENET = str(ROOT / "specs" / "lenet5.yaml")
OLD = "an earlier file that must survive\n"
FAULTS = {  # errno → where it strikes: creating the temporary file, or renaming it over
    "full disk": (errno.ENOSPC, "os.replace"),
    "read-only folder": (errno.EROFS, "tempfile.mkstemp"),
    "no permission": (errno.EACCES, "tempfile.mkstemp"),
}
WRITERS = {  # command → (its arguments, with {out} for the target; the target's suffix)
    "graph": (["graph", LENET, "-o", "{out}"], ".dot"),
    "schema": (["schema", "-o", "{out}"], ".json"),
}


def fault(monkeypatch, where: str, code: int) -> None:
    """Make the system call at `where` fail with `code`, as it would on such a file system
    (creating a file in a read-only folder fails before it exists; the rename onto a full
    disk fails after the temporary file was written)."""
    module, name = where.split(".")
    owner = {"os": os, "tempfile": atomic.tempfile}[module]

    def failing(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(owner, name, failing)


@pytest.mark.parametrize("writer", list(WRITERS))
@pytest.mark.parametrize("kind", list(FAULTS))
def test_a_failed_write_is_a_located_error_and_leaves_the_target(
    tmp_path, monkeypatch, writer, kind
) -> None:
    args, suffix = WRITERS[writer]
    out = tmp_path / f"out{suffix}"
    out.write_text(OLD)
    code, where = FAULTS[kind]
    fault(monkeypatch, where, code)
    status, _, err = run_cli(*[a.format(out=out) for a in args])
    assert status == 1 and "Traceback" not in err and "internal error" not in err, err
    assert err.startswith(f"{out}: error: cannot write this file: {os.strerror(code)}"), err
    assert out.read_text() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temporary file


@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_name_too_long_and_a_missing_folder_are_located_errors(tmp_path, writer) -> None:
    args, suffix = WRITERS[writer]
    for out, said in (
        (tmp_path / ("n" * 300 + suffix), os.strerror(errno.ENAMETOOLONG)),
        (tmp_path / "nope" / f"out{suffix}", f"no folder {tmp_path / 'nope'}"),
    ):
        status, _, err = run_cli(*[a.format(out=out) for a in args])
        assert status == 1 and "Traceback" not in err, err
        assert err.startswith(f"{out}: error: cannot write this file: {said}"), err
    assert list(tmp_path.iterdir()) == []


def dead_pid() -> int:
    """A process id that no process has now (a child that has exited and been reaped)."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(proc.stdout)


def test_the_next_write_removes_what_a_killed_run_left(tmp_path) -> None:
    stale = tmp_path / f".archc-{dead_pid()}-abc.keras"  # a SIGKILLed build's temporary file
    live = tmp_path / f".archc-{os.getppid()}-def.png"  # a writer still running: kept
    other = tmp_path / ".archc-notes.txt"  # not one of ours (no process id): kept
    for p in (stale, live, other):
        p.write_text("x")
    atomic.write_atomically(str(tmp_path / "graph.dot"), "digraph {}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [live.name, other.name, "graph.dot"]
    )


def test_a_failure_inside_the_block_is_a_spec_error_at_the_target(tmp_path) -> None:
    target = tmp_path / "model.keras"
    with pytest.raises(SpecError) as info, atomic.replacing(str(target), ".keras") as tmp:
        Path(tmp).write_text("half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert str(info.value).startswith(f"{target}: error: cannot write this file: No space")
    assert list(tmp_path.iterdir()) == []


def test_a_new_run_that_cannot_write_its_record_leaves_no_directory(tmp_path, monkeypatch):
    """`train` onto a full disk: run.json cannot be written, and the run directory it created
    for this run goes again (before TensorFlow is even imported)."""
    from tests.digits import write_digits

    data = write_digits(tmp_path / "data", classes=[0, 1])
    real = os.replace

    def full(src, dst, *a, **k):
        if str(dst).endswith("run.json"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", full)
    run_dir = tmp_path / "runs" / "r1"
    status, _, err = run_cli("train", LENET, "--data", str(data), "-o", str(run_dir),
                             "--epochs", "1")  # fmt: skip
    assert status == 1 and "Traceback" not in err, err
    assert err.startswith(f"{run_dir / 'run.json'}: error: cannot write this file: No space")
    assert not run_dir.exists()


# ---- the program's own streams: `archc` as a process ---------------------------------------
ARCHC = [sys.executable, "-m", "archcompiler.cli"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize(
    "command", [["check", LENET], ["summary", LENET], ["schema"], ["--help"], ["--version"]]
)  # a command's output, and click's own (help, version)
def test_standard_output_on_a_full_disk_is_one_line_and_exit_1(command) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run([*ARCHC, *command], stdout=full, stderr=subprocess.PIPE,
                              text=True, cwd=ROOT, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == "archc: error: cannot write the output (No space left on device)\n"


def test_a_reader_that_leaves_early_gets_no_traceback() -> None:
    """`archc summary big.yaml | head -1`: the rest of the table meets a closed pipe."""
    big = str(ROOT / "specs" / "efficientnetb7.yaml")
    proc = subprocess.Popen([*ARCHC, "summary", big], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"Model: efficientnetb7")
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) in (0, 1) and err == "", err


def test_the_program_ends_with_its_whole_output_written(tmp_path) -> None:
    """`run_command_line` ends the process without the interpreter's teardown once the output
    is flushed: a long table redirected to a file is whole, and exit hooks still run."""
    big = str(ROOT / "specs" / "efficientnetb7.yaml")
    out = tmp_path / "summary.txt"
    with open(out, "w") as f:
        proc = subprocess.run([*ARCHC, "summary", big], stdout=f, stderr=subprocess.PIPE,
                              text=True, cwd=ROOT, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    status, expected, _ = run_cli("summary", big)
    assert status == 0 and out.read_text() == expected and len(expected) > 64_000
    hook = tmp_path / "hook"
    code = ("import atexit, pathlib, sys; from archcompiler.cli import run_command_line; "
            f"atexit.register(pathlib.Path({str(hook)!r}).write_text, 'ran'); "
            "sys.argv = ['archc', 'check', sys.argv[1]]; run_command_line()")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code, LENET], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False)  # fmt: skip
    assert proc.returncode == 0 and proc.stdout.endswith("9 layers\n"), proc.stderr
    assert hook.read_text() == "ran"


def test_an_oserror_that_is_not_a_stream_is_not_called_one(monkeypatch) -> None:
    """Only standard output or error refusing writes is 'cannot write the output'; an
    unlocated OSError from anything else stays what it is: our bug, exit 2."""
    from archcompiler.cli import design

    def lost(*args, **kwargs):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), "lost.yaml")

    monkeypatch.setattr(design, "compile_file", lost)
    status, _, err = run_cli("check", LENET)
    assert status == 2 and "internal error: FileNotFoundError" in err, err
    assert "cannot write the output" not in err
