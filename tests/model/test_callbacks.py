"""Callbacks as heap objects (bound `slots`; tracing hosts, and reference-counting hosts whose
profile says who counts the callback): user code makes a function object,
gives it what it captures as properties, and passes it to `new FinalizationRegistry`. The text's
steps decide: IsCallable (sec-iscallable), HostMakeJobCallback's Record, HostCallJobCallback's
Call; liveness keeps a registry's callback, and through it what it captured (sec-liveness). On
the QuickJS-NG profiles the callback is counted as quickjs.c counts it (the tests `counting`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from specmc.model.actions import Action, NewFunction, NewRegistry, NewRegistryOf
from specmc.model.bounds import Bounds
from specmc.model.build import build, host_notes
from specmc.model.domain import View
from specmc.model.explore import CONCRETE, successors
from specmc.model.hosts import load_host, shipped
from specmc.model.layout import FREED, FUNCTION, LIVE, OBJ, PHASE_NEWREGISTRY, THROW, UNDEF
from specmc.model.liveness import live_all
from specmc.model.program import Program
from specmc.model.symbolic import relation
from specmc.proofs.properties import CATALOGUE
from specmc.spec.diagnostics import SpecError
from specmc.spec.load import load_spec

from tests.model.searching import assert_relation_admits_exactly
from tests.model.test_object_graph import State, _get, _run

# obj0 a function object that captures obj1 (obj0.p0), obj2 a registry whose callback it is;
# user code then lets go of both the function and what it captured
CAPTURED = ["function () {}", "allocate {}", "obj0.p0 = obj1", "drop obj1",
            "new FinalizationRegistry(obj0)", "(built-in returned)", "drop obj0"]
# ... and a registration of obj3 with obj2 whose target user code drops: the cleanup may run
REGISTERED = [*CAPTURED, "allocate {}", "obj2.register(obj3, undefined, undefined)", "(built-in returned)",
              "drop obj3", "return", "event loop: ClearKeptObjects"]
# the collector takes obj3, the job calls obj0, which reads what it captured
CALLED = ["collector: S = {obj3} is not live", "Execution 1.b.ii [do]",
          "CleanupFinalizationRegistry 3 [enter]", "read obj0.p0"]


@pytest.fixture(scope="module")
def program() -> Program:
    return build(load_spec(), load_host("ecma262"), Bounds(objects=4, slots=1))


def _walk(p: Program, s: State, names: list[str], trail: list[State] | None = None) -> State:
    """Follow the one successor there is until the next name is among them, and take it."""
    for n in names:
        while True:
            succ = {c.name: t for c, t in successors(p, s)}
            if n in succ:
                s = succ[n]
                break
            assert len(succ) == 1, (n, sorted(succ))
            s = next(iter(succ.values()))
            if trail is not None:
                trail.append(s)
        if trail is not None:
            trail.append(s)
    return s


def _collector(p: Program, s: State) -> set[str]:
    return {c.name for c, _ in successors(p, s) if c.actor == "collector"}


def test_actions_are_values():
    for a, label in ((NewFunction(), "function () {}"), (NewRegistryOf(3), "new FinalizationRegistry(obj3)")):
        assert a.label == label
        assert Action.from_json(a.to_json()) == a
    assert NewRegistryOf(1).to_json() == {"kind": "new FinalizationRegistry of", "cleanupCallback": "obj1"}
    assert NewRegistry().label == "new FinalizationRegistry(callback)"


def test_function_objects_only_with_slots_where_callbacks_are_followed():
    """Tracing hosts, and reference-counting hosts whose profile says who counts the callback
    (`callback references`); a counting profile that does not say gets none, and a note."""
    def made(host: str, slots: int) -> bool:
        p = build(load_spec(), load_host(host), Bounds(slots=slots))
        return any(isinstance(c.action, NewFunction | NewRegistryOf) for c in p.commands)

    def noted(host: str, slots: int) -> bool:
        return any("function objects" in n for n in host_notes(load_host(host), Bounds(slots=slots)))

    assert made("ecma262", 1) and made("v8", 1)
    assert made("quickjs-ng-0.12", 1) and made("quickjs-ng-0.13", 1)
    assert not made("ecma262", 0) and not made("quickjs-ng-0.13", 0)
    for host in ("ecma262", "quickjs-ng-0.12", "quickjs-ng-0.13"):
        assert not noted(host, 1) and not noted(host, 0), host
    assert load_host("quickjs-ng-0.12").callback_refs == "registry"
    assert load_host("quickjs-ng-0.13").callback_refs == "registry and registrations"


def test_the_function_is_made_captures_and_is_the_callback(program):
    p = program
    s, log = _run(p, CAPTURED)
    assert _get(p, s, "obj_kind", 0) == FUNCTION and _get(p, s, "obj_status", 0) == LIVE
    assert _get(p, s, "prop", p.layout.prop(0, 0)) == OBJ + 1
    # the constructor's steps ran from the text: IsCallable, then HostMakeJobCallback, whose Record
    # is written as the function object: [[CleanupCallback]] names obj0
    assert "HostMakeJobCallback 1" in log
    assert _get(p, s, "obj_cb", 2) == OBJ + 0
    assert [_get(p, s, "root", i) for i in range(3)] == [0, 0, 1]


def test_a_plain_object_is_the_texts_type_error(program):
    """FinalizationRegistry step 2: `If IsCallable(cleanupCallback) is false, throw a TypeError`;
    the registry's own object is no function either. `argument-checks` expects exactly that."""
    p = program
    for setup in (["allocate {}"], ["new FinalizationRegistry(callback)", "(built-in returned)"]):
        s, _ = _run(p, [*setup, "new FinalizationRegistry(obj0)"])
        assert _get(p, s, "ret") == THROW and _get(p, s, "frame_phase", 0) == PHASE_NEWREGISTRY
        assert _get(p, s, "obj_status", 1) == 0  # nothing allocated: the throw comes first
        assert CATALOGUE["argument-checks"].holds(p, View(CONCRETE, p.layout, s))
    s, _ = _run(p, ["function () {}", "new FinalizationRegistry(obj0)"])
    assert _get(p, s, "ret") == OBJ + 1
    assert CATALOGUE["argument-checks"].holds(p, View(CONCRETE, p.layout, s))


