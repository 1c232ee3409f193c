"""The `specmc` command line: it parses the arguments and dispatches; one exit-code table.

Each subcommand's body is in proofs/commands/, grouped by what it runs (spec, explore, check,
witness, review, certify); this module only builds the parser, checks the arguments every
command shares before any work starts (proofs/commands/arguments.py: numbers finite and in
range, outputs writable, so that a mistake costs seconds, not a finished run whose report
cannot be written), and turns what comes back into an exit code. Bad input ends as located
diagnostics on stderr and exit 2; an unexpected exception is reported as an internal error
(exit 3), never as a finding; Ctrl-C ends with one line and exit 130.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import fields
from types import FrameType
from typing import Any, NoReturn

from specmc.model.bounds import Bounds
from specmc.proofs import exitcodes, stopping
from specmc.proofs.commands import arguments, certify, check, explore, review, spec, witness
from specmc.proofs.output import guarded_stdout
from specmc.proofs.report.formats import CHECK_FORMATS, REVIEW_FORMATS
from specmc.proofs.run.plan import ENGINES
from specmc.spec.diagnostics import SpecError


class _Parser(argparse.ArgumentParser):
    """argparse's own error prints the whole usage first (five lines for `check`), which buries
    the one line that says what is wrong; here that line comes alone, with where to find the rest.
    Subparsers are made of the same class, so every subcommand behaves alike."""

    def error(self, message: str) -> NoReturn:
        self.exit(exitcodes.INPUT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Once(argparse.Action):
    """An option that takes one value: given twice, it is an error, not last-one-wins."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        if getattr(namespace, self.dest, None) is not None:
            parser.error(f"{option_string} takes one file and was given twice")
        setattr(namespace, self.dest, values)


