"""Phase: (Spec, HostProfile, Bounds) -> Program.

Which algorithms the model runs is decided by the text: the built-ins the
mutator calls, ClearKeptObjects, sec-weakref-execution's implementation steps,
the host hook's job closure, the profile's own algorithms, and everything they
call that the text defines. An unknown step in any of them is an error (E040),
never a skipped step.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.bounds import Bounds
from model.compile import USER, ModelCompiler
from model.env import CLEANUP_JOB, EXECUTION, Environment
from model.hosts import HostProfile
from model.layout import Layout
from model.program import AlgInfo, Program
from spec import diagnostics as diag
from spec import ir
from spec.diagnostics import SpecError

ENTRY_POINTS = (
    "FinalizationRegistry",
    "FinalizationRegistry.prototype.register",
    "FinalizationRegistry.prototype.unregister",
    "WeakRef",
    "WeakRef.prototype.deref",
    "ClearKeptObjects",
)


HOOK = "HostEnqueueFinalizationRegistryCleanupJob"


def _named(spec: ir.Spec, host: HostProfile) -> dict[str, tuple[ir.Algorithm, str]]:
    by_name: dict[str, tuple[ir.Algorithm, str]] = {}

    def offer(a: ir.Algorithm, source: str) -> None:
        if a.kind == "job-closure" and a.name == HOOK:
            by_name.setdefault(CLEANUP_JOB, (a, source))
        elif a.kind == "implementation-steps" and a.clause == "sec-weakref-execution":
            by_name.setdefault(EXECUTION, (a, source))
        elif a.name not in by_name or not by_name[a.name][0].steps:
            by_name[a.name] = (a, source)

    for a in spec.algorithms:
        offer(a, "spec")
    for a in host.defaults:  # only where the text left the algorithm as prose
        offer(a, "host")
    for a in host.algorithms:
        by_name[a.name] = (a, "host")
    return by_name


@dataclass(frozen=True)
class Selection:
    """The algorithms a model of (spec, host) runs, and what stops it from being built."""

    algorithms: dict[str, tuple[ir.Algorithm, str]]
    missing: tuple[str, ...]  # names the model needs that nothing defines
    unknown: tuple[ir.Step, ...]  # steps of needed algorithms the grammar could not read


def select_algorithms(spec: ir.Spec, host: HostProfile) -> Selection:
    by_name = _named(spec, host)
    roots = list(ENTRY_POINTS)
    roots.append(EXECUTION if host.collector == "tracing" else host.free_path)
    out: dict[str, tuple[ir.Algorithm, str]] = {}
    missing: list[str] = []
    unknown: list[ir.Step] = []
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
        for step in alg.walk():
            if isinstance(step.stmt, ir.Unknown):
                unknown.append(step)
            for n in ir.iter_nodes(step.stmt):
                if isinstance(n, ir.Call) and isinstance(n.callee, ir.Name):
                    callee = n.callee.name
                    if callee in by_name and by_name[callee][0].steps and callee not in out:
                        todo.append(callee)
                    elif callee == HOOK:  # a hook without steps of its own schedules the cleanup job
                        todo.append(CLEANUP_JOB)
    return Selection(out, tuple(missing), tuple(unknown))


def _needed(spec: ir.Spec, host: HostProfile) -> dict[str, tuple[ir.Algorithm, str]]:
    sel = select_algorithms(spec, host)
    if sel.missing:
        raise SpecError([diag.make("E062", name=sel.missing[0])])
    if sel.unknown:
        step = sel.unknown[0]
        raise SpecError([diag.make("E040", step.loc, text=step.text)])
    for alg, _ in sel.algorithms.values():
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


def build(spec: ir.Spec, host: HostProfile, bounds: Bounds, any_step: bool = False) -> Program:
    """`any_step`: the tracing collector may run between any two steps (model/env.py)."""
    algs = _needed(spec, host)
    mc = ModelCompiler(algs, lambda width: Layout.build(bounds, width))
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
                   {k: tuple(v) for k, v in by_site.items()}, tuple(unsited), tuple(env.families))