def test_a_live_registry_keeps_its_callback_and_what_it_captured(program):
    p = program
    s, _ = _run(p, CAPTURED)
    assert _collector(p, s) == set()  # obj0 (the callback) and obj1 (captured) are live
    # unreachable but with a registration still waiting, the registry's cleanup may still call
    # obj0: it stays live, with what it captured, while the registry and the target may go
    s, _ = _run(p, ["allocate {}", "obj2.register(obj3, undefined, undefined)", "(built-in returned)",
                    "drop obj3", "drop obj2"], s)
    assert _collector(p, s) == {f"collector: S = {{{x}}} is not live" for x in ("obj2", "obj3", "obj2, obj3")}


def test_dropping_the_registry_frees_the_callback_with_it(program):
    p = program
    s, _ = _run(p, [*CAPTURED, "drop obj2", "return", "event loop: ClearKeptObjects"])
    collect = _collector(p, s)
    assert "collector: S = {obj0, obj1, obj2} is not live" in collect
    s = _walk(p, s, ["collector: S = {obj0, obj1, obj2} is not live"])
    s = _walk(p, s, ["Execution (end)"])
    assert [_get(p, s, "obj_status", i) for i in range(3)] == [FREED] * 3


def test_the_callback_reads_what_it_captured(program):
    """The registry's cleanup calls obj0 through HostCallJobCallback; its activation holds obj0
    (its own name in JavaScript) and reads obj1 back through the captured variable."""
    p = program
    s, _ = _run(p, REGISTERED)
    s = _walk(p, s, CALLED)
    assert [_get(p, s, "root", i) for i in range(4)] == [1, 1, 1, 0]
    assert _get(p, s, "sp") > 1  # inside the callback, on the job's stack
    assert _get(p, s, "err_uaf") == 0 and _get(p, s, "err_assert") == 0


def test_z3_admits_exactly_the_interpreters_successors():
    p = build(load_spec(), load_host("ecma262"), Bounds(objects=4, slots=1, frames=4))  # a smaller relation
    trail: list[State] = []
    s, _ = _run(p, REGISTERED, trail=trail)
    _walk(p, s, CALLED, trail=trail)
    # the constructor's IsCallable and HostMakeJobCallback steps, and the job's call of obj0 up to
    # the read of what it captured
    states = sorted(set(trail[4:8] + trail[-7:]))
    assert_relation_admits_exactly(p, relation(p), states)


def test_slots_zero_keeps_every_pinned_program():
    """The USERFN form stays; at slots=0 no function object exists, and every shipped host's
    program is the one pinned before the object graph (tests/model/test_object_graph.py)."""
    from tests.model.test_object_graph import WITHOUT_GRAPH, _program_digest, _relation_digest

    for host in shipped():
        p = build(load_spec(), load_host(host), Bounds(slots=0))
        assert _program_digest(p) == WITHOUT_GRAPH[host][0], host
        assert not p.functions
        if host in ("ecma262", "quickjs-ng-0.13"):  # and Z3's relation (all hosts: the slow test there)
            assert _relation_digest(p) == WITHOUT_GRAPH[host][1], host


