"""Phase: (Spec, HostProfile, Bounds) -> Program.

Which algorithms the model runs is decided by the text: the built-ins the
mutator calls, ClearKeptObjects, sec-weakref-execution's implementation steps,
the host hook's job closure, the profile's own algorithms (among them a tracing
profile's HostCollectionEnd, run at the end of every collection), and everything they
call that the text defines. An unknown step in any of them is an error (E040),
never a skipped step.

The text may be the clause-set excerpt or a whole spec.html. The whole file also defines the
general operations the clause set calls (Call, SameValue, OrdinaryCreateFromConstructor, ...);
the model gives those a meaning by hand (`model.by_hand.BY_HAND`), and that meaning wins over the
text's general steps, so both inputs select the same algorithms. Each such substitution is kept
on the `Selection`, so that reports can say which definitions of the text the model did not run.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from typing import Any

from specmc.model.bounds import Bounds
from specmc.model.by_hand import BY_HAND
from specmc.model.compile import USER, ModelCompiler, dead_loop, unreached
from specmc.model.env import Environment
from specmc.model.errors import ModelError
from specmc.model.expressions import literal_value
from specmc.model.heap import unmodelled_field
from specmc.model.hosts import REFERENCE_HOST, HostProfile
from specmc.model.layout import CLEANUP_JOB, COLLECTION_END, EMPTY, EXECUTION, Layout
from specmc.model.program import AlgInfo, Program
from specmc.spec import diagnostics as diag
from specmc.spec import ir
from specmc.spec.diagnostics import SpecError
from specmc.spec.load import fully_parsed
from specmc.spec.source import Loc

ENTRY_POINTS = (
    "FinalizationRegistry",
    "FinalizationRegistry.prototype.register",
    "FinalizationRegistry.prototype.unregister",
    "WeakRef",
    "WeakRef.prototype.deref",
    "ClearKeptObjects",
)
# the built-ins user code calls with the bound `weakmaps` >= 1 (model/mutator.py)
WEAKMAP_ENTRY_POINTS = (
    "WeakMap",
    "WeakMap.prototype.delete",
    "WeakMap.prototype.get",
    "WeakMap.prototype.has",
    "WeakMap.prototype.set",
)
# the built-ins user code calls with the bound `weaksets` >= 1 (model/mutator.py)
WEAKSET_ENTRY_POINTS = (
    "WeakSet",
    "WeakSet.prototype.add",
    "WeakSet.prototype.delete",
    "WeakSet.prototype.has",
)


HOOK = "HostEnqueueFinalizationRegistryCleanupJob"
# host hooks the environment implements itself (model/env.py); they return normally
HOST_CALLS = frozenset({HOOK, "HostEnqueueCallbackJob"})


def _model_name(a: ir.Algorithm) -> str:
    """The name the model runs an algorithm under: the hook's job closure and Execution's
    implementation steps have the model's names for them, whoever defines them."""
    if a.kind == "job-closure":
        # the hook's job is the cleanup job; any other job closure is a value its algorithm makes,
        # never that algorithm: named as it, it stood in for a renamed hook's own declaration, and
        # a review of the rename ended in an unlocated arity error (review 8)
        return CLEANUP_JOB if a.name == HOOK else f"{a.name}: {a.closure or 'job closure'}"
    if a.kind == "implementation-steps" and a.clause == "sec-weakref-execution":
        return EXECUTION
    return a.name


def _named(spec: ir.Spec, host: HostProfile) -> tuple[dict[str, tuple[ir.Algorithm, str]],
                                                      dict[str, tuple[ir.Algorithm, ir.Algorithm]]]:
    """Each name's definition (a host profile's own wins over the text's, the text's over a host
    default), and the names that one source defines twice with steps (first, second): which of
    the two the model ran used to depend on the order of the --spec files, without a word."""
    by_name: dict[str, tuple[ir.Algorithm, str]] = {}
    twice: dict[str, tuple[ir.Algorithm, ir.Algorithm]] = {}

    def offer(a: ir.Algorithm, source: str) -> None:
        # a second definition of the cleanup job or of Execution is as ambiguous as any other's
        # (it was dropped without a word, and a review carried BASE's verdicts over to such a text)
        name = _model_name(a)
        if name not in by_name or not by_name[name][0].steps:
            by_name[name] = (a, source)
        elif a.steps and by_name[name][1] == source:
            twice.setdefault(name, (by_name[name][0], a))

    for a in spec.algorithms:
        offer(a, "spec")
    for a in host.defaults:  # only where the text left the algorithm as prose
        offer(a, "host")
    own: dict[str, ir.Algorithm] = {}
    for a in host.algorithms:
        name = _model_name(a)  # a profile's own hook closure replaces the text's cleanup job
        if name in own:
            twice.setdefault(name, (own[name], a))
        own[name] = a
        by_name[name] = (a, "host")
    return by_name, twice


