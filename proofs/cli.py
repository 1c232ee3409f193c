"""The `specmc` command line: one subcommand per workflow, one exit-code table.

Bad input ends as located diagnostics on stderr and exit 2; an unexpected
exception is reported as an internal error (exit 3), never as a finding; Ctrl-C
ends with one line and exit 130. Arguments are checked before any work starts
(numbers finite and in range, outputs writable), so that a mistake costs seconds,
not a finished run whose report cannot be written.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from specmc.proofs import exitcodes
from specmc.proofs.plan import ENGINES
from specmc.proofs.progress import Printer
from specmc.spec import diagnostics as diag
from specmc.spec.diagnostics import SpecError


class _Parser(argparse.ArgumentParser):
    """argparse's own error prints the whole usage first (five lines for `check`), which buries
    the one line that says what is wrong; here that line comes alone, with where to find the rest.
    Subparsers are made of the same class, so every subcommand behaves alike."""

    def error(self, message: str) -> NoReturn:
        self.exit(exitcodes.INPUT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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
    ex.add_argument("--spec", metavar="PATH", help="spec text (default: the embedded rendition)")
    ex.add_argument("--host", action="append", default=[], metavar="H",
                    help="host profile name or file (repeatable; default: every shipped profile)")
    ex.add_argument("--property", action="append", default=[], metavar="P",
                    help="property id (repeatable; default: the whole catalogue)")
    ex.add_argument("--properties-file", action="append", default=[], metavar="FILE",
                    help="a Python file that registers more properties")
    ex.add_argument("--bounds", default="", metavar="K=V,...", help="objects, cells, frames, jobs, steps")
    ex.add_argument("--max-states", type=int, default=2_000_000)
    ex.add_argument("--format", choices=("text", "json"), default="text")

    mu = sub.add_parser("mutate", help="mutation adequacy: which property kills each semantic change "
                                       "to the text's steps, and which changes no property notices")
    mu.add_argument("--spec", metavar="PATH", help="spec text, one file (default: the embedded rendition)")
    mu.add_argument("--host", action="append", default=[], metavar="H",
                    help="host profile name or file (repeatable; default: ecma262, the spec's own host)")
    mu.add_argument("--bounds", default="", metavar="K=V,...", help="objects, cells, frames, jobs, steps")
    mu.add_argument("--operator", action="append", default=[], metavar="OP",
                    help="only these mutation operators (repeatable): delete, negate, drop-abrupt, "
                         "propagate, mandatory, impossible, swap")
    mu.add_argument("--clause", action="append", default=[], metavar="ID",
                    help="only mutants of steps in these clauses (repeatable)")
    mu.add_argument("--properties-file", action="append", default=[], metavar="FILE",
                    help="a Python file that registers more properties (they may kill mutants too)")
    mu.add_argument("--max-states", type=int, default=2_000_000)
    mu.add_argument("--workers", type=int, default=0, help="mutants run side by side (default: one per core)")
    mu.add_argument("--min-score", type=float, default=0.0,
                    help="exit 1 when the share of counted mutants killed is below this (0 to 1)")
    mu.add_argument("--format", choices=("text", "json"), default="text")
    mu.add_argument("--out", metavar="FILE", help="write the report here (atomically) instead of stdout")

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
    ck.add_argument("--bounds", metavar="K=V,...",
                    help="override bounds (objects, cells, frames, jobs, steps)")
    ck.add_argument("--depth", type=int, metavar="N", help="BMC / k-induction depth limit")
    ck.add_argument("--timeout", type=float, metavar="S", help="seconds per host and run")
    ck.add_argument("--format", choices=("text", "json", "junit", "sarif", "markdown", "html"),
                    default="text")
    ck.add_argument("--out", metavar="FILE",
                    help="write the report here (atomically) instead of stdout; with --format html, a "
                         "folder that gets index.html and one trace-N.json per counterexample")
    ck.add_argument("--quiet", action="store_true", help="no progress on stderr (errors still go there)")
    ck.add_argument("--certificates", default="", metavar="DIR",
                    help="where proof certificates are written (default: $SPECMC_CERTIFICATES, else "
                         "~/.cache/specmc/certificates)")

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
    wt.add_argument("--bounds", metavar="K=V,...", help="override the run's bounds")
    wt.add_argument("--timeout", type=float, metavar="S", help="seconds for the search")
    wt.add_argument("--out", metavar="FILE", help="write the program here (atomically) instead of stdout")
    wt.add_argument("--certificates", default="", metavar="DIR",
                    help="where proof certificates go if the property turns out to hold")

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
    rv.add_argument("--bounds", metavar="K=V,...", help="override bounds for every run")
    rv.add_argument("--timeout", type=float, metavar="S", help="seconds per host and run")
    rv.add_argument("--format", type=_review_formats, default=("text",), metavar="F[,F...]",
                    help=f"one or more of {', '.join(REVIEW_FORMATS)}; several need --out DIR, which "
                         "gets review.<ext> for each")
    rv.add_argument("--out", metavar="FILE|DIR", help="write the report here (atomically) instead of stdout")
    rv.add_argument("--certificates", default="", metavar="DIR",
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

    rp = sub.add_parser("replay", help="run a JavaScript witness on a real engine and classify the outcome")
    rp.add_argument("witness", metavar="WITNESS.js")
    rp.add_argument("--on", required=True, metavar="ENGINE", dest="engine",
                    help="node, quickjs-ng@VERSION or quickjs-ng-wasm@VERSION")
    rp.add_argument("--timeout", metavar="S",
                    help="seconds the run may take (default 60; an install is not counted)")
    rp.add_argument("--format", choices=("text", "json"), default="text")
    rp.add_argument("--engines-dir", metavar="DIR",
                    help="engine cache (default: $SPECMC_ENGINES, else ~/.cache/specmc/engines)")
    return p


def _files(given: list[str]) -> tuple[str, ...]:
    """Paths from the command line, absolute (engines may run in another folder)."""
    return tuple(str(Path(f).resolve()) for f in given)


def _find_plan(given: str | None) -> str | None:
    import tomllib
    from pathlib import Path

    if given:
        return given
    if Path("specmc.toml").is_file():
        return "specmc.toml"
    py = Path("pyproject.toml")
    if py.is_file():
        try:
            if "specmc" in tomllib.loads(py.read_text(encoding="utf-8")).get("tool", {}):
                return str(py)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return None
    return None


def _number_error(option: str, want: str, value: object) -> SpecError:
    return SpecError([diag.make("E075", key=option, want=want, value=value)])


def _check_numbers(args: argparse.Namespace) -> None:
    """Numbers argparse accepts but no run can use: `--timeout nan` compares false with
    everything, so it slipped past `<= 0` and no deadline ever came; `inf` is no limit at all;
    `--depth 0` checks no transition."""
    from specmc.proofs.plan import DEPTH_WANT, MIN_DEPTH, TIMEOUT_WANT

    depth = getattr(args, "depth", None)
    if depth is not None and depth < MIN_DEPTH:
        raise _number_error("--depth", DEPTH_WANT, depth)
    timeout = getattr(args, "timeout", None)
    if isinstance(timeout, float) and not (math.isfinite(timeout) and timeout > 0):
        raise _number_error("--timeout", TIMEOUT_WANT, args.timeout)
    max_states = getattr(args, "max_states", None)
    if max_states is not None and max_states < 1:
        raise _number_error("--max-states", "a whole number, at least 1", max_states)
    top = getattr(args, "top", None)
    if top is not None and top < 0:
        raise _number_error("--top", "a whole number, at least 0", top)


def _nearest_existing(p: Path) -> Path:
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _unwritable(option: str, path: str, reason: str) -> SpecError:
    return SpecError([diag.make("E077", option=option, path=path, reason=reason)])


def _check_folder(option: str, given: str, folder: Path | None = None) -> None:
    """A folder that will be written to (created if missing): it, or the nearest folder above it
    that exists, must be a writable folder. Checked without creating anything, so that a run
    that fails here leaves no trace. `given` is the argument as typed, for the message."""
    p = folder if folder is not None else Path(given).absolute()
    if p.exists() and not p.is_dir():
        raise _unwritable(option, given, f"{p} is a file, not a folder")
    base = _nearest_existing(p)
    if not base.is_dir():
        raise _unwritable(option, given, f"{base} is a file, not a folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise _unwritable(option, given, f"the folder {base} is not writable")
    # os.access answers from permission bits, and root "may write" anywhere, /proc included: a file
    # is made there and removed at once (it has no name on Linux), so the answer is the system's
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=base):
            pass
    except OSError as e:
        raise _unwritable(option, given, f"the folder {base} cannot be written ({e.strerror or e})") from None


def _check_store(option: str, given: str) -> None:
    """A folder of files specmc derives (certificates, cached verdicts): created now and written to
    once, since asking the system whether it could be written is not enough (root may "write" to
    /proc, a read-only mount answers late); nothing of the user's is at stake in creating it."""
    import tempfile

    _check_folder(option, given)
    try:
        Path(given).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=given):
            pass
    except OSError as e:
        raise _unwritable(option, given, e.strerror or str(e)) from None


