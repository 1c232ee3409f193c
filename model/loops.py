"""`For each` and `Choose any such`: the steps that bind one element of a set at a time.

A loop's first step and its advance (the pc after its body, model/flow.py) both bind the next
member after the current one, in a fixed order (objects by slot, cells by index), or leave the
loop when there is none: the walk is live, so an element removed by the body before the walk
reaches it is skipped, and one appended is visited. A host loop that reads ahead (`For each ...
of L, reading the next element before the steps run, do`: an engine's list_for_each_safe)
instead fixes the successor of each element before the body runs, in a hidden local, and its
advance binds that successor whatever became of it: a read of a freed one is a use after free.
`Choose any such` is one command per cell whose guard is that the cell fits. Written against
`View`/`Domain` like every step (model/domain.py).
"""

from __future__ import annotations

from collections.abc import Callable

from specmc.model.domain import B, V
from specmc.model.errors import model_error
from specmc.model.expressions import Ctx, Expressions
from specmc.model.flow import Witness, ahead_local, position_local, walks_values, witness
from specmc.model.heap import KIND_OF_TYPE, absent_types, check_live, check_slot
from specmc.model.layout import EMPTY, LIVE, NONE
from specmc.spec import ir


class Loops(Expressions):
    """Loop and choice semantics of one algorithm's steps."""

    def _candidates(self, loop: ir.Step, c: Ctx[V, B]) -> list[tuple[V | int, B]]:
        """(value, is-a-member condition) for each entity the loop may bind, in order."""
        st = loop.stmt
        assert isinstance(st, ir.ForEach)
        D = c.D
        lay = self.mc.layout
        b = st.binder
        out: list[tuple[V | int, B]] = []
        if st.source is None:  # For each <Type> _x_ such that C: a quantifier over the heap
            absent = absent_types(lay.bounds.weakmaps, lay.bounds.weaksets)
            if b.type_name in absent:
                return []  # WeakMap, WeakSet without their bounds: the model has none
            kind = KIND_OF_TYPE.get(b.type_name)
            if kind is None:
                raise model_error(loop, f"the model has no objects of type {b.type_name} (it knows "
                                  f"{', '.join(sorted(set(KIND_OF_TYPE) - absent))}; "
                                  f"{', '.join(sorted(absent))} have no instances)")
            for i in range(lay.bounds.objects):
                v = D.num(lay.obj(i))
                member = D.and_(D.eq(c.S.get("obj_status", i), LIVE),
                                D.eq(c.S.get("obj_kind", i), kind))
                env = dict(c.env)
                env[b.var] = v
                sub = Ctx(c.S, c.d, self, env, delivered=c.delivered)
                cond = self.evc(st.such_that, sub, member, loop) if st.such_that else D.true()
                out.append((v, D.and_(member, cond)))
            return out
        src = st.source
        if isinstance(src, ir.Field) and src.name == "Cells":
            reg = self.ev(src.base, c, D.true(), loop)
            check_live(c, reg, D.true())  # type: ignore[arg-type]  # a list's base is a value
            check_slot(c, reg, "Cells", D.true())
            for j in range(lay.bounds.cells):
                member = D.and_(D.eq(c.S.get("cell_owner", j), reg),
                                D.ne(c.S.get("cell_status", j), NONE))
                out.append((D.num(lay.cell(j)), member))
            return out
        if isinstance(src, ir.Field) and src.name == "WeakMapData" and lay.bounds.weakmaps:
            return self._records(c, src, loop, "WeakMapData", "ent", lay.bounds.weakmaps, lay.ent)
        if walks_values(st) and lay.bounds.weaksets:
            # the elements, as positions: `_loop_values` binds the value each one holds
            return self._records(c, src, loop, "WeakSetData", "wse",  # type: ignore[arg-type]  # a Field
                                 lay.bounds.weaksets, lay.wse)
        if isinstance(src, ir.Special) and src.kind == "global-symbol-registry":
            # its one entry, the registered Symbol's (bound `symbols`); none without Symbols
            return [(D.num(lay.registry_entry), D.true())] if lay.bounds.symbols else []
        if isinstance(src, ir.Var) and src.name in self.alg.binds:  # the set _S_ (a bitmask)
            mask = self.get_local(c, src.name, loop)
            for i in range(lay.bounds.objects):
                out.append((D.num(lay.obj(i)), D.bit(mask, i)))
            for k in range(lay.bounds.symbols):  # "a set of objects and/or symbols": bit objects + k
                out.append((D.num(lay.sym(k)), D.bit(mask, lay.bounds.objects + k)))
            return out
        raise model_error(loop, "the model cannot iterate over this source")

    def _records(self, c: Ctx[V, B], src: ir.Field, loop: ir.Step, slot: str, prefix: str, count: int,
                 place: Callable[[int], int]) -> list[tuple[V | int, B]]:
        """A WeakMap's entries or a WeakSet's elements, as heap records in allocation (append)
        order: record j is in `src.base`'s list when its `<prefix>_owner` is that object and it
        was ever allocated."""
        D = c.D
        owner = self.ev(src.base, c, D.true(), loop)
        check_live(c, owner, D.true())  # type: ignore[arg-type]  # a list's base is a value
        check_slot(c, owner, slot, D.true())
        return [(D.num(place(j)), D.and_(D.eq(c.S.get(f"{prefix}_owner", j), owner),
                                         D.ne(c.S.get(f"{prefix}_status", j), NONE)))
                for j in range(count)]

    def _loop(self, loop: ir.Step, c: Ctx[V, B], first: bool) -> None:
        D = c.D
        S = c.S
        st = loop.stmt
        assert isinstance(st, ir.ForEach)
        var = st.binder.var
        if isinstance(st.source, ir.Field) and st.source.name == "WeakRefRecords":
            self._loop_weak_records(loop, c, first)
            return
        cands = self._candidates(loop, c)
        if st.read_ahead:
            self._loop_ahead(loop, c, first, cands)
            return
        if walks_values(st):
            self._loop_values(loop, c, first, cands)
            return
        cur = self.get_local(c, var, loop)
        named = witness(st)
        # the next member after the current one (by position), or none
        chosen: V | int = D.num(EMPTY)
        chosen_w: V | int = D.num(EMPTY)
        found = D.false()
        for v, member in reversed(cands):
            after = D.true() if first else D.lt(cur, v)
            hit = D.and_(member, after)
            chosen = D.ite(hit, v, chosen)
            if named is not None:
                chosen_w = D.ite(hit, self._first_witness(named, st.binder.var, v, c, loop), chosen_w)
            found = D.or_(found, hit)
        self.set_local(c, var, chosen, found, loop)
        if named is not None:
            # Literal reading of `For each X _x_ such that L contains a Record _r_ such that C`:
            # the body runs once per _x_, and _r_ names one matching Record (the first in list
            # order; the text does not say which). See docs/findings.md, "Spec hazards found so far".
            self.set_local(c, named.var, chosen_w, found, loop)
        S.set("frame_pc", D.ite(found, D.num(self.first_child(loop)), D.num(self.next_pc(loop))),
              c.d)

    def _loop_values(self, loop: ir.Step, c: Ctx[V, B], first: bool, cands: list[tuple[V | int, B]]
                     ) -> None:
        """A live walk over a list of values (`For each element _e_ of _S_.[[WeakSetData]]`): the
        next element after the one the walk is at (`position_local`, by list position), whose
        value the binder takes (~empty~ for a deleted or cleared one: the text's own `If _e_ is
        not ~empty~` skips it), or out of the loop when there is none (and the position is
        ~empty~ again, so that a finished walk leaves no trace in the state)."""
        D = c.D
        st = loop.stmt
        assert isinstance(st, ir.ForEach)
        at = position_local(st)
        cur = self.get_local(c, at, loop)
        chosen: V | int = D.num(EMPTY)
        value: V | int = D.num(EMPTY)
        found = D.false()
        for j, (v, member) in reversed(list(enumerate(cands))):
            hit = D.and_(member, D.true() if first else D.lt(cur, v))
            chosen = D.ite(hit, v, chosen)
            value = D.ite(hit, c.S.get("wse_value", j), value)
            found = D.or_(found, hit)
        self.set_local(c, at, chosen, D.true(), loop)  # ~empty~ once the walk is over
        self.set_local(c, st.binder.var, value, found, loop)
        c.S.set("frame_pc", D.ite(found, D.num(self.first_child(loop)), D.num(self.next_pc(loop))),
                c.d)

    def _loop_ahead(self, loop: ir.Step, c: Ctx[V, B], first: bool, cands: list[tuple[V | int, B]]
                    ) -> None:
        """A walk that reads ahead, as list_for_each_safe(el, el1, head) does (quickjs list.h:
        `el = head->next, el1 = el->next` first, `el = el1, el1 = el->next` on each advance).

        The first step binds the first member; each advance binds the successor it kept, even if
        the body removed or freed it meanwhile, and that binding reads the element (`el->next`),
        so a freed one is a use after free (err_uaf) then and there. Either way the successor of
        the bound element is read from the list as it is now, before the body runs: the first
        member after its position, or none (the list's head: the walk ends at the next advance).
        A removed element keeps its position for this, since the model's lists are in cell order;
        the engine reads whatever that element's link holds, which the model does not follow past
        the use after free it reports."""
        D = c.D
        st = loop.stmt
        assert isinstance(st, ir.ForEach)
        src = st.source
        if not (isinstance(src, ir.Field) and src.name == "Cells"):
            raise model_error(loop, "reading the next element ahead: the model walks only a "
                              "[[Cells]] List this way")
        ahead = ahead_local(st)
        cur: V | int
        if first:
            cur = D.num(EMPTY)
            for v, member in reversed(cands):
                cur = D.ite(member, v, cur)
            found = D.or_(*(member for _, member in cands)) if cands else D.false()
        else:
            cur = self.get_local(c, ahead, loop)
            found = D.ne(cur, EMPTY)
            check_live(c, cur, found)
        succ: V | int = D.num(EMPTY)
        for v, member in reversed(cands):
            succ = D.ite(D.and_(found, member, D.lt(cur, v)), v, succ)
        self.set_local(c, st.binder.var, cur, found, loop)
        self.set_local(c, ahead, succ, D.true(), loop)
        c.S.set("frame_pc", D.ite(found, D.num(self.first_child(loop)), D.num(self.next_pc(loop))),
                c.d)

    def _loop_weak_records(self, loop: ir.Step, c: Ctx[V, B], first: bool) -> None:
        """`For each Record _rec_ of _obj_.[[WeakRefRecords]], reading the next element before the
        steps run, do` (host profiles): the target's weak-reference list as QuickJS-NG keeps it
        (quickjs.c JSWeakRefRecord, the same at v0.12.1 58bdcf0 and v0.13.0 dec0123:
        insert_weakref_record adds each new record at the head, so the list is newest first),
        walked as reset_weak_ref's second pass walks it, reading `wr->next_weak_ref` before the
        body. Its records in the model are the target's live cells (registrations) and live
        WeakMap entries keyed by it, whether or not a first pass has unlinked them from their
        registry or map; cells among themselves and entries among themselves are newest first by
        index (never reused), a cell and an entry by `ent_order`. The WeakRefs and WeakSet
        elements of the engine's list are not in it: their second-pass work (a WeakRef's
        sentinel, a WeakSet record's release of *undefined*) changes nothing the model holds.

        As `_loop_ahead`: the first step binds the newest record, each advance the successor kept
        in the hidden local, checked live there (a freed one is a use after free); the successor
        is read from the list as it is before the body runs."""
        D = c.D
        st = loop.stmt
        assert isinstance(st, ir.ForEach)
        src = st.source
        assert isinstance(src, ir.Field)
        if not st.read_ahead:
            raise model_error(loop, "a target's [[WeakRefRecords]]: the model walks it only reading "
                              "the next element before the steps run (reset_weak_ref's second pass)")
        lay = self.mc.layout
        nc, nw = lay.bounds.cells, lay.bounds.weakmaps
        if nw and "ent_order" not in lay.index:
            raise model_error(loop, "a target's [[WeakRefRecords]] with WeakMap entries: the model "
                              "has no order of the entries among the cells here")
        target = self.ev(src.base, c, D.true(), loop)
        # (value, member) of every record, cells then entries
        recs: list[tuple[V | int, B]] = []
        for j in range(nc):
            recs.append((D.num(lay.cell(j)), D.and_(D.eq(c.S.get("cell_status", j), LIVE),
                                                    D.eq(c.S.get("cell_target", j), target))))
        for e in range(nw):
            recs.append((D.num(lay.ent(e)), D.and_(D.eq(c.S.get("ent_status", e), LIVE),
                                                   D.eq(c.S.get("ent_key", e), target))))

        def newer(a: int, b: int) -> B | bool:
            """Record a is nearer the head than record b (made after it)."""
            if (a < nc) == (b < nc):
                return D.true() if a > b else D.false()
            if a < nc:  # cell a, entry b: a made after b when it did not exist at b's making
                return D.not_(D.eq(c.S.get("ent_order", (b - nc) * nc + a), 1))
            return D.eq(c.S.get("ent_order", (a - nc) * nc + b), 1)

        def first_of(allowed: list[B]) -> tuple[V | int, B]:
            """The newest record among those `allowed`, and whether there is one."""
            chosen: V | int = D.num(EMPTY)
            for m, (v, _) in enumerate(recs):
                ahead_of_all = D.and_(*[D.not_(D.and_(allowed[k], newer(k, m)))
                                        for k in range(len(recs)) if k != m])
                chosen = D.ite(D.and_(allowed[m], ahead_of_all), v, chosen)
            return chosen, D.or_(*allowed) if allowed else D.false()

        ahead = ahead_local(st)
        members = [member for _, member in recs]
        cur: V | int
        if first:
            cur, found = first_of(members)
        else:
            cur = self.get_local(c, ahead, loop)
            found = D.ne(cur, EMPTY)
            check_live(c, cur, found)
        # the records after cur: older than it
        later = [D.and_(found, members[m], D.or_(*[D.and_(D.eq(cur, v), newer(n, m))
                                                   for n, (v, _) in enumerate(recs) if n != m]))
                 for m in range(len(recs))]
        succ, _ = first_of(later)
        self.set_local(c, st.binder.var, cur, found, loop)
        self.set_local(c, ahead, succ, D.true(), loop)
        c.S.set("frame_pc", D.ite(found, D.num(self.first_child(loop)), D.num(self.next_pc(loop))),
                c.d)

    def _first_witness(self, w: Witness, var: str, v: V | int, c: Ctx[V, B], s: ir.Step) -> V | int:
        D = c.D
        lay = self.mc.layout
        env = dict(c.env)
        env[var] = v
        sub = Ctx(c.S, c.d, self, env, delivered=c.delivered)
        reg = self.ev(w.container.base, sub, D.true(), s)
        out: V | int = D.num(EMPTY)
        entries = w.container.name == "WeakMapData" and lay.bounds.weakmaps > 0
        for j in range((lay.bounds.weakmaps if entries else lay.bounds.cells) - 1, -1, -1):
            cell = D.num(lay.ent(j) if entries else lay.cell(j))
            env2 = dict(env)
            env2[w.var] = cell
            sub2 = Ctx(c.S, c.d, self, env2, delivered=c.delivered)
            member = self.member(c, reg, j, entries)
            ok = D.and_(member, self.evc(w.such_that, sub2, member, s) if w.such_that else D.true())
            out = D.ite(ok, cell, out)
        return out

    def _choose(self, s: ir.Step, c: Ctx[V, B], j: int) -> None:
        """`Choose any such _cell_`: the enclosing While's condition names the binder."""
        D = c.D
        st = s.stmt
        assert isinstance(st, ir.Choose)
        loop = self.parent[id(s)]
        cond = loop.stmt.cond if loop is not None and isinstance(loop.stmt, ir.While) else None
        if not (isinstance(cond, ir.Contains) and isinstance(cond.element, ir.Binder)
                and cond.element.var == st.var):
            raise model_error(s, "Choose any such: no enclosing While names this variable")
        v = D.num(self.mc.layout.cell(j))
        env = dict(c.env)
        env[st.var] = v
        sub = Ctx(c.S, c.d, self, env, delivered=c.delivered)
        member = self._member(cond.container, v, j, sub, s)
        ok = D.and_(member, self.evc(cond.such_that, sub, member, s) if cond.such_that else D.true())
        c.S.require(ok)
        self.set_local(c, st.var, v, D.true(), s)
        c.S.set("frame_pc", self.next_pc(s), c.d)

    def _member(self, container: ir.Expr, v: V | int, j: int, c: Ctx[V, B], s: ir.Step) -> B:
        D = c.D
        if isinstance(container, ir.Field) and container.name == "Cells":
            reg = self.ev(container.base, c, D.true(), s)
            return D.and_(D.eq(c.S.get("cell_owner", j), reg), D.eq(c.S.get("cell_status", j), LIVE))
        raise model_error(s, "contains: the model only knows [[Cells]] lists")
