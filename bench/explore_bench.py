"""Explicit-state explorer: states per second, and how the state space grows with objects.

    python -m bench.explore_bench [--host H] [--max-states N] [--objects 2,3,4,5]

Each row explores every reachable state of the model at those bounds (all catalogue
properties checked in every state) unless the state cap is hit first, which the
`complete` column says.
"""

from __future__ import annotations

import argparse
import time

from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import explore
from specmc.model.hosts import load_host
from specmc.proofs.properties import CATALOGUE
from specmc.spec.load import load_spec

from bench.parse_bench import machine


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="ecma262")
    ap.add_argument("--max-states", type=int, default=400_000)
    ap.add_argument("--objects", default="2,3,4,5")
    ap.add_argument("--cells", type=int, default=1)
    args = ap.parse_args()
    spec = load_spec()
    host = load_host(args.host)
    print(f"machine: {machine()}")
    print(f"host {args.host}, cells={args.cells}, frames=6, jobs=1, state cap {args.max_states:,}")
    print("| objects | states | transitions | complete | seconds | states/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for n in (int(x) for x in args.objects.split(",")):
        bounds = Bounds(objects=n, cells=args.cells)
        program = build(spec, host, bounds)
        preds = {p.id: (lambda S, p=p, g=program: p.holds(g, S)) for p in CATALOGUE.values()}
        t = time.perf_counter()
        r = explore(program, preds, bounds.steps, args.max_states)
        dt = time.perf_counter() - t
        print(f"| {n} | {r.states:,} | {r.transitions:,} | {'yes' if r.complete else 'no (cap)'} | "
              f"{dt:.1f} | {r.states / dt:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
