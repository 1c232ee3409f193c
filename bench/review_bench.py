"""Spec-change reviews of whole spec.html files, timed phase by phase.

    python -m bench.review_bench [--plan FILE]

Reviews the two whole-file pairs in ../shared/ecma262/full (3cd00d74 -> 06357938 and
ee2d7909 -> 61f79507) and the current clause set against itself. Without --plan it uses the
small plan of tests/proofs/test_review.py (ecma262 and quickjs-ng-0.5, two properties, one
object, six frames, the explicit engine); with the embedded plan (`--plan
proofs/plans/default.toml`) the verdicts take as long as `specmc check` does, once per side whose
model changed. A pair whose models cannot be built is printed as not checked, with the reasons:
its time is then reading the files and failing to build, not checking, and is no review speed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from specmc.proofs.plan import load_plan
from specmc.proofs.review import review
from specmc.spec.load import load_specs

from bench.parse_bench import machine

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "ecma262"
PAIRS = (("full/spec-2021-03-15-3cd00d74.html", "full/spec-2021-03-17-06357938.html"),
         ("full/spec-2021-07-19-ee2d7909.html", "full/spec-2021-07-21-61f79507.html"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--plan", help="plan file (default: the small plan of the review tests)")
    args = ap.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        if args.plan:
            plan = load_plan(args.plan)
        else:
            from tests.proofs.test_review import PLAN

            (Path(tmp) / "specmc.toml").write_text(PLAN)
            plan = load_plan(str(Path(tmp) / "specmc.toml"))
        for base, head in PAIRS:
            t0 = time.perf_counter()
            load_specs([SHARED / base])
            parse = time.perf_counter() - t0
            t0 = time.perf_counter()
            r = review(str(SHARED / base), str(SHARED / head), plan, certificates=str(Path(tmp) / "c"))
            total = time.perf_counter() - t0
            changed = ", ".join(c.name for c in r.changed)
            flips = sum(1 for v in r.verdicts if v.base.verdict != v.head.verdict)
            print(f"{Path(base).stem} -> {Path(head).stem}: {total:.1f} s in all (one side parses in "
                  f"{parse:.1f} s); model identical: {r.model_identical}; {len(r.verdicts)} verdict pairs, "
                  f"{flips} changed, {len(r.not_checked)} not checked; changed algorithms: {changed}")
            for u in r.unchecked_reasons():  # a time for a review that checked nothing means little
                print(f"  not checked on {u.side} ({len(u.combinations)} combinations): {u.reason}")


if __name__ == "__main__":
    main()
