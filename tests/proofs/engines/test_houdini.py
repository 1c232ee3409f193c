"""The houdini engine: clauses mined at a smaller heap, lifted over object indices, pruned to an
inductive core, and never PROVED without a certificate the fresh solvers accept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from specmc.model.bounds import Bounds
from specmc.model.layout import OBJ
from specmc.proofs.certify import certificate
from specmc.proofs.engines import houdini
from specmc.proofs.run.job import Job, load
from specmc.proofs.verdict import PROVED, Outcome


def _loaded(host: str, objects: int, props: tuple[str, ...] = (), folder: str = "") -> houdini.Loaded:
    return load(Job(("embedded",), host, Bounds(objects=objects), props, timeout=600.0, certificates=folder))


def test_values_read_relative_to_the_binding_and_cells_follow_the_heap() -> None:
    two, four = _loaded("ecma262", 2).program.layout, _loaded("ecma262", 4).program.layout
    assert houdini.abstract(OBJ + 1, two, 1, -1) == houdini._I
    assert houdini.abstract(OBJ + 0, two, 1, -1) == houdini._OTHER
    assert houdini.abstract(OBJ + 0, two, 1, 0) == houdini._J
    cell = houdini.abstract(OBJ + 2, two, 0, -1)  # cell 0 sits right after the two objects
    assert houdini.concrete(cell, four, 0, -1) == {OBJ + 4}  # and after the four at objects=4
    assert houdini.concrete(houdini._OTHER, four, 0, 2) == {OBJ + 1, OBJ + 3}
    assert houdini.concrete(3, four, 0, 2) == {3}


def test_a_clause_mined_at_one_object_is_lifted_to_every_object() -> None:
    one, two = _loaded("ecma262", 1).program.layout, _loaded("ecma262", 2).program.layout
    status0 = one.where("obj_status")[0]
    # two states of a one-object heap: the object never allocated, then allocated; a WeakRef target
    # is nothing or the object itself
    states = np.zeros((2, one.size), dtype=np.uint8)
    states[1, status0] = 1
    states[1, one.where("obj_target")[0]] = OBJ
    clauses = houdini.lift(houdini.mine(states, one), two)
    base = two.where("obj_status")[0]
    unary = {c.y: c.b for c in clauses if c.x is None}
    assert unary[base] == unary[base + 1] == {0, 1}
    targets = two.where("obj_target")[0]
    # "the object's target is itself": object 0's target is object 0 and object 1's is object 1
    assert unary[targets] == {0, OBJ}
    assert unary[targets + 1] == {0, OBJ + 1}
    # an implication: status 0 -> the target is 0, for each object on its own fields
    assert houdini.Clause(base + 1, frozenset({0}), targets + 1, frozenset({0})) in clauses


def test_pruning_drops_a_clause_the_steps_do_not_keep() -> None:
    loaded = _loaded("quickjs-ng-0.6", 1, ("cleanup-not-on-free-stack",))
    program = loaded.program
    sp = program.layout.where("sp")[0]
    # true at Init, broken by the first call: only a step, not initiation, can drop it
    stays = houdini.Clause(None, frozenset(), sp, frozenset({program.init[sp]}))
    frames = houdini.Clause(None, frozenset(), sp, frozenset(range(program.layout.bounds.frames + 1)))
    r = houdini.prune(program, [stays, frames], loaded.properties[0].holds, None)
    assert r.proved and r.clauses == [frames] and r.rounds >= 2


def test_an_inductive_property_is_proved_without_mining_and_its_certificate_rechecks(tmp_path: Path) -> None:
    loaded = _loaded("quickjs-ng-0.6", 3, ("cleanup-not-on-free-stack",), str(tmp_path))
    got: list[Outcome] = []
    houdini.run(loaded, got.append)
    assert [o.verdict for o in got] == [PROVED], got
    assert "0 clauses (none needed)" in got[0].method
    checked = certificate.recheck_file(got[0].certificate)  # from the file alone, fresh solvers
    assert checked.head["bounds"].startswith("objects=3") and checked.head["claim"] == "invariant"


def test_a_buggy_host_is_never_proved(tmp_path: Path) -> None:
    """quickjs-ng-0.5 calls the callback on the free's stack: whatever is mined, no invariant can
    carry the property, and the engine must not say PROVED."""
    loaded = _loaded("quickjs-ng-0.5", 2, ("cleanup-not-on-free-stack",), str(tmp_path))
    got: list[Outcome] = []
    houdini.run(loaded, got.append)
    assert [o.verdict for o in got] != [PROVED]
    assert len(got) == 1 and got[0].certificate is None
    assert not list(tmp_path.iterdir())
