"""The bound on expansion work (limits.Limits.max_visits): blocks that place nothing — every node
behind a false `when`, empty bodies repeated, fan-out — still cost a visit per node and instance,
and no spec gets the walk to do more than the bound, whatever it places.

The corpus files tests/hostile/fanout_places_nothing.yaml and repeat_empty_block.yaml run the
worst cases in their own processes under time and memory limits (test_hostile.py); here
Hypothesis generates block trees and counts the walk's visits directly, which is exact and
independent of the machine's speed.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from archcompiler.compiler import compile_file, walk
from archcompiler.errors import SpecError
from archcompiler.limits import VISITS_PER_NODE, Limits, limits_for
from tests.helpers import write

LEAVES = ["relu: {when: false}", "relu", "dropout: {rate: 0.5, when: false}"]


@st.composite
def block_trees(draw: st.DrawFn) -> tuple[str, int]:
    """A spec whose blocks use the level below `fanout` times, each use repeated; returns the
    text and the visits the walk needs at most (levels nest, so the count multiplies)."""
    levels = draw(st.integers(1, 24))
    lines = ["archspec: 1", "name: tree", "input: {shape: [4, 4, 2]}", "blocks:",
             "  l0:", "    body:", f"      - {draw(st.sampled_from(LEAVES))}"]  # fmt: skip
    visits = 1
    for k in range(1, levels + 1):
        lines += [f"  l{k}:", "    body:"]
        uses = draw(st.lists(st.integers(1, 10_000), min_size=1, max_size=3))
        lines += [f"      - l{k - 1}: {{repeat: {n}}}" for n in uses]
        visits = sum(uses) * (visits + 1)  # each instance: its own visit and its body's
    lines += ["backbone:", f"  - l{levels}", "  - relu"]
    return "\n".join(lines) + "\n", visits + 2


class Counting:
    """Counts every call of the walk's `_place` (a node visited) while a spec compiles, and
    keeps the walk to read its own count of visits (nodes and instances) afterwards."""

    def __init__(self, monkeypatch) -> None:
        self.calls = 0
        self.walker = None
        original = walk.Walk._place

        def counted(walker, *args, **kwargs):
            self.calls += 1
            self.walker = walker
            return original(walker, *args, **kwargs)

        monkeypatch.setattr(walk.Walk, "_place", counted)


@settings(max_examples=80, deadline=None)
@given(tree=block_trees(), max_nodes=st.sampled_from([4, 40, 400]))
def test_generated_block_trees_never_walk_past_the_bound(tmp_path_factory, tree, max_nodes):
    import pytest

    text, needed = tree
    limits = limits_for(10**9, max_nodes)
    path = write(tmp_path_factory.mktemp("tree"), text)
    with pytest.MonkeyPatch.context() as mp:
        counter = Counting(mp)
        try:
            compile_file(path, limits=limits)
            refused = None
        except SpecError as e:
            refused = e.diagnostics[0]
    visits = counter.walker.visits
    assert counter.calls <= visits <= limits.max_visits + 1  # the one that crosses is refused
    if refused is None:
        assert visits <= needed
    elif "visits more than" in refused.message:
        assert needed > limits.max_visits and visits == limits.max_visits + 1
    else:  # the bound on placed nodes came first
        assert f"{max_nodes:,} nodes" in refused.message and "--max-nodes" in refused.message


def test_the_bound_scales_with_max_nodes(tmp_path) -> None:
    """`--max-nodes N` allows 2·N visits: a spec refused under one bound compiles under a
    higher one, and the default is 2 × the default node bound."""
    assert Limits().max_visits == VISITS_PER_NODE * Limits().max_nodes == 40_000
    lines = ["archspec: 1", "name: t", "input: {shape: [4, 4, 2]}",
             "blocks:", "  empty: {body: [{relu: {when: false}}]}",
             "backbone:", "  - empty: {repeat: 100}", "  - empty: {repeat: 100}",
             "  - empty: {repeat: 100}", "  - relu"]  # fmt: skip
    text = "\n".join(lines)
    path = write(tmp_path, text + "\n")  # 3 uses × 100 instances × 2 visits (instance, relu)
    try:
        compile_file(path, limits=limits_for(10**9, 250))
        raise AssertionError("600 visits passed a bound of 500")
    except SpecError as e:
        assert "visits more than 500 nodes" in e.diagnostics[0].message
        assert e.diagnostics[0].location.line == 9  # the third use: its instances cross it
    graph = compile_file(path, limits=limits_for(10**9, 400))
    assert len(graph) == 2  # the input and the relu: nothing else was placed
