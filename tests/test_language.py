"""The language for modern networks: blocks that read their inputs' shapes, `repeat` with an
index and a naming pattern, `else` for left-out nodes, absolute names in blocks, functions a
spec declares once, list parameters — and the mistakes around each, located."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archcompiler.compiler import compile_file
from tests.helpers import build, fails

HEAD = "archspec: 1\nname: t\ninput: {shape: [16, 16, 8]}\n"


# --- repeat: an index, a count, a naming pattern ------------------------------------------------


def test_repeat_names_instances_by_a_pattern(tmp_path: Path) -> None:
    text = HEAD + "backbone:\n  - relu: {repeat: {times: 3, names: 'block_{i}', start: 1}}\n"
    g = build(tmp_path, text)
    assert list(g.nodes)[1:] == ["block_1", "block_2", "block_3"]


def test_repeat_letters_and_params_in_names(tmp_path: Path) -> None:
    text = HEAD + (
        "params: {stage: 2}\n"
        "backbone:\n  - relu: {repeat: {times: 3, names: 'block{stage}{a}'}}\n"
        "  - relu: {from: block2c, name: after}\n"
    )
    g = build(tmp_path, text)
    assert list(g.nodes)[1:] == ["block2a", "block2b", "block2c", "after"]


@settings(max_examples=30, deadline=None)
@given(count=st.integers(1, 6), rate=st.sampled_from([0.1, 0.2, 0.5]))
def test_each_instance_reads_its_index(tmp_path_factory, count: int, rate: float) -> None:
    """EfficientNet's drop-connect rate grows with the block index: `rate * i / n`."""
    text = HEAD + (
        f"params: {{drop: {rate}}}\nbackbone:\n"
        f"  - dropout: {{rate: '$drop * repeat.index / repeat.count', repeat: {count}, name: d}}\n"
    )
    g = build(tmp_path_factory.mktemp("r"), text)
    rates = [g.nodes[f"d_{i + 1}"].args.rate for i in range(count)]
    assert rates == [rate * i / count for i in range(count)]


def test_a_stride_on_the_last_instance(tmp_path: Path) -> None:
    """ResNetV2 strides the last block of a stage: an argument that reads `repeat` says itself
    which instances get it, instead of the first-instance rule."""
    text = HEAD + (
        "backbone:\n  - conv: {filters: 8, kernel: 1, repeat: 3, name: c,\n"
        "            strides: '$2 if repeat.index == repeat.count - 1 else 1'}\n"
    )
    g = build(tmp_path, text)
    assert [g.nodes[f"c_{i}"].shape[0] for i in (1, 2, 3)] == [16, 16, 8]
    # without `repeat` in the value, strides stay first-instance-only, as before
    g = build(tmp_path, HEAD + "backbone:\n  - conv: {filters: 8, kernel: 1, repeat: 3, "
                       "strides: 2, name: c}\n")  # fmt: skip
    assert [g.nodes[f"c_{i}"].shape[0] for i in (1, 2, 3)] == [8, 8, 8]


@settings(max_examples=30, deadline=None)
@given(times=st.integers(1, 7), width=st.integers(2, 3))
def test_each_instance_can_read_the_outputs_of_the_instances_before_it(
    tmp_path_factory, times: int, width: int
) -> None:
    """`repeat: {inputs: K}`: instance k takes the outputs of instances k−1 … k−K, the node's
    `from` standing in before the first (NASNet's cells read [x, p]); K = 1 is the usual chain."""
    sources = ["a", "b", "c"][:width]
    text = HEAD + (
        "backbone:\n  - relu: {name: a}\n  - relu: {name: b}\n  - relu: {name: c}\n"
        f"  - add: {{from: [{', '.join(sources)}], "
        f"repeat: {{times: {times}, names: 's{{i}}', start: 0, inputs: {width}}}}}\n"
    )
    g = build(tmp_path_factory.mktemp("r"), text)
    trail = list(sources)
    for k in range(times):
        assert g.nodes[f"s{k}"].inputs == tuple(trail[:width])
        trail = [f"s{k}", *trail]


