"""The pydantic models of a spec file's structure (docs/language.md).

Nodes are kept as raw YAML here and checked one by one against the model of their op or block in
`spec.validate`: the op name is the tag of a discriminated union, routed by hand so an unknown
op gets a "did you mean", and so `$expressions` can stand where values are not known yet.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PlainValidator,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
)  # fmt: skip
from pydantic_core import PydanticCustomError

from ..grammar import NAME_PATTERN
from ..limits import MAX_DIM, MAX_REPEAT
from ..strict import Strict
from .budget import Budget

Name = Annotated[str, Field(pattern=NAME_PATTERN, description="letters, digits and _")]


def _param_value(value: Any) -> Any:
    if isinstance(value, (int, float, bool, str)):
        return value
    raise PydanticCustomError(
        "param_value", "should be a number, true/false or a string, not a {kind}",
        {"kind": type(value).__name__},
    )  # fmt: skip


ParamValue = Annotated[
    StrictInt | StrictFloat | StrictBool | StrictStr, PlainValidator(_param_value)
]
Expression = Annotated[str, Field(pattern=r"^\$", description="a $expression")]


class InputDef(Strict):
    """A model input: its shape without the batch dimension, e.g. [224, 224, 3]."""

    shape: Annotated[
        list[Annotated[int, Field(strict=True, ge=1, le=MAX_DIM)] | Expression],
        Field(min_length=1, max_length=4, description="H, W, C (or any rank 1–4)"),
    ]
    name: Name = "input"


PARAM_TYPES = {
    "int": int, "float": float, "bool": bool, "str": str, "list": list, "any": object,
}  # fmt: skip


def _param_shorthand(value: Any) -> Any:
    """`filters: int` (required) or `strides: 1` (default, typed by it) or the full mapping."""
    if isinstance(value, str) and value in PARAM_TYPES:
        return {"type": value}
    if isinstance(value, bool):
        return {"type": "bool", "default": value}
    for name, kind in (("int", int), ("float", float), ("str", str), ("list", list)):
        if isinstance(value, kind):
            return {"type": name, "default": value}
    return value


class ParamDecl(Strict):
    """A user block's parameter: type, optional default, one-line doc."""

    type: Literal["int", "float", "bool", "str", "list", "any"]
    default: Any = Field(None, description="leave out to make the parameter required")
    doc: str = ""

    @property
    def required(self) -> bool:
        return "default" not in self.model_fields_set


class RepeatForm(Strict):
    """`repeat` written out: how many instances and how they are named."""

    times: Annotated[int, Field(strict=True, ge=1, le=MAX_REPEAT)] | Expression = Field(
        description="how many instances"
    )
    names: str | None = Field(
        None,
        description="instance names: `{i}` is the instance's number (from `start`), `{a}` its "
        "letter (a, b, …), `{p}` any param or block parameter p; default NAME_block{i} "
        "(blocks), NAME_{i} (ops)",
    )
    start: Annotated[int, Field(strict=True, ge=0, le=MAX_REPEAT)] | Expression = Field(
        1, description="the number of the first instance"
    )
    inputs: Annotated[int, Field(strict=True, ge=1, le=16)] = Field(
        1,
        description="how many earlier outputs each instance takes: instance k reads those of "
        "instances k−1, k−2, … (before the first: the node's `from`, in order), as a NASNet "
        "cell reads the cell above and that cell's input",
    )


class BlockDef(Strict):
    """A block written in YAML: parameters and a body of nodes, used like a built-in block."""

    doc: str = Field("", description="what the block is, shown by tools")
    params: dict[Name, Annotated[ParamDecl, BeforeValidator(_param_shorthand)]] = Field(
        {}, description="name → type (`int`: required), default value, or {type, default, doc}"
    )
    inputs: Annotated[list[Name], Field(min_length=1, max_length=16)] = Field(
        ["input"], description="names the body uses for the block's inputs (`from: input`)"
    )
    body: Annotated[list[Any], Field(min_length=1, description="the block's nodes, in order")]
    output: Name | None = Field(None, description="the body node that is the block's output")


class SpecFile(Strict):
    """The top level of a spec file."""

    archspec: Literal[1] = Field(description="language version; always 1 for now")
    name: Name = Field(description="the network's name (the Keras model's name)")
    doc: str = Field("", description="what the network is, its paper, and where it deviates")
    extends: str | None = Field(None, description="path of a spec this one builds on")
    params: dict[Name, ParamValue] = Field(
        {}, description="values `$expressions` use; overridable with `--set KEY=VALUE`"
    )
    input: InputDef | None = Field(None, description="the model input (one)")
    inputs: Annotated[list[InputDef], Field(min_length=1, max_length=16)] | None = Field(
        None, description="several named model inputs"
    )
    backbone: list[Any] | None = Field(None, description="the feature extractor: a list of nodes")
    head: list[Any] | None = Field(
        None, description="the classifier: a list of nodes (dropped by --no-head)"
    )
    outputs: Annotated[list[Name], Field(min_length=1)] | None = Field(
        None, description="output node names (default: the last node)"
    )
    blocks: dict[Name, BlockDef] = Field({}, description="blocks of your own, used like built-ins")
    freeze: Literal["backbone", "all"] | list[Name] | None = Field(
        None, description="layers made non-trainable: `backbone`, `all`, or node/block names"
    )
    override: dict[Name, dict[str, Any]] = Field(
        {}, description="node or block name → arguments replaced in it (for `extends`)"
    )
    functions: dict[str, Expression] = Field(
        {},
        description="functions of your own, `name(a, b): $expression`, called in expressions",
    )
    budget: Budget | None = Field(
        None, description="the most the network may cost: params, macs, activations, weights"
    )
    naming: Literal["ops", "keras"] | None = Field(
        None,
        description="how unnamed nodes are named: `ops` (`relu`, `relu_1`, … after the op; the "
        "default) or `keras` (`re_lu`, `conv2d_1`, … after the Keras layer, as Keras names them)",
    )
