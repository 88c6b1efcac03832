"""The front end's shortcuts change nothing: validated arguments remembered per model class
(spec/memo.py) give what pydantic's own validation gives, node for node; the loader's tag
resolution is PyYAML's; compiling leaves the garbage collector as it found it; `archc check`
imports only its own command's module."""

from __future__ import annotations

import gc
import subprocess
import sys
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from archcompiler.compiler import compile_file
from archcompiler.errors import SpecError
from archcompiler.ops import OPS
from archcompiler.spec import loader as loader_mod
from archcompiler.spec import memo
from archcompiler.zoo import zoo_path

# pairs of values that compare equal in Python (or hash alike) but that validation may tell apart
DIFFERENT = [
    (1, True),
    (0, False),
    (1, 1.0),
    (0.0, -0.0),
    ([1, 2], (1, 2)),
    ([1], [1.0]),
    ([True], [1]),
    ({"a": 1}, {"a": True}),
    ({"a": [1]}, {"a": (1,)}),
    ("1", 1),
    (None, "null"),
]


@pytest.mark.parametrize(("a", "b"), DIFFERENT, ids=repr)
def test_keys_tell_apart_what_python_calls_equal(a: Any, b: Any) -> None:
    assert memo.key_of({"x": a}) != memo.key_of({"x": b})
    assert memo.key_of({"x": a}) == memo.key_of({"x": a})


@pytest.mark.parametrize("value", [object(), [object()], {"k": {1: 2}}, {1: "x"}, {True: 2}])
def test_values_without_a_safe_key_are_not_remembered(value: Any) -> None:
    assert memo.key_of({"x": value}) is None


# (op, arguments) validated twice through the memo and once by pydantic itself
CASES = [
    ("conv", {"filters": 64, "kernel": 3}),
    ("conv", {"filters": 64, "kernel": [3, 3], "strides": 2, "padding": "same"}),
    ("conv", {"filters": 64, "kernel": 3, "use_bias": False}),
    ("bn", {}),
    ("bn", {"momentum": 0.9, "epsilon": 1e-3}),
    ("dropout", {"rate": 0.5}),
    ("dense", {"units": 10, "activation": "softmax"}),
    ("max_pool", {"pool": 3, "strides": 2}),
]


@pytest.mark.parametrize(("op", "args"), CASES, ids=lambda c: repr(c))
def test_remembered_arguments_are_what_pydantic_validates(op: str, args: dict) -> None:
    model = OPS[op]
    fresh = model.model_validate(args)
    for _ in range(2):
        got = memo.validate(model, dict(args))
        assert type(got) is type(fresh)
        assert got == fresh
        assert got.model_dump() == fresh.model_dump()
        assert got.model_fields_set == fresh.model_fields_set


@pytest.mark.parametrize(
    ("op", "args"),
    [("conv", {"filters": -1, "kernel": 3}), ("conv", {"filters": 8, "kernal": 3})],
)
def test_a_refusal_is_refused_again_in_pydantic_words(op: str, args: dict) -> None:
    model = OPS[op]
    with pytest.raises(ValidationError) as theirs:
        model.model_validate(args)
    for _ in range(2):
        with pytest.raises(ValidationError) as ours:
            memo.validate(model, dict(args))
        assert ours.value.errors() == theirs.value.errors()


def _dump(path: Any) -> list[tuple]:
    graph = compile_file(path)
    return [
        (n.name, n.op, n.shape, n.weights, n.fixed_weights, n.macs, n.block, n.source,
         None if n.args is None else (type(n.args), n.args.model_dump(), n.args.model_fields_set),
         n.placed_by, n.role, n.computed)
        for n in graph
    ]  # fmt: skip


ZOO = ["lenet5", "resnet50", "efficientnetb0", "inception_v3", "efficientnetv2"]


@pytest.mark.parametrize("name", ZOO)
def test_zoo_graphs_are_the_same_without_the_memos(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = zoo_path(name)
    assert path is not None
    remembered = _dump(path)
    monkeypatch.setattr(memo, "validate", lambda model, args: model.model_validate(args))
    monkeypatch.setattr(memo, "inferred", lambda op, shapes: None)  # every shape rule run
    assert _dump(path) == remembered


def test_a_shape_rule_is_remembered_for_the_instance_only() -> None:
    a = memo.validate(OPS["conv"], {"filters": 8, "kernel": 3})
    b = OPS["conv"].model_validate({"filters": 8, "kernel": 3})  # equal, not the same object
    shapes = ((32, 32, 3),)
    memo.remember_inferred(a, shapes, a.infer(list(shapes)))
    assert memo.inferred(a, shapes) == a.infer(list(shapes))
    assert memo.inferred(b, shapes) is None
    assert memo.inferred(a, ((16, 16, 3),)) is None


SCALARS = ["n0", "n", "no", "No", "null", "NULL", "", "~", "yes", "On", "off", "true", "1", "-1",
           "+1", "1e-5", "1.0e-6", "0x1f", "0o17", "017", "1_000", ".inf", "-.Inf", ".nan", "<<",
           "=", "2001-12-14", "1:20", "-", "conv", "!x", "&a", "*a", "relu6"]  # fmt: skip


LOADERS = [loader_mod.LOADER, loader_mod.PURE_LOADER]


@pytest.mark.parametrize("loader_class", LOADERS, ids=["c", "pure"])
def test_scalar_tags_are_those_pyyaml_resolves(loader_class: type) -> None:
    loader = loader_class("")
    for text in SCALARS:
        for implicit in ((True, False), (False, True), (False, False)):
            ours = loader_mod._resolve(loader, text, implicit)
            assert ours == loader.resolve(yaml.ScalarNode, text, implicit), (text, implicit)


@pytest.mark.parametrize("enabled", [True, False])
def test_compiling_leaves_the_collector_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        compile_file(str(zoo_path("lenet5")))
        assert gc.isenabled() is enabled
        with pytest.raises(SpecError):
            compile_file(str(zoo_path("lenet5")), {"nosuch": "1"})
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_check_imports_only_the_module_of_its_command() -> None:
    code = (
        "import sys\nfrom archcompiler.cli import main\n"
        "try:\n    main(['check', '-q', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('archcompiler.cli.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(zoo_path("lenet5"))],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    modules = ["app", "design", "help", "workers"]  # workers: check's files on every core
    assert out.split("\n")[-2] == str([f"archcompiler.cli.{m}" for m in modules])
