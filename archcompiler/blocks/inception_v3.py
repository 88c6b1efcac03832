"""Built-in blocks: Inception v3 as keras.applications.InceptionV3 writes it — `conv2d_bn`
(its conv-BN-ReLU) and `inception_v3_a` … `inception_v3_e`, its five module shapes (the
letters are torchvision's InceptionA–E). The function `conv2d_bn` places every convolution of
these blocks and of inception_resnet.py's."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from ..ops.base import Filters, Kernel, Padding, Strides
from .base import Block, Builder, register_block

# An absolute layer name a block gives one of its nodes (Keras's `mixed0`, `mixed_5b`).
LayerName = Annotated[str, Field(strict=True, pattern=r"^[A-Za-z0-9_]{1,128}$")]
Concat = Annotated[
    LayerName | None,
    Field(description="name of the concatenation, unprefixed (Keras: mixed0 … mixed10); "
                      "left out, unnamed"),
]  # fmt: skip


def conv2d_bn(
    b: Builder, x: str, filters: int, kernel: int | tuple[int, int] | list[int],
    strides: int | tuple[int, int] = 1, padding: str = "same",
) -> str:  # fmt: skip
    """keras.applications' `conv2d_bn` without a name: a conv without bias, batch normalization
    without γ (`scale=False`, as a ReLU follows) and a ReLU `activation`, each left unnamed —
    so `naming: keras` names them `conv2d_N`, `batch_normalization_N`, `activation_N` as Keras
    does. Returns the activation's node."""
    x = b.add("conv", x, None, filters=filters, kernel=kernel, strides=strides,
              padding=padding, use_bias=False)  # fmt: skip
    x = b.add("bn", x, None, scale=False)
    return b.add("activation", x, None, activation="relu")


def _avg_pool_branch(b: Builder, x: str, filters: int) -> str:
    """The pool branch of modules A, C, E: 3×3/1 same-padded average pool, then a 1×1."""
    pool = b.add("avg_pool", x, None, pool=3, strides=1, padding="same")
    return conv2d_bn(b, pool, filters, 1)


@register_block
class Conv2dBn(Block):
    """Inception's conv-BN-ReLU (Keras's `conv2d_bn`): conv without bias, BN without γ, ReLU.

    Exactly keras.applications.inception_v3.conv2d_bn (and inception_resnet_v2's, with its
    defaults) called without a name: Conv2D(use_bias=False), BatchNormalization(scale=False),
    Activation('relu'), all three unnamed — `naming: keras` names them `conv2d_N`,
    `batch_normalization_N`, `activation_N` with Keras's counters; otherwise `NAME_conv`,
    `NAME_bn`, `NAME_activation`. Every convolution of the Inception blocks is placed this way.
    """

    kind: ClassVar[str] = "conv2d_bn"
    filters: Filters
    kernel: Kernel
    strides: Annotated[Strides, Field(description="step (first instance only)")] = (1, 1)
    padding: Padding = "same"

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        return conv2d_bn(b, inputs[0], self.filters, self.kernel, self.strides, self.padding)


@register_block
class InceptionV3A(Block):
    """Inception v3 module A (35×35): 1×1 | 1×1→5×5 | 1×1→3×3→3×3 | avg-pool→1×1, joined.

    C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens, Z. Wojna, "Rethinking the Inception
    Architecture for Computer Vision", CVPR 2016 (arXiv 2015), Fig. 5, with the widths of
    keras.applications.InceptionV3's mixed0–2 (after TF-slim); InceptionResNetV2's mixed_5b
    is the same module with `c1x1: 96`. Layers in Keras's order: the 1×1 branch (`c1x1`), the
    5×5 branch (1×1 48 → 5×5 64: Keras keeps a 5×5 where Fig. 5 has two 3×3), the double 3×3
    (1×1 64 → 3×3 96 → 3×3 96), a 3×3/1 same-padded average pool and its 1×1
    (`pool_filters`), then the concatenation `concat` (c1x1 + 160 + pool_filters channels).
    Every conv is a `conv2d_bn`, unnamed as Keras leaves it.
    """

    kind: ClassVar[str] = "inception_v3_a"
    first_only: ClassVar[tuple[str, ...]] = ()
    pool_filters: Annotated[
        Filters, Field(description="1×1 after the average pool (Keras: 32 in mixed0, then 64)")
    ]
    c1x1: Annotated[
        Filters, Field(description="the 1×1 branch (InceptionResNetV2's mixed_5b: 96)")
    ] = 64
    concat: Concat = None

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        b1 = conv2d_bn(b, x, self.c1x1, 1)
        b5 = conv2d_bn(b, conv2d_bn(b, x, 48, 1), 64, 5)
        b3 = conv2d_bn(b, conv2d_bn(b, conv2d_bn(b, x, 64, 1), 96, 3), 96, 3)
        bp = _avg_pool_branch(b, x, self.pool_filters)
        return b.add("concat", [b1, b5, b3, bp], unprefixed(self.concat))


