"""Hypothesis strategies for archspec: op arguments, block arguments and whole spec texts.

Reusable by any property test. Everything is kept small (H, W ≤ 16, C ≤ 8) so that building
the equivalent Keras layers and models stays fast.

- `OP_STRATEGIES[kind]`: `(args, input shapes)` for every primitive op in `OPS`; the args are
  raw, user-spelled (as in YAML: lists, not tuples). Draws respect the op's rules (groups divide
  channels, `output_padding` < strides, merges get equal shapes, …), so most are valid; some
  `padding: valid` windows do not fit on purpose, to exercise the error path.
- `BLOCK_STRATEGIES[kind]`: `(args, input shape)` for every built-in block in `BLOCKS`.
- `specs()`: a whole valid spec as YAML text — chains and DAGs mixing ops and blocks, skip
  connections (`from`), add/concat merges, and a user-defined block used with `repeat`. Shapes
  are tracked while drawing so every merge is compatible by construction.
"""

from __future__ import annotations

import typing
from typing import Any

import yaml
from hypothesis import strategies as st

from archcompiler.ops import initializers
from archcompiler.ops.base import ActivationName

Args = dict[str, Any]
Shape = tuple[int, ...]
Case = tuple[Args, list[Shape]]

ACTIVATIONS = sorted(typing.get_args(ActivationName))
SIDE = st.integers(1, 16)
CHANNELS = st.integers(1, 8)
# Floats that survive a YAML round trip and that Keras accepts.
EPSILON = st.sampled_from([1e-3, 1.001e-5, 1e-5, 0.01, 0.1])
MOMENTUM = st.sampled_from([0.0, 0.5, 0.9, 0.99, 1.0])


# --- small pieces ----------------------------------------------------------------------------


def sizes(lo: int = 1, hi: int = 5) -> st.SearchStrategy[Any]:
    """`n` or `[h, w]`, as a user writes a kernel, stride or pool size."""
    return st.one_of(st.integers(lo, hi), st.lists(st.integers(lo, hi), min_size=2, max_size=2))


def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


@st.composite
def hwc(draw: st.DrawFn, lo: int = 1) -> Shape:
    return (draw(st.integers(lo, 16)), draw(st.integers(lo, 16)), draw(CHANNELS))


def any_rank(min_rank: int = 1) -> st.SearchStrategy[Shape]:
    """A shape of rank min_rank…3 (no batch), small."""
    return st.integers(min_rank, 3).flatmap(
        lambda r: st.tuples(*[st.integers(1, 8)] * r).map(tuple)
    )


