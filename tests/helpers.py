"""Small helpers shared by the tests."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcompiler.cli import main
from archcompiler.compiler import Limits, compile_file
from archcompiler.errors import Diagnostic, SpecError
from archcompiler.graph import Graph


def write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def build(tmp_path: Path, text: str, sets: dict | None = None, **kw) -> Graph:
    return compile_file(write(tmp_path, text), sets, **kw)


def fails(tmp_path: Path, text: str, sets: dict | None = None, **kw) -> Diagnostic:
    """Compile and return the first diagnostic; the compile must fail with a SpecError."""
    with pytest.raises(SpecError) as info:
        build(tmp_path, text, sets, **kw)
    return info.value.diagnostics[0]


def run_cli(*args: object) -> tuple[int, str, str]:
    """`archc ARGS…` in this process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def frameworks_imported(*commands: list[str]) -> tuple[list[str], str]:
    """Run `archc` commands one after the other in a fresh interpreter: the framework modules
    (TensorFlow, Keras, JAX, PyTorch) it imported, and what the commands printed."""
    probe = (
        "import sys\n"
        "from archcompiler.cli import main\n"
        f"for argv in {[list(map(str, c)) for c in commands]!r}:\n"
        "    main(argv, prog_name='archc', standalone_mode=False)\n"
        "heavy = sorted(m for m in sys.modules\n"
        "               if m.split('.')[0] in ('tensorflow', 'keras', 'jax', 'torch'))\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    printed, _, heavy = out.stdout.rpartition("HEAVY ")
    return ast.literal_eval(heavy.strip()), printed


def located_error(code: int, out: str, err: str, path: object, message: str) -> None:
    """A user mistake about a file or folder: exit 1, `path: error: …` first on stderr,
    nothing on stdout, no traceback."""
    assert code == 1, (code, out, err)
    assert err.startswith(f"{path}: error: "), err
    assert message in err, err
    assert "Traceback" not in err and out == "", (out, err)


__all__ = ["Limits", "build", "fails", "located_error", "run_cli", "write"]


def load_in_plain_keras(path: Path, show: str) -> str:
    """Load the `.keras` file at `path` with `keras.saving.load_model` in an isolated
    interpreter (`python -I`, no PYTHONPATH) that must never import archcompiler, and return
    what it prints of `show`, an expression over the loaded model `m`."""
    import os
    import subprocess
    import sys

    probe = (
        "import sys, keras\n"
        f"m = keras.saving.load_model({str(path)!r})\n"
        "assert not any(k.startswith('archcompiler') for k in sys.modules)\n"
        f"print({show})\n"
    )
    env = {**os.environ, "PYTHONPATH": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-I", "-c", probe], capture_output=True, text=True, env=env,
        cwd=path.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
