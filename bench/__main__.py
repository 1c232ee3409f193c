"""Every figure issue 19 asks for, in one run: `python -m bench [--quick]`.

In order, each as its own process (so one's caches and memory do not colour the next), each
printing its table with the machine and load it ran on:

1. the explicit search in C beside SPIN (states/s, their ratio), with threads and hash compaction
   (`bench.native_bench`);
2. states with and without symmetry reduction at objects 2-4 (`bench.symmetry_bench`);
3. per engine and property, the time to PROVED at objects 2, 4, 6 (`bench.engines_bench
   --sections 5`: hours at its default budget; `--quick` gives each engine 20 s and stops at 4);
4. the seed end to end (`bench.seed_bench`);
5. the main job's time and peak memory (`bench.mainjob_bench`).

Figures from a shared machine are the load's: each table prints the load average it began under.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from bench.parse_bench import machine


def parts(quick: bool) -> list[tuple[str, list[str]]]:
    return [
        ("explicit search in C, beside SPIN", ["bench.native_bench", "--hosts", "ecma262", "--objects",
                                               "2" if quick else "2,3"]),
        ("symmetry reduction", ["bench.symmetry_bench", "--objects", "2,3" if quick else "2,3,4",
                                "--cap", "3000000" if quick else "30000000"]),
        ("time to PROVED per engine and property", ["bench.engines_bench", "--sections", "5", "--budget",
                                                    "20" if quick else "60", "--proof-objects",
                                                    "2,4" if quick else "2,4,6"]),
        ("the seed end to end", ["bench.seed_bench", "--repeat", "1" if quick else "5"]),
        ("the main job", ["bench.mainjob_bench"]),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller bounds and budgets: minutes, not hours")
    args = ap.parse_args()
    print(f"# specmc benchmarks\nmachine: {machine()}\n", flush=True)
    failed = []
    for k, (title, argv) in enumerate(parts(args.quick), 1):
        print(f"## {k}. {title} (`python -m {' '.join(argv)}`)\n", flush=True)
        started = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", *argv])
        status = "" if r.returncode == 0 else f", exit {r.returncode}"
        print(f"\n({time.perf_counter() - started:.0f} s{status})\n", flush=True)
        if r.returncode != 0:
            failed.append(title)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
