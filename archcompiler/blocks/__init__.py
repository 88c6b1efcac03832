"""Built-in blocks. Each block module is imported here, explicitly, to register it.

A block is a pydantic params model with an `expand` method that places primitive ops through a
`Builder` (blocks/base.py) and returns the name of its output node. Blocks never do
shape arithmetic of their own: they ask the builder for the shapes of what they placed.
"""

from . import (  # noqa: F401
    basic,
    bottleneck,
    branches,
    dense_block,
    depthwise_sep,
    fire,
    inception,
    inverted_residual,
    preact_bottleneck,
    se,
    transition,
    vgg_stage,
)  # fmt: skip
from .base import BLOCKS, Block, register_block

__all__ = ["BLOCKS", "Block", "register_block"]
