"""Cycle collection on a reference-counting host (`cycle collection: trial deletion`, model/env.py):
QuickJS-NG's JS_RunGC, and the enqueue test of reset_weak_ref at v0.12.1 and v0.13.0 (#1318,
fixed by 78494db). Off (every other shipped host), nothing of it is in the model."""

from __future__ import annotations

from pathlib import Path

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.domain import View
from specmc.model.explore import CONCRETE, successors
from specmc.model.hosts import load_host, shipped
from specmc.model.layout import FREED, LIVE
from specmc.model.program import Program
from specmc.model.symbolic import relation
from specmc.proofs.properties import CATALOGUE
from specmc.spec.diagnostics import SpecError
from specmc.spec.load import load_spec

from tests.model.searching import assert_relation_admits_exactly, search
from tests.model.test_symbolic import _run_states

CYCLES = ("quickjs-ng-0.12", "quickjs-ng-0.13")
SMALL = Bounds(objects=2, cells=1, frames=4, slots=1)

# obj0 is a registry whose one registration (target obj1) holds obj0 itself as its held value and
# obj1 as its token: obj0 -> entry -> obj0, obj1. With both dropped nothing outside reaches them.
CYCLE = ["new FinalizationRegistry(callback)", "(built-in returned)", "allocate {}",
         "obj0.register(obj1, obj0, obj1)", "(built-in returned)", "drop obj0", "drop obj1", "gc()"]
# The same cycle with the target allocated first (obj0 the target, obj1 the registry).
SWAPPED = ["allocate {}", "new FinalizationRegistry(callback)", "(built-in returned)",
           "obj1.register(obj0, obj1, obj0)", "(built-in returned)", "drop obj0", "drop obj1", "gc()"]


def _collected(run: list[str], first: int, second: int) -> list[str]:
    """`run`, then gc_free_cycles freeing obj`first`, then obj`second`, to its end."""
    return [*run, *[f"collector: gc_free_cycles frees obj{i}" for i in (first, second)],
            "collector: gc_free_cycles is done"]


def _get(p: Program, s: tuple[int, ...], name: str, i: int = 0) -> int:
    return s[p.layout.where(name)[0] + i]


def test_only_a_profile_that_says_so_collects_cycles() -> None:
    for name in shipped():
        host = load_host(name)
        assert host.cycles == (name in CYCLES), name
        p = build(load_spec(), host, Bounds(slots=1))
        assert ("gc_mark" in p.layout.index) == (name in CYCLES)
        assert any(c.name == "gc()" for c in p.commands) == (name in CYCLES)


@pytest.mark.parametrize("name", CYCLES)
def test_without_an_object_graph_there_is_no_collector(name: str) -> None:
    """Frees cascade only with `slots` >= 1, and the collector runs only where they do."""
    p = build(load_spec(), load_host(name), Bounds(slots=0))
    assert "gc_mark" not in p.layout.index
    assert not any(c.actor == "collector" or c.name == "gc()" for c in p.commands)


def test_a_tracing_host_cannot_collect_cycles_by_counts(tmp_path: Path) -> None:
    text = Path(load_host("ecma262").path).read_text(encoding="utf-8")
    head = '<dt>collector</dt>\n    <dd>tracing</dd>'
    assert text.count(head) == 1
    damaged = tmp_path / "ecma262-cycles.html"
    option = "\n    <dt>cycle collection</dt>\n    <dd>trial deletion</dd>"
    damaged.write_text(text.replace(head, head + option), encoding="utf-8")
    with pytest.raises(SpecError) as e:
        load_host(str(damaged))
    d = e.value.diagnostics[0]
    assert d.code == "E066" and "cycle collection" in d.message and d.loc.file == str(damaged)


@pytest.mark.parametrize("name", CYCLES)
def test_the_collector_marks_what_nothing_outside_reaches(name: str) -> None:
    p = build(load_spec(), load_host(name), SMALL)
    s, _ = _run_states(p, CYCLE[:-1])
    assert [_get(p, s, "obj_status", i) for i in range(2)] == [LIVE, LIVE]  # the cycle leaks by counts
    s, _ = _run_states(p, CYCLE)
    assert _get(p, s, "gc_ran") == 1
    # tmp_obj_list: gc_decref visits the registry first (allocated first); its count, held only by
    # its own entry, is 0 at the end of its visit; the target's reaches 0 at its own, later
    assert [_get(p, s, "gc_mark", i) for i in range(2)] == [1, 2]
    assert [c.name for c, _ in successors(p, s)] == ["collector: gc_free_cycles frees obj0"]


@pytest.mark.parametrize("name", CYCLES)
def test_a_target_allocated_first_is_freed_first(name: str) -> None:
    """The target visited first keeps its count (the registry's entry still holds it as the token);
    the registry's visit takes it to 0, and it goes to tmp_obj_list before the registry itself."""
    p = build(load_spec(), load_host(name), SMALL)
    s, _ = _run_states(p, SWAPPED)
    assert [_get(p, s, "gc_mark", i) for i in range(2)] == [1, 2]
    assert [c.name for c, _ in successors(p, s)] == ["collector: gc_free_cycles frees obj0"]


