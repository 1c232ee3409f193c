"""Spec-change reviews of a history pair and of whole spec.html files, timed.

    python -m bench.review_bench [--plan FILE]
    python -m bench.review_bench --cache-runs [--plan FILE] [--pairs history,whole,...]

Pairs: the normative history pair 0038073a -> 06357938 (the clause-set folders of
../shared/ecma262/history; HostJobCallbacks for FinalizationRegistry), the two whole-file
pairs of ../shared/ecma262/full (3cd00d74 -> 06357938, the same change in the whole file, and
ee2d7909 -> 61f79507, the hook gets a body), and the current whole file against a copy whose
unregister always returns false (every host of the embedded plan can be built on both sides).

Without --cache-runs each pair is reviewed once, in this process, without the verdict cache, and
the time to read one side is given beside it. Without --plan that uses the small plan of
tests/proofs/review/test_review.py (ecma262 and quickjs-ng-0.5, two properties, one object, six frames,
the explicit engine).

With --cache-runs (default plan: the embedded one, proofs/plans/default.toml, as a pull request
with no specmc.toml gets) each pair is reviewed by the command itself, a fresh process per run as
CI starts one, three ways:

- cold: an empty verdict cache and certificate folder: both sides checked;
- base cached: the cache holds BASE's verdicts (primed, untimed, by reviewing BASE against
  itself), as when the previous review of the pull request checked that text: HEAD checked;
- all cached: the same review again: nothing checked when both sides' verdicts are definite.

A pair whose models cannot be built is printed as not checked, with the reasons: its time is then
reading the files and failing to build, not checking, and is no review speed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from specmc.proofs.review.review import review
from specmc.proofs.run.plan import load_plan
from specmc.spec.load import load_specs

from bench.parse_bench import machine

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "ecma262"
ROOT = Path(__file__).resolve().parents[1]
PAIRS = {
    "history": ("history/2020-09-01-0038073a", "history/2021-03-17-06357938"),
    "whole": ("full/spec-2021-03-15-3cd00d74.html", "full/spec-2021-03-17-06357938.html"),
    "whole-hook": ("full/spec-2021-07-19-ee2d7909.html", "full/spec-2021-07-21-61f79507.html"),
    # the current whole file against a copy whose unregister always returns false (written at run
    # time): before 2023 the text lacks CanBeHeldWeakly, so the QuickJS-NG hosts cannot be built on
    # the history pairs; here every host of the embedded plan is checked on both sides
    "current-harm": ("full/spec-2025-11-04-e936549f.html", "unregister-false"),
}
HARM = ("          1. Set _removed_ to *true*.\n", "")
EMBEDDED_PLAN = ROOT / "proofs" / "plans" / "default.toml"


def _name(base: str, head: str) -> str:
    def short(p: str) -> str:
        return Path(p).stem.split("-")[-1] if "/" in p else p

    return f"{short(base)} -> {short(head)}"


def _sides(key: str, tmp: Path) -> tuple[Path, Path]:
    """The pair's files; the harmful HEAD is written into `tmp` first."""
    base, head = PAIRS[key]
    if head != "unregister-false":
        return SHARED / base, SHARED / head
    text = (SHARED / base).read_text(encoding="utf-8")
    assert text.count(HARM[0]) == 1, "the current text no longer has unregister's step"
    out = tmp / "unregister-false" / "spec.html"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text.replace(*HARM), encoding="utf-8")
    return SHARED / base, out


def _small_plan(tmp: Path) -> str:
    from tests.proofs.review.test_review import PLAN

    (tmp / "specmc.toml").write_text(PLAN)
    return str(tmp / "specmc.toml")


