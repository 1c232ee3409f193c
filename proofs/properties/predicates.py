"""The state predicates of the shipped properties: each one's `holds` and its `cover`.

Written with the same `Domain` operations as the semantics (`S.d.eq`, `S.d.or_`, ...) over a view
`S` of one state, so that the explorer and Z3 check the very same definition. The catalogue that
names them, with each property's meaning and clause, is in __init__.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from specmc.model.compile import USER
from specmc.model.layout import (
    CLEANUP_JOB,
    EMPTY,
    EXECUTION,
    FALSE,
    FREED,
    FUNCTION,
    LIVE,
    PHASE_DEREF,
    PHASE_NEWREGISTRY,
    PHASE_NEWWEAKREF,
    PHASE_REGISTER,
    PHASE_UNREGISTER,
    PHASE_WC_DELETE,
    PHASE_WC_HAS,
    PHASE_WM_GET,
    PHASE_WM_SET,
    PHASE_WS_ADD,
    REGISTRY,
    THROW,
    TRUE,
    UNDEF,
    WEAKMAP,
    WEAKREF,
    WEAKSET,
)
from specmc.model.program import Program


def _frames(prog: Program) -> range:
    return range(prog.layout.bounds.frames)


def _is_freed_object(prog: Program, S: Any, v: Any) -> Any:
    """v names an object whose memory has been reclaimed."""
    D = S.d
    lay = prog.layout
    return D.or_(*[D.and_(D.eq(v, lay.obj(t)), D.eq(S.get("obj_status", t), FREED))
                   for t in range(lay.bounds.objects)])


def _is_freed(prog: Program, S: Any, v: Any) -> Any:
    """v names an object or a Symbol whose memory has been reclaimed."""
    D = S.d
    lay = prog.layout
    return D.or_(_is_freed_object(prog, S, v),
                 *[D.and_(D.eq(v, lay.sym(k)), D.eq(S.get("sym_status", k), FREED))
                   for k in range(lay.bounds.symbols)])


# the algorithm names predicates asked for that the model lacks, while `missing_names` collects
_MISSING: list[set[str]] = []


@contextmanager
def missing_names() -> Iterator[set[str]]:
    """Collect the names of algorithms the predicates run meanwhile asked for and the model does
    not have (a text that renamed CleanupFinalizationRegistry: the properties about its frames
    then see none, and their proofs are vacuous for that reason, which reports must say)."""
    found: set[str] = set()
    _MISSING.append(found)
    try:
        yield found
    finally:
        _MISSING.pop()


def _code(prog: Program, name: str) -> int:
    try:
        return prog.code_of(name)
    except KeyError:
        if _MISSING and name:  # ("": a tracing host's free path, which has no frame by design)
            _MISSING[-1].add(name)
        return -1  # the algorithm is not in this model: no frame can have its code


def _active(S: Any, d: int) -> Any:
    return S.d.lt(d, S.get("sp"))


def _frame_is(S: Any, d: int, code: int) -> Any:
    D = S.d
    if code < 0:  # (an algorithm the model lacks: Z3 read -1 as the byte 255, Python as no byte)
        return D.false()
    return D.and_(_active(S, d), D.eq(S.get("frame_alg", d), code))


def cleanup_or_callback_above_free(prog: Program, S: Any) -> Any:
    D = S.d
    if not prog.free_path:
        return D.true()  # no free operation in this host: nothing can be above one
    free = _code(prog, prog.free_path)
    cleanup = _code(prog, "CleanupFinalizationRegistry")
    bad = []
    free_below = D.false()
    for d in _frames(prog):
        above = D.or_(_frame_is(S, d, cleanup), _frame_is(S, d, USER))
        bad.append(D.and_(free_below, above))
        free_below = D.or_(free_below, _frame_is(S, d, free))
    return D.not_(D.or_(*bad))


# covers: the situation each property is about ---------------------------------------------


def _running(prog: Program, S: Any, name: str) -> Any:
    code = _code(prog, name)
    return S.d.or_(*[_frame_is(S, d, code) for d in _frames(prog)])


def cover_free_frame(prog: Program, S: Any) -> Any:
    return _running(prog, S, prog.free_path) if prog.free_path else S.d.false()


def cover_cleanup_frame(prog: Program, S: Any) -> Any:
    return _running(prog, S, "CleanupFinalizationRegistry")


def _any_freed(prog: Program, S: Any) -> Any:
    D = S.d
    return D.or_(*[D.eq(S.get("obj_status", i), FREED) for i in range(prog.layout.bounds.objects)])


def cover_freed(prog: Program, S: Any) -> Any:
    return _any_freed(prog, S)


def cover_freed_with_cells(prog: Program, S: Any) -> Any:
    D = S.d
    cells = D.or_(*[D.eq(S.get("cell_status", c), LIVE) for c in range(prog.layout.bounds.cells)])
    return D.and_(cells, _any_freed(prog, S))


def cover_delivered(prog: Program, S: Any) -> Any:
    D = S.d
    return D.or_(*[D.le(1, S.get("cell_delivered", c)) for c in range(prog.layout.bounds.cells)])


def cover_unregister_returns(prog: Program, S: Any) -> Any:
    code = _code(prog, "FinalizationRegistry.prototype.unregister")
    if code < 0:
        return S.d.false()
    info = prog.alg(code)
    D = S.d
    returns = [pc for pc, step in enumerate(info.pcs)
               if step is not None and step.kind == "return" and "." not in step.number]
    return D.or_(*[D.and_(_frame_is(S, d, code), D.eq(S.get("sp"), d + 1),
                          D.or_(*[D.eq(S.get("frame_pc", d), pc) for pc in returns]))
                   for d in _frames(prog)])


def cover_kept_during_collection(prog: Program, S: Any) -> Any:
    D = S.d
    kept = D.or_(*[D.eq(S.get("kept", i), 1) for i in range(prog.layout.bounds.objects)])
    collecting = _running(prog, S, prog.free_path) if prog.free_path else _running(prog, S, EXECUTION)
    return D.and_(kept, collecting)


def cover_weakref_and_free(prog: Program, S: Any) -> Any:
    D = S.d
    no = prog.layout.bounds.objects
    weakref = D.or_(*[D.and_(D.eq(S.get("obj_status", w), LIVE), D.eq(S.get("obj_kind", w), WEAKREF))
                      for w in range(no)])
    return D.and_(weakref, _any_freed(prog, S))


def no_dangling(prog: Program, S: Any) -> Any:
    D = S.d
    lay = prog.layout
    bad = [D.eq(S.get("err_uaf"), 1)]
    for c in range(lay.bounds.cells):
        for r in range(lay.bounds.objects):
            owned = D.and_(D.eq(S.get("cell_status", c), LIVE), D.eq(S.get("cell_owner", c), lay.obj(r)),
                           D.eq(S.get("obj_status", r), LIVE))
            bad.append(D.and_(owned, _is_freed_object(prog, S, S.get("cell_target", c))))
            # a registration that outlives its registry: the engine's record would point at freed
            # memory (its free path must release the registry's records before the registry; a
            # profile that dropped that step was not noticed: found by an independent review)
            bad.append(D.and_(D.eq(S.get("cell_status", c), LIVE), D.eq(S.get("cell_owner", c), lay.obj(r)),
                              D.eq(S.get("obj_status", r), FREED)))
    return D.not_(D.or_(*bad))


def cleanup_only_from_job(prog: Program, S: Any) -> Any:
    D = S.d
    cleanup = _code(prog, "CleanupFinalizationRegistry")
    job = _code(prog, CLEANUP_JOB)
    bad = [_frame_is(S, d, cleanup) for d in _frames(prog) if d != 1]
    if job >= 0:
        bad.append(D.and_(_frame_is(S, 1, cleanup), D.ne(S.get("frame_alg", 0), job)))
    else:  # no cleanup job in this model: a cleanup frame at depth 1 is above something else
        bad.append(_frame_is(S, 1, cleanup))
    return D.not_(D.or_(*bad))


def held_value_once(prog: Program, S: Any) -> Any:
    D = S.d
    return D.and_(*[D.le(S.get("cell_delivered", c), 1) for c in range(prog.layout.bounds.cells)])


def no_reentrant(prog: Program, S: Any) -> Any:
    D = S.d
    cleanup = _code(prog, "CleanupFinalizationRegistry")
    bad = []
    seen = D.false()
    for d in _frames(prog):
        here = _frame_is(S, d, cleanup)
        bad.append(D.and_(seen, here))
        seen = D.or_(seen, here)
    return D.not_(D.or_(*bad))


def unregister_complete(prog: Program, S: Any) -> Any:
    """Checked in the state where unregister is about to execute its final `Return`."""
    D = S.d
    code = _code(prog, "FinalizationRegistry.prototype.unregister")
    if code < 0:
        return D.true()
    info = prog.alg(code)
    returns = [pc for pc, step in enumerate(info.pcs)
               if step is not None and step.kind == "return" and "." not in step.number]
    lay = prog.layout
    k = lay.locals_per_frame
    # the registry is the this value and the token the first parameter, whatever the text calls
    # them: looked up as `finalizationRegistry` and `unregisterToken`, a renamed local made the
    # property true in every state
    reg_slot = info.locals.index("this")
    if not info.inputs:  # (reported as E079 with this reason, never a property true by default)
        raise ValueError("this text's unregister takes no parameter: there is no token to check")
    tok_slot = info.locals.index(info.inputs[0])
    bad = []
    for d in _frames(prog):
        at_return = D.and_(_frame_is(S, d, code), D.eq(S.get("sp"), d + 1),
                           D.or_(*[D.eq(S.get("frame_pc", d), pc) for pc in returns]))
        reg = S.get("frame_local", d * k + reg_slot)
        tok = S.get("frame_local", d * k + tok_slot)
        for c in range(lay.bounds.cells):
            bad.append(D.and_(at_return, D.eq(S.get("cell_status", c), LIVE),
                              D.eq(S.get("cell_owner", c), reg), D.eq(S.get("cell_token", c), tok)))
    return D.not_(D.or_(*bad))


def kept_alive(prog: Program, S: Any) -> Any:
    D = S.d
    return D.and_(*[D.or_(D.eq(S.get("kept", i), 0), D.eq(S.get("obj_status", i), LIVE))
                    for i in range(prog.layout.bounds.objects)])


def weakref_not_dangling(prog: Program, S: Any) -> Any:
    D = S.d
    lay = prog.layout
    bad = []
    for w in range(lay.bounds.objects):
        is_wr = D.and_(D.eq(S.get("obj_status", w), LIVE), D.eq(S.get("obj_kind", w), WEAKREF))
        bad.append(D.and_(is_wr, _is_freed_object(prog, S, S.get("obj_target", w))))
    return D.not_(D.or_(*bad))


def no_freed_observed(prog: Program, S: Any) -> Any:
    """Memory safety in general: nothing user code or an algorithm can reach is reclaimed.

    Written over what is *observed*, not over the model's own liveness test, so that a wrong
    liveness rule shows up here: a step read a freed entity (`err_uaf`), or a freed object or
    Symbol is a user variable, in [[KeptAlive]], in a queued job, a local of an active frame,
    the [[Key]] of an entry of an allocated WeakMap or an element of an allocated WeakSet (the
    next get/has/add walks them: Execution 1.c and 1.d empty every such entry before the
    collector reclaims its key; a text without 1.c passed every property before, found by an
    independent review). Frames of a reference-counting host's free path hold raw pointers (its
    `Free _obj_` leaves one behind); those count only when read, which sets `err_uaf`."""
    D = S.d
    lay = prog.layout
    k = lay.locals_per_frame
    raw = [c for c in [_code(prog, prog.free_path)] if c >= 0] if prog.free_path else []
    bad = [D.eq(S.get("err_uaf"), 1)]
    for i in range(lay.bounds.objects):
        held = D.or_(D.eq(S.get("root", i), 1), D.eq(S.get("kept", i), 1))
        bad.append(D.and_(held, D.eq(S.get("obj_status", i), FREED)))
    for i in range(lay.bounds.symbols):
        held = D.or_(D.eq(S.get("sym_root", i), 1), D.eq(S.get("sym_kept", i), 1))
        bad.append(D.and_(held, D.eq(S.get("sym_status", i), FREED)))
    for q in range(lay.bounds.jobs):
        bad.append(D.and_(D.lt(q, S.get("qlen")), _is_freed(prog, S, S.get("queue", q))))
        if "queue_cb" in lay.index:  # the callback a queued job holds (counting hosts, model/env.py)
            bad.append(D.and_(D.lt(q, S.get("qlen")), _is_freed_object(prog, S, S.get("queue_cb", q))))
    for f in _frames(prog):
        counted = D.and_(_active(S, f), *[D.ne(S.get("frame_alg", f), r) for r in raw])
        for x in range(k):
            bad.append(D.and_(counted, _is_freed(prog, S, S.get("frame_local", f * k + x))))
    for e in range(lay.bounds.weakmaps):
        bad.append(D.and_(D.eq(S.get("ent_status", e), LIVE), _is_freed(prog, S, S.get("ent_key", e))))
    for e in range(lay.bounds.weaksets):
        bad.append(D.and_(D.eq(S.get("wse_status", e), LIVE), _is_freed(prog, S, S.get("wse_value", e))))
    return D.not_(D.or_(*bad))


def _waiting_for(prog: Program, S: Any, phase: int) -> list[tuple[Any, Any]]:
    """(condition, result) for each depth: user code there waits for the built-in call `phase`
    names, and that call has just returned its result (in `ret`, not yet taken)."""
    D = S.d
    out = []
    for d in _frames(prog):
        here = D.and_(D.eq(S.get("sp"), d + 1), D.eq(S.get("frame_alg", d), USER),
                      D.eq(S.get("frame_phase", d), phase), D.ne(S.get("ret"), EMPTY))
        out.append((here, S.get("ret")))
    return out


def _of_object(prog: Program, S: Any, name: str, v: Any, default: int) -> Any:
    """The per-object variable `name` of the object v names (default when v is no object)."""
    D = S.d
    lay = prog.layout
    out = D.num(default)
    for i in range(lay.bounds.objects):
        out = D.ite(D.eq(v, lay.obj(i)), S.get(name, i), out)
    return out


def _deref_expected(prog: Program, S: Any) -> Any:
    """What the pending deref must return, from observers only (model/env.py): the target user
    code gave the WeakRef's constructor, or undefined once the collector took it."""
    D = S.d
    lay = prog.layout
    target = _of_object(prog, S, "wr_target", S.get("arg", 0), EMPTY)
    taken = _of_object(prog, S, "gone", target, 1)
    for k in range(lay.bounds.symbols):  # a Symbol target (bound `symbols`): its own observer
        taken = D.ite(D.eq(target, lay.sym(k)), S.get("sym_gone", k), taken)
    gone = D.eq(taken, 1)
    return D.ite(D.or_(D.eq(target, EMPTY), D.eq(target, UNDEF), gone), D.num(UNDEF), target)


