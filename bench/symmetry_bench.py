"""States and time of the native explicit search with and without symmetry reduction, and ratios.

    python -m bench.symmetry_bench [--hosts ecma262,quickjs-ng-0.6] [--objects 2,3,4] [--cap N]

For each host and object count, the union of every catalogue property's cones (what the explicit
engine searches, proofs/run/job.py `slices(together=True)`) is searched breadth first in C with
every property checked, once without and once with the reduction (model/symmetry.py), up to
`--cap` states each: a search the cap cut is marked "(cut)", and its ratio is then only a
bound. The compile time is given apart (cached by digest: `SPECMC_NATIVE_CACHE`). The machine
and its load average are printed: it is shared, and the times move with the load.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from specmc.model import cexplore
from specmc.model.bounds import Bounds
from specmc.model.symbolic import predicate_term, state_vars
from specmc.proofs.run.job import Job, load, slices

from bench.parse_bench import machine


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", default="ecma262,quickjs-ng-0.6")
    ap.add_argument("--objects", default="2,3,4")
    ap.add_argument("--cap", type=int, default=40_000_000)
    args = ap.parse_args()
    os.environ.setdefault("SPECMC_NATIVE_CACHE", tempfile.mkdtemp(prefix="specmc-bench-native-"))
    print(f"machine: {machine()}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| host | objects | states | s | reduced: canonical states | s | states ratio | time ratio "
          "| C compile s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for host in args.hosts.split(","):
        for n in (int(x) for x in args.objects.split(",")):
            job = load(Job(("embedded",), host, Bounds(objects=n), ()))
            ((program, props),) = slices(job, together=True)
            xs = state_vars(program)
            t = time.perf_counter()
            native = cexplore.Native(program, {p.id: predicate_term(program, p.holds, xs) for p in props},
                                     "-O1" if n >= 3 else "-O0")
            compiled = time.perf_counter() - t
            rows = []
            for sym in (False, True):
                t = time.perf_counter()
                s = native.search(job.job.bounds.steps, args.cap, symmetry=sym)
                rows.append((s.count, s.complete, time.perf_counter() - t))
                del s
            (a, a_done, a_s), (b, b_done, b_s) = rows
            cut = {True: "", False: " (cut)"}
            # a cut search gives a lower bound at best; both cut: no ratio of state spaces at all
            ratio = f"{a / b:.2f}" if a_done and b_done else f"≥ {a / b:.2f}" if b_done else "- (cut)"
            print(f"| {host} | {n} | {a:,}{cut[a_done]} | {a_s:.1f} | {b:,}{cut[b_done]} | {b_s:.1f} | "
                  f"{ratio} | {a_s / b_s:.2f} | {compiled:.1f} |", flush=True)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
