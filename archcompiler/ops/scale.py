"""A learned scale per channel: layer_scale (ConvNeXt's and CaiT's LayerScale)."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from .base import MAX_DIM, Inferred, Op, Shape, ShapeError, fmt, int_in
from .registry import register


@register
class LayerScale(Op):
    """x · γ with a learned γ per channel, started at `init_values` (ConvNeXt's LayerScale).

    H. Touvron, M. Cord, A. Sablayrolles, G. Synnaeve, H. Jégou, "Going deeper with Image
    Transformers", ICCV 2021, §2 (LayerScale); Z. Liu et al., "A ConvNet for the 2020s", CVPR
    2022, ends each ConvNeXt block with it. keras.applications writes it as a custom class,
    `LayerScale`; a model of ours holds core layers only (docs/contracts.md), so this is the
    core layer with the same one weight: `EinsumDense("abcd,d->abcd")` on a batch of H×W×C
    (its axes spelled out for any rank), the kernel γ of shape (C,) starting at the constant
    `init_values`. `projection_dim` is C, as Keras's LayerScale takes it, and must be the
    input's last axis. C trainable weights; 0 MACs: an element-wise product, counted as
    `multiply` and `bn` are (docs/contracts.md counts the MACs of convolutions and dense
    layers only)."""

    kind: ClassVar[str] = "layer_scale"
    keras_name: ClassVar[str] = "einsum_dense"
    projection_dim: Annotated[
        int_in(1, MAX_DIM), Field(description="C: the channels scaled (the input's last axis)")
    ]
    init_values: Annotated[
        float, Field(strict=True, allow_inf_nan=False, description="γ's starting value")
    ] = 1e-6

    def infer(self, inputs: list[Shape]) -> Inferred:
        (shape,) = inputs
        if not shape:
            raise ShapeError("needs an input with a channel axis")
        if shape[-1] != self.projection_dim:
            raise ShapeError(
                f"projection_dim {self.projection_dim} must be the channels of {fmt(shape)}"
            )
        return Inferred(shape, self.projection_dim)
