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
from specmc.proofs.engines.unrolling import Unrolling
from specmc.proofs.properties import Property
from specmc.proofs.run.job import Loaded, each_property
from specmc.proofs.verdict import BOUNDED, VIOLATED, Outcome


@dataclass(frozen=True)
class BmcResult:
    violated: bool
    depth: int  # length of the counterexample, or the depth reached without one
    path: list[tuple[Command | None, tuple[int, ...]]]


def bmc(program: Program, rel: Relation, holds: Callable[[Program, Any], Any], max_depth: int,
        deadline: float | None = None) -> BmcResult:
    """Shortest counterexample first; raises SolverUnknown when the deadline passes."""
    unrolling = Unrolling(program, rel, holds)
    for k in range(max_depth + 1):
        path = unrolling.violation(deadline)
        if path is not None:
            return BmcResult(True, k, path)
        if k < max_depth:
            unrolling.extend()
    return BmcResult(False, max_depth, [])


def run(job: Loaded, report: Callable[[Outcome], None]) -> None:
    """Each property in turn, up to the job's depth; no violation is BOUNDED, never PROVED."""
    job, _temporal = lasso.split(job, "bmc", report)  # temporal: UNKNOWN from this engine
    program = job.program
    rel = relation(program)

    def decide(p: Property, deadline: float) -> Outcome:
        return outcome(program, p.id, "bmc", bmc(program, rel, p.holds, job.job.depth, deadline=deadline))

    each_property(job, "bmc", decide, report)


def outcome(program: Program, prop: str, engine: str, r: BmcResult) -> Outcome:
    if r.violated:
        trace = tuple(t.to_json() for t in build_trace(program, r.path))
        return Outcome(prop, VIOLATED, engine, r.depth, trace=trace)
    return Outcome(prop, BOUNDED, engine, r.depth, reason=f"no violation in {r.depth} steps")
