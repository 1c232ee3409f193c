"""WeakMaps on the reference-counting QuickJS-NG profiles (bound `weakmaps` with `slots`): an entry
counts its value, not its key; freeing a key runs FreeObject's steps 3 and 5 (reset_weak_ref's records of
kind JS_WEAK_REF_KIND_MAP: unlink in the first pass, free the record and so release the value in
the second, newest record first among the key's registrations and entries), freeing a WeakMap its step 7
(js_map_finalizer), and the text's `delete` releases the value; each release may free the value
and what it alone held, at once from a built-in or a Symbol's free, queued inside an object's."""

from __future__ import annotations

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import successors
from specmc.model.hosts import load_host
from specmc.model.layout import EMPTY, FREED, LIVE
from specmc.model.program import Program
from specmc.spec import ir
from specmc.spec.load import load_specs

from tests.conftest import FULL
from tests.model.test_object_graph import _get, _run

WHOLE = FULL / "spec-2025-11-04-e936549f.html"
MADE = ["new WeakMap()", "(built-in returned)", "allocate {}", "allocate {}",
        "obj0.set(obj1, obj2)", "(built-in returned)"]


@pytest.fixture(scope="module")
def whole() -> ir.Spec:
    return load_specs([WHOLE])


def _program(spec: ir.Spec, host: str) -> Program:
    return build(spec, load_host(host), Bounds(weakmaps=1, objects=3, slots=1))


