"""Properties over generated inputs (strategies in tests/strategies.py).

- every op: our shape rule and weight counts == Keras's, and our ShapeErrors are real refusals;
- a sample of ops: a real forward pass has the inferred shape;
- every block, and whole random specs: the summary == the built Keras model, layer by layer;
- metamorphic: doubling `filters` doubles weights and MACs; `repeat: n` is linear for
  shape-preserving blocks; `--set k=v` is the same as editing the file.

The number of examples scales with the active Hypothesis profile (`ci` by default, `fuzz` with
`pytest --hypothesis-profile=fuzz`); `--hypothesis-show-statistics` prints the counts.
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from archcompiler.blocks import BLOCKS
from archcompiler.compiler import compile_file
from archcompiler.errors import SpecError
from archcompiler.graph import Graph
from archcompiler.ops import OPS, Inferred, ShapeError
from archcompiler.summary import to_json
from tests.strategies import (
    BLOCK_STRATEGIES,
    OP_STRATEGIES,
    UNIT,
    dump,
    spec_dicts,
    specs,
    tiny_spec,
)
from tests.test_ops import hand_macs, to_keras

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def examples(share: float, floor: int = 2) -> int:
    """A share of the active profile's max_examples (ci: 200, fuzz: 20,000)."""
    return max(floor, round(settings().max_examples * share))


def prop(share: float, floor: int = 2) -> Any:
    return settings(max_examples=examples(share, floor), deadline=None)


@pytest.fixture(scope="module")
def keras() -> Any:
    return pytest.importorskip("keras")


def compile_text(text: str, overrides: dict[str, str] | None = None) -> Graph:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.yaml"
        path.write_text(text)
        return compile_file(path, overrides)


def _size(weights: list[Any]) -> int:
    return sum(math.prod(w.shape) for w in weights)


def _batched(kind: str, shapes: list[tuple[int, ...]]) -> Any:
    return [(None, *s) for s in shapes] if OPS[kind].arity != (1, 1) else (None, *shapes[0])


def _infer(kind: str, args: dict[str, Any], shapes: list[tuple[int, ...]]) -> Inferred:
    return OPS[kind].model_validate(args).infer(list(shapes))


# --- the registries are covered --------------------------------------------------------------


def test_every_op_has_a_strategy() -> None:
    assert set(OP_STRATEGIES) == set(OPS)


def test_every_block_has_a_strategy() -> None:
    assert set(BLOCK_STRATEGIES) == set(BLOCKS)


# --- ops against Keras -----------------------------------------------------------------------


def _keras_refuses(keras: Any, kind: str, args: dict[str, Any], shapes: list) -> bool:
    """Keras refuses the layer (an error, a size ≤ 0 somewhere, or another output shape while
    training), or infers another output shape than it computes, so that a model built on it
    would fail at the next layer."""
    batched = _batched(kind, shapes)
    try:
        out = to_keras(keras, kind, args).compute_output_shape(batched)
        if any(d is not None and d <= 0 for d in tuple(out)[1:]):
            return True
        to_keras(keras, kind, args).build(batched)
        import numpy as np

        xs = [np.zeros((1, *s), "float32") for s in shapes]
        x = xs if OPS[kind].arity != (1, 1) else xs[0]
        y = to_keras(keras, kind, args)(x)
        if any(d <= 0 for d in y.shape) or tuple(out)[1:] != tuple(y.shape)[1:]:
            return True
        # some layers fail only while training (Dropout's noise_shape), or grow their output
        return tuple(to_keras(keras, kind, args)(x, training=True).shape) != tuple(y.shape)
    except Exception:  # any refusal counts
        return True


@pytest.mark.parametrize("kind", sorted(OPS))
@prop(0.1)
@given(data=st.data())
def test_op_matches_keras(keras: Any, kind: str, data: st.DataObject) -> None:
    args, shapes = data.draw(OP_STRATEGIES[kind], label="case")
    try:
        ours = _infer(kind, args, shapes)
    except ShapeError as e:
        assert _keras_refuses(keras, kind, args, shapes), f"Keras accepts what we refuse: {e}"
        return
    layer = to_keras(keras, kind, args)
    batched = _batched(kind, shapes)
    keras_shape = tuple(layer.compute_output_shape(batched))
    assert ours.shape == keras_shape[1:]
    layer.build(batched)
    assert ours.trainable + ours.non_trainable == layer.count_params()
    assert ours.trainable == _size(layer.trainable_weights)
    assert ours.non_trainable == _size(layer.non_trainable_weights)
    assert ours.macs == hand_macs(kind, args, shapes, ours.shape)


