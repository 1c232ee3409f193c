"""Liveness as sec-liveness says: what a future cleanup or a frame can still observe is live.

Regression for the reviewer's finding: under the spec's own host the collector freed the held
value of a registry that nothing reached, and a later collection of that registry enqueued its
cleanup, which passed the freed object to user code."""

from __future__ import annotations

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.compile import USER
from specmc.model.domain import View
from specmc.model.explore import CONCRETE, successors
from specmc.model.hosts import load_host
from specmc.model.layout import EMPTY, LIVE, PLAIN, REGISTRY, UNDEF
from specmc.model.liveness import live_all
from specmc.proofs.properties import CATALOGUE
from specmc.spec.load import load_spec

from tests.model.searching import search

B = Bounds(objects=2, cells=1)


def _program(host: str = "ecma262", bounds: Bounds = B):
    return build(load_spec(), load_host(host), bounds)


def _state(prog, **cell):
    """obj0 a registry, obj1 a plain object, neither held by user code; one registration of
    obj0 (by default: target obj0 itself, held value obj1)."""
    lay = prog.layout
    st = list(prog.init)

    def put(name, v, i=0):
        st[lay.where(name)[0] + i] = v

    put("obj_status", LIVE, 0), put("obj_kind", REGISTRY, 0)
    put("obj_status", LIVE, 1), put("obj_kind", PLAIN, 1)
    put("cell_status", LIVE), put("cell_owner", cell.get("owner", lay.obj(0)))
    put("cell_target", cell.get("target", lay.obj(0))), put("cell_held", lay.obj(1))
    put("cell_token", UNDEF)
    if "frame_local" in cell:
        put("sp", 2), put("frame_alg", USER, 1), put("frame_local", cell["frame_local"], lay.locals_per_frame)
    return View(CONCRETE, lay, tuple(st))


def test_held_value_of_an_unreachable_registry_with_a_pending_target_is_live():
    prog = _program()
    alive = live_all(_state(prog), prog.layout)
    assert alive == [False, True]  # the registry may be collected; its held value may not


def test_held_value_is_not_live_once_no_cleanup_can_deliver_it():
    prog = _program()
    alive = live_all(_state(prog, target=EMPTY), prog.layout)
    assert alive == [False, False]  # unreachable registry, nothing pending: the most permissive reading


def test_with_a_collection_end_a_dead_registration_keeps_its_held_value():
    """On a host whose profile runs HostCollectionEnd (jsc) any later collection may queue the
    registry's cleanup, so a registration whose target is gone still holds its held value while
    the registry is allocated; the registry itself may still be collected (then its cells go)."""
    prog = _program("jsc")
    assert live_all(_state(prog, target=EMPTY), prog.layout) == [False, False]
    assert live_all(_state(prog, target=EMPTY), prog.layout, dead_cells_pending=True) == [False, True]


def test_the_jsc_collector_asks_with_dead_registrations_pending():
    """Built with the profile's HostCollectionEnd, the collector may not take the held value of an
    unreachable registry's dead registration; under ecma262 it may (nothing can deliver it there)."""
    for host, takes in (("ecma262", True), ("jsc", False)):
        prog = _program(host)
        state = tuple(_state(prog, target=EMPTY).values)
        fired = {c.name for c, _ in successors(prog, state)}
        assert "collector: S = {obj0} is not live" in fired  # the registry itself may go
        assert ("collector: S = {obj1} is not live" in fired) == takes, host


def test_a_frame_holding_a_removed_cell_keeps_its_held_value():
    prog = _program()
    lay = prog.layout
    view = _state(prog, owner=EMPTY, target=EMPTY, frame_local=lay.cell(0))
    assert live_all(view, lay) == [False, True]


def test_reference_counting_cells_hold_their_held_values_while_the_registry_exists():
    prog = _program("quickjs-ng-0.6")
    alive = live_all(_state(prog, target=EMPTY), prog.layout, counted_cells=True)
    assert alive == [False, True]


@pytest.mark.slow
def test_no_freed_object_is_observed_under_the_spec_host():
    """The reviewer's 62-transition path (register a registry with itself as target, drop
    both, collect the held value, then the registry) is gone, and so is every other way to
    hand user code a freed object, at the default object and cell bounds."""
    r = search(_program(), [CATALOGUE["no-freed-observed"]], B.steps)
    assert not r.violations and r.complete
