"""The main job as a user runs it: `specmc check` (the embedded plan, every catalogue property under
every shipped host at the default bounds), timed as a separate process, with its CPU time and peak
memory.

    python -m bench.mainjob_bench [--repeat N] [--warm]

Each run starts from empty caches (compiled models, verdicts, certificates) unless `--warm`. Peak
memory is the largest resident set of any one process of the run (the main process or an engine
process: `ru_maxrss` of the waited-for children), which is what a machine must have free for the
largest job; the engines run side by side, one per core, so the sum at one moment can be larger.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.parse_bench import machine

ROOT = Path(__file__).resolve().parents[1]


def run(env: dict[str, str], cwd: Path) -> tuple[float, float, float, str]:
    """(wall s, CPU s of the run's processes, peak MB of one process, the summary line)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "specmc.proofs", "check", "--quiet"], env=env, cwd=cwd,
                       capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"the main job failed (exit {r.returncode}): {r.stdout[-2000:]} {r.stderr[-2000:]}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    summary = next((line for line in reversed(r.stdout.splitlines()) if "results," in line), "")
    return wall, cpu, after.ru_maxrss / 1024, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--warm", action="store_true", help="keep the caches between runs")
    args = ap.parse_args()
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")
    scratch = Path(tempfile.mkdtemp(prefix="mainjob-bench-"))
    env = {**os.environ, "SPECMC_NATIVE_CACHE": str(scratch / "native"), "SPECMC_CACHE": str(scratch / "v"),
           "SPECMC_CERTIFICATES": str(scratch / "c")}
    print("| run | wall s | CPU s | peak MB (one process) | summary |")
    print("| --- | --- | --- | --- | --- |")
    try:
        for k in range(args.repeat):
            if not args.warm:
                for sub in ("native", "v", "c"):
                    shutil.rmtree(scratch / sub, ignore_errors=True)
            wall, cpu, peak, summary = run(env, scratch)  # (a folder of its own: no ./specmc.toml)
            print(f"| {k + 1}{' warm' if args.warm and k else ''} | {wall:.1f} | {cpu:.1f} | {peak:,.0f} "
                  f"| {summary.strip()} |", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
