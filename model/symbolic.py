"""The transition relation as Z3 terms: the same commands, run in the symbolic domain.

`relation(program)` returns the current and next state variables, the input variables, the
initial-state formula and T(x, i, x') = OR over commands of (guard AND every variable's next
value). Nothing here restates a step's meaning: `fire` builds the terms. The commands are the
program's symbolic ones: a family of mutator calls reads its arguments from input variables
(model/program.py), which an engine renames apart at every step it unrolls, like the state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import z3
from specmc.model.domain import WIDTH, Symbolic, View, refuse_signed
from specmc.model.layout import Layout
from specmc.model.program import Command, Program

SYMBOLIC = Symbolic()

Vars = tuple[z3.BitVecRef, ...]  # state (or input) variables, in layout order
Writes = dict[int, z3.BitVecRef | int]  # state index -> next value, for the variables a command writes
Terms = tuple[str, z3.BoolRef, Writes]  # a command's name, guard and writes
# a state predicate (a property, a cover), run here in the symbolic domain
Predicate = Callable[[Program, View[z3.BitVecRef, z3.BoolRef]], z3.BoolRef | bool]


@dataclass(frozen=True)
class Relation:
    current: Vars
    next: Vars
    inputs: Vars  # the families' arguments, free in `trans`
    init: z3.BoolRef
    trans: z3.BoolRef


def state_vars(program: Program, suffix: str = "") -> Vars:
    out = []
    for name, _base, size in program.layout.names:
        for i in range(size):
            label = f"{name}[{i}]" if size > 1 else name
            out.append(z3.BitVec(label + suffix, WIDTH))
    return tuple(out)


# the last program's terms: an engine's relation (pdr, kind) and the certificate check that
# follows it need them in one process, and building them costs seconds on the default models
_LAST: list[tuple[Program, tuple[int, ...], list[Terms]]] = []


def command_terms(program: Program, cur: Vars) -> list[Terms]:
    """(name, guard, writes) for every symbolic command (`Program.symbolic_commands`), over the
    current-state variables and the families' input variables."""
    key = tuple(v.get_id() for v in cur)
    # a slice of a program (model/slice.py) has the same commands, and so the same terms
    if _LAST and _LAST[0][0].commands is program.commands and _LAST[0][1] == key:
        return list(_LAST[0][2])
    out = _command_terms(program, cur)
    _LAST[:] = [(program, key, out)]
    return list(out)


def _command_terms(program: Program, cur: Vars) -> list[Terms]:
    return [(cmd.name, *command_term(program, cmd, cur)) for cmd in program.symbolic_commands]


class SymbolicBranch(Exception):
    """A predicate decided a Python `if` on a symbolic value (`if S.get("gone", i) == 1:`)."""


def _strict_bool(self: z3.ExprRef) -> bool:
    if z3.is_true(self):
        return True
    if z3.is_false(self):
        return False
    if z3.is_eq(self) and self.num_args() == 2:
        a, b = self.arg(0), self.arg(1)
        if a.eq(b):
            return True
        if z3.is_bv_value(a) and z3.is_bv_value(b):
            return a.as_long() == b.as_long()
    raise SymbolicBranch(
        f"a Python condition on the symbolic value `{self}`: combine values with the domain "
        "(S.d.eq, S.d.and_, S.d.ite, ...), since Python's `if`, `and`, `or` and `==` cannot see "
        "a value that is only known per state")


def _strict_hash(self: z3.AstRef) -> int:
    """A constant hashes as its Python value, so `x in {2}` goes on to `==` and `_strict_bool`; a
    value known only per state cannot be looked up in a set or dict at all. Z3's own hash (of
    the term's identity) let `S.get("sp") in {2}` find nothing, without `==` or `bool` ever
    being asked, so the solvers read False where the explorer read True (an independent
    review's finding: kind and pdr PROVED a property the interpreter saw broken)."""
    if z3.is_bv_value(self):
        return hash(self.as_long())
    if z3.is_true(self) or z3.is_false(self):
        return hash(z3.is_true(self))
    raise SymbolicBranch(
        f"a set or dict lookup (`in`, `.get`, a key) of the symbolic value `{self}`: compare with the "
        "domain (S.d.eq, S.d.or_, ...), since Python's hashing cannot see a value that is only known "
        "per state")


class _PredicateView(View[z3.BitVecRef, z3.BoolRef]):
    """A predicate's window: an array read at a state-dependent index also records that the
    index is in range. The concrete View refuses an index past the end (IndexError, E079 at the
    user's line); the symbolic read would fall back to the last slot, so a search of the terms
    (C, the solvers) PROVED a predicate the Python explorer rejected (found by an independent
    review). With the range in the term, such a state breaks the property in every engine, and
    the concrete re-check of the path found raises the same E079."""

    def __init__(self, layout: Layout, cur: Vars) -> None:
        super().__init__(SYMBOLIC, layout, cur)
        self.in_range: list[z3.BoolRef] = []

    def get(self, name: str, index: z3.BitVecRef | int | None = None) -> z3.BitVecRef | int:
        if index is not None and z3.is_bv_value(index):
            index = index.as_long()  # a constant index is checked at once, as the concrete View does
        if index is not None and not isinstance(index, int):
            _base, size = self.layout.where(name)
            self.in_range.append(z3.ULT(index, size))
        return super().get(name, index)


# the bit-vector operators Z3 reads as signed (bvslt, bvsdiv, bvsmod, bvashr, ...): a predicate's
# `S.get("x") < 200` is false at x = 250 for the solvers and true for a Python int
_SIGNED = {"__lt__": "<", "__le__": "<=", "__gt__": ">", "__ge__": ">=", "__div__": "/",
           "__truediv__": "/", "__rdiv__": "/", "__rtruediv__": "/", "__mod__": "%", "__rmod__": "%",
           "__rshift__": ">>", "__rrshift__": ">>"}


