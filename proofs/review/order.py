"""Which properties HEAD checks first when its model changed: those that read what a changed
algorithm writes or runs, read off HEAD's own model (the others follow in the plan's order)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from specmc.model.hosts import HostProfile
from specmc.proofs.properties import select
from specmc.proofs.review.sides import Side, built
from specmc.spec import ir

# ------------------------------------------------------- which properties HEAD checks first

# The execution context stack's own variables. Every step writes its frame's pc, every call and
# return writes sp, ret and a frame, so "a changed algorithm writes a variable the property
# reads" would put every property first for any change. What a property asks of the stack is
# which algorithms' frames are on it, and that is read off its frame tests instead.
_STACK = frozenset({"sp", "ret", "frame_alg", "frame_pc", "frame_phase", "frame_local"})
USER_CODE = "user code"  # the model's name for the frames of user code (the mutator, callbacks)


def rerun_order(run: Any, host: HostProfile, base: Side, head: Side, changed: tuple[str, ...],
                props: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The properties a change can affect, each with the changed algorithms that put it first.

    When HEAD's model differs from BASE's, HEAD must be checked again, and a review of a pull
    request wants the verdicts the change is most likely to move soonest (an engine that decides
    properties one at a time, k-induction or PDR, takes them in the order given; the explicit
    engine decides a job's properties in one search, so for it the order changes nothing). A
    property goes first when, in HEAD's model, read off the very Z3 terms the engines check:

    - some changed algorithm's steps write a state variable its predicates read (the stack's own
      bookkeeping aside: `_STACK`); or
    - a changed algorithm, or an algorithm that calls one (a change to a callee changes what its
      callers do), is among those it is about: the algorithms whose frames its predicates test for
      and their direct callers (who puts such a frame on the stack), the algorithms defined in the
      clause it comes from, and, when it watches user code's frames, the built-ins user code calls.

    A priority, not a slice: every property is checked all the same, and one that goes second
    can still get worse. A property whose predicates cannot be read this way goes first."""
    from specmc.model.build import ENTRY_POINTS, select_algorithms
    from specmc.model.slice import reads
    from specmc.model.symbolic import command_term, predicate_term, state_vars

    if not changed:
        return {}
    program = built(head, host, run)
    if program is None:
        return {}
    callers: dict[str, set[str]] = {}
    for side in (base, head):
        for caller, callees in _calls(side.spec, host, select_algorithms, run.bounds).items():
            for callee in callees:
                callers.setdefault(callee, set()).add(caller)
    reach = set(changed)  # the changed algorithms and every algorithm that runs one
    todo = list(reach)
    while todo:
        for c in callers.get(todo.pop(), ()):
            if c not in reach:
                reach.add(c)
                todo.append(c)
    xs = state_vars(program)
    index = {x.get_id(): i for i, x in enumerate(xs)}
    stack = {i for name in _STACK if name in program.layout.index
             for b, n in [program.layout.index[name]] for i in range(b, b + n)}
    writes: dict[int, set[str]] = {}  # variable -> the changed algorithms whose steps write it
    for cmd in program.symbolic_commands:
        if cmd.algorithm in changed:
            _guard, new = command_term(program, cmd, xs)
            for i, v in new.items():
                if i not in stack and (isinstance(v, int) or v.get_id() != xs[i].get_id()):
                    writes.setdefault(i, set()).add(cmd.algorithm)
    fb, fn = program.layout.index["frame_alg"]
    frame_ids = {xs[i].get_id(): i for i in range(fb, fb + fn)}
    out: dict[str, tuple[str, ...]] = {}
    for p in select(list(props)):
        try:
            terms = [predicate_term(program, f, xs) for f in (p.holds, p.cover) if f is not None]
        except Exception:  # noqa: BLE001 - a predicate the symbolic domain refuses (E079 in the engines)
            out[p.id] = ("its predicates could not be read",)
            continue
        read = set().union(*(reads(t, index) for t in terms))
        frames = set().union(*(_frame_tests(t, frame_ids, program) for t in terms))
        about = frames | {c for f in frames for c in callers.get(f, ())}
        about |= {a.name for a in program.algorithms if a.clause and a.clause == p.clause}
        if USER_CODE in frames:
            about |= set(ENTRY_POINTS)
        why = (reach & about) | {a for i in read for a in writes.get(i, ())}
        if why:
            out[p.id] = tuple(sorted(why))
    return out


def _calls(spec: ir.Spec, host: HostProfile, select_algorithms: Callable[..., Any],
           bounds: Any = None) -> dict[str, set[str]]:
    """caller -> callees among the algorithms the model takes from `spec` (a hook without steps
    stands for the cleanup job the environment queues: model/build.py)."""
    from specmc.model.build import HOOK
    from specmc.model.layout import CLEANUP_JOB

    sel = select_algorithms(spec, host, *((bounds.weakmaps, bounds.weaksets) if bounds is not None else ()))
    out: dict[str, set[str]] = {}
    for name, (alg, _source) in sel.algorithms.items():
        for step in alg.walk():
            for n in ir.iter_nodes(step.stmt):
                if isinstance(n, ir.Call) and isinstance(n.callee, ir.Name):
                    callee = n.callee.name
                    if callee == HOOK and callee not in sel.algorithms:
                        callee = CLEANUP_JOB
                    out.setdefault(name, set()).add(callee)
    return out


def _frame_tests(term: Any, frame_ids: dict[int, int], program: Any) -> set[str]:
    """The algorithms whose frames a predicate tests for: `frame_alg[d] == code` in its term."""
    import z3

    out: set[str] = set()
    seen: set[int] = set()
    todo = [term]
    while todo:
        t = todo.pop()
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        if z3.is_eq(t) and t.num_args() == 2:
            for a, b in ((t.arg(0), t.arg(1)), (t.arg(1), t.arg(0))):
                if a.get_id() in frame_ids and z3.is_bv_value(b) and b.as_long() < len(program.algorithms):
                    out.add(program.algorithms[b.as_long()].name)
        todo.extend(t.children())
    return out


def order_line(run: str, host: str, changed: tuple[str, ...], order: tuple[str, ...],
                first: dict[str, tuple[str, ...]]) -> str:
    """The log line that says in which order HEAD's properties are checked, and why."""
    lead = [f"{p} ({', '.join(first[p])})" for p in order if p in first]
    rest = [p for p in order if p not in first]
    line = f"[{run}] {host}: HEAD's model changed in {', '.join(changed) or 'its algorithm set'}; "
    if not lead:
        return line + "no property reads what those algorithms write or run: the plan's order"
    return line + "first the properties they can affect: " + "; ".join(lead) + \
        (f"; then {', '.join(rest)}" if rest else "")
