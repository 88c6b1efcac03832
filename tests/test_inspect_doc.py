"""docs/inspect.md stays true: every `archc` listing it quotes is what archc prints today.

Replayed in a scratch directory holding a copy of specs/: a ```yaml fence whose first line is
`# NAME.yaml` is saved as that file; in a ```console fence each `$ archc …` line is run and the
lines quoted under it must be its output (stdout and stderr as a terminal shows them), line for
line — a `…` line stands for any number of lines left out.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcompiler.cli import main
from tests.conftest import ROOT

DOC = ROOT / "docs" / "inspect.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)


def matches(quoted: list[str], actual: list[str]) -> str | None:
    """None when `actual` is `quoted` with each `…` standing for any lines; else why not."""
    i = 0
    for j, line in enumerate(quoted):
        if line == "…":
            if j + 1 == len(quoted):
                return None
            following = quoted[j + 1]
            while i < len(actual) and actual[i] != following:
                i += 1
            if i == len(actual):
                return f"{following!r} is not printed after line {j} of the listing"
            continue
        if i >= len(actual):
            return f"the output ends before {line!r}"
        if actual[i] != line:
            return f"line {i + 1}: printed {actual[i]!r}, the doc says {line!r}"
        i += 1
    return None if i == len(actual) else f"more output than quoted: {actual[i]!r}"


def replay(body: str) -> list[str]:
    """Run each `$ archc …` line of a listing and hold its output to the lines quoted under it;
    returns the commands replayed (an assertion fails at the first that differs)."""
    replayed: list[str] = []
    command: list[str] = []
    quoted: list[str] = []
    for line in [*body.splitlines(), "$ end"]:
        if not line.startswith("$ "):
            quoted.append(line.rstrip())
            continue
        if command:
            result = CliRunner().invoke(main, command[1:])
            actual = [ln.rstrip() for ln in result.output.rstrip("\n").splitlines()]
            why = matches(quoted, actual)
            assert why is None, f"{shlex.join(command)}: {why}"
            replayed.append(shlex.join(command))
        command, quoted = shlex.split(line[2:]), []
        assert command[0] in ("archc", "end")
    return replayed


def test_matching_can_fail() -> None:
    assert matches(["a", "…", "d"], ["a", "b", "c", "d"]) is None
    assert matches(["a", "c"], ["a", "b"]) is not None
    assert matches(["a"], ["a", "b"]) is not None
    assert matches(["a", "…", "x"], ["a", "b"]) is not None


def test_every_listing_is_what_archc_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    replayed = 0
    for lang, body in FENCE.findall(DOC.read_text()):
        if lang == "yaml" and body.startswith("# "):
            (tmp_path / body.split("\n", 1)[0][2:].strip()).write_text(body)
        if lang == "console":
            replayed += len(replay(body))
    assert replayed >= 7
