"""Small helpers shared by the tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcompiler.cli import main
from archcompiler.compile import Limits, compile_file
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


def located_error(code: int, out: str, err: str, path: object, message: str) -> None:
    """A user mistake about a file or folder: exit 1, `path:1:1: error: …` first on stderr,
    nothing on stdout, no traceback."""
    assert code == 1, (code, out, err)
    assert err.startswith(f"{path}:1:1: error: "), err
    assert message in err, err
    assert "Traceback" not in err and out == "", (out, err)


__all__ = ["Limits", "build", "fails", "located_error", "run_cli", "write"]