@pytest.mark.parametrize("name", CYCLES)
def test_after_a_collection_the_order_is_open(name: str) -> None:
    """A collection that found nothing still ran gc_scan, which may have moved survivors in
    gc_obj_list; the model does not keep where, so a later collection frees in any order."""
    p = build(load_spec(), load_host(name), SMALL)
    s, _ = _run_states(p, CYCLE[:-1])
    assert _get(p, s, "gc_ran") == 0
    s, _ = _run_states(p, ["gc()", *CYCLE])
    assert [_get(p, s, "gc_mark", i) for i in range(2)] == [1, 1]
    assert {c.name for c, _ in successors(p, s)} == {"collector: gc_free_cycles frees obj0",
                                                    "collector: gc_free_cycles frees obj1"}
    s, _ = _run_states(p, ["gc()"])  # nothing to free: no gc_free_cycles steps
    assert _get(p, s, "gc_ran") == 1 and _get(p, s, "frame_phase") == 0
    assert "gc()" not in {c.name for c, _ in successors(p, s)}


@pytest.mark.parametrize(("name", "queued"), [("quickjs-ng-0.12", True), ("quickjs-ng-0.13", False)])
def test_a_target_freed_first_queues_a_job_for_what_the_collection_frees(name: str, queued: bool) -> None:
    """#1318: the target's reset_weak_ref runs while its registry, the held value, is marked but not
    yet freed. v0.12.1 tests only free_mark and queues a job holding the registry, which the
    collection then frees; v0.13.0 (78494db) tests header.mark too and queues nothing."""
    p = build(load_spec(), load_host(name), SMALL)
    s, _ = _run_states(p, _collected(SWAPPED, 0, 1))
    assert [_get(p, s, "obj_status", i) for i in range(2)] == [FREED, FREED]
    assert [_get(p, s, "gc_mark", i) for i in range(2)] == [0, 0]
    assert _get(p, s, "qlen") == (1 if queued else 0)
    if queued:
        assert _get(p, s, "queue") == p.layout.obj(1)
    assert bool(CATALOGUE["no-freed-observed"].holds(p, View(CONCRETE, p.layout, s))) == (not queued)


@pytest.mark.parametrize("name", CYCLES)
def test_the_registry_freed_first_queues_nothing(name: str) -> None:
    p = build(load_spec(), load_host(name), SMALL)
    s, _ = _run_states(p, _collected(CYCLE, 0, 1))
    assert [_get(p, s, "obj_status", i) for i in range(2)] == [FREED, FREED]
    assert _get(p, s, "qlen") == 0 and CATALOGUE["no-freed-observed"].holds(p, View(CONCRETE, p.layout, s))


@pytest.mark.parametrize("name", CYCLES)
def test_z3_admits_exactly_the_collectors_successors(name: str) -> None:
    """One semantics, two domains: on every state of the collections of both allocation orders, and
    of both orders after an earlier collection, the symbolic relation admits exactly the reference
    interpreter's successors."""
    p = build(load_spec(), load_host(name), SMALL)
    states: set[tuple[int, ...]] = set()
    for run in (_collected(CYCLE, 0, 1), _collected(SWAPPED, 0, 1),
                _collected(["gc()", *CYCLE], 1, 0), _collected(["gc()", *CYCLE], 0, 1)):
        _, seen = _run_states(p, run)
        states |= set(seen)
    fired = {c.name for s in states for c, _ in successors(p, s)}
    assert {"gc()", "collector: gc_free_cycles is done"} <= fired
    rel = relation(p)
    assert_relation_admits_exactly(p, rel, sorted(states))


@pytest.mark.slow
@pytest.mark.parametrize(("name", "violated"), [("quickjs-ng-0.12", True), ("quickjs-ng-0.13", False)])
def test_no_freed_observed_at_two_objects_and_one_slot(name: str, violated: bool) -> None:
    """The whole reachable set at objects=2, cells=1, slots=1 (default frames and jobs): #1318 is the
    one difference the tags make to no-freed-observed there."""
    p = build(load_spec(), load_host(name), Bounds(objects=2, cells=1, slots=1))
    found = search(p, [CATALOGUE["no-freed-observed"]])
    if violated:  # (the search may stop once every property asked about is violated)
        assert "no-freed-observed" in found.violations
    else:
        assert found.complete and not found.violations


def test_a_cycle_collector_the_bounds_switch_off_is_said() -> None:
    """At slots=0 there are no cycles for trial deletion to free: the option is inert there, and
    host_notes says so (check puts it beside every verdict of that host), so a PROVED is
    not read as covering the collector. With slots it runs, and hosts without it have no note."""
    from specmc.model.build import host_notes

    host = load_host("quickjs-ng-0.12")
    assert host.cycles
    (note,) = host_notes(host, Bounds(slots=0))
    assert "cycle collection" in note and "slots >= 1" in note
    assert not any("cycle collection" in n for n in host_notes(host, Bounds(slots=1)))
    assert host_notes(load_host("quickjs-ng-0.6"), Bounds(slots=0)) == ()
    assert host_notes(load_host("ecma262"), Bounds(slots=0)) == ()


def test_an_order_the_model_does_not_keep_is_said_at_two_slots() -> None:
    """At slots >= 2 one free can release several objects through one object's properties; the
    model frees them lowest first, the engine in insertion order: the rows say so."""
    from specmc.model.build import host_notes

    notes = host_notes(load_host("quickjs-ng-0.6"), Bounds(slots=2))
    assert sum("insertion order" in n for n in notes) == 1
    assert not any("insertion order" in n for n in host_notes(load_host("quickjs-ng-0.6"), Bounds(slots=1)))
    assert host_notes(load_host("ecma262"), Bounds(slots=2)) == ()
