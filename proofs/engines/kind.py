"""k-induction with simple-path constraints.

For k = 0, 1, ...: the base case is BMC at depth k (a model is a counterexample); the
step case asks for k+1 pairwise distinct states linked by T, the property holding in
the first k and failing in the last. Unsatisfiable means every run, of any length,
keeps the property: PROVED. Because the states of a path are distinct and the bounded
state space is finite, some k always succeeds: complete at the bounds, though that k
can be far beyond what the time limit allows, and then the answer is BOUNDED.

The PROVED verdict is re-derived before it is reported: a fresh, non-incremental solver
repeats the step case at the k found (the incremental one carries every earlier query's
assumptions and learned clauses; the repeat carries nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import z3
from specmc.model.program import Program
from specmc.model.symbolic import Relation, relation, state_vars
from specmc.proofs.certify import certificate
from specmc.proofs.engines import lasso
from specmc.proofs.engines.bmc import cover_within, outcome, search_depth
from specmc.proofs.engines.solver import SolverUnknown, is_sat, make_solver, remaining
from specmc.proofs.engines.unrolling import Unrolling, link, prop_term
from specmc.proofs.properties import Property
from specmc.proofs.run.job import Loaded, certificate_dir, each_property
from specmc.proofs.verdict import BOUNDED, PROVED, Outcome


def _distinct(a: tuple[Any, ...], b: tuple[Any, ...]) -> Any:
    return z3.Or(*[x != y for x, y in zip(a, b, strict=True)])


def step_case(program: Program, rel: Relation, holds: Callable, k: int, deadline: float | None) -> bool:
    """True when the step case at k is unsatisfiable (the property is k-inductive)."""
    s = make_solver()
    xs = [state_vars(program, f"#{i}") for i in range(k + 1)]
    for i in range(k):
        s.add(link(rel, xs[i], xs[i + 1]), prop_term(program, holds, xs[i]))
    for i in range(k + 1):
        for j in range(i):
            s.add(_distinct(xs[i], xs[j]))
    s.add(z3.Not(prop_term(program, holds, xs[k])))
    s.set("timeout", remaining(deadline))
    return not is_sat(s)


def kind(program: Program, rel: Relation, holds: Callable, max_k: int,
         deadline: float | None) -> tuple[str, int, list | None]:
    """("violated", k, replayed path) | ("proved", k, None) | ("bounded", max_k, None)."""
    base = Unrolling(program, rel, holds)
    step = make_solver()
    sx = [state_vars(program, "#0")]
    for k in range(max_k + 1):
        path = base.violation(deadline)
        if path is not None:
            return "violated", k, path
        # step case at k: sx[0..k] distinct, linked, P in sx[0..k-1], not P in sx[k]
        goal = z3.Bool(f"goal#{k}")
        step.add(z3.Implies(goal, z3.Not(prop_term(program, holds, sx[k]))))
        step.set("timeout", remaining(deadline))
        if not is_sat(step, goal):
            if not step_case(program, rel, holds, k, deadline):  # a fresh solver agrees
                raise SolverUnknown(f"a fresh solver does not confirm the step case at k={k}")
            return "proved", k, None
        if k == max_k:
            break
        base.extend()
        nxt = state_vars(program, f"#{k + 1}")
        step.add(link(rel, sx[k], nxt), prop_term(program, holds, sx[k]))
        for earlier in sx:
            step.add(_distinct(nxt, earlier))
        sx.append(nxt)
    return "bounded", max_k, None


def run(job: Loaded, report: Callable[[Outcome], None]) -> None:
    job, _temporal = lasso.split(job, "kind", report)  # temporal: UNKNOWN from this engine
    from specmc.proofs.engines.bmc import BmcResult

    program = job.program
    rel = relation(program, selector=True)
    # the base case is bmc, so it stops at `steps` as bmc does; a PROVED still covers runs of
    # every length, so it stays true within `steps`
    depth, why = search_depth(job)

    def decide(p: Property, deadline: float) -> Outcome:
        what, k, path = kind(program, rel, p.holds, depth, deadline)
        if what == "violated":
            return outcome(program, p.id, "kind", BmcResult(True, k, path))
        if what == "proved":
            method = f"k-induction, k={k} (step case re-checked by a fresh solver)"
            path = certificate.write(certificate_dir(job.job), job.subject(p), program, None, method,
                                     holds=p.holds, origin=job, k=k)
            return Outcome(p.id, PROVED, "kind", k, method=method, certificate=path)
        return Outcome(p.id, BOUNDED, "kind", k, reason=f"not {k}-inductive; no violation in {k} steps{why}",
                       cover_reached=cover_within(program, rel, p.cover, k, deadline))

    each_property(job, "kind", decide, report)
