"""Invariants mined from a smaller heap and pruned to an inductive core (Houdini).

k-induction proves only what is (nearly) inductive on its own, and most catalogue properties
are not: they hold because of facts about the rest of the state that no step case sees. Those
facts are visible in the reachable states, and the heap is parametric in its number of objects,
so they are mined where the whole reachable set is cheap (the same model at `objects=m`, m = 1
or 2, searched to the end by the native explorer) and lifted to the target bound:

1. **Mine.** Every candidate is a clause `x in A -> y in B` (or `y in B` alone) over two state
   variables. A variable is a scalar (the same variable at every bound: stack, queue, cells,
   registrations) or an object's field `f[i]`; a pair binds one object index i (both variables
   scalar, or at object i) or two, i != j. Values that name objects are read relative to the
   binding (object i, object j, some other object), cells and Symbols by their place after the
   objects, so a clause seen at m objects is one clause per binding at the target bound. A
   clause is kept where the small model's reachable states show it (over every binding), and an
   implication only where it says more than the unary clause of its y.
2. **Filter.** The target model's first reachable states (a capped breadth-first search) drop
   every clause one of them breaks: no invariant can exclude a reachable state.
3. **Prune (Houdini).** One incremental solver holds T(x, x') and, behind one assumption literal
   each, the surviving clauses over x, and the property over x. It is asked for a step from a
   state meeting all of them to one breaking any of them (or the property). Each answer drops
   every clause the successor breaks (and those any concrete successor of that state breaks);
   an answer in which only the property breaks means no subset of the clauses makes the property
   inductive (stop: UNKNOWN). Unsatisfiable: the clauses and the property form an inductive
   invariant.
4. **Certify.** That invariant (clauses and property) is written as a certificate and re-checked
   by fresh solvers (initiation, consecution, safety: proofs/certify/) before PROVED is said. A
   refused certificate is UNKNOWN, never PROVED; so is a time limit.

Soundness rests on step 4 alone: the mining and the lifting are heuristics, and a wrong
candidate only costs a round of pruning.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from itertools import permutations
from typing import Any

import numpy as np
import z3
from specmc.model import cexplore
from specmc.model.domain import WIDTH, View
from specmc.model.explore import COMPILE_AFTER, CONCRETE, successors
from specmc.model.layout import OBJ, OBJECT_ARRAYS, REFERENCES, Layout
from specmc.model.native import Compiled
from specmc.model.program import Program
from specmc.model.symbolic import relation
from specmc.proofs.certify import certificate
from specmc.proofs.certify.fileformat import CertificateError
from specmc.proofs.engines import lasso
from specmc.proofs.engines.kind import step_case
from specmc.proofs.engines.solver import SolverUnknown, is_sat, make_solver, remaining
from specmc.proofs.engines.unrolling import prop_term
from specmc.proofs.properties import Property
from specmc.proofs.run.job import Loaded, certificate_dir, each_property, load, state_predicate
from specmc.proofs.verdict import PROVED, UNKNOWN, VIOLATED, Outcome

ENGINE = "houdini"
MINE_AT = (2, 1)  # the small bounds mined, largest first (the first whose search completes is used)
MINE_MAX_STATES = 3_000_000  # a small model whose search is cut is not mined
FILTER_STATES = 3_000_000  # the target model's first reachable states, to drop clauses cheaply

# abstract values of a reference relative to a binding (i, j): object i, object j, another object,
# and a value k places past the objects (cell k, or past the cells a Symbol): _CELL + k
_I, _J, _OTHER, _CELL = 1000, 1001, 1002, 2000


@dataclass(frozen=True)
class Clause:
    """`x in a -> y in b` over state indices of the target model; x None: `y in b` alone."""

    x: int | None
    a: frozenset[int]
    y: int
    b: frozenset[int]

    def holds(self, s: tuple[int, ...] | np.ndarray) -> bool:
        return (self.x is not None and int(s[self.x]) not in self.a) or int(s[self.y]) in self.b

    def term(self, xs: tuple[Any, ...]) -> Any:
        def member(v: Any, values: frozenset[int]) -> Any:
            if not values:
                return z3.BoolVal(False)
            return z3.Or(*[v == z3.BitVecVal(c, WIDTH) for c in sorted(values)])

        head = member(xs[self.y], self.b)
        return head if self.x is None else z3.Or(z3.Not(member(xs[self.x], self.a)), head)


@dataclass(frozen=True)
class Slot:
    """One variable of the model as a schema: a scalar (`name`, element) or an object's field
    (`name`, slot within the object), and whether its values may name objects."""

    name: str
    element: int
    per_object: bool
    reference: bool

    def index(self, layout: Layout, obj: int) -> int:
        base, _size = layout.where(self.name)
        if not self.per_object:
            return base + self.element
        return base + obj * (layout.bounds.slots if self.name == "prop" else 1) + self.element


def slots_of(layout: Layout) -> list[Slot]:
    """Every variable of the layout as a schema, scalars first."""
    out: list[Slot] = []
    for name, _base, size in layout.names:
        ref = name in REFERENCES or name == "frame_local"
        if name in OBJECT_ARRAYS:
            out.append(Slot(name, 0, True, ref))
        elif name == "prop":
            out += [Slot(name, s, True, ref) for s in range(layout.bounds.slots)]
        else:
            out += [Slot(name, e, False, ref) for e in range(size)]
    return sorted(out, key=lambda s: s.per_object)


def abstract(v: int, layout: Layout, i: int, j: int) -> int:
    """A reference value relative to the binding (objects i, j) of a `layout`."""
    n = layout.bounds.objects
    if OBJ <= v < OBJ + n:
        return _I if v - OBJ == i else _J if v - OBJ == j else _OTHER
    if v >= OBJ + n:  # cells, then Symbols (model/layout.py): their encoding moves with the heap
        return _CELL + v - OBJ - n
    return v


def concrete(a: int, layout: Layout, i: int, j: int) -> frozenset[int]:
    """The values an abstract value stands for at `layout`'s bounds, under the binding (i, j)."""
    n = layout.bounds.objects
    if a == _I:
        return frozenset({OBJ + i})
    if a == _J:
        return frozenset({OBJ + j}) if j >= 0 else frozenset()
    if a == _OTHER:
        return frozenset(OBJ + k for k in range(n) if k not in (i, j))
    if a >= _CELL:
        return frozenset({OBJ + n + a - _CELL})
    return frozenset({a})