def deref_consistent(prog: Program, S: Any) -> Any:
    """Judged against observers the text cannot touch (model/env.py): which target user code gave
    `new WeakRef`, which objects the collector took, which WeakRef the pending deref was called
    on, and which objects deref handed out or `new WeakRef` was given in this turn. A result must
    be that target, or undefined exactly once the collector took it; an object handed out or given
    stays allocated until the next ClearKeptObjects, whatever the collector does (both calls add
    their object to [[KeptAlive]]: WeakRefDeref 2.a, sec-weak-ref-target 4)."""
    D = S.d
    lay = prog.layout
    bad = [D.and_(D.eq(S.get("kept_turn", i), 1), D.ne(S.get("obj_status", i), LIVE))
           for i in range(lay.bounds.objects)]
    expected = _deref_expected(prog, S)
    for here, result in _waiting_for(prog, S, PHASE_DEREF):
        bad.append(D.and_(here, D.ne(result, THROW), D.ne(result, expected)))
    return D.not_(D.or_(*bad))


def cover_deref_after_collection(prog: Program, S: Any) -> Any:
    D = S.d
    target = _of_object(prog, S, "wr_target", S.get("arg", 0), EMPTY)
    # undefined is the observer's mark for a target the collector took (model/env.py)
    gone = D.or_(D.eq(target, UNDEF), D.eq(_of_object(prog, S, "gone", target, 0), 1))
    waits = _waiting_for(prog, S, PHASE_DEREF)
    return D.or_(*[D.and_(here, D.eq(result, UNDEF), gone) for here, result in waits])