@dataclass(frozen=True)
class Substitution:
    """A definition in the text that the model does not compile, because it models the
    operation by hand (`model.by_hand.BY_HAND`): the text's steps are the general ones."""

    name: str
    algorithm: ir.Algorithm  # the text's definition, left out of the model
    meaning: str  # what the model does instead

    def describe(self) -> str:
        """One line for reports: which definition, where, and what replaces it."""
        loc = self.algorithm.loc
        where = f"{loc.file}:{loc.line}" if loc is not None else self.algorithm.clause
        return f"{self.name} ({self.algorithm.clause}, {where}): by hand: {self.meaning}"


@dataclass(frozen=True)
class Selection:
    """The algorithms a model of (spec, host) runs, and what stops it from being built."""

    algorithms: dict[str, tuple[ir.Algorithm, str]]
    missing: tuple[str, ...]  # names the model needs that nothing defines with steps
    unknown: tuple[ir.Step, ...]  # steps of needed algorithms the grammar could not read
    substituted: tuple[Substitution, ...] = ()  # the text's definitions the model replaces by hand
    # where each missing name is first called (absent for an entry point the text lacks)
    called_at: tuple[tuple[str, Loc], ...] = ()
    # names the model runs that one source defines twice with steps: (first, second)
    twice: tuple[tuple[ir.Algorithm, ir.Algorithm], ...] = ()
    unused: tuple[ir.Algorithm, ...] = ()  # the host profile's own algorithms the model never runs


def select_algorithms(spec: ir.Spec, host: HostProfile, weakmaps: int = 0, weaksets: int = 0) -> Selection:
    """The entry points and, transitively, every callee the text defines with steps, except
    the operations modelled by hand: for those the text's general definition is listed as a
    substitution instead. A host profile's own algorithm still wins over both.

    A callee that is neither defined with steps, nor modelled by hand, nor a hook the environment
    implements is missing (E062), like an entry point the text lacks: a QuickJS-NG profile's call
    of CanBeHeldWeakly on a text from before 2023 says so, rather than failing at the call.

    With `weakmaps` the WeakMap built-ins are entry points too, with `weaksets` the WeakSet ones;
    the steps of their constructors that user code's `new WeakMap()`, `new WeakSet()` never
    reach (`model.compile.unreached`) call nothing the model needs."""
    by_name, twice = _named(spec, host)
    roots = list(ENTRY_POINTS) + (list(WEAKMAP_ENTRY_POINTS) if weakmaps else []) \
        + (list(WEAKSET_ENTRY_POINTS) if weaksets else [])
    roots.append(EXECUTION if host.collector == "tracing" else host.free_path)
    if host.collector == "tracing" and any(a.name == COLLECTION_END for a in host.algorithms):
        roots.append(COLLECTION_END)  # run at the end of every collection (model/env.py)
    out: dict[str, tuple[ir.Algorithm, str]] = {}
    missing: list[str] = []
    called_at: list[tuple[str, Loc]] = []
    unknown: list[ir.Step] = []
    substituted: dict[str, Substitution] = {}
    todo = list(roots)
    while todo:
        name = todo.pop(0)
        if name in out or name in missing:
            continue
        if name not in by_name:
            missing.append(name)
            continue
        alg, source = by_name[name]
        out[name] = (alg, source)
        never = unreached(alg)
        for step in alg.walk():
            if id(step) in never:
                continue
            if isinstance(step.stmt, ir.Unknown):
                unknown.append(step)
            for n in ir.iter_nodes(step.stmt):
                if isinstance(n, ir.Call) and isinstance(n.callee, ir.Name):
                    callee = n.callee.name
                    defined = by_name.get(callee)
                    if defined is not None and defined[0].steps and callee not in out:
                        if callee in BY_HAND and defined[1] == "spec":
                            substituted.setdefault(
                                callee, Substitution(callee, defined[0], BY_HAND[callee].meaning))
                        else:
                            todo.append(callee)
                    elif callee == HOOK:  # a hook without steps of its own schedules the cleanup job
                        todo.append(CLEANUP_JOB)
                    elif (defined is None or not defined[0].steps) and callee not in BY_HAND \
                            and callee not in HOST_CALLS and callee not in missing:
                        missing.append(callee)
                        called_at.append((callee, step.loc))
    unused = tuple(a for a in host.algorithms if out.get(_model_name(a), (None,))[0] is not a)
    return Selection(out, tuple(missing), tuple(unknown), tuple(substituted.values()), tuple(called_at),
                     tuple(pair for name, pair in twice.items() if name in out), unused)