def _check_file(option: str, given: str) -> None:
    """A file that will be replaced atomically: not a folder, and its folder writable."""
    p = Path(given).absolute()
    if p.is_dir():
        raise _unwritable(option, given, f"{p} is a folder, not a file")
    _check_folder(option, given, p.parent)


REVIEW_FORMATS = {"text": "txt", "json": "json", "markdown": "md", "sarif": "sarif", "github": "github.txt"}


def _review_formats(text: str) -> tuple[str, ...]:
    """`markdown,github,sarif`: one review, written in each format (a PR comment, annotations and
    code scanning from one run)."""
    names = tuple(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))
    bad = [f for f in names if f not in REVIEW_FORMATS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown format {', '.join(bad) or repr(text)} (choose from "
                                         f"{', '.join(REVIEW_FORMATS)}, comma-separated)")
    return names


def _check_outputs(args: argparse.Namespace) -> None:
    """Every place this command will write, before any work starts: a report that cannot be
    written after an hour of checking, or a certificate folder that makes every engine fail, is
    input the user can fix in a second."""
    out = getattr(args, "out", None)
    fmt = getattr(args, "format", None)
    several = isinstance(fmt, tuple) and len(fmt) > 1
    if several and not out:
        raise SpecError([diag.make("E082", formats=",".join(fmt))])
    if out:
        if fmt == "html" or several:
            _check_folder("--out", out)
        else:
            _check_file("--out", out)
    certificates = getattr(args, "certificates", None)
    if certificates is not None:  # the default folder is checked too: a read-only home is input as well
        from specmc.proofs.job import default_certificates

        _check_store("--certificates", certificates or default_certificates())


def _host_arg(h: str) -> str:
    """A shipped profile's name stays a name; a profile file becomes an absolute path (engines run
    in other processes and other folders)."""
    return h if "/" not in h and not h.endswith(".html") else str(Path(h).resolve())


def _cmd_check(args: argparse.Namespace) -> int:
    from specmc.proofs.atomic import write_atomic
    from specmc.proofs.check import Overrides, check
    from specmc.proofs.plan import load_plan
    from specmc.proofs.report.check import render

    if args.format == "html" and not args.out:
        print("specmc: --format html writes a folder (index.html and the traces as JSON): "
              "give it with --out DIR", file=sys.stderr)
        return exitcodes.INPUT_ERROR
    if args.format == "html" and Path(args.out).exists() and not Path(args.out).is_dir():
        print(f"specmc: --out {args.out}: not a folder (--format html writes DIR/index.html)",
              file=sys.stderr)
        return exitcodes.INPUT_ERROR
    plan = load_plan(_find_plan(args.plan))
    specs = tuple(s if s == "embedded" else str(Path(s).resolve()) for s in args.spec)
    hosts = tuple(_host_arg(h) for h in args.host)
    over = Overrides(specs, hosts, tuple(args.property), args.engine, args.bounds, args.depth, args.timeout,
                     _files(args.properties_file))

    with Printer(quiet=args.quiet) as progress:
        report = check(plan, over, args.certificates, progress)
    internal = [r for r in report.rows if r.outcome.reason.startswith("internal error")]
    out = render(report, args.format)
    if args.format == "html":
        from specmc.proofs.report.html import trace_files

        for name, doc in trace_files(report).items():
            write_atomic(Path(args.out) / name, doc)
        write_atomic(Path(args.out) / "index.html", out)  # last: the page never links to a missing trace
    elif args.out:
        write_atomic(args.out, out)
    else:
        sys.stdout.write(out)
    for r in internal:
        print(f"specmc: {r.host} / {r.property}: {r.outcome.reason}", file=sys.stderr)
    if internal:
        return exitcodes.INTERNAL_ERROR
    if _unbuildable(report.rows):
        return exitcodes.INPUT_ERROR
    return exitcodes.OK if report.ok else exitcodes.FINDING


def _unbuildable(rows: Sequence[Any]) -> bool:
    """Print why a model could not be built or a user's predicate could not be read, once per
    reason; True if any row says so (bad input, exit 2, for check and witness alike)."""
    from specmc.proofs.engines.portfolio import UNBUILDABLE

    reasons = {r.outcome.reason for r in rows if r.outcome.reason.startswith(UNBUILDABLE)}
    for reason in sorted(reasons):
        detail = reason.removeprefix(f"{UNBUILDABLE}: ")
        # a user's predicate that raised is not a model that cannot be built: its own message says so
        print(f"specmc: {detail if ' error E079: ' in detail else reason}", file=sys.stderr)
    return bool(reasons)


def _cmd_witness(args: argparse.Namespace) -> int:
    from specmc.proofs.atomic import write_atomic
    from specmc.proofs.check import Overrides
    from specmc.proofs.plan import load_plan
    from specmc.proofs.witness.witness import WitnessError, witness_for

    plan = load_plan(_find_plan(args.plan))
    specs = tuple(s if s == "embedded" else str(Path(s).resolve()) for s in args.spec)
    over = Overrides(specs, (_host_arg(args.host),), (args.property,), args.engine, args.bounds, None,
                     args.timeout, _files(args.properties_file))
    try:
        found, row = witness_for(plan, over, args.certificates,
                                 lambda m: print(m, file=sys.stderr, flush=True))
    except WitnessError as e:
        print(f"specmc: cannot write this counterexample as JavaScript: {e}", file=sys.stderr)
        return exitcodes.INTERNAL_ERROR
    if found is None:
        if row is not None and _unbuildable([row]):
            return exitcodes.INPUT_ERROR
        verdict = row.outcome.verdict if row else "no result"
        print(f"specmc: no counterexample for {args.property} under {args.host}: {verdict}", file=sys.stderr)
        return exitcodes.FINDING
    if args.out:
        write_atomic(args.out, found.source)
        print(f"wrote {args.out}: {found.statements} statements from a {row.outcome.depth}-transition trace",
              file=sys.stderr)
    else:
        sys.stdout.write(found.source)
    return exitcodes.OK


def _cmd_review(args: argparse.Namespace) -> int:
    from specmc.proofs.atomic import write_atomic
    from specmc.proofs.check import Overrides
    from specmc.proofs.plan import load_plan
    from specmc.proofs.report.review import render
    from specmc.proofs.review.review import review

    plan = load_plan(_find_plan(args.plan))
    hosts = tuple(_host_arg(h) for h in args.host)
    over = Overrides((), hosts, tuple(args.property), args.engine, args.bounds, None, args.timeout)

    progress = Printer(quiet=args.quiet)
    disk = None
    if not args.no_cache:
        from specmc.proofs.cache import VerdictCache, default_cache

        folder = args.cache or default_cache()
        _check_store("--cache", folder)
        disk = VerdictCache(folder)
    with progress:
        result = review(args.base, args.head, plan, over, args.repo, args.certificates, progress,
                        strict=args.strict, disk=disk)
    if disk is not None and disk.hits:
        progress(f"{disk.hits} verdict(s) from the cache in {disk.folder} (--no-cache decides them anew)")
    if len(args.format) > 1:
        for fmt in args.format:
            write_atomic(Path(args.out) / f"review.{REVIEW_FORMATS[fmt]}", render(result, fmt))
    elif args.out:
        write_atomic(args.out, render(result, args.format[0]))
    else:
        sys.stdout.write(render(result, args.format[0]))
    for v in result.internal_errors():
        print(f"specmc: {v.host} / {v.property}: {(v.head.reason or v.base.reason)}", file=sys.stderr)
    for h in result.hand_changed:  # a warning unless --strict made it a finding
        print(f"specmc: {'error' if args.strict else 'warning'}: {h.message()}", file=sys.stderr)
    return result.exit_code()


def _cmd_replay(args: argparse.Namespace) -> int:
    from specmc.proofs.witness import replay as rp

    engine = rp.parse_engine(args.engine)
    timeout = rp.parse_timeout(args.timeout)
    witness = rp.read_witness(args.witness)
    engines_dir = Path(args.engines_dir).expanduser() if args.engines_dir else rp.default_engines_dir()
    try:
        result = rp.replay(engine, witness, timeout, engines_dir)
    except SpecError:
        raise
    except Exception as e:  # an engine that ran is always classified; anything else is our bug
        print(f"specmc: internal error while replaying on {engine.name}: {type(e).__name__}: {e}",
              file=sys.stderr)
        return exitcodes.INTERNAL_ERROR
    if args.format == "json":
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        sys.stdout.write(rp.render_text(result))
    return exitcodes.OK


def _cmd_recheck(args: argparse.Namespace) -> int:
    """One line per certificate on stdout. Exit 0 when every one is accepted, 2 when any cannot
    be read as a certificate (corrupted, truncated, not the format), else 1 when any is refused
    (tampered, foreign, or an obligation fails)."""
    from specmc.proofs.certify.certificate import CertificateError, Unreadable, recheck_file

    paths: list[Path] = []
    for given in args.paths:
        p = Path(given)
        paths += sorted(p.glob("*.smt2.gz")) if p.is_dir() else [p]
    worst = exitcodes.OK
    for p in paths:
        try:
            done = recheck_file(p, timeout_s=args.timeout, against=args.against)
        except Unreadable as e:
            worst = exitcodes.INPUT_ERROR
            print(f"{p}: REJECTED: {_one_line(e)}", flush=True)
        except CertificateError as e:
            worst = max(worst, exitcodes.FINDING)
            print(f"{p}: REJECTED: {_one_line(e)}", flush=True)
        else:
            print(f"{p}: OK ({done.summary()})", flush=True)
    return worst


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())[:400]


