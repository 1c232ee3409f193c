"""A tracing profile's HostCollectionEnd ( ): steps run at the end of every collection.

The `jsc` profile uses it for the end of JSFinalizationRegistry::reconcileWeakReferencesAtGCEnd
(a registry with dead registrations left and no task queued gets one, whatever the collection
cleared). Driven here: a callback throws, the task ends with a registration undelivered, and a
later collection that clears nothing of the registry queues its task again; the same run under the
profile without the operation queues nothing. A profile that defines the operation wrongly is a
located error, and a profile without it builds the model it had.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import successors
from specmc.model.hosts import HOSTS_DIR, load_host
from specmc.model.layout import COLLECTION_END, EMPTY, JOB_CLEANUP
from specmc.model.program import Program
from specmc.model.symbolic import relation
from specmc.proofs.cli import main
from specmc.spec.diagnostics import SpecError
from specmc.spec.load import load_spec

from tests.model.searching import assert_relation_admits_exactly

State = tuple[int, ...]
BOUNDS = Bounds(objects=4, cells=2, frames=4, jobs=1)
JSC = (HOSTS_DIR / "jsc.html").read_text(encoding="utf-8")
START = JSC.index('  <emu-clause id="host-jsc-collection-end"')
END = JSC.index("</emu-clause>", START) + len("</emu-clause>\n")

# obj0 is a registry with two registrations (targets obj1, obj2); obj3 is garbage for later
SETUP = ["new FinalizationRegistry(callback)", "(built-in returned)", "allocate {}", "allocate {}",
         "obj0.register(obj1, undefined, undefined)", "(built-in returned)",
         "obj0.register(obj2, undefined, undefined)", "(built-in returned)", "allocate {}",
         "drop obj1", "drop obj2", "drop obj3", "return",
         # both targets collected, one task queued; it delivers one held value and the callback throws
         "collector: S = {obj1, obj2} is not live", "event loop: ClearKeptObjects",
         "event loop: run the next job", "CleanupFinalizationRegistry 3.a [0]", "throw"]
LATER = ["event loop: ClearKeptObjects", "collector: S = {obj3} is not live"]  # clears no cell of obj0


def _drive(program: Program, names: list[str], s: State) -> State:
    """Follow `names` (the mutator's, collector's, event loop's and choices' labels); between two,
    take the one step the algorithms on the stack allow, until a label is due and none is left."""
    todo = list(names)
    while True:
        succ = successors(program, s)
        chosen = [n for c, n in succ if todo and c.name == todo[0]]
        if chosen:
            todo.pop(0)
        else:
            chosen = [n for c, n in succ if c.actor not in ("mutator", "collector", "event-loop")]
            if not chosen:
                assert not todo, (todo[0], sorted(c.name for c, _ in succ))
                return s
            assert len(chosen) == 1, sorted(c.name for c, _ in succ)
        s = chosen[0]


def _get(program: Program, s: State, name: str, i: int = 0) -> int:
    return s[program.layout.where(name)[0] + i]


def _queued_cleanup(program: Program, s: State) -> list[int]:
    return [_get(program, s, "queue", q) for q in range(_get(program, s, "qlen"))
            if _get(program, s, "queue_kind", q) == JOB_CLEANUP]


def _profile(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "jsc.html"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("with_end", [True, False])
def test_a_collection_that_clears_nothing_of_a_registry_queues_its_task_after_a_throw(tmp_path, with_end):
    host = load_host("jsc") if with_end else load_host(str(_profile(tmp_path, JSC[:START] + JSC[END:])))
    assert any(a.name == COLLECTION_END for a in host.algorithms) == with_end
    program = build(load_spec(), host, BOUNDS)
    registry = program.layout.obj(0)
    s = _drive(program, SETUP, program.init)
    # the task ended at the throw: one registration delivered, the other waits, nothing queued
    assert sorted(_get(program, s, "reg_live", c) for c in range(2)) == [0, 1]
    assert _queued_cleanup(program, s) == []
    s = _drive(program, LATER, s)
    # no registration of obj0 had a target left to clear
    assert [_get(program, s, "cell_target", c) for c in range(2)] == [EMPTY, EMPTY]
    assert _queued_cleanup(program, s) == ([registry] if with_end else [])
    if with_end:  # and that task delivers the rest
        s = _drive(program, ["event loop: ClearKeptObjects", "event loop: run the next job", "return"], s)
        assert [_get(program, s, "reg_live", c) for c in range(2)] == [0, 0]


def test_it_runs_atomically_in_the_frame_execution_had(tmp_path):
    program = build(load_spec(), load_host("jsc"), BOUNDS)
    s = _drive(program, SETUP + ["event loop: ClearKeptObjects"], program.init)
    succ = [(c, n) for c, n in successors(program, s) if c.name == "collector: S = {obj3} is not live"]
    assert len(succ) == 1
    s = succ[0][1]
    names = []
    while _get(program, s, "sp"):
        (cmd, s), *others = successors(program, s)  # one step at a time: no collector, no user code
        assert not others, [c.name for c, _ in others]
        names.append(cmd.name)
        if cmd.algorithm == COLLECTION_END:
            assert _get(program, s, "sp") in (0, 1)  # depth 0, where Execution ran
    assert names[-1] == f"{COLLECTION_END} (end)"
    assert any(n.startswith(f"{COLLECTION_END} 1.a") for n in names)


@pytest.mark.slow
def test_z3_admits_exactly_the_explorers_successors_at_a_collections_end():
    """The operation is compiled like any step, so Z3's relation (which the C search is printed
    from) and the reference interpreter agree on it: checked on every state of the driven run
    from the later collection on (Execution, HostCollectionEnd queuing the registry, the task)."""
    program = build(load_spec(), load_host("jsc"), BOUNDS)
    s = _drive(program, SETUP + ["event loop: ClearKeptObjects"], program.init)
    states = [s]
    for want in ["collector: S = {obj3} is not live", None]:
        while True:
            succ = successors(program, s)
            pick = [n for c, n in succ if c.name == want] or \
                [n for c, n in succ if c.actor not in ("mutator", "collector", "event-loop")]
            if not pick:
                break
            s = pick[0]
            states.append(s)
            if want is not None:
                break
    assert _queued_cleanup(program, s) == [program.layout.obj(0)]
    assert_relation_admits_exactly(program, relation(program), states)


def _with_end(tmp_path: Path, alg: str) -> str:
    return str(_profile(tmp_path, JSC[:START] + alg + JSC[END:]))


@pytest.mark.parametrize(("alg", "code"), [
    # a slot the model lacks
    ("""  <emu-clause id="end" type="host operation">
    <h1>HostCollectionEnd ( )</h1>
    <emu-alg>
      1. For each FinalizationRegistry _fg_ such that _fg_.[[Bogus]] is ~empty~, do
        1. Perform HostEnqueueFinalizationRegistryCleanupJob(_fg_).
    </emu-alg>
  </emu-clause>
