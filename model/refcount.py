"""Reference counting as QuickJS-NG does it: cascading frees and the cycle collector.

A mixin of `Environment` (model/env.py), which sets the attributes it reads (`mc`, `host`, `lay`,
`cascade`, `cycles`, ...). With an object graph (bound `slots`) frees cascade: whatever a freed
object or cell held and nothing else counts a reference to is freed in turn (`_free_next`), at
once when no free path runs and queued while one does; a host with `cycle collection: trial
deletion` also frees, when user code runs, every object no reference from outside the object
graph reaches (`_cycle_collector`), in the engine's tmp_obj_list order (docs/model.md)."""

from __future__ import annotations

from typing import Any

from specmc.model.actions import (
    Collect,
)
from specmc.model.compile import USER
from specmc.model.expressions import Ctx
from specmc.model.heap import is_obj, obj_get
from specmc.model.layout import (
    CUT_NONE,
    EMPTY,
    FREED,
    LIVE,
    PHASE_CALL,
    PHASE_FREEING,
    PHASE_GC,
    PHASE_RUN,
)
from specmc.model.liveness import live_all
from specmc.model.program import Command


class Counting:
    """The reference-counting half of the environment (mixed into `Environment`)."""

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

    def _freeing(self, S: Any) -> list[Any]:
        """Per object, then per Symbol: some active frame of the free path is freeing it."""
        D = S.d
        lay = self.lay
        code = self._free_code()
        k = lay.locals_per_frame
        x = self.mc.compilers[self.host.free_path].locals.index(self.freed_param)
        values = [lay.obj(j) for j in range(lay.bounds.objects)]
        values += [lay.sym(j) for j in range(lay.bounds.symbols)]
        return [D.or_(*[D.and_(D.lt(f, S.get("sp")), D.eq(S.get("frame_alg", f), code),
                               D.eq(S.get("frame_local", f * k + x), v))
                        for f in range(lay.bounds.frames)]) for v in values]

    def _unreferenced(self, S: Any, freeing: list[Any]) -> list[Any]:
        """Object (then Symbol) j is allocated, no counted reference is left to it, and no free
        path is freeing it. The properties of an object a free path is freeing count no more:
        free_object releases them first (model/liveness.py `live_all`, `released`)."""
        D = S.d
        lay = self.lay
        no = lay.bounds.objects
        alive = live_all(S, lay, self.raw_frames, self.host.strong_tokens, counted_cells=True,
                         released=freeing[:no])
        out = []
        for j in range(no + lay.bounds.symbols):
            status = S.get("obj_status", j) if j < no else S.get("sym_status", j - no)
            out.append(D.and_(D.eq(status, LIVE), D.not_(alive[j]), D.not_(freeing[j])))
        return out

    # the engine's free order ----------------------------------------------------------------
    # quickjs.c, the same code at v0.12.1 (58bdcf0) and v0.13.0 (dec0123). JS_FreeValueRT calls
    # js_free_value_rt when a count reaches 0, which (gc_phase not JS_GC_PHASE_REMOVE_CYCLES) moves the
    # object to the head of rt->gc_zero_ref_count_list with list_add (v0.12.1 line 6633, v0.13.0 line
    # 6711) and, only when gc_phase is JS_GC_PHASE_NONE, calls free_zero_refcount (6635 / 6713).
    # free_zero_refcount (6577-6592 / 6655-6670) sets JS_GC_PHASE_DECREF and, until the list is
    # empty, frees its head (el = rt->gc_zero_ref_count_list.next, 6584 / 6662) with free_gc_object;
    # free_object unlinks the object only at its end (remove_gc_object, 6555 / 6633). So the list is
    # a stack: of the objects owed a free, the one whose count reached 0 last goes first, and all that
    # one free queues goes before what was queued under it. free_object (6516 / 6594) releases, in
    # this order: the properties in shape order (free_property, 6529 / 6607), the weak references
    # (reset_weak_ref, 6542 / 6620: per registration the held value, then the token, 59530-59531 /
    # js_finrec_free 59684-59685), the class finalizer (6547 / 6625; js_finrec_finalizer's entries in
    # list order, held value then token, 59311-59312 / 59684-59685). The model keeps that stack in
    # `zero_list`; a count reaching 0 is read off the references after each releasing step.

    def _queue_owed(self, S: Any, when: Any, freeing: list[Any], held: Any = None, token: Any = None,
                    outside: Any = None) -> None:
        """js_free_value_rt's list_add: put on `zero_list`, above what is there, every object whose
        last counted reference the step just released (it is allocated, unreferenced, not being
        freed and not on the list yet).

        Several objects released by one step go in the order the engine releases them where the
        source fixes it and the model keeps it: a freed cell (`held`, `token`: its held value and
        strong token) releases the held value before the token (quickjs.c js_finrec_free, v0.13.0
        lines 59684-59685; v0.12.1 reset_weak_ref 59530-59531, js_finrec_finalizer 59311-59312,
        js_finrec_unregister 59416-59417), so inside a free path (`outside` false) the token goes
        above the held value and is freed first. Outside one (`outside`: gc_phase
        JS_GC_PHASE_NONE, js_finrec_unregister) the held value's count reaching 0 runs
        free_zero_refcount at once, and the token is released only when that returns: the token
        goes under the held value even while something the held value's cascade frees still holds
        it (a pending release: `_free_next` drops it when it comes to the top still referenced).
        Objects one step releases in an order the model does not keep share a place, and
        `_free_next` takes the lowest index among them: the properties of one object (shape order
        is their insertion order, which the model does not keep; at slots=1 an object has one), and
        what a built-in's frame that returned left unreferenced (no shipped profile's built-in is
        a last holder), and a v0.13.0 cell's own callback (`cell_cb`), which js_finrec_free
        releases after the token (line 59686) but which is the last reference only once its
        registry went before the cell, with a Symbol's immediate free (docs/model.md, "Callbacks
        as objects"): it shares the held value's place. Nothing is queued while a cycle collection
        runs (js_free_value_rt in JS_GC_PHASE_REMOVE_CYCLES)."""
        D = S.d
        lay = self.lay
        no = lay.bounds.objects
        if self.cycles:
            when = D.and_(when, D.not_(self._collecting(S)))
        places = [S.get("zero_list", j) for j in range(no)]
        top = D.num(0)
        for q in places:
            top = D.ite(D.lt(top, q), q, top)
        owed = self._unreferenced(S, freeing)[:no]
        new = [D.and_(owed[j], D.eq(places[j], 0)) for j in range(no)]
        if token is None or not self.host.strong_tokens:
            for j in range(no):
                S.set("zero_list", D.add(top, 1), j, when=D.and_(when, new[j]))
            return
        second = [D.and_(D.eq(token, lay.obj(j)), D.ne(held, lay.obj(j))) for j in range(no)]
        # outside a free path the token waits under the held value's cascade, owed or not
        pending = [D.and_(outside, second[j], D.eq(S.get("obj_status", j), LIVE), D.not_(freeing[j]),
                          D.eq(places[j], 0)) for j in range(no)]
        first = [D.and_(new[j], D.not_(second[j])) for j in range(no)]
        later = [D.and_(D.not_(outside), new[j], second[j]) for j in range(no)]
        any_first, any_pending = D.or_(*first), D.or_(*pending)
        for j in range(no):
            S.set("zero_list", D.add(top, 1), j, when=D.and_(when, pending[j]))
            S.set("zero_list", D.add(top, D.add(1, D.as_num(any_pending))), j, when=D.and_(when, first[j]))
            S.set("zero_list", D.add(top, D.add(1, D.as_num(any_first))), j, when=D.and_(when, later[j]))

    def _free_next(self, S: Any, d: int, when: Any, objects_when: Any = None, held: Any = None,
                   token: Any = None) -> Any:
        """After a step that released references: queue what it left unreferenced (`_queue_owed`),
        then push the free path above frame d for what the engine frees next, if anything; the
        condition under which it did. Under `when` a Symbol owed a free goes first, the lowest
        (its free is never deferred, `_in_free`); an object only under `objects_when` (`when` if not
        given): the head of `zero_list` (free_zero_refcount's el = gc_zero_ref_count_list.next). A
        head still referenced is a pending token (`_queue_owed`) whose release did not reach 0: it
        leaves the list unfreed. The object whose free starts releases its properties at once
        (free_property comes first in free_object): what they alone held is queued above the rest."""
        D = S.d
        lay = self.lay
        no = lay.bounds.objects
        objects = when if objects_when is None else objects_when
        freeing = self._freeing(S)
        self._queue_owed(S, when, freeing, held, token, D.not_(self._in_free(S)))
        owed = self._unreferenced(S, freeing)
        sym_owed = D.and_(when, D.or_(*owed[no:]))
        chosen = D.num(EMPTY)
        for k in range(lay.bounds.symbols - 1, -1, -1):
            chosen = D.ite(owed[no + k], D.num(lay.sym(k)), chosen)
        # free_zero_refcount takes the list's head; a pending token still referenced leaves it
        places = [S.get("zero_list", j) for j in range(no)]
        take = D.and_(objects, D.not_(sym_owed))
        if self.cycles:  # gc_phase JS_GC_PHASE_REMOVE_CYCLES: a count reaching zero frees nothing
            take = D.and_(take, D.not_(self._collecting(S)))
        head = D.num(EMPTY)
        for _ in range(no):
            top = D.num(0)
            for q in places:
                top = D.ite(D.lt(top, q), q, top)
            at = D.num(EMPTY)
            for j in range(no - 1, -1, -1):
                at = D.ite(D.and_(D.ne(top, 0), D.eq(places[j], top)), D.num(lay.obj(j)), at)
            found = D.eq(head, EMPTY)
            for j in range(no):
                here = D.and_(take, found, D.eq(at, lay.obj(j)))
                places[j] = D.ite(here, D.num(0), places[j])  # off the list, freed or not
                head = D.ite(D.and_(here, owed[j]), D.num(lay.obj(j)), head)
        for j in range(no):
            S.set("zero_list", places[j], j)
        go_obj = D.ne(head, EMPTY)
        chosen = D.ite(sym_owed, chosen, head)
        go = D.or_(sym_owed, go_obj)
        for j in range(no):
            self._collected(S, j, D.and_(go_obj, D.eq(head, lay.obj(j))))
        for k in range(lay.bounds.symbols):
            self._collected_symbol(S, k, D.and_(sym_owed, D.eq(chosen, lay.sym(k))))
        self.mc.push(S, d, self.host.free_path, {self.freed_param: chosen}, when=go)
        # free_object's free_property: the new frame is freeing `head`, so its properties count no more
        self._queue_owed(S, go_obj, self._freeing(S))
        return go

    def _after_free(self, c: Ctx, freed: Any, when: Any) -> None:
        """After a `Free _x_` step: outside the free path (js_finrec_unregister's js_finrec_free,
        gc_phase NONE) what it released is freed at once, above the frame, which goes on with its
        next step when that returns (PHASE_FREEING); inside it, the free is queued. A freed cell
        released its held value, then its token (`_queue_owed`)."""
        S, D = c.S, c.D
        lay = self.lay
        held = token = D.num(EMPTY)
        for k in range(lay.bounds.cells):
            hit = D.eq(freed, lay.cell(k))
            held = D.ite(hit, S.get("cell_held", k), held)
            token = D.ite(hit, S.get("cell_token", k), token)
        go = self._free_next(S, c.d, when, D.and_(when, D.not_(self._in_free(S))), held, token)
        S.set("frame_phase", PHASE_FREEING, c.d, when=go)

    def _after_release(self, c: Ctx, when: Any) -> None:
        """After a step wrote a WeakMap entry's [[Value]], letting go of the counted reference the
        entry held to the old value (quickjs.c at v0.12.1 (58bdcf0) and v0.13.0 (dec0123), the same
        code: js_map_set's JS_FreeValue(ctx, mr->value) on an existing key, map_delete_record's
        JS_FreeValueRT(rt, mr->value), reset_weak_ref's second pass and js_map_finalizer; docs/model.md
        "WeakMaps"): as after `Free _x_`, what nothing counts any more is freed at once above the
        frame outside a free path (gc_phase JS_GC_PHASE_NONE, as from a built-in or a Symbol's
        free), queued inside one; the frame goes on with its next step when that returns."""
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
        # the positions of a visit's edges: properties 0; with counted callbacks the registry's
        # frd->cb 1 (js_finrec_mark marks it before the entries: v0.12.1 line 59325, v0.13.0 line
        # 59718), then per cell its held value, token and (v0.13.0, line 59724) its fre->cb
        counted_cb = "queue_cb" in lay.index
        fields: tuple[tuple[str, int], ...] = (("cell_held", 0), ("cell_token", 1))
        if not self.host.strong_tokens:
            fields = fields[:1]
        if "cell_cb" in lay.index:
            fields += (("cell_cb", 2),)
        stride, first = (3, 2) if counted_cb else (2, 1)
        # with WeakMaps, mark_children's mark_weak_map_value (v0.12.1 line 6761, v0.13.0 line 6839)
        # visits a key's entries' values after its properties and before the class's gc_mark:
        # position 1 (ties among them), the registry's edges one later
        maps = lay.bounds.weakmaps
        if maps:
            first += 1
        last = stride * nc + first  # after every edge of a visit: the visited object itself

        def key(x: int) -> tuple[Any, Any]:
            visit, at = D.num(x), D.num(last)
            for p in range(x + 1, no):  # a later edge overrides: the last one subtracted counts
                edge, sub = D.false(), D.num(0)
                for s in range(ns):
                    edge = D.or_(edge, D.eq(S.get("prop", lay.prop(p, s)), lay.obj(x)))
                for e in range(maps):  # an entry keyed by p holding x
                    hit = D.and_(D.eq(S.get("ent_status", e), LIVE), D.eq(S.get("ent_key", e), lay.obj(p)),
                                 D.eq(S.get("ent_value", e), lay.obj(x)))
                    edge = D.or_(edge, hit)
                    sub = D.ite(hit, D.num(1), sub)
                if counted_cb:
                    # a freed registry keeps its obj_cb value, which no longer counts
                    hit = D.and_(D.eq(S.get("obj_status", p), LIVE), D.eq(S.get("obj_cb", p), lay.obj(x)))
                    edge = D.or_(edge, hit)
                    sub = D.ite(hit, D.num(first - 1), sub)
                for c in range(nc):
                    owned = D.and_(D.eq(S.get("cell_status", c), LIVE),
                                   D.eq(S.get("cell_owner", c), lay.obj(p)))
                    for f, off in fields:
                        hit = D.and_(owned, D.eq(S.get(f, c), lay.obj(x)))
                        edge = D.or_(edge, hit)
                        sub = D.ite(hit, D.num(stride * c + first + off), sub)
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