def optional(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value, or the key left out (drawn as the sentinel `OMIT`)."""
    return st.one_of(st.just(OMIT), value)


OMIT = object()


def args_of(**fields: Any) -> Args:
    return {k: v for k, v in fields.items() if v is not OMIT}


# --- primitive ops ---------------------------------------------------------------------------

# A valid value for each config key of a Keras initializer (floats that survive YAML).
_INIT_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "seed": st.integers(0, 2**31 - 1),
    "scale": st.sampled_from([0.5, 1.0, 2.0, 1 / 3, 2]),
    "mode": st.sampled_from(["fan_in", "fan_out", "fan_avg"]),
    "distribution": st.sampled_from(["truncated_normal", "untruncated_normal", "normal",
                                     "uniform"]),
    "mean": st.sampled_from([0.0, 0.5, -1.0]),
    "stddev": st.sampled_from([0.01, 0.05, 1.0]),
    "minval": st.sampled_from([-0.05, -1.0, 0]),
    "maxval": st.sampled_from([0.05, 1.0, 2]),
    "gain": st.sampled_from([1.0, 0.5, 2]),
    "value": st.sampled_from([0.0, 0.1, -1.0, 1]),
}  # fmt: skip


@st.composite
def initializer(draw: st.DrawFn, rank: int) -> Any:
    """A Keras initializer a `rank`-D weight takes: a name, or {class_name, config} with some
    of the class's keys (Identity fills 2-D weights only, Orthogonal needs 2 or more)."""
    refused = ({"Identity"} if rank != 2 else set()) | ({"Orthogonal"} if rank < 2 else set())
    classes = [c for c in initializers.CLASSES if c not in refused]
    if draw(st.booleans()):
        return draw(st.sampled_from([initializers.snake(c) for c in classes
                                     if c not in initializers.REQUIRED]))  # fmt: skip
    name = draw(st.sampled_from(classes))
    keys = list(initializers.CLASSES[name])
    required = initializers.REQUIRED.get(name, ())
    chosen = [k for k in keys if k in required or draw(st.booleans())]
    config = {k: draw(_INIT_VALUES[k]) for k in chosen}
    spelled = initializers.snake(name) if draw(st.booleans()) else name
    if config or draw(st.booleans()):  # `config: {}` written out, or left out
        return {"class_name": spelled, "config": config}
    return {"class_name": spelled}


def _inits(draw: st.DrawFn, **weights: int) -> Args:
    """`NAME_initializer` arguments, each left out half the time, for weights of given ranks."""
    drawn = {f"{n}_initializer": draw(optional(initializer(r))) for n, r in weights.items()}
    return args_of(**drawn)


@st.composite
def _strides_dilation(draw: st.DrawFn) -> tuple[Any, Any]:
    """strides > 1 and dilation_rate > 1 never together (TensorFlow refuses, so do we)."""
    if draw(st.booleans()):
        return draw(optional(sizes(1, 3))), OMIT
    return OMIT, draw(optional(sizes(1, 3)))


def _conv_common(draw: st.DrawFn) -> Args:
    strides, dilation = draw(_strides_dilation())
    return args_of(
        kernel=draw(sizes(1, 5)),
        strides=strides,
        dilation_rate=dilation,
        padding=draw(optional(st.sampled_from(["valid", "same"]))),
        use_bias=draw(optional(st.booleans())),
        activation=draw(optional(st.sampled_from(ACTIVATIONS))),
    )


@st.composite
def conv_case(draw: st.DrawFn) -> Case:
    groups = draw(st.integers(1, 4))
    channels = groups * draw(st.integers(1, 2))
    filters = groups * draw(st.integers(1, 3))
    args = {"filters": filters, **_conv_common(draw), **_inits(draw, kernel=4, bias=1)}
    if groups > 1 or draw(st.booleans()):
        args["groups"] = groups
    h, w = draw(SIDE), draw(SIDE)
    return args, [(h, w, channels)]


@st.composite
def depthwise_conv_case(draw: st.DrawFn) -> Case:
    args = {**_conv_common(draw), **_inits(draw, depthwise=4, bias=1)}
    if draw(st.booleans()):
        args["depth_multiplier"] = draw(st.integers(1, 3))
    return args, [draw(hwc())]


@st.composite
def separable_conv_case(draw: st.DrawFn) -> Case:
    args = {
        "filters": draw(st.integers(1, 8)), **_conv_common(draw),
        **_inits(draw, depthwise=4, pointwise=4, bias=1),
    }  # fmt: skip
    if draw(st.booleans()):
        args["depth_multiplier"] = draw(st.integers(1, 3))
    return args, [draw(hwc())]


@st.composite
def conv_transpose_case(draw: st.DrawFn) -> Case:
    args = {
        "filters": draw(st.integers(1, 8)),
        **_conv_common(draw),
        **_inits(draw, kernel=4, bias=1),
    }
    strides = _pair(args.get("strides", 1))
    if draw(st.booleans()):
        pads = [draw(st.integers(0, s - 1)) for s in strides]
        args["output_padding"] = pads[0] if pads[0] == pads[1] and draw(st.booleans()) else pads
    return args, [draw(hwc())]


@st.composite
def dense_case(draw: st.DrawFn) -> Case:
    args = args_of(
        units=draw(st.integers(1, 16)),
        use_bias=draw(optional(st.booleans())),
        activation=draw(optional(st.sampled_from(ACTIVATIONS))),
    )
    return {**args, **_inits(draw, kernel=2, bias=1)}, [draw(any_rank())]


@st.composite
def dropout_case(draw: st.DrawFn) -> Case:
    """Sometimes a `noise_shape`: null or 1 for the batch, then null, 1 or the size per axis;
    now and then (with rate > 0) a mask that fits no axis or has an axis too many, which
    Keras refuses (or turns into a bigger output) while training."""
    shape = draw(any_rank())
    args: Args = {"rate": draw(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9]))}
    if draw(st.booleans()):
        noise = [draw(st.sampled_from([None, 1]))]
        noise += [draw(st.sampled_from([None, 1, d])) for d in shape]
        if args["rate"] > 0 and draw(st.integers(0, 7)) == 0:
            i = draw(st.integers(0, len(noise)))
            if i == len(noise):
                noise.append(draw(st.sampled_from([None, 2])))
            else:
                noise[i] = 3 if i == 0 else shape[i - 1] + 1
        args["noise_shape"] = noise
    return args, [shape]


@st.composite
def bn_case(draw: st.DrawFn) -> Case:
    args = args_of(
        epsilon=draw(optional(EPSILON)),
        momentum=draw(optional(MOMENTUM)),
        center=draw(optional(st.booleans())),
        scale=draw(optional(st.booleans())),
    )
    return args, [draw(any_rank())]


def _axis(draw: st.DrawFn, shape: Shape) -> int:
    """A Keras axis of `shape` (batch excluded); one in eight is no feature axis (an error)."""
    r = len(shape)
    if draw(st.integers(0, 7)) == 0:
        return draw(st.sampled_from([0, r + 1, -(r + 1)]))
    return draw(st.sampled_from([*range(-r, 0), *range(1, r + 1)]))


