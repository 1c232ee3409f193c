"""Engines side by side, one process each; per property the first definite answer wins.

Every engine process builds the model from the job (plain data) itself and reports
`Outcome`s as it reaches them. When every property has a VIOLATED or PROVED verdict,
or the job's time limit passes, the remaining processes are stopped. Without a
definite answer the most informative one is kept (BOUNDED at the greatest depth,
else UNKNOWN with its reason).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.connection import wait
from typing import Any

from specmc.proofs import stopping
from specmc.proofs.exitcodes import INTERRUPTED
from specmc.proofs.progress import Status
from specmc.proofs.run.job import Job
from specmc.proofs.verdict import BOUNDED, DEFINITE, PROVED, UNKNOWN, Outcome, better
from specmc.spec.diagnostics import SpecError

PORTFOLIO = ("explicit", "kind", "pdr", "bmc")  # in order of use as cores allow
MEASURING = frozenset({"explicit", "dfs", "bdd"})  # engines whose PROVED says which bounds cut runs
SEARCHES = frozenset({"explicit", "dfs"})  # the explicit searches: first for the cores, progress shown


UNBUILDABLE = "the model cannot be built"
# a user's property predicate that raised (E079): the model is fine, the input is still bad
UNEVALUABLE = "a property cannot be evaluated"


def bad_input(reason: str) -> bool:
    """A row without a verdict because of bad input (exit 2): the model, or a property."""
    return reason.startswith((UNBUILDABLE, UNEVALUABLE))


def portfolio_members(cores: int | None = None) -> tuple[str, ...]:
    return PORTFOLIO[:max(2, cores or os.cpu_count() or 2)]


def _engine(name: str) -> Callable:
    from specmc.proofs.engines import bdd, bmc, explicit, houdini, kind, pdr

    return {"explicit": explicit.run, "dfs": explicit.run_depth_first, "bmc": bmc.run, "kind": kind.run,
            "pdr": pdr.run, "bdd": bdd.run, "houdini": houdini.run}[name]


def _note_sigint() -> list[int]:
    """Wraps the SIGINT handler in place so that the worker knows it was signalled, whatever
    the handler's exception became on the way up: raised inside a ctypes call's argument
    conversion (a Z3 C-API walk), proofs/cli.py's SystemExit comes out as ctypes.ArgumentError,
    which is not an engine bug. The returned list is non-empty once SIGINT has arrived."""
    import threading

    came: list[int] = []
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        return came

    def noted(signum: int, frame: Any) -> Any:
        came.append(signum)
        return previous(signum, frame)

    signal.signal(signal.SIGINT, noted)
    return came


def _die_with_parent(parent: int) -> None:
    """An engine process must not outlive the process that started it: killed by SIGKILL (which
    runs no cleanup; an out-of-memory killer, `kill -9`), that one could not stop its engines,
    which searched on, orphaned, up to --timeout (independent review, F5). On Linux the kernel
    sends this process SIGKILL when its parent ends (PR_SET_PDEATHSIG); the parent may have
    ended before that was set, so it is looked at once more. A C compilation this process
    starts is stopped by its supervisor when this process is gone (model/ccompile.py); the
    certificate check's workers watch their parent themselves (proofs/certify/obligations.py).
    Elsewhere nothing is done (the other systems have no such call)."""
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # (no prctl: a C library without it)
        return
    if os.getppid() != parent:
        os._exit(128 + signal.SIGKILL)


def _worker(name: str, job: Job, conn: Any, tag: int = 0, parent: int | None = None) -> None:
    """One engine on one job; every message goes up this process's own pipe, so that stopping it
    (a kill, at any moment) can never leave a lock held that another engine's messages need.
    `parent`: the process that started it, which it does not outlive (`_die_with_parent`)."""
    if parent is not None:
        _die_with_parent(parent)
    from specmc.proofs.engines.unrolling import ReplayError
    from specmc.proofs.run.job import absent, load, static_cover, static_holds

    statics: dict[str, bool | None] = {}
    trivial: set[str] = set()
    missing: dict[str, tuple[str, ...]] = {}

    def put(msg: Any) -> None:
        if isinstance(msg, Outcome) and msg.verdict in (PROVED, BOUNDED) and msg.cover_reached is None:
            msg = replace(msg, cover_reached=statics.get(msg.property))
        if isinstance(msg, Outcome) and msg.verdict in (PROVED, BOUNDED) and missing.get(msg.property) \
                and (msg.cover_reached is False or msg.property in trivial) \
                and "which the property names" not in msg.reason:
            names = " and ".join(missing[msg.property])
            why = f"the text defines no {names}, which the property names: renamed or removed, so the " \
                  "property sees none of it"
            msg = replace(msg, reason=f"{msg.reason}; {why}" if msg.reason else why)
        if isinstance(msg, Outcome) and msg.verdict == PROVED and msg.property in trivial:
            msg = replace(msg, trivial=True)
        conn.send((tag, msg))

    signalled = _note_sigint()
    if name not in SEARCHES and hasattr(os, "nice"):
        os.nice(10)  # the explicit engine and its certificate check come first for the cores
    try:
        loaded = load(job)
        statics.update({p.id: static_cover(loaded.program, p) for p in loaded.properties})
        missing.update({p.id: absent(loaded.program, p) for p in loaded.properties})
        trivial.update(p.id for p in loaded.properties if static_holds(loaded.program, p))
        loaded = _prove_trivial(name, loaded, trivial, put)
        searched = loaded.properties or not trivial  # else every property was proved without a search
        if searched and name in SEARCHES:  # how far the search has got, for a terminal's status line
            _engine(name)(loaded, put, progress=lambda text: put(("progress", name, text)))
        elif searched:
            _engine(name)(loaded, put)
    except ReplayError as e:
        put(("internal", name, f"a solver trace did not replay in the interpreter: {e}"))
    except SpecError as e:  # the text cannot be run (a step the model cannot execute): input, not a bug
        put(("input", name, e.diagnostics[0].render().splitlines()[0]))
    except BaseException as e:
        if not signalled and not (isinstance(e, SystemExit) and e.code == INTERRUPTED):
            put(("internal", name, traceback.format_exc(limit=8)))  # an engine bug, never a verdict
        else:  # SIGINT (proofs/cli.py's handler): stopped by someone, not a bug and not a verdict
            try:
                put(("stopped", name, "was interrupted (SIGINT)"))
            except OSError:  # the whole group was interrupted: nobody is listening any more
                return
    put(("done", name, ""))
    conn.close()


def _prove_trivial(name: str, loaded: Any, trivial: set[str], put: Callable[[Any], None]) -> Any:
    """PROVED at once, with no search, for each property whose predicate is true by construction
    (`static_holds`): the invariant *true* is inductive and implies it, and the certificate says
    exactly that, re-checked by a fresh solver like any other. Searching the model for such a
    property only cost time (a WeakMap property at weakmaps=0 took 96 s to say PROVED (vacuous)).
    Returns the job without those properties."""
    if not trivial:
        return loaded
    import z3
    from specmc.proofs.certify import certificate
    from specmc.proofs.run.job import certificate_dir

    started = time.perf_counter()
    for p in loaded.properties:
        if p.id not in trivial:
            continue
        subject = loaded.subject(p)
        method = "its predicate is valid: the invariant true proves it, no search"
        path = certificate.write(certificate_dir(loaded.job), subject, loaded.program, z3.BoolVal(True),
                                 f"{name} {method}", holds=p.holds, origin=loaded)
        certificate.recheck(path, subject, loaded.program, p.holds)
        # no search: whether runs hit a bound is not measured (the proof does not depend on it)
        put(Outcome(p.id, PROVED, name, method=method, certificate=path, bounds_hit=None)
            .timed(time.perf_counter() - started))
    return replace(loaded, properties=tuple(p for p in loaded.properties if p.id not in trivial))


def _not_applicable(task: Task) -> dict[str, Outcome]:
    """The catalogue's temporal properties that the host does not promise, decided here from the
    profile's header alone, before any engine has built the model: a time limit shorter than the
    model's building must not turn "nothing to search" into UNKNOWN. The engines say the same
    again (proofs/engines/lasso.py `not_applicable`); a profile that cannot be read is left to
    them, as is a property from a file (it is registered in the engines' processes)."""
    from specmc.model.hosts import load_host
    from specmc.proofs.properties import CATALOGUE

    temporal = [CATALOGUE[p] for p in task.properties if p in CATALOGUE and CATALOGUE[p].temporal is not None]
    if not temporal:
        return {}
    try:
        host = load_host(task.job.host)
    except Exception:  # (bad input: the engines report it, located)
        return {}
    from specmc.proofs.engines.lasso import not_promised

    decided = {p.id: not_promised(host, p, "+".join(task.engines)) for p in temporal}
    return {k: o for k, o in decided.items() if o is not None}


def _share(name: str, job: Job, engines: tuple[str, ...]) -> Job:
    """Beside the explicit engine, a symbolic one gets a tenth of the time limit (at least 30 s):
    on this model it wins only on nearly inductive properties, and quickly; left running it
    would compete for the cores with the explicit engine's certificate check."""
    if name in SEARCHES or not SEARCHES & set(engines):
        return job
    return replace(job, timeout=min(job.timeout, max(30.0, job.timeout / 10)))


@dataclass(frozen=True)
class Task:
    """One job for the portfolio: its properties, the engines to run side by side, and a label
    for progress messages."""

    job: Job
    properties: tuple[str, ...]
    engines: tuple[str, ...]
    label: str = ""


class _Running:
    """A started task: its engine processes and the best outcome so far per property."""

    def __init__(self, task: Task, tag: int, ctx: Any) -> None:
        self.task = task
        self.started = time.monotonic()
        self.deadline = self.started + task.job.timeout
        self.best: dict[str, Outcome] = {}
        self.errors: list[str] = []
        self.stopped: list[str] = []  # engines stopped from outside (a signal to that process alone)
        self.conflicts: dict[str, str] = {}  # property -> how two engines' definite verdicts differ
        self.unbuildable = ""
        self.procs: dict[str, Any] = {}
        self.pipes: dict[Any, str] = {}  # receiving end -> engine name
        self.best.update(_not_applicable(task))
        for name in task.engines:
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_worker, args=(name, _share(name, task.job, task.engines), send, tag,
                                                     os.getpid()))
            proc.start()
            send.close()  # the child holds the only sending end: its exit is the pipe's end
            self.procs[name] = proc
            self.pipes[recv] = name
        self.running = set(self.procs)

    def hung_up(self, conn: Any) -> None:
        """The engine's pipe closed: it finished, or died without saying so. Killed by SIGKILL
        (which specmc never sends a running engine: it stops them only after the task is over)
        is a resource limit, nearly always the kernel's out-of-memory killer at bounds too large
        for this machine: UNKNOWN with that reason, not an internal error. Ended by SIGTERM or
        SIGHUP, it was stopped from outside (UNKNOWN, saying so). Any other death is ours to
        explain (exit 3), with the signal named."""
        name = self.pipes.pop(conn)
        conn.close()
        if name not in self.running:
            return
        self.running.discard(name)
        proc = self.procs[name]
        proc.join(timeout=5)
        code = proc.exitcode
        if code == -signal.SIGKILL:
            self.stopped.append(f"the {name} engine was killed by SIGKILL after "
                                f"{time.monotonic() - self.started:.0f} s, most likely by the system's "
                                "out-of-memory killer: these bounds need more memory than this machine "
                                "has (try smaller bounds)")
        elif code in (-signal.SIGTERM, -signal.SIGHUP):  # (stopped from outside, as by SIGINT alone)
            self.stopped.append(f"the {name} engine was stopped by {signal.Signals(-code).name}")
        elif code is not None and code < 0:
            self.errors.append(f"{name}: the engine process was killed by {signal.Signals(-code).name}")
        else:
            self.errors.append(f"{name}: the engine process ended without a result (exit code {code})")

    def take(self, msg: Any, progress: Callable[[str], None]) -> None:
        if isinstance(msg, Outcome):
            first = self.best.get(msg.property)
            if first is not None and first.verdict in DEFINITE:
                if msg.verdict in DEFINITE and msg.verdict != first.verdict:
                    # two engines contradict each other on one model: a bug in specmc, never a pick
                    self.conflicts[msg.property] = (
                        f"engines disagree on {msg.property}: {first.engine} says {first.verdict}"
                        f"{' (' + first.certificate + ')' if first.certificate else ''}, {msg.engine} says "
                        f"{msg.verdict}{' (' + msg.certificate + ')' if msg.certificate else ''}")
                    progress(f"{self.task.label}internal error: {self.conflicts[msg.property]}")
                elif msg.verdict == first.verdict and first.cover_reached is None and \
                        msg.cover_reached is not None:
                    self.best[msg.property] = replace(first, cover_reached=msg.cover_reached,
                                                      bounds_hit=first.bounds_hit or msg.bounds_hit)
                elif first.verdict == PROVED and first.bounds_hit is None and msg.bounds_hit is not None \
                        and msg.verdict in (PROVED, BOUNDED):
                    # the cuts a search met are states it reached, so they stand beside a proof from
                    # an engine that does not measure them (kind, pdr): a cells-once cut then makes
                    # the row undecided, whichever engine answered first (review 7, F2)
                    self.best[msg.property] = replace(first, bounds_hit=msg.bounds_hit)
                return
            self.best[msg.property] = better(self.best.get(msg.property), msg)
            if msg.verdict in DEFINITE:
                progress(f"{self.task.label}{msg.property}: {msg.verdict} by {msg.engine} "
                         f"in {msg.seconds:.1f} s")
        elif msg[0] == "internal":
            self.errors.append(f"{msg[1]}: {msg[2]}")
            last = msg[2].strip().splitlines()[-1] if msg[2].strip() else ""
            progress(f"{self.task.label}internal error in engine {msg[1]}: {last}")
        elif msg[0] == "input":
            self.unbuildable = msg[2]
            self.running.discard(msg[1])
        elif msg[0] == "stopped":
            self.stopped.append(f"the {msg[1]} engine {msg[2]}")
            self.running.discard(msg[1])
        elif msg[0] == "done":
            self.running.discard(msg[1])
        elif msg[0] == "progress":
            progress(Status(f"{self.task.label}{msg[1]}: {msg[2]}"))

    def finished(self) -> bool:
        decided = all((o := self.best.get(p)) and o.verdict in DEFINITE and not self._provisional(o)
                      for p in self.task.properties)
        return decided or not self.running or bool(self.unbuildable) or time.monotonic() >= self.deadline

    def _provisional(self, o: Outcome) -> bool:
        """A PROVED that would pass though no engine measured which bounds cut runs (kind's, pdr's:
        `bounds not measured`), while an engine that measures them still runs: it waits for that
        engine, whose cuts may make it undecided (a text that appends a cell twice is PROVED by
        kind and cut at `cells-once` by explicit; which answered first decided the exit code). A
        PROVED whose cover is open is undecided already, and does not wait."""
        from specmc.proofs.properties import has_cover

        passes = not (o.cover_open and has_cover(o.property))  # (as check's)
        return o.verdict == PROVED and o.bounds_hit is None and passes and o.applicable and not o.trivial \
            and bool(self.running & MEASURING)

    def stop(self) -> dict[str, Outcome]:
        for p in self.procs.values():
            if p.is_alive():
                p.kill()
            p.join(timeout=5)
        for conn in self.pipes:
            conn.close()
        self.pipes.clear()
        job, engines = self.task.job, self.task.engines
        elapsed = time.monotonic() - self.started
        late = time.monotonic() >= self.deadline
        limit = f"time limit ({job.timeout:g} s)"
        result = {}
        for prop in self.task.properties:
            o = self.best.get(prop)
            if self.unbuildable:
                head = UNEVALUABLE if " error E079: " in self.unbuildable else UNBUILDABLE
                o = Outcome(prop, UNKNOWN, "+".join(engines), reason=f"{head}: {self.unbuildable}",
                            seconds=round(elapsed, 3))
            elif o is None:
                why = "internal error: " + self.errors[0] if self.errors else \
                    self.stopped[0] if self.stopped else f"{limit} reached"
                o = Outcome(prop, UNKNOWN, "+".join(engines), reason=why, seconds=round(elapsed, 3))
            elif prop in self.conflicts:
                o = Outcome(prop, UNKNOWN, "+".join(engines), seconds=round(elapsed, 3),
                            reason="internal error: " + self.conflicts[prop])
            elif o.verdict not in DEFINITE and self.errors:  # a crashed engine might have decided it
                o = replace(o, reason="internal error: " + self.errors[0])
            elif o.verdict not in DEFINITE and self.stopped:
                o = replace(o, reason=(o.reason + "; " if o.reason else "") + self.stopped[0])
            elif o.verdict not in DEFINITE and late:
                o = replace(o, reason=(o.reason + "; " if o.reason else "") + limit)
            result[prop] = o
        return result


