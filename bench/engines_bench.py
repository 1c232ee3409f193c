"""The engines side by side, in one run: time to the seed counterexample, time to prove every
property under ecma262, and explicit against symbolic as the heap bound grows: the job-queue
fix (cleanup-not-on-free-stack under quickjs-ng-0.6) at 2 to 6 objects, and held-value-once
under ecma262 at small bounds, and (section 5) per engine and property, the time to PROVED as
the heap grows.

    python -m bench.engines_bench [--budget S] [--grow 2,3,4,5,6] [--objects 1,2,3] [--plot FILE.png]
                                  [--sections 1,2,3,4,5] [--explicit-cap N]
                                  [--proof-hosts ecma262,quickjs-ng-0.6] [--proof-objects 2,4,6]
                                  [--proof-engines kind,houdini] [--proof-properties ID,...]

Each engine runs with the same time budget; a run that does not finish within it is reported as
such (never as a verdict). Sections 1-4 run each engine in this process (an engine finishes the
step it is in, so a row can pass its budget); section 5 runs each in a process of its own that
is killed at the budget, as `specmc check --timeout` does. The plot needs matplotlib
(`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from specmc.model import symbolic
from specmc.model.bounds import Bounds
from specmc.proofs.certify import obligations
from specmc.proofs.engines import bdd, bmc, explicit, houdini, kind, pdr, portfolio
from specmc.proofs.run.job import Job, load
from specmc.proofs.verdict import Outcome

from bench.parse_bench import machine

ENGINES = {"explicit": explicit.run, "bmc": bmc.run, "kind": kind.run, "pdr": pdr.run, "bdd": bdd.run,
           "houdini": houdini.run}
# the properties issue 19 asks to see PROVED at objects=6
AT_SIX = ("cleanup-not-on-free-stack", "cleanup-only-from-job", "no-dangling-cell", "held-value-once",
          "no-freed-observed")


def timed(engine: str, job: Job) -> tuple[float, list[Outcome]]:
    """Every row starts cold: the certificate checker's per-process memory of invariants already
    checked (and the cached command terms) would otherwise make a later row look cheaper."""
    obligations._CONSECUTIVE.clear()
    obligations._PARSED.clear()
    symbolic._LAST.clear()
    loaded = load(job)
    got: list[Outcome] = []
    t = time.perf_counter()
    try:
        ENGINES[engine](loaded, got.append)
    except Exception as e:  # a bench reports, it does not stop
        got.append(Outcome("*", "UNKNOWN", engine, reason=f"{type(e).__name__}: {e}"))
    return time.perf_counter() - t, got


def timed_hard(engine: str, job: Job) -> tuple[float, list[Outcome]]:
    """As `timed`, but the engine runs in a process of its own that is killed at the budget, as
    `specmc check --engine E --timeout S` does: an engine whose mining or compilation ignores its
    deadline (houdini took 825 s of a 60 s budget in process) cannot stretch the table."""
    obligations._CONSECUTIVE.clear()
    obligations._PARSED.clear()
    symbolic._LAST.clear()
    t = time.perf_counter()
    try:
        got = portfolio.run(job, job.properties, (engine,))
    except Exception as e:  # a bench reports, it does not stop
        got = {"*": Outcome("*", "UNKNOWN", engine, reason=f"{type(e).__name__}: {e}")}
    return time.perf_counter() - t, list(got.values())


def summary(outs: list[Outcome]) -> str:
    counts: dict[str, int] = {}
    for o in outs:
        counts[o.verdict] = counts.get(o.verdict, 0) + 1
    return ", ".join(f"{v} {n}" for v, n in sorted(counts.items())) or "none"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=120.0, help="seconds per engine and row")
    ap.add_argument("--grow", default="2,3,4,5,6", help="objects bounds for the fix proof")
    ap.add_argument("--objects", default="1,2,3", help="objects bounds for held-value-once")
    ap.add_argument("--certificates", default="/tmp/specmc-bench-certs")
    ap.add_argument("--sections", default="1,2,3,4", help="which of the four tables to measure")
    ap.add_argument("--explicit-cap", type=int, default=explicit.MAX_STATES,
                    help="the explicit engine's state cap (about 1 GB per million states)")
    ap.add_argument("--proof-hosts", default="ecma262,quickjs-ng-0.6", help="hosts of section 5")
    ap.add_argument("--proof-objects", default="2,4,6", help="objects bounds of section 5")
    ap.add_argument("--proof-engines", default="kind,houdini", help="engines of section 5")
    ap.add_argument("--proof-properties", default=",".join(AT_SIX), help="properties of section 5")
    ap.add_argument("--plot", default="")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    explicit.MAX_STATES = args.explicit_cap
    sections = {int(x) for x in args.sections.split(",")}
    base = Job(("embedded",), "quickjs-ng-0.5", Bounds(), ("cleanup-not-on-free-stack",),
               timeout=args.budget, depth=60, certificates=args.certificates)
    if 1 in sections:
        print("\n1. seed counterexample: quickjs-ng-0.5, cleanup-not-on-free-stack, default bounds")
        print("| engine | seconds | verdict | depth |")
        print("| --- | --- | --- | --- |")
        for engine in ("explicit", "bmc", "bdd"):
            dt, outs = timed(engine, base)
            o = outs[0] if outs else None
            verdict, depth = (o.verdict, o.depth) if o else ("-", "-")
            print(f"| {engine} | {dt:.1f} | {verdict} | {depth} |", flush=True)
    if 2 in sections:
        print("\n2. every catalogue property under ecma262, default bounds")
        print("| engine | seconds | verdicts |")
        print("| --- | --- | --- |")
        proof = replace(base, host="ecma262", properties=())
        for engine in ("explicit", "bdd", "kind", "pdr"):
            dt, outs = timed(engine, proof)
            print(f"| {engine} | {dt:.1f} | {summary(outs)} |", flush=True)
    panels = []
    for number, title, host, prop, bounds in (
            (3, "the fix: cleanup-not-on-free-stack under quickjs-ng-0.6", "quickjs-ng-0.6",
             "cleanup-not-on-free-stack", args.grow),
            (4, "held-value-once under ecma262", "ecma262", "held-value-once", args.objects)):
        if number not in sections:
            continue
        print(f"\n{number}. {title} as objects grow (cells=1, frames=6, jobs=1)")
        print("| objects | engine | seconds | verdict | how |")
        print("| --- | --- | --- | --- | --- |")
        rows = []
        for n in (int(x) for x in bounds.split(",")):
            job = replace(base, host=host, properties=(prop,), bounds=Bounds(objects=n))
            for engine in ("explicit", "bdd", "kind", "pdr"):
                dt, outs = timed(engine, job)
                o = outs[0] if outs else None
                rows.append((n, engine, dt, o.verdict if o else "-"))
                how = (o.method or o.reason or "") if o else ""
                print(f"| {n} | {engine} | {dt:.1f} | {o.verdict if o else '-'} | {how[:70]} |", flush=True)
        panels.append((title, rows))
    if 5 in sections:
        proofs_table(base, args)
    if args.plot and panels:
        plot(panels, args.plot, args.budget)


def proofs_table(base: Job, args: argparse.Namespace) -> None:
    """Section 5: for each host, property and objects bound, each engine's seconds to PROVED (its
    budget spent or another verdict otherwise), one engine at a time, each in a process killed at
    the budget (`timed_hard`); every row starts with the caches empty."""
    engines = args.proof_engines.split(",")
    print("\n5. time to PROVED per engine and property (cells=1, frames=6, jobs=1; "
          f"budget {args.budget:g} s)")
    print(f"| host | property | objects | {' | '.join(engines)} |")
    print(f"| --- | --- | --- | {' | '.join('---' for _ in engines)} |")
    for host in args.proof_hosts.split(","):
        for prop in args.proof_properties.split(","):
            for n in (int(x) for x in args.proof_objects.split(",")):
                job = replace(base, host=host, properties=(prop,), bounds=Bounds(objects=n))
                cells = []
                for engine in engines:
                    dt, outs = timed_hard(engine, job)
                    o = outs[0] if outs else None
                    if o is not None and o.verdict == "PROVED":
                        cells.append(f"**{dt:.1f}**")
                    else:
                        why = (o.reason or "")[:40] if o else "no outcome"
                        cells.append(f"{dt:.1f} {o.verdict if o else '-'} ({why})")
                print(f"| {host} | {prop} | {n} | {' | '.join(cells)} |", flush=True)


def plot(panels: list[tuple[str, list[tuple[int, str, float, str]]]], path: str, budget: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.8), dpi=120)
    for ax, (title, rows) in zip(axes if len(panels) > 1 else [axes], panels, strict=True):
        for engine, marker in (("explicit", "o"), ("bdd", "D"), ("kind", "s"), ("pdr", "^")):
            pts = [(n, dt, v) for n, e, dt, v in rows if e == engine]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, label=engine)
            for n, dt, v in pts:
                if v not in ("PROVED", "VIOLATED"):
                    ax.annotate(v.lower(), (n, dt), textcoords="offset points", xytext=(4, 4), fontsize=7)
        ax.axhline(budget, color="grey", linestyle=":", linewidth=1, label="budget")
        ax.set_xlabel("objects bound")
        ax.set_xticks(sorted({n for n, *_ in rows}))
        ax.set_ylabel("seconds (to a verdict, or budget spent)")
        ax.set_yscale("log")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
