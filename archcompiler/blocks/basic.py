"""Built-in block: basic — the ResNet-18/34 residual block, 3×3 → 3×3 plus a shortcut."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from ..ops.base import BnEpsilon, Filters, Flag, Strides
from .base import Block, Builder, register_block
from .se import squeeze_excite, squeezed


@register_block
class Basic(Block):
    """ResNet basic block: 3×3 conv → bn → relu → 3×3 conv → bn, plus shortcut, then relu.

    K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition", CVPR 2016
    (arXiv 2015), Fig. 5 left and Table 1 (ResNet-18 and ResNet-34). The stride sits on the first
    3×3 convolution; the shortcut is the identity, or a projection (1×1 conv + bn, option B of
    §3.3) exactly when the channels or the stride change. Named in the keras.applications style
    (`NAME_0_conv`/`NAME_0_bn` for the projection, placed first as Keras does, then `NAME_1_conv`
    … `NAME_2_bn`, `NAME_add`, `NAME_out`). Defaults follow the paper and torchvision: no conv
    bias (a following bn makes it redundant), bn epsilon 1e-5. `se` adds squeeze-and-excitation
    after `NAME_2_bn` (SE-ResNet, Hu et al., CVPR 2018).
    """

    kind: ClassVar[str] = "basic"
    shortcut: ClassVar[frozenset[str]] = frozenset({"0_conv", "0_bn"})
    filters: Filters
    strides: Annotated[
        Strides, Field(description="stride of the first 3×3 conv and the shortcut (block 1 only)")
    ] = (1, 1)
    use_bias: Annotated[Flag, Field(description="bias on the convolutions")] = False
    epsilon: BnEpsilon = 1e-5
    se: Annotated[
        float,
        Field(strict=True, ge=0.0, le=1.0,
              description="squeeze-and-excitation ratio on the output (SE-ResNet: 1/16; 0: none)"),
    ] = 0.0  # fmt: skip

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        conv = {"use_bias": self.use_bias}
        shortcut = x
        if b.shape(x)[-1] != self.filters or self.strides != (1, 1):
            shortcut = b.add("conv", x, "0_conv", filters=self.filters, kernel=1,
                             strides=self.strides, **conv)  # fmt: skip
            shortcut = b.add("bn", shortcut, "0_bn", epsilon=self.epsilon)
        y = b.add("conv", x, "1_conv", filters=self.filters, kernel=3, strides=self.strides,
                  padding="same", **conv)  # fmt: skip
        y = b.add("bn", y, "1_bn", epsilon=self.epsilon)
        y = b.add("activation", y, "1_relu", activation="relu")
        y = b.add("conv", y, "2_conv", filters=self.filters, kernel=3, padding="same", **conv)
        y = b.add("bn", y, "2_bn", epsilon=self.epsilon)
        if self.se:
            y = squeeze_excite(b, y, "se_", squeezed(self.filters, self.se))
        y = b.add("add", [shortcut, y], "add")  # shortcut first, as keras.applications adds
        return b.add("activation", y, "out", activation="relu")
