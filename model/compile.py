"""Compile IR algorithms + a host profile into transitions: the step semantics.

One IR step is one transition (a call is two: push the callee, then resume when
it returns). Every transition is written once, against `View`/`Domain`
(model/domain.py), and so serves the reference interpreter and Z3 alike.

This module holds the control flow: program counters, calls and returns, loops, one set of
commands per frame depth. A step's operands and writes are evaluated by model/expressions.py,
the heap they touch is model/heap.py, and the operations the clause set calls but does not
define are modelled by hand in model/by_hand.py; see docs/model.md, "Modelled by hand".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from specmc.model.by_hand import FRAME_CALL_USER
from specmc.model.errors import model_error
from specmc.model.expressions import Ctx, Expressions
from specmc.model.heap import ABSENT_TYPES, KIND_OF_TYPE, check_live, check_slot, deliver, free, root_value
from specmc.model.layout import (
    CUT_FRAMES,
    CUT_NONE,
    EMPTY,
    LIVE,
    NONE,
    THROW,
    UNDEF,
    UNUSED,
    Layout,
)
from specmc.model.program import Command
from specmc.spec import ir

USER = 1  # algorithm code of a user-code frame (the script, or a callback)
END = 250  # pc meaning "fell off the end of the algorithm"


# ------------------------------------------------------------- the compiler


class ModelCompiler:
    """Shared state of one compilation: algorithm codes, locals width, layout."""

    def __init__(self, algorithms: dict[str, tuple[ir.Algorithm, str]], layout_factory: Callable):
        self.sources = algorithms  # name -> (algorithm, "spec" | "host")
        self.codes: dict[str, int] = {}
        self.compilers: dict[str, AlgCompiler] = {}
        for i, name in enumerate(algorithms):
            self.codes[name] = i + 2
        for name, (alg, source) in algorithms.items():
            self.compilers[name] = AlgCompiler(self, alg, self.codes[name], source)
        width = max((len(c.locals) for c in self.compilers.values()), default=1)
        self.layout: Layout = layout_factory(width)
        self.hooks_on_return: dict[str, Callable[[Ctx, Any], None]] = {}
        self.host_calls: dict[str, Callable[[Ctx, tuple[Any, ...], Any], Any]] = {}

    def commands(self) -> list[Command]:
        out: list[Command] = []
        for c in self.compilers.values():
            out.extend(c.commands())
        return out

    # frame operations (also used by the environment) -------------------------
    def push(self, S: Any, d: int, name: str, args: dict[str, Any], when: Any = None) -> None:
        """Push a frame of `name` at depth d+1 above frame d (d = -1: empty stack)."""
        D = S.d
        nf = self.layout.bounds.frames
        code = USER if name == "<user>" else self.codes[name]
        new = d + 1
        if new >= nf:
            S.set("cut", CUT_FRAMES, when=when)
            return
        S.set("sp", new + 1, when=when)
        S.set("frame_alg", code, new, when=when)
        S.set("frame_pc", 0, new, when=when)
        S.set("frame_phase", 0, new, when=when)
        k = self.layout.locals_per_frame
        names = self.compilers[name].locals if name != "<user>" else ()
        for i in range(k):
            v = args.get(names[i], D.num(EMPTY)) if i < len(names) else D.num(EMPTY)
            S.set("frame_local", v, new * k + i, when=when)

    def pop(self, S: Any, d: int, code: int, value: Any, when: Any = None) -> None:
        """A caller waiting for this frame (frame d-1, in phase 1) takes `value` from `ret` when it
        resumes, and empties it. Nobody reads `ret` when no frame waits (the bottom frame returned,
        or the collector's algorithm ran on top of user code between two of its actions), so it is
        left empty: an unread `ret` would only split states no step can tell apart (it nearly
        halves the default state spaces)."""
        D = S.d
        S.set("sp", d, when=when)
        waiting = D.ne(S.get("frame_phase", d - 1), 0) if d > 0 else D.false()
        S.set("ret", D.ite(waiting, value, D.num(EMPTY)), when=when)
        S.set("frame_alg", 0, d, when=when)
        S.set("frame_pc", 0, d, when=when)
        S.set("frame_phase", 0, d, when=when)
        k = self.layout.locals_per_frame
        for i in range(k):
            S.set("frame_local", 0, d * k + i, when=when)
        if d == 0 and code != self.codes.get("ClearKeptObjects"):
            S.set("need_clear", 1, when=when)
        if d == 0 and code != USER:  # a job (or the collector) ended abruptly: nothing caught it
            S.set("escaped", 1, when=D.and_(D.true() if when is None else when, D.eq(value, THROW)))


class AlgCompiler(Expressions):
    """Steps of one algorithm -> commands, one set per frame depth."""

    def __init__(self, mc: ModelCompiler, alg: ir.Algorithm, code: int, source: str):
        self.mc = mc
        self.alg = alg
        self.code = code
        self.source = source
        self.steps: list[ir.Step] = list(alg.walk())
        self.pc_of: dict[int, int] = {id(s): i for i, s in enumerate(self.steps)}
        self.parent: dict[int, ir.Step | None] = {}
        self.siblings: dict[int, tuple[ir.Step, ...]] = {}
        self._index(alg.steps, None)
        names: list[str] = ["this", "newtarget"]
        names += [p.name for p in alg.params] + list(alg.captures) + list(alg.binds)
        for s in self.steps:
            for n in ir.iter_nodes(s.stmt):
                if isinstance(n, ir.Let | ir.Choose):
                    names.append(n.var)
                elif isinstance(n, ir.ForEach):
                    names.append(n.binder.var)
                    w = _witness(n)
                    if w is not None:
                        names.append(w.element.var)  # type: ignore[union-attr]
        self.locals: tuple[str, ...] = tuple(dict.fromkeys(names))
        self.loops = [s for s in self.steps if isinstance(s.stmt, ir.ForEach)]
        self.adv_pc = {id(s): len(self.steps) + i for i, s in enumerate(self.loops)}

    def _index(self, steps: tuple[ir.Step, ...], parent: ir.Step | None) -> None:
        for s in steps:
            self.parent[id(s)] = parent
            self.siblings[id(s)] = steps
            self._index(s.substeps, s)

    # control flow -------------------------------------------------------------
    def pc(self, s: ir.Step) -> int:
        return self.pc_of[id(s)]

    def _following(self, s: ir.Step) -> ir.Step | None:
        sib = self.siblings[id(s)]
        i = sib.index(s)
        return sib[i + 1] if i + 1 < len(sib) else None

    def next_pc(self, s: ir.Step) -> int:
        nxt = self._following(s)
        if isinstance(s.stmt, ir.If | ir.ElseIf | ir.Else):
            while nxt is not None and isinstance(nxt.stmt, ir.ElseIf | ir.Else):
                nxt = self._following(nxt)
        if nxt is not None:
            return self.pc(nxt)
        return self.end_of(self.parent[id(s)])

    def end_of(self, p: ir.Step | None) -> int:
        if p is None:
            return END
        if isinstance(p.stmt, ir.ForEach):
            return self.adv_pc[id(p)]
        if isinstance(p.stmt, ir.While | ir.Repeat):
            return self.pc(p)
        return self.next_pc(p)

    def else_pc(self, s: ir.Step) -> int:
        nxt = self._following(s)
        if nxt is not None and isinstance(nxt.stmt, ir.ElseIf | ir.Else):
            return self.pc(nxt)
        return self.next_pc(s)

    def first_child(self, s: ir.Step) -> int:
        return self.pc(s.substeps[0]) if s.substeps else self.next_pc(s)

    # locals -------------------------------------------------------------------
    def slot(self, name: str, step: ir.Step | None = None) -> int:
        try:
            return self.locals.index(name)
        except ValueError:
            raise model_error(step, f"_{name}_ is not defined in {self.alg.name}") from None

    def get_local(self, c: Ctx, name: str, step: ir.Step | None = None) -> Any:
        if name in c.env:
            return c.env[name]
        k = self.mc.layout.locals_per_frame
        return c.S.get("frame_local", c.d * k + self.slot(name, step))

    def set_local(self, c: Ctx, name: str, value: Any, when: Any, step: ir.Step | None = None) -> None:
        k = self.mc.layout.locals_per_frame
        c.S.set("frame_local", value, c.d * k + self.slot(name, step), when=when)

    # commands -----------------------------------------------------------------
    def dead(self) -> set[int]:
        """Steps inside a loop over entities the model has none of (WeakMaps, WeakSets, the
        GlobalSymbolRegistry): statically unreachable, so no transitions are made for them."""
        out: set[int] = set()
        for s in self.steps:
            if dead_loop(s.stmt):
                out.update(id(x) for x in s.walk() if x is not s)
        return out

    def commands(self) -> list[Command]:
        out: list[Command] = []
        nf = self.mc.layout.bounds.frames
        dead = self.dead()
        for s in self.steps:
            if id(s) in dead:
                continue
            for variant in self._variants(s):
                for d in range(nf):
                    out.extend(self._step_commands(s, d, variant))
        for loop in self.loops:
            if id(loop) in dead:
                continue
            for d in range(nf):
                out.append(self._advance_command(loop, d))
        for d in range(nf):
            out.append(self._end_command(d))
        return out

    def _variants(self, s: ir.Step) -> list[Any]:
        st = s.stmt
        if isinstance(st, ir.While) and st.may:
            return ["exit", "enter"]
        if isinstance(st, ir.Optionally):
            return ["skip", "do"]
        if isinstance(st, ir.Choose):
            return list(range(self.mc.layout.bounds.cells))
        return [None]

    def _site(self, d: int, pc: int, phase: int) -> tuple[int, int, int, int]:
        return (d, self.code, pc, phase)

    def _guard(self, S: Any, d: int, pc: int, phase: int) -> None:
        D = S.d
        S.require(D.eq(S.get("sp"), d + 1))
        S.require(D.eq(S.get("frame_alg", d), self.code))
        S.require(D.eq(S.get("frame_pc", d), pc))
        S.require(D.eq(S.get("frame_phase", d), phase))
        S.require(D.eq(S.get("cut"), CUT_NONE))

    def _cmd(self, name: str, s: ir.Step | None, site: tuple, fire: Callable) -> Command:
        actor = "host" if self.source == "host" else "spec"
        return Command(name, actor, fire, site, s, self.alg.name, self.alg.clause)

    def _end_command(self, d: int) -> Command:
        def fire(S: Any) -> None:
            self._guard(S, d, END, 0)
            c = Ctx(S, d, self)
            self.do_return(c, S.d.num(UNUSED), S.d.true())

        return self._cmd(f"{self.alg.name} (end)", None, self._site(d, END, 0), fire)

    def do_return(self, c: Ctx, value: Any, when: Any) -> None:
        hook = self.mc.hooks_on_return.get(self.alg.name)
        if hook is not None:
            hook(Ctx(c.S, c.d, self), when)
        self.mc.pop(c.S, c.d, self.code, value, when)

    def _step_commands(self, s: ir.Step, d: int, variant: Any) -> list[Command]:
        pc = self.pc(s)
        label = f"{self.alg.name} {s.number}" + (f" [{variant}]" if variant is not None else "")
        calls = _frame_calls(s.stmt, self.mc)
        if len(calls) > 1:
            raise model_error(s, "more than one call to a modelled algorithm in one step")
        out: list[Command] = []

        def phase0(S: Any, want_call: bool) -> None:
            self._guard(S, d, pc, 0)
            c = Ctx(S, d, self)
            self.run(s, c, variant, resuming=False, want_call=want_call)

        if calls:
            out.append(self._cmd(label + " (call)", s, self._site(d, pc, 0),
                                 lambda S: phase0(S, True)))
            out.append(self._cmd(label, s, self._site(d, pc, 0), lambda S: phase0(S, False)))

            def phase1(S: Any) -> None:
                self._guard(S, d, pc, 1)
                c = Ctx(S, d, self, ret=S.get("ret"))
                S.set("ret", EMPTY)
                S.set("frame_phase", 0, d)
                self.run(s, c, variant, resuming=True, want_call=False)

            out.append(self._cmd(label + " (resume)", s, self._site(d, pc, 1), phase1))
        else:
            out.append(self._cmd(label, s, self._site(d, pc, 0), lambda S: phase0(S, False)))
        return out

    # one step -----------------------------------------------------------------
    def run(self, s: ir.Step, c: Ctx, variant: Any, resuming: bool, want_call: bool) -> None:
        """Execute step `s` (phase 0: up to its call, if any; resuming: after it)."""
        D = c.D
        S = c.S
        st = s.stmt
        T = D.true()
        if isinstance(st, ir.ForEach):
            self._loop(s, c, first=True)
            return
        if isinstance(st, ir.While) and st.may:
            if variant == "exit":
                S.set("frame_pc", self.next_pc(s), c.d)
            else:
                S.require(self.evc(st.cond, c, T, s))
                S.set("frame_pc", self.first_child(s), c.d)
            return
        if isinstance(st, ir.Choose):
            self._choose(s, c, variant)
            return
        if isinstance(st, ir.Optionally) and variant == "skip":
            S.set("frame_pc", self.next_pc(s), c.d)
            return
        body = st.body if isinstance(st, ir.Optionally) else st
        if isinstance(body, ir.If | ir.ElseIf) and body.inline is None:
            cond = self.evc(body.cond, c, T, s)
            if not self._settle_call(c, want_call, resuming, s):
                return
            go = D.ite(cond, D.num(self.first_child(s)), D.num(self.else_pc(s)))
            S.set("frame_pc", go, c.d, when=D.not_(self._returned(c)))
            return
        if isinstance(body, ir.Else) and body.inline is None:
            S.set("frame_pc", self.first_child(s), c.d)
            return
        if isinstance(body, ir.If | ir.ElseIf):
            cond = self.evc(body.cond, c, T, s)
            r1 = self.exec(body.inline, s, c, cond, want_call, resuming)
            if r1 is None:
                return
            other = body.otherwise if isinstance(body, ir.If) else None
            if other is not None:
                r2 = self.exec(other, s, c, D.not_(cond), want_call, resuming)
                if r2 is None:
                    return
                S.set("frame_pc", self.next_pc(s), c.d,
                      when=D.not_(D.or_(r1, r2, self._returned(c))))
                return
            stay = D.not_(D.or_(r1, self._returned(c)))
            S.set("frame_pc", self.next_pc(s), c.d, when=D.and_(cond, stay))
            S.set("frame_pc", self.else_pc(s), c.d, when=D.and_(D.not_(cond), stay))
            return
        inner = body.inline if isinstance(body, ir.Else) else body
        returned = self.exec(inner, s, c, T, want_call, resuming)
        if returned is None:  # a frame was pushed; resume later
            return
        S.set("frame_pc", self.next_pc(s), c.d, when=D.not_(D.or_(returned, self._returned(c))))

    def _settle_call(self, c: Ctx, want_call: bool, resuming: bool, s: ir.Step) -> bool:
        """After evaluating a step's expressions: push the callee (and stop), or require
        that no call was reached; an abrupt `?` operand returns from the frame.
        Returns False if a frame was pushed."""
        D = c.D
        abrupt = D.or_(*c.abrupt) if c.abrupt else D.false()
        if want_call:
            if c.call is None:
                c.S.require(D.false())
                return False
            name, args, reach = c.call
            c.S.require(D.and_(reach, D.not_(abrupt)))
            self._push_call(c, name, args)
            c.S.set("frame_phase", 1, c.d)
            return False
        if c.call is not None and not resuming:
            c.S.require(D.not_(c.call[2]))
        if c.prop is None:
            c.prop = abrupt
            if c.abrupt:
                self.do_return(c, D.num(THROW), abrupt)
        c.abrupt.clear()
        return True

    def _push_call(self, c: Ctx, name: str, args: tuple[Any, ...]) -> None:
        deliver(c)
        if name == FRAME_CALL_USER:
            # Call(F, thisArg, « held »): user code runs; it can reach its argument.
            held = args[2] if len(args) > 2 else c.D.num(UNDEF)
            root_value(c, held)
            self.mc.push(c.S, c.d, "<user>", {})
            return
        callee = self.mc.compilers[name]
        params = [p.name for p in callee.alg.params]
        if len(args) > len(params):
            raise model_error(None, f"{name} takes {len(params)} arguments, given {len(args)}")
        bind = {p: args[i] if i < len(args) else c.D.num(UNDEF) for i, p in enumerate(params)}
        self.mc.push(c.S, c.d, name, bind)

    def exec(self, st: ir.Stmt, s: ir.Step, c: Ctx, when: Any, want_call: bool,
             resuming: bool) -> Any:
        """Effects of a (possibly inline) statement under `when`; returns the condition
        under which the frame returned, or None if a callee frame was pushed.

        Every statement goes the same way: evaluate its operands, settle the call they
        reached (push it and stop, or go on), then apply its effect."""
        D = c.D
        if isinstance(st, ir.Optionally):
            return self.exec(st.body, s, c, when, want_call, resuming)
        if isinstance(st, ir.If | ir.ElseIf | ir.Else):
            raise model_error(s, "an inline If inside an inline statement is not modelled")
        values = self._operands(st, s, c, when)
        if not self._settle_call(c, want_call, resuming, s):
            return None
        returned = self._effect(st, values, s, c, self._ok(c, when))
        return D.or_(returned, self._returned(c))

    def _operands(self, st: ir.Stmt, s: ir.Step, c: Ctx, when: Any) -> tuple[Any, ...]:
        if isinstance(st, ir.Let | ir.Set | ir.Perform):
            return (self.ev(st.value, c, when, s),)
        if isinstance(st, ir.Return):
            return (self.ev(st.value, c, when, s) if st.value is not None else c.D.num(UNUSED),)
        if isinstance(st, ir.Assert):
            return (self.evc(st.cond, c, when, s),)
        if isinstance(st, ir.Append):
            return (self.ev(st.item, c, when, s),)
        if isinstance(st, ir.Remove):
            if st.item is None:
                raise model_error(s, "Remove the first element is not used by this clause set")
            return (self.ev(st.item, c, when, s),)
        if isinstance(st, ir.Free):
            return (self.ev(st.target, c, when, s),)
        if isinstance(st, ir.Throw | ir.HostDefined | ir.Note | ir.Replace):
            # Replace is only reached inside a loop over WeakSets, which the model has none of
            return ()
        raise model_error(s, f"the model has no semantics for '{st.kind}' steps")

    def _effect(self, st: ir.Stmt, values: tuple[Any, ...], s: ir.Step, c: Ctx, ok: Any) -> Any:
        """Apply the statement under `ok`; returns the condition under which it returned."""
        D = c.D
        if isinstance(st, ir.Let):
            self.set_local(c, st.var, values[0], ok, s)
        elif isinstance(st, ir.Set):
            self.assign(st.target, values[0], c, ok, s)
        elif isinstance(st, ir.Return):
            self.do_return(c, values[0], ok)
            return ok
        elif isinstance(st, ir.Throw):
            self.do_return(c, D.num(THROW), ok)
            return ok
        elif isinstance(st, ir.Assert):
            c.S.set("err_assert", 1, when=D.and_(ok, D.not_(values[0])))
        elif isinstance(st, ir.Append):
            self._append(st, values[0], c, ok, s)
        elif isinstance(st, ir.Remove):
            self._remove(st, values[0], c, ok, s)
        elif isinstance(st, ir.Free):
            free(c, values[0], ok)
        return D.false()

    def _ok(self, c: Ctx, when: Any) -> Any:
        return when if c.prop is None else c.D.and_(when, c.D.not_(c.prop))

    def _returned(self, c: Ctx) -> Any:
        return c.D.false() if c.prop is None else c.prop

    # loops and choices -------------------------------------------------------------
    def _advance_command(self, loop: ir.Step, d: int) -> Command:
        pc = self.adv_pc[id(loop)]

        def fire(S: Any) -> None:
            self._guard(S, d, pc, 0)
            self._loop(loop, Ctx(S, d, self), first=False)

        return self._cmd(f"{self.alg.name} {loop.number} (next)", loop, self._site(d, pc, 0), fire)

    def _candidates(self, loop: ir.Step, c: Ctx) -> list[tuple[Any, Any]]:
        """(value, is-a-member condition) for each entity the loop may bind, in order."""
        st: ir.ForEach = loop.stmt  # type: ignore[assignment]
        D = c.D
        lay = self.mc.layout
        b = st.binder
        out = []
        if st.source is None:  # For each <Type> _x_ such that C: a quantifier over the heap
            if b.type_name in ABSENT_TYPES:
                return []  # WeakMap / WeakSet: the model has none
            kind = KIND_OF_TYPE.get(b.type_name)
            if kind is None:
                raise model_error(loop, f"the model has no objects of type {b.type_name} (it knows "
                                  f"{', '.join(sorted(KIND_OF_TYPE))}; {', '.join(sorted(ABSENT_TYPES))} "
                                  "have no instances)")
            for i in range(lay.bounds.objects):
                v = D.num(lay.obj(i))
                member = D.and_(D.eq(c.S.get("obj_status", i), LIVE),
                                D.eq(c.S.get("obj_kind", i), kind))
                env = dict(c.env)
                env[b.var] = v
                sub = Ctx(c.S, c.d, self, env)
                cond = self.evc(st.such_that, sub, member, loop) if st.such_that else D.true()
                out.append((v, D.and_(member, cond)))
            return out
        src = st.source
        if isinstance(src, ir.Field) and src.name == "Cells":
            reg = self.ev(src.base, c, D.true(), loop)
            check_live(c, reg, D.true())
            check_slot(c, reg, "Cells", D.true())
            for j in range(lay.bounds.cells):
                member = D.and_(D.eq(c.S.get("cell_owner", j), reg),
                                D.ne(c.S.get("cell_status", j), NONE))
                out.append((D.num(lay.cell(j)), member))
            return out
        if isinstance(src, ir.Special) and src.kind == "global-symbol-registry":
            return []  # the model has no Symbols
        if isinstance(src, ir.Var) and src.name in self.alg.binds:  # the set _S_ (a bitmask)
            mask = self.get_local(c, src.name, loop)
            for i in range(lay.bounds.objects):
                out.append((D.num(lay.obj(i)), D.bit(mask, i)))
            return out
        raise model_error(loop, "the model cannot iterate over this source")

    def _loop(self, loop: ir.Step, c: Ctx, first: bool) -> None:
        D = c.D
        S = c.S
        st: ir.ForEach = loop.stmt  # type: ignore[assignment]
        var = st.binder.var
        cands = self._candidates(loop, c)
        cur = self.get_local(c, var, loop)
        witness = _witness(st)
        # the next member after the current one (by position), or none
        chosen = D.num(EMPTY)
        chosen_w = D.num(EMPTY)
        found = D.false()
        for v, member in reversed(cands):
            after = D.true() if first else D.lt(cur, v)
            hit = D.and_(member, after)
            chosen = D.ite(hit, v, chosen)
            if witness is not None:
                chosen_w = D.ite(hit, self._first_witness(witness, st.binder.var, v, c, loop), chosen_w)
            found = D.or_(found, hit)
        self.set_local(c, var, chosen, found, loop)
        if witness is not None:
            # Literal reading of `For each X _x_ such that L contains a Record _r_ such that C`:
            # the body runs once per _x_, and _r_ names one matching Record (the first in list
            # order; the text does not say which). See docs/findings.md, "Spec hazards found so far".
            self.set_local(c, witness.element.var, chosen_w, found, loop)  # type: ignore[union-attr]
        S.set("frame_pc", D.ite(found, D.num(self.first_child(loop)), D.num(self.next_pc(loop))),
              c.d)

    def _first_witness(self, w: ir.Contains, var: str, v: Any, c: Ctx, s: ir.Step) -> Any:
        D = c.D
        lay = self.mc.layout
        env = dict(c.env)
        env[var] = v
        sub = Ctx(c.S, c.d, self, env)
        reg = self.ev(w.container.base, sub, D.true(), s)  # type: ignore[union-attr]
        out = D.num(EMPTY)
        for j in range(lay.bounds.cells - 1, -1, -1):
            cell = D.num(lay.cell(j))
            env2 = dict(env)
            env2[w.element.var] = cell  # type: ignore[union-attr]
            sub2 = Ctx(c.S, c.d, self, env2)
            member = D.and_(D.eq(c.S.get("cell_owner", j), reg), D.eq(c.S.get("cell_status", j), LIVE))
            ok = D.and_(member, self.evc(w.such_that, sub2, member, s) if w.such_that else D.true())
            out = D.ite(ok, cell, out)
        return out

    def _choose(self, s: ir.Step, c: Ctx, j: int) -> None:
        """`Choose any such _cell_`: the enclosing While's condition names the binder."""
        D = c.D
        st: ir.Choose = s.stmt  # type: ignore[assignment]
        loop = self.parent[id(s)]
        cond = loop.stmt.cond if loop is not None and isinstance(loop.stmt, ir.While) else None
        if not (isinstance(cond, ir.Contains) and isinstance(cond.element, ir.Binder)
                and cond.element.var == st.var):
            raise model_error(s, "Choose any such: no enclosing While names this variable")
        v = D.num(self.mc.layout.cell(j))
        env = dict(c.env)
        env[st.var] = v
        sub = Ctx(c.S, c.d, self, env)
        member = self._member(cond.container, v, j, sub, s)
        ok = D.and_(member, self.evc(cond.such_that, sub, member, s) if cond.such_that else D.true())
        c.S.require(ok)
        self.set_local(c, st.var, v, D.true(), s)
        c.S.set("frame_pc", self.next_pc(s), c.d)

    def _member(self, container: ir.Expr, v: Any, j: int, c: Ctx, s: ir.Step) -> Any:
        D = c.D
        if isinstance(container, ir.Field) and container.name == "Cells":
            reg = self.ev(container.base, c, D.true(), s)
            return D.and_(D.eq(c.S.get("cell_owner", j), reg), D.eq(c.S.get("cell_status", j), LIVE))
        raise model_error(s, "contains: the model only knows [[Cells]] lists")


# ------------------------------------------------------------ static helpers


def dead_loop(st: ir.Stmt) -> bool:
    """A loop over entities the model has none of: its body makes no transitions."""
    return isinstance(st, ir.ForEach) and (
        (st.source is None and st.binder.type_name in ABSENT_TYPES)
        or (isinstance(st.source, ir.Special) and st.source.kind == "global-symbol-registry"))


def _witness(st: ir.ForEach) -> ir.Contains | None:
    """The `contains a Record _r_ such that ...` inside a heap quantifier, whose _r_ the
    loop body goes on to use."""
    c = st.such_that
    if isinstance(c, ir.Contains) and isinstance(c.element, ir.Binder) and \
            isinstance(c.container, ir.Field) and st.source is None:
        return c
    return None


def _frame_calls(st: ir.Stmt, mc: ModelCompiler) -> list[ir.Call]:
    out = []
    for n in ir.iter_nodes(st):
        if isinstance(n, ir.Call) and isinstance(n.callee, ir.Name):
            if n.callee.name == FRAME_CALL_USER or n.callee.name in mc.compilers:
                out.append(n)
    return out


__all__ = ["dead_loop", "ModelCompiler", "AlgCompiler", "USER", "END"]