""", "E064"),
    # an algorithm nothing defines
    ("""  <emu-clause id="end" type="host operation">
    <h1>HostCollectionEnd ( )</h1>
    <emu-alg>
      1. Perform ReconcileEverything().
    </emu-alg>
  </emu-clause>
""", "E062"),
    # a step the grammar cannot read
    ("""  <emu-clause id="end" type="host operation">
    <h1>HostCollectionEnd ( )</h1>
    <emu-alg>
      1. Reconcile the weak references as the heap sees fit.
    </emu-alg>
  </emu-clause>
""", "E040"),
    # the collector hands it nothing
    ("""  <emu-clause id="end" type="host operation">
    <h1>HostCollectionEnd ( _fg_ )</h1>
    <emu-alg>
      1. Perform HostEnqueueFinalizationRegistryCleanupJob(_fg_).
    </emu-alg>
  </emu-clause>
""", "E063"),
])
def test_a_profile_operation_the_model_cannot_run_is_a_located_error(tmp_path, capsys, alg, code):
    path = _with_end(tmp_path, alg)
    line = (JSC[:START] + alg).count("\n") - alg.count("\n") + 1  # the operation's clause
    assert main(["check", "--host", path, "--property", "spec-asserts", "--bounds", "objects=1",
                 "--engine", "explicit"]) == 2
    err = capsys.readouterr().err
    assert f"error {code}" in err and "Traceback" not in err
    (located,) = [x for x in err.splitlines() if f"error {code}" in x]
    at = located.split(f"{path}:")[1]  # FILE:LINE:COL: error CODE
    assert line <= int(at.split(":")[0]) <= line + alg.count("\n"), err


def test_a_reference_counting_profile_may_not_define_it(tmp_path):
    text = (HOSTS_DIR / "quickjs-ng-0.6.html").read_text(encoding="utf-8")
    at = text.rindex("</emu-clause>")
    p = _profile(tmp_path, text[:at] + JSC[START:END] + text[at:])
    with pytest.raises(SpecError) as e:
        load_host(str(p))
    (d,) = e.value.diagnostics
    assert d.code == "E099" and d.loc is not None and d.loc.file == str(p)
    clause = text[:at].count("\n") + 1  # where the operation's clause starts
    assert clause <= d.loc.line <= clause + JSC[START:END].count("\n")
