"""The table of primitive ops, filled by explicit imports in `archcompiler.ops`."""

from __future__ import annotations

from typing import TypeVar

from .base import Op

OPS: dict[str, type[Op]] = {}

T = TypeVar("T", bound=type[Op])


def register(cls: T) -> T:
    """Class decorator; a second op of the same name fails loudly and says where the first lives."""
    first = OPS.get(cls.kind)
    if first is not None:
        raise RuntimeError(
            f"op '{cls.kind}' is defined twice: {first.__module__}.{first.__name__} "
            f"and {cls.__module__}.{cls.__name__}"
        )
    OPS[cls.kind] = cls
    return cls