def _cmd_mutate(args: argparse.Namespace) -> int:
    import json

    from specmc.model.bounds import parse_bounds
    from specmc.model.hosts import load_host
    from specmc.proofs.atomic import write_atomic
    from specmc.proofs.properties.userfile import load_properties_file
    from specmc.proofs.review import mutate
    from specmc.spec.load import EMBEDDED

    bounds = parse_bounds(args.bounds)
    for f in args.properties_file:
        load_properties_file(f)
    unknown = [op for op in args.operator if op not in mutate.OPERATORS]
    if unknown:
        print(f"specmc: unknown mutation operator {unknown[0]!r}; the operators are: "
              f"{', '.join(mutate.OPERATORS)}", file=sys.stderr)
        return exitcodes.INPUT_ERROR
    if not 0.0 <= args.min_score <= 1.0:
        print(f"specmc: --min-score must lie between 0 and 1, not {args.min_score}", file=sys.stderr)
        return exitcodes.INPUT_ERROR
    hosts = tuple(load_host(h).path for h in (args.host or ["ecma262"]))  # validated before any work
    ops, clauses = set(args.operator), set(args.clause)

    def only(m: mutate.Mutant) -> bool:
        return (not ops or m.operator in ops) and (not clauses or m.clause in clauses)

    summary = mutate.run(str(args.spec or EMBEDDED), hosts, bounds, args.max_states, only,
                         args.workers or None, progress=lambda m: print(m, file=sys.stderr, flush=True))
    if args.format == "json":
        out = json.dumps(summary.to_json(), indent=2) + "\n"
    else:
        out = mutate.text_report(summary)
    if args.out:
        write_atomic(args.out, out)
    else:
        sys.stdout.write(out)
    if summary.count(mutate.ERROR):
        print(f"specmc: internal error on {summary.count(mutate.ERROR)} mutant(s); see the report",
              file=sys.stderr)
        return exitcodes.INTERNAL_ERROR
    if summary.score is not None and summary.score < args.min_score:
        return exitcodes.FINDING
    return exitcodes.OK


