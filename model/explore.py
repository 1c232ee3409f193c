"""The reference interpreter and the explicit-state explorer (breadth first).

Successors come from running every command's `fire` in the concrete domain, so
the explorer executes exactly the transitions Z3 reasons about. Breadth-first
order makes the first violation found a shortest one.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from specmc.model.domain import Concrete, Disabled, View
from specmc.model.native import Compiled
from specmc.model.program import Command, Program
from specmc.model.symmetry import Symmetry

CONCRETE = Concrete()
COMPILE_AFTER = 64  # a command runs through `fire` until the explorer has asked for it this often
Predicate = Callable[[View], Any]  # a state property: View -> bool (True = holds)


def enabled(program: Program, state: tuple[int, ...]) -> Iterable[Command]:
    lay = program.layout
    sp = state[lay.where("sp")[0]]
    if sp > 0:
        d = sp - 1
        alg = state[lay.where("frame_alg")[0] + d]
        pc = state[lay.where("frame_pc")[0] + d]
        phase = state[lay.where("frame_phase")[0] + d]
        yield from program.by_site.get((d, alg, pc, phase), ())
    yield from program.unsited


def successors(program: Program, state: tuple[int, ...],
               native: Compiled | None = None) -> list[tuple[Command, tuple[int, ...]]]:
    """Every enabled command and the state it leads to. With `native` (model/native.py), commands
    run as functions compiled from their Z3 terms; without, through `fire` (the reference)."""
    out = []
    for cmd in enabled(program, state):
        f = native.get(id(cmd)) if native is not None else None
        if f is not None:
            nxt = f(state)
            if nxt is not None:
                out.append((cmd, nxt))
            continue
        view = View(CONCRETE, program.layout, state)
        try:
            cmd.fire(view)
        except Disabled:
            continue
        nxt = view.successor()
        if program.dropped:  # a slice: what lies outside the cone stays as it was (model/slice.py)
            nxt = _frozen(program, nxt)
        out.append((cmd, nxt))
    return out


def _frozen(program: Program, state: tuple[int, ...]) -> tuple[int, ...]:
    s = list(state)
    for i in program.dropped:
        s[i] = program.init[i]
    return tuple(s)


@dataclass(frozen=True)
class Exploration:
    states: int
    transitions: int
    complete: bool  # False if the step bound cut some run
    violations: dict[str, list[tuple[Command | None, tuple[int, ...]]]]  # property -> shortest trace
    # every state visited -> (its BFS parent, the command taken), in discovery order; when asked for
    # (with `symmetry`: the representatives, model/symmetry.py; the traces in `violations` are concrete)
    parents: dict[tuple[int, ...], tuple[tuple[int, ...] | None, Command | None]] | None = None
    symmetry: Symmetry | None = None  # the reduction the search ran under, if any

    @property
    def reached(self) -> Iterable[tuple[int, ...]]:
        return self.parents.keys() if self.parents is not None else ()

    def path_to(self, state: tuple[int, ...]) -> list[tuple[Command | None, tuple[int, ...]]]:
        assert self.parents is not None
        return _trace(self.parents, state)

    def last_depth(self) -> int:
        """How many transitions the breadth-first path to the last state found takes."""
        assert self.parents is not None
        return len(_trace(self.parents, next(reversed(self.parents)))) - 1


def explore(program: Program, properties: dict[str, Predicate], max_depth: int,
            max_states: int = 2_000_000, keep: bool = False, native: bool = True,
            stop_at: frozenset[str] = frozenset(),
            progress: Callable[[int, int, float], None] | None = None,
            symmetry: Symmetry | None = None) -> Exploration:
    """Breadth first until every property is violated or nothing is left (with no properties:
    the whole reachable space), or as soon as one of the properties named in `stop_at` is.
    `keep` returns the parent map, i.e. every state visited. `native=False` fires every command
    through the reference interpreter (slower, same result). `progress(states, depth, seconds)`
    is called about once a second.

    With `symmetry`, each successor is replaced by its class's representative before it is
    looked up (model/symmetry.py): `states` counts classes, every property must give one value
    on a whole class (the caller's to ensure), and each violation's trace is made concrete again
    (`concrete`), a path of the model itself that the reference interpreter replays as it is."""
    fast = Compiled(program, after=COMPILE_AFTER) if native else None
    init = program.init
    parent: dict[tuple[int, ...], tuple[tuple[int, ...] | None, Command | None]] = {init: (None, None)}
    frontier = deque([(init, 0)])
    transitions = 0
    complete = True
    violations: dict[str, list] = {}
    pending = dict(properties)
    canonical = symmetry.canonical if symmetry is not None else None

    def check(state: tuple[int, ...]) -> None:
        view = View(CONCRETE, program.layout, state)
        for pid, pred in list(pending.items()):
            if not pred(view):
                path = _trace(parent, state)
                violations[pid] = path if symmetry is None else concrete(program, path, symmetry, fast)
                del pending[pid]

    check(init)
    started = last = time.monotonic()
    popped = 0
    while frontier and (pending or not properties) and not stop_at & violations.keys():
        state, depth = frontier.popleft()
        popped += 1
        if progress is not None and not popped & 0x3FF and time.monotonic() - last >= 1.0:
            last = time.monotonic()
            progress(len(parent), depth, last - started)
        if depth >= max_depth:
            complete = False
            continue
        for cmd, nxt in successors(program, state, fast):
            transitions += 1
            if canonical is not None:
                nxt = canonical(nxt)
            if nxt in parent:
                continue
            parent[nxt] = (state, cmd)
            check(nxt)
            if len(parent) >= max_states:
                complete = False
                frontier.clear()
                break
            frontier.append((nxt, depth + 1))
    return Exploration(len(parent), transitions, complete and not frontier, violations,
                       parent if keep else None, symmetry)


def concrete(program: Program, path: list[tuple[Command | None, tuple[int, ...]]], symmetry: Symmetry,
             native: Compiled | None = None) -> list[tuple[Command | None, tuple[int, ...]]]:
    """A path of representatives made a path of the model: from the initial state (its own
    representative), each step takes the first successor, in the explorer's order, whose
    representative is the next one on the path. One exists whenever the reduction is sound
    (a successor of π(s) is π of a successor of s); ValueError says where none does."""
    state = path[0][1]
    out: list[tuple[Command | None, tuple[int, ...]]] = [(None, state)]
    for n, (_cmd, rep) in enumerate(path[1:], start=1):
        for cmd, nxt in successors(program, state, native):
            if symmetry.canonical(nxt) == rep:
                out.append((cmd, nxt))
                state = nxt
                break
        else:
            raise ValueError(f"symmetry reduction: step {n} of a trace has no concrete counterpart")
    return out


def _trace(parent: dict, state: tuple[int, ...]) -> list[tuple[Command | None, tuple[int, ...]]]:
    out = []
    cur: tuple[int, ...] | None = state
    while cur is not None:
        prev, cmd = parent[cur]
        out.append((cmd, cur))
        cur = prev
    return list(reversed(out))
