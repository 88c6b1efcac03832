"""Every bound on what a spec can make large, each named once.

The loader, the expression parser, the op models and the walk read their bounds from here, so a
bound and the message that names it cannot disagree. `Limits` holds the ones a user may raise
from the command line (`--max-params`, `--max-nodes`); the rest are fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- the YAML text (spec/loader.py) ---
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_NESTING = 64  # levels of YAML mappings and lists
MAX_ALIASES = 256
MAX_YAML_INT_BITS = 64  # no size, count or index in a spec comes near 2**64
MAX_EXPANDED_NODES = 1_000_000  # YAML nodes, counting each alias as its whole subtree
MAX_DIAGNOSTICS = 100  # errors reported per file

# --- $expressions (spec/expr.py) ---
MAX_EXPR_LENGTH = 500  # characters
MAX_EXPR_DEPTH = 50  # nesting of the parsed expression
MAX_EXPR_INT_BITS = 1024  # results (and intermediate values) below 2**1024

# --- single values ---
MAX_DIM = 1 << 16  # an input size, a spatial size, a channel count, units
MAX_KERNEL = 1 << 10  # a kernel, pool or stride side
MAX_REPEAT = 10_000  # instances of one `repeat`
MAX_EXTENDS_DEPTH = 8  # files in one `extends` chain


VISITS_PER_NODE = 2  # `--max-nodes N` allows N placed nodes and 2·N visits (the zoo needs ≤ 1.06·N)


@dataclass(frozen=True)
class Limits:
    """Bounds on the whole network, checked as the walk places nodes."""

    max_params: int = 10**9
    max_nodes: int = 20_000
    # nodes and block instances the walk visits, placed or left out by `when`: bounds the work of
    # blocks that place little or nothing but fan out or repeat (VISITS_PER_NODE × max_nodes)
    max_visits: int = 40_000
    max_block_depth: int = 32  # user blocks inside user blocks
    # folders beyond a spec's own folder tree (and the zoo) whose specs `extends` may read
    allowed_dirs: tuple[str, ...] = ()
    max_elements: int = 1 << 31  # one tensor, batch 1


def limits_for(max_params: int, max_nodes: int, allowed_dirs: tuple[str, ...] = ()) -> Limits:
    """The bounds for `--max-params`, `--max-nodes` (which raises the visits bound with it) and
    `--allow-path`."""
    return Limits(max_params=max_params, max_nodes=max_nodes,
                  max_visits=VISITS_PER_NODE * max_nodes,
                  allowed_dirs=tuple(allowed_dirs))  # fmt: skip
