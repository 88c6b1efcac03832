"""The JSON Schema of the spec language: the zoo validates, mistakes don't, the committed copy is
current, and every op and block argument agrees with its pydantic model."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from jsonschema.exceptions import best_match
from pydantic import ValidationError

from archcompiler.blocks import BLOCKS
from archcompiler.cli import main
from archcompiler.grammar import STRUCTURAL
from archcompiler.ops import OPS
from archcompiler.schema import schema_text, spec_schema
from archcompiler.spec.loader import load_file, load_text
from tests.conftest import ROOT, SPECS

COMMITTED = ROOT / "docs" / "archspec.schema.json"
MODELINE = "# yaml-language-server: $schema=../docs/archspec.schema.json"
HEADER = "archspec: 1\nname: t\ninput: {shape: [32, 32, 3]}\n"
KINDS = [("op", k, m) for k, m in OPS.items()] + [("block", k, m) for k, m in BLOCKS.items()]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return spec_schema()


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(schema)


def errors(validator: jsonschema.Draft7Validator, text: str) -> list[str]:
    """Schema errors of a spec text (read with our loader: `1e-5` is a float, as in YAML 1.2)."""
    data = load_text(textwrap.dedent(text).lstrip("\n")).data
    best = best_match(validator.iter_errors(data))
    return [] if best is None else [f"{list(best.absolute_path)}: {best.message}"]


def test_schema_is_valid_draft7(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_zoo_spec_validates(validator: jsonschema.Draft7Validator, path: Path) -> None:
    found = [
        f"{list(e.absolute_path)}: {e.message[:200]}"
        for e in validator.iter_errors(load_file(path).data)
    ]
    assert found == []


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_zoo_spec_has_modeline(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == MODELINE, f"{path.name} should start with `{MODELINE}`"


def test_committed_schema_is_current() -> None:
    stale = "docs/archspec.schema.json is stale: run `archc schema -o docs/archspec.schema.json`"
    assert COMMITTED.exists(), stale
    assert COMMITTED.read_text(encoding="utf-8") == schema_text(), stale


def test_text_is_stable_pretty_json() -> None:
    text = schema_text()
    assert text.endswith("}\n")
    assert text == schema_text()
    assert json.loads(text) == spec_schema()


def test_cli_prints_and_writes_the_schema(tmp_path: Path) -> None:
    runner = CliRunner()
    printed = runner.invoke(main, ["schema"])
    assert printed.exit_code == 0, printed.output
    assert printed.output == schema_text()
    out = tmp_path / "s.json"
    written = runner.invoke(main, ["schema", "-o", str(out)])
    assert written.exit_code == 0, written.output
    assert out.read_text(encoding="utf-8") == schema_text()


@pytest.mark.parametrize(("what", "kind", "model"), KINDS, ids=[k for _, k, _ in KINDS])
def test_every_op_and_block_is_in_the_schema(
    schema: dict[str, Any], what: str, kind: str, model: Any
) -> None:
    definition = schema["definitions"][f"{what}.{kind}"]
    assert definition["title"] == kind and definition["description"]
    assert definition["additionalProperties"] is False
    assert list(definition["properties"]) == [*model.model_fields, *STRUCTURAL]
    for arg in model.model_fields:  # what an editor shows on hover
        prop = definition["properties"][arg]
        assert prop.get("title") and prop.get("description"), f"{kind}.{arg} needs a description"
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    assert definition.get("required", []) == required
    for node in ("node", "knownNode"):
        keyed = schema["definitions"][node]["else"]
        assert keyed["properties"][kind] == {"$ref": f"#/definitions/{what}.{kind}"}


def test_file_level_keys_have_descriptions(schema: dict[str, Any]) -> None:
    for key, prop in schema["properties"].items():
        assert prop.get("description"), key
    for key, prop in schema["definitions"]["blockDef"]["properties"].items():
        assert prop.get("description"), key


# ---------------------------------------------------------------------------------------------
# What passes and what does not


def test_unknown_argument_of_a_known_op_fails(validator: jsonschema.Draft7Validator) -> None:
    found = errors(validator, HEADER + "backbone:\n  - conv: {filters: 8, kernel: 3, kernal: 3}")
    assert found and "'kernal' was unexpected" in found[0]


def test_unknown_argument_fails_in_a_file_with_user_blocks(
    validator: jsonschema.Draft7Validator,
) -> None:
    """User blocks open the node keys, never the arguments of a built-in."""
    text = (
        HEADER
        + """
blocks:
  mine:
    params: {f: int}
    body:
      - conv: {filters: $f, kernel: 3, kernel_size: 3}
backbone:
  - mine: {f: 8}
  - bottleneck: {filters: 8, stride: 2}
"""
    )
    messages = {m for e in validator.iter_errors(load_text(text).data) for m in _leaves(e)}
    assert "Additional properties are not allowed ('kernel_size' was unexpected)" in messages
    assert "Additional properties are not allowed ('stride' was unexpected)" in messages


def _leaves(error: jsonschema.ValidationError) -> list[str]:
    """The messages at the bottom of an error's anyOf branches."""
    if not error.context:
        return [error.message]
    return [m for sub in error.context for m in _leaves(sub)]


