"""The pydantic base model of every spec object: frozen, no unknown keys, "did you mean" hints."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from .errors import did_you_mean


class Strict(BaseModel):
    """Refuses unknown keys with a suggestion, and names them so the error can point at the key."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    unknown_key_word: ClassVar[str] = "key"

    @classmethod
    def known_keys(cls) -> list[str]:
        return [f.alias or name for name, f in cls.model_fields.items()]

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = cls.known_keys()
            for key in data:
                if key not in known:
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown {word} '{key}'{hint}",
                        {
                            "word": cls.unknown_key_word,
                            "key": key,
                            "hint": did_you_mean(key, known),
                        },
                    )
        return data
