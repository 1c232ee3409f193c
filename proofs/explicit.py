"""The explicit engine: the reference interpreter explored breadth first, every property at once.

A violation comes with the explorer's shortest trace. A property that holds in every
state of a complete exploration is PROVED only after the visited set, written as a
decision diagram, has been stored as a certificate and re-checked by fresh solvers
(proofs/certificate.py): the solver, not the explorer, has the last word.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable

from model.explore import explore
from model.layout import CUT_NAMES
from model.program import Program
from model.symbolic import state_vars
from model.trace import build_trace
from proofs import certificate
from proofs.bmc import replay
from proofs.invariant import diagram, to_smtlib, variable_order
from proofs.job import Loaded, certificate_dir, cover_predicate, predicate
from proofs.properties import Property
from proofs.verdict import PROVED, UNKNOWN, VIOLATED, Outcome

MAX_STATES = 4_000_000


COVER = "cover: "  # explorer predicates that fail where a property's cover is met


def bounds_hit(program: Program, states: Iterable[tuple[int, ...]]) -> tuple[tuple[str, int], ...]:
    """Which bounds ended a run of the exploration, and in how many states (model/layout.py, `cut`)."""
    at = program.layout.where("cut")[0]
    counts = Counter(s[at] for s in states)
    return tuple((CUT_NAMES[v], n) for v, n in sorted(counts.items()) if v in CUT_NAMES)


def run(job: Loaded, report: Callable[[Outcome], None]) -> None:
    started = time.perf_counter()
    program = job.program
    preds = {p.id: predicate(program, p) for p in job.properties}
    for p in job.properties:
        cover = cover_predicate(program, p)
        if cover is not None:
            preds[COVER + p.id] = lambda S, cover=cover: not cover(S)
    r = explore(program, preds, job.job.bounds.steps, MAX_STATES, keep=True)
    hit = bounds_hit(program, r.reached)

    def reached(p: Property) -> bool | None:
        return None if p.cover is None else COVER + p.id in r.violations

    for p in job.properties:
        path = r.violations.get(p.id)
        if path is not None:
            checked = replay(program, [s for _, s in path])
            trace = tuple(t.to_json() for t in build_trace(program, checked))
            report(Outcome(p.id, VIOLATED, "explicit", len(path) - 1, reason=f"{r.states:,} states explored",
                           trace=trace, cover_reached=reached(p), bounds_hit=hit)
                   .timed(time.perf_counter() - started))
    holding = [p for p in job.properties if p.id not in r.violations]
    if not holding:
        return
    if not r.complete:
        for p in holding:
            report(Outcome(p.id, UNKNOWN, "explicit", reason=f"exploration stopped at {r.states:,} states "
                           f"(limit {MAX_STATES:,} states, {job.job.bounds.steps} steps)")
                   .timed(time.perf_counter() - started))
        return
    dd = diagram(r.reached, program.layout.size, variable_order(program.layout))
    inv = to_smtlib(dd, [str(x) for x in state_vars(program)])
    method = f"reachable set: {r.states:,} states, {len(dd):,} diagram nodes"
    for p in holding:
        subject = job.subject(p)
        path = certificate.write(certificate_dir(job.job), subject, program, inv, "explicit " + method,
                                 holds=p.holds, origin=job)
        try:
            certificate.recheck(path, subject, program, p.holds)
        except certificate.CertificateError as e:
            report(Outcome(p.id, UNKNOWN, "explicit", reason=f"certificate refused: {e}")
                   .timed(time.perf_counter() - started))
            continue
        report(Outcome(p.id, PROVED, "explicit", method=method, certificate=path,
                       cover_reached=reached(p), bounds_hit=hit)
               .timed(time.perf_counter() - started))