@register_block
class InceptionV3B(Block):
    """Inception v3 module B, the grid reduction 35 → 17: 3×3/2 | 1×1→3×3→3×3/2 | max-pool.

    Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", CVPR 2016,
    Fig. 10; keras.applications.InceptionV3's mixed3. The widths are the Reduction-A's k, l,
    m, n of C. Szegedy, S. Ioffe, V. Vanhoucke, A. Alemi, "Inception-v4, Inception-ResNet and
    the Impact of Residual Connections on Learning", AAAI 2017, Fig. 7 and Table 1, so the same
    block is InceptionResNetV2's mixed_6a (k, l, m, n = 256, 256, 384, 384). Layers in Keras's
    order: a 3×3/2 valid conv of n; 1×1 k → 3×3 l → 3×3/2 valid m; a 3×3/2 valid max-pool;
    the concatenation `concat` (n + m + the input's channels). Every conv is a `conv2d_bn`,
    unnamed as Keras leaves it.
    """

    kind: ClassVar[str] = "inception_v3_b"
    first_only: ClassVar[tuple[str, ...]] = ()
    k: Annotated[Filters, Field(description="the 1×1 of the double-3×3 branch")] = 64
    l: Annotated[Filters, Field(description="its first 3×3")] = 96  # noqa: E741 (the paper's l)
    m: Annotated[Filters, Field(description="its strided 3×3")] = 96
    n: Annotated[Filters, Field(description="the single strided 3×3")] = 384
    concat: Concat = None

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        b3 = conv2d_bn(b, x, self.n, 3, strides=2, padding="valid")
        dbl = conv2d_bn(b, conv2d_bn(b, x, self.k, 1), self.l, 3)
        dbl = conv2d_bn(b, dbl, self.m, 3, strides=2, padding="valid")
        pool = b.add("max_pool", x, None, pool=3, strides=2)
        return b.add("concat", [b3, dbl, pool], unprefixed(self.concat))


@register_block
class InceptionV3C(Block):
    """Inception v3 module C (17×17): 1×1 | 1×7, 7×1 | 7×1, 1×7 twice | avg-pool→1×1, joined.

    Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", CVPR 2016,
    Fig. 6 with n = 7; keras.applications.InceptionV3's mixed4–7. Layers in Keras's order:
    the 1×1 branch (192); the 7×7 branch, 1×1 `c7` → 1×7 `c7` → 7×1 192; the double 7×7,
    1×1 `c7` → 7×1 → 1×7 → 7×1 (`c7`) → 1×7 192; a 3×3/1 same-padded average pool and its
    1×1 (192); then the concatenation `concat` (768 channels). Every conv is a `conv2d_bn`,
    unnamed as Keras leaves it.
    """

    kind: ClassVar[str] = "inception_v3_c"
    first_only: ClassVar[tuple[str, ...]] = ()
    c7: Annotated[
        Filters, Field(description="width inside the 7×7 branches (Keras: 128, 160, 160, 192)")
    ]
    concat: Concat = None

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x, c7 = inputs[0], self.c7
        b1 = conv2d_bn(b, x, 192, 1)
        b7 = conv2d_bn(b, conv2d_bn(b, conv2d_bn(b, x, c7, 1), c7, (1, 7)), 192, (7, 1))
        dbl = conv2d_bn(b, x, c7, 1)
        for kernel in ((7, 1), (1, 7), (7, 1)):
            dbl = conv2d_bn(b, dbl, c7, kernel)
        dbl = conv2d_bn(b, dbl, 192, (1, 7))
        bp = _avg_pool_branch(b, x, 192)
        return b.add("concat", [b1, b7, dbl, bp], unprefixed(self.concat))


