"""The environment around the compiled algorithms: mutator, collector, event loop.

All of it is written over `View`/`Domain`, like the steps, so the explorer and Z3
see the same environment.

- mutator: whenever user code runs (the script, or a cleanup callback) it may
  allocate, construct a FinalizationRegistry or WeakRef, register, unregister,
  deref, drop a reference, return or throw, with arguments ranging over what it
  holds (`root`). Built-ins it calls are the compiled spec algorithms.
- collector, tracing hosts (sec-liveness, sec-weakref-execution): at any time,
  for any non-empty set S of objects none of which is live, run the Execution
  algorithm atomically with S bound; afterwards S's memory is reclaimed.
- collector, reference-counting hosts: when the mutator drops the last
  reference to an object, the profile's free path runs on that same stack. With an
  object graph (bound `slots`) frees cascade: whatever a freed object or cell held and
  nothing else counts a reference to is freed in turn, as QuickJS-NG does (`_free_next`).
  A host with `cycle collection: trial deletion` also frees, when user code runs, every
  object no reference from outside the object graph reaches (`_cycle_collector`).
- event loop (sec-jobs): on an empty stack, ClearKeptObjects after the script or
  a job; otherwise the next queued job.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

from specmc.model.actions import (
    Action,
    Allocate,
    Collect,
    DeleteProperty,
    Deref,
    Drop,
    GetProperty,
    NewRegistry,
    NewSymbol,
    NewWeakRef,
    Operand,
    Register,
    Resumed,
    Return,
    SetProperty,
    Sym,
    Throw,
    Unregister,
)
from specmc.model.compile import USER, ModelCompiler
from specmc.model.errors import ModelError
from specmc.model.expressions import Ctx
from specmc.model.heap import is_obj, new_object, obj_get
from specmc.model.hosts import HostProfile
from specmc.model.layout import (
    CUT_JOBS,
    CUT_NONE,
    EMPTY,
    FREED,
    LIVE,
    NEWTARGET,
    NONE,
    PHASE_CALL,
    PHASE_DEREF,
    PHASE_FREEING,
    PHASE_GC,
    PHASE_NEWREGISTRY,
    PHASE_NEWWEAKREF,
    PHASE_REGISTER,
    PHASE_RUN,
    PHASE_UNREGISTER,
    PLAIN,
    REG_FIELDS,
    REGISTRY,
    THROW,
    UNDEF,
    USERFN,
    WEAKREF,
)
from specmc.model.program import Command
from specmc.spec import diagnostics as diag

EXECUTION = "Execution"
JOB_CLEANUP, JOB_CALLBACK = 0, 1  # queue_kind
CLEANUP_JOB = "cleanupJob"


def live_all(S: Any, lay: Any, raw_frames: tuple[int, ...] = (), strong_tokens: bool = False,
             counted_cells: bool = False, outside: list[Any] | None = None,
             from_outside: bool = False) -> list[Any]:
    """Object i is live (sec-liveness): some valid future execution can observe it. The list has
    one entry per object, then one per non-registered Symbol (bound `symbols`, `_symbol_live`),
    except with `from_outside`, which answers for objects only (below).

    Roots: user variables, [[KeptAlive]], queued jobs, and every active frame's locals,
    including the held value (and, where the host keeps tokens as counted references, the
    token) of a cell Record a frame holds: a cell removed from its list on its way to the
    callback is reachable only from the frame that removed it. Cells do not hold their
    targets. A cell in a registry's [[Cells]] holds its held value for as long as that
    registry's cleanup may still run: while the registry is live, but also while it is
    unreachable yet still has a registration whose target may be collected later, since
    sec-weakref-execution 1.b walks *every* FinalizationRegistry, reachable or not, and a
    later cleanup passes the held value to user code. (Reading the registry's reachability
    alone freed held values that a later cleanup then delivered.) With `counted_cells`
    (reference-counting hosts) a cell holds what it refers to while its registry is
    allocated: the engine's record keeps a counted reference.

    Frames whose algorithm is in `raw_frames` (a reference-counting host's free path,
    whose C locals are raw pointers) keep nothing alive.

    With an object graph (bound `slots`), property slots are strong edges: for a tracing host
    an object is live when a live object's property refers to it; with `counted_cells` an
    object is referred to when an allocated object's property holds it, and a cell holds its
    held value (and strong token) for as long as the cell itself is not freed, whatever became
    of its registry (the engine's entry keeps its counted references until js_finrec_free).
    Liveness is relative to the set S the collector considers (sec-liveness: a WeakRef-oblivious
    execution with respect to S): `outside[j]` says object j is not in S, so a live WeakRef's
    deref may still return it, and user code may read its properties; such a target is then
    live. Without properties nothing is read from a deref'd object, so this is only done with
    `slots`.

    `from_outside` (a reference-counting host's cycle collector): object j is reached from a
    reference held outside the object graph (the roots above) through the graph's counted edges:
    an allocated object's properties, and the held value (and strong token) of each live cell of
    a reached registry (js_finrec_mark marks them as the registry's children). What is allocated
    and not reached is what trial deletion frees: gc_decref subtracts every edge inside the graph
    from the counts, so an object keeps a count only through an outside reference, and gc_scan
    gives back its count to everything reachable from such an object. A Symbol is no object of
    that graph (quickjs.c's gc_decref walks rt->gc_obj_list, which holds no atoms), so the answer
    has no entry for Symbols."""
    D = S.d
    no, nc = lay.bounds.objects, lay.bounds.cells
    ns = lay.bounds.slots
    k = lay.locals_per_frame
    fields = ("cell_held", "cell_token") if strong_tokens else ("cell_held",)

    counted = [D.and_(D.lt(f, S.get("sp")), *[D.ne(S.get("frame_alg", f), code) for code in raw_frames])
               for f in range(lay.bounds.frames)]
    frame_vals = [(counted[f], S.get("frame_local", f * k + x))
                  for f in range(lay.bounds.frames) for x in range(k)]
    # a cell some active frame holds as a local
    in_frame = [D.or_(*[D.and_(act, D.eq(v, lay.cell(c))) for act, v in frame_vals]) for c in range(nc)]

    def direct(j: int) -> Any:
        v = lay.obj(j)
        terms = [D.eq(S.get("root", j), 1), D.eq(S.get("kept", j), 1)]
        terms += [D.and_(D.lt(q, S.get("qlen")), D.eq(S.get("queue", q), v))
                  for q in range(lay.bounds.jobs)]
        terms += [D.and_(act, D.eq(x, v)) for act, x in frame_vals]
        terms += [D.and_(in_frame[c], D.eq(S.get("cell_status", c), LIVE), D.eq(S.get(f, c), v))
                  for c in range(nc) for f in fields]
        return D.or_(*terms)

    roots = [direct(j) for j in range(no)]

    def owned(c: int, r: int) -> Any:
        return D.and_(D.eq(S.get("cell_status", c), LIVE), D.eq(S.get("cell_owner", c), lay.obj(r)))

    allocated = [D.eq(S.get("obj_status", r), LIVE) for r in range(no)]
    # registry r's cleanup may still run although nothing reaches r: a registration of r still
    # waits for its target to be collected (then Execution 1.b may enqueue r's cleanup)
    pending = [D.and_(allocated[r], D.or_(*[D.and_(owned(c, r), D.ne(S.get("cell_target", c), EMPTY))
                                            for c in range(nc)]))
               for r in range(no)]
    # cell c holds object j (its held value, or its token) for owner r
    holds = [[[D.and_(owned(c, r), D.eq(S.get(f, c), lay.obj(j)))
               for c in range(nc) for f in fields] for r in range(no)] for j in range(no)]
    # object i's property slot s refers to object j
    props = [[D.eq(S.get("prop", lay.prop(i, s)), lay.obj(j)) for i in range(no) for s in range(ns)]
             for j in range(no)]
    if from_outside:
        level = roots
        for _ in range(no):
            level = [D.or_(roots[j], *[D.and_(h, level[r]) for r in range(no) for h in holds[j][r]],
                           *[D.and_(level[i // ns], allocated[i // ns], p) for i, p in enumerate(props[j])])
                     for j in range(no)]
        return level
    if counted_cells and ns:
        def counted(j: int) -> Any:
            by_cells = [D.and_(D.eq(S.get("cell_status", c), LIVE), D.eq(S.get(f, c), lay.obj(j)))
                        for c in range(nc) for f in fields]
            by_props = [D.and_(allocated[i // ns], p) for i, p in enumerate(props[j])]
            return D.or_(roots[j], *by_cells, *by_props)

        level = [counted(j) for j in range(no)]
    elif counted_cells:
        level = [D.or_(roots[j], *[D.and_(h, allocated[r]) for r in range(no) for h in holds[j][r]])
                 for j in range(no)]
    else:
        level = roots
        for _ in range(no):
            level = [D.or_(roots[j], *[D.and_(h, D.or_(level[r], pending[r]))
                                       for r in range(no) for h in holds[j][r]],
                           *[D.and_(level[i // ns], p) for i, p in enumerate(props[j])],
                           *([D.and_(outside[j], level[w], allocated[w], D.eq(S.get("obj_kind", w), WEAKREF),
                                     D.eq(S.get("obj_target", w), lay.obj(j))) for w in range(no)]
                             if ns and outside is not None else []))
                     for j in range(no)]
    return level + [_symbol_live(S, lay, k, level, fields, frame_vals, in_frame, allocated, pending,
                                 counted_cells, outside) for k in range(lay.bounds.symbols)]


def _symbol_live(S: Any, lay: Any, k: int, level: list[Any], fields: tuple[str, ...],
                 frame_vals: list[tuple[Any, Any]], in_frame: list[Any], allocated: list[Any],
                 pending: list[Any], counted_cells: bool, outside: list[Any] | None) -> Any:
    """Symbol k is live (sec-liveness speaks of "objects and/or symbols" alike): held by user code,
    by [[KeptAlive]], by a queued job, by an active frame (or a cell Record it holds), or as a
    held value (a token, where tokens are strong) of a cell whose registry keeps it, exactly as an
    object would be. A Symbol holds nothing itself, so no object's liveness depends on it. On a
    tracing host with properties, a live WeakRef's deref may hand out a target outside S (see
    `live_all`); `outside[objects + k]` says Symbol k is."""
    D = S.d
    no, nc, ns = lay.bounds.objects, lay.bounds.cells, lay.bounds.slots
    v = lay.sym(k)
    terms = [D.eq(S.get("sym_root", k), 1), D.eq(S.get("sym_kept", k), 1)]
    terms += [D.and_(D.lt(q, S.get("qlen")), D.eq(S.get("queue", q), v)) for q in range(lay.bounds.jobs)]
    terms += [D.and_(act, D.eq(x, v)) for act, x in frame_vals]
    terms += [D.and_(in_frame[c], D.eq(S.get("cell_status", c), LIVE), D.eq(S.get(f, c), v))
              for c in range(nc) for f in fields]
    for c in range(nc):
        for f in fields:
            there = D.and_(D.eq(S.get("cell_status", c), LIVE), D.eq(S.get(f, c), v))
            if counted_cells and ns:  # the engine's entry keeps its counted references
                terms.append(there)
                continue
            for r in range(no):
                owner = D.eq(S.get("cell_owner", c), lay.obj(r))
                keeps = allocated[r] if counted_cells else D.or_(level[r], pending[r])
                terms.append(D.and_(there, owner, keeps))
    if ns and outside is not None and not counted_cells:
        terms += [D.and_(outside[no + k], level[w], allocated[w], D.eq(S.get("obj_kind", w), WEAKREF),
                         D.eq(S.get("obj_target", w), v)) for w in range(no)]
    return D.or_(*terms)


class Environment:
    """`any_step`: a tracing collector may run between any two steps of any algorithm (outside
    "atomically"), as sec-weakref-execution allows; without it, only between steps of user code and
    on an empty stack (the reduced schedule; tests/model/test_schedule.py compares the two)."""

    def __init__(self, mc: ModelCompiler, host: HostProfile, any_step: bool = False):
        self.mc = mc
        self.host = host
        self.any_step = any_step
        self.lay = mc.layout
        mc.host_calls["HostEnqueueFinalizationRegistryCleanupJob"] = self._enqueue
        mc.host_calls["HostEnqueueCallbackJob"] = self._enqueue_callback
        mc.hooks_on_return[EXECUTION] = self._reclaim
        self.raw_frames = tuple(mc.codes[a.name] for a in host.algorithms if a.name in mc.codes)
        # the free path's one parameter (model/hosts.py checks there is exactly one), by its name
        self.freed_param = next((a.params[0].name for a in host.algorithms if a.name == host.free_path), "")
        # the registry the cleanup job works on: the one variable its closure captures, by its name
        self.job_capture = ""
        if CLEANUP_JOB in mc.compilers:
            job = mc.compilers[CLEANUP_JOB].alg
            if len(job.captures) != 1:
                raise ModelError([diag.make("E064", job.loc, why=(
                    f"the cleanup job captures {len(job.captures)} variables; the model hands it one, "
                    "the registry to clean up"))])
            self.job_capture = job.captures[0]
        self.families: list[Command] = []  # filled by commands()
        # reference counting with an object graph: frees cascade (docs/model.md, "Reference counting")
        self.cascade = host.collector == "reference counting" and self.lay.bounds.slots > 0
        if self.cascade:
            mc.after_free = self._after_free
            mc.hooks_after_pop[host.free_path] = self._after_free_path
            mc.after_bottom_pop = self._after_bottom_pop
        # a cycle collector, where the host has one and frees cascade (model/build.py says the same
        # to the layout, which then has `gc_mark`)
        self.cycles = self.cascade and host.cycles
        if host.collector == "reference counting":  # what a free path may ask of an object
            mc.type_tests["object being freed"] = self._being_freed
            mc.type_tests["object marked by cycle collection"] = self._gc_marked

    # the host hook ---------------------------------------------------------------
    def _enqueue(self, c: Ctx, args: tuple[Any, ...], when: Any) -> Any:
        """HostEnqueueFinalizationRegistryCleanupJob: schedule _cleanupJob_ (sec-jobs)."""
        S, D = c.S, c.D
        fg = args[0]
        qlen = S.get("qlen")
        already = D.or_(*[D.and_(D.lt(q, qlen), D.eq(S.get("queue", q), fg))
                          for q in range(self.lay.bounds.jobs)])
        add = when if self.host.scheduling == "fifo" else D.and_(when, D.not_(already))
        add = self._room(S, add)
        S.set("queue", fg, qlen, when=add)
        S.set("queue_kind", JOB_CLEANUP, qlen, when=add)
        S.set("qlen", D.add(qlen, 1), when=add)
        return D.num(0)

    def _room(self, S: Any, add: Any) -> Any:
        """A job that finds the queue full ends the run at the `jobs` bound (`cut`), visibly:
        the run is not silently impossible, and the results report the bound as reached."""
        D = S.d
        full = D.and_(add, D.not_(D.lt(S.get("qlen"), self.lay.bounds.jobs)))
        S.set("cut", CUT_JOBS, when=full)
        return D.and_(add, D.not_(full))

    def _enqueue_callback(self, c: Ctx, args: tuple[Any, ...], when: Any) -> Any:
        """HostEnqueueCallbackJob(_callback_, _heldValue_) (host profiles): queue a job that
        calls the callback with the held value; the job holds the held value, not the registry."""
        S, D = c.S, c.D
        qlen = S.get("qlen")
        when = self._room(S, when)
        S.set("queue", args[1], qlen, when=when)
        S.set("queue_kind", JOB_CALLBACK, qlen, when=when)
        S.set("qlen", D.add(qlen, 1), when=when)
        return D.num(0)

    def _reclaim(self, c: Ctx, when: Any) -> None:
        """After Execution(S): the collector reclaims the members of S that are still not
        live (a registry captured by a newly queued cleanup job is live again), and the
        cells of reclaimed registries."""
        S, D = c.S, c.D
        mask = self.mc.compilers[EXECUTION].get_local(c, self.mc.compilers[EXECUTION].alg.binds[0])
        frame_base = self.lay.where("frame_local")[0] + c.d * self.lay.locals_per_frame
        # the Execution frame itself is about to be popped: its locals do not keep anything alive
        for i in range(self.lay.locals_per_frame):
            S.writes[frame_base + i] = D.num(0) if D.symbolic else 0
        members = self.lay.bounds.objects + self.lay.bounds.symbols  # objects, then Symbols
        outside = [D.not_(D.bit(mask, j)) for j in range(members)]
        alive = live_all(S, self.lay, strong_tokens=self.host.strong_tokens, outside=outside)
        for k in range(self.lay.bounds.symbols):  # a Symbol holds nothing: only it is reclaimed
            bit = self.lay.bounds.objects + k
            S.set("sym_status", FREED, k, when=D.and_(when, D.bit(mask, bit), D.not_(alive[bit])))
        for i in range(self.lay.bounds.objects):
            hit = D.and_(when, D.bit(mask, i), D.not_(alive[i]))
            S.set("obj_status", FREED, i, when=hit)
            for c in range(self.lay.bounds.cells):  # observer: a reclaimed registry delivers nothing more
                self._forget_registration(S, c, D.and_(hit, D.eq(S.get("reg_owner", c), self.lay.obj(i))))
            for j in range(self.lay.bounds.cells):
                S.set("cell_status", FREED, j,
                      when=D.and_(hit, D.eq(S.get("cell_owner", j), self.lay.obj(i))))
            for p in range(self.lay.bounds.slots):  # a reclaimed object's properties go with it
                S.set("prop", EMPTY, self.lay.prop(i, p), when=hit)

    # reference counting with an object graph: cascading frees ---------------------------
    # quickjs.c at v0.13.0 (dec0123): a count reaching zero in js_free_value_rt (lines 6673-6737)
    # puts the object at the head of rt->gc_zero_ref_count_list, and frees it at once through
    # free_zero_refcount (lines 6655-6670) only when rt->gc_phase is JS_GC_PHASE_NONE: from
    # script code and from a built-in such as js_finrec_unregister, the free runs on the stack of
    # the release, before the releasing function goes on. Inside free_zero_refcount the phase is
    # JS_GC_PHASE_DECREF, so what a free_object releases (its properties through free_property, a
    # registration's held value and token through js_finrec_free) is only queued, and
    # free_zero_refcount's loop frees it after that free_object returned, until the list is
    # empty. The model keeps no order among queued objects: it frees the lowest slot first
    # (the engine takes the list's head, the last one queued).

    def _free_code(self) -> int:
        return self.mc.codes[self.host.free_path]

    def _in_free(self, S: Any) -> Any:
        """Some active frame runs the free path: the engine is inside free_zero_refcount."""
        D = S.d
        lay = self.lay
        code = self._free_code()
        if not lay.bounds.symbols:
            return D.or_(*[D.and_(D.lt(f, S.get("sp")), D.eq(S.get("frame_alg", f), code))
                           for f in range(lay.bounds.frames)])
        # a Symbol's free is not free_zero_refcount: JS_FreeAtomStruct runs from js_free_value_rt
        # whatever the phase (quickjs.c v0.12.1 58bdcf0 lines 6649-6652, v0.13.0 dec0123 lines
        # 6727-6730) and sets none, so what it releases is freed at once
        k = lay.locals_per_frame
        x = self.mc.compilers[self.host.free_path].locals.index(self.freed_param)
        return D.or_(*[D.and_(D.lt(f, S.get("sp")), D.eq(S.get("frame_alg", f), code),
                              D.lt(S.get("frame_local", f * k + x), lay.cell_base))
                       for f in range(lay.bounds.frames)])

    def _unreferenced(self, S: Any) -> list[Any]:
        """Object j is allocated, no counted reference is left to it, and no free path is
        already freeing it: the collector owes it a free."""
        D = S.d
        lay = self.lay
        alive = live_all(S, lay, self.raw_frames, self.host.strong_tokens, counted_cells=True)
        code = self._free_code()
        k = lay.locals_per_frame
        x = self.mc.compilers[self.host.free_path].locals.index(self.freed_param)
        out = []
        for j in range(lay.bounds.objects + lay.bounds.symbols):
            v, status = (lay.obj(j), S.get("obj_status", j)) if j < lay.bounds.objects else \
                (lay.sym(j - lay.bounds.objects), S.get("sym_status", j - lay.bounds.objects))
            freeing = D.or_(*[D.and_(D.lt(f, S.get("sp")), D.eq(S.get("frame_alg", f), code),
                                     D.eq(S.get("frame_local", f * k + x), v))
                              for f in range(lay.bounds.frames)])
            out.append(D.and_(D.eq(status, LIVE), D.not_(alive[j]), D.not_(freeing)))
        return out

    def _free_next(self, S: Any, d: int, when: Any, objects_when: Any = None) -> Any:
        """Push the free path above frame d for the lowest object the collector owes a free, if
        there is one; the condition under which it did. Under `when` a Symbol owed a free goes
        first (its free is never deferred, `_in_free`); an object only under `objects_when`
        (`when` if not given)."""
        D = S.d
        lay = self.lay
        no = lay.bounds.objects
        owed = self._unreferenced(S)
        chosen = D.num(EMPTY)
        for j in range(len(owed) - 1, -1, -1):
            chosen = D.ite(owed[j], D.num(lay.obj(j) if j < no else lay.sym(j - no)), chosen)
        objects = when if objects_when is None else objects_when
        if lay.bounds.symbols:
            # js_free_value_rt frees a Symbol whatever gc_phase is, REMOVE_CYCLES too (quickjs.c
            # v0.13.0 dec0123 lines 6727-6730); an object then only when no cycle removal runs
            sym_owed = D.or_(*owed[no:])
            by_objects = D.and_(objects, D.or_(*owed[:no]))
            if self.cycles:
                by_objects = D.and_(by_objects, D.not_(self._collecting(S)))
            go = D.or_(D.and_(when, sym_owed), by_objects)
        else:
            go = D.and_(objects, D.or_(*owed))
            if self.cycles:  # gc_phase JS_GC_PHASE_REMOVE_CYCLES: a count reaching zero frees nothing
                go = D.and_(go, D.not_(self._collecting(S)))
        for j in range(no):
            self._collected(S, j, D.and_(go, D.eq(chosen, lay.obj(j))))
        for k in range(lay.bounds.symbols):
            self._collected_symbol(S, k, D.and_(go, D.eq(chosen, lay.sym(k))))
        self.mc.push(S, d, self.host.free_path, {self.freed_param: chosen}, when=go)
        return go

    def _after_free(self, c: Ctx, when: Any) -> None:
        """After a `Free _x_` step: outside the free path (js_finrec_unregister's js_finrec_free,
        gc_phase NONE) what it released is freed at once, above the frame, which goes on with its
        next step when that returns (PHASE_FREEING); inside it, the free is queued."""
        S, D = c.S, c.D
        go = self._free_next(S, c.d, when, D.and_(when, D.not_(self._in_free(S))))
        S.set("frame_phase", PHASE_FREEING, c.d, when=go)

    def _after_free_path(self, c: Ctx, when: Any) -> None:
        """The free path's frame (depth c.d) is popped: free_zero_refcount's loop takes the next
        queued object, in a new frame at the same depth; the frame below goes on waiting."""
        S = c.S
        # a Symbol's free that returns inside an object's free leaves the objects queued
        objects_when = S.d.and_(when, S.d.not_(self._in_free(S))) if self.lay.bounds.symbols else None
        go = self._free_next(S, c.d - 1, when, objects_when)
        S.set("ret", EMPTY, when=go)

    def _after_bottom_pop(self, S: Any, code: int, when: Any) -> None:
        """The stack is empty again: what only the finished job (or task) held is released, as the
        engine's job loop frees a job's arguments once it returns (JS_FreeValue, gc_phase NONE).
        A free path's own return is `_after_free_path`'s."""
        if code != self._free_code():
            self._free_next(S, -1, S.d.true() if when is None else when)

    def _release_by_user(self, S: Any, d: int) -> None:
        """User code (frame d) let go of a reference: what nothing counts any more is freed at
        once on its stack (it resumes, as after a call, when the free path returns), unless it
        runs inside a free path itself (a callback the free path called), where frees queue."""
        D = S.d
        go = self._free_next(S, d, D.true(), D.not_(self._in_free(S)))
        S.set("frame_phase", PHASE_CALL, d, when=go)

    def _freeing_resumes(self) -> list[Command]:
        """A frame waiting in PHASE_FREEING goes on with its next step once the free path above
        it returned (or nothing was left to free)."""
        out = []
        for d in range(self.lay.bounds.frames):
            def fire(S: Any, d: int = d) -> None:
                D = S.d
                S.require(D.eq(S.get("sp"), d + 1))
                S.require(D.eq(S.get("frame_phase", d), PHASE_FREEING))
                S.require(D.eq(S.get("cut"), CUT_NONE))
                S.set("frame_phase", 0, d)
                S.set("ret", EMPTY)

            out.append(Command(f"{self.host.free_path} returned: the step after the free goes on",
                               "host", fire, None))
        return out

    # engine-level type tests of the free path ---------------------------------------------
    def _being_freed(self, c: Ctx, v: Any) -> Any:
        """`_x_ is an object being freed`: QuickJS-NG's free_mark, which free_object sets first
        thing and nothing clears (quickjs.c free_object; JS_IsLiveObject reads it): a free path's
        frame is freeing the object, or it is freed already (during gc_free_cycles a freed member
        of the cycle stays readable until the collection ends)."""
        S, D = c.S, c.D
        lay = self.lay
        k = lay.locals_per_frame
        code = self._free_code()
        x = self.mc.compilers[self.host.free_path].locals.index(self.freed_param)
        freeing = [D.and_(D.lt(f, S.get("sp")), D.eq(S.get("frame_alg", f), code),
                          D.eq(S.get("frame_local", f * k + x), v)) for f in range(lay.bounds.frames)]
        return D.and_(is_obj(c, v), D.or_(D.eq(obj_get(c, "obj_status", v, LIVE), FREED), *freeing))

    def _gc_marked(self, c: Ctx, v: Any) -> Any:
        """`_x_ is an object marked by cycle collection`: QuickJS-NG's header.mark, which gc_decref
        sets on every object and gc_scan clears on the ones it keeps: while gc_free_cycles runs it
        is set exactly on the objects being collected. Outside a collection, and on a host with no
        cycle collector, no object is marked."""
        D = c.D
        if not self.cycles:
            return D.false()
        return D.and_(is_obj(c, v), D.ne(obj_get(c, "gc_mark", v, 0), 0))

    # reference counting with a cycle collector ----------------------------------------------
    # quickjs.c at v0.12.1 (58bdcf0) lines 6820-6951 and v0.13.0 (dec0123) lines 6898-7029, the same
    # code at both tags. JS_RunGC runs gc_decref, gc_scan and gc_free_cycles; it is called by
    # js_trigger_gc (v0.12.1 line 1566, v0.13.0 line 1573) when JS_NewObjectFromShape (v0.12.1 line
    # 5629, v0.13.0 line 5688) allocates past rt->malloc_gc_threshold, and by gc() (quickjs-libc.c
    # js_std_gc). Both are reached only from running code: `{}`, a constructor, a call of gc(); the
    # free paths allocate no object. The model lets the collection start at any step of user code
    # (a built-in's allocation happens before it has made anything, so a collection there frees
    # what one just before the call would). gc_decref and gc_scan leave header.mark set exactly
    # on the objects no outside reference reaches (`gc_mark`); gc_free_cycles (gc_phase
    # JS_GC_PHASE_REMOVE_CYCLES) frees each with free_gc_object -> free_object, whatever its count,
    # taking the head of tmp_obj_list, whose order follows gc_obj_list and the counts
    # (`_free_cycles_order`: exact in a run's first collection, open after one); a count reaching
    # zero meanwhile frees nothing
    # (js_free_value_rt); members freed while still counted stay readable until the loop ends
    # (gc_zero_ref_count_list, js_free_rt after the loop). Then gc_phase is NONE again.

    def _collecting(self, S: Any) -> Any:
        """A cycle collection is running: some object carries its mark."""
        D = S.d
        return D.or_(*[D.ne(S.get("gc_mark", j), 0) for j in range(self.lay.bounds.objects)])

    def _free_cycles_order(self, S: Any, garbage: list[Any]) -> list[Any]:
        """Each object's place in tmp_obj_list, the order gc_free_cycles frees it in: 1 + how many
        members of the collected set come before it (ties: either may come first).

        gc_decref (v0.12.1 lines 6830-6850, v0.13.0 lines 6908-6928) walks gc_obj_list, which
        add_gc_object appends to at each allocation (lines 6678 / 6756), so it is in allocation
        order, which is index order in the model (model/heap.py `new_object`). Visiting p, it
        decrements each child of p in mark_children's order (lines 6721 / 6799: the properties in
        shape order, then the class's gc_mark, for a registry js_finrec_mark, lines 59320 / 59713:
        each entry of frd->entries in list order, held value then token), and gc_decref_child
        (lines 6820 / 6898) moves a child whose count reaches 0 to tmp_obj_list's tail if it was
        visited already; then p itself goes there if its count is 0. A collected object is counted
        only by edges from the collected set, so it goes when the last of those edges is
        subtracted: during the visit of the latest object with an edge to it, at that edge, or at
        the end of its own visit if no later object has one. gc_scan (line 6869 / 6947) leaves the
        collected objects where they are on tmp_obj_list. The key of x is (visit, position in the
        visit); the model does not keep the order of an object's properties (shape order is their
        insertion order), so all property edges of one visit share a position, and two objects
        whose last edges are properties of one object tie. Once a collection has run (`gc_ran`),
        gc_scan may have moved survivors to the tail of gc_obj_list (gc_scan_incref_child, line
        6852 / 6930), in an order the model does not keep: every member ties."""
        D = S.d
        lay = self.lay
        no, nc, ns = lay.bounds.objects, lay.bounds.cells, lay.bounds.slots
        fields = (("cell_held", 1), ("cell_token", 2)) if self.host.strong_tokens else (("cell_held", 1),)
        last = 2 * nc + 1  # after every edge of a visit: the visited object itself

        def key(x: int) -> tuple[Any, Any]:
            visit, at = D.num(x), D.num(last)
            for p in range(x + 1, no):  # a later edge overrides: the last one subtracted counts
                edge, sub = D.false(), D.num(0)
                for s in range(ns):
                    edge = D.or_(edge, D.eq(S.get("prop", lay.prop(p, s)), lay.obj(x)))
                for c in range(nc):
                    owned = D.and_(D.eq(S.get("cell_status", c), LIVE),
                                   D.eq(S.get("cell_owner", c), lay.obj(p)))
                    for f, off in fields:
                        hit = D.and_(owned, D.eq(S.get(f, c), lay.obj(x)))
                        edge = D.or_(edge, hit)
                        sub = D.ite(hit, D.num(2 * c + off), sub)
                visit, at = D.ite(edge, D.num(p), visit), D.ite(edge, sub, at)
            return visit, at

        keys = [key(x) for x in range(no)]

        def before(a: tuple[Any, Any], b: tuple[Any, Any]) -> Any:
            return D.or_(D.lt(a[0], b[0]), D.and_(D.eq(a[0], b[0]), D.lt(a[1], b[1])))

        fresh = D.eq(S.get("gc_ran"), 0)
        ranks = []
        for x in range(no):
            rank = D.num(1)
            for y in range(no):
                if y != x:
                    rank = D.add(rank, D.as_num(D.and_(fresh, garbage[y], before(keys[y], keys[x]))))
            ranks.append(rank)
        return ranks

    def _cycle_collector(self, d: int) -> list[Command]:
        """User code at depth d sets off JS_RunGC (gc(), or an allocation past the threshold); the
        collector then frees the marked objects above it in tmp_obj_list's order, one free path at a
        time, and ends. A collection that finds nothing frees nothing, but it still runs gc_scan,
        which may move survivors in gc_obj_list: it is a step of its own while no collection has
        run yet (`gc_ran`), and changes nothing after."""
        lay = self.lay
        no = lay.bounds.objects

        def start(S: Any) -> None:
            D = S.d
            reached = live_all(S, lay, self.raw_frames, self.host.strong_tokens, counted_cells=True,
                               from_outside=True)
            garbage = [D.and_(D.eq(S.get("obj_status", j), LIVE), D.not_(reached[j])) for j in range(no)]
            found = D.or_(*garbage)
            S.require(D.or_(found, D.eq(S.get("gc_ran"), 0)))
            ranks = self._free_cycles_order(S, garbage)
            for j in range(no):
                S.set("gc_mark", ranks[j], j, when=garbage[j])
            S.set("gc_ran", 1)
            S.set("frame_phase", PHASE_GC, d, when=found)

        out = [self._cmd(Collect(), d, 0, start)]

        def waiting(S: Any) -> None:
            D = S.d
            S.require(D.eq(S.get("sp"), d + 1))
            S.require(D.eq(S.get("frame_phase", d), PHASE_GC))
            S.require(D.eq(S.get("cut"), CUT_NONE))
            S.set("ret", EMPTY)  # what the free path returned, which nobody reads

        for j in range(no):
            def free_one(S: Any, j: int = j) -> None:
                D = S.d
                waiting(S)
                rank = S.get("gc_mark", j)
                S.require(D.ne(rank, 0))
                S.require(D.eq(S.get("obj_status", j), LIVE))
                # tmp_obj_list's head: no member still to free comes before it
                S.require(D.and_(*[D.not_(D.and_(D.ne(S.get("gc_mark", k), 0),
                                                 D.eq(S.get("obj_status", k), LIVE),
                                                 D.lt(S.get("gc_mark", k), rank)))
                                   for k in range(no) if k != j]))
                self._collected(S, j, D.true())
                self.mc.push(S, d, self.host.free_path, {self.freed_param: D.num(lay.obj(j))})

            out.append(Command(f"collector: gc_free_cycles frees obj{j}", "collector", free_one,
                               (d, USER, 0, PHASE_GC)))

        def end(S: Any) -> None:
            D = S.d
            waiting(S)
            for j in range(no):
                S.require(D.not_(D.and_(D.ne(S.get("gc_mark", j), 0), D.eq(S.get("obj_status", j), LIVE))))
                S.set("gc_mark", 0, j)
            S.set("frame_phase", PHASE_RUN, d)

        out.append(Command("collector: gc_free_cycles is done", "collector", end, (d, USER, 0, PHASE_GC)))
        return out

    # commands ---------------------------------------------------------------------------
    def commands(self) -> list[Command]:
        out: list[Command] = []
        nf = self.lay.bounds.frames
        for d in range(nf):
            out.extend(self._mutator(d))
        out.extend(self._event_loop())
        if self.cascade:
            out.extend(self._freeing_resumes())
        if self.cycles:
            for d in range(nf):
                out.extend(self._cycle_collector(d))
        if self.host.collector == "tracing":
            # any-step: also on a full stack, where Execution's frame does not fit: that run is cut
            # at the frames bound and reported, not silently left out
            for d in range(nf + 1 if self.any_step else nf):
                out.extend(self._collector(d))
        return out

    def _user_guard(self, S: Any, d: int, phase: int) -> None:
        D = S.d
        S.require(D.eq(S.get("sp"), d + 1))
        S.require(D.eq(S.get("frame_alg", d), USER))
        S.require(D.eq(S.get("frame_phase", d), phase))
        S.require(D.eq(S.get("cut"), CUT_NONE))

    def _cmd(self, action: Action, d: int, phase: int, body: Any, family: str = "") -> Command:
        """A mutator command: named by its action's label, and carrying the action itself for
        whoever needs to know what user code did (the trace, the witness generator)."""
        def fire(S: Any) -> None:
            self._user_guard(S, d, phase)
            body(S)

        return Command(action.label, "mutator", fire, (d, USER, 0, phase), family=family, action=action)

    @staticmethod
    def _family_name(shape: str, d: int) -> str:
        return f"{shape}(...) at depth {d}"

    def _family(self, name: str, d: int, body: Any, params: tuple[str, ...]) -> Command:
        """The call shape with its arguments as inputs: what the symbolic engines run in place of
        its instances (model/program.py)."""
        inputs = tuple(f"{name}: {p}" for p in params)

        def fire(S: Any) -> None:
            self._user_guard(S, d, 0)
            body(S, *[S.input(n) for n in inputs])

        return Command(name, "mutator", fire, (d, USER, 0, 0), inputs=inputs)

    def _call(self, S: Any, d: int, builtin: str, specials: dict[str, Any], args: tuple[Any, ...],
              phase: int = PHASE_CALL) -> None:
        """User code calls a built-in with `args` and waits for it in `phase` (which call it made).
        The arguments bind the built-in's parameters in order, whatever the text calls them (a
        text or profile that renames _heldValue_ must get the same model); `specials` are the
        this value and NewTarget."""
        params = self.mc.compilers[builtin].alg.params  # (extra arguments are dropped, as in JS)
        self.mc.push(S, d, builtin, {**specials, **{p.name: v for p, v in zip(params, args, strict=False)}})
        S.set("frame_phase", phase, d)

    def _observe_return(self, S: Any, phase: int, r: Any) -> None:
        """Observers of what user code asked for, kept apart from anything the text writes, so
        that properties can hold the text to the meaning of the call (proofs/properties.py)."""
        D = S.d
        lay = self.lay
        a = [S.get("arg", i) for i in range(4)]
        if phase == PHASE_DEREF:  # the object deref handed out, kept until the next ClearKeptObjects
            for i in range(lay.bounds.objects):
                S.set("kept_turn", 1, i, when=D.eq(r, lay.obj(i)))
        if phase == PHASE_NEWWEAKREF:  # the WeakRef made for this target, which it keeps this turn
            made = D.ne(r, THROW)
            for w in range(lay.bounds.objects):
                S.set("wr_target", a[0], w, when=D.eq(r, lay.obj(w)))
                S.set("made", 1 + WEAKREF, w, when=D.eq(r, lay.obj(w)))
                S.set("kept_turn", 1, w, when=D.and_(made, D.eq(a[0], lay.obj(w))))
        if phase == PHASE_NEWREGISTRY:
            for i in range(lay.bounds.objects):
                S.set("made", 1 + REGISTRY, i, when=D.eq(r, lay.obj(i)))
        if phase == PHASE_REGISTER:  # a registration that returned normally is the next cell
            regs = S.get("regs")
            ok = D.eq(r, UNDEF)
            token = D.ite(D.eq(a[3], UNDEF), D.num(EMPTY), a[3])
            for c in range(lay.bounds.cells):
                hit = D.and_(ok, D.eq(regs, c))
                for name, v in (("reg_owner", a[0]), ("reg_target", a[1]), ("reg_held", a[2]),
                                ("reg_token", token)):
                    S.set(name, v, c, when=hit)
                S.set("reg_live", 1, c, when=hit)
            # one past the bound: more registrations returned normally than the observer has room
            # for (an engine that skips one, such as QuickJS-NG for a registry registering
            # itself, can make more calls succeed than it has cells); the observer then abstains
            S.set("regs", D.add(regs, 1), when=D.and_(ok, D.le(regs, lay.bounds.cells)))
        if phase == PHASE_UNREGISTER:  # what unregister(token) removes, whatever it answered
            for c in range(lay.bounds.cells):
                match = D.and_(D.ne(a[1], UNDEF), D.eq(S.get("reg_owner", c), a[0]),
                               D.eq(S.get("reg_token", c), a[1]), D.ne(r, THROW))
                self._forget_registration(S, c, match)
        for i in range(4):
            S.set("arg", EMPTY, i)

    def _collected(self, S: Any, i: int, when: Any) -> None:
        """Observer: the collector takes object i. A WeakRef made for it now answers undefined (its
        target is remembered as collected, no longer as which object), and a registration it made
        as a registry can no longer be delivered: neither keeps a history no property reads."""
        D = S.d
        lay = self.lay
        S.set("gone", 1, i, when=when)
        for w in range(lay.bounds.objects):
            S.set("wr_target", UNDEF, w, when=D.and_(when, D.eq(S.get("wr_target", w), lay.obj(i))))
        if self.host.collector == "reference counting":  # a freed registry's registrations go with it
            for c in range(lay.bounds.cells):
                self._forget_registration(S, c, D.and_(when, D.eq(S.get("reg_owner", c), lay.obj(i))))

    def _collected_symbol(self, S: Any, k: int, when: Any) -> None:
        """Observer: the collector takes Symbol k; a WeakRef made for it now answers undefined."""
        D = S.d
        lay = self.lay
        S.set("sym_gone", 1, k, when=when)
        for w in range(lay.bounds.objects):
            S.set("wr_target", UNDEF, w, when=D.and_(when, D.eq(S.get("wr_target", w), lay.sym(k))))

    @staticmethod
    def _forget_registration(S: Any, c: int, when: Any) -> None:
        """An observed registration that is no longer live keeps nothing: stale fields would only
        split states that no property can tell apart."""
        for name in REG_FIELDS:
            S.set(name, EMPTY, c, when=when)
        S.set("reg_live", 0, c, when=when)

    def _held(self, S: Any, i: int) -> Any:
        D = S.d
        return D.and_(D.eq(S.get("root", i), 1), D.eq(S.get("obj_status", i), LIVE))

    def _mutator(self, d: int) -> list[Command]:
        lay = self.lay
        no = lay.bounds.objects
        out: list[Command] = []
        objs = list(range(no))
        syms = list(range(lay.bounds.symbols))
        # what user code can pass: undefined, a slot, a Symbol it made, the registered Symbol
        values: list[Operand] = [None, *objs, *([*(Sym(k) for k in syms), Sym(None)] if syms else [])]

        def enc(v: Operand) -> int:
            """The layout's encoding of an operand (model/layout.py)."""
            if isinstance(v, Sym):
                return lay.registered_symbol if v.index is None else lay.sym(v.index)
            return UNDEF if v is None else lay.obj(v)

        def arg(S: Any, v: Any, undefined: bool = True) -> Any:
            """An argument of a call user code makes: an object it holds, or undefined (or a
            Symbol it holds, or the registered one, which any code can name). Written over the
            value, so that `v` may be a constant (an instance) or an input (a family)."""
            D = S.d
            cases = [D.and_(D.eq(v, lay.obj(i)), self._held(S, i)) for i in objs]
            if undefined:
                cases += [D.and_(D.eq(v, lay.sym(k)), self._held_symbol(S, k)) for k in syms]
                cases += [D.eq(v, lay.registered_symbol)] if syms else []
            S.require(D.or_(D.eq(v, UNDEF), *cases) if undefined else D.or_(*cases))
            return v

        def remember(S: Any, *values: Any) -> None:
            """Observer: the arguments of the call user code now waits for."""
            for i, v in enumerate(values):
                S.set("arg", v, i)

        def new_weakref(S: Any, t: Any) -> None:
            self._call(S, d, "WeakRef", {"newtarget": S.d.num(NEWTARGET)}, (arg(S, t),), PHASE_NEWWEAKREF)
            remember(S, t)

        def deref(S: Any, r: Any) -> None:
            self._call(S, d, "WeakRef.prototype.deref", {"this": arg(S, r, undefined=False)}, (), PHASE_DEREF)
            remember(S, r)

        def unregister(S: Any, r: Any, t: Any) -> None:
            self._call(S, d, "FinalizationRegistry.prototype.unregister",
                       {"this": arg(S, r, undefined=False)}, (arg(S, t),), PHASE_UNREGISTER)
            remember(S, r, t)

        def register(S: Any, r: Any, t: Any, h: Any, k: Any) -> None:
            self._call(S, d, "FinalizationRegistry.prototype.register", {"this": arg(S, r, undefined=False)},
                       (arg(S, t), arg(S, h), arg(S, k)), PHASE_REGISTER)
            remember(S, r, t, h, k)

        shapes = {"new WeakRef": (new_weakref, ("target",)), "deref": (deref, ("this",)),
                  "unregister": (unregister, ("this", "unregisterToken")),
                  "register": (register, ("this", "target", "heldValue", "unregisterToken"))}

        def instance(action: Action, shape: str, *choice: Operand) -> Command:
            body = shapes[shape][0]
            return self._cmd(action, d, 0, lambda S: body(S, *[S.d.num(enc(v)) for v in choice]),
                             family=self._family_name(shape, d))

        def new_registry(S: Any) -> None:
            self._call(S, d, "FinalizationRegistry", {"newtarget": S.d.num(NEWTARGET)}, (S.d.num(USERFN),),
                       PHASE_NEWREGISTRY)

        out.append(self._cmd(NewRegistry(), d, 0, new_registry))
        for t in values:
            out.append(instance(NewWeakRef(t), "new WeakRef", t))
        for r in objs:
            out.append(instance(Deref(r), "deref", r))
            for t in values:
                out.append(instance(Unregister(r, t), "unregister", r, t))
                for h in values:
                    for k in values:
                        out.append(instance(Register(r, t, h, k), "register", r, t, h, k))
        for shape, (body, params) in shapes.items():
            self.families.append(self._family(self._family_name(shape, d), d, body, params))

        def alloc(S: Any) -> None:
            v = new_object(S, lay, PLAIN, S.d.true())
            for i in objs:
                S.set("root", 1, i, when=S.d.eq(v, lay.obj(i)))
                S.set("made", 1 + PLAIN, i, when=S.d.eq(v, lay.obj(i)))

        out.append(self._cmd(Allocate(), d, 0, alloc))
        if syms:
            out.extend(self._symbols(d))
        for i in objs:
            def drop(S: Any, i: int = i) -> None:
                D = S.d
                S.require(D.eq(S.get("root", i), 1))
                S.set("root", 0, i)
                if self.cascade:
                    self._release_by_user(S, d)
                elif self.host.collector == "reference counting":
                    alive = live_all(S, lay, self.raw_frames, self.host.strong_tokens,
                                     counted_cells=True)[i]
                    gone = D.and_(D.eq(S.get("obj_status", i), LIVE), D.not_(alive))
                    self._collected(S, i, gone)
                    self.mc.push(S, d, self.host.free_path, {self.freed_param: D.num(lay.obj(i))}, when=gone)
                    S.set("frame_phase", 1, d, when=gone)

            out.append(self._cmd(Drop(i), d, 0, drop))
        out.extend(self._properties(d))

        def ret(S: Any) -> None:
            self.mc.pop(S, d, USER, S.d.num(UNDEF))

        out.append(self._cmd(Return(), d, 0, ret))
        if d > 0:
            def throw(S: Any) -> None:
                self.mc.pop(S, d, USER, S.d.num(THROW))
                S.set("cb_threw", 1)

            out.append(self._cmd(Throw(), d, 0, throw))

        def resume(S: Any, phase: int) -> None:
            D = S.d
            r = S.get("ret")
            for i in objs:
                S.set("root", 1, i, when=D.eq(r, lay.obj(i)))
            for k in syms:  # deref of a WeakRef whose target is a Symbol
                S.set("sym_root", 1, k, when=D.eq(r, lay.sym(k)))
            self._observe_return(S, phase, r)
            S.set("ret", EMPTY)
            S.set("frame_phase", PHASE_RUN, d)

        for phase in (PHASE_CALL, PHASE_DEREF, PHASE_UNREGISTER, PHASE_NEWWEAKREF, PHASE_REGISTER,
                      PHASE_NEWREGISTRY):
            out.append(self._cmd(Resumed(), d, phase, lambda S, phase=phase: resume(S, phase)))
        return out

    def _held_symbol(self, S: Any, k: int) -> Any:
        D = S.d
        return D.and_(D.eq(S.get("sym_root", k), 1), D.eq(S.get("sym_status", k), LIVE))

    def _symbols(self, d: int) -> list[Command]:
        """User code (frame d) and non-registered Symbols (bound `symbols`): `Symbol()` makes the
        next unused one (Symbols are never reused, like cells), and user code may let go of one
        it holds. On a reference-counting host a Symbol whose last counted reference goes is
        freed at once, on the stack of the drop, through the same free path as an object: quickjs.c
        JS_FreeAtomStruct (v0.12.1 58bdcf0 lines 3232-3270, v0.13.0 dec0123 lines 3248-3286)
        runs reset_weak_ref over the Symbol's weak-reference list (line 3261 / 3277) and frees
        it; the profile's free path is reset_weak_ref followed by the free, and its step for a
        registry's own cells does not apply to a Symbol (it has no [[Cells]])."""
        lay = self.lay
        out: list[Command] = []

        def new_symbol(S: Any) -> None:
            D = S.d
            found = D.false()
            for k in range(lay.bounds.symbols):
                hit = D.and_(D.not_(found), D.eq(S.get("sym_status", k), NONE))
                S.set("sym_status", LIVE, k, when=hit)
                S.set("sym_root", 1, k, when=hit)
                found = D.or_(found, hit)
            S.require(found)  # every Symbol made already: a bound, like `objects`

        out.append(self._cmd(NewSymbol(), d, 0, new_symbol))
        for k in range(lay.bounds.symbols):
            def drop(S: Any, k: int = k) -> None:
                D = S.d
                S.require(D.eq(S.get("sym_root", k), 1))
                S.set("sym_root", 0, k)
                if self.cascade:
                    self._release_by_user(S, d)
                elif self.host.collector == "reference counting":
                    bit = lay.bounds.objects + k
                    alive = live_all(S, lay, self.raw_frames, self.host.strong_tokens,
                                     counted_cells=True)[bit]
                    gone = D.and_(D.eq(S.get("sym_status", k), LIVE), D.not_(alive))
                    self._collected_symbol(S, k, gone)
                    self.mc.push(S, d, self.host.free_path, {self.freed_param: D.num(lay.sym(k))}, when=gone)
                    S.set("frame_phase", 1, d, when=gone)

            out.append(self._cmd(Drop(Sym(k)), d, 0, drop))
        return out

    def _properties(self, d: int) -> list[Command]:
        """User code (frame d) and the property slots of the objects it holds (bound `slots`):
        store an object it holds, delete, read back. A store or delete releases what the slot
        held (on a reference-counting host that may free it, and what it alone held, at once);
        a read makes the object there one user code holds. A slot of an allocated object never
        refers to a freed one (its count, or its reachability, keeps it); a read that found one
        would be a use after free, and says so."""
        lay = self.lay
        objs = range(lay.bounds.objects)
        out: list[Command] = []
        for r in objs:
            for p in range(lay.bounds.slots):
                at = lay.prop(r, p)

                def store(S: Any, r: int = r, at: int = at, v: int = 0) -> None:
                    S.require(self._held(S, r))
                    S.require(self._held(S, v))
                    S.set("prop", lay.obj(v), at)
                    if self.cascade:
                        self._release_by_user(S, d)

                for v in objs:
                    out.append(self._cmd(SetProperty(r, p, v), d, 0,
                                         lambda S, store=store, v=v: store(S, v=v)))

                def delete(S: Any, r: int = r, at: int = at) -> None:
                    D = S.d
                    S.require(self._held(S, r))
                    S.require(D.ne(S.get("prop", at), EMPTY))
                    S.set("prop", EMPTY, at)
                    if self.cascade:
                        self._release_by_user(S, d)

                out.append(self._cmd(DeleteProperty(r, p), d, 0, delete))

                def read(S: Any, r: int = r, at: int = at) -> None:
                    D = S.d
                    S.require(self._held(S, r))
                    v = S.get("prop", at)
                    S.require(D.ne(v, EMPTY))
                    for j in objs:
                        there = D.eq(v, lay.obj(j))
                        S.set("err_uaf", 1, when=D.and_(there, D.eq(S.get("obj_status", j), FREED)))
                        S.set("root", 1, j, when=D.and_(there, D.eq(S.get("obj_status", j), LIVE)))

                out.append(self._cmd(GetProperty(r, p), d, 0, read))
        return out

    def _event_loop(self) -> list[Command]:
        mc = self.mc

        def clear(S: Any) -> None:
            D = S.d
            S.require(D.eq(S.get("sp"), 0))
            S.require(D.eq(S.get("cut"), CUT_NONE))
            S.require(D.eq(S.get("need_clear"), 1))
            S.set("need_clear", 0)
            for i in range(self.lay.bounds.objects):  # observer: a new turn of [[KeptAlive]]
                S.set("kept_turn", 0, i)
            mc.push(S, -1, "ClearKeptObjects", {})

        def next_job(S: Any) -> None:
            D = S.d
            S.require(D.eq(S.get("sp"), 0))
            S.require(D.eq(S.get("cut"), CUT_NONE))
            S.require(D.eq(S.get("need_clear"), 0))
            qlen = S.get("qlen")
            S.require(D.lt(0, qlen))
            job = S.get("queue", 0)
            kind = S.get("queue_kind", 0)
            nj = self.lay.bounds.jobs
            for q in range(nj - 1):
                S.set("queue", S.get("queue", q + 1), q)
                S.set("queue_kind", S.get("queue_kind", q + 1), q)
            S.set("queue", EMPTY, nj - 1)
            S.set("queue_kind", 0, nj - 1)
            S.set("qlen", D.sub(qlen, 1))
            cleanup = D.eq(kind, JOB_CLEANUP)
            if CLEANUP_JOB in mc.codes:
                mc.push(S, -1, CLEANUP_JOB, {self.job_capture: job}, when=cleanup)
            else:  # the text's hook runs cleanup itself, so no cleanup job is ever queued
                S.require(D.not_(cleanup))
            # a callback job: user code runs with the held value it was given
            mc.push(S, -1, "<user>", {}, when=D.not_(cleanup))
            for i in range(self.lay.bounds.objects):
                S.set("root", 1, i, when=D.and_(D.not_(cleanup), D.eq(job, self.lay.obj(i))))
            for k in range(self.lay.bounds.symbols):  # a held value that is a Symbol
                S.set("sym_root", 1, k, when=D.and_(D.not_(cleanup), D.eq(job, self.lay.sym(k))))

        def next_turn(S: Any) -> None:
            """A later turn of the event loop (a timer, an event, a message: sec-jobs leaves their
            source to the host): with the stack empty, [[KeptAlive]] cleared and no job queued,
            the script's code may run again, holding what its variables still hold. Without it
            nothing could run after the first drain of the queue: a deref after a collection, a
            re-registration after a cleanup, an unregister after a delivery were unreachable."""
            D = S.d
            S.require(D.eq(S.get("sp"), 0))
            S.require(D.eq(S.get("cut"), CUT_NONE))
            S.require(D.eq(S.get("need_clear"), 0))
            S.require(D.eq(S.get("qlen"), 0))
            mc.push(S, -1, "<user>", {})

        return [Command("event loop: ClearKeptObjects", "event-loop", clear, None),
                Command("event loop: run the next job", "event-loop", next_job, None),
                Command("event loop: the script runs again (a later task)", "event-loop", next_turn, None)]

    def _collector(self, d: int) -> list[Command]:
        lay = self.lay
        no = lay.bounds.objects
        exec_code = self.mc.codes[EXECUTION]
        atomic = [exec_code] + [self.mc.codes[n] for n, c in self.mc.compilers.items()
                                if c.alg.atomic and n != EXECUTION]
        members = no + lay.bounds.symbols  # S is a set of objects and/or symbols: bit no + k is Symbol k
        out = []
        for size in range(1, members + 1):
            for subset in combinations(range(members), size):
                mask = sum(1 << i for i in subset)

                def collect(S: Any, subset: tuple[int, ...] = subset, mask: int = mask) -> None:
                    D = S.d
                    S.require(D.eq(S.get("sp"), d))
                    S.require(D.eq(S.get("cut"), CUT_NONE))
                    if d > 0 and not self.any_step:  # between steps of user code (the reduced schedule)
                        S.require(D.eq(S.get("frame_alg", d - 1), USER))
                    if d > 0:
                        # between two steps: not while a frame waits for the value its callee just
                        # returned (that value is in no variable yet)
                        S.require(D.eq(S.get("frame_phase", d - 1), 0))
                    for k in range(d):
                        for code in atomic:
                            S.require(D.ne(S.get("frame_alg", k), code))
                    for i in subset:
                        status = S.get("obj_status", i) if i < no else S.get("sym_status", i - no)
                        S.require(D.eq(status, LIVE))
                    outside = [D.false() if j in subset else D.true() for j in range(members)]
                    alive = live_all(S, lay, strong_tokens=self.host.strong_tokens, outside=outside)
                    for i in subset:
                        S.require(D.not_(alive[i]))
                    for i in subset:  # observer: these are collected, whatever Execution then does
                        if i < no:
                            self._collected(S, i, D.true())
                        else:
                            self._collected_symbol(S, i - no, D.true())
                    binds = self.mc.compilers[EXECUTION].alg.binds
                    self.mc.push(S, d - 1, EXECUTION, {binds[0]: D.num(mask)})

                names = ", ".join(f"obj{i}" if i < no else f"sym{i - no}" for i in subset)
                site = (d - 1, USER, 0, 0) if d > 0 and not self.any_step else None
                out.append(Command(f"collector: S = {{{names}}} is not live", "collector", collect,
                                   site))
        return out