class _Bounds(argparse.Action):
    """`--bounds` given more than once: the lists join, as if written as one, so a key in two of
    them is E054 like a key twice in one (the last one silently winning had checked a bound the
    user had not asked for, with nothing said)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        before = getattr(namespace, self.dest, None)
        setattr(namespace, self.dest, f"{before},{values}" if before else values)


_BOUNDS_HELP = (f"bounds, comma-separated K=V ({', '.join(f.name for f in fields(Bounds))}; repeatable, "
                "the lists join)")


def _version() -> str:
    """The installed distribution's version: one source of truth, pyproject.toml."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("specmc")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="specmc", description="Model checking for ECMAScript spec text.")
    p.add_argument("--version", action="version", version=f"specmc {_version()}")
    sub = p.add_subparsers(dest="command", required=True)

    parse = sub.add_parser("parse", help="print the algorithms of ecmarkup files as located IR")
    parse.add_argument("paths", nargs="*", metavar="PATH",
                       help="ecmarkup files or folders (default: the embedded rendition)")
    parse.add_argument("--clause", action="append", default=[], metavar="ID",
                       help="only this clause and the clauses nested in it (repeatable)")
    parse.add_argument("--format", choices=("text", "json"), default="text")
    parse.add_argument("--ir", action="store_true", help="include each step's IR in the JSON")

    cov = sub.add_parser("coverage", help="how much of a document the grammar understands")
    cov.add_argument("path", metavar="PATH")
    cov.add_argument("--format", choices=("text", "json"), default="text")
    cov.add_argument("--top", type=int, default=20, help="how many forms to list")
    ex = sub.add_parser("explore", help="explore every reachable state (reference interpreter, BFS)")
    ex.add_argument("--spec", action="append", default=[], metavar="PATH",
                    help="spec text (repeatable: the files are read together; 'embedded' is the "
                         "shipped rendition, the default)")
    ex.add_argument("--host", action="append", default=[], metavar="H",
                    help="host profile name or file (repeatable; default: every shipped profile)")
    ex.add_argument("--property", action="append", default=[], metavar="P",
                    help="property id (repeatable; default: the whole catalogue)")
    ex.add_argument("--properties-file", action="append", default=[], metavar="FILE",
                    help="a Python file that registers more properties")
    ex.add_argument("--bounds", default="", metavar="K=V,...", action=_Bounds, help=_BOUNDS_HELP)
    ex.add_argument("--max-states", type=int, default=2_000_000)
    ex.add_argument("--format", choices=("text", "json"), default="text")

    mu = sub.add_parser("mutate", help="mutation adequacy: which property kills each semantic change "
                                       "to the text's steps, and which changes no property notices")
    mu.add_argument("--spec", metavar="PATH", action=_Once,
                    help="spec text, one file (default: the embedded rendition)")
    mu.add_argument("--host", action="append", default=[], metavar="H",
                    help="host profile name or file (repeatable; default: ecma262, the spec's own host)")
    mu.add_argument("--bounds", default="", metavar="K=V,...", action=_Bounds, help=_BOUNDS_HELP)
    mu.add_argument("--operator", action="append", default=[], metavar="OP",
                    help="only these mutation operators (repeatable): delete, negate, drop-abrupt, "
                         "propagate, mandatory, impossible, swap")
    mu.add_argument("--clause", action="append", default=[], metavar="ID",
                    help="only mutants of steps in these clauses (repeatable)")
    mu.add_argument("--properties-file", action="append", default=[], metavar="FILE",
                    help="a Python file that registers more properties (they may kill mutants too)")
    mu.add_argument("--max-states", type=int, default=2_000_000)
    mu.add_argument("--workers", type=int, metavar="N",
                    help="mutants run side by side, at least 1 (default: one per core)")
    mu.add_argument("--min-score", type=float, default=0.0,
                    help="exit 1 when the share of counted mutants killed is below this (0 to 1)")
    mu.add_argument("--format", choices=("text", "json"), default="text")
    mu.add_argument("--out", metavar="FILE", help="write the report here (atomically) instead of stdout")
    mu.add_argument("--force", action="store_true",
                    help="let --out replace an existing file (never one the run reads)")

    ck = sub.add_parser("check", help="run a verification plan: every verdict against its expectation")
    ck.add_argument("--plan", metavar="FILE",
                    help="specmc.toml or pyproject.toml (default: ./specmc.toml, ./pyproject.toml with "
                         "[tool.specmc], else the embedded plan)")
    ck.add_argument("--spec", action="append", default=[], metavar="PATH",
                    help="spec text for every run (repeatable; 'embedded' is the shipped rendition)")
    ck.add_argument("--host", action="append", default=[], metavar="H", help="only these hosts (repeatable)")
    ck.add_argument("--property", action="append", default=[], metavar="P",
                    help="only these properties (repeatable)")
    ck.add_argument("--properties-file", action="append", default=[], metavar="FILE",
                    help="a Python file that registers more properties, for every run (repeatable)")
    ck.add_argument("--engine", choices=ENGINES)
    ck.add_argument("--bounds", metavar="K=V,...", action=_Bounds, help="override the plan's " + _BOUNDS_HELP)
    ck.add_argument("--depth", type=int, metavar="N", help="BMC / k-induction depth limit")
    ck.add_argument("--timeout", type=float, metavar="S", help="seconds per host and run")
    ck.add_argument("--format", choices=CHECK_FORMATS,
                    default="text")
    ck.add_argument("--out", metavar="FILE",
                    help="write the report here (atomically) instead of stdout; with --format html, a "
                         "folder that gets index.html and one trace-N.json per counterexample")
    ck.add_argument("--force", action="store_true",
                    help="let --out replace an existing file (never one the run reads)")
    ck.add_argument("--quiet", action="store_true", help="no progress on stderr (errors still go there)")
    ck.add_argument("--certificates", default=None, metavar="DIR",
                    help="where proof certificates are written (default: $SPECMC_CERTIFICATES, else "
                         "~/.cache/specmc/certificates)")
    ck.add_argument("--scheduler", metavar="ADDRESS",
                    help="run the plan's (run, host) tasks on the Dask scheduler at ADDRESS "
                         "(tcp://host:8786), or on a local Dask cluster with 'local' (needs "
                         "`pip install 'specmc[dask]'`; default: in this process)")

    wt = sub.add_parser("witness", help="the counterexample of one host x property as a JavaScript program")
    wt.add_argument("--plan", metavar="FILE", help="plan whose run for the host gives bounds and limits")
    wt.add_argument("--spec", action="append", default=[], metavar="PATH",
                    help="spec text (repeatable; default: the plan's)")
    wt.add_argument("--host", required=True, metavar="H", help="host profile name or file")
    wt.add_argument("--property", required=True, metavar="P", help="property id")
    wt.add_argument("--properties-file", action="append", default=[], metavar="FILE",
                    help="a Python file that registers more properties (repeatable)")
    wt.add_argument("--engine", choices=ENGINES, default="explicit",
                    help="engine that finds the counterexample (default: explicit, shortest first)")
    wt.add_argument("--bounds", metavar="K=V,...", action=_Bounds, help="override the run's " + _BOUNDS_HELP)
    wt.add_argument("--timeout", type=float, metavar="S", help="seconds for the search")
    wt.add_argument("--out", metavar="FILE", help="write the program here (atomically) instead of stdout")
    wt.add_argument("--force", action="store_true",
                    help="let --out replace an existing file (never one the run reads)")
    wt.add_argument("--certificates", default=None, metavar="DIR",
                    help="where proof certificates go if the property turns out to hold")
    wt.add_argument("--quiet", action="store_true", help="no progress on stderr (errors still go there)")

    rv = sub.add_parser("review", help="what a spec change did to the algorithms, the model and the verdicts")
    rv.add_argument("base", metavar="BASE", help="file, folder of clause files, or REV:path with --repo")
    rv.add_argument("head", metavar="HEAD", help="file, folder of clause files, or REV:path with --repo")
    rv.add_argument("--repo", metavar="PATH", help="git repository that BASE and HEAD name revisions of")
    rv.add_argument("--plan", metavar="FILE", help="the plan whose combinations are checked on both sides "
                                                   "(found as for check)")
    rv.add_argument("--host", action="append", default=[], metavar="H", help="only these hosts (repeatable)")
    rv.add_argument("--property", action="append", default=[], metavar="P",
                    help="only these properties (repeatable)")
    rv.add_argument("--engine", choices=ENGINES)
    rv.add_argument("--bounds", metavar="K=V,...", action=_Bounds,
                    help="override every run's " + _BOUNDS_HELP)
    rv.add_argument("--timeout", type=float, metavar="S", help="seconds per host and run")
    rv.add_argument("--format", type=_review_formats, default=("text",), metavar="F[,F...]",
                    help=f"one or more of {', '.join(REVIEW_FORMATS)}; several need --out DIR, which "
                         "gets review.<ext> for each")
    rv.add_argument("--out", metavar="FILE|DIR", help="write the report here (atomically) instead of stdout")
    rv.add_argument("--force", action="store_true",
                    help="let --out replace an existing file (never one the run reads)")
    rv.add_argument("--certificates", default=None, metavar="DIR",
                    help="where proof certificates are written")
    rv.add_argument("--cache", default="", metavar="DIR",
                    help="verdicts kept between reviews, by model digest (default: $SPECMC_CACHE, else "
                         "~/.cache/specmc/verdicts)")
    rv.add_argument("--no-cache", action="store_true", help="decide every verdict anew; keep nothing")
    rv.add_argument("--quiet", action="store_true", help="no progress on stderr (errors still go there)")
    rv.add_argument("--strict", action="store_true",
                    help="fail (exit 1) when a clause whose meaning the model builds in changed; "
                         "otherwise that is a warning")

    rc = sub.add_parser("recheck", help="re-check certificate files alone, with fresh solvers")
    rc.add_argument("paths", nargs="+", metavar="CERT",
                    help="certificate files (.smt2.gz), or folders of them")
    rc.add_argument("--against", action="store_true",
                    help="also rebuild the model from the spec, host profile and bounds the certificate "
                         "records, and require the same Init, T and property")
    rc.add_argument("--timeout", type=float, metavar="S", help="seconds per solver query (default: none)")
    rc.add_argument("--properties-file", action="append", default=[], metavar="FILE",
                    help="with --against: a Python file that defines a property the certificates name "
                         "(repeatable; the files a certificate records are never run)")

    rp = sub.add_parser("replay", help="run a JavaScript witness on a real engine and classify the outcome")
    rp.add_argument("witness", metavar="WITNESS.js")
    rp.add_argument("--on", required=True, metavar="ENGINE", dest="engine",
                    help="node, quickjs-ng@VERSION, quickjs-ng-wasm@VERSION or bun@VERSION")
    rp.add_argument("--timeout", metavar="S",
                    help="seconds the run may take (default 60; an install is not counted)")
    rp.add_argument("--format", choices=("text", "json"), default="text")
    rp.add_argument("--engines-dir", metavar="DIR",
                    help="engine cache (default: $SPECMC_ENGINES, else ~/.cache/specmc/engines)")
    return p


