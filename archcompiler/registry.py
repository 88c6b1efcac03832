"""A name → class table that refuses a second entry of the same name, saying where the first
lives (MMEngine-style). Ops and blocks each have one, filled by explicit imports."""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T", bound=type)


class Registry(dict[str, T], Generic[T]):
    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def register(self, cls: T) -> T:
        """Class decorator, keyed by the class's `kind`."""
        kind = cls.kind  # type: ignore[attr-defined]
        first = self.get(kind)
        if first is not None:
            raise RuntimeError(
                f"{self.what} '{kind}' is defined twice: {first.__module__}.{first.__name__} "
                f"and {cls.__module__}.{cls.__name__}"
            )
        self[kind] = cls
        return cls
