"""Expand + infer: the one walk from a validated spec to the Graph.

It resolves `extends` (chain.py), binds params, `--set`, `override:` and `$expressions`
(bindings.py), places every node — `from`, `repeat`, bounds — (walk.py), expands built-in and
user blocks (expand.py), and finishes with outputs, unused overrides and `freeze` (finish.py).
Each op is asked for its output shape, weights and MACs as it is placed: blocks may depend on
the shapes they receive, so expansion and inference are one pass. Every failure is a located
SpecError. No TensorFlow here.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from ..errors import Location, SpecError, did_you_mean
from ..graph import Graph
from ..limits import Limits
from ..zoo import is_zoo_name, zoo_names, zoo_path
from .chain import load_chain
from .walk import Walk


def resolve_spec(name: str) -> str:
    """A spec argument: a file if one is there, else a zoo network's name (`resnet50`) — the
    file wins, so a user's own `resnet50` file is never shadowed. An error when it is neither."""
    if os.path.lexists(name):
        return name
    zoo = zoo_path(name)
    if zoo is not None:
        return str(zoo)
    if is_zoo_name(name):
        raise SpecError.at(
            Location(name), f"no such file, and no zoo network is named '{name}'"
            f"{did_you_mean(name, zoo_names())} (list them: archc zoo)",
        )  # fmt: skip
    return name  # the loader says why this path cannot be read


def compile_file(
    path: str | os.PathLike[str],
    sets: Mapping[str, str] | None = None,
    *,
    head: bool = True,
    limits: Limits | None = None,
) -> Graph:
    """Load, validate, expand and infer a spec file into a Graph; `sets` are `--set KEY=VALUE`
    values; `head=False` leaves the head out. Raises SpecError."""
    lim = limits or Limits()
    with _collector_paused():
        chain = load_chain(resolve_spec(os.fspath(path)), lim.allowed_dirs)
        return Walk(chain, dict(sets or {}), head, lim).run()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a spec compiles: loading and the walk allocate a few
    containers per YAML event and per node, all kept (no cycles to find), so each collection
    rescans a growing heap for nothing (a 10,000-node chain: ~15 % of its time). Reference
    counting still frees everything as usual; the collector is on again after, as it was."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


__all__ = ["Limits", "compile_file", "resolve_spec"]
