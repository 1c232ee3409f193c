"""Compile IR algorithms + a host profile into transitions: the step semantics.

One IR step is one transition (a call is two: push the callee, then resume when
it returns). Every transition is written once, against `View`/`Domain`
(model/domain.py), and so serves the reference interpreter and Z3 alike.

This module holds what a compilation shares (algorithm codes, the layout, frame push and pop)
and turns each algorithm's steps into commands, one set per frame depth. The algorithm
compiler is built in layers, each in its own module: where each step sits (model/flow.py), a
step's operands and writes (model/expressions.py), loops and choices (model/loops.py), and a
whole step (model/statements.py). The heap they touch is model/heap.py, and the operations the
clause set calls but does not define are modelled by hand in model/by_hand.py; see
docs/model.md, "Modelled by hand".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from specmc.model.by_hand import FRAME_CALL_USER
from specmc.model.domain import B, V, View
from specmc.model.errors import model_error
from specmc.model.expressions import Ctx
from specmc.model.flow import END
from specmc.model.heap import absent_types
from specmc.model.layout import (
    CUT_FRAMES,
    CUT_NONE,
    EMPTY,
    THROW,
    UNUSED,
    Layout,
)
from specmc.model.program import Command
from specmc.model.statements import Statements, Variant
from specmc.spec import ir

USER = 1  # algorithm code of a user-code frame (the script, or a callback)

Site = tuple[int, int, int, int]  # (depth, algorithm code, pc, phase): see Command.site


class ReturnHook(Protocol):
    """What a host profile does when an algorithm returns (model/env.py), in either domain."""

    def __call__(self, c: Ctx[V, B], when: B | bool) -> None: ...


class ReleaseHook(Protocol):
    """What the host does after a step let go of a counted reference other than by `Free _x_`: a
    WeakMap entry's [[Value]] overwritten or emptied (model/refcount.py `_after_release`)."""

    def __call__(self, c: Ctx[V, B], when: B | bool) -> None: ...


class FreeHook(Protocol):
    """What the host does after a `Free _x_` step released counted references (model/refcount.py);
    `freed` is the value the step freed."""

    def __call__(self, c: Ctx[V, B], freed: V | int, when: B | bool) -> None: ...


class TypeTest(Protocol):
    """A type test `_x_ is an <engine-level type>` the environment gives a meaning (model/env.py)."""

    def __call__(self, c: Ctx[V, B], v: V | int) -> B: ...


class HostCall(Protocol):
    """A host hook the environment implements (model/env.py): its result, in either domain."""

    def __call__(self, c: Ctx[V, B], args: tuple[V | B | int, ...], when: B | bool) -> V | int: ...


# ------------------------------------------------------------- the compiler


