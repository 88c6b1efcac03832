"""Built-in blocks: nasnet_normal and nasnet_reduction — NASNet-A's two cells, each reading the
current tensor and the previous cell's input, as keras.applications.NASNet builds them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ClassVar

from pydantic import Field

from ..ops.base import Filters, int_in
from .base import Block, Builder, correct_pad, register_block

BN = {"epsilon": 1e-3, "momentum": 0.9997}  # every batch normalization of keras.applications.NASNet
CONV = {"kernel": 1, "padding": "same", "use_bias": False, "kernel_initializer": "he_normal"}
Namer = Callable[[str], str]  # a layer's stem (`normal_conv_1`) → the name it is placed under


def _separable_conv_block(
    b: Builder, x: str, filters: int, kernel: int, strides: int, tag: str, name: Namer
) -> str:
    """Keras's `_separable_conv_block`: twice ReLU → separable conv → BN (only the first conv
    strides, after Keras's correct_pad and with `valid` padding), named
    `separable_conv_{1,2}[_bn]_{tag}_{id}` and `separable_conv_1_pad_{tag}_{id}`."""
    x = b.add("activation", x, activation="relu")
    padding = "same"
    if strides != 1:
        pad = correct_pad(b.shape(x), kernel)
        x = b.add("zero_pad", x, name(f"separable_conv_1_pad_{tag}"), padding=pad)
        padding = "valid"
    x = b.add("separable_conv", x, name(f"separable_conv_1_{tag}"), filters=filters,
              kernel=kernel, strides=strides, padding=padding, use_bias=False)  # fmt: skip
    x = b.add("bn", x, name(f"separable_conv_1_bn_{tag}"), **BN)
    x = b.add("activation", x, activation="relu")
    x = b.add("separable_conv", x, name(f"separable_conv_2_{tag}"), filters=filters,
              kernel=kernel, padding="same", use_bias=False)  # fmt: skip
    return b.add("bn", x, name(f"separable_conv_2_bn_{tag}"), **BN)


def _adjust_block(b: Builder, p: str | None, ip: str, filters: int, name: Namer) -> str:
    """Keras's `_adjust_block`: the previous path `p` made to match `ip` — `ip` itself when there
    is none; where the widths differ (p is twice as large), ReLU and two 1×1/2 average pools
    (the second shifted by one pixel: pad bottom/right, crop top/left) into 1×1 convs of
    filters/2, concatenated and normalized; where only the channels differ, ReLU, 1×1 conv, BN.
    The padding, cropping, concatenation and projection ReLU are unnamed in Keras."""
    if p is None:
        return ip
    if b.shape(p)[1] != b.shape(ip)[1]:  # Keras compares the widths
        p = b.add("activation", p, name("adjust_relu_1"), activation="relu")
        p1 = b.add("avg_pool", p, name("adjust_avg_pool_1"), pool=1, strides=2, padding="valid")
        p1 = b.add("conv", p1, name("adjust_conv_1"), filters=filters // 2, **CONV)
        p2 = b.add("zero_pad", p, padding=((0, 1), (0, 1)))
        p2 = b.add("crop", p2, cropping=((1, 0), (1, 0)))
        p2 = b.add("avg_pool", p2, name("adjust_avg_pool_2"), pool=1, strides=2, padding="valid")
        p2 = b.add("conv", p2, name("adjust_conv_2"), filters=filters // 2, **CONV)
        p = b.add("concat", [p1, p2])
        return b.add("bn", p, name("adjust_bn"), **BN)
    if b.shape(p)[-1] != filters:
        p = b.add("activation", p, activation="relu")
        p = b.add("conv", p, name("adjust_conv_projection"), filters=filters, **CONV)
        return b.add("bn", p, name("adjust_bn"), **BN)
    return p


class _Cell(Block):
    """What both cells take: their filters, Keras's block id, and one or two inputs."""

    arity: ClassVar[tuple[int, int | None]] = (1, 2)  # [x] or [x, p]: p = the previous input
    first_only: ClassVar[tuple[str, ...]] = ()
    filters: Annotated[Filters, Field(description="channels of each branch (the cell's F)")]
    block_id: Annotated[
        int_in(0, 1 << 20) | Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,64}$")] | None,
        Field(description="Keras's block id (0, stem_1, reduce_4): absolute names …_{id}"),
    ] = None

    def namer(self) -> Namer:
        """With `block_id`, Keras's absolute names `STEM_{id}`; without, STEM prefixed by the
        instance's name like any block's layers."""
        if self.block_id is None:
            return lambda stem: stem
        return lambda stem: f"/{stem}_{self.block_id}"

    def start(self, b: Builder, inputs: list[str], cell: str, n: Namer) -> tuple[str, str]:
        """Both cells' first layers, in Keras's order: p adjusted to x, then h = ReLU → 1×1
        conv `CELL_conv_1` → BN `CELL_bn_1` of x. Returns (p, h)."""
        x = inputs[0]
        p = _adjust_block(b, inputs[1] if len(inputs) > 1 else None, x, self.filters, n)
        h = b.add("activation", x, activation="relu")
        h = b.add("conv", h, n(f"{cell}_conv_1"), filters=self.filters, **CONV)
        return p, b.add("bn", h, n(f"{cell}_bn_1"), **BN)