def test_a_computed_from_names_the_last_instances(tmp_path: Path) -> None:
    text = HEAD + (
        "params: {n: 4}\nbackbone:\n"
        "  - relu: {repeat: {times: $n, names: 'c{i}', start: 0}}\n"
        "  - add: {from: [\"$'c' + str(n - 1)\", \"$'c' + str(n - 2)\"], name: both}\n"
    )
    assert build(tmp_path, text).nodes["both"].inputs == ("c3", "c2")
    assert build(tmp_path, text, {"n": "3"}).nodes["both"].inputs == ("c2", "c1")
    d = fails(tmp_path, text, {"n": "1"})
    assert d.message.startswith("`from` names a node; this expression gives 'c-1'")


def test_repeat_mistakes_are_located(tmp_path: Path) -> None:
    d = fails(tmp_path, HEAD + "backbone:\n  - relu: {repeat: {times: 2, nmes: 'x{i}'}}\n")
    assert "unknown key 'nmes' — did you mean 'names'?" in d.message
    d = fails(tmp_path, HEAD + "backbone:\n  - relu: {repeat: {times: 2, names: 'x{j}'}}\n")
    assert "`{j}` in `names` is not `i`, `a` or a param" in d.message
    d = fails(tmp_path, HEAD + "backbone:\n  - relu: {repeat: {times: 2, names: 'x'}}\n")
    assert "name 'x' is already used" in d.message
    d = fails(tmp_path, HEAD + "backbone:\n  - add: {repeat: {times: 2, inputs: 2}}\n")
    assert d.message == "`inputs: 2` needs `from` with at least 2 nodes, for the first instance"


# --- blocks read their inputs -------------------------------------------------------------------

PROJECT = """
blocks:
  res:
    params: {filters: int}
    body:
      - conv: {filters: $filters, kernel: 1, name: proj, when: "$input.channels != filters",
               else: input}
      - conv: {filters: $filters, kernel: 3, padding: same, name: conv, from: input}
      - add: {from: [proj, conv], name: add}
"""


@pytest.mark.parametrize(("filters", "projected"), [(8, False), (16, True)])
def test_a_projection_only_when_the_channels_change(
    tmp_path: Path, filters: int, projected: bool
) -> None:
    g = build(tmp_path, HEAD + PROJECT + f"backbone:\n  - res: {{filters: {filters}, name: r}}\n")
    assert ("r_proj" in g.nodes) == projected
    assert g.nodes["r_add"].inputs == ("r_proj" if projected else "input", "r_conv")


def test_every_input_has_its_shape(tmp_path: Path) -> None:
    text = (
        "archspec: 1\nname: t\ninputs:\n  - {name: a, shape: [8, 8, 3]}\n"
        "  - {name: b, shape: [10]}\nblocks:\n  pair:\n    inputs: [x, v]\n    body:\n"
        "      - dense: {units: '$x.channels * x.height + v.shape[0] + v.rank', from: v}\n"
        "backbone:\n  - pair: {from: [a, b]}\n"
    )
    g = build(tmp_path, text)
    assert g.nodes["pair_dense"].shape == (3 * 8 + 10 + 1,)
    d = fails(tmp_path, text.replace("v.rank", "v.height"))
    assert "the shape of v has no 'height' (it has shape, rank, channels)" in d.message


def test_a_parameter_cannot_have_an_inputs_name(tmp_path: Path) -> None:
    text = HEAD + "blocks:\n  b:\n    params: {input: 1}\n    body: [relu]\nbackbone: [b]\n"
    assert "has the name of an input of the block" in fails(tmp_path, text).message


def test_else_needs_when(tmp_path: Path) -> None:
    d = fails(tmp_path, HEAD + "backbone:\n  - relu: {name: a, else: input}\n")
    assert d.message == "`else` goes with `when`"