class ModelCompiler:
    """Shared state of one compilation: algorithm codes, locals width, layout."""

    def __init__(self, algorithms: dict[str, tuple[ir.Algorithm, str]],
                 layout_factory: Callable[[int], Layout]):
        self.sources = algorithms  # name -> (algorithm, "spec" | "host")
        self.codes: dict[str, int] = {}
        self.compilers: dict[str, AlgCompiler] = {}
        for i, name in enumerate(algorithms):
            self.codes[name] = i + 2
        for name, (alg, source) in algorithms.items():
            self.compilers[name] = AlgCompiler(self, alg, self.codes[name], source)
        width = max((len(c.locals) for c in self.compilers.values()), default=1)
        self.layout: Layout = layout_factory(width)
        self.hooks_on_return: dict[str, ReturnHook] = {}  # algorithm -> what the host does on its return
        # algorithm -> what the host does once its frame is popped (the frame below is on top again)
        self.hooks_after_pop: dict[str, ReturnHook] = {}
        self.after_free: FreeHook | None = None  # run after every `Free _x_` step, when set
        # run after every write of a WeakMap entry's [[Value]] (a counted reference let go), when set
        self.after_release: ReleaseHook | None = None
        # run after a frame at the bottom of the stack (a job, the script, a free path there) is
        # popped, with the frame's algorithm code, when set
        self.after_bottom_pop: Callable[[View[V, B], int, B | bool | None], None] | None = None
        self.host_calls: dict[str, HostCall] = {}  # host hooks the environment implements
        # engine-level type tests of host profiles (`is an object being freed`), by type name
        self.type_tests: dict[str, TypeTest] = {}
        # a host that promises delivery (model/hosts.py, `delivery: promised`) performs every
        # `Optionally` step and leaves an "an implementation may" loop only when its condition fails
        self.performs_optional = False
        # the host's free path walks a target's weak-reference list ([[WeakRefRecords]],
        # model/loops.py), whose records are cells and WeakMap entries: `has a [[HeldValue]] field`
        # tells them apart and a cell has its own [[CleanupCallback]] (model/heap.py); False keeps
        # every other host's model as it was before the list existed
        self.weak_lists = False
        # user code may make function objects and pass one as a registry's callback (bound `slots`
        # on a tracing host; model/env.py sets it): IsCallable, the JobCallback Record and a
        # callback's call read it, and at False build exactly the model before function objects
        self.functions = False

    def commands(self) -> list[Command]:
        out: list[Command] = []
        for c in self.compilers.values():
            out.extend(c.commands())
        return out

    # frame operations (also used by the environment) -------------------------
    def push(self, S: View[V, B], d: int, name: str, args: dict[str, V | B | int],
             when: B | bool | None = None) -> None:
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

    def pop(self, S: View[V, B], d: int, code: int, value: V | B | int, when: B | bool | None = None) -> None:
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
        if d == 0 and self.after_bottom_pop is not None:
            self.after_bottom_pop(S, code, when)


class AlgCompiler(Statements):
    """Steps of one algorithm -> commands, one set per frame depth."""

    def __init__(self, mc: ModelCompiler, alg: ir.Algorithm, code: int, source: str):
        super().__init__(alg)
        self.mc = mc
        self.code = code
        self.source = source

    # commands -----------------------------------------------------------------
    def dead(self) -> set[int]:
        """Steps inside a loop over entities the model has none of (WeakMaps without the bound
        `weakmaps`, WeakSets without `weaksets`, the GlobalSymbolRegistry without Symbols), and
        the steps after the WeakMap and WeakSet constructors' return for an absent _iterable_
        (`unreached`): statically
        unreachable, so no transitions are made for them."""
        bounds = self.mc.layout.bounds
        out: set[int] = unreached(self.alg)
        for s in self.steps:
            if dead_loop(s.stmt, bounds.symbols, bounds.weakmaps, bounds.weaksets):
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

    def _variants(self, s: ir.Step) -> list[Variant]:
        st = s.stmt
        if isinstance(st, ir.While) and st.may:
            return ["exit", "enter"]
        if isinstance(st, ir.Optionally):
            return ["do"] if self.mc.performs_optional else ["skip", "do"]
        if isinstance(st, ir.Choose):
            return list(range(self.mc.layout.bounds.cells))
        return [None]

    def _site(self, d: int, pc: int, phase: int) -> Site:
        return (d, self.code, pc, phase)

    def _guard(self, S: View[V, B], d: int, pc: int, phase: int) -> None:
        D = S.d
        S.require(D.eq(S.get("sp"), d + 1))
        S.require(D.eq(S.get("frame_alg", d), self.code))
        S.require(D.eq(S.get("frame_pc", d), pc))
        S.require(D.eq(S.get("frame_phase", d), phase))
        S.require(D.eq(S.get("cut"), CUT_NONE))

    def _cmd(self, name: str, s: ir.Step | None, site: Site, fire: Callable[[View[V, B]], None]) -> Command:
        actor = "host" if self.source == "host" else "spec"
        return Command(name, actor, fire, site, s, self.alg.name, self.alg.clause)

    def _end_command(self, d: int) -> Command:
        def fire(S: View[V, B]) -> None:
            self._guard(S, d, END, 0)
            c = Ctx(S, d, self)
            self.do_return(c, S.d.num(UNUSED), S.d.true())

        return self._cmd(f"{self.alg.name} (end)", None, self._site(d, END, 0), fire)

    def _step_commands(self, s: ir.Step, d: int, variant: Variant) -> list[Command]:
        pc = self.pc(s)
        label = f"{self.alg.name} {s.number}" + (f" [{variant}]" if variant is not None else "")
        calls = _frame_calls(s.stmt, self.mc)
        if len(calls) > 1:
            raise model_error(s, "more than one call to a modelled algorithm in one step")
        out: list[Command] = []

        def phase0(S: View[V, B], want_call: bool) -> None:
            self._guard(S, d, pc, 0)
            c = Ctx(S, d, self)
            self.run(s, c, variant, resuming=False, want_call=want_call)

        if calls:
            out.append(self._cmd(label + " (call)", s, self._site(d, pc, 0),
                                 lambda S: phase0(S, True)))
            out.append(self._cmd(label, s, self._site(d, pc, 0), lambda S: phase0(S, False)))

            def phase1(S: View[V, B]) -> None:
                self._guard(S, d, pc, 1)
                c = Ctx(S, d, self, ret=S.get("ret"))
                S.set("ret", EMPTY)
                S.set("frame_phase", 0, d)
                self.run(s, c, variant, resuming=True, want_call=False)

            out.append(self._cmd(label + " (resume)", s, self._site(d, pc, 1), phase1))
        else:
            out.append(self._cmd(label, s, self._site(d, pc, 0), lambda S: phase0(S, False)))
        return out

    def _advance_command(self, loop: ir.Step, d: int) -> Command:
        pc = self.adv_pc[id(loop)]

        def fire(S: View[V, B]) -> None:
            self._guard(S, d, pc, 0)
            self._loop(loop, Ctx(S, d, self), first=False)

        return self._cmd(f"{self.alg.name} {loop.number} (next)", loop, self._site(d, pc, 0), fire)