@st.composite
def layer_norm_case(draw: st.DrawFn) -> Case:
    shape = draw(any_rank())
    args = args_of(
        epsilon=draw(optional(EPSILON)),
        center=draw(optional(st.booleans())),
        scale=draw(optional(st.booleans())),
    )
    if draw(st.booleans()):
        args["axis"] = _axis(draw, shape)
        batch = args["axis"] % (len(shape) + 1) == 0  # 0 or -(rank + 1)
        if batch and not (args.get("center", True) or args.get("scale", True)):
            args["axis"] = -1  # without weights Keras normalizes over the batch; we refuse
    return args, [shape]


STATS = st.sampled_from([0.0, 0.5, -1.0, 0.485, 123.68, 2])


@st.composite
def normalization_case(draw: st.DrawFn) -> Case:
    """Mean and variance (one per entry of the axis) or neither; sometimes a wrong count or
    only one of them, which Keras refuses too."""
    shape = draw(any_rank())
    axis = _axis(draw, shape) if draw(st.booleans()) else -1
    args = args_of(axis=OMIT if axis == -1 and draw(st.booleans()) else axis)
    r = len(shape)
    if draw(st.booleans()) and (-r <= axis < 0 or 1 <= axis <= r):
        n = shape[axis if axis < 0 else axis - 1]
        if draw(st.integers(0, 7)) == 0:  # a count that neither fits nor broadcasts
            n = draw(st.integers(2, 9).filter(lambda k: k != n))
        args["mean"] = draw(st.lists(STATS, min_size=n, max_size=n))
        args["variance"] = draw(st.lists(STATS.map(abs), min_size=n, max_size=n))
        if draw(st.integers(0, 7)) == 0:
            del args[draw(st.sampled_from(["mean", "variance"]))]
    return args, [shape]


@st.composite
def activation_case(draw: st.DrawFn) -> Case:
    return {"activation": draw(st.sampled_from(ACTIVATIONS))}, [draw(any_rank())]


@st.composite
def relu_case(draw: st.DrawFn) -> Case:
    args = args_of(
        max_value=draw(optional(st.sampled_from([0.5, 1.0, 6.0]))),
        negative_slope=draw(optional(st.sampled_from([0.0, 0.1, 0.3]))),
        threshold=draw(optional(st.sampled_from([0.0, 0.5]))),
    )
    return args, [draw(any_rank())]


@st.composite
def leaky_relu_case(draw: st.DrawFn) -> Case:
    args = args_of(negative_slope=draw(optional(st.sampled_from([0.0, 0.01, 0.3, 1.0]))))
    return args, [draw(any_rank())]


@st.composite
def softmax_case(draw: st.DrawFn) -> Case:
    shape = draw(any_rank())
    r = len(shape)
    axis = draw(optional(st.sampled_from([*range(-r, 0), *range(1, r + 1)])))
    return args_of(axis=axis), [shape]


def no_args_case() -> st.SearchStrategy[Case]:
    return any_rank().map(lambda s: ({}, [s]))


@st.composite
def pool_case(draw: st.DrawFn) -> Case:
    args = args_of(
        pool=draw(optional(sizes(1, 4))),
        strides=draw(optional(sizes(1, 3))),
        padding=draw(optional(st.sampled_from(["valid", "same"]))),
    )
    return args, [draw(hwc())]


@st.composite
def global_pool_case(draw: st.DrawFn) -> Case:
    return args_of(keepdims=draw(optional(st.booleans()))), [draw(hwc())]


@st.composite
def zero_pad_case(draw: st.DrawFn) -> Case:
    n = st.integers(0, 3)
    padding = draw(
        optional(
            st.one_of(
                n, st.lists(n, min_size=2, max_size=2),
                st.lists(st.lists(n, min_size=2, max_size=2), min_size=2, max_size=2),
            )
        )
    )  # fmt: skip
    return args_of(padding=padding), [draw(hwc())]


@st.composite
def crop_case(draw: st.DrawFn) -> Case:
    h, w, c = draw(hwc())
    # mostly leave at least one row and column; sometimes crop everything (an error)
    slack = draw(st.sampled_from([1, 1, 1, 0]))
    top = draw(st.integers(0, max(0, h - slack)))
    bottom = draw(st.integers(0, max(0, h - slack - top)))
    left = draw(st.integers(0, max(0, w - slack)))
    right = draw(st.integers(0, max(0, w - slack - left)))
    form = draw(st.sampled_from(["pairs", "sym", "one", "omit"]))
    if form == "omit":
        return {}, [(h, w, c)]
    if form == "one":
        k = min(top, left)
        return {"cropping": k}, [(h, w, c)]
    if form == "sym":
        return {"cropping": [min(top, bottom), min(left, right)]}, [(h, w, c)]
    return {"cropping": [[top, bottom], [left, right]]}, [(h, w, c)]


