"""Small helpers shared by the tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from archcompiler.compile import Limits, compile_file
from archcompiler.graph import Graph
from archcompiler.spec.errors import Diagnostic, SpecError


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


__all__ = ["Limits", "build", "fails", "write"]
