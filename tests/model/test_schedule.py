"""The reduced collector schedule gives the verdicts of the faithful one.

sec-weakref-execution lets a tracing collector run "at any time", i.e. between any two steps of
any algorithm outside "atomically" (`any_step=True`). By default the model lets it run only
between steps of user code and on an empty stack, which is far cheaper (at the default bounds
177,158 states against 447,085 under ecma262). This test is what allows the reduction: on every
tracing host, both schedules give the same verdict for every catalogue property and reach the
same covers."""

from __future__ import annotations

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import explore
from specmc.model.hosts import load_host, shipped
from specmc.proofs.properties import CATALOGUE
from specmc.proofs.run.job import cover_predicate, predicate
from specmc.spec.load import load_spec

TRACING = [h for h in shipped() if load_host(h).collector == "tracing"]


def _verdicts(host: str, bounds: Bounds, any_step: bool) -> tuple[set[str], set[str], int]:
    program = build(load_spec(), load_host(host), bounds, any_step=any_step)
    preds = {p.id: predicate(program, p) for p in CATALOGUE.values()}
    for p in CATALOGUE.values():
        cover = cover_predicate(program, p)
        if cover is not None:
            preds["cover " + p.id] = lambda S, cover=cover: not cover(S)
    r = explore(program, preds, bounds.steps)
    assert r.complete
    violated = {k for k in r.violations if not k.startswith("cover ")}
    covered = {k for k in r.violations if k.startswith("cover ")}
    return violated, covered, r.states


@pytest.mark.parametrize("host", TRACING)
def test_reduced_schedule_has_the_verdicts_of_the_any_step_collector(host):
    bounds = Bounds(objects=1)
    reduced = _verdicts(host, bounds, any_step=False)
    anywhere = _verdicts(host, bounds, any_step=True)
    assert reduced[:2] == anywhere[:2]
    assert anywhere[2] > reduced[2]  # the faithful schedule really does reach more states


def test_any_step_collector_runs_inside_algorithms():
    """The faithful schedule is not the reduced one under another name: it collects while a
    spec algorithm (not only user code) is on top of the stack."""
    program = build(load_spec(), load_host("ecma262"), Bounds(objects=1), any_step=True)
    r = explore(program, {}, Bounds().steps, keep=True)
    lay = program.layout
    sp_at, alg_at = lay.where("sp")[0], lay.where("frame_alg")[0]
    execution = program.code_of("Execution")
    user = program.code_of("user code")
    inside = [s for s in r.reached
              if s[sp_at] >= 2 and s[alg_at + s[sp_at] - 1] == execution
              and s[alg_at + s[sp_at] - 2] not in (user, execution)]
    assert inside