@st.composite
def reshape_case(draw: st.DrawFn) -> Case:
    shape = draw(any_rank())
    size = 1
    for d in shape:
        size *= d
    # split `size` into 1…3 factors
    factors: list[int] = []
    rest = size
    for _ in range(draw(st.integers(0, 2))):
        divisors = [d for d in range(1, rest + 1) if rest % d == 0]
        d = draw(st.sampled_from(divisors))
        factors.append(d)
        rest //= d
    factors.append(rest)
    factors = draw(st.permutations(factors))
    if draw(st.booleans()):
        factors[draw(st.integers(0, len(factors) - 1))] = -1
    elif draw(st.integers(0, 7)) == 0:  # a target of the wrong size: an error
        factors[-1] += 1
    return {"target_shape": list(factors)}, [shape]


@st.composite
def upsample_case(draw: st.DrawFn) -> Case:
    args = args_of(
        size=draw(optional(sizes(1, 3))),
        interpolation=draw(optional(st.sampled_from(["nearest", "bilinear"]))),
    )
    return args, [draw(hwc())]


@st.composite
def rescaling_case(draw: st.DrawFn) -> Case:
    args = args_of(
        scale=draw(st.sampled_from([1 / 255, 0.5, 2.0, -1.0])),
        offset=draw(optional(st.sampled_from([0.0, -1.0, 0.5]))),
    )
    return args, [draw(any_rank())]


@st.composite
def merge_case(draw: st.DrawFn, lo: int = 2, hi: int = 4) -> Case:
    """Equal shapes; sometimes an input has size 1 on an axis (broadcasts, as in SE gating)."""
    shape = draw(any_rank())
    shapes = []
    for _ in range(draw(st.integers(lo, hi))):
        s = list(shape)
        if len(s) > 1 and draw(st.integers(0, 4)) == 0:
            s[draw(st.integers(0, len(s) - 1))] = 1
        shapes.append(tuple(s))
    if draw(st.integers(0, 7)) == 0:  # now and then a mismatch: an error on both sides
        shapes[-1] = _perturb(draw, shapes[-1])
    return {}, shapes


def _perturb(draw: st.DrawFn, shape: Shape, keep: int | None = None) -> Shape:
    """`shape` with one axis (not `keep`) changed to another size ≥ 2."""
    axes = [i for i in range(len(shape)) if i != keep]
    if not axes:
        return shape
    i = draw(st.sampled_from(axes))
    s = list(shape)
    s[i] = draw(st.integers(2, 9).filter(lambda d: d != shape[i]))
    return tuple(s)


@st.composite
def layer_scale_case(draw: st.DrawFn) -> Case:
    """γ per channel: `projection_dim` is the input's last axis, or in one case of eight
    another size (an error, which Keras's LayerScale refuses too — except where either is 1,
    which its product broadcasts, so those cases take 2 or more)."""
    shape = draw(any_rank())
    channels = shape[-1]
    if draw(st.integers(0, 7)) == 0:
        shape = (*shape[:-1], max(2, shape[-1]))
        channels = draw(st.integers(2, 9).filter(lambda c: c != shape[-1]))
    init = draw(optional(st.sampled_from([1e-6, 1e-5, 0.0, 0.5, 1.0, -2.0])))
    return {"projection_dim": channels, **args_of(init_values=init)}, [shape]


@st.composite
def concat_case(draw: st.DrawFn) -> Case:
    shape = draw(any_rank())
    r = len(shape)
    axis = draw(st.sampled_from([*range(-r, 0), *range(1, r + 1)]))
    i = axis - 1 if axis > 0 else r + axis
    shapes = []
    for _ in range(draw(st.integers(1, 3))):
        s = list(shape)
        s[i] = draw(st.integers(1, 8))
        shapes.append(tuple(s))
    if len(shapes) > 1 and draw(st.integers(0, 7)) == 0:  # a mismatch off the axis: an error
        shapes[-1] = _perturb(draw, shapes[-1], keep=i)
    args = {} if axis == -1 and draw(st.booleans()) else {"axis": axis}
    return args, shapes


