"""Temporal properties: an obligation that must end on every fair run.

A temporal property says, for each of its obligations c, that c does not *wait* forever: on every
infinite run in which the event loop keeps starting turns, every state where c waits is followed
by one where it does not. `eventually-delivered` is the shipped one; its obligations are the
registrations user code made (the observer slots `reg_*` of model/layout.py), and registration c
waits while it is live (neither delivered nor unregistered, its registry not reclaimed: the model
forgets the registrations of a reclaimed or freed registry) and the collector has taken its target.

Fairness: the event loop starts a new turn infinitely often: it runs the next queued job or, with
the queue empty, a later task of the script (`FAIR`). That is the whole assumption. It implies
that every turn of user code ends and that every queued job runs (the queue is FIFO, and a task
of the script starts only when the queue is empty). Nothing else is assumed: the mutator need not
drop, unregister, allocate or collect anything, and the collector need not run (the obligation
starts only once it has taken the target). A loop with no turn start (user code that never
returns) is no counterexample.

How it is checked (proofs/engines/lasso.py): the model is *monitored*: one counter per obligation
(`wait_turns`, appended to the state) counts the turns started while that obligation waits,
saturating at CAP. Waiting is monotone (an obligation waits at most once, in one stretch: a
registration slot is used once, a collected target stays collected), so a fair lasso on which c
waits throughout exists exactly when the counter can grow without bound; a search of the
monitored model for `wait_turns[c] < CAP` either proves it (k-liveness: at most K turns while an
obligation waits, with the reachable set as certificate) or finds a path to CAP, from which a
loop of the model itself is cut out and replayed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from specmc.model.domain import ByteView
from specmc.model.layout import Layout
from specmc.model.program import Command, Program
from specmc.model.symbolic import predicate_reading

# the event loop's turn starts (model/env.py `_event_loop`); tests/proofs/test_liveness.py checks
# that every model has both
FAIR = ("event loop: run the next job", "event loop: the script runs again (a later task)")
COUNTER = "wait_turns"
CAP = 8  # a counter stops here; a search that reaches it looks for a loop on the path


@dataclass(frozen=True)
class Temporal:
    """waiting(program, view, c): obligation c waits in this state (a domain boolean);
    obligations(program): how many there are; applies(host): "" when the host makes the promise
    the property is about, else why the property says nothing about it. `obligation` names one
    (reports say "registration 0 waits"), `waiting_meaning` says what waiting is; reports,
    proofs and lassos are worded from these two, so a properties file's temporal property is
    not described as a registration awaiting delivery."""

    waiting: Callable[[Program, Any, int], Any]
    obligations: Callable[[Program], int]
    applies: Callable[[Any], str]
    waiting_meaning: str
    obligation: str = "obligation"


def is_fair(cmd: Command | None) -> bool:
    return cmd is not None and cmd.name in FAIR


def registrations(prog: Program) -> int:
    return prog.layout.bounds.cells


def delivery_waits(prog: Program, S: Any, c: int) -> Any:
    """Registration c is live and its target was taken by the collector."""
    D = S.d
    lay = prog.layout
    target = S.get("reg_target", c)
    gone = D.or_(*[D.and_(D.eq(target, lay.obj(i)), D.eq(S.get("gone", i), 1))
                   for i in range(lay.bounds.objects)])
    return D.and_(D.eq(S.get("reg_live", c), 1), gone)


def delivery_applies(host: Any) -> str:
    if host.delivery == "promised":
        return ""
    return (f"not applicable: host {host.name} does not promise delivery (delivery: {host.delivery}); "
            "sec-weakref-execution makes the cleanup job optional (\"Optionally, perform "
            "HostEnqueueFinalizationRegistryCleanupJob\") and CleanupFinalizationRegistry's loop is one "
            "\"an implementation may perform\"")


def any_waits(prog: Program, S: Any, temporal: Temporal) -> Any:
    return S.d.or_(*[temporal.waiting(prog, S, c) for c in range(temporal.obligations(prog))])


def waiting_each(program: Program, temporal: Temporal, S: Any, n: int) -> list[Any]:
    """Whether each of the n obligations waits in S's state, with `waiting` reading the state as
    every predicate does (model/domain.py ByteView; symbolically, model/symbolic.py
    predicate_reading), so that its concrete and its symbolic reading agree."""
    if S.d.symbolic:
        with predicate_reading():
            return [temporal.waiting(program, S, c) for c in range(n)]
    P = ByteView(S.layout, S.values)
    return [temporal.waiting(program, P, c) for c in range(n)]


def monitored(program: Program, temporal: Temporal) -> Program:
    """The program with one counter per obligation appended to the state: each turn start adds one
    to the counter of every obligation that waits in the state it starts from (saturating at CAP).
    Only the two turn-start commands change; every other command leaves the counters alone."""
    n = temporal.obligations(program)
    lay = program.layout
    base = lay.size
    layout = Layout(lay.bounds, lay.locals_per_frame, (*lay.names, (COUNTER, base, n)),
                    {**lay.index, COUNTER: (base, n)})

    def counted(cmd: Command) -> Command:
        def fire(S: Any, inner: Callable[[Any], None] = cmd.fire) -> None:
            D = S.d
            waits = waiting_each(program, temporal, S, n)  # in the state it starts from
            inner(S)
            for c in range(n):
                k = S.get(COUNTER, c)
                S.set(COUNTER, D.add(k, 1), c, when=D.and_(waits[c], D.lt(k, CAP)))

        return replace(cmd, fire=fire)

    commands = tuple(counted(c) if is_fair(c) else c for c in program.commands)
    swap = {id(old): new for old, new in zip(program.commands, commands, strict=True)}
    by_site = {k: tuple(swap[id(c)] for c in v) for k, v in program.by_site.items()}
    unsited = tuple(swap[id(c)] for c in program.unsited)
    return replace(program, layout=layout, init=program.init + (0,) * n, commands=commands,
                   by_site=by_site, unsited=unsited)


def below_cap(prog: Program, S: Any) -> Any:
    """The monitored model's safety property: no counter reached CAP."""
    D = S.d
    base, n = prog.layout.where(COUNTER)
    return D.and_(*[D.lt(S.get(COUNTER, c), CAP) for c in range(n)])


def most_turns(prog: Program, states: Any) -> int:
    """The largest counter in a set of monitored states (a numpy array, one row each)."""
    base, n = prog.layout.where(COUNTER)
    return int(states[:, base:base + n].max()) if n and len(states) else 0
