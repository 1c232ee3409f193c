"""The property catalogue: named state predicates, evaluable concretely and symbolically.

A property is a function `(program, view) -> domain boolean` written with the
same `Domain` operations as the semantics, so the explorer and Z3 check the very
same definition. Users add their own in a Python file (see docs/properties.md, "Adding a
property") by calling `register` with a new `Property`; nothing in model/ or the
engines changes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specmc.model.compile import USER
from specmc.model.env import CLEANUP_JOB, EXECUTION
from specmc.model.layout import (
    EMPTY,
    FALSE,
    FREED,
    LIVE,
    PHASE_DEREF,
    PHASE_NEWREGISTRY,
    PHASE_NEWWEAKREF,
    PHASE_REGISTER,
    PHASE_UNREGISTER,
    REGISTRY,
    THROW,
    TRUE,
    UNDEF,
    WEAKREF,
)
from specmc.model.program import Program
from specmc.spec import diagnostics as diag
from specmc.spec.diagnostics import SpecError


@dataclass(frozen=True)
class Property:
    """`cover` is the situation the property is about (a free frame on the stack, a delivery):
    a predicate like `holds`. A PROVED whose cover no reachable state meets says nothing about
    that situation, and is reported as vacuous. A property without a cover is never called
    vacuous, and its results say the cover was not given."""

    id: str
    meaning: str
    clause: str
    holds: Callable[[Program, Any], Any]  # (program, View) -> domain boolean
    cover: Callable[[Program, Any], Any] | None = None  # (program, View) -> domain boolean
    cover_meaning: str = ""


CATALOGUE: dict[str, Property] = {}


_LOADING: list[str] = []  # the properties file being run by load_properties_file, if any
_ORIGIN: dict[str, str] = {}  # property id -> the properties file that registered it


def register(p: Property) -> Property:
    """Add a property to the catalogue. From a properties file, an id the catalogue already has
    (a shipped property, or one another file registered) is refused: the file would silently
    replace it, and a check of that id, its certificate and its expectation would then be about
    the file's definition (an always-true `unregister-result` came out PROVED under
    quickjs-ng-0.5, where the shipped one is VIOLATED; found by an independent review)."""
    if _LOADING and p.id in CATALOGUE and _ORIGIN.get(p.id) != _LOADING[-1]:
        where = _ORIGIN.get(p.id)
        raise ValueError(f"property id '{p.id}' is already " + (
            f"registered by {where}" if where else "a catalogue property") + ": choose another id")
    CATALOGUE[p.id] = p
    if _LOADING:
        _ORIGIN[p.id] = _LOADING[-1]
    return p


def _frames(prog: Program) -> range:
    return range(prog.layout.bounds.frames)


def _is_freed_object(prog: Program, S: Any, v: Any) -> Any:
    """v names an object whose memory has been reclaimed."""
    D = S.d
    lay = prog.layout
    return D.or_(*[D.and_(D.eq(v, lay.obj(t)), D.eq(S.get("obj_status", t), FREED))
                   for t in range(lay.bounds.objects)])


def _code(prog: Program, name: str) -> int:
    try:
        return prog.code_of(name)
    except KeyError:
        return -1  # the algorithm is not in this model: no frame can have its code


def _active(S: Any, d: int) -> Any:
    return S.d.lt(d, S.get("sp"))


def _frame_is(S: Any, d: int, code: int) -> Any:
    D = S.d
    return D.and_(_active(S, d), D.eq(S.get("frame_alg", d), code))


def _cleanup_or_callback_above_free(prog: Program, S: Any) -> Any:
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


def _cover_free_frame(prog: Program, S: Any) -> Any:
    return _running(prog, S, prog.free_path) if prog.free_path else S.d.false()


def _cover_cleanup_frame(prog: Program, S: Any) -> Any:
    return _running(prog, S, "CleanupFinalizationRegistry")


def _any_freed(prog: Program, S: Any) -> Any:
    D = S.d
    return D.or_(*[D.eq(S.get("obj_status", i), FREED) for i in range(prog.layout.bounds.objects)])


def _cover_freed(prog: Program, S: Any) -> Any:
    return _any_freed(prog, S)


def _cover_freed_with_cells(prog: Program, S: Any) -> Any:
    D = S.d
    cells = D.or_(*[D.eq(S.get("cell_status", c), LIVE) for c in range(prog.layout.bounds.cells)])
    return D.and_(cells, _any_freed(prog, S))


def _cover_delivered(prog: Program, S: Any) -> Any:
    D = S.d
    return D.or_(*[D.le(1, S.get("cell_delivered", c)) for c in range(prog.layout.bounds.cells)])


def _cover_unregister_returns(prog: Program, S: Any) -> Any:
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


def _cover_kept_during_collection(prog: Program, S: Any) -> Any:
    D = S.d
    kept = D.or_(*[D.eq(S.get("kept", i), 1) for i in range(prog.layout.bounds.objects)])
    collecting = _running(prog, S, prog.free_path) if prog.free_path else _running(prog, S, EXECUTION)
    return D.and_(kept, collecting)


def _cover_weakref_and_free(prog: Program, S: Any) -> Any:
    D = S.d
    no = prog.layout.bounds.objects
    weakref = D.or_(*[D.and_(D.eq(S.get("obj_status", w), LIVE), D.eq(S.get("obj_kind", w), WEAKREF))
                      for w in range(no)])
    return D.and_(weakref, _any_freed(prog, S))


register(Property(
    "cleanup-not-on-free-stack",
    "no frame of CleanupFinalizationRegistry, or of a callback, is ever above a frame of the host's "
    "free operation",
    "sec-weakref-invariants",
    _cleanup_or_callback_above_free,
    cover=_cover_free_frame,
    cover_meaning="a frame of the host's free operation is on the stack"
))


def _no_dangling(prog: Program, S: Any) -> Any:
    D = S.d
    lay = prog.layout
    bad = [D.eq(S.get("err_uaf"), 1)]
    for c in range(lay.bounds.cells):
        for r in range(lay.bounds.objects):
            owned = D.and_(D.eq(S.get("cell_status", c), LIVE), D.eq(S.get("cell_owner", c), lay.obj(r)),
                           D.eq(S.get("obj_status", r), LIVE))
            bad.append(D.and_(owned, _is_freed_object(prog, S, S.get("cell_target", c))))
    return D.not_(D.or_(*bad))


register(Property(
    "no-dangling-cell",
    "no step reads or writes a freed cell, list, registry or target; no live registry holds a cell "
    "that refers to a freed object",
    "sec-weakref-execution",
    _no_dangling,
    cover=_cover_freed_with_cells,
    cover_meaning="an object has been freed while a registration exists"
))


def _cleanup_only_from_job(prog: Program, S: Any) -> Any:
    D = S.d
    cleanup = _code(prog, "CleanupFinalizationRegistry")
    job = _code(prog, CLEANUP_JOB)
    bad = [_frame_is(S, d, cleanup) for d in _frames(prog) if d != 1]
    bad.append(D.and_(_frame_is(S, 1, cleanup), D.ne(S.get("frame_alg", 0), job)))
    return D.not_(D.or_(*bad))


register(Property(
    "cleanup-only-from-job",
    "CleanupFinalizationRegistry starts only when the stack holds nothing but the job that invoked it",
    "sec-jobs",
    _cleanup_only_from_job,
    cover=_cover_cleanup_frame,
    cover_meaning="CleanupFinalizationRegistry is running"
))


def _held_value_once(prog: Program, S: Any) -> Any:
    D = S.d
    return D.and_(*[D.le(S.get("cell_delivered", c), 1) for c in range(prog.layout.bounds.cells)])


register(Property(
    "held-value-once",
    "each cell's held value is passed to the cleanup callback at most once",
    "sec-cleanup-finalization-registry",
    _held_value_once,
    cover=_cover_delivered,
    cover_meaning="a held value has been passed to the cleanup callback"
))


def _no_reentrant(prog: Program, S: Any) -> Any:
    D = S.d
    cleanup = _code(prog, "CleanupFinalizationRegistry")
    bad = []
    seen = D.false()
    for d in _frames(prog):
        here = _frame_is(S, d, cleanup)
        bad.append(D.and_(seen, here))
        seen = D.or_(seen, here)
    return D.not_(D.or_(*bad))


register(Property(
    "no-reentrant-cleanup",
    "at most one CleanupFinalizationRegistry frame is on the stack (reaching the stack bound is "
    "reported as a bound, not as a violation)",
    "sec-weakref-invariants",
    _no_reentrant,
    cover=_cover_cleanup_frame,
    cover_meaning="CleanupFinalizationRegistry is running"
))


def _unregister_complete(prog: Program, S: Any) -> Any:
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


register(Property(
    "unregister-complete",
    "when unregister(token) returns normally, no cell of that registry has that token",
    "sec-finalization-registry.prototype.unregister",
    _unregister_complete,
    cover=_cover_unregister_returns,
    cover_meaning="unregister is about to return"
))


def _kept_alive(prog: Program, S: Any) -> Any:
    D = S.d
    return D.and_(*[D.or_(D.eq(S.get("kept", i), 0), D.eq(S.get("obj_status", i), LIVE))
                    for i in range(prog.layout.bounds.objects)])


register(Property(
    "kept-alive-until-clear",
    "an object in [[KeptAlive]] (returned by deref or passed to new WeakRef) is not freed before "
    "the next ClearKeptObjects",
    "sec-addtokeptobjects",
    _kept_alive,
    cover=_cover_kept_during_collection,
    cover_meaning="an object is in [[KeptAlive]] while the collector or a free runs"
))


def _weakref_not_dangling(prog: Program, S: Any) -> Any:
    D = S.d
    lay = prog.layout
    bad = []
    for w in range(lay.bounds.objects):
        is_wr = D.and_(D.eq(S.get("obj_status", w), LIVE), D.eq(S.get("obj_kind", w), WEAKREF))
        bad.append(D.and_(is_wr, _is_freed_object(prog, S, S.get("obj_target", w))))
    return D.not_(D.or_(*bad))


register(Property(
    "weakref-not-dangling",
    "a WeakRef's target is ~empty~ or an allocated object",
    "sec-weak-ref-objects",
    _weakref_not_dangling,
    cover=_cover_weakref_and_free,
    cover_meaning="a WeakRef exists after an object was freed"
))


register(Property(
    "spec-asserts",
    "every Assert: step of the compiled text holds, no `!` call completes abruptly, and no step "
    "reads or writes an internal slot its object does not have",
    "(every Assert: step)",
    lambda prog, S: S.d.eq(S.get("err_assert"), 0),
    cover=lambda prog, S: S.d.lt(1, S.get("sp")),
    cover_meaning="an algorithm of the text is running"
))


def _no_freed_observed(prog: Program, S: Any) -> Any:
    """Memory safety in general: nothing user code or an algorithm can reach is reclaimed.

    Written over what is *observed*, not over the model's own liveness test, so that a wrong
    liveness rule shows up here: a step read a freed entity (`err_uaf`), or a freed object is
    a user variable, in [[KeptAlive]], in a queued job, or a local of an active frame. Frames
    of a reference-counting host's free path hold raw pointers (its `Free _obj_` leaves one
    behind); those count only when read, which sets `err_uaf`."""
    D = S.d
    lay = prog.layout
    k = lay.locals_per_frame
    raw = [_code(prog, prog.free_path)] if prog.free_path else []
    bad = [D.eq(S.get("err_uaf"), 1)]
    for i in range(lay.bounds.objects):
        held = D.or_(D.eq(S.get("root", i), 1), D.eq(S.get("kept", i), 1))
        bad.append(D.and_(held, D.eq(S.get("obj_status", i), FREED)))
    for q in range(lay.bounds.jobs):
        bad.append(D.and_(D.lt(q, S.get("qlen")), _is_freed_object(prog, S, S.get("queue", q))))
    for f in _frames(prog):
        counted = D.and_(_active(S, f), *[D.ne(S.get("frame_alg", f), r) for r in raw])
        for x in range(k):
            bad.append(D.and_(counted, _is_freed_object(prog, S, S.get("frame_local", f * k + x))))
    return D.not_(D.or_(*bad))


register(Property(
    "no-freed-observed",
    "no step reads a freed object or cell, and no user variable, [[KeptAlive]] entry, queued job or "
    "active frame refers to a freed object",
    "sec-liveness",
    _no_freed_observed,
    cover=_cover_freed,
    cover_meaning="an object has been freed"
))


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
    target = _of_object(prog, S, "wr_target", S.get("arg", 0), EMPTY)
    gone = D.eq(_of_object(prog, S, "gone", target, 1), 1)
    return D.ite(D.or_(D.eq(target, EMPTY), D.eq(target, UNDEF), gone), D.num(UNDEF), target)


def _deref_consistent(prog: Program, S: Any) -> Any:
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


def _cover_deref_after_collection(prog: Program, S: Any) -> Any:
    D = S.d
    target = _of_object(prog, S, "wr_target", S.get("arg", 0), EMPTY)
    # undefined is the observer's mark for a target the collector took (model/env.py)
    gone = D.or_(D.eq(target, UNDEF), D.eq(_of_object(prog, S, "gone", target, 0), 1))
    waits = _waiting_for(prog, S, PHASE_DEREF)
    return D.or_(*[D.and_(here, D.eq(result, UNDEF), gone) for here, result in waits])


register(Property(
    "deref-consistent",
    "deref() returns the target its WeakRef was made with, or undefined exactly once the collector "
    "took it; an object deref() returned, or a WeakRef was made for, stays allocated until the next "
    "ClearKeptObjects",
    "sec-weakref-invariants",
    _deref_consistent,
    cover=_cover_deref_after_collection,
    cover_meaning="deref() returns undefined after its target was collected",
))


def _unregister_result(prog: Program, S: Any) -> Any:
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


def _cover_unregister_true(prog: Program, S: Any) -> Any:
    D = S.d
    waits = _waiting_for(prog, S, PHASE_UNREGISTER)
    return D.or_(*[D.and_(here, D.eq(result, TRUE)) for here, result in waits])


register(Property(
    "unregister-result",
    "unregister(token) returns true exactly when a registration user code made with that registry and "
    "token was neither delivered nor unregistered yet",
    "sec-finalization-registry.prototype.unregister",
    _unregister_result,
    cover=_cover_unregister_true,
    cover_meaning="unregister(token) returns true",
))


register(Property(
    "delivered-as-registered",
    "the cleanup callback gets the held value user code registered, for a registration not yet "
    "delivered or unregistered, and only once the collector took its target",
    "sec-cleanup-finalization-registry",
    lambda prog, S: S.d.eq(S.get("bad_delivery"), 0),
    cover=_cover_delivered,
    cover_meaning="a held value has been passed to the cleanup callback",
))


register(Property(
    "cleanup-job-reports-abrupt",
    "an abrupt completion of a cleanup callback is handled inside its job (as the host hook says) "
    "and never escapes the job",
    "sec-host-cleanup-finalization-registry",
    lambda prog, S: S.d.eq(S.get("escaped"), 0),
    cover=lambda prog, S: S.d.eq(S.get("cb_threw"), 1),
    cover_meaning="a cleanup callback threw",
))


def _argument_checks(prog: Program, S: Any) -> Any:
    """Judged against observers only (model/env.py: the arguments of the pending call, and how
    user code got each object), never against the slots the text writes. The oracle is the API
    as users and test262 know it (built-ins/WeakRef, built-ins/FinalizationRegistry: `throws` and
    `this-not-object-throws` tests), for the values the model has: *undefined* and objects."""
    D = S.d
    a = [S.get("arg", i) for i in range(4)]

    def made(v: Any, kind: int) -> Any:
        return D.eq(_of_object(prog, S, "made", v, 0), 1 + kind)

    refused = {
        PHASE_NEWWEAKREF: D.eq(a[0], UNDEF),  # the target cannot be held weakly
        PHASE_DEREF: D.not_(made(a[0], WEAKREF)),  # `this` is no WeakRef
        PHASE_REGISTER: D.or_(D.not_(made(a[0], REGISTRY)), D.eq(a[1], UNDEF),  # target not weak
                              D.eq(a[1], a[2])),  # the held value is the target (SameValue)
        PHASE_UNREGISTER: D.or_(D.not_(made(a[0], REGISTRY)), D.eq(a[1], UNDEF)),  # token not weak
        PHASE_NEWREGISTRY: D.false(),  # the model's callbacks are all callable
    }
    bad = []
    for phase, throws in refused.items():
        for here, result in _waiting_for(prog, S, phase):
            bad.append(D.and_(here, D.ne(D.eq(result, THROW), throws)))
    return D.not_(D.or_(*bad))


def _cover_refused(prog: Program, S: Any) -> Any:
    D = S.d
    return D.or_(*[D.and_(here, D.eq(result, THROW)) for phase in (PHASE_REGISTER, PHASE_UNREGISTER)
                   for here, result in _waiting_for(prog, S, phase)])


register(Property(
    "argument-checks",
    "new WeakRef, deref, register and unregister throw a TypeError exactly when their arguments are "
    "refused: a target or token that cannot be held weakly, a held value that is the target, a "
    "receiver of the wrong kind",
    "sec-finalization-registry.prototype.register",
    _argument_checks,
    cover=_cover_refused,
    cover_meaning="register or unregister throws",
))


def load_properties_file(path: str) -> None:
    """Run a user's Python file; it adds properties by calling `register(Property(...))`.

    The file is the user's code, so whatever goes wrong in it is bad input (exit 2) located at
    the user's own line, never a traceback from inside specmc: a syntax error or an exception
    while the file runs (E078), and an exception in one of its predicates when an engine
    evaluates it (E079). For the latter, the properties the file registers are wrapped as they
    come in; engines in other processes load the file through here too, so they get the
    wrapped predicates as well."""
    import runpy

    from specmc.spec.source import Loc

    try:
        with open(path, "rb"):
            pass
    except OSError as e:
        raise SpecError([diag.make("E001", path=path, reason=e.strerror or str(e))]) from None
    before = dict(CATALOGUE)
    stale = set(sys.modules)
    _LOADING.append(str(Path(path).resolve()))
    try:
        runpy.run_path(path, run_name="specmc_properties")
        # `from proofs.properties import register` (the names before specmc was one package) found a
        # second copy in a checkout: its registrations would go to a catalogue nobody reads
        old = sorted(m for m in set(sys.modules) - stale if _second_copy(m))
        if old:
            raise ModuleNotFoundError(_renamed(old[0]), name=old[0])
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] in _OLD_NAMES and "specmc." not in str(e):
            e = ModuleNotFoundError(_renamed(e.name or ""), name=e.name)
        raise _user_error("E078", path, e, path=path) from None
    except SpecError:
        raise
    except SyntaxError as e:
        if e.filename and _same_file(e.filename, path):
            loc = Loc(path, e.lineno or 1, e.offset or 1)
            raise SpecError([diag.make("E078", loc, (e.text or "").rstrip("\n"), path=path,
                                       reason=f"syntax error: {e.msg}")]) from None
        raise _user_error("E078", path, e, path=path) from None
    except (Exception, SystemExit) as e:  # SystemExit: a file that calls sys.exit() must not end specmc
        raise _user_error("E078", path, e, path=path) from None
    finally:
        _LOADING.pop()
    for pid, prop in list(CATALOGUE.items()):
        if before.get(pid) is not prop:
            CATALOGUE[pid] = _guarded(prop, path)


_OLD_NAMES = ("spec", "model", "proofs")


def _second_copy(module: str) -> bool:
    """`module` is one of specmc's own files imported under its old top-level name (not the user's
    own `model.py`, which is theirs to import)."""
    from pathlib import Path

    if module.split(".")[0] not in _OLD_NAMES:
        return False
    f = getattr(sys.modules.get(module), "__file__", None)
    root = Path(__file__).resolve().parent.parent
    return f is not None and Path(f).resolve().is_relative_to(root / module.split(".")[0])


def _renamed(name: str) -> str:
    return (f"'{name}' is 'specmc.{name}' now: specmc installs as one package "
            f"(write `from specmc.{name} import ...`)")


def _same_file(a: str, b: str) -> bool:
    import os

    return os.path.realpath(a) == os.path.realpath(b)


def _user_error(code: str, user_file: str, e: BaseException, **fields: str) -> SpecError:
    """`e` as a diagnostic at the innermost line of the user's file that it passed through (the
    file itself when it never reached one, e.g. a predicate that is not a function)."""
    import linecache
    import traceback

    from specmc.spec.source import Loc

    frame = None
    for f in traceback.extract_tb(e.__traceback__):
        if _same_file(f.filename, user_file):
            frame = f
    text = str(e).strip().splitlines()
    reason = f"{type(e).__name__}: {text[0]}" if text else type(e).__name__
    if frame is None or frame.lineno is None:
        return SpecError([diag.make(code, Loc(user_file, 1, 1), reason=reason, **fields)])
    col = (getattr(frame, "colno", None) or 0) + 1
    line = linecache.getline(frame.filename, frame.lineno).rstrip("\n")
    return SpecError([diag.make(code, Loc(user_file, frame.lineno, col), line, reason=reason, **fields)])


def _guarded(prop: Property, path: str) -> Property:
    """`prop` with each predicate (holds, and cover where the Property has one) turned into one
    whose exceptions are E079 diagnostics at the user's line: without this, a predicate that
    raises ended as a traceback (explore) or an internal error (check), blaming specmc."""
    from dataclasses import replace

    def guard(fn: Callable[[Program, Any], Any]) -> Callable[[Program, Any], Any]:
        def guarded(program: Program, S: Any) -> Any:
            try:
                value = fn(program, S)
            except SpecError:
                raise
            except Exception as e:
                raise _user_error("E079", path, e, name=prop.id) from None
            if not _is_condition(value):
                # a number is a value, not a verdict: the explorer read 1 as true and the
                # symbolic reading as false, and the property came out VIOLATED in its first state
                line = getattr(getattr(fn, "__code__", None), "co_firstlineno", 1)
                from specmc.spec.source import Loc
                raise SpecError([diag.make(
                    "E079", Loc(path, line, 1), name=prop.id,
                    reason=f"it returned {type(value).__name__} {value}, not a condition: compare "
                           "values with the domain (S.d.eq, S.d.ne, ...) and return the result")])
            return value

        guarded.__wrapped__ = fn  # type: ignore[attr-defined]
        return guarded

    changes = {name: guard(fn) for name in ("holds", "cover") if callable(fn := getattr(prop, name, None))}
    return replace(prop, **changes)


def _is_condition(value: Any) -> bool:
    """A predicate's value in either domain: a Python bool (concrete) or a Z3 Boolean term."""
    import z3

    return isinstance(value, bool) or (isinstance(value, z3.ExprRef) and z3.is_bool(value))


def select(ids: list[str] | tuple[str, ...]) -> list[Property]:
    if not ids:
        return list(CATALOGUE.values())
    out = []
    for i in dict.fromkeys(ids):  # a property asked for twice is checked and reported once
        if i not in CATALOGUE:
            raise SpecError([diag.make("E061", name=i, known=", ".join(CATALOGUE))])
        out.append(CATALOGUE[i])
    return out


__all__ = ["Property", "CATALOGUE", "register", "select", "USER"]
