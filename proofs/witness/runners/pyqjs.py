"""Evaluate a witness on the PyPI `quickjs-ng` engine; run with the interpreter of its venv.

usage: <venv>/bin/python pyqjs.py WITNESS.js [--max-jobs N]

The context has no print, console or gc of its own, so the runner supplies print, console
and gc() (a cycle collection, JS_RunGC, where the witness asks for one) and collects cycles
between jobs itself (a FinalizationRegistry cleanup for an object in a cycle only becomes due
after a cycle collection).

An exception that escapes a job (a cleanup callback that threw, as an engine reports it to
its host) is printed as `witness: uncaught <name>: <message>` and the jobs go on, as a host's
event loop would: one throwing callback must not hide what the engine does after it.

exit status: 0 drained and the witness set globalThis.witnessDone; 1 a JS exception
escaped the script's evaluation; 2 usage; 3 drained without witnessDone; 4 job bound
exhausted. A native crash of the engine shows as death by a signal.
"""

from __future__ import annotations

import sys

import quickjs  # type: ignore[import-not-found]  # only present in the engine's venv

DEFAULT_MAX_JOBS = 100_000


def _say(*parts: object) -> None:
    # Flushed per line: when the time limit kills us, what was printed must already be out.
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    sys.stdout.flush()


def _note(msg: str) -> None:
    print(f"pyqjs: {msg}", file=sys.stderr, flush=True)


def _first_line(e: Exception) -> str:
    """`Error: boom` of the engine's message, without the stack lines that follow it."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def main(argv: list[str]) -> int:
    max_jobs = DEFAULT_MAX_JOBS
    if "--max-jobs" in argv:
        at = argv.index("--max-jobs")
        try:
            max_jobs = int(argv[at + 1])
        except (IndexError, ValueError):
            print(__doc__, file=sys.stderr)
            return 2
        del argv[at:at + 2]
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        source = f.read()

    ctx = quickjs.Context()
    ctx.add_callable("print", _say)
    ctx.eval("globalThis.console = {log: print, error: print};")
    # gc() for a witness whose trace runs the cycle collector (QuickJS-NG's JS_RunGC, as its own
    # qjs's std.gc does); the witness's idle turns call it too
    ctx.add_callable("gc", lambda: ctx.gc())
    jobs = 0
    try:
        ctx.eval(source)
    except quickjs.JSException as e:  # StackOverflow is a subclass
        _note(f"JS exception in the script: {type(e).__name__}: {e}")
        return 1
    while True:
        ctx.gc()
        try:
            if not ctx.execute_pending_job():
                break
        except quickjs.JSException as e:  # the job ran and threw: report it, as a host does
            _say(f"witness: uncaught {_first_line(e)}")
            _note(f"JS exception in job {jobs + 1}, going on: {type(e).__name__}: {e}")
        jobs += 1
        if jobs >= max_jobs:
            _note(f"job bound {max_jobs} exhausted")
            return 4
    _note(f"queue drained after {jobs} jobs")
    if ctx.get("witnessDone") is not True:
        _note("the witness did not set globalThis.witnessDone = true")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
