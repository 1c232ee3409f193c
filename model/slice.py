"""Cone of influence: the state variables a question depends on, and the model cut down to them.

A property reads a few variables; those read the variables their next values are computed
from, and every guard decides which transitions exist at all. The closure of that (`cone`) is
all a verdict about the property can depend on: a variable outside it is never read by a guard
nor by the next value of anything inside it, so two runs that differ only there take the same
transitions and agree on everything the property sees. Most observers (model/layout.py) are
outside the cone of every property that does not read them, and each one multiplies the state
space (quickjs-ng-0.6 at the default bounds: 682,804 states with all of them, 42,994 without).

`sliced(program, keep)` is the same program whose variables outside `keep` stay at their
initial values: its reachable states are the full model's, projected. Nothing here is taken on
trust: the cone is read off the very Z3 terms the solvers check, an invariant over the kept
variables is re-checked against the whole transition relation (an invariant that leaned on a
dropped variable would fail consecution), and a counterexample found in the slice is run again
in the whole model by the reference interpreter (`lift`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

import z3
from specmc.model.domain import Disabled, View
from specmc.model.program import Command, Program

if TYPE_CHECKING:
    from specmc.model.symbolic import Predicate

Path = list[tuple[Command | None, tuple[int, ...]]]  # (command taken, state reached), from the start
Seen = dict[int, tuple[z3.ExprRef, frozenset[int]]]  # Z3 id -> (the term it was found under, its variables)


class LiftError(Exception):
    """A path of the slice does not run in the whole model: the cone missed a dependency."""


def reads(term: z3.ExprRef | int, index: dict[int, int], seen: Seen | None = None) -> frozenset[int]:
    """The state variables (positions, via `index`: Z3 id -> position) a term mentions. `seen`
    memoises subterms across calls (commands share most of theirs: Z3 hash-conses them). Z3 reuses
    the id of a term that has been freed, so each entry holds the term it was found under (a term
    keeps its subterms alive).

    Walked through Z3's C interface: making a Python term object for every child of every command
    cost about 3 s per model at the default bounds (ecma262), most of the cone's time."""
    if isinstance(term, (bool, int)):
        return frozenset()
    from z3 import z3core as c

    memo = {} if seen is None else seen
    ctx = term.ctx_ref()
    app = z3.Z3_APP_AST
    top = c.Z3_get_ast_id(ctx, term.as_ast())
    stack = [term.as_ast()]
    while stack:
        t = stack[-1]
        tid = c.Z3_get_ast_id(ctx, t)
        if tid in memo:
            stack.pop()
            continue
        if tid in index:
            memo[tid] = (term, frozenset((index[tid],)))
            stack.pop()
            continue
        n = c.Z3_get_app_num_args(ctx, t) if c.Z3_get_ast_kind(ctx, t) == app else 0
        kids = [c.Z3_get_app_arg(ctx, t, i) for i in range(n)]
        ids = [c.Z3_get_ast_id(ctx, k) for k in kids]
        missing = [k for k, i in zip(kids, ids, strict=True) if i not in memo]
        if missing:
            stack.extend(missing)
            continue
        stack.pop()
        acc: set[int] = set()
        for i in ids:
            acc |= memo[i][1]
        memo[tid] = (term, frozenset(acc))
    return memo[top][1]


