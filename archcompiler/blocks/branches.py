"""Built-in block: branches — parallel chains of primitive ops from one input, concatenated on
channels (the general form of the inception module)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, create_model, model_validator

from ..errors import did_you_mean
from ..grammar import NodeFormError, split_arguments, split_node, valid_name
from ..ops import OPS
from ..strict import Strict
from .base import Block, Builder, register_block


class _Item(Strict):
    """One item of a branch: `{op: {arguments}}` (arguments may hold `name`) or a bare `op`.

    The fields (one per primitive op, filled below) validate the arguments with the op's own
    model, so errors point at the argument and unknown ones get "did you mean"."""

    unknown_key_word: ClassVar[str] = "op"
    name: str | None = None  # checked (with a clearer message) before validation

    @classmethod
    def known_keys(cls) -> list[str]:
        return [k for k in super().known_keys() if k != "name"]

    @model_validator(mode="before")
    @classmethod
    def _one_op(cls, data: Any) -> Any:
        if isinstance(data, str) and data not in OPS:
            raise ValueError(f"is not an op{did_you_mean(data, OPS)}")
        try:
            op, args = split_node(data)
        except NodeFormError as e:
            raise ValueError(
                f"should be one `op: {{arguments}}` mapping or a bare op, got {e.got}"
            ) from None
        if op not in OPS:
            if op in cls.model_fields:
                raise ValueError("has a `name` but no op")
            return data  # refused as an unknown op, with a suggestion, at the key
        if OPS[op].arity[0] > 1:
            raise ValueError(
                f"is '{op}', which merges several inputs; an item of a branch takes one input"
            )
        if not isinstance(args, dict):
            raise ValueError(f"should give the arguments of '{op}' as a mapping {{arg: value, …}}")
        rest, structural = split_arguments(args)
        for key in structural:
            if key != "name":
                raise ValueError(
                    f"cannot use `{key}`: each item of a branch takes the output of the item "
                    "above it (the first takes the block's input)"
                )
        name = structural.get("name")
        if name is not None and not valid_name(name):
            raise ValueError(f"has the name {name!r}; a name holds only letters, digits and _")
        return {op: rest, "name": name} if name is not None else {op: rest}

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        """For editors: one op key (`name` goes inside its arguments), or a bare op name."""
        schema = handler.resolve_ref_schema(handler(core_schema))
        schema["properties"].pop("name", None)
        schema.update(minProperties=1, maxProperties=1)
        bare = sorted(k for k, c in OPS.items() if c.arity[0] <= 1)
        return {"anyOf": [{"type": "string", "enum": bare}, schema]}

    @property
    def op(self) -> str:
        return next(k for k in OPS if getattr(self, k) is not None)

    @property
    def args(self) -> dict[str, Any]:
        """The arguments as written (validated), to place the op with."""
        return getattr(self, self.op).model_dump(exclude_unset=True)


BranchItem = create_model(
    "BranchItem",
    __base__=_Item,
    __module__=__name__,
    **{kind: (cls | None, None) for kind, cls in OPS.items()},
)

Branch = Annotated[list[BranchItem], Field(min_length=1)]  # type: ignore[valid-type]


@register_block
class Branches(Block):
    """Parallel branches of primitive ops from one input, concatenated on channels.

    The general form of the inception module (Szegedy et al., "Going Deeper with
    Convolutions", CVPR 2015, Fig. 2): each branch is a list of primitive ops written as
    nodes are (`{conv: {filters: 64, kernel: 1}}`, or a bare `relu`), each taking the output
    of the one above it, the first taking the block's input; the branches' outputs are
    concatenated on the channel axis in the order given, so their H×W must agree (use
    `padding: same`, or equal strides). This covers the factorized modules of Inception v2/v3
    (Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", CVPR 2016,
    Figs. 5–7 and 10), whose grid-reduction branches are a lone pooling op.

    Op `j` of branch `i` (both from 1) of instance NAME is named `NAME_b{i}_{j}`, or `NAME_x`
    when the item says `name: x`; the concatenation is `NAME_concat`. Ops that merge several
    inputs (add, multiply, …) and the keys `from`, `repeat` and `when` are refused inside a
    branch. Example — GoogLeNet's 3a, written out:

        - branches:
            name: inception_3a
            branches:
              - [{conv: {filters: 64, kernel: 1, activation: relu}}]
              - [{conv: {filters: 96, kernel: 1, activation: relu}},
                 {conv: {filters: 128, kernel: 3, padding: same, activation: relu}}]
              - [{conv: {filters: 16, kernel: 1, activation: relu}},
                 {conv: {filters: 32, kernel: 5, padding: same, activation: relu}}]
              - [{max_pool: {pool: 3, strides: 1, padding: same}},
                 {conv: {filters: 32, kernel: 1, activation: relu}}]
    """

    kind: ClassVar[str] = "branches"
    first_only: ClassVar[tuple[str, ...]] = ()  # no stride: every instance alike
    branches: Annotated[
        list[Branch],
        Field(min_length=2, max_length=64, description="two or more lists of primitive ops"),
    ]

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        outs = []
        for i, branch in enumerate(self.branches, start=1):
            y = inputs[0]
            for j, item in enumerate(branch, start=1):
                y = b.add(item.op, y, item.name or f"b{i}_{j}", **item.args)
            outs.append(y)
        return b.add("concat", outs, "concat")
