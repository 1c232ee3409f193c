"""Where each step of one algorithm sits: its program counter, where control goes after it, and
the frame's locals. Static facts of the IR, computed once per algorithm; no domain is involved.

`Flow` is the base of the algorithm compiler (model/compile.py): the step semantics above it
(model/expressions.py, model/loops.py, model/statements.py) ask it for the pc to jump to and the
slot of a local.
"""

from __future__ import annotations

from typing import NamedTuple

from specmc.model.errors import model_error
from specmc.spec import ir

END = 250  # pc meaning "fell off the end of the algorithm"


class Flow:
    """Steps in pc order (a pre-order walk), then one pc per `For each` for its advance to the
    next element; the locals of a frame (this, NewTarget, parameters, captures, prose-bound
    names, then every variable a step binds, each once, and after a loop that reads ahead its
    hidden successor, `ahead_local`; after a loop over a list of values, its hidden position,
    `position_local`)."""

    def __init__(self, alg: ir.Algorithm) -> None:
        self.alg = alg
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
                    if n.read_ahead:
                        names.append(ahead_local(n))
                    if walks_values(n):
                        names.append(position_local(n))
                    w = witness(n)
                    if w is not None:
                        names.append(w.var)
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


def ahead_local(st: ir.ForEach) -> str:
    """The frame local in which a loop that reads ahead keeps the element after its current one
    (the `el1` of list_for_each_safe). A spec variable never holds a dot, so no step can name it;
    traces show it as `frameN.cell.next`."""
    return f"{st.binder.var}.next"


def walks_values(st: ir.ForEach) -> bool:
    """A loop over a List whose elements are values, not Records (`For each element _e_ of
    _S_.[[WeakSetData]]`): its binder holds an element's value (an object, a Symbol, ~empty~),
    which says nothing of where in the list the walk is, so the walk keeps that in
    `position_local`."""
    return isinstance(st.source, ir.Field) and st.source.name == "WeakSetData"


def position_local(st: ir.ForEach) -> str:
    """The frame local in which a loop over a list of values (`walks_values`) keeps the element
    it is at (model/layout.py: a WeakSet element's own value). Like `ahead_local`, no spec
    variable can name it; traces show it as `frameN.e.at`."""
    return f"{st.binder.var}.at"


class Witness(NamedTuple):
    """The Record a heap quantifier's condition names: `For each X _x_ such that L contains a
    Record _r_ such that C`, whose _r_ the loop body goes on to use."""

    var: str  # _r_
    container: ir.Field  # L, a list slot of _x_ (its [[Cells]])
    such_that: ir.Expr | None  # C


def witness(st: ir.ForEach) -> Witness | None:
    """The Record a heap quantifier `st` names in its condition, if it names one."""
    c = st.such_that
    if isinstance(c, ir.Contains) and isinstance(c.element, ir.Binder) and \
            isinstance(c.container, ir.Field) and st.source is None:
        return Witness(c.element.var, c.container, c.such_that)
    return None
