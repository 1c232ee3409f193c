"""The explicit search in Python, in C, and SPIN, side by side in one run: states per second and ratios.

    python -m bench.native_bench [--hosts ecma262,quickjs-ng-0.6] [--objects 2,3] [--python-cap N]
                                 [--no-spin]

For each host and object count, the model's union of every catalogue property's cones (what the
explicit engine searches, proofs/run/job.py `slices(together=True)`) is searched breadth first with
every property checked in every state: in Python up to `--python-cap` states (its rate is what
matters), then in C to the end. The C row gives the compile time apart (cached by digest after
the first run: `SPECMC_NATIVE_CACHE`), then again with one thread making successors per core
(the search is the same, state for state: only its wall time can change; the default is one thread,
since on this machine more never paid: docs/measurements.md), then depth first with
hash compaction (the dfs swarm's runs: 8-byte fingerprints instead of the states, to the same
count) with the bytes each costs. SPIN runs the hand-written model of ../shared/anchors at the
same object count (job-queue variant, property 1): a far coarser model, so compare rates, not
state counts. spin and gcc are installed with apt-get when missing (`--no-spin` skips SPIN).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from specmc.model import cexplore
from specmc.model.bounds import Bounds
from specmc.model.explore import explore
from specmc.model.symbolic import predicate_term, state_vars
from specmc.proofs.run.job import Job, load, predicate, slices

from bench.parse_bench import machine

ANCHORS = Path(__file__).resolve().parents[2] / "shared" / "anchors"


def _spin(objects: int) -> tuple[int, float, float] | None:
    """(states stored, wall seconds, CPU seconds) of SPIN's search on the anchor model, or None if
    it cannot run here. The steps and flags of ../shared/anchors/run-spin.sh (spin -a, gcc -O2
    -DSAFETY -DCOLLAPSE, pan -m50000000 -w26), run here so that the search alone is timed: the
    script's figure is wall time under whatever else runs, and includes no CPU time."""
    if not shutil.which("spin") or not shutil.which("gcc"):
        if os.geteuid() == 0 and shutil.which("apt-get"):
            subprocess.run("apt-get update -qq && apt-get install -y -qq spin gcc", shell=True,
                           capture_output=True)
    model = ANCHORS / "finreg.pml"
    if not shutil.which("spin") or not shutil.which("gcc") or not model.exists():
        return None
    with tempfile.TemporaryDirectory(prefix="specmc-bench-spin-") as w:
        made = subprocess.run(["spin", "-a", "-DSYNC=0", "-DPROP=1", f"-DNOBJ={objects}", str(model)], cwd=w,
                              capture_output=True)
        built = made.returncode == 0 and subprocess.run(
            ["gcc", "-O2", "-DSAFETY", "-DCOLLAPSE", "-DVECTORSZ=4096", "-o", "pan", "pan.c"], cwd=w,
            capture_output=True).returncode == 0
        if not built:
            return None
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        r = subprocess.run(["./pan", "-m50000000", "-w26"], cwd=w, capture_output=True, text=True)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    states = re.search(r"([\d.e+]+) states, stored", r.stdout + r.stderr)
    if not states:
        return None
    return int(float(states.group(1))), wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", default="ecma262,quickjs-ng-0.6")
    ap.add_argument("--objects", default="2,3")
    ap.add_argument("--python-cap", type=int, default=200_000)
    ap.add_argument("--no-spin", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("SPECMC_NATIVE_CACHE", tempfile.mkdtemp(prefix="specmc-bench-native-"))
    print(f"machine: {machine()}; load average before: {os.getloadavg()[0]:.1f}")
    print("Rates per wall second and per CPU second (the search's own process time: on a shared "
          "machine the wall rate is the load's; SPIN's: pan alone)")
    threads = max(2, len(os.sched_getaffinity(0)))  # every core (the default search takes one)
    print(f"| host | objects | states | Python states/s | C states/s wall | C states/s CPU | C / Python "
          f"| C compile s | C, {threads} threads, states/s wall | threads speed-up "
          f"| C dfs hash-compacted states/s wall | its bytes a state (kept: state's) "
          f"| SPIN states | SPIN states/s wall | SPIN states/s CPU | C / SPIN wall | C / SPIN CPU |")
    print("| --- " * 17 + "|")
    spin: dict[int, tuple[int, float, float] | None] = {}
    for host in args.hosts.split(","):
        for n in (int(x) for x in args.objects.split(",")):
            job = load(Job(("embedded",), host, Bounds(objects=n), ()))
            ((program, props),) = slices(job, together=True)
            preds = {p.id: predicate(program, p) for p in props}
            t = time.perf_counter()
            r = explore(program, preds, job.job.bounds.steps, args.python_cap)
            py_rate = r.states / (time.perf_counter() - t)
            xs = state_vars(program)
            t = time.perf_counter()
            native = cexplore.Native(program, {p.id: predicate_term(program, p.holds, xs) for p in props},
                                     "-O1" if n >= 3 else "-O0")
            compiled = time.perf_counter() - t
            t, cpu = time.perf_counter(), time.process_time()
            s = native.search(job.job.bounds.steps, 60_000_000, threads=1)
            c_rate = s.count / (time.perf_counter() - t)
            c_cpu = s.count / (time.process_time() - cpu)
            kept = s.states.shape[1] + 4 + 4 + 2 + 16  # (the state, parent, command, depth, table)
            del s
            t = time.perf_counter()
            s = native.search(job.job.bounds.steps, 60_000_000, threads=threads)
            t_rate = s.count / (time.perf_counter() - t)
            slots = 1 << 20
            while slots // 4 * 3 < s.count:
                slots *= 2
            t = time.perf_counter()
            h = native.search_compact(job.job.bounds.steps, s.count, slots)
            h_rate = h.states / (time.perf_counter() - t)
            if n not in spin:
                spin[n] = None if args.no_spin else _spin(n)
            sp = spin[n]
            spin_cols = "| - | - | - | - | -" if sp is None else \
                f"| {sp[0]:,} | {sp[0] / sp[1]:,.0f} | {sp[0] / sp[2]:,.0f} " \
                f"| {c_rate / (sp[0] / sp[1]):.2f} | {c_cpu / (sp[0] / sp[2]):.2f}"
            print(f"| {host} | {n} | {s.count:,}{'' if s.complete else ' (cut)'} | {py_rate:,.0f} | "
                  f"{c_rate:,.0f} | {c_cpu:,.0f} | {c_rate / py_rate:.1f} | {compiled:.1f} | {t_rate:,.0f} "
                  f"| {t_rate / c_rate:.2f} | {h_rate:,.0f} | {slots * 8 / max(h.states, 1):.0f} ({kept}) "
                  f"{spin_cols} |", flush=True)


if __name__ == "__main__":
    main()
