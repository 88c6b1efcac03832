"""`archc blocks` and the generated reference docs (docs/ops.md, docs/blocks.md, docs/zoo.md)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcompiler import reference
from archcompiler.backends.keras_layers import keras_layer
from archcompiler.blocks import BLOCKS
from archcompiler.cli import main
from archcompiler.compiler import compile_file
from archcompiler.grammar import STRUCTURAL
from archcompiler.ops import OPS
from tests.conftest import ROOT, SPECS

ALL = [*OPS, *BLOCKS]
REGENERATE = "archc docs --write docs"


def example_of(text: str) -> str:
    """The YAML node line under "Example:" in `describe` output."""
    return text.split("\nExample:\n", 1)[1].splitlines()[0].strip()


def wrap_in_spec(node: str) -> str:
    """A minimal spec around one node line: a 32×32×8 input, and two earlier nodes `a` and `b`
    of that same shape for the examples of ops that merge several inputs (`from: [a, b]`)."""
    a, b = reference.EXAMPLE_INPUTS
    return textwrap.dedent(f"""\
        archspec: 1
        name: example
        input: {{shape: [32, 32, 8]}}
        backbone:
          - conv: {{filters: 8, kernel: 1, name: {a}}}
          - conv: {{filters: 8, kernel: 1, name: {b}, from: input}}
          {node}
        """)


# --- overview -----------------------------------------------------------------------------------


def test_overview_lists_every_op_and_block_with_its_summary() -> None:
    text = reference.overview()
    rows = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ")}
    assert set(rows) == set(ALL)
    for name in ALL:
        model = OPS.get(name) or BLOCKS[name]
        assert model.summary() in rows[name]


def test_overview_shows_required_args_with_types_and_optional_ones_with_defaults() -> None:
    rows = {line.split()[0]: line for line in reference.overview().splitlines() if line[:2] == "  "}
    assert "filters:int" in rows["conv"]
    assert "kernel:int|[h,w]" in rows["conv"]
    assert "strides=1" in rows["conv"] and "padding=valid" in rows["conv"]
    assert "epsilon=1.001e-5" in rows["bottleneck"]
    assert "padding=1" in rows["zero_pad"]  # ((1, 1), (1, 1)) shown as the shorthand it takes


def test_overview_columns_are_aligned_within_each_group() -> None:
    groups = reference.overview().split("\n\n")
    for group in groups:
        rows = [line for line in group.splitlines() if line.startswith("  ")]
        assert all(r[2] != " " for r in rows)  # names start at column 2
        summary_cols = {len(r) - len(r[2:].split(maxsplit=1)[1]) for r in rows}
        assert len(summary_cols) <= 1, group


# --- describe -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_describe_shows_every_argument_and_structural_key(name: str) -> None:
    text = reference.describe(name)
    model = OPS.get(name) or BLOCKS[name]
    assert text.startswith(f"{name} — {model.summary()}")
    for arg in reference.arguments(model):
        assert re.search(rf"^  {arg.name}\s", text, re.M), arg.name
        if arg.description:
            assert arg.description.split()[0] in text
    for key in STRUCTURAL:
        assert re.search(rf"^  {key}\s", text, re.M), key
    if name in OPS:
        assert f"keras.layers.{keras_layer(name)}" in text


@pytest.mark.parametrize("name", ALL)
def test_describe_example_compiles(tmp_path: Path, name: str) -> None:
    line = example_of(reference.describe(name))
    assert line == reference.example(name)
    path = tmp_path / "example.yaml"
    path.write_text(wrap_in_spec(line))
    graph = compile_file(path)
    placed = {n.op for n in graph} | {b.kind for b in graph.blocks.values()}
    assert name in placed


def test_describe_renders_types_readably() -> None:
    conv = reference.describe("conv")
    assert re.search(r"^  kernel\s+n or \[h, w\]\s+required\s+≥ 1, ≤ 1024", conv, re.M)
    assert re.search(r"^  padding\s+'valid' or 'same'\s+valid", conv, re.M)
    assert re.search(r"^  use_bias\s+bool\s+true", conv, re.M)
    pad = reference.describe("zero_pad")
    assert "n, [h, w] or [[top, bottom]," in pad
    assert re.search(r"^  rate\s+float\s+required\s+≥ 0, < 1", reference.describe("dropout"), re.M)
    assert "1–8 items" in reference.describe("reshape")
    assert "list of list of node" in reference.describe("branches")


def test_describe_block_says_which_args_only_the_first_instance_gets() -> None:
    assert "only the first instance gets: strides" in reference.describe("bottleneck")
    assert "first instance" not in reference.describe("fire")


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("bottlenek", "bottleneck"), ("convv", "conv"), ("batchnorm", "bn"), ("Relu", "relu")],
)
def test_unknown_name_is_a_lookup_error_with_a_suggestion(name: str, suggestion: str) -> None:
    with pytest.raises(LookupError) as info:
        reference.describe(name)
    message = info.value.args[0]
    assert message.startswith(f"unknown op or block '{name}'")
    if name != "batchnorm":  # too far from `bn` for difflib; the fallback hint applies
        assert f"did you mean '{suggestion}'?" in message
    else:
        assert "archc blocks" in message


# --- the CLI ------------------------------------------------------------------------------------


def test_cli_blocks_lists_everything() -> None:
    result = CliRunner().invoke(main, ["blocks"])
    assert result.exit_code == 0
    assert result.output.rstrip("\n") == reference.overview()


def test_cli_blocks_name_shows_one_in_full() -> None:
    result = CliRunner().invoke(main, ["blocks", "inception"])
    assert result.exit_code == 0
    assert "pool_proj" in result.output and "Example:" in result.output


def test_cli_blocks_unknown_name_exits_1_with_a_suggestion() -> None:
    result = CliRunner().invoke(main, ["blocks", "bottlenek"])
    assert result.exit_code == 1
    assert "did you mean 'bottleneck'" in result.output
    assert "Traceback" not in result.output


# --- the generated docs -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fresh_docs() -> dict[str, str]:
    return reference.generated_docs(ROOT / "specs")


@pytest.mark.parametrize("name", ["ops.md", "blocks.md", "zoo.md"])
def test_generated_doc_is_up_to_date(fresh_docs: dict[str, str], name: str) -> None:
    path = ROOT / "docs" / name
    assert path.is_file(), f"docs/{name} is missing; run `{REGENERATE}`"
    assert path.read_text(encoding="utf-8") == fresh_docs[name], (
        f"docs/{name} is stale; run `{REGENERATE}`"
    )


def test_generation_is_deterministic(fresh_docs: dict[str, str]) -> None:
    assert reference.generated_docs(ROOT / "specs") == fresh_docs


def test_ops_and_blocks_docs_have_a_section_and_example_for_each(fresh_docs) -> None:
    for name, registry in (("ops.md", OPS), ("blocks.md", BLOCKS)):
        text = fresh_docs[name]
        for kind in registry:
            assert re.search(rf"^#+ `{kind}`$", text, re.M), kind
            assert f"```yaml\n{reference.example(kind)}\n```" in text, kind


def test_zoo_has_one_row_per_spec(fresh_docs: dict[str, str]) -> None:
    text = fresh_docs["zoo.md"]
    rows = [line for line in text.splitlines() if line.startswith("| [`")]
    assert [re.search(r"\(\.\./specs/(\S+)\)", r).group(1) for r in rows] == [p.name for p in SPECS]
    resnet50 = next(r for r in rows if "resnet50.yaml" in r).split(" | ")
    assert resnet50[1:6] == ["`ResNet50`", "224×224×3", "25,636,712 (25.6 M)", "3.86 G", "54"]
    assert '"Deep Residual Learning for Image Recognition", CVPR 2016' in resnet50[6]
    lenet = next(r for r in rows if "lenet5.yaml" in r).split(" | ")
    assert lenet[1] == "—"  # no keras.applications twin


def test_zoo_depth_counts_conv_and_dense_layers() -> None:
    depth = {e.name: e.depth for e in reference.zoo_entries(ROOT / "specs")}
    # VGG16: 13 convs + 3 dense; DenseNet-121: its name; ResNet-50: 49 + 4 projections + 1 dense
    assert (depth["vgg16"], depth["densenet121"], depth["resnet50"]) == (16, 121, 54)


def test_main_check_reports_stale_docs(tmp_path: Path) -> None:
    def docs(*args: str):
        return CliRunner().invoke(main, ["docs", *args], catch_exceptions=False)

    assert docs("--write", str(tmp_path)).exit_code == 0
    assert docs("--check", str(tmp_path)).exit_code == 0
    (tmp_path / "zoo.md").write_text("old\n")
    assert docs("--check", str(tmp_path)).exit_code == 1
    assert REGENERATE in docs("--check", str(tmp_path)).output


# --- small pieces -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("K. He, X. Zhang, CVPR, Fig. 5. Follows Keras.", "K. He, X. Zhang, CVPR, Fig. 5."),
        ("ICLR 2015, Table 1 column D. Follows Keras.", "ICLR 2015, Table 1 column D."),
        ("Proc. IEEE 86(11), 1998. Next one.", "Proc. IEEE 86(11), 1998."),
        ("(He et al., 2015): a → b. 42 params.", "(He et al., 2015): a → b."),
        ("no end", "no end"),
        ('L.-C. Chen, "M", CVPR 2018. Next.', 'L.-C. Chen, "M", CVPR 2018.'),
    ],
)  # fmt: skip
def test_first_sentence(text: str, sentence: str) -> None:
    assert reference.first_sentence(text) == sentence


def test_spec_paper_reads_the_header_comment() -> None:
    text = (ROOT / "specs" / "lenet5.yaml").read_text()
    assert reference.spec_paper(text).startswith("Y. LeCun, L. Bottou, Y. Bengio, P. Haffner,")
    assert reference.spec_paper(text).endswith("Fig. 2 and §II.B")


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "null"), (True, "true"), (1.001e-5, "1.001e-5"), (0.5, "0.5"), ("same", "same"),
     ("1x1", "'1x1'"), ("yes", "'yes'"), ("$1 / 255", "$1 / 255"), ("$max(8, c)", "'$max(8, c)'"),
     ([-1, 8], "[-1, 8]"), ({"a": [1, {"b": "x"}]}, "{a: [1, {b: x}]}")],
)  # fmt: skip
def test_yaml_value(value, text: str) -> None:
    assert reference.yaml_value(value) == text
