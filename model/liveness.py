"""Liveness as sec-liveness defines it, over the model's state: which objects and Symbols are live.

A collector may reclaim only what is not live; the model computes the live set as a fixpoint over
the references user code and the runtime hold (written over `View`/`Domain`, so the explorer and
Z3 compute the same set). Split from model/env.py, which uses it for the tracing collector and
the reference-counting hosts' frees."""

from __future__ import annotations

from typing import Any

from specmc.model.layout import (
    EMPTY,
    LIVE,
    WEAKREF,
)


def live_all(S: Any, lay: Any, raw_frames: tuple[int, ...] = (), strong_tokens: bool = False,
             counted_cells: bool = False, outside: list[Any] | None = None,
             from_outside: bool = False, released: list[Any] | None = None,
             dead_cells_pending: bool = False) -> list[Any]:
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
    alone freed held values that a later cleanup then delivered.) With `dead_cells_pending` (a
    tracing host whose profile defines HostCollectionEnd, run at the end of every collection) a
    registration whose target is already collected keeps its registry pending too: any later
    collection may queue that registry's cleanup (JSC's reconcileWeakReferencesAtGCEnd queues a
    registry with dead registrations left, and JSFinalizationRegistry::visitChildrenImpl marks the
    held values of dead registrations as of live ones). With `counted_cells`
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
    deref may still return it, and user code may read its properties, or, with WeakMaps, call
    `get` on it (a map) or with it (a key) and so reach an entry's value; such a target is then
    live. Without properties and WeakMaps nothing is read from a deref'd value, so this is only
    done with `slots` or `weakmaps` (an independent review found the WeakMap case missing: at
    slots=0 a value whose map was reachable only through a live WeakRef was collected, and a
    later deref and `get` observed the freed value under the spec's own host).

    With function objects (bound `slots`) on a tracing host a registry keeps its callback live,
    and through the function's properties what it captured, while the registry is live or
    `pending`: [[CleanupCallback]] is a strong reference, and a cleanup that may still run calls
    it. On a reference-counting host whose profile counts callback references (the layout then
    has `queue_cb`, and `cell_cb` where registrations count one too) the callback is referred to
    by an allocated registry whose [[CleanupCallback]] it is (QuickJS-NG's frd->cb, released by
    js_finrec_finalizer when the free path frees the registry), by each queued callback job
    (the job's js_dup'd argument) and by each live cell whose own copy it is (v0.13.0's fre->cb,
    released by js_finrec_free); the cycle collector marks the first and the last as edges of
    the registry (js_finrec_mark). On a counting host without it no registry's callback is a
    function object (model/env.py `functions`).

    With WeakMaps (bound `weakmaps`) on a tracing host an entry keeps its value live while its
    WeakMap and its key are (`_with_ephemerons`); with `counted_cells` each live entry counts a
    reference to its value (`_by_entries`), and for the cycle collector (`from_outside`) that
    reference is an edge from an object key, or an outside one under a Symbol key.

    `from_outside` (a reference-counting host's cycle collector): object j is reached from a
    reference held outside the object graph (the roots above) through the graph's counted edges:
    an allocated object's properties, and the held value (and strong token) of each live cell of
    a reached registry (js_finrec_mark marks them as the registry's children). What is allocated
    and not reached is what trial deletion frees: gc_decref subtracts every edge inside the graph
    from the counts, so an object keeps a count only through an outside reference, and gc_scan
    gives back its count to everything reachable from such an object. A Symbol is no object of
    that graph (quickjs.c's gc_decref walks rt->gc_obj_list, which holds no atoms), so the answer
    has no entry for Symbols.

    `released[i]` (with `counted_cells` and `slots`): object i's properties no longer count. A free
    path is freeing it, and QuickJS-NG's free_object releases the properties first thing
    (free_property over the shape, quickjs.c v0.12.1 58bdcf0 lines 6525-6529, v0.13.0 dec0123
    lines 6603-6607), before the weak references and the finalizer, where the profile's
    `Free _obj_` step comes last."""
    D = S.d
    no, nc = lay.bounds.objects, lay.bounds.cells
    ns = lay.bounds.slots
    k = lay.locals_per_frame
    fields = ("cell_held", "cell_token") if strong_tokens else ("cell_held",)
    # a reference-counting host that counts callback references (model/layout.py)
    job_callbacks = "queue_cb" in lay.index
    cell_callbacks = "cell_cb" in lay.index

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
        if job_callbacks:  # a queued callback job holds its callback (JS_EnqueueJob's js_dup)
            terms += [D.and_(D.lt(q, S.get("qlen")), D.eq(S.get("queue_cb", q), v))
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
    # waits for its target to be collected (then Execution 1.b may enqueue r's cleanup), or, with
    # `dead_cells_pending`, r has any registration left (the end of a collection may enqueue it)
    pending = [D.and_(allocated[r], D.or_(*[owned(c, r) if dead_cells_pending else
                                            D.and_(owned(c, r), D.ne(S.get("cell_target", c), EMPTY))
                                            for c in range(nc)]))
               for r in range(no)]
    # cell c holds object j (its held value, or its token) for owner r
    holds = [[[D.and_(owned(c, r), D.eq(S.get(f, c), lay.obj(j)))
               for c in range(nc) for f in fields] for r in range(no)] for j in range(no)]
    # object i's property slot s refers to object j
    props = [[D.eq(S.get("prop", lay.prop(i, s)), lay.obj(j)) for i in range(no) for s in range(ns)]
             for j in range(no)]
    # registry r's [[CleanupCallback]] is function object j (bound `slots`, tracing hosts: a
    # function object's JobCallback Record is written as the function, model/expressions.py
    # `_record`). A strong reference (sec-liveness), for as long as the registry's cleanup may
    # still call it: while r is live, and while r is unreachable but `pending`, as for held values
    callbacks = [[D.eq(S.get("obj_cb", r), lay.obj(j)) for r in range(no)] if ns else []
                 for j in range(no)]
    # counted references to callback j: registry r's own (frd->cb), and cell c's own copy (fre->cb)
    if job_callbacks:
        by_registry = [[D.and_(allocated[r], callbacks[j][r]) for r in range(no)] for j in range(no)]
        by_cell = [[D.and_(D.eq(S.get("cell_status", c), LIVE), D.eq(S.get("cell_cb", c), lay.obj(j)))
                    for c in range(nc)] if cell_callbacks else [] for j in range(no)]
    # counted references of WeakMap entries (reference-counting hosts): each live entry holds its
    # value (js_map_set's js_dup), whatever became of its map and key; the profile's free path
    # empties the value when it releases it
    held_by_entry = [_by_entries(S, lay, lay.obj(j)) for j in range(no)] if counted_cells else []
    if from_outside:
        # js_finrec_mark marks frd->cb and, at v0.13.0, each listed entry's fre->cb: edges of a
        # reached registry
        def marked(j: int, level: list[Any]) -> list[Any]:
            if not job_callbacks:
                return []
            out = [D.and_(level[r], by_registry[j][r]) for r in range(no)]
            out += [D.and_(level[r], owned(c, r), by_cell[j][c])
                    for r in range(no) for c in range(len(by_cell[j]))]
            return out

        # a WeakMap entry's value is a child of its key only (mark_children's mark_weak_map_value,
        # quickjs.c v0.12.1 58bdcf0 lines 6705-6719 and 6760-6762, v0.13.0 dec0123 lines 6783-6797;
        # a WeakMap has no gc_mark): gc_decref subtracts it while visiting an object key; a Symbol
        # is no GC object, so under a Symbol key (or none) the entry's count is an outside one
        def by_keys(j: int, level: list[Any]) -> list[Any]:
            """Entries holding object j: under a reached object key, or under no object key."""
            out = []
            for e in range(lay.bounds.weakmaps):
                there = D.and_(D.eq(S.get("ent_status", e), LIVE), D.eq(S.get("ent_value", e), lay.obj(j)))
                key = S.get("ent_key", e)
                by_object = [D.eq(key, lay.obj(r)) for r in range(no)]
                out.append(D.and_(there, D.not_(D.or_(*by_object))))
                out += [D.and_(there, b, level[r], allocated[r]) for r, b in enumerate(by_object)]
            return out

        level = roots
        for _ in range(no):
            level = [D.or_(roots[j], *[D.and_(h, level[r]) for r in range(no) for h in holds[j][r]],
                           *[D.and_(level[i // ns], allocated[i // ns], p) for i, p in enumerate(props[j])],
                           *marked(j, level), *(by_keys(j, level) if lay.bounds.weakmaps else []))
                     for j in range(no)]
        return level
    if counted_cells and ns:
        def counted(j: int) -> Any:
            by_cells = [D.and_(D.eq(S.get("cell_status", c), LIVE), D.eq(S.get(f, c), lay.obj(j)))
                        for c in range(nc) for f in fields]
            by_props = [D.and_(allocated[i // ns], p) if released is None else
                        D.and_(allocated[i // ns], D.not_(released[i // ns]), p)
                        for i, p in enumerate(props[j])]
            by_callback = [*by_registry[j], *by_cell[j]] if job_callbacks else []
            return D.or_(roots[j], *by_cells, *by_props, *by_callback, *held_by_entry[j])

        level = [counted(j) for j in range(no)]
    elif counted_cells:
        level = [D.or_(roots[j], *[D.and_(h, allocated[r]) for r in range(no) for h in holds[j][r]],
                       *held_by_entry[j])
                 for j in range(no)]
    elif lay.bounds.weakmaps:
        return _with_ephemerons(S, lay, roots, holds, pending, props, outside, frame_vals, in_frame,
                                allocated, fields, callbacks)
    else:
        level = roots
        for _ in range(no):
            level = [D.or_(roots[j], *[D.and_(h, D.or_(level[r], pending[r]))
                                       for r in range(no) for h in holds[j][r]],
                           *[D.and_(level[i // ns], p) for i, p in enumerate(props[j])],
                           *[D.and_(D.or_(level[r], pending[r]), cb) for r, cb in enumerate(callbacks[j])],
                           *([D.and_(outside[j], level[w], allocated[w], D.eq(S.get("obj_kind", w), WEAKREF),
                                     D.eq(S.get("obj_target", w), lay.obj(j))) for w in range(no)]
                             if ns and outside is not None else []))
                     for j in range(no)]
    return level + [_symbol_live(S, lay, k, level, fields, frame_vals, in_frame, allocated, pending,
                                 counted_cells, outside) for k in range(lay.bounds.symbols)]


def _symbol_live(S: Any, lay: Any, k: int, level: list[Any], fields: tuple[str, ...],
                 frame_vals: list[tuple[Any, Any]], in_frame: list[Any], allocated: list[Any],
                 pending: list[Any], counted_cells: bool, outside: list[Any] | None,
                 readable: bool = False) -> Any:
    """Symbol k is live (sec-liveness speaks of "objects and/or symbols" alike): held by user code,
    by [[KeptAlive]], by a queued job, by an active frame (or a cell Record it holds), or as a
    held value (a token, where tokens are strong) of a cell whose registry keeps it, exactly as an
    object would be. A Symbol holds nothing itself, so no object's liveness depends on it. On a
    tracing host with properties or WeakMaps (`readable`: a Symbol deref hands out is a key
    `get` reads a value with), a live WeakRef's deref may hand out a target outside S (see
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
    if counted_cells:  # a WeakMap entry's counted reference (`live_all`)
        terms += _by_entries(S, lay, v)
    if (ns or readable) and outside is not None and not counted_cells:
        terms += [D.and_(outside[no + k], level[w], allocated[w], D.eq(S.get("obj_kind", w), WEAKREF),
                         D.eq(S.get("obj_target", w), v)) for w in range(no)]
    return D.or_(*terms)


def _by_entries(S: Any, lay: Any, v: int) -> list[Any]:
    """On a reference-counting host: the live WeakMap entries whose [[Value]] is v, each a counted
    reference (none without the bound `weakmaps`)."""
    D = S.d
    return [D.and_(D.eq(S.get("ent_status", e), LIVE), D.eq(S.get("ent_value", e), v))
            for e in range(lay.bounds.weakmaps)]


def _with_ephemerons(S: Any, lay: Any, roots: list[Any], holds: list[Any], pending: list[Any],
                     props: list[Any], outside: list[Any] | None, frame_vals: list[tuple[Any, Any]],
                     in_frame: list[Any], allocated: list[Any], fields: tuple[str, ...],
                     callbacks: list[list[Any]]) -> list[Any]:
    """`live_all` on a tracing host with WeakMaps (bound `weakmaps`): the fixpoint over objects and
    Symbols together, since a WeakMap entry makes its [[Value]] live only while both the WeakMap
    and the entry's [[Key]] are live (an ephemeron, sec-weakmap-objects' note; sec-liveness: with
    the key not live, no execution can present it to `get`), and the key may be an object or a
    Symbol while the value may be either too. The entry does not make its key live (the WeakMap
    holds it weakly). One more round per object and per Symbol: each round adds at least one
    member or ends the fixpoint."""
    D = S.d
    no, ns, nsym = lay.bounds.objects, lay.bounds.slots, lay.bounds.symbols
    members = [lay.obj(j) for j in range(no)] + [lay.sym(x) for x in range(nsym)]

    def key_live(key: Any, level: list[Any]) -> Any:
        return D.or_(*[D.and_(D.eq(key, v), level[m]) for m, v in enumerate(members)])

    def by_entries(v: int, level: list[Any]) -> list[Any]:
        out = []
        for e in range(lay.bounds.weakmaps):
            there = D.and_(D.eq(S.get("ent_status", e), LIVE), D.eq(S.get("ent_value", e), v))
            owner = S.get("ent_owner", e)
            map_live = D.or_(*[D.and_(D.eq(owner, lay.obj(r)), level[r]) for r in range(no)])
            out.append(D.and_(there, map_live, key_live(S.get("ent_key", e), level)))
        return out

    level = roots + [D.false()] * nsym
    for _ in range(no + nsym):
        objs = [D.or_(roots[j], *[D.and_(h, D.or_(level[r], pending[r]))
                                  for r in range(no) for h in holds[j][r]],
                      *[D.and_(level[i // ns], p) for i, p in enumerate(props[j])],
                      *[D.and_(D.or_(level[r], pending[r]), cb) for r, cb in enumerate(callbacks[j])],
                      *([D.and_(outside[j], level[w], allocated[w], D.eq(S.get("obj_kind", w), WEAKREF),
                                D.eq(S.get("obj_target", w), lay.obj(j))) for w in range(no)]
                        if outside is not None else []),
                      *by_entries(lay.obj(j), level))
                for j in range(no)]
        syms = [D.or_(_symbol_live(S, lay, x, level[:no], fields, frame_vals, in_frame, allocated,
                                   pending, False, outside, readable=True), *by_entries(lay.sym(x), level))
                for x in range(nsym)]
        level = objs + syms
    return level
