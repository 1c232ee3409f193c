"""The toolkit the solver-based engines share: the relation unrolled, and the replay of its models.

`Unrolling` holds Init and k copies of T in one incremental solver (`link` renames T onto two
copies of the state variables) and asks about the newest state: bmc's search and the base case
of k-induction. `prop_term` is a property's Z3 term over one copy. `replay` turns the concrete
states a solver (or the bdd engine's frontier, or a slice's lifted path) gives back into a path
of the reference interpreter's own transitions; a path that does not replay is `ReplayError`, a
bug in specmc, never a finding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import z3
from specmc.model.domain import ByteView
from specmc.model.explore import successors
from specmc.model.program import Command, Program
from specmc.model.slice import Path
from specmc.model.symbolic import Relation, predicate_term, state_vars
from specmc.proofs.engines.solver import is_sat, make_solver, remaining


class ReplayError(Exception):
    """A solver trace the interpreter cannot reproduce: a bug in specmc, never a finding."""


def prop_term(program: Program, holds: Callable[[Program, Any], Any], xs: tuple[Any, ...]) -> Any:
    return predicate_term(program, holds, xs)


def link(rel: Relation, a: tuple[Any, ...], b: tuple[Any, ...]) -> Any:
    """T(a, i, b): the relation renamed onto two copies of the state variables, with inputs of
    its own (a family's arguments are chosen anew at every step)."""
    fresh = [(i, z3.FreshConst(i.sort(), str(i))) for i in rel.inputs]
    return z3.substitute(rel.trans, *zip(rel.current, a, strict=True), *zip(rel.next, b, strict=True),
                         *fresh)


class Unrolling:
    """Init and k copies of T in one incremental solver, asked about the newest state under an
    assumption literal: BMC itself, and the base case of k-induction."""

    def __init__(self, program: Program, rel: Relation, holds: Callable[[Program, Any], Any]):
        self.program, self.rel, self.holds = program, rel, holds
        self.solver = make_solver()
        self.frames = [state_vars(program, "@0")]
        self.solver.add(z3.substitute(rel.init, *zip(rel.current, self.frames[0], strict=True)))

    def violation(self, deadline: float | None) -> list[tuple[Command | None, tuple[int, ...]]] | None:
        """A replayed path to a violation in exactly len(frames) - 1 steps, or None."""
        k = len(self.frames) - 1
        bad = z3.Bool(f"bad@{k}")
        self.solver.add(z3.Implies(bad, z3.Not(prop_term(self.program, self.holds, self.frames[k]))))
        self.solver.set("timeout", remaining(deadline))
        if not is_sat(self.solver, bad):
            return None
        m = self.solver.model()
        states = [tuple(m.eval(v, model_completion=True).as_long() for v in f) for f in self.frames]
        return replay(self.program, states, self.holds)

    def reaches(self, pred: Callable[[Program, Any], Any], deadline: float | None) -> bool:
        """Whether some state of the frames unrolled so far meets `pred` (a property's cover):
        a BOUNDED search that never got as far as the situation its property is about has
        checked nothing (review counts it so). Raises SolverUnknown when the deadline passes."""
        met = z3.FreshBool("cover")
        self.solver.add(z3.Implies(met, z3.Or(*[prop_term(self.program, pred, f) for f in self.frames])))
        self.solver.set("timeout", remaining(deadline))
        return is_sat(self.solver, met)

    def extend(self) -> None:
        nxt = state_vars(self.program, f"@{len(self.frames)}")
        self.solver.add(link(self.rel, self.frames[-1], nxt))
        self.frames.append(nxt)


def replay(program: Program, states: list[tuple[int, ...]],
           holds: Callable[[Program, Any], Any] | None = None) -> Path:
    """The solver's states as a path of the interpreter's own transitions; with `holds`, the
    interpreter must also see the property broken in the last state. The engines judge a property
    by its term and the interpreter by its concrete reading: where those disagree, the path is no
    counterexample (an error here), and where the concrete reading cannot be made (an index past
    an array's end) the user's predicate raises its own E079."""
    if states[0] != program.init:
        raise ReplayError("the solver's first state is not the initial state")
    path: Path = [(None, states[0])]
    for a, b in zip(states, states[1:], strict=False):
        step = next((cmd for cmd, nxt in successors(program, a) if nxt == b), None)
        if step is None:
            raise ReplayError(f"no transition of the interpreter leads to state {len(path)}")
        path.append((step, b))
    if holds is not None and holds(program, ByteView(program.layout, path[-1][1])):
        raise ReplayError("the property holds in the last state of the path found violating it: its "
                          "concrete and symbolic readings disagree")
    return path