@register_block
class InceptionV3D(Block):
    """Inception v3 module D, the grid reduction 17 → 8: 1×1→3×3/2 | 1×1→1×7→7×1→3×3/2 | pool.

    Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", CVPR 2016,
    a variant of Fig. 10 (Table 1 reduces the grids with "variations of reduction technique
    depicted Figure 10"); keras.applications.InceptionV3's mixed8. Layers in Keras's order:
    1×1 192 → 3×3/2 valid 320; 1×1 192 → 1×7 192 → 7×1 192 → 3×3/2 valid 192; a 3×3/2 valid
    max-pool; then the concatenation `concat` (512 + the input's channels). Every conv is a
    `conv2d_bn`, unnamed as Keras leaves it.
    """

    kind: ClassVar[str] = "inception_v3_d"
    first_only: ClassVar[tuple[str, ...]] = ()
    concat: Concat = None

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        b3 = conv2d_bn(b, conv2d_bn(b, x, 192, 1), 320, 3, strides=2, padding="valid")
        b7 = conv2d_bn(b, conv2d_bn(b, conv2d_bn(b, x, 192, 1), 192, (1, 7)), 192, (7, 1))
        b7 = conv2d_bn(b, b7, 192, 3, strides=2, padding="valid")
        pool = b.add("max_pool", x, None, pool=3, strides=2)
        return b.add("concat", [b3, b7, pool], unprefixed(self.concat))


@register_block
class InceptionV3E(Block):
    """Inception v3 module E (8×8), expanded: 1×1 | 1×1→(1×3, 3×1) | 1×1→3×3→(1×3, 3×1) | pool.

    Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", CVPR 2016,
    Fig. 7; keras.applications.InceptionV3's mixed9 and mixed10. Layers in Keras's order:
    the 1×1 branch (320); 1×1 384, then a 1×3 and a 3×1 (384 each) side by side, joined as
    `split` (Keras: mixed9_0, mixed9_1); 1×1 448 → 3×3 384, then a 1×3 and a 3×1 (384) joined
    unnamed, as Keras leaves it; a 3×3/1 same-padded average pool and its 1×1 (192); then the
    concatenation `concat` (2048 channels). Every conv is a `conv2d_bn`, unnamed as in Keras.
    """

    kind: ClassVar[str] = "inception_v3_e"
    first_only: ClassVar[tuple[str, ...]] = ()
    concat: Concat = None
    split: Annotated[
        LayerName | None,
        Field(description="name of the 3×3 branch's 1×3/3×1 concatenation (Keras: mixed9_0, "
                          "mixed9_1); left out, unnamed"),
    ] = None  # fmt: skip

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        x = inputs[0]
        b1 = conv2d_bn(b, x, 320, 1)
        b3 = _split(b, conv2d_bn(b, x, 384, 1), unprefixed(self.split))
        dbl = _split(b, conv2d_bn(b, conv2d_bn(b, x, 448, 1), 384, 3), None)
        bp = _avg_pool_branch(b, x, 192)
        return b.add("concat", [b1, b3, dbl, bp], unprefixed(self.concat))


def _split(b: Builder, x: str, name: str | None) -> str:
    """Fig. 7's 1×3 and 3×1 (384 each) on one input, concatenated."""
    return b.add("concat", [conv2d_bn(b, x, 384, (1, 3)), conv2d_bn(b, x, 384, (3, 1))], name)


def unprefixed(name: str | None) -> str | None:
    """A name the block gives as Keras does, not prefixed by the instance's."""
    return None if name is None else "/" + name