def _calls_hook(algorithms: dict[str, tuple[ir.Algorithm, str]]) -> bool:
    """Whether a step the model runs calls the hook, and the environment implements it (a hook
    given steps of its own runs those, and the scheduling option is not consulted)."""
    if HOOK in algorithms:
        return False
    return any(isinstance(n, ir.Call) and isinstance(n.callee, ir.Name) and n.callee.name == HOOK
               for alg, _ in algorithms.values() for step in alg.walk() for n in ir.iter_nodes(step.stmt))


def _check_steps(alg: ir.Algorithm, symbols: int = 0, weakmaps: int = 0, weaksets: int = 0) -> None:
    """Every variable a step reads is one the algorithm binds somewhere (a parameter, a Let, a
    Choose, a loop's or a pattern's binder, a capture, a set the prose names), every slot it
    reads or writes is one the model has, and every literal one it has a value for. The
    compiler refuses each only when it compiles the step, and a step no run reaches at the
    given bounds is never compiled: a profile step that read `_nothing_` or wrote [[Bogus]]
    passed at objects=1 and failed at objects=2 (issue 17). Checked here, it fails at every
    bound, located. A step the grammar read only in part (an operand kept Opaque by the second
    chance of spec/shapes.py) is an unknown step like one it could not read at all (E040): a
    misworded loop, `For each ... of L, reading ahead, do`, would otherwise be a loop over an
    unreadable list, refused only if a run reached it."""
    bound = {"this", "newtarget", *(p.name for p in alg.params), *alg.captures, *alg.binds}
    steps = list(alg.walk())
    # where each local is first bound, in text order: a step that reads one before it (`Let _S_
    # be the *this* value` moved after a step using _S_) read ~empty~ at run time and built a
    # model of another algorithm (found by an independent review)
    first: dict[str, int] = {}
    for i, step in enumerate(steps):
        for n in ir.iter_nodes(step.stmt):
            if isinstance(n, ir.Let | ir.Choose | ir.Binder) and n.var not in bound:
                first.setdefault(n.var, i)
    dead = {id(x) for s in steps if dead_loop(s.stmt, symbols, weakmaps, weaksets)
            for x in s.walk() if x is not s}
    dead |= unreached(alg)
    for i, step in enumerate(steps):
        if id(step) in dead or dead_loop(step.stmt, symbols, weakmaps, weaksets):  # nothing the model has
            continue
        if not fully_parsed(step):
            raise SpecError([diag.make("E040", step.loc, text=step.text)])
        for n in ir.iter_nodes(step.stmt):
            if isinstance(n, ir.Var) and n.name not in bound:
                where = first.get(n.name)
                if where is None:
                    why = f"_{n.name}_ is not defined in {alg.name}"
                    raise ModelError([diag.make("E064", step.loc, why=why)])
                if where > i:
                    why = (f"_{n.name}_ is read before the step that defines it "
                           f"(line {steps[where].loc.line}) in {alg.name}")
                    raise ModelError([diag.make("E064", step.loc, why=why)])
            if isinstance(n, ir.Literal):
                # raises for a literal the model has no value for (*null* exists with WeakMaps
                # or WeakSets)
                literal_value(n, step, EMPTY if weakmaps or weaksets else None)
        why = unmodelled_field(step, weakmaps, weaksets)
        if why is not None:
            raise ModelError([diag.make("E064", step.loc, why=why)])