@register_block
class NasnetNormal(_Cell):
    """NASNet-A normal cell: five pairwise-combined branches of x and p, concatenated with p.

    B. Zoph, V. Vasudevan, J. Shlens, Q. V. Le, "Learning Transferable Architectures for
    Scalable Image Recognition", CVPR 2018, Fig. 4 (left). Exactly keras.applications'
    `_normal_a_cell(ip, p, filters, block_id)`, layers created in its order: p adjusted to x
    (`adjust_…`, see below; absent, p is x), then h = ReLU → 1×1 conv `normal_conv_1` → BN
    `normal_bn_1` of x; the adds `normal_add_1` (5×5 separable block on h + 3×3 on p),
    `normal_add_2` (5×5 and 3×3 on p), `normal_add_3` (3×3 average pool `normal_left3` of h + p),
    `normal_add_4` (average pools `normal_left4`, `normal_right4` of p), `normal_add_5` (3×3
    separable block on h + h), and `normal_concat` of [p, add_1 … add_5] (6·filters channels).
    A separable block is ReLU → separable conv → BN, twice (`separable_conv_1_normal_left1`,
    `separable_conv_1_bn_…`, `separable_conv_2_…`). Adjusting p: where its width differs from
    x's, `adjust_relu_1`, two 1×1/2 average pools `adjust_avg_pool_1`/`_2` (the second after an
    unnamed one-pixel pad and crop) into 1×1 convs `adjust_conv_1`/`_2` of filters/2, an unnamed
    concat and `adjust_bn`; where only the channels differ, an unnamed ReLU,
    `adjust_conv_projection` and `adjust_bn`. Every name ends in `_{block_id}` and is absolute
    (not prefixed by the instance), as Keras names them; the ReLUs before the convs are
    unnamed (`activation_N` with `naming: keras`). 1×1 convs use he_normal, no conv has a bias,
    batch normalization uses epsilon 1e-3 and momentum 0.9997. Inputs `from: [x, p]`: p is the
    input of the cell before (`repeat: {inputs: 2}` threads it from cell to cell).
    """

    kind: ClassVar[str] = "nasnet_normal"

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        n, f = self.namer(), self.filters
        p, h = self.start(b, inputs, "normal", n)

        def sep(src: str, kernel: int, tag: str) -> str:
            return _separable_conv_block(b, src, f, kernel, 1, tag, n)

        def pool(src: str, tag: str) -> str:
            return b.add("avg_pool", src, n(tag), pool=3, strides=1, padding="same")

        x1 = b.add("add", [sep(h, 5, "normal_left1"), sep(p, 3, "normal_right1")],
                   n("normal_add_1"))  # fmt: skip
        x2 = b.add("add", [sep(p, 5, "normal_left2"), sep(p, 3, "normal_right2")],
                   n("normal_add_2"))  # fmt: skip
        x3 = b.add("add", [pool(h, "normal_left3"), p], n("normal_add_3"))
        x4 = b.add("add", [pool(p, "normal_left4"), pool(p, "normal_right4")], n("normal_add_4"))
        x5 = b.add("add", [sep(h, 3, "normal_left5"), h], n("normal_add_5"))
        return b.add("concat", [p, x1, x2, x3, x4, x5], n("normal_concat"))


