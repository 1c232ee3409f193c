"""Cone-of-influence slices: the sliced model reaches exactly the whole model's states, projected;
a cone leaves out only what its question cannot depend on; and a slice that drops a variable it
needs is caught: its paths do not run in the whole model (tests/proofs/certify/test_certificate.py: nor
is its reachable set an invariant of the whole model)."""

from __future__ import annotations

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import explore
from specmc.model.hosts import load_host
from specmc.model.slice import Dependencies, LiftError, groups, lift, sliced
from specmc.proofs.properties import CATALOGUE
from specmc.spec.load import load_spec

SMALL = Bounds(objects=1, frames=3)


@pytest.fixture(scope="module", params=["ecma262", "quickjs-ng-0.5"])
def model(request):
    program = build(load_spec(), load_host(request.param), SMALL)
    return program, Dependencies(program)


def _index(program, *names):
    out = set()
    for n, base, size in program.layout.names:
        if n in names:
            out |= set(range(base, base + size))
    return out


def test_a_slice_reaches_the_projection_of_the_whole_models_states(model):
    program, deps = model
    full = explore(program, {}, SMALL.steps, keep=True)
    for p in CATALOGUE.values():
        keep = deps.cone(deps.of(p.holds) | (deps.of(p.cover) if p.cover else frozenset()))
        part = explore(sliced(program, keep), {}, SMALL.steps, keep=True)
        assert full.complete and part.complete
        project = sorted(keep)
        want = {tuple(s[i] for i in project) for s in full.reached}
        assert {tuple(s[i] for i in project) for s in part.reached} == want, p.id


def test_cones_keep_what_is_read_and_leave_out_unread_observers(model):
    program, deps = model
    base = deps.cone(())
    assert _index(program, "sp", "frame_pc", "cut", "need_clear") <= base  # guards
    assert not _index(program, "kept_turn", "reg_held", "bad_delivery", "cb_threw") & base
    delivered = CATALOGUE["delivered-as-registered"]
    cone = deps.cone(deps.of(delivered.holds))
    # bad_delivery is computed from the observed registrations: they are in its cone
    assert _index(program, "bad_delivery", "reg_held", "reg_owner", "reg_live") <= cone
    assert not _index(program, "kept_turn", "cb_threw") & cone


def test_groups_keep_every_property_once_and_each_cone_covers_its_members(model):
    program, deps = model
    seeds = {p.id: deps.of(p.holds) for p in CATALOGUE.values()}
    got = groups(deps, seeds)
    members = [k for _cone, keys in got for k in keys]
    assert sorted(members) == sorted(seeds)
    for cone, keys in got:
        for k in keys:
            assert deps.cone(seeds[k]) <= cone
    assert len(got) > 1  # the observers are not all read by one property


def test_a_slice_that_drops_a_guard_variable_is_caught(model):
    program, deps = model
    # frozen at 1, the stack pointer never shows a callee: user code runs on while it is pushed
    keep = deps.cone(()) - _index(program, "sp")
    bad = sliced(program, keep)
    part = explore(bad, {}, SMALL.steps, keep=True)
    # some path of the bad slice does not run in the whole model
    failures = 0
    for s in list(part.reached):
        try:
            lift(bad, part.path_to(s))
        except LiftError:
            failures += 1
    assert failures


def test_stored_dependencies_are_the_built_ones(model):
    """`parts` read back by `stored` answer every question as the dependencies built from the
    terms do; data that is not this program's is a miss (None), never an answer."""
    import json

    program, deps = model
    again = Dependencies.stored(program, json.loads(json.dumps(deps.parts())))
    assert again is not None and (again.guards, again.deps) == (deps.guards, deps.deps)
    for p in CATALOGUE.values():
        assert again.cone(again.of(p.holds)) == deps.cone(deps.of(p.holds))
    good = deps.parts()
    size = program.layout.size
    for bad in (None, [], {}, {**good, "variables": size + 1}, {**good, "guards": [size]},
                {**good, "guards": ["x"]}, {**good, "deps": {"0": [-1]}}, {**good, "deps": [1, 2]}):
        assert Dependencies.stored(program, bad) is None, bad