def _bindings(n: int, two: bool) -> list[tuple[int, int]]:
    return list(permutations(range(n), 2)) if two else [(i, -1) for i in range(n)]


@dataclass(frozen=True)
class Template:
    """Two schemas and the abstract value pairs the small model showed for them (x None: unary)."""

    x: Slot | None
    y: Slot
    two: bool  # x at object i and y at object j != i
    seen: frozenset[tuple[int, int]]


class Pairs:
    """The value pairs two columns of a state matrix show together. Each column is first coded
    densely (a variable takes a handful of values), so that one pair of columns is one bincount
    over small codes: on the 175,798 states of ecma262 at 2 objects, 16,000 column pairs in
    seconds rather than the minute the raw byte pairs took."""

    def __init__(self, states: np.ndarray) -> None:
        self.values: list[np.ndarray] = []
        self.codes: list[np.ndarray] = []
        for col in np.ascontiguousarray(states.T):
            vals, codes = np.unique(col, return_inverse=True)
            self.values.append(vals.astype(np.int64))
            self.codes.append(codes.reshape(-1).astype(np.int32))
        self._memo: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def __call__(self, cx: int, cy: int) -> list[tuple[int, int]]:
        key = (cx, cy)
        found = self._memo.get(key)
        if found is None:
            ny = len(self.values[cy])
            hits = np.flatnonzero(np.bincount(self.codes[cx] * ny + self.codes[cy],
                                              minlength=len(self.values[cx]) * ny))
            found = self._memo[key] = list(zip(self.values[cx][hits // ny].tolist(),
                                               self.values[cy][hits % ny].tolist(), strict=True))
        return found


def mine(states: np.ndarray, layout: Layout) -> list[Template]:
    """The templates the small model's reachable `states` (rows) show, over every binding."""
    slots = slots_of(layout)
    n = layout.bounds.objects
    raw_pairs = Pairs(states)

    def seen(x: Slot | None, y: Slot, two: bool) -> frozenset[tuple[int, int]]:
        out: set[tuple[int, int]] = set()
        for i, j in _bindings(n, two):
            cy = y.index(layout, j if two else i)
            cx = x.index(layout, i) if x is not None else cy
            for vx, vy in raw_pairs(cx, cy):
                ax = -1 if x is None else abstract(vx, layout, i, j) if x.reference else vx
                ay = abstract(vy, layout, i, j) if y.reference else vy
                out.add((ax, ay))
        return frozenset(out)

    out = [Template(None, y, False, seen(None, y, False)) for y in slots]
    for x in slots:
        for y in slots:
            if x != y:
                out.append(Template(x, y, False, seen(x, y, False)))
            if n >= 2 and x.per_object and y.per_object:
                out.append(Template(x, y, True, seen(x, y, True)))
    return out


def lift(templates: Iterable[Template], layout: Layout) -> list[Clause]:
    """Every template as clauses over the target `layout`, one per binding there (deduplicated);
    an implication is kept only where it restricts y more than y's own values do."""
    n = layout.bounds.objects
    out: dict[Clause, None] = {}
    for t in templates:
        ys = {ay for _ax, ay in t.seen}
        by_x: dict[int, set[int]] = {}
        for ax, ay in t.seen:
            by_x.setdefault(ax, set()).add(ay)
        for i, j in _bindings(n, t.two):
            iy = t.y.index(layout, j if t.two else i)

            def values(abstract_values: Iterable[int], ref: bool, i: int = i, j: int = j) -> frozenset[int]:
                return frozenset().union(*[concrete(a, layout, i, j) if ref else {a}
                                           for a in abstract_values])

            if t.x is None:
                out[Clause(None, frozenset(), iy, values(ys, t.y.reference))] = None
                continue
            ix = t.x.index(layout, i)
            for ax, ay in by_x.items():
                if ay == ys:
                    continue
                a = values([ax], t.x.reference)
                if a:
                    out[Clause(ix, a, iy, values(ay, t.y.reference))] = None
    return list(out)


def _filter(clauses: list[Clause], states: np.ndarray) -> list[Clause]:
    """The clauses every one of `states` meets."""
    pairs = Pairs(states)
    return [c for c in clauses
            if all((c.x is not None and vx not in c.a) or vy in c.b
                   for vx, vy in pairs(c.y if c.x is None else c.x, c.y))]


def _search(loaded: Loaded, max_states: int) -> tuple[np.ndarray, bool]:
    """The model's reachable states breadth first, at most `max_states` (complete or not)."""
    from specmc.proofs.engines.explicit import _model_key

    program = loaded.program
    native = cexplore.Native(program, {}, "-O0", key=_model_key(loaded, program))
    s = native.search(loaded.job.bounds.steps, max_states)
    return np.asarray(s.states), bool(s.complete)


@dataclass(frozen=True)
class Mined:
    clauses: list[Clause]
    source: str  # where they came from, for the method line


def candidates(job: Loaded) -> Mined:
    """Clauses mined from the smallest complete heap below the target's and lifted to it, less
    those the target's first reachable states break."""
    target = job.program.layout
    for m in MINE_AT:
        if m >= job.job.bounds.objects:
            continue
        small = load(replace(job.job, bounds=replace(job.job.bounds, objects=m), properties=()))
        states, complete = _search(small, MINE_MAX_STATES)
        if not complete:
            continue
        clauses = lift(mine(states, small.program.layout), target)
        prefix, _complete = _search(job, FILTER_STATES)
        kept = _filter(clauses, prefix)
        return Mined(kept, f"{len(kept)} of {len(clauses)} clauses mined at objects={m} "
                           f"({len(states):,} states)")
    raise SolverUnknown("no smaller heap to mine invariants from")


class Table:
    """Clauses as arrays, to judge many states at once: clause k holds in state s when
    s[x[k]] is not in A[k] or s[y[k]] is in B[k] (a unary clause: A[k] is every value)."""

    def __init__(self, clauses: list[Clause]) -> None:
        n = len(clauses)
        self.x = np.array([c.y if c.x is None else c.x for c in clauses], dtype=np.int64)
        self.y = np.array([c.y for c in clauses], dtype=np.int64)
        self.a = np.zeros((n, 256), dtype=bool)
        self.b = np.zeros((n, 256), dtype=bool)
        for k, c in enumerate(clauses):
            if c.x is None:
                self.a[k, :] = True
            else:
                self.a[k, sorted(c.a)] = True
            self.b[k, sorted(c.b)] = True

    def broken(self, states: np.ndarray, alive: np.ndarray) -> np.ndarray:
        """The indices among `alive` of the clauses some row of `states` breaks."""
        rows = np.arange(len(alive))[:, None]
        sx, sy = states[:, self.x[alive]].T, states[:, self.y[alive]].T
        ok = ~self.a[alive][rows, sx] | self.b[alive][rows, sy]
        return alive[~ok.all(axis=1)]


@dataclass
class Pruned:
    proved: bool
    clauses: list[Clause]
    rounds: int  # solver queries
    expanded: int  # states whose successors were judged without the solver


CLOSURE = 3_000  # states expanded concretely per solver answer


def prune(program: Program, clauses: list[Clause], holds: Callable, deadline: float | None,
          progress: Callable[[str], None] = lambda _m: None) -> Pruned:
    """Houdini: the greatest subset of `clauses` that, with the property, is inductive; `proved`
    False when no subset makes the property inductive.

    Each solver answer is a state meeting every clause still alive and the property. Its
    successors, and the successors of every successor that again meets all of them (at most
    CLOSURE states, breadth first), are computed by the interpreter: a clause one of them breaks
    is in no inductive set containing the property, and a successor breaking the property means
    there is no such set. Most clauses fall there, at the cost of a step each, not a query."""
    view_pred = state_predicate(program, holds)

    def prop_ok(s: tuple[int, ...]) -> bool:
        return bool(view_pred(View(CONCRETE, program.layout, s)))

    table = Table(clauses)
    init = np.array([program.init], dtype=np.uint8)
    alive = np.setdiff1d(np.arange(len(clauses)), table.broken(init, np.arange(len(clauses))))
    live = set(alive.tolist())
    rel = relation(program, selector=True)
    cur, nxt = rel.current, rel.next
    s = make_solver()
    s.add(rel.trans)
    s.add(prop_term(program, holds, cur))
    flags = {k: z3.Bool(f"c#{k}") for k in live}
    for k in live:
        s.add(z3.Implies(flags[k], clauses[k].term(cur)))
    bad_prop = z3.Not(prop_term(program, holds, nxt))
    rounds = expanded = 0
    fast = Compiled(program, after=COMPILE_AFTER)

    def meets(states: list[tuple[int, ...]]) -> list[bool]:
        arr = np.array(states, dtype=np.uint8)
        idx = np.fromiter(live, dtype=np.int64)
        rows = np.arange(len(idx))[:, None]
        ok = ~table.a[idx][rows, arr[:, table.x[idx]].T] | table.b[idx][rows, arr[:, table.y[idx]].T]
        return ok.all(axis=0).tolist()

    while True:
        rounds += 1
        goal = z3.Bool(f"goal#{rounds}")
        s.add(z3.Implies(goal, z3.Or(bad_prop, *[z3.Not(clauses[k].term(nxt)) for k in sorted(live)])))
        s.set("timeout", remaining(deadline))
        if not is_sat(s, goal, *[flags[k] for k in sorted(live)]):
            return Pruned(True, [clauses[k] for k in sorted(live)], rounds, expanded)
        progress(f"round {rounds}: {len(live)} clauses alive, {expanded} states expanded")
        m = s.model()
        s.add(z3.Not(goal))
        a = tuple(m.eval(x, model_completion=True).as_long() for x in cur)
        b = tuple(m.eval(x, model_completion=True).as_long() for x in nxt)
        before = len(live)
        queue, seen = deque([a]), {a}
        first, budget = True, CLOSURE
        while queue and budget:
            budget -= 1
            t = queue.popleft()
            after = [u for _cmd, u in successors(program, t, fast)] + ([b] if first else [])
            first = False
            expanded += 1
            if not after:
                continue
            if not all(prop_ok(u) for u in after):
                return Pruned(False, [clauses[k] for k in sorted(live)], rounds, expanded)
            gone = table.broken(np.array(after, dtype=np.uint8), np.fromiter(live, dtype=np.int64))
            live.difference_update(gone.tolist())
            fresh = [u for u in after if u not in seen]
            for u, ok in zip(fresh, meets(fresh) if fresh and live else [bool(live)] * len(fresh),
                             strict=True):
                seen.add(u)
                if ok:
                    queue.append(u)
            if time.monotonic() > (deadline or float("inf")):
                raise SolverUnknown("time limit reached")
        if len(live) == before:
            raise SolverUnknown("a step the solver found breaks no candidate and not the property")


def run(job: Loaded, report: Callable[[Outcome], None]) -> None:
    job, _temporal = lasso.split(job, ENGINE, report)  # temporal: UNKNOWN from this engine
    program = job.program
    mined: list[Mined] = []

    def decide(p: Property, deadline: float) -> Outcome:
        started = time.monotonic()
        if not state_predicate(program, p.holds)(View(CONCRETE, program.layout, program.init)):
            return Outcome(p.id, VIOLATED, ENGINE, 0, reason="the initial state breaks the property")
        if step_case(program, relation(program, selector=True), p.holds, 1, deadline):
            # inductive on its own: nothing to mine (the invariant is the property)
            r, source = Pruned(True, [], 0, 0), "none needed"
        else:
            if not mined:
                mined.append(candidates(job))
            found = mined[0]
            r, source = prune(program, found.clauses, p.holds, deadline), found.source
            if not r.proved:
                return Outcome(p.id, UNKNOWN, ENGINE, reason=(
                    f"not inductive with any subset of {source} ({r.rounds} solver answers, "
                    f"{r.expanded} states expanded)"))
        xs = relation(program).current
        inv = z3.And(*[c.term(xs) for c in r.clauses], prop_term(program, p.holds, xs))
        method = (f"mined invariant: {len(r.clauses)} clauses ({source}), inductive with the "
                  f"property after {r.rounds} solver answers ({time.monotonic() - started:.1f} s)")
        subject = job.subject(p)
        path = certificate.write(certificate_dir(job.job), subject, program, inv, method,
                                 holds=p.holds, origin=job)
        left = max(1.0, deadline - time.monotonic())
        try:
            certificate.recheck(path, subject, program, p.holds, timeout_s=left)
        except CertificateError as e:
            return Outcome(p.id, UNKNOWN, ENGINE, reason=f"certificate refused: {e}")
        return Outcome(p.id, PROVED, ENGINE, method=method + "; certificate re-checked", certificate=path)

    each_property(job, ENGINE, decide, report)

