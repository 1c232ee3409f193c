"""The runtime's heap as compiled steps read and change it: objects, cells, registrations.

Each operation is written once against `View`/`Domain` (model/domain.py), like the steps that
call it, so it serves the reference interpreter and Z3 alike. A read or write of something freed
sets `err_uaf`; a slot the object's kind lacks sets `err_assert`; an allocation with nothing free
cuts the run (a bound, not an error).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from specmc.model.domain import B, V, View
from specmc.model.errors import model_error
from specmc.model.layout import (
    EMPTY,
    FREED,
    FUNCTION,
    JOBCB,
    LIVE,
    NONE,
    OBJ,
    PLAIN,
    REALM,
    REG_FIELDS,
    REGISTRY,
    THROW,
    UNDEF,
    USERFN,
    WEAKMAP,
    WEAKREF,
    WEAKSET,
    Layout,
)
from specmc.spec import ir

if TYPE_CHECKING:
    from specmc.model.expressions import Ctx

KIND_OF_TYPE = {"WeakRef": WEAKREF, "FinalizationRegistry": REGISTRY, "WeakMap": WEAKMAP,
                "WeakSet": WEAKSET}
# the types of ECMA-262 the model may have no instance of: a loop over every one of them runs no
# iteration (Execution 1.c and 1.d). WeakMaps exist only with the bound `weakmaps`, WeakSets only
# with `weaksets` (`absent_types`). Any other type name in such a loop is an error, never an empty
# loop: one misspelt letter in "FinalizationRegistry" would otherwise delete the loop.
ABSENT_TYPES = frozenset({"WeakMap", "WeakSet"})
SLOT_KIND = {"WeakRefTarget": WEAKREF, "Cells": REGISTRY, "CleanupCallback": REGISTRY,
             "Realm": REGISTRY, "WeakMapData": WEAKMAP, "WeakSetData": WEAKSET}


def absent_types(weakmaps: int, weaksets: int = 0) -> frozenset[str]:
    """The types a heap quantifier finds no instance of at these bounds: WeakMap is one only
    without the bound `weakmaps`, WeakSet only without `weaksets` (at 0 Execution 1.c, 1.d stay
    loops that make no transitions, and the model is the one before WeakMaps, WeakSets existed)."""
    return ABSENT_TYPES - ({"WeakMap"} if weakmaps else set()) - ({"WeakSet"} if weaksets else set())


def is_obj(c: Ctx[V, B], v: V | int) -> B:
    lay = c.alg.mc.layout
    D = c.D
    return D.and_(D.le(OBJ, v), D.lt(v, lay.cell_base))


def is_symbol(c: Ctx[V, B], v: V | int) -> B:
    """v is a Symbol: a non-registered one or `Symbol.for("k")` (false without Symbols)."""
    lay = c.alg.mc.layout
    D = c.D
    if not lay.bounds.symbols:
        return D.false()
    return D.and_(D.le(lay.sym(0), v), D.le(v, lay.registered_symbol))


def sym_get(c: Ctx[V, B], name: str, v: V | int, default: int) -> V | int:
    """Slot `name` (sym_status, ...) of the non-registered Symbol v; default for other values."""
    lay = c.alg.mc.layout
    return select(c, name, v, lay.sym(0), lay.bounds.symbols, default)


def is_entry(c: Ctx[V, B], v: V | int) -> B:
    """v is a WeakMap entry Record (false without the bound `weakmaps`)."""
    lay = c.alg.mc.layout
    D = c.D
    if not lay.bounds.weakmaps:
        return D.false()
    return D.and_(D.le(lay.ent_base, v), D.lt(v, lay.wse_base))


def ent_get(c: Ctx[V, B], name: str, v: V | int, default: int) -> V | int:
    """Slot `name` (ent_key, ...) of the WeakMap entry v; default for other values."""
    lay = c.alg.mc.layout
    return select(c, name, v, lay.ent_base, lay.bounds.weakmaps, default)


def is_cell(c: Ctx[V, B], v: V | int) -> B:
    lay = c.alg.mc.layout
    D = c.D
    return D.and_(D.le(lay.cell_base, v), D.lt(v, lay.cell_base + lay.bounds.cells))


def select(c: Ctx[V, B], name: str, v: V | int, first: int, count: int, default: int) -> V | int:
    """Read slot `name` of the entity whose value is v (values first..first+count-1);
    default when v is not one of them. With a symbolic v this is an if-then-else chain."""
    D = c.D
    out: V | int = D.num(default)
    for i in range(count - 1, -1, -1):
        out = D.ite(D.eq(v, first + i), c.S.get(name, i), out)
    return out


def obj_get(c: Ctx[V, B], name: str, v: V | int, default: int) -> V | int:
    return select(c, name, v, OBJ, c.alg.mc.layout.bounds.objects, default)


def cell_get(c: Ctx[V, B], name: str, v: V | int, default: int) -> V | int:
    lay = c.alg.mc.layout
    return select(c, name, v, lay.cell_base, lay.bounds.cells, default)


def check_live(c: Ctx[V, B], v: V | int, when: B | bool) -> None:
    """A read or write of a freed object, cell or Symbol is a use after free."""
    D = c.D
    symbol = [D.eq(sym_get(c, "sym_status", v, LIVE), FREED)] if c.alg.mc.layout.bounds.symbols else []
    entry = [D.eq(ent_get(c, "ent_status", v, LIVE), FREED)] if c.alg.mc.layout.bounds.weakmaps else []
    freed = D.or_(D.eq(obj_get(c, "obj_status", v, LIVE), FREED),
                  D.eq(cell_get(c, "cell_status", v, LIVE), FREED), *symbol, *entry)
    c.S.set("err_uaf", 1, when=D.and_(when, freed))


def check_cell(c: Ctx[V, B], j: int, when: B | bool) -> None:
    D = c.D
    c.S.set("err_uaf", 1, when=D.and_(when, D.eq(c.S.get("cell_status", j), FREED)))


def kind_is(c: Ctx[V, B], v: V | int, kind: int) -> B:
    D = c.D
    return D.and_(is_obj(c, v), D.eq(obj_get(c, "obj_kind", v, PLAIN), kind),
                  D.ne(obj_get(c, "obj_status", v, NONE), NONE))


def has_slot(c: Ctx[V, B], v: V | int, slot: str) -> B:
    if slot == "HeldValue" and c.alg.mc.weak_lists:
        # `_rec_ has a [[HeldValue]] field`: a record of a target's weak-reference list
        # ([[WeakRefRecords]], model/loops.py) is a registration (a cell) or a WeakMap entry
        return is_cell(c, v)
    kind = SLOT_KIND.get(slot)
    if kind is None:
        return c.D.false()
    return kind_is(c, v, kind)


def type_test(c: Ctx[V, B], v: V | int, type_name: str, s: ir.Step) -> B:
    D = c.D
    if type_name == "Object":
        return is_obj(c, v)
    if type_name == "Symbol":
        return is_symbol(c, v)
    if type_name in ("abrupt completion", "throw completion"):
        return D.eq(v, THROW)
    if type_name in KIND_OF_TYPE:
        return kind_is(c, v, KIND_OF_TYPE[type_name])
    engine_level = c.alg.mc.type_tests.get(type_name)
    if engine_level is not None:
        return engine_level(c, v)
    raise model_error(s, f"type test 'is a {type_name}' is not modelled")


def check_slot(c: Ctx[V, B], base: V | int, name: str, when: B | bool) -> None:
    """Reading or writing an internal slot the object does not have is not a step the text can
    take (the type checks before it, e.g. RequireInternalSlot, exist to rule it out): a failed
    well-formedness assertion of the text (`spec-asserts`), not a silent read of nothing."""
    kind = SLOT_KIND.get(name)
    if kind is None:
        return
    D = c.D
    wrong = D.and_(is_obj(c, base), D.ne(obj_get(c, "obj_kind", base, kind), kind))
    c.S.set("err_assert", 1, when=D.and_(when, wrong))


# the slots the model gives a meaning to, as read_field and write_field below do: model.build
# checks every step of every needed algorithm against them before any is compiled, so that a step
# no run reaches at the given bounds cannot use an unmodelled slot unnoticed
READ_FIELDS = frozenset({"WeakRefTarget", "HeldValue", "UnregisterToken", "CleanupCallback", "Cells",
                         "Realm", "Callback", "KeptAlive", "Symbol", "Key", "WeakRefRecords", "Registry"})
WRITE_FIELDS = frozenset({"WeakRefTarget", "CleanupCallback", "Realm", "Cells", "KeptAlive"})
# with the bound `weakmaps`: a WeakMap's [[WeakMapData]] and its entries' [[Key]] and [[Value]]
WEAKMAP_FIELDS = frozenset({"WeakMapData", "Key", "Value"})
# with the bound `weaksets`: a WeakSet's [[WeakSetData]] (its elements are values, with no slots)
WEAKSET_FIELDS = frozenset({"WeakSetData"})


def unmodelled_field(step: ir.Step, weakmaps: int = 0, weaksets: int = 0) -> str | None:
    """Why the step reads or writes a slot the model does not have (None when it does not):
    the message the compiler gives when it meets the same step."""
    extra = (WEAKMAP_FIELDS if weakmaps else frozenset()) | (WEAKSET_FIELDS if weaksets else frozenset())
    written = step.stmt.target if isinstance(step.stmt, ir.Set) and isinstance(step.stmt.target, ir.Field) \
        else None
    if written is not None and written.name not in WRITE_FIELDS | extra:
        return f"writing [[{written.name}]] is not modelled"
    for n in ir.iter_nodes(step.stmt):
        if isinstance(n, ir.Field) and n is not written and n.name not in READ_FIELDS | extra:
            return f"field [[{n.name}]] is not modelled"
    return None


def read_field(c: Ctx[V, B], base: V | int, name: str, when: B | bool, s: ir.Step) -> V | int:
    D = c.D
    check_live(c, base, when)
    check_slot(c, base, name, when)
    if name == "WeakRefTarget":
        return D.ite(is_cell(c, base), cell_get(c, "cell_target", base, EMPTY),
                     obj_get(c, "obj_target", base, EMPTY))
    if name == "HeldValue":
        return cell_get(c, "cell_held", base, UNDEF)
    if name == "UnregisterToken":
        return cell_get(c, "cell_token", base, EMPTY)
    if name == "CleanupCallback":
        if not c.alg.mc.weak_lists:
            return obj_get(c, "obj_cb", base, UNDEF)
        return D.ite(is_cell(c, base), _cell_callback(c, base), obj_get(c, "obj_cb", base, UNDEF))
    if name == "Cells":
        return base  # a registry's list is named by the registry
    if name == "WeakRefRecords":
        return base  # a target's weak-reference list is named by the target (model/loops.py)
    if name == "Registry":
        # a cell's uncounted pointer to its registry (QuickJS-NG v0.12.1's fre->obj): kept after
        # the cell left the registry's [[Cells]], so it may name a registry freed since
        if "cell_reg" not in c.alg.mc.layout.index:
            raise model_error(s, "[[Registry]] of a cell: the model keeps it only where a host step "
                              "reads it")
        return cell_get(c, "cell_reg", base, EMPTY)
    if name == "Realm":
        return D.num(REALM)
    if name == "Callback":
        # a function object's JobCallback Record is written as the function object itself
        # (model/expressions.py `_record`); reading it checked above that the function is not freed
        other: V | int = D.num(UNDEF)
        if c.alg.mc.functions:
            other = D.ite(kind_is(c, base, FUNCTION), base, other)
        return D.ite(D.eq(base, JOBCB), D.num(USERFN), other)
    if name == "KeptAlive":
        return D.num(REALM)
    lay = c.alg.mc.layout
    if name == "WeakMapData" and lay.bounds.weakmaps:
        return base  # a WeakMap's list is named by the WeakMap, as a registry's [[Cells]]
    if name == "Value" and lay.bounds.weakmaps:
        return ent_get(c, "ent_value", base, UNDEF)
    if name == "WeakSetData" and lay.bounds.weaksets:
        return base  # a WeakSet's list is named by the WeakSet, as a WeakMap's
    if name in ("Symbol", "Key"):
        # of the GlobalSymbolRegistry's one entry (bound `symbols`), or a WeakMap entry's key
        # (bound `weakmaps`)
        out: V | int = D.num(UNDEF)
        if lay.bounds.symbols:
            field = lay.registered_symbol if name == "Symbol" else lay.symbol_key
            out = D.ite(D.eq(base, lay.registry_entry), D.num(field), out)
        if name == "Key" and lay.bounds.weakmaps:
            out = D.ite(is_entry(c, base), ent_get(c, "ent_key", base, UNDEF), out)
        return out  # without either: no loop over the registry runs (model.compile.dead_loop)
    raise model_error(s, f"field [[{name}]] is not modelled")


def _cell_callback(c: Ctx[V, B], cell: V | int) -> V | int:
    """A cell's own [[CleanupCallback]] (QuickJS-NG v0.13.0's fre->cb, a counted copy of its
    registry's callback made when it was appended, model/expressions.py `_append`): `cell_cb` where
    callbacks are heap objects; without them every registry's callback is the one user function,
    whose JobCallback Record is JOBCB (model/expressions.py `_record`), and so is the copy."""
    if "cell_cb" in c.alg.mc.layout.index:
        return cell_get(c, "cell_cb", cell, UNDEF)
    return c.D.num(JOBCB)


def write_field(c: Ctx[V, B], base: V | int, name: str, v: V | int, when: B | bool, s: ir.Step) -> None:
    D = c.D
    lay = c.alg.mc.layout
    check_live(c, base, when)
    check_slot(c, base, name, when)
    if name == "WeakRefTarget":
        for j in range(lay.bounds.cells):
            c.S.set("cell_target", v, j, when=D.and_(when, D.eq(base, lay.cell(j))))
        for i in range(lay.bounds.objects):
            c.S.set("obj_target", v, i, when=D.and_(when, D.eq(base, lay.obj(i))))
        return
    if name == "CleanupCallback":
        for i in range(lay.bounds.objects):
            c.S.set("obj_cb", v, i, when=D.and_(when, D.eq(base, lay.obj(i))))
        return
    if name in ("Realm", "Cells"):
        return  # the realm is fixed; a new registry's cell list is already empty
    if name == "WeakMapData" and lay.bounds.weakmaps:
        return  # a new WeakMap's list is already empty: entries are never reused
    if name == "WeakSetData" and lay.bounds.weaksets:
        return  # a new WeakSet's list is already empty: elements are never reused
    if name in ("Key", "Value") and lay.bounds.weakmaps:
        for e in range(lay.bounds.weakmaps):
            c.S.set("ent_key" if name == "Key" else "ent_value", v, e,
                    when=D.and_(when, D.eq(base, lay.ent(e))))
        # on a reference-counting host an entry counts its value (js_map_set's js_dup): writing
        # [[Value]] released the old one, which may free it and what it alone held
        if name == "Value" and c.alg.mc.after_release is not None:
            c.alg.mc.after_release(c, when)
        return
    if name == "KeptAlive":  # Set [[KeptAlive]] to a new empty List
        for i in range(lay.bounds.objects):
            c.S.set("kept", 0, i, when=when)
        for k in range(lay.bounds.symbols):
            c.S.set("sym_kept", 0, k, when=when)
        return
    raise model_error(s, f"writing [[{name}]] is not modelled")


def _first_unused(c: Ctx[V, B], status: str, n: int, address: Callable[[int], int], when: B | bool) -> V:
    """The address of the lowest of the `n` records whose `status` is NONE (never used), for cells,
    WeakMap entries and WeakSet elements alike; with none left the run is cut where `when` holds (a bound)."""
    D = c.D
    chosen = D.num(EMPTY)
    free_found = D.false()
    for j in range(n - 1, -1, -1):
        unused = D.eq(c.S.get(status, j), NONE)
        chosen = D.ite(unused, D.num(address(j)), chosen)
        free_found = D.or_(free_found, unused)
    c.S.require(D.or_(D.not_(when), free_found))
    return chosen


def new_cell(c: Ctx[V, B], values: list[V | int], when: B | bool) -> V:
    """Allocate the next unused cell Record (cells are never reused: allocation order is
    append order). With every cell in use the run is cut (a bound, not an error)."""
    D = c.D
    lay = c.alg.mc.layout
    chosen = _first_unused(c, "cell_status", lay.bounds.cells, lay.cell, when)
    for j in range(lay.bounds.cells):
        hit = D.and_(when, D.eq(chosen, lay.cell(j)))
        c.S.set("cell_status", LIVE, j, when=hit)
        c.S.set("cell_owner", EMPTY, j, when=hit)
        c.S.set("cell_target", values[0], j, when=hit)
        c.S.set("cell_held", values[1], j, when=hit)
        c.S.set("cell_token", values[2], j, when=hit)
        c.S.set("cell_delivered", 0, j, when=hit)
    return chosen


def new_entry(c: Ctx[V, B], key: V | int, value: V | int, when: B | bool) -> V:
    """Allocate the next unused WeakMap entry Record { [[Key]], [[Value]] } (entries are never
    reused, like cells: allocation order is append order). With every entry in use the run is
    cut (a bound, not an error)."""
    D = c.D
    lay = c.alg.mc.layout
    chosen = _first_unused(c, "ent_status", lay.bounds.weakmaps, lay.ent, when)
    for e in range(lay.bounds.weakmaps):
        hit = D.and_(when, D.eq(chosen, lay.ent(e)))
        c.S.set("ent_status", LIVE, e, when=hit)
        c.S.set("ent_owner", EMPTY, e, when=hit)
        c.S.set("ent_key", key, e, when=hit)
        c.S.set("ent_value", value, e, when=hit)
        if "ent_order" in lay.index:  # which cells were made before it (model/layout.py)
            for j in range(lay.bounds.cells):
                c.S.set("ent_order", D.ite(D.eq(c.S.get("cell_status", j), NONE), D.num(0), D.num(1)),
                        e * lay.bounds.cells + j, when=hit)
    return chosen


def new_element(c: Ctx[V, B], owner: V | int, value: V | int, when: B | bool) -> None:
    """`Append _value_ to _S_.[[WeakSetData]]`: the next unused WeakSet element, in `owner`'s
    list, holding `value` (elements are never reused: allocation order is append order). With
    every element in use the run is cut (a bound, not an error)."""
    D = c.D
    lay = c.alg.mc.layout
    chosen = _first_unused(c, "wse_status", lay.bounds.weaksets, lay.wse, when)
    for e in range(lay.bounds.weaksets):
        hit = D.and_(when, D.eq(chosen, lay.wse(e)))
        c.S.set("wse_status", LIVE, e, when=hit)
        c.S.set("wse_owner", owner, e, when=hit)
        c.S.set("wse_value", value, e, when=hit)


def new_object(S: View[V, B], lay: Layout, kind: int, when: B | bool) -> V:
    """Allocate the lowest free object slot; with none free the run is cut."""
    D = S.d
    chosen = D.num(EMPTY)
    found = D.false()
    for i in range(lay.bounds.objects - 1, -1, -1):
        unused = D.eq(S.get("obj_status", i), NONE)
        chosen = D.ite(unused, D.num(lay.obj(i)), chosen)
        found = D.or_(found, unused)
    S.require(D.or_(D.not_(when), found))
    for i in range(lay.bounds.objects):
        hit = D.and_(when, D.eq(chosen, lay.obj(i)))
        S.set("obj_status", LIVE, i, when=hit)
        S.set("obj_kind", kind, i, when=hit)
        S.set("obj_target", EMPTY, i, when=hit)
        S.set("obj_cb", UNDEF, i, when=hit)
    return chosen


def free(c: Ctx[V, B], v: V | int, when: B | bool) -> None:
    """`Free _x_` (host step): a second free is a use after free too. A freed object's property
    slots hold nothing afterwards, and a freed cell no longer counts as holding its held value and
    token (model/liveness.py `live_all`): what they referred to is released, and the host's
    `after_free` (reference counting with an object graph) frees whatever no counted reference
    is left to."""
    D = c.D
    lay = c.alg.mc.layout
    check_live(c, v, when)
    for i in range(lay.bounds.objects):
        hit = D.and_(when, D.eq(v, lay.obj(i)))
        c.S.set("obj_status", FREED, i, when=hit)
        c.S.set("root", 0, i, when=hit)
        c.S.set("kept", 0, i, when=hit)
        for s in range(lay.bounds.slots):
            c.S.set("prop", EMPTY, lay.prop(i, s), when=hit)
    for j in range(lay.bounds.cells):
        c.S.set("cell_status", FREED, j, when=D.and_(when, D.eq(v, lay.cell(j))))
        if "cell_reg" in lay.index:  # the pointer goes with the cell
            c.S.set("cell_reg", EMPTY, j, when=D.and_(when, D.eq(v, lay.cell(j))))
    for e in range(lay.bounds.weakmaps):
        # an entry itself: reset_weak_ref's second pass frees a record the first unlinked; a freed
        # entry no longer counts its [[Value]] (model/liveness.py `_by_entries`), which is released
        # as a freed cell's held value is (JS_FreeValueRT(rt, mr->value), then js_free_rt(rt, mr))
        c.S.set("ent_status", FREED, e, when=D.and_(when, D.eq(v, lay.ent(e))))
    for e in range(lay.bounds.weakmaps):
        # a freed WeakMap's entries go with it (js_map_finalizer's js_free_rt of each record, after
        # the profile's steps released their values); as model/env.py `_reclaim` on a tracing host
        c.S.set("ent_status", FREED, e, when=D.and_(when, D.eq(c.S.get("ent_owner", e), v),
                                                    D.eq(c.S.get("ent_status", e), LIVE)))
    for e in range(lay.bounds.weaksets):  # and a freed WeakSet's elements (the same finalizer)
        c.S.set("wse_status", FREED, e, when=D.and_(when, D.eq(c.S.get("wse_owner", e), v),
                                                    D.eq(c.S.get("wse_status", e), LIVE)))
    for k in range(lay.bounds.symbols):  # a Symbol's free: quickjs.c JS_FreeAtomStruct's js_free_rt
        hit = D.and_(when, D.eq(v, lay.sym(k)))
        c.S.set("sym_status", FREED, k, when=hit)
        c.S.set("sym_root", 0, k, when=hit)
        c.S.set("sym_kept", 0, k, when=hit)
    if c.alg.mc.after_free is not None:
        c.alg.mc.after_free(c, v, when)


def root_value(c: Ctx[V, B], v: V | int, when: B | bool | None = None) -> None:
    D = c.D
    lay = c.alg.mc.layout
    for i in range(lay.bounds.objects):
        hit = D.eq(v, lay.obj(i))
        c.S.set("root", 1, i, when=hit if when is None else D.and_(when, hit))
    for k in range(lay.bounds.symbols):
        hit = D.eq(v, lay.sym(k))
        c.S.set("sym_root", 1, k, when=hit if when is None else D.and_(when, hit))


def mark_delivery(c: Ctx[V, B], e: ir.Call) -> None:
    """Remember which cell's [[HeldValue]] is passed to user code, and the value passed."""
    for a in e.args:
        for n in ir.iter_nodes(a):
            if isinstance(n, ir.Field) and n.name == "HeldValue":
                D = c.D
                cell = c.alg.ev(n.base, c, D.true(), None)  # type: ignore[arg-type]
                # the registry whose cleanup delivers it: CleanupFinalizationRegistry's argument (the
                # cell has left its [[Cells]] by now, so its owner no longer says); None where a
                # profile's own algorithm delivers (a free path), matched by value alone then
                alg = c.alg.alg
                registry = c.alg.get_local(c, alg.params[0].name) \
                    if alg.name == "CleanupFinalizationRegistry" and alg.params else None
                c.delivered = (cell, cell_get(c, "cell_held", cell, UNDEF), registry)  # type: ignore[arg-type]