@pytest.mark.parametrize(
    "node",
    [
        "conv: {filters: x, kernel: 3}",
        "conv: {filters: true, kernel: 3}",
        "conv: {filters: 0, kernel: 3}",
        "conv: {filters: 8, kernel: [3, 3, 3]}",
        "conv: {filters: 8, kernel: 3, padding: full}",
        "conv: {filters: 8}",  # kernel is required
        "conv",  # a bare op that needs arguments
        "dense: {units: 10, activation: softmaxx}",
        "zero_pad: {padding: [[1, 1], 2]}",
        "bottleneck: {filters: 8, stride_on: 2x2}",
        "relu: {repeat: 0}",
        "relu: {when: yes please}",
        "relu: {name: 'has space'}",
        "{relu: {}, flatten: {}}",  # two ops in one node
    ],
)
def test_wrong_values_fail(validator: jsonschema.Draft7Validator, node: str) -> None:
    assert errors(validator, HEADER + f"backbone:\n  - {node}\n")


def test_unknown_op_fails_where_no_user_block_can_exist(
    validator: jsonschema.Draft7Validator,
) -> None:
    found = errors(validator, HEADER + "backbone:\n  - bottlenek: {filters: 64}\n")
    assert found and "'bottlenek' was unexpected" in found[0]
    assert errors(validator, HEADER + "backbone:\n  - bottlenek\n")


@pytest.mark.parametrize("opening", ["blocks: {}\n", "extends: base.yaml\n"])
def test_unknown_op_passes_as_a_possible_user_block(
    validator: jsonschema.Draft7Validator, opening: str
) -> None:
    """Documented limit: with `blocks:` or `extends:` the schema cannot tell a typo from a
    user block (defined here or in the base file); `archc check` can."""
    assert errors(validator, HEADER + opening + "backbone:\n  - bottlenek: {filters: 64}\n") == []
    assert errors(validator, HEADER + opening + "backbone:\n  - my_block\n") == []


@pytest.mark.parametrize(
    "node",
    [
        "conv: {filters: $width * 2, kernel: [3, $k], strides: $s, padding: $pad}",
        'conv: {filters: "$max(8, round(width * 0.75))", kernel: $k, activation: $act}',
        "zero_pad: {padding: [[$k, 1], [1, $k]]}",
        "bottleneck: {filters: $width, repeat: $n, when: $deep, name: $stage}",
        "dense: {units: $classes, use_bias: $bias}",
        "relu: {from: stem, name: r1}",
        "add: {from: [a, b]}",
        "branches: {branches: [[{conv: {filters: $width, kernel: [1, $k], name: a}}], [relu]]}",
        "max_pool: {pool: 3, strides: [2, 1], padding: same}",
        "zero_pad: {padding: [1, 2]}",
        "relu",
        "relu:",
        "dense_block: {repeat: 6, name: conv2}",
    ],
)
def test_expressions_and_short_forms_pass(validator: jsonschema.Draft7Validator, node: str) -> None:
    assert errors(validator, HEADER + f"backbone:\n  - {node}\n") == []


@pytest.mark.parametrize(
    "item",
    [
        "{add: {}}",  # merges several inputs
        "{conv: {filters: 8, kernel: 1, from: x}}",  # no `from` inside a branch
        "{conv: {filters: 8, kernel: 1, name: $x}}",  # branch names are literal
        "{conv: {filters: 8, kernel: 1, kernal: 1}}",
    ],
)
def test_bad_branch_items_fail(validator: jsonschema.Draft7Validator, item: str) -> None:
    node = f"branches: {{branches: [[{item}], [relu]]}}"
    assert errors(validator, HEADER + f"backbone:\n  - {node}\n")


def test_user_block_with_shorthand_params_passes(validator: jsonschema.Draft7Validator) -> None:
    text = (
        HEADER
        + """
params: {width: 16, wide: $width * 2, pad: same}
blocks:
  res:
    doc: conv-bn-relu with a projection shortcut
    params:
      filters: int
      strides: 1
      scale: 0.5
      act: {type: str, default: relu, doc: activation}
      anything: any
    inputs: [input]
    body:
      - conv: {filters: $filters, kernel: 3, strides: $strides, padding: same, name: conv}
      - bn: {name: bn}
      - activation: {activation: $act, name: act}
      - conv: {filters: $filters, kernel: 1, strides: $strides, from: input, name: shortcut}
      - add: {from: [act, shortcut], name: add}
    output: add
backbone:
  - res: {filters: $wide, strides: 2, name: r1}
  - res: {filters: 8, repeat: 2, when: true}
  - res
"""
    )
    assert errors(validator, text) == []
    bad = text.replace("filters: int\n", "filters: {type: integer}\n")
    assert errors(validator, bad)


def test_fashion_resnet_user_blocks_pass(validator: jsonschema.Draft7Validator) -> None:
    data = load_file(ROOT / "specs" / "fashion_resnet.yaml").data
    assert data["blocks"], "the showcase of user blocks should define one"
    assert list(validator.iter_errors(data)) == []


