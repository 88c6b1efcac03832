"""Built-in blocks: mbconv and fused_mbconv — EfficientNet's mobile inverted bottleneck (1×1
expand, k×k depthwise, squeeze-and-excitation, linear 1×1 projection, the input added back
through drop-connect) and EfficientNetV2's fused form (one k×k conv for expand and depthwise)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from ..ops.base import ActivationName, BnEpsilon, Filters, Kernel, Strides, int_in
from .base import Block, Builder, correct_pad, register_block
from .se import squeeze_excite, squeezed

# keras.applications' CONV_KERNEL_INITIALIZER (efficientnet.py and efficientnet_v2.py alike):
# every conv of both blocks, SE's included, starts from it
CONV_KERNEL_INITIALIZER: dict[str, Any] = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}

Expansion = Annotated[
    int_in(1, 64), Field(description="expanded channels = expansion · input channels (1: none)")
]
SeRatio = Annotated[
    float,
    Field(strict=True, ge=0.0, le=1.0,
          description="squeeze channels = max(1, int(input channels · ratio)); 0: no SE"),
]  # fmt: skip
DropRate = Annotated[
    float,
    Field(strict=True, ge=0.0, lt=1.0,
          description="drop-connect rate of the residual branch (0: no dropout layer)"),
]  # fmt: skip
Swish = Annotated[ActivationName, Field(description="activation after each BN (Keras name)")]
Momentum = Annotated[
    float, Field(strict=True, ge=0.0, le=1.0, description="batch normalization momentum")
]


class _MBConvArgs(Block):
    """The arguments mbconv and fused_mbconv share (not a block of its own)."""

    filters: Annotated[Filters, Field(description="output channels (Keras: filters_out)")]
    kernel: Annotated[Kernel, Field(description="kernel of the depthwise conv")] = (3, 3)
    strides: Annotated[Strides, Field(description="stride (first instance only)")] = (1, 1)
    se_ratio: SeRatio = 0.25
    drop_rate: DropRate = 0.0
    activation: Swish = "swish"
    epsilon: BnEpsilon = 1e-3


def _conv(b: Builder, x: str, name: str, filters: int, kernel: Any, strides: Any = 1) -> str:
    """A bias-free same-padded conv as both Keras files place them."""
    return b.add("conv", x, name, filters=filters, kernel=kernel, strides=strides,
                 padding="same", use_bias=False,
                 kernel_initializer=CONV_KERNEL_INITIALIZER)  # fmt: skip


def _excite(b: Builder, x: str, channels_in: int, a: _MBConvArgs) -> str:
    """SE as Keras's blocks place it: squeezed from the *block input's* channels."""
    if a.se_ratio == 0:
        return x
    return squeeze_excite(b, x, "se_", squeezed(channels_in, a.se_ratio), a.activation,
                          "sigmoid", reshape=True,
                          kernel_initializer=CONV_KERNEL_INITIALIZER)  # fmt: skip


def _residual(b: Builder, x: str, block_input: str, channels_in: int, a: _MBConvArgs) -> str:
    """Keras's residual: where the block keeps stride 1 and its channels, drop-connect (a
    Dropout of whole samples, where the rate is not 0) and the add, branch first."""
    if a.strides != (1, 1) or channels_in != a.filters:
        return x
    if a.drop_rate > 0:
        x = b.add("dropout", x, "drop", rate=a.drop_rate, noise_shape=[None, 1, 1, 1])
    return b.add("add", [x, block_input], "add")


@register_block
class MBConv(_MBConvArgs):
    """EfficientNet's MBConv: 1×1 expand, k×k depthwise, SE, linear 1×1 projection, residual.

    M. Tan, Q. V. Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
    Networks", ICML 2019, Table 1 (the mobile inverted bottleneck of M. Sandler et al.,
    MobileNetV2, CVPR 2018, with squeeze-and-excitation as in M. Tan et al., MnasNet, CVPR 2019);
    and the MBConv of M. Tan, Q. V. Le, "EfficientNetV2: Smaller Models and Faster Training",
    ICML 2021, Fig. 2 and Table 4. Exactly keras.applications' `block` (`version: 1`,
    efficientnet.py) or `MBConvBlock` (`version: 2`, efficientnet_v2.py), layers created in
    their order: where `expansion` ≠ 1, `NAME_expand_conv` (1×1 to expansion × the input's
    channels), `NAME_expand_bn`, `NAME_expand_activation`; then the depthwise conv — version 1
    zero-pads a stride-2 one as Keras's correct_pad (`NAME_dwconv_pad`) and convolves `valid`
    (`NAME_dwconv`), version 2 convolves `same` (`NAME_dwconv2`) — `NAME_bn`,
    `NAME_activation`; where `se_ratio` > 0, squeeze-and-excitation with
    max(1, int(input channels · se_ratio)) channels (`NAME_se_squeeze`, `NAME_se_reshape`,
    `NAME_se_reduce` with the activation, `NAME_se_expand` with a sigmoid, `NAME_se_excite`);
    `NAME_project_conv` (1×1 to `filters`, no activation), `NAME_project_bn`; and where the
    stride is 1 and the channels are kept, `NAME_drop` (a Dropout with noise shape
    (None, 1, 1, 1), the drop-connect of the paper, only where `drop_rate` > 0) and
    `NAME_add` (branch first). Convs have no bias (SE's have) and start from Keras's
    CONV_KERNEL_INITIALIZER (VarianceScaling 2.0, fan_out, truncated normal); batch
    normalization uses epsilon 1e-3 and Keras's momentum: 0.99 (version 1), 0.9 (version 2).
    Keras's drop rate grows with the block's number b over all stages, drop_connect · b /
    blocks: say it under `repeat` with `drop_rate: "$drop_connect * (b0 + repeat.index) /
    blocks"`, b0 the blocks before the stage.
    """

    kind: ClassVar[str] = "mbconv"
    expansion: Expansion = 6
    version: Annotated[
        Literal[1, 2],
        Field(description="1: EfficientNet's (correct_pad, `dwconv`); 2: EfficientNetV2's "
              "(same padding, `dwconv2`)"),
    ] = 1  # fmt: skip
    momentum: Annotated[
        Momentum | None, Field(description="BN momentum; default Keras's: 0.99 (v1), 0.9 (v2)")
    ] = None

    @model_validator(mode="after")
    def _keras_pad(self) -> MBConv:
        if self.version == 1 and self.strides == (2, 2) and min(self.kernel) < 2:
            raise ValueError(
                f"cannot be placed: version 1 pads a stride-2 depthwise conv as Keras's "
                f"correct_pad, which needs a kernel of 2 or more (got {list(self.kernel)}); "
                "version 2 pads `same`"
            )
        return self

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        height, width, channels = b.shape(x)
        momentum = self.momentum if self.momentum is not None else (0.99, 0.9)[self.version - 1]
        bn = {"epsilon": self.epsilon, "momentum": momentum}
        if self.expansion != 1:
            x = _conv(b, x, "expand_conv", self.expansion * channels, 1)
            x = b.add("bn", x, "expand_bn", **bn)
            x = b.add("activation", x, "expand_activation", activation=self.activation)
        padding, depthwise = "same", "dwconv2"
        if self.version == 1:
            depthwise = "dwconv"
            if self.strides == (2, 2):  # Keras's correct_pad(x, kernel), then `valid`
                pad = correct_pad((height, width), self.kernel)
                x = b.add("zero_pad", x, "dwconv_pad", padding=pad)
                padding = "valid"
        x = b.add("depthwise_conv", x, depthwise, kernel=self.kernel, strides=self.strides,
                  padding=padding, use_bias=False,
                  depthwise_initializer=CONV_KERNEL_INITIALIZER)  # fmt: skip
        x = b.add("bn", x, "bn", **bn)
        x = b.add("activation", x, "activation", activation=self.activation)
        x = _excite(b, x, channels, self)
        x = _conv(b, x, "project_conv", self.filters, 1)
        x = b.add("bn", x, "project_bn", **bn)
        return _residual(b, x, inputs[0], channels, self)


@register_block
class FusedMBConv(_MBConvArgs):
    """EfficientNetV2's Fused-MBConv: one k×k conv in place of MBConv's 1×1 expand and depthwise.

    M. Tan, Q. V. Le, "EfficientNetV2: Smaller Models and Faster Training", ICML 2021, Fig. 2
    and Table 4. Exactly keras.applications' `FusedMBConvBlock` (efficientnet_v2.py), layers
    created in its order: where `expansion` ≠ 1, `NAME_expand_conv` (k×k, strided, to
    expansion × the input's channels), `NAME_expand_bn`, `NAME_expand_activation`; where
    `se_ratio` > 0 (no Keras table uses it), squeeze-and-excitation named as in mbconv;
    `NAME_project_conv` (1×1 to `filters` — or, without expansion, the k×k strided conv
    itself), `NAME_project_bn`, and without expansion `NAME_project_activation`; then the
    residual as mbconv's (`NAME_drop`, `NAME_add`). Convs are same-padded, have no bias and start
    from Keras's CONV_KERNEL_INITIALIZER; batch normalization uses epsilon 1e-3 and momentum
    0.9 (Keras's bn_momentum for EfficientNetV2).
    """

    kind: ClassVar[str] = "fused_mbconv"
    kernel: Annotated[Kernel, Field(description="kernel of the k×k conv")] = (3, 3)
    expansion: Expansion = 4
    se_ratio: SeRatio = 0.0
    momentum: Momentum = 0.9

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        channels = b.shape(x)[-1]
        bn = {"epsilon": self.epsilon, "momentum": self.momentum}
        fused = self.expansion == 1  # the k×k conv is the projection itself
        if not fused:
            x = _conv(b, x, "expand_conv", self.expansion * channels, self.kernel, self.strides)
            x = b.add("bn", x, "expand_bn", **bn)
            x = b.add("activation", x, "expand_activation", activation=self.activation)
        x = _excite(b, x, channels, self)
        x = _conv(b, x, "project_conv", self.filters, self.kernel if fused else 1,
                  self.strides if fused else 1)  # fmt: skip
        x = b.add("bn", x, "project_bn", **bn)
        if fused:
            x = b.add("activation", x, "project_activation", activation=self.activation)
        return _residual(b, x, inputs[0], channels, self)
