"""Primitive ops. Every built-in op module is imported here, explicitly, to register it."""

from . import activation, conv, dense, merge, norm, pool, reshape, scale  # noqa: F401
from .base import Inferred, Op, Shape, ShapeError, fmt
from .registry import OPS, register

__all__ = ["OPS", "Inferred", "Op", "Shape", "ShapeError", "fmt", "register"]