def _cmd_explore(args: argparse.Namespace) -> int:
    from specmc.model.bounds import parse_bounds
    from specmc.model.build import build
    from specmc.model.explore import explore
    from specmc.model.hosts import load_host, shipped
    from specmc.model.trace import build_trace
    from specmc.proofs.engines.explicit import COVER, bounds_hit
    from specmc.proofs.job import cover_predicate, predicate
    from specmc.proofs.properties import select
    from specmc.proofs.properties.userfile import load_properties_file
    from specmc.spec.load import EMBEDDED, load_specs

    bounds = parse_bounds(args.bounds)
    for f in args.properties_file:
        load_properties_file(f)
    props = select(args.property)
    hosts = [load_host(h) for h in (args.host or shipped())]
    spec = load_specs([args.spec or EMBEDDED])
    _warn(spec.warnings)
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
            if verdict == "UNKNOWN":
                entry["reason"] = (f"exploration cut at depth {bounds.steps} or "
                                   f"{args.max_states} states")
            results.append(entry)
    out = {"states": total, "bounds": bounds.describe(), "results": results}
    if args.format == "json":
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return exitcodes.OK
    print(f"bounds {bounds.describe()}; {total} states explored")
    for r in results:
        print(f"{r['label']:9} {r['host']:16} {r['property']}")
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


