"""PDR/IC3 by Z3's Spacer engine over constrained Horn clauses.

One uninterpreted predicate Inv over the state variables, one clause per command
(`Inv(x) and guard(x) -> Inv(writes(x))`: each command's next state is a term, so
no next-state variables are needed), and the query `Inv(x) and not P(x)`. Spacer's
answer on `unsat` is an inductive invariant; it is written as a certificate and
re-checked by fresh solvers (proofs/certify/) before PROVED is reported. On
`sat`, the counterexample is recovered by BMC so that the interpreter can replay it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import z3
from specmc.model.domain import WIDTH
from specmc.model.symbolic import command_terms, input_vars, relation, state_vars
from specmc.proofs.certify import certificate
from specmc.proofs.certify.fileformat import CertificateError
from specmc.proofs.engines import lasso
from specmc.proofs.engines.bmc import bmc, outcome, search_depth
from specmc.proofs.engines.solver import SolverUnknown, remaining
from specmc.proofs.engines.unrolling import prop_term
from specmc.proofs.properties import Property
from specmc.proofs.run.job import Loaded, certificate_dir, each_property
from specmc.proofs.verdict import BOUNDED, PROVED, UNKNOWN, Outcome


def spacer(job: Loaded, holds: Callable, deadline: float | None) -> tuple[str, object]:
    """("proved", invariant term) | ("violated", None); SolverUnknown otherwise."""
    program = job.program
    xs = state_vars(program)
    inv = z3.Function("Inv", *[z3.BitVecSort(WIDTH)] * len(xs), z3.BoolSort())
    fp = z3.Fixedpoint()
    fp.set(engine="spacer")
    fp.set("timeout", remaining(deadline))
    fp.register_relation(inv)
    fp.declare_var(*xs, *input_vars(program))
    fp.rule(inv(*[z3.BitVecVal(v, WIDTH) for v in program.init]))
    for _name, guard, writes in command_terms(program, xs):
        after = [writes.get(i, x) for i, x in enumerate(xs)]
        after = [z3.BitVecVal(v, WIDTH) if isinstance(v, int) else v for v in after]
        fp.rule(inv(*after), [inv(*xs), guard])
    bad = z3.Bool("bad")
    fp.register_relation(bad.decl())
    fp.rule(bad, [inv(*xs), z3.Not(prop_term(program, holds, xs))])
    try:
        r = fp.query(bad)
    except z3.Z3Exception as e:  # Spacer signals its time limit as "canceled"
        raise SolverUnknown("time limit reached" if "cancel" in str(e) else str(e)[:200]) from None
    if r == z3.sat:
        return "violated", None
    if r == z3.unsat:
        cover = fp.get_cover_delta(-1, inv)
        return "proved", z3.substitute_vars(cover, *xs)
    raise SolverUnknown(fp.reason_unknown() or "unknown")


def run(job: Loaded, report: Callable[[Outcome], None]) -> None:
    job, _temporal = lasso.split(job, "pdr", report)  # temporal: UNKNOWN from this engine
    program = job.program

    depth, why = search_depth(job)

    def decide(p: Property, deadline: float) -> Outcome:
        what, inv = spacer(job, p.holds, deadline)
        if what == "violated":
            # Spacer's violation may be of any length: it is VIOLATED only where bmc finds one
            # within the depth, and so within `steps`
            r = bmc(program, relation(program), p.holds, depth, deadline=deadline, cover=p.cover)
            if r.violated:
                return outcome(program, p.id, "pdr", r)
            if why:  # none within `steps`: outside the bounds the run was given
                return Outcome(p.id, BOUNDED, "pdr", r.depth, cover_reached=r.cover_reached,
                               reason=f"no violation in {r.depth} steps{why}; Spacer reports a longer one")
            raise SolverUnknown(f"Spacer reports a violation deeper than depth {depth}")
        subject = job.subject(p)
        path = certificate.write(certificate_dir(job.job), subject, program, inv, "pdr (Z3 Spacer)",
                                 holds=p.holds, origin=job)
        left = max(1.0, deadline - time.monotonic())
        try:
            certificate.recheck(path, subject, program, p.holds, timeout_s=left)
        except CertificateError as e:
            return Outcome(p.id, UNKNOWN, "pdr", reason=f"certificate refused: {e}")
        return Outcome(p.id, PROVED, "pdr", method="pdr (Z3 Spacer): inductive invariant", certificate=path)

    each_property(job, "pdr", decide, report)