class Dependencies:
    """Per program: the variables any guard reads, and for each variable the variables its next
    value is computed from (over every symbolic command). Built once, asked per question.

    Building them costs every command's Z3 term (about 0.7 s for the seed's model, most of a
    one-property check); `parts` and `stored` let a caller keep them on disk for an identical
    program. A stale or wrong copy cannot make a verdict wrong, only weaker: a counterexample
    of a slice is run again in the whole model (`lift`), an invariant over a slice is re-checked
    against the whole relation, and `cut`, which results report, is in every cone (`cone`)."""

    def __init__(self, program: Program, parts: tuple[frozenset[int], dict[int, frozenset[int]]] | None = None
                 ) -> None:
        from specmc.model.symbolic import state_vars

        self.program = program
        self.xs = state_vars(program)
        self.index = {x.get_id(): i for i, x in enumerate(self.xs)}
        self._seen: Seen = {}
        if parts is not None:
            self.guards, self.deps = parts
            return
        from specmc.model.symbolic import command_terms

        guards: set[int] = set()
        deps: dict[int, set[int]] = {}
        for _name, guard, writes in command_terms(program, self.xs):
            guards |= reads(guard, self.index, self._seen)
            for i, v in writes.items():
                if isinstance(v, int) or v.get_id() != self.xs[i].get_id():
                    deps.setdefault(i, set()).update(reads(v, self.index, self._seen))
        self.guards = frozenset(guards)
        self.deps = {i: frozenset(s) for i, s in deps.items()}

    def parts(self) -> dict[str, object]:
        """What `stored` reads back, as JSON."""
        return {"variables": self.program.layout.size, "guards": sorted(self.guards),
                "deps": {str(i): sorted(s) for i, s in sorted(self.deps.items())}}

    @classmethod
    def stored(cls, program: Program, data: object) -> Dependencies | None:
        """Dependencies from `parts()` of the same program, or None when `data` is not that: a
        damaged or foreign file is a miss, never an answer."""
        size = program.layout.size
        if not isinstance(data, dict):
            return None
        try:
            if data["variables"] != size:
                return None
            guards = frozenset(int(i) for i in data["guards"])
            deps = {int(i): frozenset(int(j) for j in s) for i, s in data["deps"].items()}
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
        if not all(0 <= v < size for v in guards.union(deps, *deps.values())):
            return None
        return cls(program, (guards, deps))

    def of(self, predicate: Predicate) -> frozenset[int]:
        """The variables a state predicate `fn(program, view)` reads, from its own Z3 term."""
        from specmc.model.symbolic import predicate_term

        term = predicate_term(self.program, predicate, self.xs)
        return reads(term, self.index, self._seen)

    def cone(self, seeds: Iterable[int]) -> frozenset[int]:
        """`seeds`, every guard's variables, and everything their next values read, closed; and
        always `cut`, the bound a run ended at: every result reports it (`bounds_hit`), so it must
        be in what the search sees and what a certificate's invariant states. (Every guard reads
        it anyway; forcing it keeps a damaged dependency file from dropping it, which turned
        "PROVED within bounds (frames hit)" into "PROVED": found by an independent review.)"""
        base, size = self.program.layout.where("cut")
        out = set(self.guards) | set(seeds) | set(range(base, base + size))
        todo = list(out)
        while todo:
            for j in self.deps.get(todo.pop(), ()):
                if j not in out:
                    out.add(j)
                    todo.append(j)
        return frozenset(out)


def sliced(program: Program, keep: frozenset[int]) -> Program:
    """The program with every variable outside `keep` frozen at its initial value (the explorer
    and the compiled commands skip their writes: model/explore.py, model/native.py)."""
    dropped = tuple(i for i in range(program.layout.size) if i not in keep)
    return replace(program, dropped=dropped) if dropped else program


def lift(program: Program, path: Path) -> Path:
    """A path of a slice of `program`, run again command by command in `program` itself by the
    reference interpreter: the same commands must be enabled, and reach states that agree with
    the slice's on every kept variable."""
    return _lift(program, [s for _, s in path], [c for c, _ in path])


def lift_states(program: Program, states: list[tuple[int, ...]]) -> Path:
    """As `lift`, for a path given as states only (a symbolic engine's): at each step some command
    of the whole model must lead to a state that agrees with the next one on every kept variable."""
    return _lift(program, states, None)


def _lift(program: Program, states: list[tuple[int, ...]], commands: list[Command | None] | None) -> Path:
    from specmc.model.explore import CONCRETE, successors

    full = replace(program, dropped=())
    kept = [i for i in range(program.layout.size) if i not in set(program.dropped)]
    state = full.init
    if any(state[i] != states[0][i] for i in kept):
        raise LiftError("the path does not start in the initial state")
    out: Path = [(None, state)]
    for n, want in enumerate(states[1:], start=1):
        if commands is None:
            step = next(((cmd, nxt) for cmd, nxt in successors(full, state)
                         if all(nxt[i] == want[i] for i in kept)), None)
            if step is None:
                raise LiftError(f"no command of the whole model leads to step {n}")
            cmd, state = step
        else:
            cmd = commands[n]
            assert cmd is not None
            view = View(CONCRETE, full.layout, state)
            try:
                cmd.fire(view)
            except Disabled:
                raise LiftError(f"step {n} ({cmd.name}) is not enabled in the whole model") from None
            state = view.successor()
            if any(state[i] != want[i] for i in kept):
                raise LiftError(f"step {n} ({cmd.name}) reaches a different state in the whole model")
        out.append((cmd, state))
    return out


def groups(deps: Dependencies, seeds: dict[str, frozenset[int]], slack: int = 3) -> list[
        tuple[frozenset[int], tuple[str, ...]]]:
    """Questions (key -> the variables it reads) grouped by cone, for one search per group: the
    cones in increasing size, each joining the first group it widens by at most `slack`
    variables beyond the larger of the two (sticky flags such as `err_uaf` cost a search almost
    nothing; an observer such as the registrations multiplies it), else starting a group."""
    out: list[tuple[frozenset[int], list[str]]] = []
    for key, cone in sorted(((k, deps.cone(s)) for k, s in seeds.items()), key=lambda kc: len(kc[1])):
        for n, (have, keys) in enumerate(out):
            union = have | cone
            if len(union) - max(len(have), len(cone)) <= slack:
                out[n] = (union, keys + [key])
                break
        else:
            out.append((cone, [key]))
    return [(cone, tuple(keys)) for cone, keys in out]
