"""Built-in block: inception — the GoogLeNet module, with Table 1's column names as arguments.

Its general form, any parallel chains of primitive ops concatenated on channels, is the block
`branches` (blocks/branches.py): a kind of its own rather than a second argument set of
`inception`, because a node's arguments are checked before the walk with their `$expressions`
left out, so an either-or rule between two argument sets could not be told apart from "some of
them are expressions" at that point.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from ..ops.base import Filters
from .base import Block, Builder, register_block


@register_block
class Inception(Block):
    """GoogLeNet inception module: 1×1, 1×1→3×3, 1×1→5×5 and 3×3 max-pool→1×1, concatenated.

    C. Szegedy, W. Liu, Y. Jia, P. Sermanet, S. Reed, D. Anguelov, D. Erhan, V. Vanhoucke,
    A. Rabinovich, "Going Deeper with Convolutions", CVPR 2015 (arXiv 2014), Fig. 2(b) (the
    module "with dimension reductions") and Table 1, whose column names the arguments are:
    `#1×1` → `c1x1`, `#3×3 reduce` → `c3x3_reduce`, … `pool proj` → `pool_proj`. Every
    convolution is same-padded, has a bias and a ReLU ("All the convolutions, including those
    inside the Inception modules, use rectified linear activation", §5); the pool branch is a
    3×3 max-pool of stride 1, same-padded. Output channels: c1x1 + c3x3 + c5x5 + pool_proj.

    Names follow the paper's Caffe model (bvlc_googlenet) with '/' as '_': instance
    `inception_3a` places `inception_3a_1x1`, `_3x3_reduce`, `_3x3`, `_5x5_reduce`, `_5x5`,
    `_pool`, `_pool_proj` and `_concat`, in that order, concatenated 1×1, 3×3, 5×5, pool.
    For other branch layouts (Inception v2/v3 factorized modules, grid reductions) use the
    general block `branches`.
    """

    kind: ClassVar[str] = "inception"
    first_only: ClassVar[tuple[str, ...]] = ()  # no stride: every instance alike
    c1x1: Annotated[Filters, Field(description="#1×1: filters of the 1×1 branch")]
    c3x3_reduce: Annotated[Filters, Field(description="#3×3 reduce: 1×1 before the 3×3")]
    c3x3: Annotated[Filters, Field(description="#3×3: filters of the 3×3 convolution")]
    c5x5_reduce: Annotated[Filters, Field(description="#5×5 reduce: 1×1 before the 5×5")]
    c5x5: Annotated[Filters, Field(description="#5×5: filters of the 5×5 convolution")]
    pool_proj: Annotated[Filters, Field(description="pool proj: 1×1 after the 3×3 max-pool")]

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]

        def conv(src: str, suffix: str, filters: int, kernel: int) -> str:
            return b.add("conv", src, suffix, filters=filters, kernel=kernel, padding="same",
                         activation="relu")  # fmt: skip

        y1 = conv(x, "1x1", self.c1x1, 1)
        y3 = conv(conv(x, "3x3_reduce", self.c3x3_reduce, 1), "3x3", self.c3x3, 3)
        y5 = conv(conv(x, "5x5_reduce", self.c5x5_reduce, 1), "5x5", self.c5x5, 5)
        pool = b.add("max_pool", x, "pool", pool=3, strides=1, padding="same")
        yp = conv(pool, "pool_proj", self.pool_proj, 1)
        return b.add("concat", [y1, y3, y5, yp], "concat")
