"""`budget:` in a spec: units, inheritance through `extends`, and located errors naming the
measured figure and the biggest top-level blocks — through the compiler and the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcompiler.cli import main
from archcompiler.compiler import compile_file
from archcompiler.errors import SpecError
from tests.conftest import ROOT

LENET = (ROOT / "specs" / "lenet5.yaml").read_text()


def _spec(tmp_path: Path, budget: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(LENET.rstrip() + f"\nbudget: {budget}\n")
    return path


def test_a_budget_that_holds_compiles(tmp_path: Path) -> None:
    graph = compile_file(_spec(tmp_path, "{params: 62K, macs: 0.5M, weights: 1MB}"))
    assert graph.total_params == 61_706  # under 62,000; 1 MB = 1,048,576 bytes ≥ 4 · 61,706


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ("{params: 61705}", "over budget: 61,706 params, the budget is 61,705"),
        ("{macs: 400K}", "over budget: 416,"),
        ("{weights: 200KB}", "over budget: 241.0 KB of weights (float32), the budget is 200.0 KB"),
        ("{activations: 1KB}", "of activations (float32), the budget is 1.0 KB"),
    ],
)
def test_an_exceeded_budget_is_an_error_at_its_line(
    tmp_path: Path, budget: str, message: str
) -> None:
    path = _spec(tmp_path, budget)
    with pytest.raises(SpecError) as e:
        compile_file(path)
    text = e.value.render()
    assert message in text, text
    assert "(the biggest: " in text
    line = len(path.read_text().splitlines())
    assert f"s.yaml:{line}:" in text


def test_the_three_biggest_top_level_blocks_are_named(tmp_path: Path) -> None:
    shutil.copy(ROOT / "specs" / "resnet50.yaml", tmp_path / "resnet50.yaml")
    child = tmp_path / "small.yaml"
    child.write_text("archspec: 1\nname: small\nextends: resnet50.yaml\nbudget: {params: 5M}\n")
    with pytest.raises(SpecError) as e:
        compile_file(child)
    assert "25,636,712 params" in str(e.value.render())
    assert "(the biggest: conv5 14,998,528, conv4 7,129,088, predictions 2,049,000)" in (
        e.value.render()
    )


def test_budgets_are_inherited_and_overridden_entry_by_entry(tmp_path: Path) -> None:
    _spec(tmp_path, "{params: 100K, macs: 1K}", "base.yaml")
    child = tmp_path / "child.yaml"
    child.write_text("archspec: 1\nname: child\nextends: base.yaml\nbudget: {macs: 1M}\n")
    compile_file(child)  # macs replaced; params (61,706 ≤ 100K) inherited and holding
    child.write_text("archspec: 1\nname: child\nextends: base.yaml\nbudget: {params: 1K}\n")
    with pytest.raises(SpecError, match="61,706 params"):
        compile_file(child)  # its own params entry; the base's macs entry would fail too


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ("{params: 5Q}", "unknown unit 'Q'"),
        ("{weights: 5M}", "unknown unit 'M'"),
        ("{flops: 5M}", "flops"),
        ("{params: true}", "a count is a number with a unit"),
    ],
)
def test_a_wrong_budget_is_refused(tmp_path: Path, budget: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        compile_file(_spec(tmp_path, budget))


@pytest.mark.parametrize("command", ["check", "summary"])
def test_check_and_summary_fail_over_budget(tmp_path: Path, command: str) -> None:
    result = CliRunner().invoke(main, [command, str(_spec(tmp_path, "{params: 1K}"))])
    assert result.exit_code == 1
    assert "error: over budget: 61,706 params" in result.stderr
