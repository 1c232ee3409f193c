"""One semantics, two domains: Z3's transition relation admits exactly the successors the
reference interpreter computes, on reachable states covering every statement kind."""

from __future__ import annotations

import random
from collections import deque

import pytest
import z3
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import successors
from specmc.model.hosts import load_host
from specmc.model.symbolic import command_term, relation
from specmc.spec.load import load_spec

from tests.conftest import distinct_models
from tests.model.searching import assert_relation_admits_exactly

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


@pytest.mark.parametrize(("host", "selector", "slots"), [(h, False, 0) for h in distinct_models()] + [
    ("ecma262", True, 0), ("ecma262", False, 1), ("quickjs-ng-0.13", False, 1)])
@pytest.mark.slow
def test_symbolic_relation_admits_exactly_the_concrete_successors(host, selector, slots):
    """Both encodings of T (model/symbolic.py): BMC's on every host; k-induction's on one host
    and fewer states (enumerating successors through its command input takes about 1.5 s a
    state). With a property slot (the object graph: property actions, liveness through
    properties, cascading frees) on a tracing and a reference-counting host."""
    profile = load_host(host)
    counting = profile.collector == "reference counting"
    # QuickJS-NG's register ignores a registry watching itself: it needs a second object to append
    objects = 2 if counting or slots else 1
    # a cascade from unregister needs a registry, a target and a held value, and two registrations
    bounds = Bounds(objects=3, cells=2, frames=4, slots=slots) if counting and slots else \
        Bounds(objects=objects, frames=4, slots=slots)
    program = build(load_spec(), profile, bounds)
    rel = relation(program, selector=selector)
    states, kinds = sample(program, reachable(program), 24 if selector else PER_HOST)
    if counting and slots:  # and every state of a run where unregister's free cascades
        _, walked = _run_states(program, CASCADE)
        # ... into the registration unregister's walk reads ahead to (quickjs-ng-0.13's loop that
        # reads the next element before the steps run): its advance reads it freed
        assert any(s[program.layout.where("err_uaf")[0]] for s in walked)
        states = sorted(set(states) | set(walked))
        kinds |= {c.step.kind if c.step is not None else c.actor
                  for s in walked for c, _ in successors(program, s)}
    assert {"let", "set", "if", "return", "for-each", "perform", "append", "mutator"} <= kinds
    if slots:  # the property actions, and on a counting host a free the graph cascaded to, are covered
        fired = {c.name for s in states for c, _ in successors(program, s)}
        assert {"obj0.p0 = obj1", "delete obj0.p0", "read obj0.p0"} <= fired
        if counting:
            assert any(n.endswith("the step after the free goes on") for n in fired)
    assert_relation_admits_exactly(program, rel, states)


# unregister frees the registration whose held value (obj2) nothing else holds: obj2 is freed
# above unregister's frame, and its free frees the second registration (target obj2), which
# unregister's walk, reading ahead, had already taken as its next element
CASCADE = ["new FinalizationRegistry(callback)", "(built-in returned)", "allocate {}", "allocate {}",
           "obj0.register(obj1, obj2, obj1)", "(built-in returned)",
           "obj0.register(obj2, undefined, undefined)", "(built-in returned)", "drop obj2",
           "obj0.unregister(obj1)"]


def _run_states(program, labels):
    """The states of the run that takes these mutator actions (each other step is the only one
    enabled besides the event loop), up to user code on top again after the last."""
    s = program.init
    seen = [s]
    for want in [*labels, None]:
        while True:
            succ = list(successors(program, s))
            if want is not None and any(c.name == want for c, _ in succ):
                s = next(n for c, n in succ if c.name == want)
                seen.append(s)
                break
            others = [n for c, n in succ if c.actor not in ("mutator", "collector", "event-loop")]
            if len(others) != 1:
                assert want is None, (want, sorted(c.name for c, _ in succ))
                return s, seen
            s = others[0]
            seen.append(s)
    return s, seen


def test_initial_state_formula():
    program = build(load_spec(), load_host("ecma262"), Bounds(objects=1))
    rel = relation(program)
    solver = z3.Solver()
    solver.add(rel.init)
    assert solver.check() == z3.sat
    m = solver.model()
    assert tuple(m.eval(v).as_long() for v in rel.current) == program.init


def test_each_family_admits_exactly_its_instances_successors():
    """A family (a mutator call with its arguments as inputs) stands for its instances in every
    symbolic engine: from user code holding objects, it leads to the very states its instances
    lead to, no more (an argument user code does not hold) and no fewer."""
    program = build(load_spec(), load_host("ecma262"), Bounds(objects=3, frames=3))
    families = {c.name: c for c in program.families}
    assert families and all(c.family in families for c in program.commands if c.family)
    assert {c.site for c in program.families} == {c.site for c in program.commands if c.family}
    states = [s for s in reachable(program, 4_000)
              if any(c.family for c, _ in successors(program, s))]
    rng = random.Random(3)
    xs = relation(program).current
    for s in rng.sample(states, 12):
        by_family: dict[str, set] = {}
        for cmd, n in successors(program, s):
            if cmd.family:
                by_family.setdefault(cmd.family, set()).add(n)
        for name, fam in families.items():
            guard, writes = command_term(program, fam, xs)
            after = [z3.BitVecVal(v, 8) if isinstance(v, int) else v
                     for v in (writes.get(i, x) for i, x in enumerate(xs))]
            solver = z3.Solver()
            solver.add(guard, *[v == s[i] for i, v in enumerate(xs)])
            got = set()
            while solver.check() == z3.sat:
                m = solver.model()
                n = tuple(m.eval(v, model_completion=True).as_long() for v in after)
                got.add(n)
                solver.add(z3.Or(*[v != n[i] for i, v in enumerate(after)]))
            assert got == by_family.get(name, set()), name


def test_families_shrink_the_symbolic_relation():
    program = build(load_spec(), load_host("quickjs-ng-0.5"), Bounds(objects=6))
    assert len(program.commands) > 13_000
    assert len(program.symbolic_commands) < 1_100
    # per depth: register 6 x 7^3, unregister 6 x 7, new WeakRef 7, deref 6
    assert sum(1 for c in program.commands if c.family) == 6 * (6 * 7**3 + 6 * 7 + 7 + 6)
