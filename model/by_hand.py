"""The clauses of ECMA-262 whose meaning is built into the model instead of compiled from their text.

A change to such a clause cannot change the model, so no verdict can show it: review reports it
as "hand-modelled clause changed" (proofs/review.py). This is the one list of them, each with
what the model hard-codes and where. Two kinds:

- the environment's (model/env.py): prose the grammar does not read, turned into the event loop,
  the collector and the hook's scheduling. The steps of these clauses, where they have any, are
  compiled from the text as usual; only their prose is built in (`prose_only`).
- the general operations of `model.compile.BY_HAND` (Call, SameValue, ...): a whole spec.html
  defines them for the whole language, the model gives them its own meaning, and none of their
  text is read.

Keep this list in step with model/env.py: a new piece of prose the environment implements needs
an entry here, or a change to it would pass review silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from specmc.model.compile import BY_HAND


@dataclass(frozen=True)
class HandClause:
    clause: str  # the clause id in ECMA-262
    what: str  # what of the clause the model builds in
    reason: str  # why it is built in rather than compiled, and where
    prose_only: bool  # True: the clause's algorithm steps are compiled; only the rest is built in
    aliases: tuple[str, ...] = ()  # earlier ids of the same clause (ecmarkup keeps them in oldids)


ENVIRONMENT: tuple[HandClause, ...] = (
    HandClause("sec-host-cleanup-finalization-registry", "the hook's scheduling",
               "\"schedules _cleanupJob_ to be performed at some future time\" is prose; "
               "model/env.py appends the job to the job queue (before 61f79507 the whole hook was "
               "prose, read by the ecma262 profile's host default)", True),
    HandClause("sec-jobs", "the job rules",
               "sec-jobs is prose; model/env.py's event loop runs a job only on an empty stack, "
               "one at a time and to completion", True),
    HandClause("sec-weakref-invariants", "when ClearKeptObjects and cleanup may run",
               "\"neither may interrupt synchronous ECMAScript execution\" is prose; model/env.py "
               "runs both only on an empty stack", True),
    HandClause("sec-liveness", "which objects are live",
               "liveness is prose (and undecidable); model/env.py's live_all approximates it by "
               "reachability from the roots it lists", True),
    HandClause("sec-weakref-execution", "when the collector runs, and atomically",
               "\"at any time, if S is not live ... atomically\" is prose; model/env.py runs "
               "Execution between steps of user code for every set of unreachable objects", True),
    HandClause("sec-clear-kept-objects", "ClearKeptObjects' timing",
               "\"called when a synchronous sequence of ECMAScript executions completes\" is "
               "prose; model/env.py's event loop calls it after the script and after each job", True),
)


def hand_modelled(operations: dict[str, str] | None = None) -> tuple[HandClause, ...]:
    """Every hand-modelled clause: the environment's, then one per operation of BY_HAND.
    `operations` (name -> clause id, from `Selection.substituted`) narrows the operations to
    those a model actually substituted, at the clause the text defines them in."""
    ops = operations if operations is not None else {n: h.clause for n, h in BY_HAND.items()}
    return ENVIRONMENT + tuple(
        HandClause(clause, name, f"a general operation of the language; by hand: {BY_HAND[name].meaning} "
                   "(model/compile.py)", False, (BY_HAND[name].clause,) if BY_HAND[name].clause != clause
                   else ())
        for name, clause in sorted(ops.items()) if name in BY_HAND)
