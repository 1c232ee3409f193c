"""Temporal properties (proofs/properties/liveness.py): lassos and k-liveness proofs.

An engine that checks a temporal property searches the *monitored* model (one turn counter per
obligation) for the safety property "no counter reached CAP" with its own search: the explicit
engine breadth first, the bdd engine by symbolic reachability. Then:

- PROVED: the search was complete and no counter reached CAP; its reachable set is written as a
  certificate over the monitored model (its T includes the counters) and re-checked by fresh
  solvers like every other (initiation, consecution, and the safety of `wait_turns < CAP`).
  That is k-liveness: on no run does an obligation wait through K = CAP - 1 turns, so on no fair
  run does it wait forever.
- VIOLATED: the path to a counter at CAP passes through turns that started while the obligation
  waited; a state of the model itself that repeats between two of them closes a loop. The lasso
  (stem + loop) is replayed by the reference interpreter (model/explore.py `successors`, commands
  fired through the interpreter): every step a transition, the loop returning to its first state,
  the obligation waiting in every state of the loop, and a turn start in it; only then is it
  reported. A path without such a repeat is UNKNOWN, never VIOLATED.
- A host that does not make the promise (`applies`) gets PROVED (vacuous) with the reason.

Engines without a temporal search (bmc, kind, pdr) report UNKNOWN for these properties, so that
no engine can PROVE one by reading it as a safety property (`split`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from specmc.model.domain import ByteView
from specmc.model.explore import successors
from specmc.model.program import Command, Program
from specmc.model.trace import build_trace
from specmc.proofs.engines.unrolling import ReplayError
from specmc.proofs.properties import Property
from specmc.proofs.properties.liveness import (
    CAP,
    COUNTER,
    Temporal,
    any_waits,
    below_cap,
    is_fair,
    monitored,
)
from specmc.proofs.run.job import Loaded
from specmc.proofs.verdict import PROVED, UNKNOWN, VIOLATED, Outcome

Path = list[tuple[Command | None, tuple[int, ...]]]


def split(job: Loaded, engine: str, report: Callable[[Outcome], None],
          supported: bool = False) -> tuple[Loaded, tuple[Property, ...]]:
    """The job without its temporal properties, and those properties. An engine that cannot check
    them (`supported` False) reports each UNKNOWN here; one that can gets them back to check."""
    temporal = tuple(p for p in job.properties if p.temporal is not None)
    if not temporal:
        return job, ()
    if not supported:
        for p in temporal:
            report(Outcome(p.id, UNKNOWN, engine, reason=f"{p.id} is temporal: the explicit and bdd engines "
                           "check it (a lasso, or a k-liveness proof)"))
        temporal = ()
    rest = tuple(p for p in job.properties if p.temporal is None)
    return replace(job, properties=rest), temporal


def not_applicable(job: Loaded, p: Property, engine: str) -> Outcome | None:
    """NOT APPLICABLE (a PROVED that is not `applicable`) with the reason, when the host does not
    make the property's promise: nothing is searched, so no cover is claimed either way."""
    from specmc.model.hosts import load_host

    return not_promised(load_host(job.job.host), p, engine)


def not_promised(host: Any, p: Property, engine: str) -> Outcome | None:
    """`not_applicable` from the host profile alone (the portfolio decides it before any engine
    has built the model)."""
    assert p.temporal is not None
    why = p.temporal.applies(host)
    if not why:
        return None
    return Outcome(p.id, PROVED, engine, method=why, reason=why, cover_reached=None, bounds_hit=(),
                   applicable=False)


def monitor_job(job: Loaded, p: Property) -> tuple[Loaded, Property]:
    """The job over the monitored model, with the counters' safety property under p's id (so that
    its certificate is named and headed as p's). Its cover is "some obligation waits"."""
    assert p.temporal is not None
    temporal: Temporal = p.temporal
    program = monitored(job.program, temporal)
    safety = Property(p.id, p.meaning, p.clause, below_cap,
                      cover=lambda prog, S: any_waits(prog, S, temporal), cover_meaning=p.cover_meaning)
    return replace(job, program=program, properties=(safety,)), safety


def proved_method(method: str, turns: int, temporal: Temporal) -> str:
    return (f"k-liveness: at most {turns} turn(s) start while {_article(temporal.obligation)} "
            f"{temporal.obligation} waits ({temporal.waiting_meaning}; counter cap {CAP}); " + method)


def _article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


def waits_meaning(temporal: Temporal, c: int) -> str:
    """What a lasso's loop shows, in the property's own words (reports print it at the loop's end)."""
    return f"{temporal.obligation} {c} waits in every state of the loop: {temporal.waiting_meaning}"