def slots(cores: int | None = None) -> int:
    """How many tasks run at once: one per core. A task's explicit engine spends much of its
    time on one core (exploring, building the diagram), so a second task keeps the other busy;
    both spread their certificate checks over every core."""
    return max(1, cores or os.cpu_count() or 1)


def run_many(tasks: list[Task], progress: Callable[[str], None] = lambda _m: None,
             at_once: int | None = None) -> list[dict[str, Outcome]]:
    """Every task, up to `at_once` side by side, in order; returns the outcomes of each task."""
    ctx = mp.get_context("fork")
    limit = at_once or slots()
    results: list[dict[str, Outcome] | None] = [None] * len(tasks)
    active: dict[int, _Running] = {}
    waiting = list(range(len(tasks)))
    try:
        while waiting or active:
            stopping.check()  # (a signal whose KeyboardInterrupt was dropped: while forking, say)
            while waiting and len(active) < limit:
                i = waiting.pop(0)
                t = tasks[i]
                progress(f"{t.label}{', '.join(t.engines)} ...")
                active[i] = _Running(t, i, ctx)
            for i in [i for i, r in active.items() if r.finished()]:
                done = active.pop(i)
                results[i] = done.stop()
                progress(f"{tasks[i].label}done in {time.monotonic() - done.started:.1f} s")
            if not active:
                continue
            soonest = min(r.deadline for r in active.values())
            owner = {conn: r for r in active.values() for conn in r.pipes}
            for conn in wait(list(owner), timeout=max(0.05, min(1.0, soonest - time.monotonic()))):
                try:
                    tag, msg = conn.recv()
                except (EOFError, OSError):
                    owner[conn].hung_up(conn)
                    continue
                if tag in active:
                    active[tag].take(msg, progress)
    finally:
        for r in active.values():
            r.stop()
    return [r if r is not None else {} for r in results]


def run(job: Job, properties: tuple[str, ...], engines: tuple[str, ...],
        progress: Callable[[str], None] = lambda _m: None) -> dict[str, Outcome]:
    """Run `engines` on `job`; returns the winning outcome per property id."""
    return run_many([Task(job, properties, engines)], progress, at_once=1)[0]
