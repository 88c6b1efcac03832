"""Rules the walk checks for ops and blocks alike."""

from __future__ import annotations

from ..errors import Location, SpecError


def check_arity(
    what: str, arity: tuple[int, int | None], count: int, where: Location, notes: tuple[str, ...]
) -> None:
    """The one rule for how many inputs an op or block takes."""
    lo, hi = arity
    if lo <= count and (hi is None or count <= hi):
        return
    want = f"{lo}" if lo == hi else f"at least {lo}" if hi is None else f"{lo}–{hi}"
    hint = " — list them with `from: [a, b]`" if hi is None and lo > 1 else ""
    raise SpecError.at(where, f"{what} takes {want} input(s), got {count}{hint}", *notes)
