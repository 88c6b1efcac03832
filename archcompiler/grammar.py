"""The node grammar, in one place: how a node is written and which keys every node may carry.

A node is a one-key mapping `op: {arguments}` or a bare op name (`- relu`). Besides its
arguments, its mapping may hold the structural keys below. Validation (spec/validate.py), the
`branches` block, the reference docs and the JSON Schema all read this table, so the keys, their
meaning and their schema cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .limits import MAX_REPEAT

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"  # a spec's, a block's, a param's name
# node names may also start with a digit: inside a block `1_conv` becomes `conv2_block1_1_conv`
NODE_NAME_PATTERN = r"^/?[A-Za-z0-9_][A-Za-z0-9_]{0,127}$"  # a leading / : unprefixed in a block
_NODE_NAME = re.compile(NODE_NAME_PATTERN)

EXPRESSION_REF = {"$ref": "#/definitions/expression"}  # the schema's `$expression` definition


@dataclass(frozen=True)
class StructuralKey:
    """A key any node may carry besides its arguments."""

    key: str  # as written in YAML
    attribute: str  # the field of spec.validate.RawNode that holds it
    meaning: str  # one line, for the reference tables
    description: str  # for editors (the JSON Schema's hover text)
    schema: dict[str, Any] = field(default_factory=dict)  # its JSON-Schema fragment


STRUCTURAL_KEYS = (
    StructuralKey(
        "name", "name",
        "layer name (a block: the prefix of its layers); unique",
        "The Keras layer name (or the block prefix); unique. Unnamed nodes are named after "
        "their op: `relu`, `relu_1`, `relu_2`, …",
        {"anyOf": [{"type": "string", "pattern": NODE_NAME_PATTERN}, EXPRESSION_REF]},
    ),
    StructuralKey(
        "from", "source",
        "input node name or list of names; default: the node above",
        "The input: one node name or a list of names (default: the node above); a "
        "$expression may give a name. Only nodes above may be named; `input` is the model's "
        "(in a block: the block's) input.",
        {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ]
        },
    ),
    StructuralKey(
        "repeat", "repeat",
        "place it n times, each feeding the next (blocks: NAME_block1 … N); or "
        "{times, names, start, inputs}",
        f"Place the node n times (1–{MAX_REPEAT:,}), each feeding the next: blocks give "
        "NAME_block1 … NAME_blockN, ops NAME_1 … NAME_N; `{times: n, names: 'block_{i}', "
        "start: 1}` names the instances by a pattern; `inputs: 2` gives each instance the "
        "outputs of the two before it. Arguments may read `repeat.index` (from 0) and "
        "`repeat.count`.",
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_REPEAT},
                EXPRESSION_REF,
                {
                    "type": "object",
                    "properties": {
                        "times": {"anyOf": [{"type": "integer", "minimum": 1,
                                             "maximum": MAX_REPEAT}, EXPRESSION_REF]},
                        "names": {"type": "string"},
                        "start": {"anyOf": [{"type": "integer", "minimum": 0}, EXPRESSION_REF]},
                        "inputs": {"type": "integer", "minimum": 1, "maximum": 16},
                    },
                    "required": ["times"],
                    "additionalProperties": False,
                },
            ]
        },
    ),
    StructuralKey(
        "when", "when",
        "true/false or a $expression: placed only when true",
        "Place the node only when true, e.g. `when: $aux` for optional parts.",
        {"anyOf": [{"type": "boolean"}, EXPRESSION_REF]},
    ),
    StructuralKey(
        "else", "otherwise",
        "with `when`: the node the name stands for when it is left out",
        "With `when`: when the node is left out, its name stands for this node instead (e.g. "
        "a shortcut projection left out stands for the block's input).",
        {"type": "string", "pattern": "^[^$]"},
    ),
)  # fmt: skip
STRUCTURAL = tuple(k.key for k in STRUCTURAL_KEYS)


def valid_name(name: Any) -> bool:
    """Is `name` a node name: letters, digits and _, at most 128 characters?"""
    return isinstance(name, str) and _NODE_NAME.match(name) is not None


class NodeFormError(ValueError):
    """A node that is not `op: {arguments}` or a bare op name; `got` says what it is instead
    ('2 keys', 'list')."""

    def __init__(self, got: str) -> None:
        super().__init__(got)
        self.got = got


def split_node(item: Any) -> tuple[Any, Any]:
    """`op: {args}` or a bare `op` → (op, its arguments as written). The op is not looked up
    here: callers know which ops and blocks they accept. NodeFormError for any other form."""
    if isinstance(item, str):
        return item, {}
    if not isinstance(item, dict) or len(item) != 1:
        raise NodeFormError(f"{len(item)} keys" if isinstance(item, dict) else type(item).__name__)
    ((op, args),) = item.items()
    return op, {} if args is None else args


def split_arguments(args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A node's mapping → (its op's or block's arguments, its structural keys)."""
    structural = {k: args[k] for k in STRUCTURAL if k in args}
    return {k: v for k, v in args.items() if k not in structural}, structural