@pytest.mark.parametrize(
    ("fragment", "ok"),
    [
        ("archspec: 2\nname: t\n", False),
        ("archspec: 1\nname: t\nbackbon: []\n", False),
        ("archspec: 1\nname: t\nfreeze: backbone\n", True),
        ("archspec: 1\nname: t\nfreeze: [conv1, block2]\n", True),
        ("archspec: 1\nname: t\nfreeze: head\n", False),
        ("archspec: 1\nname: t\ninput: {shape: [$size, $size, 3]}\n", True),
        ("archspec: 1\nname: t\ninput: {shape: [0, 3]}\n", False),
        ("archspec: 1\nname: t\ninputs: [{name: a, shape: [8]}, {name: b, shape: [8]}]\n", True),
        ("archspec: 1\nname: t\nparams: {a: [1, 2]}\n", False),
        ("archspec: 1\nname: t\nparams: {a b: 1}\n", False),
        ("archspec: 1\nname: t\nblocks: {my-block: {body: [relu]}}\n", False),
        ("archspec: 1\nname: t\noutputs: [a, b]\n", True),
        ("archspec: 1\nname: t\nextends: vgg16.yaml\noverride: {conv1: {filters: 8}}\n", True),
    ],
)
def test_file_level_keys(validator: jsonschema.Draft7Validator, fragment: str, ok: bool) -> None:
    assert (errors(validator, fragment) == []) is ok


# ---------------------------------------------------------------------------------------------
# The schema of every argument says what its pydantic model says

SAMPLES: list[Any] = [
    0, 1, 2, 3, 7, 64, -1, 70_000, 0.5, 1.5, -0.5, True, False, None,
    "same", "valid", "relu", "softmax", "1x1", "3x3", "nearest", "bilinear", "x", "",
    [], [1, 2], [3, 3], [3, 3, 3], [1.5, 2], [4, -1], [[1, 1], [2, 2]], [[1, 2], 3],
    [[{"conv": {"filters": 1, "kernel": 1}}], ["relu"]],
    [[{"conv": {"filters": 1, "kernel": 1, "name": "a"}}], [{"max_pool": None}]],
    [["relu"]], [[{"add": {}}], ["relu"]], {}, {"a": 1},
]  # fmt: skip


def _property_validator(schema: dict[str, Any], ref: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator({"definitions": schema["definitions"], "$ref": ref})


def _model_accepts(model: Any, field: str, value: Any) -> bool:
    try:
        model.model_validate({field: value})
    except ValidationError as e:
        return not any(err["loc"][:1] == (field,) for err in e.errors())
    return True


@pytest.mark.parametrize(("what", "kind", "model"), KINDS, ids=[k for _, k, _ in KINDS])
def test_arguments_agree_with_the_model(schema: dict[str, Any], what: str, kind: str, model: Any):
    """For literal values the schema and the model accept the same things; the one knowing
    difference: pydantic's lax floats take true/false (as 1.0/0.0), the schema refuses them."""
    disagree = []
    for field in model.model_fields:
        check = _property_validator(schema, f"#/definitions/{what}.{kind}/properties/{field}")
        for value in SAMPLES:
            by_schema, by_model = check.is_valid(value), _model_accepts(model, field, value)
            if by_schema != by_model and not (isinstance(value, bool) and by_model):
                disagree.append(f"{field}={value!r}: schema {by_schema}, model {by_model}")
    assert disagree == []


@pytest.mark.parametrize("key", STRUCTURAL)
def test_structural_keys(schema: dict[str, Any], key: str) -> None:
    check = _property_validator(schema, f"#/definitions/key.{key}")
    good = {"name": ["conv1", "1_conv", "$stage", "/block1_act"],
            "from": ["x", ["a", "b"], "$x", ["a", "$'c' + str(n)"]],
            "repeat": [1, 10_000, "$n", {"times": 3, "names": "block_{i}", "start": 0},
                       {"times": "$n", "inputs": 2}],
            "when": [True, False, "$aux"], "else": ["input"]}  # fmt: skip
    bad = {"name": ["a b", 3, "", "a/b"], "from": [[], 3, [3]],
           "repeat": [0, 10_001, 1.5, True, {"names": "x"}, {"times": 2, "nmes": "x"},
                      {"times": 2, "inputs": 0}],
           "when": ["yes", 1], "else": ["$x", 3]}  # fmt: skip
    assert all(check.is_valid(v) for v in good[key])
    assert not any(check.is_valid(v) for v in bad[key])


def test_the_repeat_form_has_the_models_keys(schema: dict[str, Any]) -> None:
    """grammar.py writes `repeat`'s JSON Schema by hand (the ground floor cannot import the spec
    model): its keys are RepeatForm's, so the two cannot drift apart."""
    from archcompiler.spec.model import RepeatForm

    form = next(s for s in schema["definitions"]["key.repeat"]["anyOf"] if "properties" in s)
    assert set(form["properties"]) == set(RepeatForm.model_fields)
