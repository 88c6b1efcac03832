"""The front end's shortcuts change nothing: validated arguments remembered per model class
(compiler/memo.py) give what pydantic's own validation gives, node for node."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from archcompiler.compiler import compile_file, memo
from archcompiler.ops import OPS
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
def test_zoo_graphs_are_the_same_without_the_memo(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = zoo_path(name)
    assert path is not None
    remembered = _dump(path)
    monkeypatch.setattr(memo, "validate", lambda model, args: model.model_validate(args))
    assert _dump(path) == remembered
