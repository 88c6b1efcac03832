"""The `archc` command: the contracts of docs/contracts.md, exit codes, and no TensorFlow in
check/summary."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from click.testing import CliRunner

from archcompiler.cli import main
from tests.conftest import ROOT, SPECS
from tests.helpers import frameworks_imported, write

ALEXNET = str(ROOT / "specs" / "alexnet.yaml")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


DESIGN_TIME = [  # the commands that answer from the shape rules alone
    ["check", *(str(p) for p in SPECS)],
    ["summary", str(SPECS[0])],
    ["check", "--sizes", "resnet50"],
    ["zoo"],
    ["resolve", "vgg16_transfer"],
    ["diff", "vgg16", "vgg19"],
    ["sweep", "mobilenet", "--set", "alpha=0.25,0.5"],
]


@pytest.mark.parametrize("argv", DESIGN_TIME, ids=lambda a: " ".join(a[:2])[:30])
def test_design_time_commands_never_import_tensorflow(argv: list[str]) -> None:
    heavy, _ = frameworks_imported(argv)
    assert heavy == []


def test_check_reports_each_file_and_exits_1_on_any_error(tmp_path) -> None:
    bad = write(
        tmp_path, "archspec: 1\nname: b\ninput: {shape: [8, 8, 3]}\nbackbone: [relu6, relux]\n"
    )
    code, out, err = run("check", ALEXNET, str(bad))
    assert code == 1
    assert "alexnet.yaml: ok — 60,965,224 params" in out
    assert f"{bad}:4:" in err and "unknown op or block 'relux'" in err
    assert "Traceback" not in err


def test_summary_json_contract() -> None:
    code, out, _ = run("summary", ALEXNET, "--format", "json", "--set", "classes=7")
    assert code == 0
    data = json.loads(out)
    assert {"name", "inputs", "outputs", "params", "macs", "activations", "nodes"} <= set(data)
    assert data["inputs"] == {"input": [227, 227, 3]}
    assert data["outputs"] == {"predictions": [7]}
    nodes = data["nodes"]
    assert {"name", "op", "block", "inputs", "output_shape", "params", "macs"} <= set(nodes[0])
    assert sum(n["params"] for n in nodes) == data["params"]["total"]
    assert sum(n["macs"] for n in nodes) == data["macs"]
    assert data["params"]["total"] == data["params"]["trainable"] + data["params"]["non_trainable"]
    assert data["activations"] == sum(math.prod(n["output_shape"]) for n in nodes)


def test_macs_count_only_convolutions_and_dense() -> None:
    data = json.loads(run("summary", ALEXNET, "--format", "json")[1])
    assert {n["op"] for n in data["nodes"] if n["macs"]} == {"conv", "dense"}
    conv1 = next(n for n in data["nodes"] if n["name"] == "conv1")
    assert conv1["macs"] == 55 * 55 * 11 * 11 * 3 * 96


def test_summary_table_and_markdown_read_well() -> None:
    code, out, _ = run("summary", ALEXNET)
    assert code == 0
    assert "60,965,224" in out and "MACs" in out and "MB float32" in out
    assert "conv1" in out and "55×55×96" in out
    code, md, _ = run("summary", ALEXNET, "--format", "markdown")
    assert md.count("\n| ") >= 15 and "|---" in md


def test_depth_folds_blocks(tmp_path) -> None:
    spec = write(
        tmp_path,
        """
archspec: 1
name: folded
input: {shape: [8, 8, 3]}
blocks:
  unit:
    params: {f: int}
    body:
      - conv: {filters: $f, kernel: 1, name: c}
      - relu: {name: r}
backbone:
  - unit: {f: 4, repeat: 2, name: stage}
""",
    )
    full = run("summary", str(spec))[1]
    folded = run("summary", str(spec), "--depth", "0")[1]
    assert "stage_block2_c" in full and "stage_block2_c" not in folded
    assert "▸ stage" in folded and "unit ×2" in folded


def test_set_needs_key_equals_value() -> None:
    code, _, err = run("summary", ALEXNET, "--set", "classes")
    assert code == 2 and "KEY=VALUE" in err


def test_no_head_summary() -> None:
    data = json.loads(run("summary", ALEXNET, "--no-head", "--format", "json")[1])
    assert data["outputs"] == {"flatten": [9216]}


def test_every_command_has_examples_that_its_parser_takes() -> None:
    import shlex

    from archcompiler.cli import main
    from archcompiler.cli.help import EXAMPLES

    commands = main.all_commands()
    assert set(EXAMPLES) == set(commands)
    for name, examples in EXAMPLES.items():
        assert "Examples:" in (commands[name].epilog or "")
        for example in examples:
            words = shlex.split(example.split(" > ")[0])
            assert words[:2] == ["archc", name], example
            commands[name].make_context(name, words[2:])  # raises on an unknown option


def test_the_command_list_shows_whole_descriptions() -> None:
    from click.testing import CliRunner

    from archcompiler.cli import main

    out = CliRunner().invoke(main, ["--help"], terminal_width=100).output
    flat = " ".join(out.split())
    for name, cmd in main.all_commands().items():
        first = " ".join((cmd.help or "").split("\n\n")[0].split())
        assert first in flat, name
    assert "..." not in out.split("Commands:")[1]  # click marks a shortened one so


def test_shell_completion_as_the_readme_sets_it_up_completes_commands() -> None:
    import os

    env = {**os.environ, "_ARCHC_COMPLETE": "bash_complete", "COMP_WORDS": "archc su",
           "COMP_CWORD": "1"}  # fmt: skip
    code = "from archcompiler.cli import main; main(prog_name='archc')"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert out.stdout.split() == ["plain,summary"], out
