"""The order of a cascade's frees on a reference-counting host with an object graph: QuickJS-NG's
gc_zero_ref_count_list, a stack (model/refcount.py, "the engine's free order"; docs/model.md).

free_zero_refcount frees the list's head, and js_free_value_rt adds at the head, so the object
whose count reached 0 last goes first; free_object releases an object's properties before its
weak references and its finalizer's records, and a record its held value before its token
(quickjs.c at v0.12.1 and v0.13.0)."""

from __future__ import annotations

from collections import deque

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import successors
from specmc.model.hosts import load_host, shipped
from specmc.model.layout import FREED
from specmc.model.program import Program
from specmc.model.symbolic import relation
from specmc.spec.load import load_spec

from tests.model.searching import assert_relation_admits_exactly
from tests.model.test_object_graph import State, _get, _run

COUNTING = ("quickjs-ng-0.12", "quickjs-ng-0.13")

# obj0 a registry, obj1 the target of its one registration, obj2 the held value and obj3 the token,
# neither held by anything else once dropped; then the registry goes, while obj1 stays
FINALIZED = ["new FinalizationRegistry(callback)", "(built-in returned)", "allocate {}", "allocate {}",
             "allocate {}", "obj0.register(obj1, obj2, obj3)", "(built-in returned)", "drop obj2",
             "drop obj3", "drop obj0"]
# the same registry also holds obj3 in a property, and obj3 is the held value: no token
WITH_PROPERTY = ["new FinalizationRegistry(callback)", "(built-in returned)", "allocate {}", "allocate {}",
                 "allocate {}", "obj0.p0 = obj2", "obj0.register(obj1, obj3, undefined)",
                 "(built-in returned)", "drop obj2", "drop obj3", "drop obj0"]


def _freed_order(p: Program, trail: list[State]) -> list[int]:
    """The objects in the order their frees started (the collector's `gone` observer)."""
    order: list[int] = []
    for s in trail:
        for i in range(p.layout.bounds.objects):
            if _get(p, s, "gone", i) and i not in order:
                order.append(i)
    return order


def test_the_list_is_in_the_state_only_where_frees_cascade() -> None:
    for name in shipped():
        host = load_host(name)
        counting = host.collector == "reference counting"
        assert ("zero_list" in build(load_spec(), host, Bounds(slots=1)).layout.index) == counting, name
        assert "zero_list" not in build(load_spec(), host, Bounds(slots=0)).layout.index, name


@pytest.mark.parametrize("name", COUNTING)
def test_a_freed_record_frees_its_token_before_its_held_value(name: str) -> None:
    """js_finrec_finalizer releases the held value, then the token (v0.12.1 lines 59311-59312,
    v0.13.0 js_finrec_free lines 59684-59685); both reach 0 inside free_zero_refcount, and each
    goes to the list's head, so the token (obj3) is freed first. Lowest slot first, as the model
    did before, freed obj2 first."""
    p = build(load_spec(), load_host(name), Bounds(objects=4, cells=1, slots=1))
    trail: list[State] = []
    s, _ = _run(p, FINALIZED, trail=trail)
    assert [_get(p, s, "obj_status", i) for i in (0, 2, 3)] == [FREED] * 3
    assert _freed_order(p, trail) == [0, 3, 2]
    assert all(_get(p, s, "zero_list", i) == 0 for i in range(4))


@pytest.mark.parametrize("name", COUNTING)
def test_properties_are_released_before_the_records(name: str) -> None:
    """free_object releases the properties first (free_property, v0.12.1 line 6529, v0.13.0 line
    6607), then runs the finalizer: obj2 (the registry's property) is queued before obj3 (the
    record's held value), and so freed after it, although the profile's `Free _obj_` comes last."""
    p = build(load_spec(), load_host(name), Bounds(objects=4, cells=1, slots=1))
    trail: list[State] = []
    s, _ = _run(p, WITH_PROPERTY, trail=trail)
    assert _freed_order(p, trail) == [0, 3, 2]
    queued = [[_get(p, t, "zero_list", i) for i in range(4)] for t in trail]
    assert [0, 0, 1, 2] in queued  # obj2 under obj3 while the registry's free runs


def test_z3_admits_exactly_the_interpreters_successors_on_the_cascades() -> None:
    bounds = Bounds(objects=4, cells=1, frames=3, jobs=1, slots=1)
    p = build(load_spec(), load_host("quickjs-ng-0.12"), bounds)
    states: list[State] = []
    for run in (FINALIZED, WITH_PROPERTY):
        trail: list[State] = []
        _run(p, run, trail=trail)
        states += trail[-12:]
    assert_relation_admits_exactly(p, relation(p), sorted(set(states)))


@pytest.mark.parametrize("name", COUNTING)
def test_the_list_is_empty_whenever_no_free_runs(name: str) -> None:
    """Over the states a breadth-first search reaches first: an object is on the list only while
    some free path runs (free_zero_refcount returns with its list empty), and never twice at one
    place with another unless the two were queued by one step in an order the model does not keep
    (at slots=1, none)."""
    p = build(load_spec(), load_host(name), Bounds(objects=3, cells=1, frames=4, jobs=1, slots=1))
    code = p.code_of("FreeObject")
    base, n = p.layout.where("zero_list")
    seen = {p.init}
    todo = deque([p.init])
    while todo and len(seen) < 30_000:
        s = todo.popleft()
        places = [v for v in s[base:base + n] if v]
        frees = any(_get(p, s, "frame_alg", f) == code for f in range(_get(p, s, "sp")))
        assert frees or not places, s
        assert len(places) == len(set(places)), s
        assert sorted(places) == list(range(1, len(places) + 1)), s  # no gaps
        for _, t in successors(p, s):
            if t not in seen:
                seen.add(t)
                todo.append(t)
    assert any(s[base:base + n] != (0,) * n for s in seen)