def unregister_result(prog: Program, S: Any) -> Any:
    """Judged against the registrations as user code made them (observers, model/env.py), not
    against the registry's cells or the text's own `_removed_`."""
    D = S.d
    lay = prog.layout
    registry, token = S.get("arg", 0), S.get("arg", 1)
    matched = D.and_(D.ne(token, UNDEF), D.or_(*[
        D.and_(D.eq(S.get("reg_live", c), 1), D.eq(S.get("reg_owner", c), registry),
               D.eq(S.get("reg_token", c), token)) for c in range(lay.bounds.cells)]))
    tracking = D.le(S.get("regs"), lay.bounds.cells)  # else the observer lost count (model/env.py)
    bad = []
    for here, result in _waiting_for(prog, S, PHASE_UNREGISTER):
        bad.append(D.and_(here, tracking, D.ne(result, THROW),
                          D.ne(result, D.ite(matched, D.num(TRUE), D.num(FALSE)))))
    return D.not_(D.or_(*bad))


def cover_unregister_true(prog: Program, S: Any) -> Any:
    D = S.d
    waits = _waiting_for(prog, S, PHASE_UNREGISTER)
    return D.or_(*[D.and_(here, D.eq(result, TRUE)) for here, result in waits])


def argument_checks(prog: Program, S: Any) -> Any:
    """Judged against observers only (model/env.py: the arguments of the pending call, and how
    user code got each object), never against the slots the text writes. The oracle is the API
    as users and test262 know it (built-ins/WeakRef, built-ins/FinalizationRegistry: `throws` and
    `this-not-object-throws` tests, and the `*-target-cannot-be-held-weakly` / `...-token-...`
    ones for Symbols), for the values the model has: *undefined*, objects and Symbols, of which
    only the registered one (`Symbol.for`) cannot be held weakly."""
    D = S.d
    lay = prog.layout
    a = [S.get("arg", i) for i in range(4)]
    registered = lay.registered_symbol if lay.bounds.symbols else None

    def not_weak(v: Any) -> Any:
        return D.eq(v, UNDEF) if registered is None else D.or_(D.eq(v, UNDEF), D.eq(v, registered))

    def made(v: Any, kind: int) -> Any:
        return D.eq(_of_object(prog, S, "made", v, 0), 1 + kind)

    refused = {
        PHASE_NEWWEAKREF: not_weak(a[0]),  # the target cannot be held weakly
        PHASE_DEREF: D.not_(made(a[0], WEAKREF)),  # `this` is no WeakRef
        PHASE_REGISTER: D.or_(D.not_(made(a[0], REGISTRY)), not_weak(a[1]),  # target not weak
                              D.eq(a[1], a[2]),  # the held value is the target (SameValue)
                              # a token given that cannot be held weakly
                              *([D.eq(a[3], registered)] if registered is not None else [])),
        PHASE_UNREGISTER: D.or_(D.not_(made(a[0], REGISTRY)), not_weak(a[1])),  # token not weak
        # the user function is callable; an object passed as the callback (bound `slots`, tracing
        # hosts: `new FinalizationRegistry(objF)`) only when user code made it as a function
        # (test262 built-ins/FinalizationRegistry/target-not-callable-throws.js)
        PHASE_NEWREGISTRY: D.and_(D.ne(a[0], EMPTY), D.not_(made(a[0], FUNCTION)))
        if prog.functions else D.false(),
    }
    bad = []
    for phase, throws in refused.items():
        for here, result in _waiting_for(prog, S, phase):
            bad.append(D.and_(here, D.ne(D.eq(result, THROW), throws)))
    return D.not_(D.or_(*bad))


