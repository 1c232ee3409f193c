"""The seed end to end: `specmc check --host quickjs-ng-0.5 --property cleanup-not-on-free-stack`,
as a user types it, timed as separate processes, cold and warm, side by side in one run.

    python -m bench.seed_bench [--repeat N]

Rows:
- cold: empty caches (compiled models and dependencies, verdicts, certificates) and no bytecode
  of specmc's own modules: the first run after an install or an upgrade;
- warm: the same caches again, bytecode written (what every later run of a user gets);
- warm, explicit only: `--engine explicit`, no portfolio race (the symbolic engines' processes);
- phases: one warm run in process, split into importing, loading the model (parsing the text and
  the profile, building the program), the dependencies of its slices, and the search with its
  trace replayed.

Wall seconds are the median of `--repeat` runs; the load average is printed because the machine
may be shared, and a loaded machine makes every row slower.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.parse_bench import machine

SEED = ["check", "--host", "quickjs-ng-0.5", "--property", "cleanup-not-on-free-stack", "--quiet"]
ROOT = Path(__file__).resolve().parents[1]

PHASES = """
import time
t0 = time.perf_counter()
from specmc.model.bounds import Bounds
from specmc.proofs.engines import explicit
from specmc.proofs.run.job import Job, _dependencies, load
t1 = time.perf_counter()
loaded = load(Job(("embedded",), "quickjs-ng-0.5", Bounds(), ("cleanup-not-on-free-stack",)))
t2 = time.perf_counter()
_dependencies(loaded)
t3 = time.perf_counter()
found = []
explicit.run(loaded, found.append)
t4 = time.perf_counter()
assert found[0].verdict.name == "VIOLATED", found
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)
"""


def run(env: dict[str, str], *extra: str) -> float:
    started = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "specmc.proofs", *SEED, *extra], env=env, cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    took = time.perf_counter() - started
    if r.returncode != 0:
        raise SystemExit(f"the seed check failed (exit {r.returncode}): {r.stderr.strip()}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}")
    scratch = Path(tempfile.mkdtemp(prefix="seed-bench-"))
    env = {**os.environ, "SPECMC_NATIVE_CACHE": str(scratch / "native"), "SPECMC_CACHE": str(scratch / "v"),
           "SPECMC_CERTIFICATES": str(scratch / "c"), "PYTHONPYCACHEPREFIX": str(scratch / "pyc")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    rows: list[tuple[str, list[float]]] = []
    cold = []
    for _ in range(args.repeat):
        for sub in ("native", "v", "c", "pyc"):
            shutil.rmtree(scratch / sub, ignore_errors=True)
        cold.append(run(env))
    rows.append(("cold (empty caches, no bytecode)", cold))
    rows.append(("warm", [run(env) for _ in range(args.repeat)]))
    rows.append(("warm, --engine explicit", [run(env, "--engine", "explicit") for _ in range(args.repeat)]))
    print("\n| run | median s | min s | max s |\n| --- | --- | --- | --- |")
    for name, times in rows:
        print(f"| {name} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} |")
    r = subprocess.run([sys.executable, "-c", PHASES], env=env, cwd=ROOT, capture_output=True, text=True,
                       timeout=600, check=True)
    imports, loading, deps, search = (float(x) for x in r.stdout.split())
    print(f"\nphases of one warm run in process: imports {imports:.2f} s, model {loading:.2f} s, "
          f"dependencies {deps:.2f} s, search and trace {search:.2f} s")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