OP_STRATEGIES: dict[str, st.SearchStrategy[Case]] = {
    "conv": conv_case(),
    "depthwise_conv": depthwise_conv_case(),
    "separable_conv": separable_conv_case(),
    "conv_transpose": conv_transpose_case(),
    "dense": dense_case(),
    "dropout": dropout_case(),
    "bn": bn_case(),
    "layer_norm": layer_norm_case(),
    "normalization": normalization_case(),
    "activation": activation_case(),
    "relu": relu_case(),
    "relu6": no_args_case(),
    "leaky_relu": leaky_relu_case(),
    "softmax": softmax_case(),
    "sigmoid": no_args_case(),
    "tanh": no_args_case(),
    "max_pool": pool_case(),
    "avg_pool": pool_case(),
    "global_avg_pool": global_pool_case(),
    "global_max_pool": global_pool_case(),
    "zero_pad": zero_pad_case(),
    "crop": crop_case(),
    "flatten": no_args_case(),
    "reshape": reshape_case(),
    "upsample": upsample_case(),
    "rescaling": rescaling_case(),
    "add": merge_case(),
    "subtract": merge_case(2, 2),
    "multiply": merge_case(),
    "average": merge_case(),
    "maximum": merge_case(),
    "minimum": merge_case(),
    "concat": concat_case(),
    "layer_scale": layer_scale_case(),
}


# --- built-in blocks -------------------------------------------------------------------------

BlockCase = tuple[Args, Shape]


@st.composite
def _branch_item(draw: st.DrawFn) -> Any:
    """An op that keeps H×W (stride 1, `same`), so the branches concatenate."""
    kind = draw(
        st.sampled_from(["conv", "depthwise_conv", "separable_conv", "bn", "relu", "max_pool",
                         "avg_pool", "dropout"])
    )  # fmt: skip
    k = draw(st.integers(1, 3))
    if kind == "conv":
        return {"conv": {"filters": draw(st.integers(1, 6)), "kernel": k, "padding": "same"}}
    if kind == "separable_conv":
        return {"separable_conv": {"filters": draw(st.integers(1, 6)), "kernel": k,
                                   "padding": "same"}}  # fmt: skip
    if kind == "depthwise_conv":
        return {"depthwise_conv": {"kernel": k, "padding": "same"}}
    if kind in ("max_pool", "avg_pool"):
        return {kind: {"pool": k, "strides": 1, "padding": "same"}}
    if kind == "dropout":
        return {"dropout": {"rate": 0.5}}
    return kind if draw(st.booleans()) else {kind: {}}


@st.composite
def _preact_bottleneck_case(draw: st.DrawFn) -> BlockCase:
    """With `conv_shortcut: false` the input is added back, so it has 4·filters channels."""
    args = draw(
        st.builds(
            args_of,
            filters=st.integers(1, 4),
            kernel=optional(sizes(1, 3)),
            strides=optional(sizes(1, 2)),
            conv_shortcut=optional(st.booleans()),
            epsilon=optional(EPSILON),
        )
    )
    h, w, c = draw(hwc())
    return args, (h, w, 4 * args["filters"] if args.get("conv_shortcut") is False else c)


@st.composite
def _xception_block_case(draw: st.DrawFn) -> BlockCase:
    """The middle flow adds its input back, so it has `filters` channels."""
    args = draw(
        st.builds(
            args_of,
            filters=st.integers(1, 8),
            flow=optional(st.sampled_from(["entry", "middle", "exit"])),
            relu_first=optional(st.booleans()),
        )
    )
    h, w, c = draw(hwc())
    return args, (h, w, args["filters"] if args.get("flow") == "middle" else c)