def test_slots_one_changes_only_by_the_new_actions():
    """At slots=1 the tracing hosts' programs are the ones without function objects plus the new
    commands and the `new FinalizationRegistry(...)` families; the USERFN form is still there."""
    p = build(load_spec(), load_host("ecma262"), Bounds(slots=1))
    new = [c for c in p.commands if isinstance(c.action, NewFunction | NewRegistryOf)]
    frames = p.layout.bounds.frames
    assert len(new) == frames * (1 + p.layout.bounds.objects)
    assert sum(isinstance(c.action, NewRegistry) for c in p.commands) == frames
    assert [f.name for f in p.families if f.name.startswith("new FinalizationRegistry")] == \
        [f"new FinalizationRegistry(...) at depth {d}" for d in range(frames)]
    assert UNDEF != OBJ  # the USERFN form's callback value stays apart from every object


# On the reference-counting hosts (profile header `callback references`): quickjs.c counts the
# callback in the registry (frd->cb), in each queued job (JS_EnqueueJob's js_dup) and, at v0.13.0,
# in each registration (fre->cb); what a function captures (its property slots) goes when it does.

def _freed_order(p: Program, trail: list[State], n: int) -> list[int]:
    """The objects in the order their status became FREED along the trail."""
    order: list[int] = []
    for s in trail:
        for i in range(n):
            if i not in order and _get(p, s, "obj_status", i) == FREED:
                order.append(i)
    return order


@pytest.fixture(scope="module", params=["quickjs-ng-0.12", "quickjs-ng-0.13"])
def counting(request) -> Program:
    return build(load_spec(), load_host(request.param), Bounds(objects=4, cells=1, slots=1))


def test_counting_a_function_is_freed_with_its_last_reference_then_what_it_captured(counting):
    """free_object releases the properties first (free_property), but inside free_zero_refcount
    what they alone held is only queued: the function goes, then what it captured."""
    p = counting
    s, _ = _run(p, ["function () {}", "allocate {}", "obj0.p0 = obj1", "drop obj1"])
    assert [_get(p, s, "obj_status", i) for i in range(2)] == [LIVE, LIVE]  # obj0 holds obj1
    trail: list[State] = []
    s, log = _run(p, ["drop obj0"], s, trail=trail)
    assert _freed_order(p, trail, 2) == [0, 1]
    assert log.count("FreeObject 1") == 2


# obj0 the callback (user code lets go of it), obj1 its registry, obj2 a target, obj3 a held value
REGISTRY_OF_F = ["function () {}", "new FinalizationRegistry(obj0)", "(built-in returned)", "drop obj0",
                 "allocate {}", "allocate {}", "obj1.register(obj2, obj3, undefined)", "(built-in returned)",
                 "drop obj3"]


def test_counting_a_registry_holds_its_callback_and_releases_it_after_its_cells(counting):
    p = counting
    s, _ = _run(p, REGISTRY_OF_F)
    assert _get(p, s, "obj_status", 0) == LIVE and _get(p, s, "root", 0) == 0  # the registry counts it
    if p.host == "quickjs-ng-0.13":  # and so does the registration: fre->cb
        assert _get(p, s, "cell_cb", 0) == OBJ + 0
    else:
        assert "cell_cb" not in p.layout.index
    trail: list[State] = []
    s, _ = _run(p, ["drop obj1"], s, trail=trail)
    # js_finrec_finalizer: the cell's held value is released, then frd->cb; both are queued on
    # gc_zero_ref_count_list's head, so the callback (released last) is freed first
    assert _freed_order(p, trail, 4) == [1, 0, 3]
    assert _get(p, s, "obj_status", 2) == LIVE and _get(p, s, "qlen") == 0


def test_counting_a_queued_job_holds_its_callback(counting):
    """reset_weak_ref queues {callback, held value}; JS_EnqueueJob js_dups both, so the registry's
    free leaves the callback (and what it captured) to the job, which then calls it."""
    p = counting
    s, _ = _run(p, [*REGISTRY_OF_F, "drop obj2"])
    assert _get(p, s, "qlen") == 1 and _get(p, s, "queue_cb", 0) == OBJ + 0
    s, _ = _run(p, ["(built-in returned)", "drop obj1"], s)
    assert [_get(p, s, "obj_status", i) for i in range(4)] == [LIVE, FREED, FREED, LIVE]
    s, _ = _run(p, ["(built-in returned)", "return", "event loop: ClearKeptObjects",
                    "event loop: run the next job"], s)
    assert _get(p, s, "root", 0) == 1 and _get(p, s, "root", 3) == 1  # the callback runs with its held value
    assert _get(p, s, "err_uaf") == 0