@contextmanager
def predicate_reading() -> Iterator[None]:
    """While a user's predicate builds its term: a Python condition on a symbolic value is an
    error (SymbolicBranch), so is a set or dict lookup of one (`_strict_hash`), and so is a
    Python operator Z3 reads as signed arithmetic (the
    SignedOperation that `Byte`, model/domain.py, raises in the concrete reading), so that the
    term means what the concrete evaluation means. Nested use is harmless."""
    saved = {name: vars(z3.BitVecRef)[name] for name in _SIGNED}
    original, hashed = z3.ExprRef.__bool__, vars(z3.ExprRef)["__hash__"]
    z3.ExprRef.__bool__ = _strict_bool  # type: ignore[method-assign]
    z3.ExprRef.__hash__ = _strict_hash  # type: ignore[method-assign]
    for name, op in _SIGNED.items():
        setattr(z3.BitVecRef, name, _refused(op))
    try:
        yield
    finally:
        z3.ExprRef.__bool__ = original  # type: ignore[method-assign]
        z3.ExprRef.__hash__ = hashed  # type: ignore[method-assign]
        for name, fn in saved.items():
            setattr(z3.BitVecRef, name, fn)


def _refused(op: str) -> Callable[..., z3.ExprRef]:
    def refused(self: z3.BitVecRef, *_args: object) -> z3.ExprRef:
        raise refuse_signed(op)

    return refused


def predicate_parts(program: Program, fn: Predicate, cur: Vars
                    ) -> tuple[z3.BoolRef | bool, tuple[z3.BoolRef, ...]]:
    """A state predicate `fn(program, view)` (a property, a cover) as a term over `cur`, and the
    conditions under which its concrete evaluation is defined (every state-dependent array index
    in range).

    Z3 turns `bool()` of an equation into a comparison of the two expressions' shapes, so a
    predicate written `if S.get("gone", i) == 1:` silently took the else branch here while the
    explorer took the right one per state, and a term that never mentions `gone` let slices
    (model/slice.py) freeze it. Here such a condition is an error (SymbolicBranch), which
    reaches the user as E079 at the predicate's line."""
    view = _PredicateView(program.layout, cur)
    with predicate_reading():
        return fn(program, view), tuple(view.in_range)


def predicate_term(program: Program, fn: Predicate, cur: Vars) -> z3.BoolRef | bool:
    """`predicate_parts` as one term: where the predicate's concrete evaluation is undefined, it
    is false (the engines then find that state, and its concrete re-check is the user's E079)."""
    term, defined = predicate_parts(program, fn, cur)
    if defined and not (isinstance(term, bool) and term is False):
        term = z3.And(*defined, term if not isinstance(term, bool) else z3.BoolVal(term))
    if getattr(fn, "specmc_origin", None) is not None:  # a user's predicate: do its readings agree?
        from specmc.model import readings

        readings.check(program, fn, term, cur)
    return term


def command_term(program: Program, cmd: Command, cur: Vars) -> tuple[z3.BoolRef, Writes]:
    """One command's guard and writes (state index -> next value) over `cur`: its `fire` run in
    the symbolic domain."""
    view = View(SYMBOLIC, program.layout, cur)
    cmd.fire(view)
    return view.guard(), dict(view.writes)


def changes(writes: Writes, cur: Vars) -> dict[int, z3.BitVecRef]:
    """The variables a command really changes, with their next values as terms: a write of a
    variable's own current value is no change (quantifying it, substituting it or branching on
    it is wasted work)."""
    return {i: SYMBOLIC.num(v) if isinstance(v, int) else v for i, v in writes.items()
            if isinstance(v, int) or not v.eq(cur[i])}


def relation(program: Program, selector: bool = False) -> Relation:
    """T as a disjunction of commands, each with an equation for every variable (BMC unrolls
    this one faster: 17.8 s against 26.8 s to depth 10 at 2 objects), or, with `selector`, as
    one input naming the command taken, its guard, and for each variable one if-then-else over
    the commands that change it (k-induction: at 6 objects built in 0.4 s instead of 2.5 s, its
    step case 2.9 s instead of 4.8 s). Both are built from the same command terms."""
    cur = state_vars(program)
    nxt = state_vars(program, "'")
    terms = command_terms(program, cur)
    inputs = input_vars(program)
    init = z3.And(*[v == program.init[i] for i, v in enumerate(cur)])
    if not selector:
        disjuncts = [z3.And(guard, *[nxt[i] == writes.get(i, x) for i, x in enumerate(cur)])
                     for _name, guard, writes in terms]
        return Relation(cur, nxt, inputs, init, z3.Or(*disjuncts))
    taken = z3.BitVec("command taken", max(1, (len(terms) - 1).bit_length()))
    after: list[z3.BitVecRef] = list(cur)
    for c, (_name, _guard, writes) in enumerate(terms):
        for i, v in changes(writes, cur).items():
            after[i] = z3.If(taken == c, v, after[i])
    chosen = z3.Or(*[z3.And(taken == c, guard) for c, (_name, guard, _) in enumerate(terms)])
    trans = z3.And(chosen, *[n == a for n, a in zip(nxt, after, strict=True)])
    return Relation(cur, nxt, inputs + (taken,), init, trans)


def input_vars(program: Program) -> Vars:
    return tuple(SYMBOLIC.input(n) for c in program.families for n in c.inputs)