def _ent(p: Program, s: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(_get(p, s, n) for n in ("ent_status", "ent_owner", "ent_key", "ent_value"))


def _objs(p: Program, s: tuple[int, ...]) -> list[int]:
    return [_get(p, s, "obj_status", i) for i in range(3)]


@pytest.mark.parametrize("host", ["quickjs-ng-0.12", "quickjs-ng-0.13"])
def test_a_freed_key_releases_its_entry_value(host: str, whole: ir.Spec) -> None:
    """The entry keeps its value allocated after user code dropped it (js_dup on set) and not its
    key; the key's free unlinks the entry and releases the value, whose free is queued behind it."""
    p = _program(whole, host)
    lay = p.layout
    s, _ = _run(p, [*MADE, "drop obj2"])
    assert _ent(p, s) == (LIVE, lay.obj(0), lay.obj(1), lay.obj(2))
    assert _objs(p, s) == [LIVE, LIVE, LIVE]  # the entry counts obj2
    s, log = _run(p, ["drop obj1"], s)
    assert log.index("FreeObject 5.b") < log.index("FreeObject 8")  # the key's free releases first
    assert log.count("FreeObject 8") == 2  # then obj2's own free, queued while obj1's ran
    # reset_weak_ref's first pass unlinked the entry from the map, the second freed it
    assert _ent(p, s) == (FREED, EMPTY, lay.obj(1), lay.obj(2))
    assert _objs(p, s) == [LIVE, FREED, FREED]


@pytest.mark.parametrize("host", ["quickjs-ng-0.12", "quickjs-ng-0.13"])
def test_a_freed_weakmap_releases_its_values_and_its_entries(host: str, whole: ir.Spec) -> None:
    p = _program(whole, host)
    s, _ = _run(p, [*MADE, "drop obj2", "drop obj0"])
    assert _objs(p, s) == [FREED, LIVE, FREED]  # the key lives on; the value went with the map
    assert _get(p, s, "ent_status") == FREED


def test_delete_releases_the_value_at_once(whole: ir.Spec) -> None:
    """map_delete_record's JS_FreeValueRT from a built-in: gc_phase NONE, the value is freed above
    delete's frame before delete returns."""
    p = _program(whole, "quickjs-ng-0.13")
    lay = p.layout
    s, _ = _run(p, [*MADE, "drop obj2"])
    s, log = _run(p, ["obj0.delete(obj1)"], s)
    assert "FreeObject 8" in log  # obj2's free ran before delete's frame returned to user code
    assert _ent(p, s)[2:] == (EMPTY, EMPTY)
    assert _objs(p, s) == [LIVE, LIVE, FREED]
    assert lay.obj(2) not in _ent(p, s)


@pytest.mark.slow
@pytest.mark.parametrize("host", ["quickjs-ng-0.12", "quickjs-ng-0.13"])
def test_symbolic_relation_admits_exactly_the_concrete_successors(host: str, whole: ir.Spec) -> None:
    """One semantics: along runs where a freed key's entry releases its value (FreeObject 5.b),
    a freed map releases its values (5.a.ii) and delete releases one from a built-in, Z3's
    transition relation has exactly the explorer's successors."""
    from specmc.model.symbolic import relation

    from tests.model.searching import assert_relation_admits_exactly

    p = _program(whole, host)
    states: list[tuple[int, ...]] = []
    base, _ = _run(p, [*MADE, "drop obj2"])
    for labels in (["drop obj1"], ["drop obj0"], ["obj0.delete(obj1)"]):
        trail: list[tuple[int, ...]] = []
        _run(p, labels, base, trail)
        states += trail
    assert_relation_admits_exactly(p, relation(p), sorted(set(states)))


def _with_symbols(spec: ir.Spec) -> Program:
    return build(spec, load_host("quickjs-ng-0.13"), Bounds(weakmaps=1, objects=2, slots=1, symbols=1))


def test_a_symbol_keys_free_releases_the_value_at_once(whole: ir.Spec) -> None:
    """A Symbol's free (JS_FreeAtomStruct) is no free_zero_refcount: the value its entry releases
    is freed above it, before the Symbol's own free goes on to `Free _obj_`."""
    p = _with_symbols(whole)
    s, _ = _run(p, ["new WeakMap()", "(built-in returned)", "Symbol()", "allocate {}",
                    "obj0.set(sym0, obj1)", "(built-in returned)", "drop obj1"])
    assert _get(p, s, "obj_status", 1) == LIVE
    trail: list[tuple[int, ...]] = []
    s, log = _run(p, ["drop sym0"], s, trail)
    frees = [i for i, name in enumerate(log) if name == "FreeObject 8"]
    assert len(frees) == 2 and log.index("FreeObject 5.b") < frees[0]
    first = trail[frees[0]]  # the nested free came first: the value is freed, the Symbol not yet
    assert (_get(p, first, "obj_status", 1), _get(p, first, "sym_status")) == (FREED, LIVE)
    assert _get(p, s, "obj_status", 1) == FREED and _get(p, s, "sym_status") == FREED


def test_the_cycle_collector_keeps_a_value_under_a_symbol_key(whole: ir.Spec) -> None:
    """gc_decref subtracts an entry's value only as a child of an object key (mark_weak_map_value);
    a Symbol is no GC object, so a self-referencing value under a live Symbol key keeps an outside
    count, and gc() leaves it (and the map can still hand it out)."""
    p = _with_symbols(whole)
    s, _ = _run(p, ["new WeakMap()", "(built-in returned)", "Symbol()", "allocate {}",
                    "obj1.p0 = obj1", "obj0.set(sym0, obj1)", "(built-in returned)", "drop obj1"])
    s, _ = _run(p, ["gc()"], s)
    assert [_get(p, s, "gc_mark", i) for i in range(2)] == [0, 0]  # nothing marked, nothing to free
    assert not any(c.name.startswith("collector: gc_free_cycles frees") for c, _ in successors(p, s))
    assert _get(p, s, "obj_status", 1) == LIVE


def test_the_cycle_collector_takes_a_value_whose_object_key_it_takes(whole: ir.Spec) -> None:
    """Under an object key the entry's reference is the key's edge: a key and a value that hold
    each other, both dropped, are one garbage cycle; the map, still held, keeps neither."""
    p = build(whole, load_host("quickjs-ng-0.13"), Bounds(weakmaps=1, objects=3, slots=1))
    s, _ = _run(p, [*MADE, "obj2.p0 = obj1", "drop obj1", "drop obj2"])
    assert _objs(p, s) == [LIVE, LIVE, LIVE]  # obj1 counted by obj2.p0, obj2 by the entry
    # tmp_obj_list order: visiting the key obj1 subtracts the entry's edge (obj2 at 0, not yet
    # visited); visiting obj2 subtracts obj2.p0 and obj1, visited, goes to the tail first
    s, log = _run(p, ["gc()", "collector: gc_free_cycles frees obj1", "collector: gc_free_cycles frees obj2",
                      "collector: gc_free_cycles is done"], s)
    assert "FreeObject 5.b" in log  # the key's free released the value, which frees nothing meanwhile
    assert _objs(p, s) == [LIVE, FREED, FREED]
    assert (_get(p, s, "ent_status"), _get(p, s, "ent_owner")) == (FREED, EMPTY)  # unlinked, then freed


@pytest.mark.parametrize("host", ["quickjs-ng-0.12", "quickjs-ng-0.13"])
def test_a_freed_value_leaves_its_weakset_and_a_freed_weakset_its_elements(host: str, whole: ir.Spec) -> None:
    """WeakSets on the counting profiles (bound `weaksets`): an element counts nothing (the engine's
    record holds *undefined*), the value's free empties it (FreeObject 4), and the set's free
    reclaims its elements."""
    p = build(whole, load_host(host), Bounds(weaksets=1, objects=3, slots=1))
    lay = p.layout
    el = ("wse_status", "wse_owner", "wse_value")
    made = ["new WeakSet()", "(built-in returned)", "allocate {}", "obj0.add(obj1)", "(built-in returned)"]
    s, _ = _run(p, made)
    assert tuple(_get(p, s, n) for n in el) == (LIVE, lay.obj(0), lay.obj(1))
    gone, log = _run(p, ["drop obj1"], s)
    assert "FreeObject 4.a" in log and _get(p, gone, "obj_status", 1) == FREED
    assert tuple(_get(p, gone, n) for n in el) == (LIVE, lay.obj(0), EMPTY)
    gone, _ = _run(p, ["drop obj0"], s)
    assert _get(p, gone, "wse_status") == FREED and _objs(p, gone)[:2] == [FREED, LIVE]