@pytest.mark.parametrize("kind", sorted(OPS))
# generated shapes may give softmax an axis of size 1, which Keras warns about (always 1)
@pytest.mark.filterwarnings("ignore:You are using a softmax over axis:UserWarning")
@prop(0.025)
@given(data=st.data())
def test_op_forward_pass(keras: Any, kind: str, data: st.DataObject) -> None:
    """A random tensor through the real layer comes out with the inferred shape."""
    import numpy as np

    args, shapes = data.draw(OP_STRATEGIES[kind], label="case")
    try:
        ours = _infer(kind, args, shapes)
    except ShapeError:
        assume(False)
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((1, *s)).astype("float32") for s in shapes]
    y = to_keras(keras, kind, args)(xs if OPS[kind].arity != (1, 1) else xs[0])
    assert tuple(y.shape) == (1, *ours.shape)


# --- blocks and whole specs against Keras ----------------------------------------------------


def assert_summary_matches_keras(keras: Any, graph: Graph) -> None:
    """`archc summary` (its JSON) == the built Keras model, layer by layer."""
    from archcompiler.backends.keras import build_model

    keras.backend.clear_session()
    model = build_model(graph)
    rows = to_json(graph)["nodes"]
    assert {layer.name for layer in model.layers} == {row["name"] for row in rows}
    for row, node in zip(rows, graph, strict=True):
        layer = model.get_layer(row["name"])
        assert tuple(layer.output.shape)[1:] == tuple(row["output_shape"]), row["name"]
        trainable, fixed = _size(layer.trainable_weights), _size(layer.non_trainable_weights)
        assert trainable + fixed == row["params"], row["name"]
        assert trainable == row["trainable_params"] == node.trainable_params, row["name"]
        assert fixed == node.non_trainable_params, row["name"]
    assert model.count_params() == graph.total_params


@pytest.mark.parametrize("kind", sorted(BLOCKS))
@prop(0.05)
@given(data=st.data())
def test_block_matches_keras(keras: Any, kind: str, data: st.DataObject) -> None:
    args, shape = data.draw(BLOCK_STRATEGIES[kind], label="case")
    repeat = data.draw(st.sampled_from([None, 1, 2]), label="repeat")
    if repeat and kind in ("transition", "vgg_stage") and min(shape[:2]) < 4:
        repeat = None  # each instance halves H×W
    if kind.startswith("nasnet_"):  # cells chain with `repeat: {inputs: 2}` (test_parity_nasnet)
        repeat = None
    graph = compile_text(tiny_spec(kind, args, shape, repeat))
    assert_summary_matches_keras(keras, graph)


@prop(0.15, floor=4)
@given(text=specs())
def test_random_spec_matches_keras(keras: Any, text: str) -> None:
    assert_summary_matches_keras(keras, compile_text(text))


# --- metamorphic -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["conv", "conv_transpose"])
@prop(0.5)
@given(data=st.data())
def test_doubling_filters_doubles_weights_and_macs(kind: str, data: st.DataObject) -> None:
    args, shapes = data.draw(OP_STRATEGIES[kind], label="case")
    try:
        one = _infer(kind, args, shapes)
    except ShapeError:
        assume(False)
    two = _infer(kind, {**args, "filters": 2 * args["filters"]}, shapes)
    assert two.shape == (*one.shape[:-1], 2 * one.shape[-1])
    assert (two.trainable, two.non_trainable) == (2 * one.trainable, 0)
    assert two.macs == 2 * one.macs
    # and by the formula: (kh·kw·C/groups + bias)·F
    op = OPS[kind].model_validate(args)
    per_filter = op.kernel[0] * op.kernel[1] * shapes[0][-1] // getattr(op, "groups", 1)
    assert one.trainable == (per_filter + op.use_bias) * op.filters