BLOCK_STRATEGIES: dict[str, st.SearchStrategy[BlockCase]] = {
    "vgg_stage": st.tuples(
        st.builds(
            args_of,
            convs=st.integers(1, 3),
            filters=st.integers(1, 8),
            kernel=optional(sizes(1, 3)),
            batch_norm=optional(st.booleans()),
            pool=optional(st.booleans()),
        ),
        hwc(lo=2),
    ),
    "basic": st.tuples(
        st.builds(
            args_of,
            filters=st.integers(1, 8),
            strides=optional(sizes(1, 2)),
            use_bias=optional(st.booleans()),
            epsilon=optional(EPSILON),
        ),
        hwc(),
    ),
    "bottleneck": st.tuples(
        st.builds(
            args_of,
            filters=st.integers(1, 4),
            strides=optional(sizes(1, 2)),
            expansion=optional(st.integers(1, 4)),
            stride_on=optional(st.sampled_from(["1x1", "3x3"])),
            use_bias=optional(st.booleans()),
            epsilon=optional(EPSILON),
            se=optional(st.sampled_from([0.25, 0.5])),
        ),
        hwc(),
    ),
    "inception": st.tuples(
        st.builds(
            dict,
            c1x1=st.integers(1, 6),
            c3x3_reduce=st.integers(1, 6),
            c3x3=st.integers(1, 6),
            c5x5_reduce=st.integers(1, 6),
            c5x5=st.integers(1, 6),
            pool_proj=st.integers(1, 6),
        ),
        hwc(),
    ),
    "branches": st.tuples(
        st.builds(
            dict,
            branches=st.lists(
                st.lists(_branch_item(), min_size=1, max_size=3), min_size=2, max_size=3
            ),
        ),
        hwc(),
    ),
    "fire": st.tuples(
        st.builds(
            dict,
            squeeze=st.integers(1, 6),
            expand1x1=st.integers(1, 8),
            expand3x3=st.integers(1, 8),
        ),
        hwc(),
    ),
    "dense_block": st.tuples(
        st.builds(
            args_of,
            growth_rate=optional(st.integers(1, 8)),
            bottleneck=optional(st.booleans()),
            dropout=optional(st.sampled_from([0.0, 0.2])),
            epsilon=optional(EPSILON),
        ),
        hwc(),
    ),
    "transition": st.tuples(
        st.builds(
            args_of,
            reduction=optional(st.sampled_from([0.25, 0.5, 0.75, 1.0])),
            dropout=optional(st.sampled_from([0.0, 0.2])),
            epsilon=optional(EPSILON),
        ),
        hwc(lo=2),
    ),
    "depthwise_sep": st.tuples(
        st.builds(
            args_of,
            filters=st.integers(4, 16),
            alpha=optional(st.sampled_from([0.25, 0.5, 0.75, 1.0])),
            depth_multiplier=optional(st.integers(1, 2)),
            strides=optional(st.integers(1, 2)),
            block_id=optional(st.integers(0, 20)),
        ),
        hwc(lo=2),
    ),
    "se": st.tuples(
        st.builds(
            args_of,
            ratio=optional(st.sampled_from([0.0625, 0.25, 0.5, 1.0])),
            squeeze=optional(st.integers(1, 8)),
            activation=optional(st.sampled_from(["relu", "swish"])),
            gate=optional(st.sampled_from(["sigmoid", "hard_sigmoid"])),
            reshape=optional(st.booleans()),
        ),
        hwc(),
    ),
    "inverted_residual": st.tuples(
        st.builds(
            args_of,
            filters=st.integers(1, 16),
            alpha=optional(st.sampled_from([0.35, 0.5, 0.75, 1.0, 1.4])),
            strides=optional(st.sampled_from([1, 2])),
            expansion=optional(st.integers(1, 6)),
        ),
        hwc(lo=2),
    ),
    "preact_bottleneck": _preact_bottleneck_case(),
    "convnext_block": st.tuples(
        st.builds(
            args_of,
            drop_path_rate=optional(st.sampled_from([0.0, 0.1, 0.5])),
            layer_scale=optional(st.sampled_from([1e-6, 0.5, None])),  # null: no LayerScale
        ),
        hwc(),
    ),
    "xception_block": _xception_block_case(),
    "conv2d_bn": st.tuples(
        st.builds(
            args_of,
            filters=st.integers(1, 8),
            kernel=sizes(1, 3),
            strides=optional(sizes(1, 2)),
            padding=optional(st.sampled_from(["same", "valid"])),
        ),
        hwc(lo=8),  # two `valid` 3×3, the first strided
    ),
    "inception_v3_a": st.tuples(
        st.builds(args_of, pool_filters=st.integers(1, 8), c1x1=optional(st.integers(1, 8))),
        hwc(),
    ),
    "inception_v3_b": st.tuples(
        st.builds(
            args_of,
            k=optional(st.integers(1, 8)),
            l=optional(st.integers(1, 8)),
            m=optional(st.integers(1, 8)),
            n=optional(st.integers(1, 8)),
        ),
        hwc(lo=7),  # two 3×3/2 valid reductions
    ),
    "inception_v3_c": st.tuples(st.builds(dict, c7=st.integers(1, 8)), hwc()),
    "inception_v3_d": st.tuples(st.just({}), hwc(lo=7)),
    "inception_v3_e": st.tuples(st.just({}), hwc()),
    "inception_resnet": st.tuples(
        st.builds(
            args_of,
            block_type=st.sampled_from(["block35", "block17", "block8"]),
            scale=st.sampled_from([0.1, 0.17, 0.2, 1.0]),
            activation=optional(st.sampled_from(["relu", None])),
        ),
        hwc(),
    ),
    "inception_resnet_reduction_b": st.tuples(st.just({}), hwc(lo=7)),
    # alone (no `p`), a normal cell adds its input unadjusted, as Keras's: C = filters
    "nasnet_normal": st.integers(1, 6).flatmap(
        lambda f: st.tuples(
            st.builds(args_of, filters=st.just(f), block_id=optional(st.integers(0, 20))),
            st.tuples(SIDE, SIDE).map(lambda hw: (hw[0], hw[1], f)),
        )
    ),
    "nasnet_reduction": st.tuples(
        st.builds(args_of, filters=st.integers(1, 6), block_id=optional(st.integers(0, 20))),
        hwc(lo=3),
    ),
    "mobilenet_v3": st.tuples(
        st.builds(
            args_of,
            filters=st.integers(1, 40),
            alpha=optional(st.sampled_from([0.75, 1.0, 1.3])),
            expansion=optional(st.sampled_from([1, 2.3, 4.5, 6])),
            kernel=optional(st.sampled_from([3, 5])),
            strides=optional(st.sampled_from([1, 2])),
            se=optional(st.sampled_from([0.0, 0.25])),
            activation=optional(st.sampled_from(["relu", "hard_swish"])),
        ),
        hwc(lo=3),
    ),
    "mbconv": st.tuples(
        st.builds(
            args_of,
            filters=st.integers(1, 16),
            kernel=optional(st.sampled_from([2, 3, 5, [3, 5]])),
            strides=optional(st.sampled_from([1, 2])),
            expansion=optional(st.integers(1, 6)),
            se_ratio=optional(st.sampled_from([0.0, 0.25, 1.0])),
            drop_rate=optional(st.sampled_from([0.0, 0.2])),
            activation=optional(st.sampled_from(["swish", "relu"])),
            version=optional(st.sampled_from([1, 2])),
            momentum=optional(st.sampled_from([0.9, 0.99])),
        ),
        hwc(lo=2),
    ),
    "fused_mbconv": st.tuples(
        st.builds(
            args_of,
            filters=st.integers(1, 16),
            kernel=optional(st.sampled_from([1, 3, 5, [3, 5]])),
            strides=optional(st.sampled_from([1, 2])),
            expansion=optional(st.integers(1, 6)),
            se_ratio=optional(st.sampled_from([0.0, 0.25])),
            drop_rate=optional(st.sampled_from([0.0, 0.2])),
        ),
        hwc(lo=2),
    ),
}


