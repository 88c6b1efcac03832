"""`budget:` — the most a network may cost, as written in a spec: params, MACs, activation
memory and weight memory, with the units people write (`5M`, `600M`, `50MB`, `20MB`)."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field

from ..strict import Strict

COUNT_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
# binary multiples, as the summary's `97.7 MB` (and Keras's model.summary()) count them
BYTE_UNITS = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}
_NUMBER = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*")


def _amount(units: dict[str, int], what: str) -> Any:
    def parse(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"a {what} is a number with a unit, e.g. {example}")
        if isinstance(value, (int, float)):
            number, unit = float(value), ""
        elif isinstance(value, str) and (m := _NUMBER.fullmatch(value)):
            number, unit = float(m.group(1)), m.group(2).upper()
        else:
            raise ValueError(f"a {what} is a number with a unit, e.g. {example}")
        if unit not in units:
            raise ValueError(f"unknown unit '{unit}' (use {', '.join(u for u in units if u)})")
        return int(number * units[unit])

    example = "5M" if "K" in units else "50MB"
    return Annotated[int, BeforeValidator(parse), Field(ge=1)]


Count = _amount(COUNT_UNITS, "count")
Bytes = _amount(BYTE_UNITS, "size in bytes")


class Budget(Strict):
    """Upper bounds checked by `archc check`, `summary` and `build`; a spec that `extends`
    another inherits its budget and may replace single entries."""

    unknown_key_word: ClassVar[str] = "budget entry"
    params: Count | None = Field(None, description="total params, e.g. 5M")
    macs: Count | None = Field(None, description="multiply-accumulates, batch 1, e.g. 600M")
    activations: Bytes | None = Field(
        None, description="float32 bytes of every node output, batch 1, e.g. 50MB"
    )
    weights: Bytes | None = Field(None, description="float32 bytes of all params, e.g. 20MB")
