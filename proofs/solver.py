"""The one door to Z3: every solver specmc uses is made and checked here.

Seeds are fixed and every check has a time limit; `unknown` is never read as an
answer: it becomes `SolverUnknown` with Z3's reason, which engines turn into the
UNKNOWN verdict.
"""

from __future__ import annotations

from typing import Any

import z3


class SolverUnknown(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def make_solver(timeout_s: float | None = None) -> z3.Solver:
    s = z3.SolverFor("QF_BV")
    s.set("random_seed", 0)
    if timeout_s is not None:
        s.set("timeout", max(1, int(timeout_s * 1000)))
    return s


def is_sat(solver: z3.Solver, *assumptions: Any) -> bool:
    r = solver.check(*assumptions)
    if r == z3.sat:
        return True
    if r == z3.unsat:
        return False
    raise SolverUnknown(solver.reason_unknown() or "unknown")
