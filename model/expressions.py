"""Expressions and writes of one step, evaluated against `View`/`Domain` (model/domain.py).

`Expressions` is the layer of the algorithm compiler (model/compile.py) that gives a step's
operands and assignments their meaning: values, conditions, the frame's locals, calls (a frame
push, a host hook, or an operation modelled by hand), record literals, and the list operations
the model has ([[Cells]], [[KeptAlive]]). Below it, model/flow.py knows where each step sits;
above it, model/loops.py and model/statements.py run loops and whole steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic

from specmc.model.by_hand import FRAME_CALL_USER, builtin
from specmc.model.domain import B, Domain, V, View
from specmc.model.errors import model_error
from specmc.model.flow import Flow
from specmc.model.heap import (
    check_cell,
    check_live,
    check_slot,
    deliver,
    has_slot,
    is_entry,
    kind_is,
    mark_delivery,
    new_cell,
    new_element,
    new_entry,
    obj_get,
    read_field,
    type_test,
    write_field,
)
from specmc.model.layout import (
    CUT_LISTS,
    EMPTY,
    FALSE,
    FREED,
    FUNCTION,
    JOBCB,
    LIVE,
    REALM,
    THROW,
    TRUE,
    UNDEF,
    UNUSED,
    USERFN,
)
from specmc.spec import ir

if TYPE_CHECKING:
    from specmc.model.compile import ModelCompiler

CONDITION_FORMS = (ir.Compare, ir.TypeTest, ir.Present, ir.HasSlots, ir.Logic, ir.Contains,
                   ir.OneOf, ir.Binary)


@dataclass
class Ctx(Generic[V, B]):
    """Evaluation context of one transition at one frame depth."""

    S: View[V, B]
    d: int  # frame depth (compile-time constant)
    alg: Expressions  # the algorithm compiler of the frame (model/compile.py)
    env: dict[str, V | int] = field(default_factory=dict)  # binder variables
    ret: V | int | None = None  # the callee's result when resuming after a call
    # (callee, args, reach) recorded in phase 0
    call: tuple[str, tuple[V | B | int, ...], B | bool] | None = None
    abrupt: list[B | bool] = field(default_factory=list)  # conditions under which `?` propagates
    prop: B | bool | None = None  # after resuming: the condition under which the frame returned abruptly
    # (cell, held value) of a [[HeldValue]] passed to user code in this step (heap.mark_delivery)
    # (cell, held value, the registry delivering it or None): model/heap.py mark_delivery
    delivered: tuple[V | B | int, V | int, V | int | None] | None = None

    @property
    def D(self) -> Domain[V, B]:
        return self.S.d


class Expressions(Flow):
    """Operand, condition and write semantics of one algorithm's steps, and its frame's locals.
    A value form gives a domain value, a condition form (CONDITION_FORMS) a domain boolean."""

    mc: ModelCompiler

    # locals -------------------------------------------------------------------
    def get_local(self, c: Ctx[V, B], name: str, step: ir.Step | None = None) -> V | int:
        if name in c.env:
            return c.env[name]
        k = self.mc.layout.locals_per_frame
        return c.S.get("frame_local", c.d * k + self.slot(name, step))

    def set_local(self, c: Ctx[V, B], name: str, value: V | B | int, when: B | bool,
                  step: ir.Step | None = None) -> None:
        k = self.mc.layout.locals_per_frame
        c.S.set("frame_local", value, c.d * k + self.slot(name, step), when=when)  # type: ignore[arg-type]

    # values and conditions ------------------------------------------------------
    def evc(self, e: ir.Expr, c: Ctx[V, B], when: B | bool, s: ir.Step) -> B:
        """A condition: boolean forms as they are, a value (e.g. a call) compared to *true*."""
        v = self.ev(e, c, when, s)
        if isinstance(e, CONDITION_FORMS) and not (isinstance(e, ir.Binary) and e.op == "+"):
            return v  # type: ignore[return-value]  # a condition form's value is a boolean
        return c.D.eq(v, TRUE)  # type: ignore[arg-type]  # ... and any other form's a value

    def ev(self, e: ir.Expr | None, c: Ctx[V, B], when: B | bool, s: ir.Step) -> V | B | int:
        """A value form's value, or a condition form's truth (as `evc` reads it)."""
        D = c.D
        if e is None:
            return D.num(UNDEF)
        if isinstance(e, ir.Var):
            return self.get_local(c, e.name, s)
        if isinstance(e, ir.Literal):
            lay = self.mc.layout
            return D.num(literal_value(e, s, lay.null if lay.has_null else None))
        if isinstance(e, ir.Special):
            if e.kind == "this-value":
                return self.get_local(c, "this", s)
            if e.kind == "new-target":
                return self.get_local(c, "newtarget", s)
            if e.kind in ("active-function", "agent-record", "current-realm"):
                return D.num(REALM)
            if e.kind == "empty-list":
                return D.num(EMPTY)
            raise model_error(s, f"no value for {e.kind}")
        if isinstance(e, ir.Field):
            base = self.ev(e.base, c, when, s)
            return read_field(c, base, e.name, when, s)
        if isinstance(e, ir.Call):
            return self._call(e, c, when, s)
        if isinstance(e, ir.SlotName):
            return D.num(EMPTY)  # a slot name is read statically by the operation it is passed to
        if isinstance(e, ir.ListLit):
            items = [self.ev(i, c, when, s) for i in e.items if not isinstance(i, ir.SlotName)]
            return items[0] if len(items) == 1 else D.num(EMPTY)
        if isinstance(e, ir.RecordLit):
            return self._record(e, c, when, s)
        if isinstance(e, ir.Compare):
            r = D.eq(self.ev(e.left, c, when, s), self.ev(e.right, c, when, s))
            return D.not_(r) if e.negated else r
        if isinstance(e, ir.Binary):
            left, right = self.ev(e.left, c, when, s), self.ev(e.right, c, when, s)
            if e.op == "+":
                return D.add(left, right)
            if e.op == "=":
                return D.eq(left, right)
            raise model_error(s, f"operator {e.op} is not modelled")
        if isinstance(e, ir.TypeTest):
            v = self.ev(e.subject, c, when, s)
            r = type_test(c, v, e.type_name, s)
            return D.not_(r) if e.negated else r
        if isinstance(e, ir.Present):
            return D.false() if e.negated else D.true()
        if isinstance(e, ir.HasSlots):
            v = self.ev(e.subject, c, when, s)
            r = D.and_(*[has_slot(c, v, slot) for slot in e.slots])
            return D.not_(r) if e.negated else r
        if isinstance(e, ir.Logic):
            acc = D.true() if e.op == "and" else D.false()
            path = when
            for operand in e.operands:
                v = self.evc(operand, c, path, s)
                if e.op == "and":
                    acc = D.and_(acc, v)
                    path = D.and_(path, v)
                else:
                    acc = D.or_(acc, v)
                    path = D.and_(path, D.not_(v))
            return acc
        if isinstance(e, ir.Contains):
            r = self._contains(e, c, when, s)
            return D.not_(r) if e.negated else r
        if isinstance(e, ir.OneOf):  # `_x_ is either A or B`
            v = self.ev(e.subject, c, when, s)
            r = D.or_(*[D.eq(v, self.ev(o, c, when, s)) for o in e.options])
            return D.not_(r) if e.negated else r
        raise model_error(s, f"the model has no semantics for {type(e).__name__} expressions")

    def _contains(self, e: ir.Contains, c: Ctx[V, B], when: B | bool, s: ir.Step) -> B:
        D = c.D
        lay = self.mc.layout
        if isinstance(e.container, ir.Special) and e.container.kind == "global-symbol-registry":
            # "contains an entry for _sym_" (KeyForSymbol's Assert): the one entry's [[Symbol]]
            # is the registered Symbol; without Symbols there is no entry
            if not lay.bounds.symbols:
                return D.false()
            if isinstance(e.element, ir.Binder) or e.such_that is not None:
                raise model_error(s, "contains: a GlobalSymbolRegistry entry chosen by a condition "
                                  "is not modelled")
            return D.eq(self.ev(e.element, c, when, s), lay.registered_symbol)
        if isinstance(e.container, ir.Field) and e.container.name == "WeakSetData" and lay.bounds.weaksets:
            return self._set_contains(e, c, when, s)
        entries = isinstance(e.container, ir.Field) and e.container.name == "WeakMapData" \
            and lay.bounds.weakmaps > 0
        if not (isinstance(e.container, ir.Field) and e.container.name == "Cells") and not entries:
            raise model_error(s, "contains: the model only knows [[Cells]] lists"
                              + (" and [[WeakMapData]]" if lay.bounds.weakmaps else ""))
        reg = self.ev(e.container.base, c, when, s)  # type: ignore[union-attr]
        check_live(c, reg, when)
        out = []
        for j in range(lay.bounds.weakmaps if entries else lay.bounds.cells):
            v = D.num(lay.ent(j) if entries else lay.cell(j))
            member = self.member(c, reg, j, entries)
            if isinstance(e.element, ir.Binder):
                env = dict(c.env)
                env[e.element.var] = v
                sub = Ctx(c.S, c.d, self, env, c.ret, c.call, c.abrupt, delivered=c.delivered)
                cond = self.evc(e.such_that, sub, D.and_(when, member), s) if e.such_that else D.true()
                out.append(D.and_(member, cond))
            else:
                out.append(D.and_(member, D.eq(self.ev(e.element, c, when, s), v)))
        return D.or_(*out)

    def _set_contains(self, e: ir.Contains, c: Ctx[V, B], when: B | bool, s: ir.Step) -> B:
        """`_set_.[[WeakSetData]] contains _value_` (Execution 1.d): some element of the WeakSet's
        list holds the value. The list's elements are values, not Records, so no condition can
        name one (`contains a Record _r_ such that`)."""
        D = c.D
        assert isinstance(e.container, ir.Field)
        if isinstance(e.element, ir.Binder) or e.such_that is not None:
            raise model_error(s, "contains: a [[WeakSetData]] element chosen by a condition is not modelled")
        ws = self.ev(e.container.base, c, when, s)
        check_live(c, ws, when)
        check_slot(c, ws, "WeakSetData", when)
        v = self.ev(e.element, c, when, s)
        return D.or_(*[D.and_(self.set_member(c, ws, j), D.eq(c.S.get("wse_value", j), v))
                       for j in range(self.mc.layout.bounds.weaksets)])

    @staticmethod
    def set_member(c: Ctx[V, B], owner: V | int, j: int) -> B:
        """WeakSet element j is in WeakSet `owner`'s [[WeakSetData]]."""
        D = c.D
        return D.and_(D.eq(c.S.get("wse_owner", j), owner), D.eq(c.S.get("wse_status", j), LIVE))

    def member(self, c: Ctx[V, B], owner: V | int, j: int, entries: bool) -> B:
        """Cell j is in registry `owner`'s [[Cells]], or (`entries`) WeakMap entry j is in WeakMap
        `owner`'s [[WeakMapData]]."""
        D = c.D
        if entries:
            return D.and_(D.eq(c.S.get("ent_owner", j), owner), D.eq(c.S.get("ent_status", j), LIVE))
        return D.and_(D.eq(c.S.get("cell_owner", j), owner), D.eq(c.S.get("cell_status", j), LIVE))

    def _record(self, e: ir.RecordLit, c: Ctx[V, B], when: B | bool, s: ir.Step) -> V | int:
        D = c.D
        fields = dict(e.fields)
        if "Callback" in fields:  # JobCallback Record { [[Callback]]: f, [[HostDefined]]: ~empty~ }
            f = self.ev(fields["Callback"], c, when, s)
            other: V | int = D.num(UNDEF)
            if self.mc.functions:
                # the Record of a function object f is written f: its [[HostDefined]] is always
                # ~empty~, so [[Callback]] alone tells two such Records apart, and no step compares
                # Records by identity. A registry's [[CleanupCallback]] then names f, a strong edge
                # (model/liveness.py), and `[[Callback]]` reads f back (model/heap.py `read_field`)
                other = D.ite(kind_is(c, f, FUNCTION), f, other)
            return D.ite(D.eq(f, USERFN), D.num(JOBCB), other)
        if set(fields) == {"WeakRefTarget", "HeldValue", "UnregisterToken"}:
            return new_cell(c, [self.ev(fields[k], c, when, s)
                                 for k in ("WeakRefTarget", "HeldValue", "UnregisterToken")], when)
        if set(fields) == {"Key", "Value"} and self.mc.layout.bounds.weakmaps:  # a WeakMap entry
            return new_entry(c, self.ev(fields["Key"], c, when, s), self.ev(fields["Value"], c, when, s),
                             when)
        raise model_error(s, f"record {e.type_name} with fields {sorted(fields)} is not modelled")

    def _call(self, e: ir.Call, c: Ctx[V, B], when: B | bool, s: ir.Step) -> V | int:
        D = c.D
        name = e.callee.name if isinstance(e.callee, ir.Name) else ""
        args = tuple(self.ev(a, c, when, s) for a in e.args)
        if name == FRAME_CALL_USER or name in self.mc.compilers:
            if c.ret is not None:
                v = c.ret
            else:
                c.call = (name, args, when)
                mark_delivery(c, e)
                v = D.num(UNDEF)
        elif name in self.mc.host_calls:
            if c.ret is None:
                mark_delivery(c, e)
                deliver(c, when)
            v = self.mc.host_calls[name](c, args, when)
        else:
            v = builtin(name, e, args, c, when, s, self.mc)
        if e.check == "?":
            c.abrupt.append(D.and_(when, D.eq(v, THROW)))
        elif e.check == "!":
            c.S.set("err_assert", 1, when=D.and_(when, D.eq(v, THROW)))
        return v

    # writes ---------------------------------------------------------------------
    def assign(self, target: ir.Expr, v: V | B | int, c: Ctx[V, B], when: B | bool, s: ir.Step) -> None:
        if isinstance(target, ir.Var):
            self.set_local(c, target.name, v, when, s)
            return
        if isinstance(target, ir.Field):
            base = self.ev(target.base, c, when, s)
            write_field(c, base, target.name, v, when, s)
            return
        raise model_error(s, "cannot assign to this expression")

    def _append(self, st: ir.Append, item: V | int, c: Ctx[V, B], when: B | bool, s: ir.Step) -> None:
        D = c.D
        tgt = st.target
        if isinstance(tgt, ir.Field) and tgt.name == "Cells":
            reg = self.ev(tgt.base, c, when, s)
            check_live(c, reg, when)
            check_slot(c, reg, "Cells", when)
            lay = self.mc.layout
            for j in range(lay.bounds.cells):
                hit = D.and_(when, D.eq(item, lay.cell(j)))
                check_cell(c, j, hit)
                c.S.set("cut", CUT_LISTS, when=D.and_(hit, D.ne(c.S.get("cell_owner", j), EMPTY)))
                c.S.set("cell_owner", reg, j, when=hit)
                if "cell_reg" in lay.index:  # QuickJS-NG v0.12.1 js_finrec_register's fre->obj
                    c.S.set("cell_reg", reg, j, when=hit)
                if "cell_cb" in lay.index:
                    # the registration's own counted copy of the callback: QuickJS-NG v0.13.0
                    # (dec0123) js_finrec_register's fre->cb = js_dup(frd->cb), quickjs.c line 59782
                    c.S.set("cell_cb", obj_get(c, "obj_cb", reg, UNDEF), j, when=hit)
            return
        if isinstance(tgt, ir.Field) and tgt.name == "KeptAlive":
            lay = self.mc.layout
            for i in range(lay.bounds.objects):
                c.S.set("kept", 1, i, when=D.and_(when, D.eq(item, lay.obj(i))))
            for k in range(lay.bounds.symbols):
                c.S.set("sym_kept", 1, k, when=D.and_(when, D.eq(item, lay.sym(k))))
            return
        if isinstance(tgt, ir.Field) and tgt.name == "WeakMapData" and self.mc.layout.bounds.weakmaps:
            m = self.ev(tgt.base, c, when, s)
            check_live(c, m, when)
            check_slot(c, m, "WeakMapData", when)
            lay = self.mc.layout
            for j in range(lay.bounds.weakmaps):
                hit = D.and_(when, D.eq(item, lay.ent(j)))
                c.S.set("cut", CUT_LISTS, when=D.and_(hit, D.ne(c.S.get("ent_owner", j), EMPTY)))
                c.S.set("ent_owner", m, j, when=hit)
            # an item that is no entry Record is not a list the model can hold
            c.S.set("err_assert", 1, when=D.and_(when, D.not_(is_entry(c, item))))
            return
        if isinstance(tgt, ir.Field) and tgt.name == "WeakSetData" and self.mc.layout.bounds.weaksets:
            ws = self.ev(tgt.base, c, when, s)
            check_live(c, ws, when)
            check_slot(c, ws, "WeakSetData", when)
            new_element(c, ws, item, when)  # the list's new last element holds the value itself
            return
        raise model_error(s, "Append: the model only knows [[Cells]] and [[KeptAlive]]")

    def replace(self, st: ir.Replace, old: V | int, new: V | int, c: Ctx[V, B], when: B | bool,
                s: ir.Step) -> None:
        """`Replace the element of _S_.[[WeakSetData]] whose value is _old_ with an element whose
        value is _new_` (WeakSet.prototype.delete 4.a.i with ~empty~, Execution 1.d.i): the first
        element of the list (in list order) holding `old` now holds `new`. The text names "the
        element", so one holding `old` must exist: none is a failed assertion of the text
        (`spec-asserts`), never a silent no-op."""
        D = c.D
        tgt = st.container
        lay = self.mc.layout
        if not (isinstance(tgt, ir.Field) and tgt.name == "WeakSetData" and lay.bounds.weaksets):
            raise model_error(s, "Replace: the model only knows [[WeakSetData]] lists")
        ws = self.ev(tgt.base, c, when, s)
        check_live(c, ws, when)
        check_slot(c, ws, "WeakSetData", when)
        earlier = D.false()
        for j in range(lay.bounds.weaksets):
            hit = D.and_(self.set_member(c, ws, j), D.eq(c.S.get("wse_value", j), old))
            c.S.set("wse_value", new, j, when=D.and_(when, hit, D.not_(earlier)))
            earlier = D.or_(earlier, hit)
        c.S.set("err_assert", 1, when=D.and_(when, D.not_(earlier)))

    def _remove(self, st: ir.Remove, item: V | int, c: Ctx[V, B], when: B | bool, s: ir.Step) -> None:
        D = c.D
        src = st.source
        lay = self.mc.layout
        if isinstance(src, ir.Field) and src.name == "WeakMapData" and lay.bounds.weakmaps:
            # unlink an entry from its WeakMap (QuickJS-NG reset_weak_ref's first pass: list_del of
            # the record's hash_link and link): get, has, delete and the map's finalizer no longer
            # find it, and it keeps its [[Key]] and its counted [[Value]] until it is freed
            m = self.ev(src.base, c, when, s)
            check_live(c, m, when)
            check_slot(c, m, "WeakMapData", when)
            for e in range(lay.bounds.weakmaps):
                hit = D.and_(when, D.eq(item, lay.ent(e)))
                c.S.set("err_uaf", 1, when=D.and_(hit, D.eq(c.S.get("ent_status", e), FREED)))
                c.S.set("ent_owner", EMPTY, e, when=D.and_(hit, D.eq(c.S.get("ent_owner", e), m)))
            return
        if not (isinstance(src, ir.Field) and src.name == "Cells"):
            raise model_error(s, "Remove: the model only knows [[Cells]] and [[WeakMapData]] lists")
        reg = self.ev(src.base, c, when, s)
        check_live(c, reg, when)
        check_slot(c, reg, "Cells", when)
        for j in range(lay.bounds.cells):
            hit = D.and_(when, D.eq(item, lay.cell(j)))
            check_cell(c, j, hit)
            c.S.set("cell_owner", EMPTY, j, when=D.and_(hit, D.eq(c.S.get("cell_owner", j), reg)))


def literal_value(e: ir.Literal, s: ir.Step, null: int | None = None) -> int:
    """The value of a literal; *null* only where the layout has it (`null`, bounds `weakmaps`,
    `weaksets`)."""
    if e.kind == "value":
        table = {"undefined": UNDEF, "true": TRUE, "false": FALSE}
        if null is not None:
            table["null"] = null
        if e.value in table:
            return table[e.value]
    if e.kind == "enum":
        table = {"empty": EMPTY, "unused": UNUSED}
        if e.value in table:
            return table[e.value]
    if e.kind in ("string", "code"):
        return UNDEF  # only passed to OrdinaryCreateFromConstructor, which reads it statically
    raise model_error(s, f"literal {e.kind} {e.value!r} is not modelled")