def lasso_outcome(job: Loaded, p: Property, engine: str, monitored_path: list[tuple[int, ...]],
                  depth_note: str = "") -> Outcome:
    """From a path of the monitored model to a counter at CAP: the lasso, replayed; UNKNOWN when
    the path closes no loop of the model."""
    assert p.temporal is not None
    program = job.program
    n = program.layout.size
    top = monitored_path[-1]
    mon_base, count = len(top) - p.temporal.obligations(program), p.temporal.obligations(program)
    c = next(i for i in range(count) if top[mon_base + i] >= CAP)
    states = [s[:n] for s in monitored_path]
    found = _loop(program, p.temporal, c, states)
    if found is None:
        return Outcome(p.id, UNKNOWN, engine, reason=f"{p.temporal.obligation} {c} waited through {CAP} "
                       "turns, but the path found repeats no state between them: no loop to report")
    start, end = found
    path = replay_lasso(program, states[:end + 1], start, p.temporal, c)
    trace = [t.to_json() for t in build_trace(program, path)]
    for k, t in enumerate(trace):
        t["lasso"] = "loop" if k > start else "stem"
    trace[start]["lasso"] = "loop start"
    trace[-1]["lasso_back_to"] = start
    trace[-1]["lasso_waits"] = waits_meaning(p.temporal, c)
    return Outcome(p.id, VIOLATED, engine, len(path) - 1,
                   reason=f"lasso: stem {start} transitions, loop {end - start}, {p.temporal.obligation} "
                   f"{c} waits throughout ({p.temporal.waiting_meaning}){depth_note}",
                   trace=tuple(trace), cover_reached=True)


def _loop(program: Program, temporal: Temporal, c: int, states: list[tuple[int, ...]]
          ) -> tuple[int, int] | None:
    """(i, j): states[i] == states[j], c waits in every state from i to j, and some step between
    them is a turn start; the pair with the smallest j, then the largest i."""
    waits = [bool(temporal.waiting(program, ByteView(program.layout, s), c)) for s in states]
    fair_after = [_fair_step(program, a, b) for a, b in zip(states, states[1:], strict=False)]
    for j in range(1, len(states)):
        if not waits[j]:
            continue
        for i in range(j - 1, -1, -1):
            if not waits[i]:
                break
            if states[i] == states[j] and any(fair_after[i:j]):
                return i, j
    return None


def _fair_step(program: Program, a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return any(is_fair(cmd) and nxt == b for cmd, nxt in successors(program, a))


def replay_lasso(program: Program, states: list[tuple[int, ...]], start: int, temporal: Temporal,
                 c: int) -> Path:
    """The lasso as the reference interpreter's own transitions (every command fired through
    `fire`, no compiled code): it must start in the initial state, take a transition at every step
    (a turn start where one leads there), end where its loop began, and c must wait in every state
    of the loop, with a turn start among the loop's steps. Anything else is a bug in specmc."""
    if states[0] != program.init:
        raise ReplayError("the lasso does not start in the initial state")
    if states[-1] != states[start] or start >= len(states) - 1:
        raise ReplayError("the lasso's loop does not return to its first state")
    path: Path = [(None, states[0])]
    for a, b in zip(states, states[1:], strict=False):
        steps = [cmd for cmd, nxt in successors(program, a) if nxt == b]
        if not steps:
            raise ReplayError(f"no transition of the interpreter leads to state {len(path)} of the lasso")
        path.append((next((s for s in steps if is_fair(s)), steps[0]), b))
    for k in range(start, len(states)):
        if not temporal.waiting(program, ByteView(program.layout, states[k]), c):
            raise ReplayError(f"obligation {c} does not wait in state {k} of the lasso's loop")
    if not any(is_fair(cmd) for cmd, _ in path[start + 1:]):
        raise ReplayError("the lasso's loop starts no turn of the event loop: it is not fair")
    return path


def counters(program: Program, state: tuple[int, ...]) -> tuple[int, ...]:
    base, n = program.layout.where(COUNTER)
    return state[base:base + n]


def relabel(o: Outcome, p: Property, engine: str, turns: int) -> Outcome:
    """A monitored safety outcome as the temporal property's: PROVED gets its k-liveness method."""
    if o.verdict == PROVED:
        assert p.temporal is not None
        return replace(o, property=p.id, method=proved_method(o.method, turns, p.temporal))
    return replace(o, property=p.id)


def waiting_somewhere(program: Program, p: Property, state: Any) -> bool:
    assert p.temporal is not None
    return bool(any_waits(program, ByteView(program.layout, state), p.temporal))