@st.composite
def shape_preserving(draw: st.DrawFn) -> tuple[str, dict[str, Any], tuple[int, ...], bool]:
    """A block and args whose output shape equals its input shape (so `repeat` is linear)."""
    kind = draw(
        st.sampled_from(["basic", "bottleneck", "fire", "inception", "depthwise_sep",
                         "vgg_stage", "branches", "unit"])
    )  # fmt: skip
    n = st.integers(1, 4)
    if kind == "bottleneck":
        f, e = draw(n), draw(n)
        args: dict[str, Any] = {"filters": f, "expansion": e}
        c = f * e
    elif kind == "fire":
        args = {"squeeze": draw(n), "expand1x1": draw(n), "expand3x3": draw(n)}
        c = args["expand1x1"] + args["expand3x3"]
    elif kind == "inception":
        keys = ["c1x1", "c3x3_reduce", "c3x3", "c5x5_reduce", "c5x5", "pool_proj"]
        args = {k: draw(n) for k in keys}
        c = args["c1x1"] + args["c3x3"] + args["c5x5"] + args["pool_proj"]
    elif kind == "branches":
        a, b = draw(n), draw(n)
        wide = {"conv": {"filters": b, "kernel": 3, "padding": "same"}}
        args = {"branches": [[{"conv": {"filters": a, "kernel": 1}}], ["bn", wide]]}
        c = a + b
    elif kind == "vgg_stage":
        c = draw(n)
        args = {"convs": draw(st.integers(1, 2)), "filters": c, "pool": False}
    elif kind == "unit":
        c = draw(n)
        args = {"filters": c, "project": draw(st.booleans())}
    else:  # basic, depthwise_sep (alpha 1)
        c = draw(n)
        args = {"filters": c}
    hw = draw(st.integers(1, 8))
    return kind, args, (hw, hw, c), kind == "unit"


@prop(0.25)
@given(case=shape_preserving())
def test_repeat_grows_params_linearly(case: tuple) -> None:
    kind, args, shape, user = case
    totals, macs = [], []
    for n in (1, 2, 3, 4):
        spec = {
            "archspec": 1,
            "name": "t",
            "input": {"shape": list(shape)},
            **({"blocks": {"unit": UNIT}} if user else {}),
            "backbone": [{kind: {**args, "repeat": n, "name": "b"}}],
        }
        graph = compile_text(dump(spec))
        assert graph.nodes[graph.outputs[0]].shape == shape
        totals.append((graph.trainable_params, graph.non_trainable_params))
        macs.append(graph.macs)
    steps = {(b[0] - a[0], b[1] - a[1]) for a, b in itertools.pairwise(totals)}
    assert steps == {totals[0]}  # params(n) − params(n−1) == params(1) for every n
    assert {b - a for a, b in itertools.pairwise(macs)} == {macs[0]}


def _signature(graph: Graph) -> list[tuple]:
    return [
        (n.name, n.op, n.inputs, n.shape, n.trainable_params, n.non_trainable_params, n.macs,
         n.block, n.args.model_dump() if n.args is not None else None)
        for n in graph
    ] + [tuple(graph.inputs), tuple(graph.outputs)]  # fmt: skip


def _outcome(text: str, overrides: dict[str, str] | None = None) -> Any:
    try:
        return _signature(compile_text(text, overrides))
    except SpecError as e:
        d = e.diagnostics[0]
        return ("error", d.message, d.location.line, d.location.col)


@prop(0.25)
@given(spec=spec_dicts(), width=st.integers(1, 8), classes=st.integers(1, 10))
def test_set_equals_editing_the_file(spec: dict, width: int, classes: int) -> None:
    """`--set width=W --set classes=N` compiles to what the edited file compiles to (the same
    Graph, or the same error at the same place when the new width breaks a merge)."""
    edited = {**spec, "params": {**spec["params"], "width": width, "classes": classes}}
    sets = {"width": str(width), "classes": str(classes)}
    assert _outcome(dump(spec), sets) == _outcome(dump(edited))
