"""How the state space grows with the object graph: objects × property slots, states and time.

    python -m bench.graph_bench [--hosts ecma262,quickjs-ng-0.6] [--objects 2,3] [--slots 0,1]
                                [--max-states N]

For each host, object count and number of property slots (bound `slots`; 0 is the model without
an object graph), the whole model is searched breadth first in C (model/cexplore.py) with every
catalogue property checked in every state, up to `--max-states`. The ratio columns compare each
row with the same host and object count at slots=0 (states, and search seconds); `complete` says
whether the search reached every state. Compile time is given apart (cached by digest:
`SPECMC_NATIVE_CACHE`).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from specmc.model import cexplore
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.hosts import load_host
from specmc.model.symbolic import predicate_term, state_vars
from specmc.proofs.properties import CATALOGUE
from specmc.spec.load import load_spec

from bench.parse_bench import machine


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", default="ecma262,quickjs-ng-0.6")
    ap.add_argument("--objects", default="2,3")
    ap.add_argument("--slots", default="0,1")
    ap.add_argument("--max-states", type=int, default=60_000_000)
    args = ap.parse_args()
    os.environ.setdefault("SPECMC_NATIVE_CACHE", tempfile.mkdtemp(prefix="specmc-bench-graph-"))
    spec = load_spec()
    print(f"machine: {machine()}")
    print(f"cells=1, frames=6, jobs=1, state cap {args.max_states:,}; every catalogue property checked")
    print("| host | objects | slots | states | × states (slots=0) | complete | search s | × time (slots=0) "
          "| compile s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in args.hosts.split(","):
        host = load_host(name)
        for n in (int(x) for x in args.objects.split(",")):
            base: tuple[int, float] | None = None
            for k in (int(x) for x in args.slots.split(",")):
                program = build(spec, host, Bounds(objects=n, slots=k))
                xs = state_vars(program)
                t = time.perf_counter()
                native = cexplore.Native(program, {p.id: predicate_term(program, p.holds, xs)
                                                   for p in CATALOGUE.values()}, "-O1")
                compiled = time.perf_counter() - t
                t = time.perf_counter()
                s = native.search(10_000, args.max_states)
                dt = time.perf_counter() - t
                if base is None:
                    base = (s.count, dt)
                done = "yes" if s.complete else "no (cap)"
                print(f"| {name} | {n} | {k} | {s.count:,} | {s.count / base[0]:.1f} | {done} | {dt:.1f} | "
                      f"{dt / base[1]:.1f} | {compiled:.1f} |", flush=True)


if __name__ == "__main__":
    main()