# ------------------------------------------------------------ static helpers


def dead_loop(st: ir.Stmt, symbols: int = 0, weakmaps: int = 0, weaksets: int = 0) -> bool:
    """A loop over entities the model has none of: its body makes no transitions. The
    GlobalSymbolRegistry has its one entry (the registered Symbol's) with `symbols` >= 1, and
    none without Symbols; WeakMaps exist only with `weakmaps` >= 1, WeakSets with `weaksets` >= 1."""
    return isinstance(st, ir.ForEach) and (
        (st.source is None and st.binder.type_name in absent_types(weakmaps, weaksets))
        or (isinstance(st.source, ir.Special) and st.source.kind == "global-symbol-registry"
            and not symbols))


# the constructors user code calls with no argument (`new WeakMap()`, `new WeakSet()`,
# model/mutator.py): their first parameter is always *undefined*
NO_ARGUMENT = frozenset({"WeakMap", "WeakSet"})


def unreached(alg: ir.Algorithm) -> set[int]:
    """The steps of a constructor in NO_ARGUMENT after its first top-level step that returns
    when the first parameter is *undefined* (`If _iterable_ is either *undefined* or *null*,
    return _map_.`): user code never passes one, so they never run, and what they call
    (AddEntriesFromIterable, Get, the iterator protocol, WeakSet's Repeat over it) is no part
    of the model. Empty for any other algorithm, or when no such step exists (then every step
    is compiled, and what the model lacks is an error as usual)."""
    if alg.name not in NO_ARGUMENT or not alg.params:
        return set()
    param = alg.params[0].name
    for i, s in enumerate(alg.steps):
        st = s.stmt
        if isinstance(st, ir.If) and isinstance(st.inline, ir.Return) and st.otherwise is None \
                and isinstance(st.cond, ir.OneOf) and not st.cond.negated \
                and st.cond.subject == ir.Var(param) \
                and ir.Literal("value", "undefined") in st.cond.options:
            return {id(x) for later in alg.steps[i + 1:] for x in later.walk()}
    return set()


def _frame_calls(st: ir.Stmt, mc: ModelCompiler) -> list[ir.Call]:
    out = []
    for n in ir.iter_nodes(st):
        if isinstance(n, ir.Call) and isinstance(n.callee, ir.Name):
            if n.callee.name == FRAME_CALL_USER or n.callee.name in mc.compilers:
                out.append(n)
    return out


__all__ = ["dead_loop", "unreached", "ModelCompiler", "AlgCompiler", "USER"]
