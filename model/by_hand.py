"""The clauses of ECMA-262 whose meaning is built into the model instead of compiled from their text.

A change to such a clause cannot change the model, so no verdict can show it: review reports it
as "hand-modelled clause changed" (proofs/review/review.py). This is the one list of them, each with
what the model hard-codes and where. Two kinds:

- the environment's (model/env.py): prose the grammar does not read, turned into the event loop,
  the collector and the hook's scheduling. The steps of these clauses, where they have any, are
  compiled from the text as usual; only their prose is built in (`prose_only`).
- the general operations of `BY_HAND` (Call, SameValue, ...): a whole spec.html defines them
  for the whole language, the model gives them its own meaning (`builtin` below, the one place
  that meaning is written), and none of their text is read.

Keep this list in step with model/env.py: a new piece of prose the environment implements needs
an entry here, or a change to it would pass review silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from specmc.model.errors import model_error
from specmc.model.heap import has_slot, kind_is, new_object
from specmc.model.layout import (
    FALSE,
    FUNCTION,
    PLAIN,
    REGISTRY,
    THROW,
    TRUE,
    UNUSED,
    USERFN,
    WEAKMAP,
    WEAKREF,
    WEAKSET,
)
from specmc.spec import ir

if TYPE_CHECKING:
    from specmc.model.bounds import Bounds
    from specmc.model.compile import ModelCompiler
    from specmc.model.expressions import Ctx

FRAME_CALL_USER = "Call"  # the one hand-modelled call that pushes a frame (user code)


@dataclass(frozen=True)
class HandModel:
    """An operation the model gives a meaning by hand rather than compiling the text's steps.

    The clause set calls these but ECMA-262 defines them for the whole language (any object, any
    function, any completion); their general steps reach Proxies, realms, getters and Number
    semantics the model has no state for. The model's meaning is the one docs/model.md "Modelled by hand"
    states, so a whole spec.html and the clause-set excerpt compile to the same transitions.
    """

    clause: str  # where ECMA-262 defines the operation
    total: bool  # cannot complete abruptly in the model (so `!` on it never fires)
    meaning: str  # what the model does instead, for reports


BY_HAND: dict[str, HandModel] = {
    "OrdinaryCreateFromConstructor": HandModel(
        "sec-ordinarycreatefromconstructor", False,
        "allocate the lowest free object slot, of the kind its prototype string names"),
    "IsCallable": HandModel("sec-iscallable", True,
                            "true only for the user function and function objects user code made"),
    "SameValue": HandModel("sec-samevalue", True, "identity on the model's values"),
    "RequireInternalSlot": HandModel(
        "sec-requireinternalslot", False, "TypeError unless the object's kind has the slot"),
    FRAME_CALL_USER: HandModel("sec-call", False, "push a user-code frame that holds its argument"),
    "Completion": HandModel("sec-completion-ao", True, "the value itself"),
    "NormalCompletion": HandModel("sec-normalcompletion", True, "the value itself"),
}


def builtin(name: str, e: ir.Call, args: tuple[Any, ...], c: Ctx, when: Any, s: ir.Step,
             mc: ModelCompiler) -> Any:
    """Operations the clause set calls but defines elsewhere in ECMA-262: the entries of
    BY_HAND (Call among them is a frame push, in `_push_call`). A whole spec.html defines them
    too; model.build leaves those definitions out, so these meanings are the ones that run."""
    D = c.D
    if name == "OrdinaryCreateFromConstructor":
        # sec-ordinarycreatefromconstructor: a new object with the listed internal slots;
        # the prototype string decides which kind of object it is.
        proto = e.args[1] if len(e.args) > 1 else None
        text = proto.value if isinstance(proto, ir.Literal) else ""
        bounds = mc.layout.bounds
        kind = WEAKREF if "WeakRef" in text else REGISTRY if "FinalizationRegistry" in text \
            else WEAKMAP if "%WeakMap.prototype%" in text and bounds.weakmaps \
            else WEAKSET if "%WeakSet.prototype%" in text and bounds.weaksets else PLAIN
        return new_object(c.S, mc.layout, kind, when)
    if name == "IsCallable":
        # sec-iscallable: "1. If argument is not an Object, return false. 2. If argument has a
        # [[Call]] internal method, return true. 3. Return false." The user function has [[Call]];
        # of the heap's objects only function objects do (bound `slots`, tracing hosts): every
        # other kind is an ordinary object or a built-in instance without [[Call]]
        callable_ = [D.eq(args[0], USERFN)]
        if mc.functions:
            callable_.append(kind_is(c, args[0], FUNCTION))
        return D.ite(D.or_(*callable_), D.num(TRUE), D.num(FALSE))
    if name == "SameValue":  # sec-samevalue: on this model's values, identity
        return D.ite(D.eq(args[0], args[1]), D.num(TRUE), D.num(FALSE))
    if name == "RequireInternalSlot":  # sec-requireinternalslot
        slot = e.args[1] if len(e.args) > 1 else None
        has = has_slot(c, args[0], slot.name) if isinstance(slot, ir.SlotName) else D.false()
        return D.ite(has, D.num(UNUSED), D.num(THROW))
    if name in ("Completion", "NormalCompletion"):
        return args[0] if args else D.num(UNUSED)
    raise model_error(s, f"{name} is neither compiled from the text nor modelled by hand")




@dataclass(frozen=True)
class HandClause:
    clause: str  # the clause id in ECMA-262
    what: str  # what of the clause the model builds in
    reason: str  # why it is built in rather than compiled, and where
    prose_only: bool  # True: the clause's algorithm steps are compiled; only the rest is built in
    aliases: tuple[str, ...] = ()  # earlier ids of the same clause (ecmarkup keeps them in oldids)
    # the bound (a field of model.bounds.Bounds) that must be >= 1 for the model to build the
    # clause in; "" always. At 0 the model has none of what the clause is about, and an edit to
    # it changes nothing a verdict could show
    needs: str = ""
    # the clause's notes are part of what the model builds in (notes are informative elsewhere:
    # sec-weakmap-objects' note is the ephemeron rule model/liveness.py follows)
    notes: bool = False


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
               "liveness is prose (and undecidable); model/liveness.py's live_all approximates it by "
               "reachability from the roots it lists", True),
    HandClause("sec-weakref-execution", "when the collector runs, and atomically",
               "\"at any time, if S is not live ... atomically\" is prose; model/env.py runs "
               "Execution between steps of user code for every set of unreachable objects", True),
    HandClause("sec-clear-kept-objects", "ClearKeptObjects' timing",
               "\"called when a synchronous sequence of ECMAScript executions completes\" is "
               "prose; model/env.py's event loop calls it after the script and after each job", True),
    HandClause("table-agent-record", "what [[KeptAlive]] holds",
               "the Agent Record's [[KeptAlive]] field (a List of objects kept alive until the "
               "next ClearKeptObjects) is described in a table; model/layout.py's `kept` flags and "
               "model/liveness.py's liveness build it in", False),
    HandClause("sec-hostmakejobcallback", "what a host's HostMakeJobCallback must do",
               "the requirements on hosts (a JobCallback Record whose [[Callback]] is the callback; "
               "hosts other than browsers use the default) are prose; the model compiles the "
               "default implementation's steps and runs them for every host", True),
    HandClause("sec-hostcalljobcallback", "what a host's HostCallJobCallback must do",
               "the requirements on hosts (perform and return the result of Call on the record's "
               "[[Callback]]) are prose; the model compiles the default implementation's steps and "
               "runs them for every host", True),
    HandClause("sec-weakmap-objects", "how a WeakMap holds its keys and values",
               "the clause's prose and note are not steps: model/liveness.py `_with_ephemerons` keeps "
               "an entry's value alive only while its map and its key are (the ephemeron of the "
               "note's references), and the mutator observes a key only by presenting it "
               "(get/set/has/delete; no means to enumerate keys: model/mutator.py)", True,
               needs="weakmaps", notes=True),
    HandClause("sec-weakset-objects", "how a WeakSet holds its values",
               "the clause's prose is not steps: model/liveness.py's reachability takes no edge "
               "from a WeakSet to its values (a value only a set holds is not live, and is removed "
               "from the set as the prose says), and the mutator asks about a value only by presenting it "
               "(add/has/delete; no means to enumerate: model/mutator.py)", True,
               needs="weaksets", notes=True),
    HandClause("sec-shorthands-for-unwrapping-completion-records", "what `?` and `!` mean",
               "the notation is defined by prose and example algorithms; model/expressions.py "
               "builds `?` in as returning an abrupt completion and `!` as an assertion that there "
               "is none", False, ("sec-returnifabrupt-shorthands",)),
    HandClause("sec-implicit-normal-completion", "implicit normal completions",
               "the prose says a returned value is wrapped in NormalCompletion; model/normal.py "
               "and model/by_hand.py take `NormalCompletion(x)` and `Completion(x)` as x", False,
               ("sec-implicit-completion-values",)),
)


def hand_modelled(operations: dict[str, str] | None = None,
                  bounds: Bounds | None = None) -> tuple[HandClause, ...]:
    """Every hand-modelled clause: the environment's, then one per operation of BY_HAND.
    `operations` (name -> clause id, from `Selection.substituted`) narrows the operations to
    those a model actually substituted, at the clause the text defines them in; `bounds` (the
    widest a review runs at) leaves out the clauses about what those bounds have none of (the
    WeakMap clause at weakmaps=0)."""
    ops = operations if operations is not None else {n: h.clause for n, h in BY_HAND.items()}
    env = tuple(h for h in ENVIRONMENT if bounds is None or not h.needs or getattr(bounds, h.needs) >= 1)
    return env + tuple(
        HandClause(clause, name, f"a general operation of the language; by hand: {BY_HAND[name].meaning} "
                   "(model/by_hand.py)", False, (BY_HAND[name].clause,) if BY_HAND[name].clause != clause
                   else ())
        for name, clause in sorted(ops.items()) if name in BY_HAND)
