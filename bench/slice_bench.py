"""Cone-of-influence slices (model/slice.py), measured side by side in one run.

    python -m bench.slice_bench [--host H ...] [--bounds objects=2] [--property P ...]

For each host, the explicit engine proves or refutes the properties twice: over the whole model
(every observer kept: one search, one certificate) and over slices (one search and certificate
per group of properties with a common cone: what `specmc check` does). Certificates are written
to a temporary folder and re-checked in both cases, so the seconds are the engine's whole cost.
Printed: states searched, seconds, and the ratio whole / sliced.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from specmc.model.bounds import parse_bounds
from specmc.proofs.certify import obligations
from specmc.proofs.engines import explicit
from specmc.proofs.run.job import Job, load, slices

from bench.parse_bench import machine


def _timed(fn) -> tuple[float, list]:
    got: list = []
    obligations._PARSED.clear()
    obligations._CONSECUTIVE.clear()
    t = time.perf_counter()
    fn(got.append)
    return time.perf_counter() - t, got


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", action="append", default=[])
    ap.add_argument("--bounds", default="")
    ap.add_argument("--property", action="append", default=[])
    args = ap.parse_args()
    hosts = args.host or ["ecma262", "v8", "quickjs-ng-0.5", "quickjs-ng-0.6"]
    bounds = parse_bounds(args.bounds)
    print(f"machine: {machine()}")
    print(f"bounds {bounds.describe()}; properties: {', '.join(args.property) or 'the whole catalogue'}")
    print("| host | whole model: states | s | slices: states per group | s | whole / sliced |")
    print("| --- | --- | --- | --- | --- | --- |")
    for host in hosts:
        with tempfile.TemporaryDirectory() as tmp:
            job = load(Job(("embedded",), host, bounds, tuple(args.property), certificates=tmp))
            whole_s, whole = _timed(lambda put, job=job: explicit._run_slice(
                job, job.program, job.properties, put, time.perf_counter()))
            sliced_s, parts = _timed(lambda put, job=job: explicit.run(job, put))
            verdicts = {o.property: o.verdict for o in whole}
            assert verdicts == {o.property: o.verdict for o in parts}, "the two disagree"
            groups = [len(props) for _program, props in slices(job)]
            searched = sorted({_states(o) for o in parts if _states(o)})
            print(f"| {host} | {_states(whole[-1]):,} | {whole_s:.1f} | "
                  f"{' + '.join(f'{n:,}' for n in searched)} ({len(groups)} groups) | {sliced_s:.1f} | "
                  f"{whole_s / sliced_s:.2f} |", flush=True)


def _states(o) -> int:
    text = o.method or o.reason
    for word in text.replace(",", "").split():
        if word.isdigit():
            return int(word)
    return 0


if __name__ == "__main__":
    main()
