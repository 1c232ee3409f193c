"""One step of an algorithm: evaluate its operands, settle the call they reach, apply its effect.

A step that calls a modelled algorithm is two transitions: phase 0 evaluates up to the call and
pushes the callee's frame (or, in its other command, requires that no call is reached); phase 1
resumes when the callee has returned, with its result in `ret`, and finishes the step. A `?`
operand that completes abruptly returns from the frame. Written against `View`/`Domain` like
every step (model/domain.py); program counters come from model/flow.py.
"""

from __future__ import annotations

from specmc.model.by_hand import FRAME_CALL_USER
from specmc.model.domain import B, V
from specmc.model.errors import model_error
from specmc.model.expressions import Ctx
from specmc.model.heap import deliver, free, root_value
from specmc.model.layout import THROW, UNDEF, UNUSED
from specmc.model.loops import Loops
from specmc.spec import ir

# which command of a step runs: "exit" / "enter" (a While an implementation may perform),
# "skip" / "do" (Optionally), a cell index (Choose any such), None for any other step
Variant = str | int | None


class Statements(Loops):
    """Statement semantics of one algorithm's steps."""

    code: int  # the algorithm's code in `frame_alg`

    def do_return(self, c: Ctx[V, B], value: V | B | int, when: B | bool) -> None:
        """Return `value` from the frame under `when`: the host's hook on this algorithm's return
        (model/env.py), then the pop."""
        hook = self.mc.hooks_on_return.get(self.alg.name)
        if hook is not None:
            hook(Ctx(c.S, c.d, self), when)
        self.mc.pop(c.S, c.d, self.code, value, when)
        after = self.mc.hooks_after_pop.get(self.alg.name)
        if after is not None:
            after(Ctx(c.S, c.d, self), when)

    def run(self, s: ir.Step, c: Ctx[V, B], variant: Variant, resuming: bool, want_call: bool) -> None:
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
                if self.mc.performs_optional:  # a host that promises delivery stops only when done
                    S.require(D.not_(self.evc(st.cond, c, T, s)))
                S.set("frame_pc", self.next_pc(s), c.d)
            else:
                S.require(self.evc(st.cond, c, T, s))
                S.set("frame_pc", self.first_child(s), c.d)
            return
        if isinstance(st, ir.Choose):
            self._choose(s, c, variant)  # type: ignore[arg-type]  # a Choose's variant is a cell
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

    def _settle_call(self, c: Ctx[V, B], want_call: bool, resuming: bool, s: ir.Step) -> bool:
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

    def _push_call(self, c: Ctx[V, B], name: str, args: tuple[V | B | int, ...]) -> None:
        deliver(c)
        if name == FRAME_CALL_USER:
            # Call(F, thisArg, « held »): user code runs; it can reach its argument.
            held = args[2] if len(args) > 2 else c.D.num(UNDEF)
            root_value(c, held)
            if self.mc.functions:
                # a function object's body can name the function itself (its own name, or the
                # variable user code called it by) and so read what it captured: the callback's
                # activation is the most general client that also holds F (docs/model.md,
                # "Callbacks as objects"). F is the user function, which no slot holds, or a
                # function object, which this makes one user code holds, as it does the argument
                root_value(c, args[0])
            self.mc.push(c.S, c.d, "<user>", {})
            return
        callee = self.mc.compilers[name]
        params = [p.name for p in callee.alg.params]
        if len(args) > len(params):
            raise model_error(None, f"{name} takes {len(params)} arguments, given {len(args)}")
        bind = {p: args[i] if i < len(args) else c.D.num(UNDEF) for i, p in enumerate(params)}
        self.mc.push(c.S, c.d, name, bind)

    def exec(self, st: ir.Stmt, s: ir.Step, c: Ctx[V, B], when: B | bool, want_call: bool,
             resuming: bool) -> B | None:
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

    def _operands(self, st: ir.Stmt, s: ir.Step, c: Ctx[V, B], when: B | bool) -> tuple[V | B | int, ...]:
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
        if isinstance(st, ir.Replace):
            return (self.ev(st.old, c, when, s), self.ev(st.new, c, when, s))
        if isinstance(st, ir.Throw | ir.HostDefined | ir.Note):
            return ()
        raise model_error(s, f"the model has no semantics for '{st.kind}' steps")

    def _effect(self, st: ir.Stmt, values: tuple[V | B | int, ...], s: ir.Step, c: Ctx[V, B], ok: B | bool
                ) -> B | bool:
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
        elif isinstance(st, ir.Replace):
            self.replace(st, values[0], values[1], c, ok, s)
        elif isinstance(st, ir.Free):
            free(c, values[0], ok)
        return D.false()

    def _ok(self, c: Ctx[V, B], when: B | bool) -> B | bool:
        return when if c.prop is None else c.D.and_(when, c.D.not_(c.prop))

    def _returned(self, c: Ctx[V, B]) -> B | bool:
        return c.D.false() if c.prop is None else c.prop