@register_block
class NasnetReduction(_Cell):
    """NASNet-A reduction cell: stride-2 branches of x and p, four sums concatenated.

    B. Zoph, V. Vasudevan, J. Shlens, Q. V. Le, "Learning Transferable Architectures for
    Scalable Image Recognition", CVPR 2018, Fig. 4 (right). Exactly keras.applications'
    `_reduction_a_cell(ip, p, filters, block_id)`, layers created in its order: p adjusted to x
    as in `nasnet_normal`, h = ReLU → 1×1 conv `reduction_conv_1` → BN `reduction_bn_1` of x,
    and h3 = h zero-padded by Keras's correct_pad (`reduction_pad_1`); then `reduction_add_1`
    (5×5/2 separable block on h + 7×7/2 on p), `reduction_add_2` (3×3/2 max-pool
    `reduction_left2` of h3 + 7×7/2 block on p), `reduction_add3` (3×3/2 average pool
    `reduction_left3` of h3 + 5×5/2 block on p), an unnamed add of add_2 and a 3×3/1 average
    pool `reduction_left4` of add_1, `reduction_add4` (3×3 separable block on add_1, also
    tagged `reduction_left4`, + 3×3/2 max-pool `reduction_right5` of h3), and
    `reduction_concat` of the last four (4·filters channels, half the size). A strided
    separable block pads by correct_pad (`separable_conv_1_pad_…`) and convolves `valid`.
    Names are Keras's (`…_{block_id}`, absolute), spelling included (`reduction_add_1`,
    `reduction_add3`); conventions as `nasnet_normal`. Keras's stem cells take no p
    (`from: x` alone); the others `from: [x, p]`, p the input of the cell before.
    """

    kind: ClassVar[str] = "nasnet_reduction"

    def expand(self, b: Builder, inputs: list[str], name: str) -> str:
        n, f = self.namer(), self.filters
        p, h = self.start(b, inputs, "reduction", n)
        h3 = b.add("zero_pad", h, n("reduction_pad_1"), padding=correct_pad(b.shape(h), 3))

        def sep(src: str, kernel: int, strides: int, tag: str) -> str:
            return _separable_conv_block(b, src, f, kernel, strides, tag, n)

        def pool(op: str, src: str, tag: str, strides: int = 2) -> str:
            padding = "valid" if strides == 2 else "same"
            return b.add(op, src, n(tag), pool=3, strides=strides, padding=padding)

        x1 = b.add("add", [sep(h, 5, 2, "reduction_left1"), sep(p, 7, 2, "reduction_right1")],
                   n("reduction_add_1"))  # fmt: skip
        left = pool("max_pool", h3, "reduction_left2")
        x2 = b.add("add", [left, sep(p, 7, 2, "reduction_right2")], n("reduction_add_2"))
        left = pool("avg_pool", h3, "reduction_left3")
        x3 = b.add("add", [left, sep(p, 5, 2, "reduction_right3")], n("reduction_add3"))
        x4 = b.add("add", [x2, pool("avg_pool", x1, "reduction_left4", strides=1)])  # unnamed
        left = sep(x1, 3, 1, "reduction_left4")
        x5 = b.add("add", [left, pool("max_pool", h3, "reduction_right5")], n("reduction_add4"))
        return b.add("concat", [x2, x3, x4, x5], n("reduction_concat"))
