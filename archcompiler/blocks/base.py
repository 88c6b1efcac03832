"""The base of built-in blocks, their registry, and the contract they expand through.

A block depends on the `Builder` protocol below, never on the walk that implements it
(archcompiler.compiler): it places primitive ops by name and asks the shapes of what it placed.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from ..ops.base import Shape
from ..registry import Registry
from ..strict import Strict


class Builder(Protocol):
    """What a block sees while it expands one instance: place primitives, read shapes."""

    @property
    def index(self) -> int:
        """Which instance under `repeat` this is (0 = the first; 0 without `repeat`)."""
        ...

    def add(self, op: str, inputs: str | list[str], name: str | None = None, **args: Any) -> str:
        """Place primitive `op` with `args`, taking `inputs`; returns the node's name. NAME is
        prefixed by the instance's name unless it starts with '/' (an absolute name, as
        keras.applications gives MobileNet's `conv_dw_1`); without one the node is named
        after its op."""
        ...

    def shape(self, name: str) -> Shape:
        """The output shape of a node placed so far (without the batch dimension)."""
        ...


class Block(Strict):
    """Params of a built-in block; `expand` places its primitives and returns its output node."""

    unknown_key_word: ClassVar[str] = "argument"
    kind: ClassVar[str]
    arity: ClassVar[tuple[int, int | None]] = (1, 1)
    first_only: ClassVar[tuple[str, ...]] = ("strides",)  # under `repeat`, only block 1 gets these
    # local names of the projection-shortcut nodes, placed only where the shapes change
    shortcut: ClassVar[frozenset[str]] = frozenset()

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        raise NotImplementedError

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().splitlines()[0]


def correct_pad(shape: Shape, kernel: int | tuple[int, int]) -> tuple[tuple[int, int], ...]:
    """keras.applications' `imagenet_utils.correct_pad`: the zero padding before a strided
    `valid` convolution — k//2 after, one less before on an even size."""
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    return ((kh // 2 - 1 + shape[0] % 2, kh // 2), (kw // 2 - 1 + shape[1] % 2, kw // 2))


BLOCKS: Registry[type[Block]] = Registry("block")
register_block = BLOCKS.register
