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
import queue as queues
import time
import traceback
from collections.abc import Callable
from dataclasses import replace

from proofs.job import Job
from proofs.verdict import DEFINITE, UNKNOWN, Outcome, better
from spec.diagnostics import SpecError

PORTFOLIO = ("explicit", "kind", "pdr", "bmc")  # in order of use as cores allow


UNBUILDABLE = "the model cannot be built"


def portfolio_members(cores: int | None = None) -> tuple[str, ...]:
    return PORTFOLIO[:max(2, cores or os.cpu_count() or 2)]


def _engine(name: str) -> Callable:
    from proofs import bmc, explicit, kind, pdr

    return {"explicit": explicit.run, "bmc": bmc.run, "kind": kind.run, "pdr": pdr.run}[name]


def _worker(name: str, job: Job, out: mp.Queue) -> None:
    from proofs.bmc import ReplayError
    from proofs.job import load

    if name != "explicit" and hasattr(os, "nice"):
        os.nice(10)  # the explicit engine and its certificate check come first for the cores
    try:
        loaded = load(job)
        _engine(name)(loaded, out.put)
    except ReplayError as e:
        out.put(("internal", name, f"a solver trace did not replay in the interpreter: {e}"))
    except SpecError as e:  # the text cannot be run (a step the model cannot execute): input, not a bug
        out.put(("input", name, e.diagnostics[0].render().splitlines()[0]))
    except BaseException:  # an engine bug is reported, never a verdict
        out.put(("internal", name, traceback.format_exc(limit=8)))
    out.put(("done", name, ""))


def _share(name: str, job: Job, engines: tuple[str, ...]) -> Job:
    """Beside the explicit engine, a symbolic one gets a tenth of the time limit (at least 30 s):
    on this model it wins only on nearly inductive properties, and quickly; left running it
    would compete for the cores with the explicit engine's certificate check."""
    if name == "explicit" or "explicit" not in engines:
        return job
    return replace(job, timeout=min(job.timeout, max(30.0, job.timeout / 10)))


def run(job: Job, properties: tuple[str, ...], engines: tuple[str, ...],
        progress: Callable[[str], None] = lambda _m: None) -> dict[str, Outcome]:
    """Run `engines` on `job`; returns the winning outcome per property id."""
    ctx = mp.get_context("fork")
    out: mp.Queue = ctx.Queue()
    started = time.monotonic()
    procs = {name: ctx.Process(target=_worker, args=(name, _share(name, job, engines), out))
             for name in engines}
    for p in procs.values():
        p.start()
    best: dict[str, Outcome] = {}
    running = set(procs)
    errors: list[str] = []
    unbuildable = ""
    deadline = started + job.timeout
    try:
        while running and not all(best.get(p) and best[p].verdict in DEFINITE for p in properties):
            try:
                msg = out.get(timeout=max(0.05, min(1.0, deadline - time.monotonic())))
            except queues.Empty:
                if time.monotonic() >= deadline:
                    break
                continue
            if isinstance(msg, Outcome):
                if msg.property in best and best[msg.property].verdict in DEFINITE:
                    continue
                best[msg.property] = better(best.get(msg.property), msg)
                if msg.verdict in DEFINITE:
                    progress(f"{msg.property}: {msg.verdict} by {msg.engine} in {msg.seconds:.1f} s")
            elif msg[0] == "internal":
                errors.append(f"{msg[1]}: {msg[2]}")
                last = msg[2].strip().splitlines()[-1] if msg[2].strip() else ""
                progress(f"internal error in engine {msg[1]}: {last}")
            elif msg[0] == "input":
                unbuildable = msg[2]
                running.discard(msg[1])
                break
            elif msg[0] == "done":
                running.discard(msg[1])
    finally:
        for p in procs.values():
            if p.is_alive():
                p.kill()
            p.join(timeout=5)
    elapsed = time.monotonic() - started
    result = {}
    for prop in properties:
        o = best.get(prop)
        if unbuildable:
            o = Outcome(prop, UNKNOWN, "+".join(engines), reason=f"{UNBUILDABLE}: {unbuildable}",
                        seconds=round(elapsed, 3))
        elif o is None:
            why = "internal error: " + errors[0] if errors else f"time limit ({job.timeout:g} s) reached"
            o = Outcome(prop, UNKNOWN, "+".join(engines), reason=why, seconds=round(elapsed, 3))
        elif o.verdict not in DEFINITE and errors:  # a crashed engine might have decided it
            o = replace(o, reason="internal error: " + errors[0])
        elif o.verdict not in DEFINITE and time.monotonic() >= deadline:
            o = replace(o, reason=(o.reason + "; " if o.reason else "") + f"time limit ({job.timeout:g} s)")
        result[prop] = o
    return result
