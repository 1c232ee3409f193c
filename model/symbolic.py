"""The transition relation as Z3 terms: the same commands, run in the symbolic domain.

`relation(program)` returns the current and next state variables, the input variables, the
initial-state formula and T(x, i, x') = OR over commands of (guard AND every variable's next
value). Nothing here restates a step's meaning: `fire` builds the terms. The commands are the
program's symbolic ones: a family of mutator calls reads its arguments from input variables
(model/program.py), which an engine renames apart at every step it unrolls, like the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import z3

from model.domain import WIDTH, Symbolic, View
from model.program import Command, Program

SYMBOLIC = Symbolic()


@dataclass(frozen=True)
class Relation:
    current: tuple[Any, ...]
    next: tuple[Any, ...]
    inputs: tuple[Any, ...]  # the families' arguments, free in `trans`
    init: Any
    trans: Any
    commands: tuple[tuple[str, Any], ...]  # (command name, its disjunct)


def state_vars(program: Program, suffix: str = "") -> tuple[Any, ...]:
    out = []
    for name, _base, size in program.layout.names:
        for i in range(size):
            label = f"{name}[{i}]" if size > 1 else name
            out.append(z3.BitVec(label + suffix, WIDTH))
    return tuple(out)


# the last program's terms: an engine's relation (pdr, kind) and the certificate check that
# follows it need them in one process, and building them costs seconds on the default models
_LAST: list[tuple[Program, tuple[int, ...], list[tuple[str, Any, dict[int, Any]]]]] = []


def command_terms(program: Program, cur: tuple[Any, ...]) -> list[tuple[str, Any, dict[int, Any]]]:
    """(name, guard, writes) for every symbolic command (`Program.symbolic_commands`), over the
    current-state variables and the families' input variables."""
    key = tuple(v.get_id() for v in cur)
    if _LAST and _LAST[0][0] is program and _LAST[0][1] == key:
        return list(_LAST[0][2])
    out = _command_terms(program, cur)
    _LAST[:] = [(program, key, out)]
    return list(out)


def _command_terms(program: Program, cur: tuple[Any, ...]) -> list[tuple[str, Any, dict[int, Any]]]:
    return [(cmd.name, *command_term(program, cmd, cur)) for cmd in program.symbolic_commands]


def command_term(program: Program, cmd: Command, cur: tuple[Any, ...]) -> tuple[Any, dict[int, Any]]:
    """One command's guard and writes (state index -> next value) over `cur`: its `fire` run in
    the symbolic domain."""
    view = View(SYMBOLIC, program.layout, cur)
    cmd.fire(view)
    return view.guard(), dict(view.writes)


def relation(program: Program, selector: bool = False) -> Relation:
    """T as a disjunction of commands, each with an equation for every variable (BMC unrolls
    this one faster), or, with `selector`, as one input naming the command taken, its guard,
    and for each variable one if-then-else over the commands that write it (a fraction of the
    size: k-induction's step case at 6 objects is about 1.6x faster). Both are built from the
    same command terms."""
    cur = state_vars(program)
    nxt = state_vars(program, "'")
    terms = command_terms(program, cur)
    inputs = input_vars(program)
    init = z3.And(*[v == program.init[i] for i, v in enumerate(cur)])
    if not selector:
        disjuncts = []
        for name, guard, writes in terms:
            eqs = [nxt[i] == (writes[i] if i in writes else cur[i]) for i in range(len(cur))]
            disjuncts.append((name, z3.And(guard, *eqs)))
        return Relation(cur, nxt, inputs, init, z3.Or(*[d for _, d in disjuncts]), tuple(disjuncts))
    taken = z3.BitVec("command taken", max(1, (len(terms) - 1).bit_length()))
    chosen = [(name, z3.And(taken == c, guard)) for c, (name, guard, _) in enumerate(terms)]
    after: list[Any] = list(cur)
    for c, (_name, _guard, writes) in enumerate(terms):
        for i, v in writes.items():
            if isinstance(v, int) or not v.eq(cur[i]):
                after[i] = z3.If(taken == c, SYMBOLIC.num(v) if isinstance(v, int) else v, after[i])
    trans = z3.And(z3.Or(*[g for _, g in chosen]), *[n == a for n, a in zip(nxt, after, strict=True)])
    return Relation(cur, nxt, inputs + (taken,), init, trans, tuple(chosen))


def input_vars(program: Program) -> tuple[Any, ...]:
    return tuple(SYMBOLIC.input(n) for c in program.families for n in c.inputs)