def _without_dead(alg: ir.Algorithm, bounds: Bounds) -> ir.Algorithm:
    """A host profile's algorithm without its top-level loops over entities the model has none of
    at these bounds (`dead_loop`: a counting profile's free path walks WeakMaps, which exist only
    with `weakmaps` >= 1). Left in, such a loop's head would still be a step of every free, a state
    more per run where nothing can happen; left out, the profile at weakmaps=0 compiles to the
    relation it had before it said what freeing does to WeakMap entries. The other steps keep the
    numbers the profile's text gives them. The text's own algorithms keep theirs (Execution 1.c,
    1.d: the digests pinned for them count the heads)."""
    steps = tuple(s for s in alg.steps
                  if not dead_loop(s.stmt, bounds.symbols, bounds.weakmaps, bounds.weaksets))
    return alg if len(steps) == len(alg.steps) else dataclasses.replace(alg, steps=steps)


def _walks(alg: ir.Algorithm, slot: str) -> bool:
    """Some step of `alg` reads the internal slot `slot` ([[WeakMapData]], [[WeakSetData]]): a
    reference-counting profile's free path that says what it does to a collection's records."""
    return any(isinstance(n, ir.Field) and n.name == slot
               for step in alg.walk() for n in ir.iter_nodes(step.stmt))


