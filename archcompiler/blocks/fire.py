"""Built-in block: fire — the SqueezeNet module, a 1×1 squeeze feeding 1×1 and 3×3 expands."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from ..ops.base import Filters
from .base import Block, Builder, register_block


@register_block
class Fire(Block):
    """SqueezeNet fire module: 1×1 squeeze → ReLU → (1×1 expand ‖ 3×3 expand) → ReLU, concatenated.

    F. N. Iandola, S. Han, M. W. Moskewicz, K. Ashraf, W. J. Dally, K. Keutzer, "SqueezeNet:
    AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size", arXiv 1602.07360
    (2016), Fig. 1 and Table 1: `squeeze` is s1x1, `expand1x1` e1x1 and `expand3x3` e3x3;
    output channels e1x1 + e3x3. Every convolution has a bias and is followed by a ReLU (§3.3.1);
    the 3×3 expand is zero-padded by one so both expands keep the squeeze's H×W.

    Names follow the released Caffe model's (`fire2/squeeze1x1`, `fire2/expand3x3`, …) with '/'
    as '_', each ReLU named after its convolution and a separate Activation layer, as in the
    Keras ports: instance `fire2` places `fire2_squeeze1x1`, `fire2_squeeze1x1_relu`,
    `fire2_expand1x1`, `fire2_expand1x1_relu`, `fire2_expand3x3`, `fire2_expand3x3_relu` and
    `fire2_concat` (1×1 expand first), in that order.
    """

    kind: ClassVar[str] = "fire"
    first_only: ClassVar[tuple[str, ...]] = ()  # no stride: every instance alike
    squeeze: Annotated[Filters, Field(description="s1x1: filters of the 1×1 squeeze")]
    expand1x1: Annotated[Filters, Field(description="e1x1: filters of the 1×1 expand")]
    expand3x3: Annotated[Filters, Field(description="e3x3: filters of the 3×3 expand")]

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        s = b.add("conv", inputs[0], "squeeze1x1", filters=self.squeeze, kernel=1)
        s = b.add("activation", s, "squeeze1x1_relu", activation="relu")
        e1 = b.add("conv", s, "expand1x1", filters=self.expand1x1, kernel=1)
        e1 = b.add("activation", e1, "expand1x1_relu", activation="relu")
        e3 = b.add("conv", s, "expand3x3", filters=self.expand3x3, kernel=3, padding="same")
        e3 = b.add("activation", e3, "expand3x3_relu", activation="relu")
        return b.add("concat", [e1, e3], "concat")
