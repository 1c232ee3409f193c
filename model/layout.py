"""The bounded state: which variables exist, how values are encoded as small integers.

Value encoding (one unsigned byte per variable):

    0 ~empty~        1 *undefined*    2 *false*     3 *true*      4 ~unused~
    5 throw completion (a *TypeError*; abrupt completions carry no other payload)
    6 the user function (every callback is the most general client)
    7 the JobCallback Record of that function     8 the realm / active function
                              (with the object graph, bound `slots`, on a tracing host, user code
                              may also make function objects, objects of kind FUNCTION, and pass
                              one as a registry's callback: the JobCallback Record of function
                              object f is written f itself, model/expressions.py `_record`)
    9 NewTarget (built-ins are always called with `new`)
    OBJ .. OBJ+objects-1      heap objects (plain, WeakRef, FinalizationRegistry)
                              (also in `prop`, an object's property slots: ~empty~ or an object)
    CELL .. CELL+cells-1      FinalizationRegistry cell Records (heap entities: a
                              removed or freed cell can still be read via a stale alias)
    SYM .. SYM+symbols-1      non-registered Symbols (`Symbol()`), bound `symbols`
    SYM+symbols               the registered Symbol `Symbol.for("k")`
    SYM+symbols+1             the GlobalSymbolRegistry's one entry { [[Key]]: "k", [[Symbol]]: it }
    SYM+symbols+2             the String "k"
                              (these four exist only with symbols >= 1: at symbols=0 every value,
                              variable and index is the one the model had before Symbols)
    ENT .. ENT+weakmaps-1     WeakMap entry Records { [[Key]], [[Value]] } (heap entities, never
                              reused, like cells), bound `weakmaps`; ENT is the first value after
                              the Symbols' (after the cells' without Symbols)
                              (these exist only with weakmaps >= 1)
    WSE .. WSE+weaksets-1     WeakSet elements (the places of a [[WeakSetData]] List: heap
                              entities, never reused), bound `weaksets`; WSE = ENT+weakmaps. An
                              element's value is an object, a Symbol or ~empty~ (`wse_value`):
                              a step binds that value, never the element, whose own value only
                              a loop's hidden position holds (model/flow.py `position_local`)
    WSE+weaksets              *null* (only the WeakMap and WeakSet constructors' `_iterable_ is
                              either *undefined* or *null*` read it)
                              (it exists only with weakmaps + weaksets >= 1)

Records and lists as heap entities: a registry's [[Cells]] List is the set of
cells whose `cell_owner` is that registry, in allocation order (cells are never
reused, so allocation order is append order).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from specmc.model.bounds import Bounds

EMPTY, UNDEF, FALSE, TRUE, UNUSED, THROW, USERFN, JOBCB, REALM, NEWTARGET = range(10)
OBJ = 10

# frame_phase of a user-code frame waiting for a built-in it called: which call, so that
# observers can judge its result when it comes back
PHASE_RUN, PHASE_CALL, PHASE_DEREF, PHASE_UNREGISTER, PHASE_NEWWEAKREF, PHASE_REGISTER = 0, 1, 2, 3, 4, 5
PHASE_NEWREGISTRY = 6
# frame_phase of an algorithm's frame whose step released the last counted reference to an object:
# the host's free path runs above it, and the frame goes on with its next step when that returns
# (reference-counting hosts with an object graph, bound `slots`; model/env.py)
PHASE_FREEING = 7
# frame_phase of a user-code frame during a cycle collection it set off (an allocation past the
# engine's threshold, or gc()): the collector frees the marked objects above it, and user code goes
# on when none is left (reference-counting hosts with `cycle collection: trial deletion`)
PHASE_GC = 8
# frame_phase of a user-code frame waiting for a WeakMap or WeakSet built-in (bounds `weakmaps`,
# `weaksets`): which one, so that the observers of what user code put in its collections can judge
# the answer (`weak-collection-results`). `has` and `delete` are one phase each for both kinds: the
# receiver's own method runs, and both answer whether the receiver holds the key
PHASE_NEWWEAKMAP, PHASE_NEWWEAKSET, PHASE_WM_GET, PHASE_WM_SET, PHASE_WS_ADD = 9, 10, 11, 12, 13
PHASE_WC_HAS, PHASE_WC_DELETE = 14, 15
WEAK_PHASES = (PHASE_NEWWEAKMAP, PHASE_NEWWEAKSET, PHASE_WM_GET, PHASE_WM_SET, PHASE_WS_ADD,
               PHASE_WC_HAS, PHASE_WC_DELETE)

# the observer fields of one registration besides `reg_live` (model/env.py, model/heap.py)
REG_FIELDS = ("reg_owner", "reg_target", "reg_held", "reg_token")

# `cut`: which bound ended this run (the state is final; a bound reached is never a violation)
CUT_NONE, CUT_FRAMES, CUT_JOBS, CUT_LISTS = 0, 1, 2, 3
# CUT_LISTS: a cell appended to a [[Cells]] list while it is in one already. The model keeps each
# cell's list as one owner (a set of cells per registry), so it cannot follow a text that holds a
# cell twice, or in two registries: the run ends there, and is reported like a bound hit.
CUT_NAMES = {CUT_FRAMES: "frames", CUT_JOBS: "jobs", CUT_LISTS: "cells-once"}

# what a permutation of object indices touches (model/symmetry.py): the arrays indexed by object
# (`prop` too, in blocks of `slots`), and the variables whose values may name an object (OBJ..),
# each renamed. `frame_local` holds values too, except the bitmask locals of a set of objects
# (an algorithm's prose-bound _S_), whose bits are objects: model/symmetry.py reads those per
# algorithm. Everything else (pcs, counts, flags, cells, job kinds) no permutation changes.
OBJECT_ARRAYS = ("obj_status", "obj_kind", "obj_target", "obj_cb", "root", "kept", "kept_turn",
                 "wr_target", "gone", "made", "gc_mark", "zero_list")
REFERENCES = ("ret", "obj_target", "obj_cb", "prop", "cell_owner", "cell_target", "cell_held",
              "cell_token", "queue", "arg", "wr_target", *REG_FIELDS, "ent_owner", "ent_key",
              "ent_value", "wse_owner", "wse_value", "wk_owner", "wk_key", "wk_value", "queue_cb",
              "cell_cb", "cell_reg")

# object / cell status
NONE, LIVE, FREED = 0, 1, 2
# object kinds
PLAIN, WEAKREF, REGISTRY, WEAKMAP, WEAKSET = 0, 1, 2, 3, 4
# a function object user code made (`function () {}`; bound `slots`, tracing hosts): callable, and
# its property slots are its captured variables (docs/model.md, "Callbacks as objects")
FUNCTION = 5
KIND_NAMES = {PLAIN: "Object", WEAKREF: "WeakRef", REGISTRY: "FinalizationRegistry", WEAKMAP: "WeakMap",
              WEAKSET: "WeakSet", FUNCTION: "Function"}

REGISTERED_NAME = 'Symbol.for("k")'  # how traces, labels and witnesses write the registered Symbol

NAMED_VALUES = {EMPTY: "~empty~", UNDEF: "undefined", FALSE: "false", TRUE: "true",
                UNUSED: "~unused~", THROW: "throw", USERFN: "callback", JOBCB: "JobCallback",
                REALM: "realm", NEWTARGET: "NewTarget"}


@dataclass(frozen=True)
class Layout:
    bounds: Bounds
    locals_per_frame: int
    names: tuple[tuple[str, int, int], ...] = field(default=())  # (name, base, size)
    index: dict[str, tuple[int, int]] = field(default_factory=dict, compare=False)

    @staticmethod
    def build(bounds: Bounds, locals_per_frame: int, cycles: bool = False, cascade: bool = False,
              callbacks: str = "none", weak_lists: bool = False, raw_registry: bool = False) -> Layout:
        """`cycles`: the host collects cycles (model/refcount.py), which needs `gc_mark`; without it the
        layout is the one it was before cycle collection existed, byte for byte. `cascade`: frees
        cascade (a reference-counting host with slots >= 1), which needs `zero_list`; without it
        the layout is the one it was before the engine's free order was followed. `callbacks`: the
        host's `callback references` (model/hosts.py) where frees cascade: other than "none" a
        queued callback job holds its callback (`queue_cb`), and with "registry and registrations"
        a cell holds its own (`cell_cb`); with "none" neither exists. `weak_lists`: the host's free
        path walks a target's weak-reference list (`[[WeakRefRecords]]`, model/loops.py), whose
        order across cells and WeakMap entries needs `ent_order` (with the bound `weakmaps`);
        `raw_registry`: a host step reads a cell's `[[Registry]]`, its uncounted pointer to the
        registry it was appended to (`cell_reg`). Without them neither exists."""
        no, nc, nf, nj = bounds.objects, bounds.cells, bounds.frames, bounds.jobs
        nsym = bounds.symbols
        nw = bounds.weakmaps
        nws = bounds.weaksets
        spec = [
            ("sp", 1), ("ret", 1), ("qlen", 1), ("need_clear", 1),
            ("err_uaf", 1), ("err_assert", 1), ("cut", 1),
            ("obj_status", no), ("obj_kind", no), ("obj_target", no), ("obj_cb", no),
            ("root", no), ("kept", no),
            # Symbol k: its status (NONE, LIVE, FREED), whether user code holds it, whether
            # [[KeptAlive]] holds it, and (observer) whether the collector took it (bound `symbols`)
            *((("sym_status", nsym), ("sym_root", nsym), ("sym_kept", nsym), ("sym_gone", nsym))
              if nsym else ()),
            # property slot s of object i is prop[i * slots + s] (bound `slots`; absent at slots=0,
            # so that the model without an object graph keeps its layout byte for byte)
            *((("prop", no * bounds.slots),) if bounds.slots else ()),
            # header.mark of QuickJS-NG's collector: set on the objects a cycle collection frees,
            # for as long as it runs, to 1 + how many of them come before it in tmp_obj_list, the
            # order gc_free_cycles frees them in (only on a host that collects cycles)
            *((("gc_mark", no),) if cycles else ()),
            # 1 once a cycle collection has run (gc_scan may have moved survivors in gc_obj_list, so
            # that list is no longer in allocation order; model/refcount.py `_cycle_collector`)
            *((("gc_ran", 1),) if cycles else ()),
            # QuickJS-NG's rt->gc_zero_ref_count_list, the objects whose count reached 0 and that
            # free_zero_refcount has still to free: 0 for an object not on it, else its place,
            # 1 at the bottom; free_zero_refcount takes the highest (the list's head: js_free_value_rt
            # adds with list_add). Objects released together in an order the engine's source does
            # not fix, as the model keeps it, share a place (model/refcount.py `_queue_owed`).
            # Only where frees cascade.
            *((("zero_list", no),) if cascade else ()),
            # WeakMap entry e: its status (NONE, LIVE, FREED), the WeakMap whose [[WeakMapData]] holds
            # it (~empty~ until appended), its [[Key]] and [[Value]] (bound `weakmaps`)
            *((("ent_status", nw), ("ent_owner", nw), ("ent_key", nw), ("ent_value", nw))
              if nw else ()),
            # WeakSet element e: its status (NONE, LIVE, FREED), the WeakSet whose [[WeakSetData]]
            # holds it, and its value (an object, a Symbol, or ~empty~ once deleted or cleared by
            # Execution 1.d) (bound `weaksets`)
            *((("wse_status", nws), ("wse_owner", nws), ("wse_value", nws)) if nws else ()),
            ("cell_status", nc), ("cell_owner", nc), ("cell_target", nc), ("cell_held", nc),
            ("cell_token", nc), ("cell_delivered", nc),
            # the callback a cell counts a reference to (QuickJS-NG v0.13.0's fre->cb), set when the
            # cell is appended to a registry's [[Cells]] (callback references: registry and registrations)
            *((("cell_cb", nc),) if callbacks == "registry and registrations" else ()),
            # the registry a cell was appended to, kept after `Remove` unlinks it and cleared when the
            # cell is freed: QuickJS-NG v0.12.1's fre->obj, a raw, uncounted pointer (only where a
            # host step reads a cell's [[Registry]])
            *((("cell_reg", nc),) if raw_registry else ()),
            # ent_order[e * cells + c] is 1 when cell c was made before WeakMap entry e: the relative
            # order of the two records on a target's weak-reference list, whose newest record is first
            # (QuickJS-NG's insert_weakref_record adds at the head); cells among themselves and
            # entries among themselves are in index order, as they are never reused. Only where the
            # host's free path walks that list, with the bound `weakmaps`
            *((("ent_order", nw * nc),) if weak_lists and nw else ()),
            ("queue", nj), ("queue_kind", nj),
            # the callback a queued callback job holds (JS_EnqueueJob's js_dup of its arguments),
            # where the host counts callback references
            *((("queue_cb", nj),) if callbacks != "none" else ()),
            ("frame_alg", nf), ("frame_pc", nf), ("frame_phase", nf),
            ("frame_local", nf * locals_per_frame),
            # observers (ghosts): written by the environment, never read by a step of the text, so
            # that properties can judge what the text did without trusting it
            # user code was promised this object until the next ClearKeptObjects: deref returned it,
            # or a WeakRef was made for it (sec-weak-ref-target 4, sec-weakref-invariants)
            ("kept_turn", no),
            ("arg", 4),  # the arguments of the built-in call user code is waiting for
            ("wr_target", no),  # the target user code gave `new WeakRef(...)` that returned this object
            ("gone", no),  # the collector took this object (it was in an Execution's S, or freed)
            # how user code got this object: 1 + PLAIN (`{}`), 1 + WEAKREF (`new WeakRef`), 1 + REGISTRY
            # (`new FinalizationRegistry`); 0: not made yet
            ("made", no),
            ("regs", 1),  # registrations that returned normally so far: the next one is cell `regs`
            ("reg_owner", nc), ("reg_target", nc), ("reg_held", nc), ("reg_token", nc),
            ("reg_live", nc),  # registration c, as user code made it; not yet delivered or unregistered
            # what user code put in its WeakMaps and WeakSets (bounds `weakmaps`, `weaksets`): record
            # r is a key (or WeakSet value) `wk_key` that collection `wk_owner` holds with `wk_value`
            # (*true* for a WeakSet), as the calls that returned normally made it; ~empty~ owner: no
            # record. `wk_count`: records appended so far (one past the room: the observer abstains)
            *((("wk_count", 1), ("wk_owner", nw + nws), ("wk_key", nw + nws), ("wk_value", nw + nws))
              if nw + nws else ()),
            ("bad_delivery", 1),  # a callback got a held value that is not what was registered, or early
            ("escaped", 1),  # an abrupt completion left a job (a bottom frame other than user code)
            ("cb_threw", 1),  # a callback (user code called from a built-in or job) threw
        ]
        names = []
        index = {}
        base = 0
        for name, size in spec:
            names.append((name, base, size))
            index[name] = (base, size)
            base += size
        return Layout(bounds, locals_per_frame, tuple(names), index)

    @property
    def size(self) -> int:
        last = self.names[-1]
        return last[1] + last[2]

    def where(self, name: str) -> tuple[int, int]:
        return self.index[name]

    @property
    def cell_base(self) -> int:
        return OBJ + self.bounds.objects

    def obj(self, i: int) -> int:
        return OBJ + i

    def cell(self, i: int) -> int:
        return self.cell_base + i

    def sym(self, k: int) -> int:
        """The value of non-registered Symbol k."""
        return self.cell_base + self.bounds.cells + k

    @property
    def registered_symbol(self) -> int:
        """`Symbol.for("k")`: the one registered Symbol (with symbols >= 1)."""
        return self.sym(self.bounds.symbols)

    @property
    def registry_entry(self) -> int:
        """The GlobalSymbolRegistry's one entry, a Record { [[Key]], [[Symbol]] }."""
        return self.registered_symbol + 1

    @property
    def symbol_key(self) -> int:
        """The String "k" the registered Symbol was made with (its [[Key]])."""
        return self.registered_symbol + 2

    @property
    def ent_base(self) -> int:
        """The value of WeakMap entry 0: after the Symbols' values (bound `weakmaps`)."""
        return self.cell_base + self.bounds.cells + (self.bounds.symbols + 3 if self.bounds.symbols else 0)

    def ent(self, e: int) -> int:
        """The value of WeakMap entry Record e."""
        return self.ent_base + e

    @property
    def wse_base(self) -> int:
        """The value of WeakSet element 0: after the WeakMap entries' (bound `weaksets`)."""
        return self.ent_base + self.bounds.weakmaps

    def wse(self, e: int) -> int:
        """The value of WeakSet element e (only a loop's hidden position holds it)."""
        return self.wse_base + e

    @property
    def null(self) -> int:
        """*null*, a value only with weakmaps + weaksets >= 1."""
        return self.wse_base + self.bounds.weaksets

    @property
    def has_null(self) -> bool:
        """*null* is a value: some constructor user code calls reads it (WeakMap, WeakSet)."""
        return bool(self.bounds.weakmaps or self.bounds.weaksets)

    def prop(self, i: int, s: int) -> int:
        """The index in `prop` of object i's property slot s."""
        return i * self.bounds.slots + s

    def describe(self, v: int) -> str:
        if v in NAMED_VALUES:
            return NAMED_VALUES[v]
        if OBJ <= v < self.cell_base:
            return f"obj{v - OBJ}"
        if self.cell_base <= v < self.cell_base + self.bounds.cells:
            return f"cell{v - self.cell_base}"
        if self.bounds.symbols:
            if self.sym(0) <= v < self.registered_symbol:
                return f"sym{v - self.sym(0)}"
            if v == self.registered_symbol:
                return REGISTERED_NAME
            if v == self.registry_entry:
                return "GlobalSymbolRegistry[0]"
            if v == self.symbol_key:
                return '"k"'
        if self.ent_base <= v < self.wse_base:
            return f"entry{v - self.ent_base}"
        if self.wse_base <= v < self.null:
            return f"element{v - self.wse_base}"
        if self.has_null and v == self.null:
            return "null"
        return str(v)

# the names the model runs two algorithms under, whoever defines them (model/build.py), and the
# kinds of queued job (`queue_kind`)
EXECUTION = "Execution"
CLEANUP_JOB = "cleanupJob"
# a tracing host profile's steps run at the end of every collection, right after Execution
# (model/env.py `_collection_end`); only a profile defines it, under this name
COLLECTION_END = "HostCollectionEnd"
JOB_CLEANUP, JOB_CALLBACK = 0, 1
