"""A default-bound search for the model tests: in C where a compiler is installed (as on CI), else
in Python. tests/model/test_cexplore.py shows both explorers visit the same states in the same
order with the same violations, so a test about the model may take the faster one; a test about
the Python explorer itself calls model.explore directly."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from specmc.model import cexplore
from specmc.model.explore import explore
from specmc.model.program import Program
from specmc.model.symbolic import predicate_term, state_vars


@dataclass(frozen=True)
class Searched:
    states: int
    complete: bool
    violations: frozenset[str]
    by: str  # "C" or "Python"


def search(program: Program, props: list, steps: int = 10_000, max_states: int = 20_000_000) -> Searched:
    try:
        cexplore.compiler()
    except cexplore.Unavailable:
        if os.environ.get("SPECMC_REQUIRE_CC"):
            raise
        preds = {p.id: (lambda S, p=p: p.holds(program, S)) for p in props}
        r = explore(program, preds, steps, max_states)
        return Searched(r.states, r.complete, frozenset(r.violations), "Python")
    xs = state_vars(program)
    native = cexplore.Native(program, {p.id: predicate_term(program, p.holds, xs) for p in props})
    s = native.search(steps, max_states)
    return Searched(s.count, s.complete, frozenset(s.violations), "C")


@pytest.fixture
def needs_compiler() -> None:
    """Skips a test that needs the C search where no compiler is installed; with SPECMC_REQUIRE_CC
    (CI) that fails instead."""
    try:
        cexplore.compiler()
    except cexplore.Unavailable as e:
        if os.environ.get("SPECMC_REQUIRE_CC"):
            pytest.fail(f"SPECMC_REQUIRE_CC is set but {e}")
        pytest.skip(str(e))


def assert_relation_admits_exactly(program: Program, rel, states) -> None:
    """Z3's transition relation `rel` (model/symbolic.py `relation`) admits, from each of `states`,
    exactly the successors the reference interpreter computes: the one semantics, interpreted
    twice, gives one relation. Each next state Z3 finds is blocked until none is left."""
    import z3
    from specmc.model.explore import successors

    solver = z3.Solver()
    solver.add(rel.trans)
    for s in states:
        want = {n for _, n in successors(program, s)}
        solver.push()
        solver.add(*[v == s[i] for i, v in enumerate(rel.current)])
        got = set()
        while solver.check() == z3.sat:
            m = solver.model()
            n = tuple(m.eval(v, model_completion=True).as_long() for v in rel.next)
            got.add(n)
            solver.add(z3.Or(*[v != n[i] for i, v in enumerate(rel.next)]))
        solver.pop()
        assert got == want, s
