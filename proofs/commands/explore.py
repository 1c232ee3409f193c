"""`specmc explore`: every reachable state with the reference interpreter, breadth-first, and
each property's verdict from it (no solver, no certificate)."""

from __future__ import annotations

import argparse
import json
import sys

from specmc.proofs import exitcodes
from specmc.proofs.commands.spec import warn


def run_explore(args: argparse.Namespace) -> int:
    """Each host's states explored in turn; each property HOLDS, VIOLATED (with its shortest
    trace) or UNKNOWN (the search was cut). Exit 0 whatever the verdicts: explore reports."""
    from specmc.model.bounds import parse_bounds
    from specmc.model.build import build
    from specmc.model.explore import explore
    from specmc.model.hosts import load_host, shipped
    from specmc.model.trace import build_trace
    from specmc.proofs.engines.explicit import COVER, bounds_hit
    from specmc.proofs.properties import select
    from specmc.proofs.properties.userfile import load_properties_file
    from specmc.proofs.run.job import cover_predicate, predicate
    from specmc.spec.load import EMBEDDED, load_specs

    bounds = parse_bounds(args.bounds)
    for f in args.properties_file:
        load_properties_file(f)
    props = select(args.property)
    # a temporal property's state predicate is a placeholder, true everywhere (its meaning is a
    # lasso, which only check's engines look for): explore said HOLDS for one check finds VIOLATED
    # (fourth review). It is reported UNKNOWN with that reason, never searched here.
    temporal = [p for p in props if p.temporal is not None]
    props = [p for p in props if p.temporal is None]
    hosts = [load_host(h) for h in (args.host or shipped())]
    spec = load_specs([EMBEDDED if s == "embedded" else s for s in args.spec] or [EMBEDDED])
    warn(spec.warnings)
    results = []
    total = 0
    import time

    for host in hosts:
        started = time.perf_counter()
        print(f"exploring {host.name} at {bounds.describe()} ...", file=sys.stderr, flush=True)
        program = build(spec, host, bounds)
        preds = {p.id: predicate(program, p) for p in props}
        for p in props:  # covers: where a property's situation is met (proofs/engines/explicit.py)
            cover = cover_predicate(program, p)
            if cover is not None:
                preds[COVER + p.id] = lambda S, cover=cover: not cover(S)
        r = explore(program, preds, bounds.steps, args.max_states, keep=True)
        hit = dict(bounds_hit(program, r.reached))
        print(f"  {r.states:,} states, {r.transitions:,} transitions, "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        total += r.states
        for p in props:
            path = r.violations.get(p.id)
            if path is not None:
                verdict = "VIOLATED"
            elif r.complete:
                verdict = "HOLDS"
            else:
                verdict = "UNKNOWN"
            reached = None if p.cover is None else COVER + p.id in r.violations
            label = verdict
            if verdict == "HOLDS" and reached is False:
                label = "HOLDS (vacuous)"
            elif verdict == "HOLDS" and hit:
                label = f"HOLDS within bounds ({', '.join(hit)} hit)"
            entry = {"host": host.name, "property": p.id, "verdict": verdict, "label": label,
                     "cover_reached": reached, "vacuous": label == "HOLDS (vacuous)", "bounds_hit": hit,
                     "states": r.states,
                     "trace": [t.to_json() for t in build_trace(program, path)] if path else []}
            if verdict == "UNKNOWN":  # (review 7: it named both bounds, whichever had cut it)
                entry["reason"] = (f"exploration cut by the state limit ({args.max_states:,} states)"
                                   if r.states >= args.max_states else
                                   f"exploration cut by the steps bound ({bounds.steps:,} steps)")
            results.append(entry)
        for p in temporal:
            results.append({"host": host.name, "property": p.id, "verdict": "UNKNOWN", "label": "UNKNOWN",
                            "cover_reached": None, "vacuous": False, "bounds_hit": hit, "states": r.states,
                            "trace": [], "reason": "a temporal property: explore searches states, and its "
                            "meaning is a lasso (a run that never delivers); `specmc check` decides it"})
    out = {"states": total, "bounds": bounds.describe(), "results": results}
    if args.format == "json":
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return exitcodes.OK
    print(f"bounds {bounds.describe()}; {total} states explored")
    for r in results:
        why = f"  ({r['reason']})" if r["verdict"] == "UNKNOWN" else ""
        print(f"{r['label']:9} {r['host']:16} {r['property']}{why}")
    for r in results:
        if r["trace"]:
            print(f"\n{r['property']} VIOLATED under {r['host']}: shortest trace, "
                  f"{len(r['trace'])} steps")
            for i, t in enumerate(r["trace"]):
                where = f"{t['clause']} {t['step']}".strip() or t["actor"]
                stack = " > ".join(t["stack"]) or "(empty stack)"
                print(f"  {i:3}  {where:48} {t['text']}")
                print(f"       {'':48} stack: {stack}")
    return exitcodes.OK