def cover_refused(prog: Program, S: Any) -> Any:
    D = S.d
    return D.or_(*[D.and_(here, D.eq(result, THROW)) for phase in (PHASE_REGISTER, PHASE_UNREGISTER)
                   for here, result in _waiting_for(prog, S, phase)])


def _weak_answers(prog: Program, S: Any) -> list[tuple[Any, Any, Any, Any]]:
    """(condition, result, expected, found) for each WeakMap / WeakSet call user code may be
    waiting for, with what the call must answer from the observers alone (model/mutator.py
    `_observe_weak`: the calls that returned normally, and what the collector took), and whether
    the receiver holds the key there. The oracle is the API as test262 checks it
    (built-ins/WeakMap, built-ins/WeakSet): a receiver of the wrong kind throws a TypeError; set
    and add throw for a key that cannot be held weakly and return the receiver; get answers the
    value last set, else undefined; has and delete answer whether the receiver holds the key."""
    D = S.d
    lay = prog.layout
    n = lay.bounds.weakmaps + lay.bounds.weaksets
    if not n:
        return []
    this, key = S.get("arg", 0), S.get("arg", 1)
    kind = _of_object(prog, S, "made", this, 0)
    is_map, is_set = D.eq(kind, 1 + WEAKMAP), D.eq(kind, 1 + WEAKSET)
    records = [D.and_(D.eq(S.get("wk_owner", e), this), D.eq(S.get("wk_key", e), key)) for e in range(n)]
    found = D.or_(*records)
    value = D.num(UNDEF)
    for e in reversed(range(n)):
        value = D.ite(records[e], S.get("wk_value", e), value)
    weak = D.or_(*[D.eq(key, lay.obj(i)) for i in range(lay.bounds.objects)],
                 *[D.eq(key, lay.sym(k)) for k in range(lay.bounds.symbols)])
    throw = D.num(THROW)
    held = D.ite(found, D.num(TRUE), D.num(FALSE))
    expected = {
        PHASE_WM_GET: D.ite(is_map, value, throw),
        PHASE_WM_SET: D.ite(D.and_(is_map, weak), this, throw),
        PHASE_WS_ADD: D.ite(D.and_(is_set, weak), this, throw),
        PHASE_WC_HAS: D.ite(D.or_(is_map, is_set), held, throw),
        PHASE_WC_DELETE: D.ite(D.or_(is_map, is_set), held, throw),
    }
    return [(here, result, want, D.and_(D.or_(is_map, is_set), found))
            for phase, want in expected.items() for here, result in _waiting_for(prog, S, phase)]


