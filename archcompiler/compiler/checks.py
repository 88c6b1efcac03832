"""Rules the walk checks for ops and blocks alike: how many inputs, and the bounds on size."""

from __future__ import annotations

import math

from ..errors import Location, SpecError
from ..graph import Node
from ..limits import VISITS_PER_NODE, Limits
from ..ops.base import fmt


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


def check_bounds(
    lim: Limits, node: Node, params_so_far: int, placed: int, where: Location,
    notes: tuple[str, ...],
) -> None:  # fmt: skip
    """One tensor, one node's params, the network's params and nodes, each within its bound."""
    elements = math.prod(node.shape)
    params = node.params
    total = params_so_far + params
    if (
        elements <= lim.max_elements
        and params <= lim.max_params
        and total <= lim.max_params
        and placed < lim.max_nodes
    ):
        return  # within every bound: the message is built only when one is passed
    bound = f"over the bound of {lim.max_params:,} (raise it with --max-params)"
    problem = None
    if elements > lim.max_elements:
        problem = (
            f"its output {fmt(node.shape)} holds {elements:,} values, over {lim.max_elements:,}"
        )
    elif node.params > lim.max_params:
        problem = f"it has {node.params:,} params, {bound}"
    elif total > lim.max_params:
        problem = f"the network reaches {total:,} params here, {bound}"
    elif placed >= lim.max_nodes:
        problem = f"the network passes {lim.max_nodes:,} nodes here (raise it with --max-nodes)"
    if problem:
        raise SpecError.at(where, f"{node.op} '{node.name}': {problem}", *notes)


def check_growth(
    lim: Limits, per: int, placed: int, count: int, where: Location, notes: tuple[str, ...]
) -> None:
    """After the first of `count` repeated instances (`per` nodes each), refuse early if the
    rest would pass the node bound."""
    if placed + per * (count - 1) > lim.max_nodes:
        raise SpecError.at(
            where,
            f"repeat {count:,} × {per} nodes passes the bound of {lim.max_nodes:,} "
            "nodes (raise it with --max-nodes)",
            *notes,
        )


def too_much_work(lim: Limits, where: Location, notes: tuple[str, ...]) -> SpecError:
    """The bound on expansion work, passed: blocks that place nothing (every node behind a
    false `when`) still cost a visit per node and instance, and fan-out multiplies them."""
    return SpecError.at(
        where,
        f"expanding the network visits more than {lim.max_visits:,} nodes and block "
        "instances (placed or left out by `when`; raise it with --max-nodes, which allows "
        f"{VISITS_PER_NODE} visits per node)",
        *notes,
    )