def _cmd_parse(args: argparse.Namespace) -> int:
    from specmc.spec.load import EMBEDDED, load_specs
    from specmc.spec.render import spec_json, spec_text

    spec = load_specs(args.paths or [EMBEDDED], args.clause)
    _warn(spec.warnings)
    if args.format == "json":
        print(json.dumps(spec_json(spec, args.ir), indent=2, ensure_ascii=False))
    else:
        print(spec_text(spec))
    return exitcodes.OK


def _cmd_coverage(args: argparse.Namespace) -> int:
    from specmc.spec.coverage import coverage
    from specmc.spec.load import load_specs

    spec = load_specs([args.path])
    _warn(spec.warnings)
    cov = coverage(spec, args.top)
    if args.format == "json":
        print(json.dumps(cov.to_json(), indent=2, ensure_ascii=False))
        return exitcodes.OK
    print(f"algorithms          {cov.algorithms}")
    print(f"steps               {cov.steps}")
    print(f"typed steps         {cov.typed_steps}  ({cov.share(cov.typed_steps):.1f}%)")
    print(f"fully parsed steps  {cov.fully_parsed_steps}  ({cov.share(cov.fully_parsed_steps):.1f}%)")
    if cov.unknown_forms:
        print("\nmost frequent unknown step forms:")
        for f in cov.unknown_forms:
            print(f"  {f.count:5}  {f.form}    e.g. {f.example}")
    if cov.opaque_forms:
        print("\nmost frequent unparsed operand forms (in typed steps):")
        for f in cov.opaque_forms:
            print(f"  {f.count:5}  {f.form}    e.g. {f.example}")
    return exitcodes.OK