def weak_collection_results(prog: Program, S: Any) -> Any:
    """Judged against observers only, never against the entries the text writes: a text whose
    delete forgot to clear its entry, or whose get read the wrong field, answers differently from
    what user code put in (`specmc mutate` left such changes alive before this property)."""
    D = S.d
    n = prog.layout.bounds.weakmaps + prog.layout.bounds.weaksets
    if not n:
        return D.true()
    tracking = D.le(S.get("wk_count"), n)  # else the observer lost count (model/mutator.py)
    return D.not_(D.or_(*[D.and_(here, tracking, D.ne(result, want))
                          for here, result, want, _ in _weak_answers(prog, S)]))


def cover_weak_found(prog: Program, S: Any) -> Any:
    """A WeakMap / WeakSet call has just answered about a key its receiver holds."""
    return S.d.or_(*[S.d.and_(here, found) for here, _, _, found in _weak_answers(prog, S)])


# properties read off a flag the model's steps set (model/layout.py lists them): a failed Assert:
# or `!` call or slot access (err_assert), a delivery that is not what user code registered
# (bad_delivery), an abrupt completion that left its job (escaped), a callback that threw (cb_threw)


def no_failed_assert(prog: Program, S: Any) -> Any:
    return S.d.eq(S.get("err_assert"), 0)


def cover_algorithm_running(prog: Program, S: Any) -> Any:
    return S.d.lt(1, S.get("sp"))


def no_bad_delivery(prog: Program, S: Any) -> Any:
    return S.d.eq(S.get("bad_delivery"), 0)


def no_escaped_abrupt(prog: Program, S: Any) -> Any:
    return S.d.eq(S.get("escaped"), 0)


def cover_callback_threw(prog: Program, S: Any) -> Any:
    return S.d.eq(S.get("cb_threw"), 1)


def temporal_placeholder(prog: Program, S: Any) -> Any:
    """The `holds` of a temporal property: true in every state. Its meaning is not a state
    predicate (proofs/properties/liveness.py); the engines that check it search lassos."""
    return S.d.true()


def cover_waiting_delivery(prog: Program, S: Any) -> Any:
    from specmc.proofs.properties.liveness import delivery_waits

    D = S.d
    return D.or_(*[delivery_waits(prog, S, c) for c in range(prog.layout.bounds.cells)])
