"""`--columns origin`: which values a spec wrote and which the compiler derived — defaults,
`$` expressions, nodes a built-in block placed (its projection shortcuts named) — checked
against the YAML itself and against keras.applications' naming of ResNet-50's shortcuts."""

from __future__ import annotations

import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archcompiler.compiler import compile_file
from archcompiler.ops import OPS
from archcompiler.summary import origin, render_markdown, render_table, to_json
from tests.conftest import ROOT
from tests.helpers import build, run_cli, write

CONV_OPTIONAL = {
    "strides": 1,
    "padding": "same",
    "dilation_rate": 1,
    "use_bias": False,
    "activation": "relu",
    "groups": 1,
}
RESNET50 = ROOT / "specs" / "resnet50.yaml"
OLD_NODE_KEYS = ["name", "op", "block", "inputs", "output_shape", "params", "trainable_params",
                 "macs", "receptive_field"]  # fmt: skip


def _spec(conv_args: dict) -> str:
    doc = {
        "archspec": 1,
        "name": "written",
        "input": {"shape": [16, 16, 3]},
        "backbone": [{"conv": {"filters": 4, "kernel": 3, "name": "c", **conv_args}}],
    }
    return yaml.safe_dump(doc, sort_keys=False)


FIXTURE = [HealthCheck.function_scoped_fixture]  # tmp_path: each example writes its own file


@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURE)
@given(st.sets(st.sampled_from(sorted(CONV_OPTIONAL))))
def test_written_arguments_are_exactly_the_yamls(tmp_path, chosen):
    args = {k: CONV_OPTIONAL[k] for k in sorted(chosen)}
    path = write(tmp_path, _spec(args))
    written_in_yaml = set(yaml.safe_load(path.read_text())["backbone"][0]["conv"]) - {"name"}
    o = origin(compile_file(path).nodes["c"])
    assert set(o["written"]) == written_in_yaml
    assert set(o["defaults"]) == set(OPS["conv"].model_fields) - written_in_yaml
    assert o["placed_by"] is None and o["role"] is None and o["derived"] == []


def test_expressions_and_user_blocks_are_written(tmp_path):
    g = build(
        tmp_path,
        """
        archspec: 1
        name: exprs
        params: {width: 8}
        input: {shape: [16, 16, 3]}
        blocks:
          twice:
            inputs: [x]
            body:
              - conv: {filters: "$x.channels * 2", kernel: 3, name: c}
        backbone:
          - conv: {filters: $width, kernel: 3, padding: valid, name: a}
          - twice: {name: t}
    """,
    )
    a, c = origin(g.nodes["a"]), origin(g.nodes["t_c"])
    assert a["written"] == ["filters", "kernel", "padding"] and a["computed"] == ["filters"]
    assert c["placed_by"] is None and c["computed"] == ["filters"]  # a user block's body
    table = render_table(g, columns=["op", "origin"])
    assert "spec; computed: filters; default: strides, dilation_rate" in table


def test_block_placed_nodes_name_their_block(tmp_path):
    g = build(
        tmp_path,
        """
        archspec: 1
        name: placed
        input: {shape: [32, 32, 16]}
        backbone:
          - basic: {filters: 16, name: same}
          - basic: {filters: 32, strides: 2, name: wider}
    """,
    )
    for n in g:
        if n.op == "input":
            continue
        o = origin(n)
        assert o["placed_by"] == "basic" and o["written"] == [], n.name
        assert o["derived"] == sorted(o["derived"], key=list(type(n.args).model_fields).index)
    # the identity shortcut places nothing; the projection (shapes change) is marked
    assert "same_0_conv" not in g.nodes
    assert origin(g.nodes["wider_0_conv"])["role"] == "shortcut"
    assert origin(g.nodes["wider_1_conv"])["role"] is None


def test_resnet50_projection_shortcut():
    g = compile_file(RESNET50)
    o = origin(g.nodes["conv2_block1_0_conv"])
    assert (o["placed_by"], o["role"]) == ("bottleneck", "shortcut")
    assert "filters" in o["derived"] and o["written"] == []
    assert origin(g.nodes["conv2_block2_1_conv"])["role"] is None
    assert "conv2_block2_0_conv" not in g.nodes  # keras.applications: identity shortcut there
    md = render_markdown(g, columns=["op", "origin"])
    assert "`conv2_block1_0_conv` | conv | bottleneck (shortcut) |" in md
    conv1 = origin(g.nodes["conv1_conv"])
    assert conv1["placed_by"] is None and "padding" in conv1["defaults"]


def test_json_is_additive():
    g = compile_file(RESNET50)
    plain, more = to_json(g), to_json(g, ["origin"])
    assert all(list(n) == OLD_NODE_KEYS for n in plain["nodes"])
    for old, new in zip(plain["nodes"], more["nodes"], strict=True):
        assert {k: new[k] for k in old} == old
        assert set(new) - set(old) == {"written", "computed", "derived", "defaults",
                                       "placed_by", "role"}  # fmt: skip
    assert {k: v for k, v in more.items() if k != "nodes"} == {
        k: v for k, v in plain.items() if k != "nodes"
    }


def test_cli_column_and_json():
    code, out, err = run_cli("summary", RESNET50, "--columns", "op,origin", "--wide")
    assert code == 0, err
    assert "Origin" in out and "bottleneck (shortcut)" in out
    code, out, err = run_cli("summary", RESNET50, "--format", "json", "--columns", "origin")
    assert code == 0, err
    node = next(n for n in json.loads(out)["nodes"] if n["name"] == "conv2_block1_0_conv")
    assert node["placed_by"] == "bottleneck" and node["role"] == "shortcut"
    code, default, _ = run_cli("summary", RESNET50)
    assert "Origin" not in default