def test_counting_only_v013_registrations_count_the_callback():
    """With the registry's own reference gone (as when a cascade frees it while one of its
    registrations, unlinked by reset_weak_ref's first pass, waits for the second), v0.13.0's
    fre->cb still holds the callback; at v0.12.1 nothing does."""
    for host, held in (("quickjs-ng-0.12", False), ("quickjs-ng-0.13", True)):
        p = build(load_spec(), load_host(host), Bounds(objects=4, cells=1, slots=1))
        s, _ = _run(p, REGISTRY_OF_F)
        lay = p.layout
        v = list(s)
        v[lay.where("obj_cb")[0] + 1] = UNDEF  # the registry no longer names its callback
        alive = live_all(View(CONCRETE, lay, tuple(v)), lay, strong_tokens=True, counted_cells=True)
        assert alive[0] == held, host


def _gc(p: Program, s: State) -> tuple[State, list[State]]:
    """gc() and gc_free_cycles to its end: one member at a time, in tmp_obj_list's order."""
    s, _ = _run(p, ["gc()"], s)
    trail = [s]
    while True:
        succ = [n for c, n in successors(p, s) if c.actor not in ("mutator", "event-loop")]
        if not succ:
            return s, trail
        assert len(succ) == 1
        s = succ[0]
        trail.append(s)


# obj0 a function, obj1 a plain object, obj2 a registry whose callback obj0 is
F_H_R = ["function () {}", "allocate {}", "new FinalizationRegistry(obj0)", "(built-in returned)"]


def test_counting_the_cycle_collector_counts_callback_edges_in_js_finrec_marks_order():
    """obj0 the callback, obj1 a held value, obj2 the registry (captured by obj0), obj3 a target
    user code keeps. gc_decref visits obj2 last and subtracts its children in js_finrec_mark's
    order: frd->cb, then the entry's held value (and at v0.13.0 its fre->cb after it). Each
    member goes to tmp_obj_list when its last counted edge is subtracted: at v0.12.1 obj0 (at
    frd->cb) before obj1; at v0.13.0 obj1 before obj0, whose last edge is the entry's fre->cb."""
    for host, order in (("quickjs-ng-0.12", [0, 1, 2]), ("quickjs-ng-0.13", [1, 0, 2])):
        p = build(load_spec(), load_host(host), Bounds(objects=4, cells=1, slots=1))
        s, _ = _run(p, [*F_H_R, "obj0.p0 = obj2", "allocate {}", "obj2.register(obj3, obj1, undefined)",
                        "(built-in returned)", "drop obj0", "drop obj1", "drop obj2"])
        assert [_get(p, s, "obj_status", i) for i in range(4)] == [LIVE] * 4, host
        s, trail = _gc(p, s)
        assert _freed_order(p, trail, 4) == order, host
        assert _get(p, s, "err_uaf") == 0 and _get(p, s, "obj_status", 3) == LIVE
        # mark_children: the registry's properties come before its class's js_finrec_mark, so an
        # object only the registry's property holds goes before the callback
        s, _ = _run(p, [*F_H_R, "obj0.p0 = obj2", "obj2.p0 = obj1", "drop obj0", "drop obj1", "drop obj2"])
        s, trail = _gc(p, s)
        assert _freed_order(p, trail, 3) == [1, 0, 2], host


def test_counting_the_cycle_collector_frees_a_registry_its_callback_captured():
    """objF.p0 = registry: registry -> callback (frd->cb) -> registry, unreachable from outside.
    Trial deletion frees both, the callback first (gc_decref reaches its count 0 at the registry's
    js_finrec_mark, before the registry's own visit ends); the registry's finalizer frees its
    registration, whose target is still held: no cleanup ever runs for it (the engine discards a
    collected registry's registrations; the spec lets a registry no one reaches never call back)."""
    for host in ("quickjs-ng-0.12", "quickjs-ng-0.13"):
        p = build(load_spec(), load_host(host), Bounds(objects=3, cells=1, slots=1))
        s, _ = _run(p, ["function () {}", "new FinalizationRegistry(obj0)", "(built-in returned)",
                        "obj0.p0 = obj1", "allocate {}", "obj1.register(obj2, undefined, undefined)",
                        "(built-in returned)", "drop obj0", "drop obj1"])
        assert [_get(p, s, "obj_status", i) for i in range(3)] == [LIVE, LIVE, LIVE], host  # a leak so far
        s, trail = _gc(p, s)
        assert _freed_order(p, trail, 3) == [0, 1], host
        assert _get(p, s, "cell_status", 0) == FREED and _get(p, s, "err_uaf") == 0
        s, _ = _run(p, ["drop obj2"], s)
        assert _get(p, s, "obj_status", 2) == FREED and _get(p, s, "qlen") == 0, host