def _review_formats(text: str) -> tuple[str, ...]:
    """`markdown,github,sarif`: one review, written in each format (a PR comment, annotations and
    code scanning from one run)."""
    names = tuple(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))
    bad = [f for f in names if f not in REVIEW_FORMATS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown format {', '.join(bad) or repr(text)} (choose from "
                                         f"{', '.join(REVIEW_FORMATS)}, comma-separated)")
    return names


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "parse": spec.run_parse, "coverage": spec.run_coverage, "explore": explore.run_explore,
    "check": check.run_check, "replay": witness.run_replay, "review": review.run_review,
    "witness": witness.run_witness, "recheck": certify.run_recheck, "mutate": review.run_mutate}


# The signals that stop a run as Ctrl-C does: SIGTERM (`kill`, a service manager, a CI job's time
# limit) and SIGHUP (the terminal closed) used to end the main process at once and leave its
# engine processes searching, orphaned, up to --timeout (independent review, F5).
STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _on_sigint(main_pid: int, came: list[int]) -> dict[int, Any]:
    """Ctrl-C reaches every process of the terminal's group: the engines and their helpers too.
    The main process turns it into KeyboardInterrupt (unwinding stops the engines and removes
    half-written files); a forked helper leaves with SystemExit, which multiprocessing ends
    quietly, where a KeyboardInterrupt would print its traceback from every process. `came`
    records the signal: raised inside a ctypes call's argument conversion (Z3's C interface),
    the KeyboardInterrupt reaches main() as ctypes.ArgumentError, and is still a Ctrl-C.
    SIGTERM and SIGHUP are handled the same way (only the exit code and the message differ),
    unless they were ignored when specmc started (`nohup` ignores SIGHUP; that stays so).
    Returns the handlers replaced, per signal, for main() to put back."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        came.append(signum)
        # unwinding from the middle of a Z3 call can leave half-made objects whose finalizers
        # complain ("Exception ignored in ... __del__" with a traceback); nobody needs that now
        sys.unraisablehook = lambda _unraisable: None
        if os.getpid() != main_pid:
            raise SystemExit(exitcodes.INTERRUPTED)
        raise KeyboardInterrupt

    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}  # only the main thread may set handlers (main() called from a thread)
    handler.specmc_stops = True  # type: ignore[attr-defined]  (`_default_in_child` knows it so)
    previous: dict[int, Any] = {}
    for signum in STOPPING:
        if signum != signal.SIGINT and signal.getsignal(signum) == signal.SIG_IGN:
            continue
        previous[signum] = signal.signal(signum, handler)
    return previous


def _default_in_child() -> None:
    """In a forked process (an engine, a certificate check's or mutate's worker), SIGTERM and
    SIGHUP end it at once, as before specmc handled them: a Python handler runs only between two
    steps of the interpreter, so a process inside a long Z3 call would outlive a SIGTERM
    (multiprocessing's terminate(), which then waits for it) by as long as that call takes.
    Stopping the engines is the main process's task; a signal to the whole group reaches it too."""
    for signum in STOPPING[1:]:
        if getattr(signal.getsignal(signum), "specmc_stops", False):
            try:
                signal.signal(signum, signal.SIG_DFL)
            except ValueError:  # (not the main thread: cannot be)
                pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_default_in_child)


