"""One semantics, two domains: Z3's transition relation admits exactly the successors the
reference interpreter computes, on reachable states covering every statement kind."""

from __future__ import annotations

import random
from collections import deque

import pytest
import z3

from model.bounds import Bounds
from model.build import build
from model.explore import successors
from model.hosts import load_host, shipped
from model.symbolic import relation
from spec.load import load_spec

PER_HOST = 300


def reachable(program, limit=50_000):
    seen = {program.init}
    queue = deque([program.init])
    while queue and len(seen) < limit:
        s = queue.popleft()
        for _, n in successors(program, s):
            if n not in seen:
                seen.add(n)
                queue.append(n)
    return seen


def sample(program, states, k):
    """States covering every statement kind the program can execute, then random others."""
    by_kind: dict[str, list] = {}
    for s in sorted(states):
        for cmd, _ in successors(program, s):
            kind = cmd.step.kind if cmd.step is not None else cmd.actor
            by_kind.setdefault(kind, []).append(s)
    rng = random.Random(7)
    chosen = {rng.choice(v) for v in by_kind.values()}
    rest = sorted(set(states) - chosen)
    chosen |= set(rng.sample(rest, min(len(rest), k - len(chosen))))
    return sorted(chosen), set(by_kind)


@pytest.mark.parametrize("host", shipped())
def test_symbolic_relation_admits_exactly_the_concrete_successors(host):
    profile = load_host(host)
    # QuickJS-NG's register ignores a registry watching itself: it needs a second object to append
    objects = 2 if profile.collector == "reference counting" else 1
    program = build(load_spec(), profile, Bounds(objects=objects, frames=4))
    rel = relation(program)
    states, kinds = sample(program, reachable(program), PER_HOST)
    assert {"let", "set", "if", "return", "for-each", "perform", "append", "mutator"} <= kinds
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
        assert got == want


def test_initial_state_formula():
    program = build(load_spec(), load_host("ecma262"), Bounds(objects=1))
    rel = relation(program)
    solver = z3.Solver()
    solver.add(rel.init)
    assert solver.check() == z3.sat
    m = solver.model()
    assert tuple(m.eval(v).as_long() for v in rel.current) == program.init