def in_process(pairs: list[str], plan_file: str, tmp: Path) -> None:
    plan = load_plan(plan_file)
    for key in pairs:
        base, head = _sides(key, tmp)
        t0 = time.perf_counter()
        load_specs([base])
        parse = time.perf_counter() - t0
        t0 = time.perf_counter()
        r = review(str(base), str(head), plan, certificates=str(tmp / "c"))
        total = time.perf_counter() - t0
        changed = ", ".join(c.name for c in r.changed)
        flips = sum(1 for v in r.verdicts if v.base.verdict != v.head.verdict)
        print(f"{key} {_name(*PAIRS[key])}: {total:.1f} s in all (one side reads in "
              f"{parse:.1f} s); model identical: {r.model_identical}; {len(r.verdicts)} verdict pairs, "
              f"{flips} changed, {len(r.not_checked)} not checked; changed algorithms: {changed}")
        for u in r.unchecked_reasons():  # a time for a review that checked nothing means little
            print(f"  not checked on {u.side} ({len(u.combinations)} combinations): {u.reason}")


Run = tuple[float, int, dict, str]


def _cli(base: Path, head: Path, plan: str, cache: Path, certs: Path, out: Path) -> Run:
    """One `specmc review` in a fresh process: seconds, exit code, the JSON report, stderr."""
    cmd = [sys.executable, "-m", "specmc.proofs", "review", str(base), str(head), "--plan", plan,
           "--cache", str(cache), "--certificates", str(certs), "--format", "json", "--out", str(out)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=out.parent)
    seconds = time.perf_counter() - t0
    doc = json.loads(out.read_text()) if out.exists() else {}
    return seconds, done.returncode, doc, done.stderr


def _hits(stderr: str) -> int:
    for line in stderr.splitlines():
        if "verdict(s) from the cache" in line:
            return int(line.split()[0])
    return 0


def cache_runs(pairs: list[str], plan: str, tmp: Path) -> None:
    print(f"plan: {plan}")
    print("| pair | model | verdicts | cold | base cached | all cached |")
    print("| --- | --- | --- | --- | --- | --- |")
    for key in pairs:
        base, head = _sides(key, tmp)
        folder = tmp / key
        folder.mkdir()
        cold = _cli(base, head, plan, folder / "cache-cold", folder / "certs-cold", folder / "cold.json")
        again = _cli(base, head, plan, folder / "cache-cold", folder / "certs-cold", folder / "again.json")
        _cli(base, base, plan, folder / "cache-base", folder / "certs-base", folder / "prime.json")
        warm = _cli(base, head, plan, folder / "cache-base", folder / "certs-base", folder / "warm.json")
        doc = cold[2]
        verdicts = doc.get("verdicts", [])
        definite = sum(1 for v in verdicts if v["head"] in ("PROVED", "VIOLATED"))
        model = "identical" if doc.get("model_identical") else "changed"

        for run in (cold, again, warm):
            if run[1] in (2, 3):  # bad input or an internal error: no review to time
                raise SystemExit(f"{key}: exit {run[1]}: {run[3].strip()}")

        def cell(run: Run) -> str:
            return f"{run[0]:.1f} s (exit {run[1]}, {_hits(run[3])} from cache)"

        print(f"| {key} {_name(*PAIRS[key])} | {model} | {len(verdicts)} ({definite} definite on head) | "
              f"{cell(cold)} | {cell(warm)} | {cell(again)} |", flush=True)
        for u in doc.get("not_checked", []):
            print(f"  not checked on {u['side']}: {u['reason']}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--plan", help="plan file (default: the small plan of the review tests; with "
                                   "--cache-runs, the embedded plan)")
    ap.add_argument("--cache-runs", action="store_true",
                    help="time each pair cold, with BASE cached and with everything cached, by the command")
    ap.add_argument("--pairs", default=",".join(PAIRS), help=f"comma-separated, of: {', '.join(PAIRS)}")
    args = ap.parse_args()
    pairs = [p for p in args.pairs.split(",") if p]
    unknown = [p for p in pairs if p not in PAIRS]
    if unknown:
        ap.error(f"unknown pair {unknown[0]!r} (known: {', '.join(PAIRS)})")
    print(f"{machine()}; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{time.strftime('%Y-%m-%d')}")
    with tempfile.TemporaryDirectory() as tmp:
        if args.cache_runs:
            cache_runs(pairs, args.plan or str(EMBEDDED_PLAN), Path(tmp))
        else:
            in_process(pairs, args.plan or _small_plan(Path(tmp)), Path(tmp))
    print(f"load average at the end {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
