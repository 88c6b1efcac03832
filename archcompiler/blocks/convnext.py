"""Built-in block: convnext_block — ConvNeXt's 7×7 depthwise conv → LayerNorm → 4× pointwise MLP
with GELU → LayerScale, added to the input."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from .base import Block, Builder, register_block


@register_block
class ConvNeXtBlock(Block):
    """ConvNeXt block: 7×7 depthwise conv, LayerNorm, 1×1 to 4C, GELU, 1×1 back, γ-scale, added.

    Z. Liu, H. Mao, C.-Y. Wu, C. Feichtenhofer, T. Darrell, S. Xie, "A ConvNet for the 2020s",
    CVPR 2022, Fig. 4 (right) and §2.6. Exactly keras.applications' `ConvNeXtBlock`, layers
    created in its order, the width C being the input's channels: `NAME_depthwise_conv` (a 7×7
    `same` Conv2D with groups = C and a bias, as Keras writes the depthwise conv — not a
    DepthwiseConv2D, whose kernel is laid out otherwise), `NAME_layernorm` (epsilon 1e-6),
    `NAME_pointwise_conv_1` (a Dense to 4C on every position, as Keras and the paper's code
    write the 1×1 convs), `NAME_gelu`, `NAME_pointwise_conv_2` (a Dense back to C),
    `NAME_layer_scale` (γ per channel from `layer_scale`, the `layer_scale` op: Keras's
    LayerScale as a core EinsumDense; left out with `layer_scale: null`, as Keras leaves it out
    for None), then stochastic depth: with `drop_path_rate` 0 Keras's `NAME_identity`, a linear
    Activation; above 0 `NAME_stochastic_depth`, a Dropout of that rate with noise_shape
    (batch, 1, 1, 1) — Keras's StochasticDepth keeps each sample's branch with probability
    1 − rate and divides it by that, exactly what such a Dropout does, and both are the identity
    at inference. Last `NAME_add`, the input plus the branch: Keras adds with `+`, which makes
    no layer, so this one layer more has no twin in Keras (and no weights).
    """

    kind: ClassVar[str] = "convnext_block"
    first_only: ClassVar[tuple[str, ...]] = ()
    drop_path_rate: Annotated[
        float,
        Field(strict=True, ge=0.0, lt=1.0, description="stochastic depth: the branch drop rate"),
    ] = 0.0
    layer_scale: Annotated[
        float | None,
        Field(strict=True, allow_inf_nan=False, description="γ's start (null: no LayerScale)"),
    ] = 1e-6

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        width = b.shape(x)[-1]
        y = b.add("conv", x, "depthwise_conv", filters=width, kernel=7, padding="same",
                  groups=width)  # fmt: skip
        y = b.add("layer_norm", y, "layernorm", epsilon=1e-6)
        y = b.add("dense", y, "pointwise_conv_1", units=4 * width)
        y = b.add("activation", y, "gelu", activation="gelu")
        y = b.add("dense", y, "pointwise_conv_2", units=width)
        if self.layer_scale is not None:
            y = b.add("layer_scale", y, "layer_scale", projection_dim=width,
                      init_values=self.layer_scale)  # fmt: skip
        if self.drop_path_rate:  # Keras: StochasticDepth only for a rate above 0
            y = b.add("dropout", y, "stochastic_depth", rate=self.drop_path_rate,
                      noise_shape=[None, 1, 1, 1])  # fmt: skip
        else:
            y = b.add("activation", y, "identity", activation="linear")
        return b.add("add", [x, y], "add")  # the input first, as Keras's `inputs + x`
