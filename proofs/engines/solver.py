"""The one door to Z3: every solver specmc uses is made and checked here.

Seeds are fixed and every check has a time limit; `unknown` is never read as an
answer: it becomes `SolverUnknown` with Z3's reason, which engines turn into the
UNKNOWN verdict.
"""

from __future__ import annotations

import time
from typing import Any

import z3

NO_LIMIT = 4_294_967_295  # Z3's own default: no timeout


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


def remaining(deadline: float | None) -> int:
    """Milliseconds left before a `time.monotonic()` deadline, for Z3's `timeout` parameter."""
    if deadline is None:
        return NO_LIMIT
    left = int((deadline - time.monotonic()) * 1000)
    if left <= 0:
        raise SolverUnknown("time limit reached")
    return left


def is_sat(solver: z3.Solver, *assumptions: Any) -> bool:
    r = solver.check(*assumptions)
    if r == z3.sat:
        return True
    if r == z3.unsat:
        return False
    raise SolverUnknown(solver.reason_unknown() or "unknown")
