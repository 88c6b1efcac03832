"""What the input-size solver answers: the accepted sizes per axis, the nodes that constrain
them, and how they read (`describe_set`: '32 + 32k (min 32)'; `render`: `archc check --sizes`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Constraint:
    """What one node refuses, given that its inputs exist: `kind` is 'shrinks' (a size falls to
    zero or below), 'merge' (unequal sizes meet), 'bound' (a tensor or params bound) or 'rule'
    (another shape rule); `accepted` summarises the sizes it lets through."""

    node: str
    op: str
    kind: str
    accepted: str
    refused: int  # how many candidate sizes it is the first to refuse
    same_as: list[str] = field(default_factory=list)  # later nodes with the same constraint


@dataclass
class AxisSizes:
    """The answer for one unknown: 'H = W' (a square input), 'H' or 'W'."""

    axis: str
    reference: int  # the spec's own size
    upto: int
    accepted: np.ndarray  # bool, index n-1 for size n
    constraints: list[Constraint]
    shrink_below: int  # every size below it makes some layer shrink to nothing (1: none)
    fixed_by: list[str]  # flatten → dense nodes: their weights follow the size

    @property
    def sizes(self) -> list[int]:
        return [int(n) + 1 for n in np.flatnonzero(self.accepted)]

    def pattern(self) -> str:
        return describe_set(self.accepted)


@dataclass
class SizeReport:
    name: str
    axes: list[AxisSizes]
    # nodes whose arguments follow the `size` param otherwise than as correct_pad (a pool of
    # `$size // 32`): the answer is for the op chain as compiled at the spec's size
    follow_size: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for the summary's totals."""
        parts = []
        for a in self.axes:
            lead = "" if a.axis == "H = W" else f"{a.axis}: "
            parts.append(lead + a.pattern())
        return "; ".join(parts)


def _periodic(acc: np.ndarray, lo: int, hi: int, m: int) -> tuple[int, list[int]]:
    """(the first index from which acc[lo..hi] follows period m, the accepted residues)."""
    top = acc[max(lo, hi - m + 1) : hi + 1]
    residues = sorted({(i + max(lo, hi - m + 1) + 1) % m for i in np.flatnonzero(top)})
    n = np.arange(lo, hi + 1) + 1
    want = np.isin(n % m, residues)
    wrong = np.flatnonzero(want != acc[lo : hi + 1])
    start = lo if wrong.size == 0 else lo + int(wrong[-1]) + 1
    return start, residues


def describe_set(acc: np.ndarray) -> str:
    """'32 + 32k (min 32)', 'all sizes ≥ 1', 'exactly 224', 'none' … for a bool mask of sizes."""
    idx = np.flatnonzero(acc)
    if idx.size == 0:
        return f"none in 1…{acc.size}"
    lo, hi = int(idx[0]), int(idx[-1])
    if lo == hi:
        return f"exactly {lo + 1}"
    best = None
    for m in range(1, max(2, (hi - lo) // 4 + 1)):
        start, residues = _periodic(acc, lo, hi, m)
        if best is None or start < best[0]:
            best = (start, m, residues)
        if start == lo:
            break
    start, m, residues = best  # type: ignore[misc]
    first = int(start + np.flatnonzero(acc[start:])[0]) + 1
    top = f" up to {hi + 1}" if hi + 1 < acc.size else ""
    if m == 1:
        text = f"any size ≥ {first}{top}"
    elif len(residues) == 1:
        text = f"{first} + {m}k (min {lo + 1}, step {m}{top and ','}{top})"
    else:
        shown = ", ".join(map(str, residues))
        text = f"n ≥ {first} with n mod {m} in {{{shown}}} (min {lo + 1}{top and ','}{top})"
    extra = [int(i) + 1 for i in np.flatnonzero(acc[:start])]
    if extra:  # sizes below the regular part that pass too (a size 1 broadcasts in merges)
        text = ", ".join(map(str, extra[:6])) + (", …" if len(extra) > 6 else "") + ", then " + text
    return text


KIND_WORDS = {"shrinks": "shrinks to nothing", "merge": "unequal sizes meet",
              "bound": "over a bound", "rule": "a shape rule"}  # fmt: skip


def render(report: SizeReport, spec: str, limit: int = 8) -> str:
    """`archc check --sizes`: the answer per axis, then the nodes that impose a constraint, each
    with the sizes that pass it and every node before it."""
    lines = []
    if report.follow_size:
        shown = ", ".join(report.follow_size[:5]) + (", …" if len(report.follow_size) > 5 else "")
        lines.append(f"{spec}: note: the arguments of {shown} follow `size`; the answer is for "
                     "the op chain as compiled at the spec's size")  # fmt: skip
    for a in report.axes:
        own = "accepted" if a.accepted[a.reference - 1] else "REFUSED"
        lines.append(f"{spec}: input sizes ({a.axis}): {a.pattern()}")
        lines.append(f"  solved for every size 1…{a.upto}; the spec's own {a.reference}: {own}")
        if a.shrink_below > 1:
            lines.append(f"  below {a.shrink_below} some layer shrinks to nothing")
        if a.constraints:
            lines.append("  constrained by (sizes that pass the node and all before it):")
            width = max(len(f"{c.op} '{c.node}'") for c in a.constraints[:limit])
            for c in a.constraints[:limit]:
                more = f"  (+{len(c.same_as)} nodes alike)" if c.same_as else ""
                who = f"{c.op} '{c.node}'"
                lines.append(f"    {who:<{width}}  {KIND_WORDS[c.kind]:<18}  {c.accepted}{more}")
            if len(a.constraints) > limit:
                lines.append(f"    … {len(a.constraints) - limit} more nodes")
        if a.fixed_by:
            lines.append(f"  {', '.join(a.fixed_by)}: weights follow the size (flatten → dense); "
                         f"a weights file fits {a.reference} only")  # fmt: skip
    return "\n".join(lines)
