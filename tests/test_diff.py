"""`archc diff`: two specs (or one under two sets of --set) stage by stage and node by node,
checked against the Graphs the compiler gives each side."""

from __future__ import annotations

import json
from pathlib import Path

from archcompiler.compiler import compile_file
from tests.helpers import frameworks_imported, run_cli, write

V15 = """
    archspec: 1
    name: resnet50_v15
    extends: resnet50
    override:
      conv3: {stride_on: 3x3}
      conv4: {stride_on: 3x3}
      conv5: {stride_on: 3x3}
    """


def diff_json(*args: object) -> dict:
    code, out, err = run_cli("diff", *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_vgg16_against_vgg19() -> None:
    d = diff_json("vgg16", "vgg19")
    a, b = compile_file("vgg16"), compile_file("vgg19")
    assert d["total"] == {"params": [a.total_params, b.total_params], "macs": [a.macs, b.macs],
                          "nodes": [len(a), len(b)]}  # fmt: skip
    added = [n["name"] for n in d["nodes"] if n["status"] == "added"]
    assert added == ["block3_conv4", "block4_conv4", "block5_conv4"]
    assert set(b.nodes) - set(a.nodes) == set(added) and not set(a.nodes) - set(b.nodes)
    changed = {s["name"] for s in d["stages"] if s["status"] != "same"}
    assert changed == {"block3", "block4", "block5"}
    by_name = {s["name"]: s for s in d["stages"]}
    before, after = by_name["block3"]["params"]
    assert after - before == 3 * 3 * 256 * 256 + 256  # one more 3×3 conv of 256 → 256
    assert sum(s["params"][1] for s in d["stages"]) == b.total_params
    assert sum(s["macs"][1] for s in d["stages"]) == b.macs


def test_resnet_v1_against_v15(tmp_path: Path) -> None:
    v15 = write(tmp_path, V15, "resnet50_v15.yaml")
    d = diff_json("resnet50", v15)
    a, b = compile_file("resnet50"), compile_file(v15)
    assert d["total"]["params"] == [a.total_params, a.total_params]  # strides move, weights stay
    assert d["total"]["macs"] == [a.macs, b.macs] and b.macs > a.macs
    changes = {n["name"]: n["changes"] for n in d["nodes"]}
    assert all(n["status"] == "changed" for n in d["nodes"])
    for stage in ("conv3", "conv4", "conv5"):
        assert changes[f"{stage}_block1_1_conv"][0] == "strides: 2 → 1"
        assert changes[f"{stage}_block1_2_conv"] == ["strides: 1 → 2"]
    assert {n["stage"] for n in d["nodes"]} == {"conv3", "conv4", "conv5"}
    code, out, _ = run_cli("diff", "resnet50", v15)
    assert code == 0
    assert "~ conv3_block1_1_conv: strides: 2 → 1; shape: 28×28×128 → 56×56×128" in out
    assert "Params: 25,636,712 → 25,636,712 (=)" in out


def test_one_spec_under_two_sets() -> None:
    d = diff_json("lenet5", "lenet5", "--set", "classes=5", "--set-b", "activation=relu")
    assert d["a"]["spec"] == "lenet5 --set classes=5"
    assert d["b"]["spec"] == "lenet5 --set classes=5 --set activation=relu"
    assert d["total"]["params"][0] == d["total"]["params"][1]
    assert d["nodes"] and all("activation: tanh → relu" in n["changes"] for n in d["nodes"])


def test_the_same_spec_has_no_differences() -> None:
    code, out, err = run_cli("diff", "lenet5", "lenet5")
    assert code == 0 and "No differences" in out and err == ""
    code, _, _ = run_cli("diff", "lenet5", "lenet5", "--exit-code")
    assert code == 0
    code, _, _ = run_cli("diff", "lenet5", "lenet5", "--set-b", "classes=3", "--exit-code")
    assert code == 1
    d = diff_json("lenet5", "lenet5")
    assert d["same"] and not d["nodes"]


def test_markdown_and_all() -> None:
    code, out, _ = run_cli("diff", "vgg16", "vgg19", "--format", "markdown", "--all")
    assert code == 0
    rows = [ln for ln in out.splitlines() if ln.startswith("| ")]
    assert rows[0].startswith("| Stage | Kind |")
    assert any(r.startswith("| block1 | vgg_stage | same |") for r in rows)
    assert "- `block3_conv4` (added): conv → 56×56×256, 590,080 params" in out


def test_removed_nodes_and_stages(tmp_path: Path) -> None:
    small = write(tmp_path, """
        archspec: 1
        name: small
        input: {shape: [8, 8, 3]}
        backbone:
          - conv: {filters: 4, kernel: 3, name: c1}
          - vgg_stage: {convs: 2, filters: 4, name: s1}
        """, "small.yaml")  # fmt: skip
    smaller = write(tmp_path, """
        archspec: 1
        name: smaller
        input: {shape: [8, 8, 3]}
        backbone:
          - conv: {filters: 4, kernel: 3, name: c1}
        """, "smaller.yaml")  # fmt: skip
    d = diff_json(small, smaller)
    assert [(s["name"], s["status"]) for s in d["stages"]] == [
        ("input", "same"), ("c1", "same"), ("s1", "removed")]  # fmt: skip
    assert {n["status"] for n in d["nodes"]} == {"removed"}
    d = diff_json(smaller, small)
    assert d["stages"][-1]["status"] == "added"


def test_mistakes_are_located(tmp_path: Path) -> None:
    bad = write(tmp_path, "archspec: 1\nname: x\nbackbone: [{conv: {filters: -1}}]\n")
    code, out, err = run_cli("diff", "lenet5", bad)
    assert code == 1 and out == "" and err.startswith(f"{bad}:") and "error:" in err
    code, out, err = run_cli("diff", "lenet5", "lenet5", "--set-b", "nope=1")
    assert code == 1 and "the spec has no param 'nope'" in err


def test_diff_and_resolve_never_import_tensorflow() -> None:
    heavy, _ = frameworks_imported(["diff", "vgg16", "vgg19"], ["resolve", "lenet5"])
    assert heavy == []
