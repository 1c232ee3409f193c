"""The decision diagram of a state set: the array construction accepts exactly the set, is as
small as the exact reduced diagram, and never lets a hash collision merge different nodes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from specmc.proofs.certify import invariant
from specmc.proofs.certify.invariant import Diagram, _diagram_exact, count, diagram


def accepted(d: Diagram) -> set[tuple[int, ...]]:
    out: set[tuple[int, ...]] = set()

    def walk(n: int, prefix: tuple[int, ...]) -> None:
        if n == invariant.TRUE_NODE:
            out.add(prefix)
            return
        for v, c in d.nodes[n - 2][1]:
            walk(c, prefix + (v,))

    walk(d.root, ())
    return out


state_sets = st.integers(1, 7).flatmap(
    lambda w: st.tuples(st.just(w), st.sets(st.tuples(*[st.integers(0, 4)] * w), min_size=1, max_size=80)))


@settings(max_examples=200, deadline=None)
@given(state_sets)
def test_accepts_exactly_the_set_and_is_reduced(case: tuple[int, set[tuple[int, ...]]]) -> None:
    width, states = case
    d = diagram(states, width)
    assert accepted(d) == states
    assert count(d) == len(states)
    assert len(d) == len(_diagram_exact(states, width))  # both reduced: the same number of nodes


@settings(max_examples=50, deadline=None)
@given(state_sets)
def test_a_hash_collision_falls_back_to_the_exact_construction(monkeypatch_free: tuple) -> None:
    width, states = monkeypatch_free
    real = invariant._mix
    invariant._mix = lambda x: np.zeros_like(x)  # every node hashes alike
    try:
        d = diagram(states, width)
    finally:
        invariant._mix = real
    assert accepted(d) == states


@settings(max_examples=40, deadline=None)
@given(state_sets, st.randoms(use_true_random=False))
def test_smtlib_text_in_any_variable_order_accepts_exactly_the_set(case, rnd) -> None:
    """The certificate's text, parsed back by Z3, holds of exactly the diagram's states."""
    import z3

    width, states = case
    order = list(range(width))
    rnd.shuffle(order)
    d = diagram(states, width, order)
    assert accepted(d) == {tuple(s[i] for i in order) for s in states}
    names = [f"v[{i}]" for i in range(width)]
    inv = z3.And(*z3.parse_smt2_string(invariant.to_smtlib(d, names)))
    xs = [z3.BitVec(n, 8) for n in names]
    for s in list(states)[:10] + [tuple(rnd.randrange(5) for _ in range(width)) for _ in range(10)]:
        pairs = [(x, z3.BitVecVal(v, 8)) for x, v in zip(xs, s, strict=True)]
        value = z3.simplify(z3.substitute(inv, *pairs))
        assert z3.is_true(value) == (s in states)