def _check_defaults(spec: ir.Spec, host: HostProfile, sel: Selection) -> None:
    """A profile's "host default" algorithms are used only with texts that leave that algorithm
    as prose, so with today's text nothing ran them and nothing looked at them: a misspelt name
    (`...CleanupJb`) or steps the grammar cannot read were accepted, and with an older text the
    default silently did not apply (review 8). Each must name an algorithm the text defines or
    the model runs or calls (E086), and every step must be one the model can read (E040),
    whatever text it is checked with."""
    names = {*sel.algorithms, *ENTRY_POINTS, *HOST_CALLS, *(a.name for a in spec.algorithms),
             *(_model_name(a) for a in spec.algorithms)}
    for alg in host.defaults:
        if alg.name not in names and _model_name(alg) not in names:
            close = difflib.get_close_matches(alg.name, sorted(names), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise SpecError([diag.make("E086", alg.loc, name=alg.name, hint=hint)])
        never = unreached(alg)
        for step in alg.walk():
            if id(step) not in never and not fully_parsed(step):  # (as _check_steps: read in part too)
                raise SpecError([diag.make("E040", step.loc, text=step.text)])


def _needed(spec: ir.Spec, host: HostProfile, symbols: int = 0, weakmaps: int = 0, weaksets: int = 0
            ) -> dict[str, tuple[ir.Algorithm, str]]:
    sel = select_algorithms(spec, host, weakmaps, weaksets)
    # WeakMaps and WeakSets need a text that defines them (E089, E096), and a tracing host or a
    # reference-counting profile whose free path walks their records (E095, E097: without such
    # steps nothing would release an entry's value when its key or its collection is freed)
    for n, entry_points, missing, refused, data in (
            (weakmaps, WEAKMAP_ENTRY_POINTS, "E089", "E095", "WeakMapData"),
            (weaksets, WEAKSET_ENTRY_POINTS, "E096", "E097", "WeakSetData")):
        if not n:
            continue
        lacking = [name for name in entry_points if name in sel.missing]
        if lacking:  # the embedded text and the clause-set excerpt have no such clauses
            where = Loc(spec.files[0], 1, 1) if spec.files else None
            raise SpecError([diag.make(missing, where, n=n, names=", ".join(lacking))])
        if host.collector == "reference counting":
            free = next((a for a in host.algorithms if a.name == host.free_path), None)
            if free is not None and _walks(free, data):
                continue  # the free path says what freeing a key and a collection does to them
            where = free.loc if free is not None else Loc(host.path, 1, 1)
            raise SpecError([diag.make(refused, where, n=n, host=host.name)])
    if sel.missing:
        # located at the first step that calls it: a profile step calling an algorithm nothing
        # defines is the profile's error, and the user must find the line
        at = dict(sel.called_at)
        name = sel.missing[0]
        hint = ""
        if any(a.name == name and (a.kind.startswith("host") or a.kind == "job-closure")
               for a in spec.algorithms):
            # (a renamed hook: the environment implements the hooks by their names)
            hint = (f" with steps of its own: it is host-defined, and the model implements only the "
                    f"host operations {' and '.join(sorted(HOST_CALLS))}")
        raise SpecError([diag.make("E062", at.get(name), name=name, hint=hint)])
    if sel.twice:
        first, second = sel.twice[0]
        raise SpecError([diag.make("E087", second.loc, name=second.name,
                                   first=f"{first.loc.file}:{first.loc.line}")])
    if sel.unused:
        # a misspelt override (`regster`) used to leave the text's own algorithm running, and a
        # verdict of the engine the profile did not describe
        alg = sel.unused[0]
        names = [*sel.algorithms, *ENTRY_POINTS, *sorted(HOST_CALLS)]
        close = difflib.get_close_matches(alg.name, names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        if not alg.name:  # (a clause without its <h1>: nothing names the algorithm)
            hint = " (it has no name: its clause has no <h1> heading)"
        raise SpecError([diag.make("E086", alg.loc, name=alg.name, hint=hint)])
    _check_defaults(spec, host, sel)
    if host.scheduling_at is not None and host.collector == "reference counting" \
            and not _calls_hook(sel.algorithms):
        # the option decides only how the hook queues the cleanup job: on a host whose algorithms
        # never call the hook it changed nothing, and a user who wrote `one task per registry`
        # would have checked a host that does not do it, without a word. Only a counting host's
        # runs start from its own free path; a tracing host's start from the text's Execution,
        # and a text that stops calling the hook is a spec change to check, not a profile error
        at = host.scheduling_at
        raise SpecError([diag.make("E088", at, hook=HOOK)])
    if sel.unknown:
        step = sel.unknown[0]
        raise SpecError([diag.make("E040", step.loc, text=step.text)])
    for alg, _ in sel.algorithms.values():
        _check_steps(alg, symbols, weakmaps, weaksets)
        for step in alg.walk():
            for n in ir.iter_nodes(step.stmt):
                if isinstance(n, ir.Call) and isinstance(n.callee, ir.Name):
                    callee = sel.algorithms.get(n.callee.name)
                    if callee is not None and callee[0].steps:
                        _check_arity(step, n, callee[0])
    return sel.algorithms


def _check_arity(step: ir.Step, call: ir.Call, callee: ir.Algorithm) -> None:
    if callee.kind in ("job-closure", "closure"):
        return
    takes = len(callee.params)
    needs = sum(1 for p in callee.params if not p.optional)
    if not needs <= len(call.args) <= takes:
        raise SpecError([diag.make("E063", step.loc, name=callee.name, given=len(call.args),
                                   takes=takes if needs == takes else f"{needs} to {takes}")])


def _cycles_run(host: HostProfile, bounds: Bounds) -> bool:
    """A host's cycle collector runs where its frees cascade (model/refcount.py): with slots."""
    return host.cycles and host.collector == "reference counting" and bounds.slots > 0


NESTED_FREE = ("this run frees inside a running free path (the free path twice on the stack): quickjs.c "
               "frees a Symbol there at once but only queues an object (gc_zero_ref_count_list) until "
               "the running free returns, which the model follows only with slots >= 1; at slots=0 it "
               "frees the object at once, so the engine may not have this run: check it at slots >= 1")


def trace_notes(host: HostProfile, bounds: Bounds, trace: Any) -> tuple[str, ...]:
    """What a counterexample's run does that the engine may not (one sentence each), for the row
    that shows it. At slots=0 a reference-counting model frees an object whose count reaches 0
    inside a running free path at once, where QuickJS-NG defers it: quickjs-ng-0.5's
    no-freed-observed and no-dangling-cell runs of 51 transitions did exactly that, and both
    properties are PROVED at slots=1 (review 8). Deferring at slots=0 too is the fix (left: it
    changes every counting host's model at the default bounds)."""
    if host.collector != "reference counting" or bounds.slots > 0 or not trace or not host.free_path:
        return ()
    nested = any(list(step.get("stack", ())).count(host.free_path) >= 2 for step in trace
                 if isinstance(step, dict))
    return (NESTED_FREE,) if nested else ()


def host_notes(host: HostProfile, bounds: Bounds) -> tuple[str, ...]:
    """What of the host's profile or engine the model leaves out at these bounds, one sentence
    each: a verdict says nothing about it, and
    reports say so beside it (a quickjs-ng-0.12 PROVED at slots=0 read as covering its cycle
    collector)."""
    out = []
    if host.collector == "tracing" and host.name != REFERENCE_HOST and bounds.cells >= 2:
        # review 8: v8 ran the text's literal 1.b and was VIOLATED at cells=2 by a run V8's
        # collector (ClearJSWeakRefs nullifies every dead WeakCell) does not have
        out.append("collections run the text's Execution 1.b, which empties one matching cell per "
                   "registry; an engine that empties every cell whose target it collected (V8, JSC) "
                   "has no run that needs a second registration of one target in one registry to "
                   "keep its cell: such a VIOLATED is the text's hazard, not the engine's")
    if host.cycles and host.collector == "reference counting" and not _cycles_run(host, bounds):
        out.append("its cycle collection (trial deletion) does not run at slots=0: cycles are made of "
                   "properties; give slots >= 1")
    if host.collector == "reference counting" and bounds.slots >= 2:
        # model/refcount.py `_queue_owed`: the properties one free releases share a place on
        # gc_zero_ref_count_list; the engine orders them by insertion (shape) order, not kept here
        out.append("objects a free releases through several properties of one object are freed lowest "
                   "index first; the engine follows the properties' insertion order, which the model "
                   "does not keep (other orders are not checked)")
    if host.collector == "reference counting" and bounds.slots >= 1 and host.callback_refs == "none":
        # model/env.py `functions`: without the profile's `callback references` its free path would
        # never release a freed registry's callback (quickjs.c js_finrec_finalizer's JS_FreeValueRT)
        out.append("user code makes no function objects here (every callback is the one user "
                   "function): the profile does not say who counts a reference to a registry's "
                   "callback (header `callback references`), so callbacks as heap objects, and what "
                   "they capture, are not checked on this host")
    return tuple(out)


def build(spec: ir.Spec, host: HostProfile, bounds: Bounds, any_step: bool = False) -> Program:
    """`any_step`: the tracing collector may run between any two steps (model/env.py)."""
    algs = _needed(spec, host, bounds.symbols, bounds.weakmaps, bounds.weaksets)
    algs = {name: (_without_dead(alg, bounds) if source == "host" else alg, source)
            for name, (alg, source) in algs.items()}
    cycles = _cycles_run(host, bounds)
    cascade = host.collector == "reference counting" and bounds.slots > 0  # as Environment.cascade
    callbacks = host.callback_refs if cascade else "none"  # as Environment.counted_callbacks
    weak_lists = any(_walks(alg, "WeakRefRecords") for alg, source in algs.values() if source == "host")
    raw_registry = any(_walks(alg, "Registry") for alg, source in algs.values() if source == "host")
    mc = ModelCompiler(algs, lambda width: Layout.build(bounds, width, cycles, cascade, callbacks,
                                                        weak_lists, raw_registry))
    mc.performs_optional = host.delivery == "promised"
    mc.weak_lists = weak_lists
    env = Environment(mc, host, any_step)
    commands = tuple(mc.commands() + env.commands())
    lay = mc.layout
    init = [0] * lay.size
    init[lay.where("sp")[0]] = 1
    init[lay.where("frame_alg")[0]] = USER
    infos = [AlgInfo(0, "", "", "", (), (), ""), AlgInfo(USER, "user code", "", "user", (), (), "")]
    for name, c in mc.compilers.items():
        pcs = tuple(c.steps) + tuple(c.loops)
        inputs = tuple(p.name for p in c.alg.params) + c.alg.captures + c.alg.binds
        infos.append(AlgInfo(c.code, name, c.alg.clause, c.alg.kind, c.locals, pcs, c.source, inputs))
    by_site: dict[tuple[int, int, int, int], list] = {}
    unsited = []
    for cmd in commands:
        if cmd.site is None:
            unsited.append(cmd)
        else:
            by_site.setdefault(cmd.site, []).append(cmd)
    return Program(lay, tuple(init), commands, tuple(infos), host.name, host.free_path,
                   {k: tuple(v) for k, v in by_site.items()}, tuple(unsited), tuple(env.families),
                   functions=env.functions)