# --- whole specs -----------------------------------------------------------------------------


def dump(spec: dict[str, Any]) -> str:
    """YAML text of a spec (nodes as one-key mappings, argument maps in flow style)."""
    return yaml.safe_dump(spec, sort_keys=False, default_flow_style=None, width=1000)


def tiny_spec(kind: str, args: Args, shape: Shape, repeat: int | None = None) -> str:
    """A spec text that places one op or block `kind` (named `b`) on an input of `shape`."""
    node = {**args, "name": "b"}
    if repeat is not None:
        node["repeat"] = repeat
    return dump(
        {
            "archspec": 1,
            "name": "t",
            "input": {"shape": list(shape)},
            "backbone": [{kind: node}],
        }
    )


# A user-defined block: conv-bn-act (+ an optional 1×1 projection added back), H×W kept.
UNIT = {
    "doc": "conv-bn-act with an optional projection shortcut",
    "params": {"filters": "int", "k": 3, "act": "relu", "project": False},
    "body": [
        {"conv": {"filters": "$filters", "kernel": "$k", "padding": "same", "name": "conv"}},
        {"bn": {"name": "bn"}},
        {"activation": {"activation": "$act", "name": "act"}},
        {
            "conv": {
                "filters": "$filters",
                "kernel": 1,
                "from": "input",
                "name": "proj",
                "when": "$project",
            }
        },
        {"add": {"from": ["act", "proj"], "name": "add", "when": "$project"}},
    ],
}


class _Net:
    """Nodes placed so far, with their shapes: what `from` and merges may use."""

    def __init__(self, shape: Shape) -> None:
        self.shapes: dict[str, Shape] = {"input": shape}
        self.last = "input"
        self.nodes: list[dict[str, Any]] = []

    def place(self, kind: str, args: Args, shape: Shape, src: Any = None) -> str:
        name = f"n{len(self.nodes)}"
        node = {**args, "name": name}
        if src is not None and src != self.last:
            node["from"] = src
        self.nodes.append({kind: node})
        self.shapes[name] = shape
        self.last = name
        return name

    @property
    def shape(self) -> Shape:
        return self.shapes[self.last]

    def same_hw(self) -> list[str]:
        h, w, _ = self.shape
        return [n for n, s in self.shapes.items() if s[:2] == (h, w) and n != self.last]