# --- names inside blocks ------------------------------------------------------------------------


def test_absolute_names_inside_a_block(tmp_path: Path) -> None:
    """keras.applications names some layers of a block without its prefix (Xception's)."""
    text = HEAD + (
        "blocks:\n  b:\n    body:\n      - relu: {name: /block1_act}\n"
        "      - relu: {name: local, from: block1_act}\nbackbone:\n  - b: {name: x}\n"
    )
    g = build(tmp_path, text)
    assert list(g.nodes) == ["input", "block1_act", "x_local"]
    assert g.nodes["x_local"].inputs == ("block1_act",)


def test_an_unnamed_node_in_a_block_can_be_named_by_its_op(tmp_path: Path) -> None:
    """Regression: it was placed as `x_max_pool`, yet `from: max_pool` found no such node."""
    text = HEAD + (
        "blocks:\n  b:\n    body:\n      - max_pool: {pool: 1}\n      - relu: {name: r}\n"
        "      - add: {from: [max_pool, r]}\nbackbone:\n  - b: {name: x}\n"
    )
    g = build(tmp_path, text)
    assert g.nodes["x_add"].inputs == ("x_max_pool", "x_r")
    # with `naming: keras` too, where the node is named max_pooling2d, unprefixed
    g = build(tmp_path, text.replace("backbone:", "naming: keras\nbackbone:"))
    assert g.nodes["add"].inputs == ("max_pooling2d", "x_r")
    # a name the body gives a node itself wins over an unnamed node's op
    named = text.replace(
        "      - max_pool: {pool: 1}\n",
        "      - relu: {name: max_pool}\n      - max_pool: {pool: 1}\n",
    )
    g = build(tmp_path, named)
    assert g.nodes["x_max_pool"].op == "relu" and "x_max_pool_1" in g.nodes
    assert g.nodes["x_add"].inputs == ("x_max_pool", "x_r")


# --- functions a spec declares once; list parameters --------------------------------------------


def test_functions_serve_params_and_nodes(tmp_path: Path) -> None:
    text = HEAD + (
        "functions:\n  round8(v): '$max(8, int(v + 4) // 8 * 8)'\n"
        "params: {alpha: 0.75, width: '$round8(32 * alpha)'}\n"
        "backbone:\n  - conv: {filters: '$round8(width * 1.4)', kernel: 1}\n"
    )
    g = build(tmp_path, text)
    assert g.params["width"] == 24 and g.nodes["conv"].shape[-1] == 32


def test_function_mistakes_are_located(tmp_path: Path) -> None:
    d = fails(tmp_path, HEAD + "functions:\n  f(v): '$v * alpha'\nbackbone: [relu]\n")
    assert d.message == "'alpha' is not a parameter of f()"
    assert (d.location.line, d.location.col) == (5, 15)
    d = fails(tmp_path, HEAD + "functions:\n  f(v: '$v'\nbackbone: [relu]\n")
    assert "a function is written `name(a, b)`" in d.message
    d = fails(tmp_path, HEAD + "backbone:\n  - conv: {filters: '$g(2)', kernel: 1}\n")
    assert "function 'g' is not allowed" in d.message


