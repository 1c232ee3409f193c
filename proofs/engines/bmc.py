"""Bounded model checking: unroll T from the initial state, shortest counterexample first.

Each depth adds one copy of T (the relation is built once over state variables and
renamed per step with `substitute`) and asks, under an assumption literal, whether the
property can fail in the newest state. A model is read back as concrete states and
replayed by the reference interpreter before it is reported. The unrolling and the replay
are the shared toolkit in proofs/engines/unrolling.py; this module is the engine (`run`),
the search to a depth (`bmc`, which pdr also uses to recover a counterexample), and the
reading of its result as an `Outcome`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from specmc.model.program import Command, Program
from specmc.model.symbolic import Relation, relation
from specmc.model.trace import build_trace
from specmc.proofs.engines import lasso
from specmc.proofs.engines.solver import SolverUnknown
from specmc.proofs.engines.unrolling import Unrolling
from specmc.proofs.properties import Property
from specmc.proofs.run.job import Loaded, each_property
from specmc.proofs.verdict import BOUNDED, VIOLATED, Outcome


@dataclass(frozen=True)
class BmcResult:
    violated: bool
    depth: int  # length of the counterexample, or the depth reached without one
    path: list[tuple[Command | None, tuple[int, ...]]]
    # no violation: whether some state within `depth` steps meets the property's cover (None: the
    # property has none, or the solver could not tell in time)
    cover_reached: bool | None = None


def bmc(program: Program, rel: Relation, holds: Callable[[Program, Any], Any], max_depth: int,
        deadline: float | None = None, cover: Callable[[Program, Any], Any] | None = None) -> BmcResult:
    """Shortest counterexample first; raises SolverUnknown when the deadline passes. With no
    violation and a `cover`, whether the depth reached the property's situation at all."""
    unrolling = Unrolling(program, rel, holds)
    for k in range(max_depth + 1):
        path = unrolling.violation(deadline)
        if path is not None:
            return BmcResult(True, k, path)
        if k < max_depth:
            unrolling.extend()
    return BmcResult(False, max_depth, [], _reaches(unrolling, cover, deadline))


def cover_within(program: Program, rel: Relation, cover: Callable[[Program, Any], Any] | None, depth: int,
                 deadline: float | None) -> bool | None:
    """Whether some state within `depth` steps of the initial one meets `cover` (None: no cover,
    or no answer in time): k-induction's BOUNDED says it as bmc's does."""
    if cover is None:
        return None
    unrolling = Unrolling(program, rel, cover)
    for _ in range(depth):
        unrolling.extend()
    return _reaches(unrolling, cover, deadline)


def _reaches(unrolling: Unrolling, cover: Callable[[Program, Any], Any] | None,
             deadline: float | None) -> bool | None:
    if cover is None:
        return None
    try:
        return unrolling.reaches(cover, deadline)
    except SolverUnknown:  # the search itself finished: its BOUNDED stands, the cover is not known
        return None


def search_depth(job: Loaded) -> tuple[int, str]:
    """How deep the symbolic engines unroll: the run's depth, but never past the `steps` bound,
    and the note their BOUNDED reason adds when `steps` is what stopped them. Every verdict is
    stated at the bounds, and `steps` is one: bmc reported a 29-transition violation "at steps=10"
    where the explicit engine, which honours it, said BOUNDED (sixth review). At the defaults
    (depth 60, steps 10,000) the depth is the run's and the note is empty."""
    steps = job.job.bounds.steps
    if steps < job.job.depth:
        return steps, f" (depth {job.job.depth} cut to the bound steps={steps})"
    return job.job.depth, ""


def run(job: Loaded, report: Callable[[Outcome], None]) -> None:
    """Each property in turn, up to the job's depth (at most `steps`); no violation is BOUNDED,
    never PROVED."""
    job, _temporal = lasso.split(job, "bmc", report)  # temporal: UNKNOWN from this engine
    program = job.program
    rel = relation(program)
    depth, why = search_depth(job)

    def decide(p: Property, deadline: float) -> Outcome:
        return outcome(program, p.id, "bmc", bmc(program, rel, p.holds, depth, deadline=deadline,
                                                 cover=p.cover), why)

    each_property(job, "bmc", decide, report)


def outcome(program: Program, prop: str, engine: str, r: BmcResult, why: str = "") -> Outcome:
    """The result as a verdict; `why` (search_depth's note) says when `steps` cut the depth."""
    if r.violated:
        trace = tuple(t.to_json() for t in build_trace(program, r.path))
        return Outcome(prop, VIOLATED, engine, r.depth, trace=trace)
    return Outcome(prop, BOUNDED, engine, r.depth, reason=f"no violation in {r.depth} steps{why}",
                   cover_reached=r.cover_reached)
