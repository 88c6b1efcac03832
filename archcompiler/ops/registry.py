"""The table of primitive ops, filled by explicit imports in `archcompiler.ops`."""

from __future__ import annotations

from ..registry import Registry
from .base import Op

OPS: Registry[type[Op]] = Registry("op")
register = OPS.register