def _warn(warnings: Sequence) -> None:
    for w in warnings:
        print(w.render(), file=sys.stderr)


_COMMANDS = {"parse": _cmd_parse, "coverage": _cmd_coverage, "explore": _cmd_explore, "check": _cmd_check,
             "replay": _cmd_replay, "review": _cmd_review, "witness": _cmd_witness, "recheck": _cmd_recheck,
             "mutate": _cmd_mutate}


def _on_sigint(main_pid: int, came: list[int]) -> Callable[[int, FrameType | None], Any] | int | None:
    """Ctrl-C reaches every process of the terminal's group: the engines and their helpers too.
    The main process turns it into KeyboardInterrupt (unwinding stops the engines and removes
    half-written files); a forked helper leaves with SystemExit, which multiprocessing ends
    quietly, where a KeyboardInterrupt would print its traceback from every process. `came`
    records the signal: raised inside a ctypes call's argument conversion (Z3's C interface),
    the KeyboardInterrupt reaches main() as ctypes.ArgumentError, and is still a Ctrl-C."""

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
        return None  # only the main thread may set handlers (main() called from a thread)
    return signal.signal(signal.SIGINT, handler)


def _interrupted() -> int:
    import multiprocessing

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the cleanup
    for child in multiprocessing.active_children():  # normally none left: the engines stop on unwinding
        child.kill()
        child.join(timeout=5)
    print("specmc: interrupted", file=sys.stderr)
    return exitcodes.INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    came: list[int] = []
    previous = _on_sigint(os.getpid(), came)
    try:
        args = _parser().parse_args(argv)
        if args.command != "replay":  # replay reads its own --timeout (a string; E093)
            _check_numbers(args)
        _check_outputs(args)
        return _COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return _interrupted()
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
            return _interrupted()
        raise
    finally:
        if previous is not None:  # main() called in-process (tests): leave the caller's handler
            signal.signal(signal.SIGINT, previous)


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