def test_functions_are_inherited(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(
        HEAD + "functions:\n  twice(v): '$2 * v'\nbackbone:\n  - conv: {filters: 4, kernel: 1}\n"
    )
    child = "archspec: 1\nname: c\nextends: base.yaml\noverride:\n  conv: {filters: '$twice(3)'}\n"
    (tmp_path / "child.yaml").write_text(child)
    assert compile_file(tmp_path / "child.yaml").nodes["conv"].shape[-1] == 6


def test_expressions_give_strings_and_lists(tmp_path: Path) -> None:
    text = HEAD + (
        "params: {s: 2, k: 7}\nbackbone:\n"
        "  - conv: {filters: 4, kernel: '$[1, k]', strides: $s,\n"
        "           padding: \"$'same' if s == 1 else 'valid'\"}\n"
    )
    g = build(tmp_path, text)
    assert g.nodes["conv"].args.kernel == (1, 7) and g.nodes["conv"].args.padding == "valid"
    d = fails(tmp_path, text.replace("'valid'", "'vlid'"))
    assert "'padding' should be 'valid' or 'same'" in d.message


def test_list_parameters(tmp_path: Path) -> None:
    text = HEAD + (
        "blocks:\n  b:\n    params: {kernel: list}\n    body:\n"
        "      - conv: {filters: 4, kernel: $kernel, padding: same}\n"
        "backbone:\n  - b: {kernel: [1, 7]}\n"
    )
    assert build(tmp_path, text).nodes["b_conv"].args.kernel == (1, 7)
    d = fails(tmp_path, text.replace("[1, 7]", "3"))
    assert d.message == "'kernel' must be list, got 3"


# --- naming: keras ------------------------------------------------------------------------------

KERAS_NAMED = HEAD + (
    "naming: keras\nblocks:\n  cbr:\n    body:\n"
    "      - conv: {filters: 4, kernel: 3, padding: same, use_bias: false}\n"
    "      - bn: {scale: false}\n      - activation: {activation: relu}\n"
    "backbone:\n  - cbr\n  - cbr: {repeat: 2}\n  - max_pool: {pool: 2}\n"
    "  - relu6\n  - concat: {from: [max_pooling2d, re_lu], name: mixed0}\n  - global_avg_pool\n"
)


def test_keras_naming_gives_the_names_keras_gives(tmp_path: Path) -> None:
    """InceptionV3's conv2d_bn leaves its layers unnamed: Keras calls them conv2d, conv2d_1, …
    batch_normalization_2, activation_2 with counters over the whole model, and so do we."""
    import keras

    g = build(tmp_path, KERAS_NAMED)
    keras.backend.clear_session()  # Keras's counters start anew, as in a new process
    x = inputs = keras.Input((16, 16, 8))
    for _ in range(3):
        x = keras.layers.Conv2D(4, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization(scale=False)(x)
        x = keras.layers.Activation("relu")(x)
    p = keras.layers.MaxPooling2D(2)(x)
    r = keras.layers.ReLU(6.0)(p)
    x = keras.layers.Concatenate(name="mixed0")([p, r])
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, x)
    assert list(g.nodes)[1:] == [layer.name for layer in model.layers[1:]]


@pytest.mark.parametrize("fast", [True, False])
def test_one_name_under_whens_that_exclude_each_other(tmp_path: Path, fast: bool) -> None:
    """Documented: nodes may share a name when their `when`s exclude each other; when both
    are placed, the name is taken twice (an error)."""
    text = HEAD + (
        f"params: {{fast: {str(fast).lower()}}}\nbackbone:\n"
        "  - conv: {filters: 4, kernel: 1, name: a, when: $fast}\n"
        "  - conv: {filters: 4, kernel: 3, padding: same, name: a, when: $not fast}\n"
        "  - relu: {from: a, name: after}\n"
    )
    g = build(tmp_path, text)
    assert g.nodes["a"].args.kernel == ((1, 1) if fast else (3, 3))
    assert g.nodes["after"].inputs == ("a",)
    d = fails(tmp_path, text.replace("$not fast", "true").replace("when: $fast", "when: true"))
    assert "name 'a' is already used" in d.message


def test_a_written_name_is_not_taken_by_a_later_unnamed_node(tmp_path: Path) -> None:
    """`from: conv` means the node written `name: conv`, not a later unnamed conv (conv_1)."""
    text = HEAD + (
        "backbone:\n  - conv: {filters: 4, kernel: 1, name: conv}\n"
        "  - conv: {filters: 5, kernel: 1}\n  - relu: {from: conv}\n"
    )
    assert build(tmp_path, text).nodes["relu"].inputs == ("conv",)