@st.composite
def _step(draw: st.DrawFn, net: _Net, uses_unit: list[bool]) -> None:
    h, w, c = net.shape
    small = st.integers(1, 8)
    kind = draw(
        st.sampled_from(["conv", "bn", "relu", "pool", "add", "concat", "unit", "basic",
                         "bottleneck", "fire", "inception", "dense_block", "depthwise_sep",
                         "vgg_stage", "transition", "dwconv"])
    )  # fmt: skip
    if kind == "conv":
        f = draw(small)
        net.place("conv", {"filters": f, "kernel": draw(st.integers(1, 3)), "padding": "same"},
                  (h, w, f))  # fmt: skip
    elif kind == "dwconv":
        net.place("depthwise_conv", {"kernel": 3, "padding": "same"}, (h, w, c))
    elif kind == "bn":
        net.place("bn", {}, (h, w, c))
    elif kind == "relu":
        net.place(draw(st.sampled_from(["relu", "relu6", "sigmoid"])), {}, (h, w, c))
    elif kind == "pool" and h >= 2 and w >= 2:
        net.place(draw(st.sampled_from(["max_pool", "avg_pool"])), {}, (h // 2, w // 2, c))
    elif kind == "add":  # a skip connection: project the current node to an earlier one's C
        earlier = net.same_hw()
        if not earlier:
            return
        skip = draw(st.sampled_from(earlier))
        cs = net.shapes[skip][2]
        proj = net.place("conv", {"filters": cs, "kernel": 1}, (h, w, cs))
        net.place("add", {"from": [skip, proj]}, (h, w, cs))
    elif kind == "concat":
        earlier = net.same_hw()
        if not earlier:
            return
        picked = draw(st.lists(st.sampled_from(earlier), min_size=1, max_size=2, unique=True))
        total = c + sum(net.shapes[n][2] for n in picked)
        net.place("concat", {"from": [net.last, *picked]}, (h, w, total))
    elif kind == "unit":
        uses_unit[0] = True
        f = draw(small)
        args = {"filters": f, "repeat": draw(st.integers(1, 3))}
        if draw(st.booleans()):
            args["project"] = True
        if draw(st.booleans()):
            args["k"] = draw(st.integers(1, 3))
        net.place("unit", args, (h, w, f))
    elif kind == "basic":
        f = draw(small)
        net.place("basic", {"filters": f, "repeat": draw(st.integers(1, 2))}, (h, w, f))
    elif kind == "bottleneck":
        f, e = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        net.place("bottleneck", {"filters": f, "expansion": e}, (h, w, f * e))
    elif kind == "fire":
        s, e1, e3 = draw(small), draw(small), draw(small)
        net.place("fire", {"squeeze": s, "expand1x1": e1, "expand3x3": e3}, (h, w, e1 + e3))
    elif kind == "inception":
        a = [draw(st.integers(1, 4)) for _ in range(6)]
        keys = ["c1x1", "c3x3_reduce", "c3x3", "c5x5_reduce", "c5x5", "pool_proj"]
        net.place("inception", dict(zip(keys, a, strict=True)), (h, w, a[0] + a[2] + a[4] + a[5]))
    elif kind == "dense_block":
        g, n = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        net.place("dense_block", {"growth_rate": g, "repeat": n}, (h, w, c + n * g))
    elif kind == "depthwise_sep":
        f, alpha = draw(st.integers(2, 8)), draw(st.sampled_from([0.5, 1.0]))
        out = max(1, int(f * alpha))
        if int(f * alpha) < 1:
            return
        net.place("depthwise_sep", {"filters": f, "alpha": alpha}, (h, w, out))
    elif kind == "vgg_stage" and h >= 2 and w >= 2:
        f = draw(small)
        net.place("vgg_stage", {"convs": draw(st.integers(1, 2)), "filters": f},
                  (h // 2, w // 2, f))  # fmt: skip
    elif kind == "transition" and h >= 2 and w >= 2:
        theta = draw(st.sampled_from([0.5, 1.0]))
        net.place("transition", {"reduction": theta},
                  (h // 2, w // 2, max(1, int(c * theta))))  # fmt: skip


@st.composite
def spec_dicts(draw: st.DrawFn, max_steps: int = 6) -> dict[str, Any]:
    """A valid spec as a Python structure (see `specs()` for the text)."""
    shape = (draw(st.integers(2, 16)), draw(st.integers(2, 16)), draw(st.integers(1, 4)))
    net = _Net(shape)
    width = draw(st.integers(1, 8))
    net.place("conv", {"filters": "$width", "kernel": 3, "padding": "same"},
              (shape[0], shape[1], width))  # fmt: skip
    uses_unit = [False]
    for _ in range(draw(st.integers(1, max_steps))):
        draw(_step(net, uses_unit))
    spec: dict[str, Any] = {
        "archspec": 1,
        "name": "random_net",
        "params": {"width": width, "classes": draw(st.integers(1, 10))},
        "input": {"shape": list(shape)},
    }
    if uses_unit[0]:
        spec["blocks"] = {"unit": UNIT}
    spec["backbone"] = net.nodes
    head = draw(st.sampled_from(["gap", "flatten", "none"]))
    if head == "gap":
        dense = {"units": "$classes", "activation": "softmax", "name": "out"}
        spec["head"] = [{"global_avg_pool": {"name": "gap"}}, {"dense": dense}]
    elif head == "flatten":
        spec["head"] = ["flatten", {"dense": {"units": "$classes", "name": "out"}}]
    return spec


def specs(max_steps: int = 6) -> st.SearchStrategy[str]:
    """A random valid spec, as YAML text."""
    return spec_dicts(max_steps).map(dump)
