"""Front-end speed on whole spec.html files, with the machine it ran on.

    python -m bench.parse_bench [--repeat N] [FILE...]

Prints, per file, the best and median wall time of a complete parse (read, markup,
steps, grammar, IR) in a fresh-parser-free loop (the Lark tables are built once per
process and reported separately), plus algorithms and steps per second.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "ecma262" / "full"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    files = args.files or [SHARED / "spec-2025-11-04-e936549f.html"]

    t0 = time.perf_counter()
    from specmc.spec.parser import step_parser

    step_parser()
    build = time.perf_counter() - t0
    from specmc.spec.load import load_specs

    print(f"machine: {machine()}")
    print(f"grammar tables built once per process: {build:.2f} s")
    print("| file | MB | algorithms | steps | best s | median s | steps/s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for f in files:
        times = []
        spec = None
        for _ in range(args.repeat):
            t = time.perf_counter()
            spec = load_specs([f])
            times.append(time.perf_counter() - t)
        assert spec is not None
        steps = sum(1 for a in spec.algorithms for _ in a.walk())
        best = min(times)
        print(f"| {f.name} | {f.stat().st_size / 1e6:.1f} | {len(spec.algorithms)} | {steps} | "
              f"{best:.2f} | {statistics.median(times):.2f} | {steps / best:,.0f} |")


if __name__ == "__main__":
    main()
