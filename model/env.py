"""The environment around the compiled algorithms: mutator, collector, event loop.

All of it is written over `View`/`Domain`, like the steps, so the explorer and Z3
see the same environment.

- mutator: whenever user code runs (the script, or a cleanup callback) it may
  allocate, construct a FinalizationRegistry or WeakRef, register, unregister,
  deref, drop a reference, return or throw, with arguments ranging over what it
  holds (`root`). Built-ins it calls are the compiled spec algorithms.
- collector, tracing hosts (sec-liveness, sec-weakref-execution): at any time,
  for any non-empty set S of objects none of which is live, run the Execution
  algorithm atomically with S bound; afterwards S's memory is reclaimed, and the
  profile's HostCollectionEnd, if it has one, runs (still atomically).
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

from specmc.model.compile import USER, ModelCompiler
from specmc.model.errors import ModelError
from specmc.model.expressions import Ctx
from specmc.model.hosts import HostProfile
from specmc.model.layout import (
    CLEANUP_JOB,
    COLLECTION_END,
    CUT_JOBS,
    CUT_NONE,
    EMPTY,
    EXECUTION,
    FREED,
    JOB_CALLBACK,
    JOB_CLEANUP,
    LIVE,
)
from specmc.model.liveness import live_all
from specmc.model.mutator import Mutator
from specmc.model.program import Command
from specmc.model.refcount import Counting
from specmc.spec import diagnostics as diag


class Environment(Counting, Mutator):
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
        # a tracing profile's steps at the end of every collection (model/hosts.py, HostCollectionEnd)
        self.collection_end = COLLECTION_END in mc.compilers
        if self.collection_end:
            mc.hooks_after_pop[EXECUTION] = self._collection_end
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
        # the registry, each queued callback job and (at "registry and registrations") each cell
        # count a reference to the callback (the profile's `callback references`; model/build.py
        # says the same to the layout, which then has `queue_cb` and maybe `cell_cb`)
        self.counted_callbacks = self.cascade and host.callback_refs != "none"
        # function objects as callbacks (docs/model.md, "Callbacks as objects"): with the object
        # graph, on a tracing host, or on a reference-counting host whose profile says who counts
        # the callback (without that its free path would never release one a registry held:
        # model.build.host_notes says so beside every verdict there)
        self.functions = self.lay.bounds.slots > 0 and (host.collector == "tracing" or self.counted_callbacks)
        mc.functions = self.functions
        if self.cascade:
            mc.after_free = self._after_free
            mc.after_release = self._after_release
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
        add = D.and_(when, D.not_(already)) if self.host.scheduling == "one task per registry" else when
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
        if self.counted_callbacks:  # JS_EnqueueJob js_dups each argument, the callback too
            S.set("queue_cb", args[0], qlen, when=when)
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
        alive = live_all(S, self.lay, strong_tokens=self.host.strong_tokens, outside=outside,
                         dead_cells_pending=self.collection_end)
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
            for e in range(self.lay.bounds.weakmaps):  # a reclaimed WeakMap's entries go with it
                S.set("ent_status", FREED, e, when=D.and_(hit, D.eq(S.get("ent_owner", e), self.lay.obj(i))))
            for e in range(self.lay.bounds.weaksets):  # a reclaimed WeakSet's elements go with it
                S.set("wse_status", FREED, e, when=D.and_(hit, D.eq(S.get("wse_owner", e), self.lay.obj(i))))

    def _collection_end(self, c: Ctx, when: Any) -> None:
        """Once Execution's frame is popped (and `_reclaim` took what it could): the profile's
        HostCollectionEnd, in the frame Execution had, so a collection that fits the frames bound
        fits with it. It is atomic with Execution: the collector never starts while it runs
        (`_collector`), and nothing else can, since user code runs only on its own frame and the
        event loop only on an empty stack. Its return value is dropped (no frame waits for it)."""
        self.mc.push(c.S, c.d - 1, COLLECTION_END, {}, when=when)

    # reference counting with an object graph: cascading frees ---------------------------
    # quickjs.c at v0.13.0 (dec0123): a count reaching zero in js_free_value_rt (lines 6673-6737)
    # puts the object at the head of rt->gc_zero_ref_count_list, and frees it at once through
    # free_zero_refcount (lines 6655-6670) only when rt->gc_phase is JS_GC_PHASE_NONE: from
    # script code and from a built-in such as js_finrec_unregister, the free runs on the stack of
    # the release, before the releasing function goes on. Inside free_zero_refcount the phase is
    # JS_GC_PHASE_DECREF, so what a free_object releases (its properties through free_property, a
    # registration's held value and token through js_finrec_free) is only queued, and
    # free_zero_refcount's loop frees it after that free_object returned, until the list is
    # empty. The list is a stack (the head, where list_add puts an object, is taken first); the
    # model keeps it as `zero_list` (model/refcount.py, "the engine's free order").

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

        def next_job(S: Any, at: int = 0) -> None:
            """Run the queued job at position `at` (0, the head, unless the host runs its queue in
            any order), closing the gap it leaves."""
            D = S.d
            S.require(D.eq(S.get("sp"), 0))
            S.require(D.eq(S.get("cut"), CUT_NONE))
            S.require(D.eq(S.get("need_clear"), 0))
            qlen = S.get("qlen")
            S.require(D.lt(at, qlen))
            job = S.get("queue", at)
            kind = S.get("queue_kind", at)
            nj = self.lay.bounds.jobs
            for q in range(at, nj - 1):
                S.set("queue", S.get("queue", q + 1), q)
                S.set("queue_kind", S.get("queue_kind", q + 1), q)
            S.set("queue", EMPTY, nj - 1)
            S.set("queue_kind", 0, nj - 1)
            callback = S.get("queue_cb", at) if self.counted_callbacks else None
            if callback is not None:
                for q in range(at, nj - 1):
                    S.set("queue_cb", S.get("queue_cb", q + 1), q)
                S.set("queue_cb", EMPTY, nj - 1)
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
            if callback is not None:
                # js_finrec_job's JS_Call(ctx, argv[0], ...): the callback's activation holds the
                # function object, as Call(F, ...) does on a tracing host (model/statements.py)
                for i in range(self.lay.bounds.objects):
                    S.set("root", 1, i, when=D.and_(D.not_(cleanup), D.eq(callback, self.lay.obj(i))))

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

        later = range(1, self.lay.bounds.jobs) if self.host.scheduling == "any order" else range(0)
        return [Command("event loop: ClearKeptObjects", "event-loop", clear, None),
                Command("event loop: run the next job", "event-loop", next_job, None),
                *(Command(f"event loop: run queued job {at + 1} first (any order)", "event-loop",
                          lambda S, at=at: next_job(S, at), None) for at in later),
                Command("event loop: the script runs again (a later task)", "event-loop", next_turn, None)]

    def _collector(self, d: int) -> list[Command]:
        lay = self.lay
        no = lay.bounds.objects
        exec_code = self.mc.codes[EXECUTION]
        # Execution, the profile's steps at a collection's end (run with it), and any algorithm
        # the text says runs atomically
        atomic = [exec_code] + [self.mc.codes[n] for n, c in self.mc.compilers.items()
                                if (c.alg.atomic or n == COLLECTION_END) and n != EXECUTION]
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
                    alive = live_all(S, lay, strong_tokens=self.host.strong_tokens, outside=outside,
                                     dead_cells_pending=self.collection_end)
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
