"""The summary table's columns: the seven shown by default and those `--columns` adds, with
torchinfo's names accepted as aliases (`kernel_size` is `kernel`, `input_size` is `input_shape`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..graph import Graph
from ..ops.base import fmt
from .figures import Row, human, human_bytes, op_facts, origin


@dataclass(frozen=True)
class Column:
    """One column after Layer: its heading, alignment and cell; `squeeze` is the narrowest it
    may be cut to when the table must fit a width (0: never cut)."""

    key: str
    head: str
    cell: Callable[[Row, Graph], str]
    right: bool = False
    squeeze: int = 0
    about: str = ""


def _pair(values: tuple[int, ...] | None) -> str:
    return "×".join(map(str, values)) if values else ""


def _fact(key: str) -> Callable[[Row, Graph], str]:
    def cell(r: Row, g: Graph) -> str:
        value = op_facts(r.node).get(key) if r.node is not None else None
        return _pair(value) if isinstance(value, tuple) else (value or "")

    return cell


def _trainable(r: Row, g: Graph) -> str:
    weighted = [n for n in ([r.node] if r.node else r.members) if n.weights]
    if not weighted:
        return "–"  # nothing to train, nothing to freeze
    trained = sum(n.trainable for n in weighted)
    return "yes" if trained == len(weighted) else "no" if not trained else "partly"


def _origin(r: Row, g: Graph) -> str:
    """`spec` (written; `$` ones and defaults named), or the block that placed the node."""
    if r.node is None:
        return ""
    o = origin(r.node)
    if o["placed_by"]:
        return o["placed_by"] + (f" ({o['role']})" if o["role"] else "")
    parts = ["spec"]
    parts += [f"{what}: {', '.join(o[key])}" for what, key in _ORIGIN_PARTS if o[key]]
    return "; ".join(parts)


_ORIGIN_PARTS = (("computed", "computed"), ("default", "defaults"))


def _percent(r: Row, g: Graph) -> str:
    total = g.total_params
    return f"{100 * r.params / total:.1f}%" if r.params and total else "–"


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in [
        Column("op", "Op", lambda r, g: r.op, squeeze=8, about="the op, or the block's kind"),
        Column("output_shape", "Output shape", lambda r, g: r.shape, about="H×W×C, batch 1"),
        Column(
            "params",
            "Params",
            lambda r, g: f"{r.params:,}" if r.params else "–",
            True,
            about="all weights, trainable or not",
        ),
        Column(
            "macs",
            "MACs",
            lambda r, g: human(r.macs) if r.macs else "–",
            True,
            about="multiply-accumulates, batch 1",
        ),
        Column(
            "memory",
            "Memory",
            lambda r, g: human_bytes(r.memory),
            True,
            about="float32 output (a block: all its outputs)",
        ),
        Column("rf", "RF", lambda r, g: r.rf, True, about="receptive field, input pixels"),
        Column(
            "from",
            "From",
            lambda r, g: r.inputs,
            squeeze=10,
            about="inputs, where not the row above",
        ),
        Column(
            "input_shape",
            "Input shape",
            lambda r, g: ", ".join(map(fmt, r.input_shapes)),
            squeeze=12,
            about="the shapes flowing in",
        ),
        Column("kernel", "Kernel", _fact("kernel"), about="conv kernel or pool window"),
        Column("strides", "Strides", _fact("strides"), about="of convs and pools"),
        Column("dilation", "Dilation", _fact("dilation"), about="of convs (1×1 for pools)"),
        Column("padding", "Padding", _fact("padding"), about="same or valid"),
        Column(
            "activation",
            "Activation",
            _fact("activation"),
            about="a fused activation, or an activation op's function",
        ),
        Column(
            "trainable",
            "Trainable",
            _trainable,
            about="yes, no (frozen) or partly; – without weights",
        ),
        Column("percent", "% params", _percent, True, about="share of all params"),
        Column(
            "origin",
            "Origin",
            _origin,
            squeeze=12,
            about="spec (written; computed and default arguments named) or the placing block",
        ),
    ]
}
DEFAULT = ("op", "output_shape", "params", "macs", "memory", "rf", "from")
ALIASES = {  # torchinfo's column names
    "input_size": "input_shape",
    "output_size": "output_shape",
    "num_params": "params",
    "params_percent": "percent",
    "kernel_size": "kernel",
    "mult_adds": "macs",
}


def parse_columns(text: str | None) -> tuple[str, ...]:
    """`--columns kernel,strides` → the column keys, in order; `default` stands for the seven
    default columns. ValueError naming the valid names for an unknown one."""
    if text is None:
        return DEFAULT
    out: list[str] = []
    for word in (w.strip().lower().replace("-", "_") for w in text.split(",")):
        if not word:
            continue
        keys = DEFAULT if word == "default" else (ALIASES.get(word, word),)
        for key in keys:
            if key not in COLUMNS:
                valid = ", ".join(["default", *COLUMNS])
                raise ValueError(f"unknown column {word!r}; valid: {valid}")
            if key not in out:
                out.append(key)
    if not out:
        raise ValueError("name at least one column, e.g. default,kernel,strides")
    return tuple(out)
