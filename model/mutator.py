"""The mutator: what user code may do whenever it runs, as commands.

A mixin of `Environment` (model/env.py), which sets the attributes it reads. Whenever user code
runs (the script, or a cleanup callback) it may allocate, construct a FinalizationRegistry or
WeakRef, make a Symbol, register, unregister, deref, set, delete and read properties, drop a
reference, return or throw, with arguments ranging over what it holds (`root`). Built-ins it
calls are the compiled spec algorithms; each command carries its typed action (model/actions.py)
for the trace and the witness generator."""

from __future__ import annotations

from typing import Any

from specmc.model.actions import (
    Action,
    Allocate,
    DeleteProperty,
    Deref,
    Drop,
    GetProperty,
    NewFunction,
    NewRegistry,
    NewRegistryOf,
    NewSymbol,
    NewWeakMap,
    NewWeakRef,
    NewWeakSet,
    Operand,
    Register,
    Resumed,
    Return,
    SetProperty,
    Sym,
    Throw,
    Unregister,
    WeakMapDelete,
    WeakMapGet,
    WeakMapHas,
    WeakMapSet,
    WeakSetAdd,
    WeakSetDelete,
    WeakSetHas,
)
from specmc.model.compile import USER
from specmc.model.heap import new_object
from specmc.model.layout import (
    CUT_NONE,
    EMPTY,
    FREED,
    FUNCTION,
    LIVE,
    NEWTARGET,
    NONE,
    PHASE_CALL,
    PHASE_DEREF,
    PHASE_NEWREGISTRY,
    PHASE_NEWWEAKMAP,
    PHASE_NEWWEAKREF,
    PHASE_NEWWEAKSET,
    PHASE_REGISTER,
    PHASE_RUN,
    PHASE_UNREGISTER,
    PHASE_WC_DELETE,
    PHASE_WC_HAS,
    PHASE_WM_GET,
    PHASE_WM_SET,
    PHASE_WS_ADD,
    PLAIN,
    REG_FIELDS,
    REGISTRY,
    THROW,
    TRUE,
    UNDEF,
    USERFN,
    WEAKMAP,
    WEAKREF,
    WEAKSET,
)
from specmc.model.liveness import live_all
from specmc.model.program import Command

# the methods WeakMaps and WeakSets both have: `objR.has(v)` runs the receiver's own (`_weaksets`)
SHARED_METHODS = frozenset({"has", "delete"})
# which call a user frame waits for, per WeakMap / WeakSet method (model/layout.py)
WEAKMAP_PHASES = {"get": PHASE_WM_GET, "set": PHASE_WM_SET, "has": PHASE_WC_HAS, "delete": PHASE_WC_DELETE}
WEAKSET_PHASES = {"add": PHASE_WS_ADD, "has": PHASE_WC_HAS, "delete": PHASE_WC_DELETE}


