"""Callbacks as heap objects (bound `slots`, tracing hosts): user code makes a function object,
gives it what it captures as properties, and passes it to `new FinalizationRegistry`. The text's
steps decide: IsCallable (sec-iscallable), HostMakeJobCallback's Record, HostCallJobCallback's
Call; liveness keeps a registry's callback, and through it what it captured (sec-liveness)."""

from __future__ import annotations

import pytest
from specmc.model.actions import Action, NewFunction, NewRegistry, NewRegistryOf
from specmc.model.bounds import Bounds
from specmc.model.build import build, host_notes
from specmc.model.domain import View
from specmc.model.explore import CONCRETE, successors
from specmc.model.hosts import load_host, shipped
from specmc.model.layout import FREED, FUNCTION, LIVE, OBJ, PHASE_NEWREGISTRY, THROW, UNDEF
from specmc.model.program import Program
from specmc.model.symbolic import relation
from specmc.proofs.properties import CATALOGUE
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
