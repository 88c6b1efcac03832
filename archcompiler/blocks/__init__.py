"""Built-in blocks. Each block module is imported here, explicitly, to register it.

A block is a pydantic params model with an `expand` method that places primitive ops through a
`Builder` (blocks/base.py) and returns the name of its output node. Blocks never do
shape arithmetic of their own: they ask the builder for the shapes of what they placed.
"""

from . import (  # noqa: F401
    basic,
    bottleneck,
    branches,
    convnext,
    dense_block,
    depthwise_sep,
    fire,
    inception,
    inception_resnet,
    inception_v3,
    inverted_residual,
    mbconv,
    mobilenet_v3,
    nasnet,
    preact_bottleneck,
    se,
    transition,
    vgg_stage,
    xception,
)  # fmt: skip
from .base import BLOCKS, Block, register_block

__all__ = ["BLOCKS", "Block", "register_block"]
