"""The houdini engine: clauses mined at a smaller heap, lifted over object indices, pruned to an
inductive core, and never PROVED without a certificate the fresh solvers accept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
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


def test_a_property_inductive_on_its_own_needs_no_clause() -> None:
    loaded = _loaded("quickjs-ng-0.6", 1, ("cleanup-not-on-free-stack",))
    program = loaded.program
    sp = program.layout.where("sp")[0]
    never_called = houdini.Clause(None, frozenset(), sp, frozenset({0}))  # true at Init only
    r = houdini.prune(program, [never_called], loaded.properties[0].holds, None)
    assert r.clauses == [] and r.proved  # this property is 1-inductive on its own (kind proves it)


def test_a_buggy_host_is_never_proved(tmp_path: Path) -> None:
    """quickjs-ng-0.5 calls the callback on the free's stack: whatever is mined, no invariant can
    carry the property, and the engine must not say PROVED."""
    loaded = _loaded("quickjs-ng-0.5", 2, ("cleanup-not-on-free-stack",), str(tmp_path))
    got: list[Outcome] = []
    houdini.run(loaded, got.append)
    assert [o.verdict for o in got] != [PROVED]
    assert len(got) == 1 and got[0].certificate is None
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_proves_at_three_objects_what_k_induction_does_not(tmp_path: Path) -> None:
    """PROPERTY under quickjs-ng-0.6 at objects=3: not k-inductive for small k, PROVED here from
    clauses mined at objects=2, and the certificate passes the fresh re-check from the file alone."""
    from specmc.model.symbolic import relation
    from specmc.proofs.engines.kind import kind

    loaded = _loaded("quickjs-ng-0.6", 3, (PROPERTY,), str(tmp_path))
    p = loaded.properties[0]
    what, _k, _path = kind(loaded.program, relation(loaded.program, selector=True), p.holds, 3, None)
    assert what == "bounded"
    got: list[Outcome] = []
    houdini.run(loaded, got.append)
    assert [o.verdict for o in got] == [PROVED], got
    assert got[0].certificate is not None
    checked = certificate.recheck_file(got[0].certificate)
    assert checked.head["property"] == PROPERTY and checked.head["bounds"].startswith("objects=3")


PROPERTY = "weakref-not-dangling"
