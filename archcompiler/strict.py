"""The pydantic base model of every spec object: frozen, no unknown keys, "did you mean" hints."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Refuses unknown keys; `spec.validate` turns pydantic's extra_forbidden errors into
    "unknown argument 'x' — did you mean 'y'?" using `known_keys` and `unknown_key_word`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)
    unknown_key_word: ClassVar[str] = "key"

    @classmethod
    def known_keys(cls) -> list[str]:
        return [f.alias or name for name, f in cls.model_fields.items()]
