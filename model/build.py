"""Phase: (Spec, HostProfile, Bounds) -> Program.

Which algorithms the model runs is decided by the text: the built-ins the
mutator calls, ClearKeptObjects, sec-weakref-execution's implementation steps,
the host hook's job closure, the profile's own algorithms, and everything they
call that the text defines. An unknown step in any of them is an error (E040),
never a skipped step.
"""

from __future__ import annotations

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


def _needed(spec: ir.Spec, host: HostProfile) -> dict[str, tuple[ir.Algorithm, str]]:
    by_name: dict[str, tuple[ir.Algorithm, str]] = {}
    for a in spec.algorithms:
        if a.kind == "job-closure" and a.name == "HostEnqueueFinalizationRegistryCleanupJob":
            by_name[CLEANUP_JOB] = (a, "spec")
        elif a.kind == "implementation-steps" and a.clause == "sec-weakref-execution":
            by_name[EXECUTION] = (a, "spec")
        elif a.name not in by_name:
            by_name[a.name] = (a, "spec")
    for a in host.algorithms:
        by_name[a.name] = (a, "host")
    roots = list(ENTRY_POINTS) + [CLEANUP_JOB]
    if host.collector == "tracing":
        roots.append(EXECUTION)
    else:
        roots.append(host.free_path)
    out: dict[str, tuple[ir.Algorithm, str]] = {}
    todo = list(roots)
    while todo:
        name = todo.pop(0)
        if name in out:
            continue
        if name not in by_name:
            raise SpecError([diag.make("E062", name=name)])
        alg, source = by_name[name]
        out[name] = (alg, source)
        for step in alg.walk():
            if isinstance(step.stmt, ir.Unknown):
                raise SpecError([diag.make("E040", step.loc, text=step.text)])
            for n in ir.iter_nodes(step.stmt):
                if isinstance(n, ir.Call) and isinstance(n.callee, ir.Name):
                    callee = n.callee.name
                    if callee in by_name and by_name[callee][0].steps:
                        _check_arity(step, n, by_name[callee][0])
                    if callee in by_name and callee not in out and by_name[callee][0].steps:
                        if callee == "HostEnqueueFinalizationRegistryCleanupJob":
                            continue  # the hook schedules the closure; it is not called
                        todo.append(callee)
    return out


def _check_arity(step: ir.Step, call: ir.Call, callee: ir.Algorithm) -> None:
    if callee.kind in ("job-closure", "closure"):
        return
    takes = len(callee.params)
    needs = sum(1 for p in callee.params if not p.optional)
    if not needs <= len(call.args) <= takes:
        raise SpecError([diag.make("E063", step.loc, name=callee.name, given=len(call.args),
                                   takes=takes if needs == takes else f"{needs} to {takes}")])


def build(spec: ir.Spec, host: HostProfile, bounds: Bounds) -> Program:
    algs = _needed(spec, host)
    mc = ModelCompiler(algs, lambda width: Layout.build(bounds, width))
    env = Environment(mc, host)
    commands = tuple(mc.commands() + env.commands())
    lay = mc.layout
    init = [0] * lay.size
    init[lay.where("sp")[0]] = 1
    init[lay.where("frame_alg")[0]] = USER
    infos = [AlgInfo(0, "", "", "", (), (), ""), AlgInfo(USER, "user code", "", "user", (), (), "")]
    for name, c in mc.compilers.items():
        pcs = tuple(c.steps) + tuple(c.loops)
        infos.append(AlgInfo(c.code, name, c.alg.clause, c.alg.kind, c.locals, pcs, c.source))
    by_site: dict[tuple[int, int, int, int], list] = {}
    unsited = []
    for cmd in commands:
        if cmd.site is None:
            unsited.append(cmd)
        else:
            by_site.setdefault(cmd.site, []).append(cmd)
    return Program(lay, tuple(init), commands, tuple(infos), host.name, host.free_path,
                   {k: tuple(v) for k, v in by_site.items()}, tuple(unsited))