def deliver(c: Ctx[V, B], when: B | bool | None = None) -> None:
    """A held value goes to the cleanup callback: count it per cell (held-value-once) and hold it
    against the registrations as user code made them (observers, model/env.py): some registration
    not yet delivered or unregistered must have that held value, a target the collector took and,
    where CleanupFinalizationRegistry delivers it, that registry (`bad_delivery` otherwise); the
    first such registration is then delivered. Matched by what was registered, not by cell index,
    so that an engine that skips a registration (QuickJS-NG ignores a registry registering itself)
    does not shift the comparison. Without the registry, a delivery by one registry used up
    another's registration of the same held value and target, and the other's own delivery then
    found none: a false VIOLATED under ecma262 (review 8)."""
    marked, c.delivered = c.delivered, None
    if marked is None:
        return
    cell, value, registry = marked
    D = c.D
    when = D.true() if when is None else when
    lay = c.alg.mc.layout
    for j in range(lay.bounds.cells):
        hit = D.and_(when, D.eq(cell, lay.cell(j)))
        old = c.S.get("cell_delivered", j)
        c.S.set("cell_delivered", D.ite(D.eq(old, 0), D.num(1), D.num(2)), j, when=hit)
    taken = D.false()
    for j in range(lay.bounds.cells):
        target = c.S.get("reg_target", j)
        collected = D.or_(*[D.and_(D.eq(target, lay.obj(i)), D.eq(c.S.get("gone", i), 1))
                            for i in range(lay.bounds.objects)],
                          *[D.and_(D.eq(target, lay.sym(k)), D.eq(c.S.get("sym_gone", k), 1))
                            for k in range(lay.bounds.symbols)])
        fits = D.and_(D.eq(c.S.get("reg_live", j), 1), D.eq(c.S.get("reg_held", j), value), collected,
                      D.true() if registry is None else D.eq(c.S.get("reg_owner", j), registry))
        done = D.and_(when, fits, D.not_(taken))
        # forgotten once delivered, as Environment._forget_registration does
        for name in REG_FIELDS:
            c.S.set(name, EMPTY, j, when=done)
        c.S.set("reg_live", 0, j, when=done)
        taken = D.or_(taken, fits)
    tracking = D.le(c.S.get("regs"), lay.bounds.cells)  # else the observer lost count (model/env.py)
    c.S.set("bad_delivery", 1, when=D.and_(when, D.not_(taken), tracking))