def test_counting_profile_that_does_not_say_who_counts_the_callback_gets_no_function_objects(tmp_path):
    """Without `callback references` a counting profile's free path would never release a
    function object its registry held: no function objects, and the note says so; a tracing
    profile that sets the option is refused at the value (E066)."""
    text = Path(load_host("quickjs-ng-0.12").path).read_text(encoding="utf-8")
    option = "\n    <dt>callback references</dt>\n    <dd>registry</dd>"
    assert text.count(option) == 1
    silent = tmp_path / "silent.html"
    silent.write_text(text.replace(option, ""), encoding="utf-8")
    host = load_host(str(silent))
    assert host.callback_refs == "none"
    p = build(load_spec(), host, Bounds(slots=1))
    assert not p.functions and "queue_cb" not in p.layout.index
    assert any("no function objects" in n for n in host_notes(host, Bounds(slots=1)))
    tracing = Path(load_host("ecma262").path).read_text(encoding="utf-8")
    head = "<dt>collector</dt>\n    <dd>tracing</dd>"
    assert tracing.count(head) == 1
    damaged = tmp_path / "ecma262-cb.html"
    damaged.write_text(tracing.replace(head, head + option), encoding="utf-8")
    with pytest.raises(SpecError) as e:
        load_host(str(damaged))
    d = e.value.diagnostics[0]
    assert d.code == "E066" and "callback references" in d.message and d.loc.file == str(damaged)


def test_counting_v012_queues_a_job_holding_the_callback_the_collection_frees():
    """#1318's callback half: the registry watches its own callback, which captured the registry.
    gc_free_cycles frees the callback first; its reset_weak_ref queues a job with {frd->cb, held}.
    v0.12.1 tests the held value (undefined) only, so the job holds the callback it is freeing:
    `no-freed-observed` fails when the collection ends. v0.13.0 (78494db) also tests the callback
    (free_mark, header.mark) and queues nothing. (Replayed: docs/findings.md.)"""
    labels = ["function () {}", "new FinalizationRegistry(obj0)", "(built-in returned)", "obj0.p0 = obj1",
              "obj1.register(obj0, undefined, undefined)", "(built-in returned)", "drop obj0", "drop obj1"]
    for host, queued in (("quickjs-ng-0.12", True), ("quickjs-ng-0.13", False)):
        p = build(load_spec(), load_host(host), Bounds(objects=2, cells=1, slots=1))
        s, _ = _run(p, labels)
        s, _ = _gc(p, s)
        assert [_get(p, s, "obj_status", i) for i in range(2)] == [FREED, FREED], host
        assert _get(p, s, "qlen") == int(queued), host
        assert CATALOGUE["no-freed-observed"].holds(p, View(CONCRETE, p.layout, s)) == (not queued), host
        if queued:
            assert _get(p, s, "queue_cb", 0) == OBJ + 0


@pytest.mark.slow
def test_counting_z3_admits_exactly_the_interpreters_successors():
    """Z3's relation and the interpreter agree where the counted callback decides: a job queued
    with its callback (queue_cb), a registration's own copy (cell_cb), and the collection that
    frees a callback a job then holds (v0.12.1) or that queues nothing (v0.13.0)."""
    labels = ["function () {}", "new FinalizationRegistry(obj0)", "(built-in returned)",
              "obj1.register(obj0, undefined, obj1)", "(built-in returned)", "drop obj0", "drop obj1"]
    for host in ("quickjs-ng-0.12", "quickjs-ng-0.13"):
        p = build(load_spec(), load_host(host), Bounds(objects=2, cells=1, frames=4, jobs=1, slots=1))
        trail: list[State] = []
        s, _ = _run(p, labels, trail=trail)
        s, gc = _gc(p, s)
        states = sorted(set(trail[-6:] + gc[:3] + gc[-3:]))
        assert_relation_admits_exactly(p, relation(p), states)
