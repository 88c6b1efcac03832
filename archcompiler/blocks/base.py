"""The base of built-in blocks and their registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..registry import Registry
from ..spec.strict import Strict

if TYPE_CHECKING:
    from ..compile import Builder


class Block(Strict):
    """Params of a built-in block; `expand` places its primitives and returns its output node."""

    unknown_key_word: ClassVar[str] = "argument"
    kind: ClassVar[str]
    arity: ClassVar[tuple[int, int | None]] = (1, 1)
    first_only: ClassVar[tuple[str, ...]] = ("strides",)  # under `repeat`, only block 1 gets these

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        raise NotImplementedError

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0]


BLOCKS: Registry[type[Block]] = Registry("block")
register_block = BLOCKS.register
