"""The two readings of a user's predicate, compared on states the model reaches.

A predicate is evaluated twice: concretely on a state's values (the explorer, the interpreter's
replay) and symbolically, once, into the Z3 term every solver and the C search check
(model/symbolic.py). The two agree by construction only if the predicate decides nothing in
Python about a state value: `if`, `==`, a set lookup and the signed operators are refused while
the term is built, but an identity, type or text test (`x is y`, `isinstance(x, int)`,
`type(x)`, `id(x)`, `str(x)`) reads the value in one and the expression in the other, and no hook
sees it. `sp is qlen` is true concretely whenever the two bytes are equal and false symbolically:
the term was a constant, "valid", and every engine said PROVED where the interpreter saw the
property fail (review 8). So a user's predicate is also read both ways on states of short random
runs from the initial state, and a state where the readings differ is E079 at its line.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import z3
from specmc.model.domain import ByteView, Disabled, View
from specmc.model.program import Program
from specmc.spec import diagnostics as diag
from specmc.spec.diagnostics import SpecError
from specmc.spec.source import Loc

# random runs from the initial state: many short ones, and a few long ones for what lies deeper
# (review 8 found a difference 53 transitions deep that short runs never reached)
RUNS = ((24, 30), (6, 200))  # (runs, transitions each)
SEARCHED = 20_000  # states of the explicit engine's search compared as well (check_states)
_CHECKED: dict[tuple[int, int], tuple[Any, Any]] = {}  # (id(fn), id(program)) -> (fn, program)


def sample(program: Program, seed: int = 0) -> list[tuple[tuple[int, ...], int]]:
    """Distinct states of the RUNS random runs, with their depth: each step fires the enabled
    commands in a random order and takes the first whose guard holds."""
    from specmc.model.explore import CONCRETE, enabled

    rng = random.Random(seed)
    seen: dict[tuple[int, ...], int] = {program.init: 0}
    for length in (length for count, length in RUNS for _ in range(count)):
        state = program.init
        for depth in range(1, length + 1):
            cmds = list(enabled(program, state))
            rng.shuffle(cmds)
            nxt = None
            for cmd in cmds:
                view = View(CONCRETE, program.layout, state)
                try:
                    cmd.fire(view)
                except Disabled:
                    continue
                nxt = view.successor()
                break
            if nxt is None:
                break
            if program.dropped:
                nxt = tuple(program.init[i] if i in program.dropped else v for i, v in enumerate(nxt))
            state = nxt
            seen.setdefault(state, depth)
    return list(seen.items())


def check(program: Program, fn: Callable[[Program, Any], Any], term: z3.BoolRef | bool, xs: Any) -> None:
    """Raise E079 at the predicate's line when its concrete reading and `term` (its reading over
    the state variables `xs`) differ on a sampled state. Only a user's predicate (one a properties
    file registered: it carries `specmc_origin`) is checked, once per model."""
    origin = getattr(fn, "specmc_origin", None)
    key = (id(fn), id(program))
    if origin is None or key in _CHECKED:
        return
    from specmc.model.slice import reads

    index = {x.get_id(): i for i, x in enumerate(xs)}
    used = sorted(reads(term, index)) if not isinstance(term, bool) else []
    for state, depth in sample(program):
        concrete = bool(fn(program, ByteView(program.layout, state)))
        if isinstance(term, bool):
            symbolic = term
        else:
            value = z3.simplify(z3.substitute(term, *[(xs[i], z3.BitVecVal(state[i], 8)) for i in used]))
            symbolic = z3.is_true(value)
        if concrete != symbolic:
            raise _differ(origin, concrete, symbolic, f"{depth} transition(s) from the initial one")
    if len(_CHECKED) >= 64:
        _CHECKED.pop(next(iter(_CHECKED)))
    _CHECKED[key] = (fn, program)


def _differ(origin: tuple[str, int, str], concrete: bool, symbolic: bool, where: str) -> SpecError:
    path, line, name = origin
    return SpecError([diag.make("E079", Loc(path, line, 1), name=name, reason=(
        f"it reads {concrete} on a state's values and {symbolic} as the solvers' term, in a state "
        f"{where}: a Python test of a state value's identity, type or text (`is`, isinstance, type, "
        "id, str) reads the value in one and an expression in the other; compare values with the "
        "domain (S.d.eq, ...)"))])


def check_states(program: Program, fn: Callable[[Program, Any], Any], term: z3.BoolRef | bool, xs: Any,
                 states: Any) -> None:
    """`check` again on states a search reached (the explicit engine's, every SEARCHED-th part of
    them spread evenly), which go deeper than random runs: the difference review 8 found 53
    transitions down was in the explicit engine's states, and it answered VIOLATED where every
    other engine PROVED. The term is printed as a Python function (model/native.py's printer) so
    that thousands of states cost milliseconds."""
    origin = getattr(fn, "specmc_origin", None)
    n = len(states)
    if origin is None or not n:
        return
    import numpy as np
    from specmc.model.native import Printer, state_names
    from specmc.model.terms import Nodes, Untranslatable

    if isinstance(term, bool):
        read = (lambda s, v=term: v)  # noqa: E731
    else:
        try:
            p = Printer(Nodes(), state_names(xs))
            value = p.value(term)
        except Untranslatable:
            return  # (an operation the printer lacks: the random runs were the check)
        env: dict[str, Any] = {}
        exec("\n".join(["def read(s):", *p.lines, f"    return bool({value})"]), env)  # noqa: S102
        read = env["read"]
    for i in np.unique(np.linspace(0, n - 1, min(n, SEARCHED)).astype(np.int64)):
        state = tuple(int(v) for v in states[i])
        concrete = bool(fn(program, ByteView(program.layout, state)))
        symbolic = bool(read(state))
        if concrete != symbolic:
            raise _differ(origin, concrete, symbolic, "the explicit engine reached")
