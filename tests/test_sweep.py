"""`archc sweep`: the grid, its figures against the compiler and against MobileNet's paper,
the formats and the plot, the errors, `--measure`, and Ctrl-C leaving nothing behind."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archcompiler import sweep as sw
from archcompiler.compiler import compile_file
from tests.conftest import ROOT
from tests.helpers import run_cli
from tests.test_inspect_doc import FENCE, matches

MOBILENET = ["--set", "alpha=0.25,0.5,0.75,1.0", "--set", "size=128,160,192,224"]


def _json(*args: object) -> list[dict]:
    code, out, err = run_cli("sweep", *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)["points"]


@settings(max_examples=15, deadline=None)
@given(
    classes=st.lists(st.integers(1, 50), min_size=1, max_size=3, unique=True),
    activation=st.lists(st.sampled_from(["tanh", "relu", "sigmoid"]), min_size=1, unique=True),
)
def test_the_grid_is_the_product_and_every_row_is_what_compile_file_says(
    classes: list[int], activation: list[str]
) -> None:
    sets = [f"classes={','.join(map(str, classes))}", f"activation={','.join(activation)}"]
    points = _json("lenet5", *(a for s in sets for a in ("--set", s)))
    assert len(points) == len(classes) * len(activation)
    assert {(p["classes"], p["activation"]) for p in points} == {
        (str(c), a) for c in classes for a in activation
    }
    for p in points:
        g = compile_file("lenet5", {"classes": p["classes"], "activation": p["activation"]})
        assert (p["params"], p["trainable"], p["macs"]) == (
            g.total_params, g.trainable_params, g.macs,
        )  # fmt: skip
        assert p["activation_bytes"] == 4 * g.activations


# Howard et al. 2017, Table 6 (α at 224) and Table 7 (resolution at α = 1.0):
# (alpha, size) → (million mult-adds, million params)
PAPER = {
    ("1.0", "224"): (569, 4.2), ("0.75", "224"): (325, 2.6), ("0.5", "224"): (149, 1.3),
    ("0.25", "224"): (41, 0.5), ("1.0", "192"): (418, 4.2), ("1.0", "160"): (290, 4.2),
    ("1.0", "128"): (186, 4.2),
}  # fmt: skip


def test_mobilenets_published_tables_come_out_of_one_command() -> None:
    points = {(p["alpha"], p["size"]): p for p in _json("mobilenet", *MOBILENET)}
    assert len(points) == 16
    off = {}
    for key, (mult_adds, params) in PAPER.items():
        p = points[key]
        # the paper counts learned weights: BN's moving mean and variance are not in it
        assert round(p["trainable"] / 1e6, 1) == params, key
        if round(p["macs"] / 1e6) != mult_adds:
            off[key] = p["macs"] / 1e6
    # Every figure matches but one: Table 7 scales the 224 network's 569 M by (size/224)²,
    # classifier included, whose 1.024 M mult-adds do not shrink with the input; we count.
    assert set(off) == {("1.0", "160")} and abs(off["1.0", "160"] - 290) < 1
    full = points["1.0", "224"]["macs"]
    for size in ("192", "160", "128"):
        assert round(full / 1e6 * (int(size) / 224) ** 2) == PAPER["1.0", size][0]
    # and the total (BN statistics included) is Keras's MobileNet: 4,253,864 at α = 1
    assert points["1.0", "224"]["params"] == 4_253_864


def test_csv_parses_back_to_the_json_rows(tmp_path: Path) -> None:
    target = tmp_path / "grid.csv"
    code, out, err = run_cli("sweep", "lenet5", "--set", "classes=10,20", "--format", "csv",
                             "-o", target)  # fmt: skip
    assert code == 0, err
    assert out == "" and target.exists()
    back = list(csv.DictReader(io.StringIO(target.read_text())))
    rows = _json("lenet5", "--set", "classes=10,20")
    assert [{k: str(v) for k, v in r.items()} for r in rows] == back


def test_the_table_has_a_row_per_point() -> None:
    code, out, _ = run_cli("sweep", "mobilenet", "--set", "alpha=0.5,1.0", "--set", "size=128")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["alpha", "size", "params", "trainable", "MACs", "activations"]
    assert len(lines) == 4 and lines[3].split()[:3] == ["1.0", "128", "4,253,864"]


def test_the_plot_has_one_point_per_setting(tmp_path: Path) -> None:
    target = tmp_path / "grid.png"
    code, _, err = run_cli("sweep", "mobilenet", "--set", "alpha=0.5,1.0", "--set",
                           "size=128,160,192", "--plot", target)  # fmt: skip
    assert code == 0, err
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    points = sw.compile_grid("mobilenet", sw.settings({"alpha": ["0.5", "1.0"], "size": ["128"]}))
    ax = sw.figure(points).axes[0]
    offsets = ax.collections[0].get_offsets()
    assert len(offsets) == 2 and len(ax.texts) == 2
    assert (
        offsets[1][0] == pytest.approx(4.253864) and ax.texts[1].get_text() == "alpha=1.0 size=128"
    )


def test_an_unknown_param_is_located_at_the_spec_params() -> None:
    code, out, err = run_cli("sweep", "mobilenet", "--set", "nope=1,2")
    assert code == 1 and out == ""
    assert re.match(r".*mobilenet\.yaml:\d+:\d+: error: --set nope=…: the spec has no param", err)
    assert "at the sweep point --set nope=1" in err and "Traceback" not in err


def test_a_bad_value_is_located_at_the_param_and_names_the_point() -> None:
    code, out, err = run_cli("sweep", "mobilenet", "--set", "alpha=0.5,wide", "--set", "size=128")
    assert code == 1 and out == ""
    assert re.search(r"mobilenet\.yaml:\d+:\d+: error: --set alpha=wide: 'alpha' is float", err)
    assert "  alpha: 1.0" in err  # the param's line, with a caret under it
    assert "note: at the sweep point --set alpha=wide --set size=128" in err


def test_too_many_points_are_refused_before_any_is_compiled(monkeypatch) -> None:
    monkeypatch.setattr(sw, "compile_file", lambda *a, **k: pytest.fail("compiled"))
    sizes = "size=" + ",".join(map(str, range(100, 130)))
    code, _, err = run_cli("sweep", "mobilenet", "--set", "alpha=0.5,1.0", "--set", sizes,
                           "--max-points", "50")  # fmt: skip
    assert (
        code == 2 and "the grid has 60 points (2 alpha × 30 size), more than --max-points 50" in err
    )


def test_ctrl_c_while_measuring_stops_cleanly_and_writes_nothing(tmp_path, monkeypatch) -> None:
    calls = []

    def measure(graph, batch, runs):  # the first point is timed; Ctrl-C during the second
        calls.append(graph)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return sw.Timing(1.0, 2.0, batch)

    monkeypatch.setattr(sw, "measure", measure)
    target, plot = tmp_path / "grid.json", tmp_path / "grid.png"
    code, out, err = run_cli("sweep", "lenet5", "--set", "classes=2,3,4", "--measure",
                             "--format", "json", "-o", target, "--plot", plot)  # fmt: skip
    assert code == 130 and out == ""
    assert "interrupted after 1 of 3 points" in err
    assert list(tmp_path.iterdir()) == []  # no output, no temporary left


@pytest.mark.slow
def test_measure_times_each_point_with_keras() -> None:
    code, out, err = run_cli("sweep", "lenet5", "--set", "classes=10,100", "--measure",
                             "--runs", "2", "--batch", "4")  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[-3:] == ["ms@1", "ms@4", "images/s@4"]
    assert len(lines) == 4
    for line in lines[2:]:
        assert all(float(v.replace(",", "")) > 0 for v in line.split()[-3:])


def test_docs_sweep_md_is_what_archc_prints() -> None:
    text = (ROOT / "docs" / "sweep.md").read_text()
    replayed = 0
    for lang, body in FENCE.findall(text):
        if lang != "console":
            continue
        first, *quoted = body.rstrip("\n").splitlines()
        assert first.startswith("$ archc sweep ")
        code, out, err = run_cli(*first[len("$ archc ") :].split())
        assert code == 0, err
        why = matches([q.rstrip() for q in quoted], [ln.rstrip() for ln in out.splitlines()])
        assert why is None, f"{first}: {why}"
        replayed += 1
    assert replayed >= 1