class Mutator:
    """User code's commands (mixed into `Environment`)."""

    def _user_guard(self, S: Any, d: int, phase: int) -> None:
        D = S.d
        S.require(D.eq(S.get("sp"), d + 1))
        S.require(D.eq(S.get("frame_alg", d), USER))
        S.require(D.eq(S.get("frame_phase", d), phase))
        S.require(D.eq(S.get("cut"), CUT_NONE))

    def _cmd(self, action: Action, d: int, phase: int, body: Any, family: str = "") -> Command:
        """A mutator command: named by its action's label, and carrying the action itself for
        whoever needs to know what user code did (the trace, the witness generator)."""
        def fire(S: Any) -> None:
            self._user_guard(S, d, phase)
            body(S)

        return Command(action.label, "mutator", fire, (d, USER, 0, phase), family=family, action=action)

    @staticmethod
    def _family_name(shape: str, d: int) -> str:
        return f"{shape}(...) at depth {d}"

    def _family(self, name: str, d: int, body: Any, params: tuple[str, ...]) -> Command:
        """The call shape with its arguments as inputs: what the symbolic engines run in place of
        its instances (model/program.py)."""
        inputs = tuple(f"{name}: {p}" for p in params)

        def fire(S: Any) -> None:
            self._user_guard(S, d, 0)
            body(S, *[S.input(n) for n in inputs])

        return Command(name, "mutator", fire, (d, USER, 0, 0), inputs=inputs)

    def _call(self, S: Any, d: int, builtin: str, specials: dict[str, Any], args: tuple[Any, ...],
              phase: int = PHASE_CALL) -> None:
        """User code calls a built-in with `args` and waits for it in `phase` (which call it made).
        The arguments bind the built-in's parameters in order, whatever the text calls them (a
        text or profile that renames _heldValue_ must get the same model); `specials` are the
        this value and NewTarget."""
        params = self.mc.compilers[builtin].alg.params  # (extra arguments are dropped, as in JS)
        self.mc.push(S, d, builtin, {**specials, **{p.name: v for p, v in zip(params, args, strict=False)}})
        S.set("frame_phase", phase, d)

    def _observe_return(self, S: Any, phase: int, r: Any) -> None:
        """Observers of what user code asked for, kept apart from anything the text writes, so
        that properties can hold the text to the meaning of the call (proofs/properties.py)."""
        D = S.d
        lay = self.lay
        a = [S.get("arg", i) for i in range(4)]
        if phase == PHASE_DEREF:  # the object deref handed out, kept until the next ClearKeptObjects
            for i in range(lay.bounds.objects):
                S.set("kept_turn", 1, i, when=D.eq(r, lay.obj(i)))
        if phase == PHASE_NEWWEAKREF:  # the WeakRef made for this target, which it keeps this turn
            made = D.ne(r, THROW)
            for w in range(lay.bounds.objects):
                S.set("wr_target", a[0], w, when=D.eq(r, lay.obj(w)))
                S.set("made", 1 + WEAKREF, w, when=D.eq(r, lay.obj(w)))
                S.set("kept_turn", 1, w, when=D.and_(made, D.eq(a[0], lay.obj(w))))
        if phase == PHASE_NEWREGISTRY:
            for i in range(lay.bounds.objects):
                S.set("made", 1 + REGISTRY, i, when=D.eq(r, lay.obj(i)))
        if phase == PHASE_REGISTER:  # a registration that returned normally is the next cell
            regs = S.get("regs")
            ok = D.eq(r, UNDEF)
            token = D.ite(D.eq(a[3], UNDEF), D.num(EMPTY), a[3])
            for c in range(lay.bounds.cells):
                hit = D.and_(ok, D.eq(regs, c))
                for name, v in (("reg_owner", a[0]), ("reg_target", a[1]), ("reg_held", a[2]),
                                ("reg_token", token)):
                    S.set(name, v, c, when=hit)
                S.set("reg_live", 1, c, when=hit)
            # one past the bound: more registrations returned normally than the observer has room
            # for (an engine that skips one, such as QuickJS-NG for a registry registering
            # itself, can make more calls succeed than it has cells); the observer then abstains
            S.set("regs", D.add(regs, 1), when=D.and_(ok, D.le(regs, lay.bounds.cells)))
        if phase == PHASE_UNREGISTER:  # what unregister(token) removes, whatever it answered
            for c in range(lay.bounds.cells):
                match = D.and_(D.ne(a[1], UNDEF), D.eq(S.get("reg_owner", c), a[0]),
                               D.eq(S.get("reg_token", c), a[1]), D.ne(r, THROW))
                self._forget_registration(S, c, match)
        if self.lay.bounds.weakmaps or self.lay.bounds.weaksets:
            self._observe_weak(S, phase, r, a)
        for i in range(4):
            S.set("arg", EMPTY, i)

    def _observe_weak(self, S: Any, phase: int, r: Any, a: list[Any]) -> None:
        """Observers of what user code put in its WeakMaps and WeakSets, from the calls that
        returned normally: `new WeakMap()` / `new WeakSet()` made the object it returned a
        collection (`made`); set(k, v) gives the receiver's record for k the value v, appending one
        when it has none (the text's entries are appended likewise, so the room is the same);
        add(v) is set(v, true); delete(k) removes the receiver's record for k. `get` and `has`
        change nothing. The text's own entries are never read here (`weak-collection-results`)."""
        D = S.d
        lay = self.lay
        kinds = {PHASE_NEWWEAKMAP: WEAKMAP, PHASE_NEWWEAKSET: WEAKSET}
        if phase in kinds:
            for i in range(lay.bounds.objects):
                S.set("made", 1 + kinds[phase], i, when=D.eq(r, lay.obj(i)))
            return
        if phase not in (PHASE_WM_SET, PHASE_WS_ADD, PHASE_WC_DELETE):
            return
        n = lay.bounds.weakmaps + lay.bounds.weaksets
        ok = D.ne(r, THROW)
        found = [D.and_(ok, D.eq(S.get("wk_owner", e), a[0]), D.eq(S.get("wk_key", e), a[1]))
                 for e in range(n)]
        if phase == PHASE_WC_DELETE:
            for e in range(n):
                self._forget_weak(S, e, found[e])
            return
        value = a[2] if phase == PHASE_WM_SET else D.num(TRUE)
        count = S.get("wk_count")
        fresh = D.and_(ok, D.not_(D.or_(*found)))
        for e in range(n):
            S.set("wk_value", value, e, when=found[e])
            hit = D.and_(fresh, D.eq(count, e))
            for name, v in (("wk_owner", a[0]), ("wk_key", a[1]), ("wk_value", value)):
                S.set(name, v, e, when=hit)
        # one past the room: more records than the text has entries for (it would have cut the run
        # first, unless it wrongly appended nothing); the observer then abstains
        S.set("wk_count", D.add(count, 1), when=D.and_(fresh, D.le(count, n)))

    @staticmethod
    def _forget_weak(S: Any, e: int, when: Any) -> None:
        """An observed WeakMap / WeakSet record that is gone keeps nothing."""
        for name in ("wk_owner", "wk_key", "wk_value"):
            S.set(name, EMPTY, e, when=when)

    def _forget_weak_of(self, S: Any, v: int, when: Any) -> None:
        """Observer: the collector took v (an object or a Symbol). A record with v as its key can
        no longer be asked about (no code reaches v), and one of a collection v can no longer be
        asked either; forgetting them keeps a later object in v's slot from inheriting them."""
        D = S.d
        for e in range(self.lay.bounds.weakmaps + self.lay.bounds.weaksets):
            self._forget_weak(S, e, D.and_(when, D.or_(D.eq(S.get("wk_owner", e), v),
                                                       D.eq(S.get("wk_key", e), v))))

    def _collected(self, S: Any, i: int, when: Any) -> None:
        """Observer: the collector takes object i. A WeakRef made for it now answers undefined (its
        target is remembered as collected, no longer as which object), and a registration it made
        as a registry can no longer be delivered: neither keeps a history no property reads."""
        D = S.d
        lay = self.lay
        S.set("gone", 1, i, when=when)
        for w in range(lay.bounds.objects):
            S.set("wr_target", UNDEF, w, when=D.and_(when, D.eq(S.get("wr_target", w), lay.obj(i))))
        if self.host.collector == "reference counting":  # a freed registry's registrations go with it
            for c in range(lay.bounds.cells):
                self._forget_registration(S, c, D.and_(when, D.eq(S.get("reg_owner", c), lay.obj(i))))
        if lay.bounds.weakmaps or lay.bounds.weaksets:
            self._forget_weak_of(S, lay.obj(i), when)

    def _collected_symbol(self, S: Any, k: int, when: Any) -> None:
        """Observer: the collector takes Symbol k; a WeakRef made for it now answers undefined."""
        D = S.d
        lay = self.lay
        S.set("sym_gone", 1, k, when=when)
        for w in range(lay.bounds.objects):
            S.set("wr_target", UNDEF, w, when=D.and_(when, D.eq(S.get("wr_target", w), lay.sym(k))))
        if lay.bounds.weakmaps or lay.bounds.weaksets:
            self._forget_weak_of(S, lay.sym(k), when)

    @staticmethod
    def _forget_registration(S: Any, c: int, when: Any) -> None:
        """An observed registration that is no longer live keeps nothing: stale fields would only
        split states that no property can tell apart."""
        for name in REG_FIELDS:
            S.set(name, EMPTY, c, when=when)
        S.set("reg_live", 0, c, when=when)

    def _held(self, S: Any, i: int) -> Any:
        D = S.d
        return D.and_(D.eq(S.get("root", i), 1), D.eq(S.get("obj_status", i), LIVE))

    def _mutator(self, d: int) -> list[Command]:
        lay = self.lay
        no = lay.bounds.objects
        out: list[Command] = []
        objs = list(range(no))
        syms = list(range(lay.bounds.symbols))
        # what user code can pass: undefined, a slot, a Symbol it made, the registered Symbol
        values: list[Operand] = [None, *objs, *([*(Sym(k) for k in syms), Sym(None)] if syms else [])]

        def enc(v: Operand) -> int:
            """The layout's encoding of an operand (model/layout.py)."""
            if isinstance(v, Sym):
                return lay.registered_symbol if v.index is None else lay.sym(v.index)
            return UNDEF if v is None else lay.obj(v)

        def arg(S: Any, v: Any, undefined: bool = True) -> Any:
            """An argument of a call user code makes: an object it holds, or undefined (or a
            Symbol it holds, or the registered one, which any code can name). Written over the
            value, so that `v` may be a constant (an instance) or an input (a family)."""
            D = S.d
            cases = [D.and_(D.eq(v, lay.obj(i)), self._held(S, i)) for i in objs]
            if undefined:
                cases += [D.and_(D.eq(v, lay.sym(k)), self._held_symbol(S, k)) for k in syms]
                cases += [D.eq(v, lay.registered_symbol)] if syms else []
            S.require(D.or_(D.eq(v, UNDEF), *cases) if undefined else D.or_(*cases))
            return v

        def remember(S: Any, *values: Any) -> None:
            """Observer: the arguments of the call user code now waits for."""
            for i, v in enumerate(values):
                S.set("arg", v, i)

        def new_weakref(S: Any, t: Any) -> None:
            self._call(S, d, "WeakRef", {"newtarget": S.d.num(NEWTARGET)}, (arg(S, t),), PHASE_NEWWEAKREF)
            remember(S, t)

        def deref(S: Any, r: Any) -> None:
            self._call(S, d, "WeakRef.prototype.deref", {"this": arg(S, r, undefined=False)}, (), PHASE_DEREF)
            remember(S, r)

        def unregister(S: Any, r: Any, t: Any) -> None:
            self._call(S, d, "FinalizationRegistry.prototype.unregister",
                       {"this": arg(S, r, undefined=False)}, (arg(S, t),), PHASE_UNREGISTER)
            remember(S, r, t)

        def register(S: Any, r: Any, t: Any, h: Any, k: Any) -> None:
            self._call(S, d, "FinalizationRegistry.prototype.register", {"this": arg(S, r, undefined=False)},
                       (arg(S, t), arg(S, h), arg(S, k)), PHASE_REGISTER)
            remember(S, r, t, h, k)

        shapes = {"new WeakRef": (new_weakref, ("target",)), "deref": (deref, ("this",)),
                  "unregister": (unregister, ("this", "unregisterToken")),
                  "register": (register, ("this", "target", "heldValue", "unregisterToken"))}

        def instance(action: Action, shape: str, *choice: Operand) -> Command:
            body = shapes[shape][0]
            return self._cmd(action, d, 0, lambda S: body(S, *[S.d.num(enc(v)) for v in choice]),
                             family=self._family_name(shape, d))

        def new_registry(S: Any) -> None:
            self._call(S, d, "FinalizationRegistry", {"newtarget": S.d.num(NEWTARGET)}, (S.d.num(USERFN),),
                       PHASE_NEWREGISTRY)

        out.append(self._cmd(NewRegistry(), d, 0, new_registry))
        if self.functions:
            def new_registry_of(S: Any, f: Any) -> None:
                """`new FinalizationRegistry(objF)`: the text's IsCallable decides (TypeError for an
                object that is no function); `arg` says user code holds the object."""
                self._call(S, d, "FinalizationRegistry", {"newtarget": S.d.num(NEWTARGET)},
                           (arg(S, f, undefined=False),), PHASE_NEWREGISTRY)
                remember(S, f)

            shapes["new FinalizationRegistry"] = (new_registry_of, ("cleanupCallback",))
            for r in objs:
                out.append(instance(NewRegistryOf(r), "new FinalizationRegistry", r))
        for t in values:
            out.append(instance(NewWeakRef(t), "new WeakRef", t))
        for r in objs:
            out.append(instance(Deref(r), "deref", r))
            for t in values:
                out.append(instance(Unregister(r, t), "unregister", r, t))
                for h in values:
                    for k in values:
                        out.append(instance(Register(r, t, h, k), "register", r, t, h, k))
        if lay.bounds.weakmaps:
            out.extend(self._weakmaps(d, values, arg, enc, remember, shapes))
        if lay.bounds.weaksets:
            out.extend(self._weaksets(d, values, arg, enc, remember, shapes))
        for shape, (body, params) in shapes.items():
            self.families.append(self._family(self._family_name(shape, d), d, body, params))

        def alloc(S: Any) -> None:
            v = new_object(S, lay, PLAIN, S.d.true())
            for i in objs:
                S.set("root", 1, i, when=S.d.eq(v, lay.obj(i)))
                S.set("made", 1 + PLAIN, i, when=S.d.eq(v, lay.obj(i)))

        out.append(self._cmd(Allocate(), d, 0, alloc))
        if self.functions:
            def new_function(S: Any) -> None:
                """`function () {}`: a function object in the lowest free slot, which user code
                holds; what it captures, it is given as properties (`_properties`)."""
                v = new_object(S, lay, FUNCTION, S.d.true())
                for i in objs:
                    S.set("root", 1, i, when=S.d.eq(v, lay.obj(i)))
                    S.set("made", 1 + FUNCTION, i, when=S.d.eq(v, lay.obj(i)))

            out.append(self._cmd(NewFunction(), d, 0, new_function))
        if syms:
            out.extend(self._symbols(d))
        for i in objs:
            def drop(S: Any, i: int = i) -> None:
                D = S.d
                S.require(D.eq(S.get("root", i), 1))
                S.set("root", 0, i)
                if self.cascade:
                    self._release_by_user(S, d)
                elif self.host.collector == "reference counting":
                    alive = live_all(S, lay, self.raw_frames, self.host.strong_tokens,
                                     counted_cells=True)[i]
                    gone = D.and_(D.eq(S.get("obj_status", i), LIVE), D.not_(alive))
                    self._collected(S, i, gone)
                    self.mc.push(S, d, self.host.free_path, {self.freed_param: D.num(lay.obj(i))}, when=gone)
                    S.set("frame_phase", 1, d, when=gone)

            out.append(self._cmd(Drop(i), d, 0, drop))
        out.extend(self._properties(d))

        def ret(S: Any) -> None:
            self.mc.pop(S, d, USER, S.d.num(UNDEF))

        out.append(self._cmd(Return(), d, 0, ret))
        if d > 0:
            def throw(S: Any) -> None:
                self.mc.pop(S, d, USER, S.d.num(THROW))
                S.set("cb_threw", 1)

            out.append(self._cmd(Throw(), d, 0, throw))

        def resume(S: Any, phase: int) -> None:
            D = S.d
            r = S.get("ret")
            for i in objs:
                S.set("root", 1, i, when=D.eq(r, lay.obj(i)))
            for k in syms:  # deref of a WeakRef whose target is a Symbol
                S.set("sym_root", 1, k, when=D.eq(r, lay.sym(k)))
            self._observe_return(S, phase, r)
            S.set("ret", EMPTY)
            S.set("frame_phase", PHASE_RUN, d)

        phases = [PHASE_CALL, PHASE_DEREF, PHASE_UNREGISTER, PHASE_NEWWEAKREF, PHASE_REGISTER,
                  PHASE_NEWREGISTRY]
        if lay.bounds.weakmaps:
            phases += [PHASE_NEWWEAKMAP, *WEAKMAP_PHASES.values()]
        if lay.bounds.weaksets:
            phases += [PHASE_NEWWEAKSET, *WEAKSET_PHASES.values()]
        for phase in dict.fromkeys(phases):
            out.append(self._cmd(Resumed(), d, phase, lambda S, phase=phase: resume(S, phase)))
        return out

    def _weakmaps(self, d: int, values: list[Operand], arg: Any, enc: Any, remember: Any,
                  shapes: dict[str, Any]) -> list[Command]:
        """User code (frame d) and WeakMaps (bound `weakmaps`): `new WeakMap()` (no iterable) and a
        WeakMap's set, get, has and delete on one it holds, with any operand as key and value;
        the built-ins are the text's (model/build.py WEAKMAP_ENTRY_POINTS), so a key that cannot
        be held weakly is the text's TypeError (set) or answer (get, has, delete). What a call
        returns is resumed as any call's, in the method's own phase (`WEAKMAP_PHASES`, for the
        observers `_observe_weak`): an object or Symbol that `get` returns is one user code holds
        from then on. Adds its shapes to `shapes`, whose families the
        symbolic engines run."""
        lay = self.lay
        out: list[Command] = []
        objs = list(range(lay.bounds.objects))

        def new_map(S: Any) -> None:
            self._call(S, d, "WeakMap", {"newtarget": S.d.num(NEWTARGET)}, (S.d.num(UNDEF),),
                       PHASE_NEWWEAKMAP)

        out.append(self._cmd(NewWeakMap(), d, 0, new_map))

        def method(name: str) -> Any:
            def body(S: Any, m: Any, *args: Any) -> None:
                if lay.bounds.weaksets and name in SHARED_METHODS:  # `m.has(k)` on a WeakSet is its own
                    S.require(S.d.not_(self._is_weakset(S, m)))
                self._call(S, d, f"WeakMap.prototype.{name}", {"this": arg(S, m, undefined=False)},
                           tuple(arg(S, a) for a in args), WEAKMAP_PHASES[name])
                remember(S, m, *args)
            return body

        shapes["WeakMap set"] = (method("set"), ("this", "key", "value"))
        for name in ("get", "has", "delete"):
            shapes[f"WeakMap {name}"] = (method(name), ("this", "key"))

        def instance(action: Any, shape: str, *choice: Operand) -> Command:
            body = shapes[shape][0]
            return self._cmd(action, d, 0, lambda S: body(S, *[S.d.num(enc(v)) for v in choice]),
                             family=self._family_name(shape, d))

        for m in objs:
            for k in values:
                for name, cls in (("get", WeakMapGet), ("has", WeakMapHas), ("delete", WeakMapDelete)):
                    out.append(instance(cls(m, k), f"WeakMap {name}", m, k))
                for v in values:
                    out.append(instance(WeakMapSet(m, k, v), "WeakMap set", m, k, v))
        return out

    def _weaksets(self, d: int, values: list[Operand], arg: Any, enc: Any, remember: Any,
                  shapes: dict[str, Any]) -> list[Command]:
        """User code (frame d) and WeakSets (bound `weaksets`): `new WeakSet()` (no iterable) and
        add, has and delete on an object it holds, with any operand as the value; the built-ins
        are the text's (model/build.py WEAKSET_ENTRY_POINTS), so a value that cannot be held
        weakly is the text's TypeError (add) or *false* (has, delete), and a receiver without
        [[WeakSetData]] RequireInternalSlot's TypeError. `objR.has(v)` and `objR.delete(v)` are
        WeakMap's methods too: with WeakMaps in the model as well, the one the receiver has runs
        (WeakSet's on a WeakSet, WeakMap's on anything else), as in JavaScript. What a call
        returns is resumed as any call's, in the method's own phase (`WEAKSET_PHASES`). Adds its
        shapes to `shapes`."""
        lay = self.lay
        out: list[Command] = []

        def new_set(S: Any) -> None:
            self._call(S, d, "WeakSet", {"newtarget": S.d.num(NEWTARGET)}, (S.d.num(UNDEF),),
                       PHASE_NEWWEAKSET)

        out.append(self._cmd(NewWeakSet(), d, 0, new_set))

        def method(name: str) -> Any:
            def body(S: Any, ws: Any, v: Any) -> None:
                if lay.bounds.weakmaps and name in SHARED_METHODS:
                    S.require(self._is_weakset(S, ws))
                self._call(S, d, f"WeakSet.prototype.{name}", {"this": arg(S, ws, undefined=False)},
                           (arg(S, v),), WEAKSET_PHASES[name])
                remember(S, ws, v)
            return body

        for name in ("add", "has", "delete"):
            shapes[f"WeakSet {name}"] = (method(name), ("this", "value"))

        def instance(action: Any, shape: str, *choice: Operand) -> Command:
            body = shapes[shape][0]
            return self._cmd(action, d, 0, lambda S: body(S, *[S.d.num(enc(v)) for v in choice]),
                             family=self._family_name(shape, d))

        for ws in range(lay.bounds.objects):
            for v in values:
                for name, cls in (("add", WeakSetAdd), ("has", WeakSetHas), ("delete", WeakSetDelete)):
                    out.append(instance(cls(ws, v), f"WeakSet {name}", ws, v))
        return out

    def _is_weakset(self, S: Any, v: Any) -> Any:
        """The value v is a WeakSet (an object of that kind, in any state)."""
        D = S.d
        lay = self.lay
        return D.or_(*[D.and_(D.eq(v, lay.obj(i)), D.eq(S.get("obj_kind", i), WEAKSET))
                       for i in range(lay.bounds.objects)])

    def _held_symbol(self, S: Any, k: int) -> Any:
        D = S.d
        return D.and_(D.eq(S.get("sym_root", k), 1), D.eq(S.get("sym_status", k), LIVE))

    def _symbols(self, d: int) -> list[Command]:
        """User code (frame d) and non-registered Symbols (bound `symbols`): `Symbol()` makes the
        next unused one (Symbols are never reused, like cells), and user code may let go of one
        it holds. On a reference-counting host a Symbol whose last counted reference goes is
        freed at once, on the stack of the drop, through the same free path as an object: quickjs.c
        JS_FreeAtomStruct (v0.12.1 58bdcf0 lines 3232-3270, v0.13.0 dec0123 lines 3248-3286)
        runs reset_weak_ref over the Symbol's weak-reference list (line 3261 / 3277) and frees
        it; the profile's free path is reset_weak_ref followed by the free, and its step for a
        registry's own cells does not apply to a Symbol (it has no [[Cells]])."""
        lay = self.lay
        out: list[Command] = []

        def new_symbol(S: Any) -> None:
            D = S.d
            found = D.false()
            for k in range(lay.bounds.symbols):
                hit = D.and_(D.not_(found), D.eq(S.get("sym_status", k), NONE))
                S.set("sym_status", LIVE, k, when=hit)
                S.set("sym_root", 1, k, when=hit)
                found = D.or_(found, hit)
            S.require(found)  # every Symbol made already: a bound, like `objects`

        out.append(self._cmd(NewSymbol(), d, 0, new_symbol))
        for k in range(lay.bounds.symbols):
            def drop(S: Any, k: int = k) -> None:
                D = S.d
                S.require(D.eq(S.get("sym_root", k), 1))
                S.set("sym_root", 0, k)
                if self.cascade:
                    self._release_by_user(S, d)
                elif self.host.collector == "reference counting":
                    bit = lay.bounds.objects + k
                    alive = live_all(S, lay, self.raw_frames, self.host.strong_tokens,
                                     counted_cells=True)[bit]
                    gone = D.and_(D.eq(S.get("sym_status", k), LIVE), D.not_(alive))
                    self._collected_symbol(S, k, gone)
                    self.mc.push(S, d, self.host.free_path, {self.freed_param: D.num(lay.sym(k))}, when=gone)
                    S.set("frame_phase", 1, d, when=gone)

            out.append(self._cmd(Drop(Sym(k)), d, 0, drop))
        return out

    def _properties(self, d: int) -> list[Command]:
        """User code (frame d) and the property slots of the objects it holds (bound `slots`):
        store an object it holds, delete, read back. A store or delete releases what the slot
        held (on a reference-counting host that may free it, and what it alone held, at once);
        a read makes the object there one user code holds. A slot of an allocated object never
        refers to a freed one (its count, or its reachability, keeps it); a read that found one
        would be a use after free, and says so."""
        lay = self.lay
        objs = range(lay.bounds.objects)
        out: list[Command] = []
        for r in objs:
            for p in range(lay.bounds.slots):
                at = lay.prop(r, p)

                def store(S: Any, r: int = r, at: int = at, v: int = 0) -> None:
                    S.require(self._held(S, r))
                    S.require(self._held(S, v))
                    S.set("prop", lay.obj(v), at)
                    if self.cascade:
                        self._release_by_user(S, d)

                for v in objs:
                    out.append(self._cmd(SetProperty(r, p, v), d, 0,
                                         lambda S, store=store, v=v: store(S, v=v)))

                def delete(S: Any, r: int = r, at: int = at) -> None:
                    D = S.d
                    S.require(self._held(S, r))
                    S.require(D.ne(S.get("prop", at), EMPTY))
                    S.set("prop", EMPTY, at)
                    if self.cascade:
                        self._release_by_user(S, d)

                out.append(self._cmd(DeleteProperty(r, p), d, 0, delete))

                def read(S: Any, r: int = r, at: int = at) -> None:
                    D = S.d
                    S.require(self._held(S, r))
                    v = S.get("prop", at)
                    S.require(D.ne(v, EMPTY))
                    for j in objs:
                        there = D.eq(v, lay.obj(j))
                        S.set("err_uaf", 1, when=D.and_(there, D.eq(S.get("obj_status", j), FREED)))
                        S.set("root", 1, j, when=D.and_(there, D.eq(S.get("obj_status", j), LIVE)))

                out.append(self._cmd(GetProperty(r, p), d, 0, read))
        return out
