"""Symbolic and explicit agree: on every shipped host and catalogue property at small bounds,
k-induction (whose base case is BMC) never contradicts the explorer. A PROVED needs the explorer
to find no violation; a VIOLATED needs the explorer's shortest violation to have the same length;
a BOUNDED at depth d needs the explorer's shortest violation, if any, to be longer than d."""

from __future__ import annotations

import time

import pytest
from specmc.model.bounds import Bounds
from specmc.model.explore import explore
from specmc.model.symbolic import relation
from specmc.proofs.engines.kind import kind
from specmc.proofs.engines.solver import SolverUnknown
from specmc.proofs.properties import CATALOGUE
from specmc.proofs.run.job import Job, load

from tests.conftest import distinct_models

BOUNDS = Bounds(objects=1, frames=3)
DEPTH = 3


@pytest.mark.parametrize("host", distinct_models())
@pytest.mark.slow
def test_kind_agrees_with_the_explorer(host):
    job = load(Job(("embedded",), host, BOUNDS, ()))
    program = job.program
    preds = {p.id: (lambda S, p=p: p.holds(program, S)) for p in job.properties}
    ex = explore(program, preds, BOUNDS.steps)
    assert ex.complete or len(ex.violations) == len(preds)
    rel = relation(program)
    decided = 0
    for p in job.properties:
        shortest = len(ex.violations[p.id]) - 1 if p.id in ex.violations else None
        try:
            what, k, path = kind(program, rel, p.holds, DEPTH, time.monotonic() + 60)
        except SolverUnknown:
            continue
        if what == "proved":
            assert shortest is None, (p.id, k)
            decided += 1
        elif what == "violated":
            assert shortest == k and len(path) - 1 == k, (p.id, k, shortest)
            decided += 1
        else:
            assert shortest is None or shortest > k, (p.id, k, shortest)
    assert set(CATALOGUE) >= {p.id for p in job.properties}
    assert decided >= 1  # at least one definite symbolic verdict per host was cross-checked