def _interrupted(came: list[int]) -> int:
    import multiprocessing

    for signum in STOPPING:  # a second signal must not interrupt the cleanup
        try:
            signal.signal(signum, signal.SIG_IGN)
        except ValueError:  # (main() called from a thread: no handler of ours is in place)
            pass
    for child in multiprocessing.active_children():  # normally none left: the engines stop on unwinding
        child.kill()
        child.join(timeout=5)
    signum = came[0] if came else signal.SIGINT
    try:
        print("specmc: interrupted" if signum == signal.SIGINT else
              f"specmc: stopped by {signal.Signals(signum).name}", file=sys.stderr)
    except OSError:  # (SIGHUP: the terminal may be gone)
        pass
    return 128 + signum


def main(argv: Sequence[str] | None = None) -> int:
    came = stopping.reset()
    previous = _on_sigint(os.getpid(), came)
    try:
        with guarded_stdout():  # a report stdout cannot take is E098, a reader that left ends it
            args = _parser().parse_args(argv)
            if args.command != "replay":  # replay reads its own --timeout (a string; E093)
                arguments.check_numbers(args)
            arguments.check_outputs(args)
            return _COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return _interrupted(came)
    except SpecError as e:
        for d in e.diagnostics:
            print(d.render(), file=sys.stderr)
        return exitcodes.INPUT_ERROR
    except BrokenPipeError:
        return exitcodes.OK
    except RecursionError:
        print("specmc: input nests too deeply to process", file=sys.stderr)
        return exitcodes.INPUT_ERROR
    except BaseException:
        if came:  # Ctrl-C, whatever its KeyboardInterrupt became on the way up
            return _interrupted(came)
        raise
    finally:
        for signum, handler in previous.items():  # main() called in-process (tests): leave the caller's
            signal.signal(signum, handler)
        stopping.reset()  # (and nothing that stops a later run in this process)


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
