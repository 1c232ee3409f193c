"""The explicit engine's certificate under different variable orders, side by side in one run:
diagram nodes, and the consecution check's work and time.

    python -m bench.certificate_bench [--hosts ecma262,quickjs-ng-0.5,quickjs-ng-0.6] [--objects 2]
                                      [--orders certificate,bdd]

For each host, the whole model's reachable set is searched once, then written as a diagram in
each order (proofs/certify/invariant.py `variable_order`: `certificate`; `bdd`, the bdd engine's order;
`layout`, the layout's own order, which takes many minutes per host), and the consecution check
of proofs/certify/obligations.py is run on one core for each. The work is Z3's `rlimit count`, which is
deterministic; the seconds are not on this machine (the same query took 17-34 s in four runs on
idle cores), so compare rlimit counts, and seconds only within one run.
"""

from __future__ import annotations

import argparse
import os
import time

import z3
from specmc.model.bounds import parse_bounds
from specmc.model.symbolic import state_vars
from specmc.proofs.certify import obligations
from specmc.proofs.certify.invariant import diagram, to_smtlib, variable_order
from specmc.proofs.certify.terms import program_model
from specmc.proofs.engines import explicit
from specmc.proofs.run.job import Job, load

from bench.parse_bench import machine


def _orders(layout) -> dict[str, tuple[int, ...]]:
    return {"certificate": variable_order(layout),
            "bdd": variable_order(layout, outermost_first=True, by_object=True),
            "layout": tuple(range(layout.size))}


def _consecution(program, inv_text: str) -> tuple[int, float]:
    """(rlimit count, CPU seconds) of the consecution check of this invariant, on one core."""
    model, _ = program_model(program)
    inv = z3.And(*z3.parse_smt2_string(inv_text))  # (its declarations are the model's variables)
    made: list[z3.Solver] = []
    plain = obligations.z3.Solver

    class Counted(plain):  # type: ignore[misc, valid-type]
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            made.append(self)

    cores = os.cpu_count
    obligations.z3.Solver = Counted
    os.cpu_count = lambda: 1
    try:
        started = time.process_time()
        obligations._consecution(inv, model, None)
        cpu = time.process_time() - started
    finally:
        obligations.z3.Solver = plain
        os.cpu_count = cores
    work = 0
    for s in made:
        st = s.statistics()
        work += sum(int(st.get_key_value(k)) for k in st.keys() if k == "rlimit count")
    return work, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", default="ecma262,quickjs-ng-0.5,quickjs-ng-0.6")
    ap.add_argument("--objects", default="2")
    ap.add_argument("--orders", default="certificate,bdd", help="certificate, bdd, layout")
    args = ap.parse_args()
    print(machine())
    print(f"{'host':16} {'objects':>7} {'order':12} {'states':>9} {'nodes':>7} {'rlimit':>12} {'cpu s':>7}")
    for objects in (int(o) for o in args.objects.split(",")):
        for host in args.hosts.split(","):
            bounds = parse_bounds(f"objects={objects},cells=1,frames=6,jobs=1")
            job = load(Job(("embedded",), host, bounds, (), certificates=""))
            program = job.program
            found = explicit._search(job, program, job.properties, None)
            names = [str(x) for x in state_vars(program)]
            rows = {}
            wanted = ["certificate", *[o for o in args.orders.split(",") if o != "certificate"]]
            for label, order in ((k, v) for k, v in _orders(program.layout).items() if k in wanted):
                dd = diagram(found.states, program.layout.size, order)
                work, cpu = _consecution(program, to_smtlib(dd, names))
                rows[label] = (len(dd), work, cpu)
                print(f"{host:16} {objects:>7} {label:12} {found.count:>9,} {len(dd):>7,} {work:>12,} "
                      f"{cpu:>7.1f}", flush=True)
            base = rows["certificate"]
            for label, (nodes, work, _cpu) in rows.items():
                if label != "certificate":
                    print(f"{'':16} {'':>7} {label:12} nodes x{nodes / base[0]:.2f}, "
                          f"rlimit x{work / base[1]:.2f} against the certificate order")


if __name__ == "__main__":
    main()
