"""`specmc review` and `specmc mutate`: what a change to the text did, and what a change the
properties do not notice would do."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from specmc.proofs import exitcodes
from specmc.proofs.commands.arguments import check_store, find_plan, host_arg
from specmc.proofs.progress import Printer

# the formats a review is written in, and each one's file name extension under --out DIR


def run_review(args: argparse.Namespace) -> int:
    """The review in each format asked for; the exit code is the review's own (Review.exit_code)."""
    from specmc.proofs.output import write_out
    from specmc.proofs.report.formats import REVIEW_FORMATS
    from specmc.proofs.report.review import render
    from specmc.proofs.review.review import review
    from specmc.proofs.run.check import Overrides
    from specmc.proofs.run.plan import load_plan

    plan = load_plan(find_plan(args.plan))
    hosts = tuple(host_arg(h) for h in args.host)
    over = Overrides((), hosts, tuple(args.property), args.engine, args.bounds, None, args.timeout)

    progress = Printer(quiet=args.quiet)
    disk = None
    if not args.no_cache:
        from specmc.proofs.run.cache import VerdictCache, default_cache

        folder = args.cache or default_cache()
        check_store("--cache", folder)
        disk = VerdictCache(folder)
        if disk.refused:
            progress(f"specmc: {disk.refused}; verdicts are decided anew")
    with progress:
        result = review(args.base, args.head, plan, over, args.repo, args.certificates, progress,
                        strict=args.strict, disk=disk)
    if disk is not None and disk.hits:
        progress(f"{disk.hits} verdict(s) from the cache in {disk.folder} (--no-cache decides them anew)")
    if disk is not None and disk.unwritable:
        progress(f"specmc: warning: {disk.unwritable}")
    if len(args.format) > 1:
        for fmt in args.format:
            write_out(Path(args.out) / f"review.{REVIEW_FORMATS[fmt]}", render(result, fmt))
    elif args.out:
        write_out(args.out, render(result, args.format[0]))
    else:
        sys.stdout.write(render(result, args.format[0]))
    for v in result.internal_errors():
        print(f"specmc: {v.host} / {v.property}: {(v.head.reason or v.base.reason)}", file=sys.stderr)
    for h in result.hand_changed:  # a warning unless --strict made it a finding
        print(f"specmc: {'error' if args.strict else 'warning'}: {h.message()}", file=sys.stderr)
    return result.exit_code()


def run_mutate(args: argparse.Namespace) -> int:
    """Every mutant run against the properties; exit 1 when the score is below --min-score."""
    import json

    from specmc.model.bounds import parse_bounds
    from specmc.model.hosts import load_host
    from specmc.proofs.output import write_out
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
                         args.workers or None, progress=lambda m: print(m, file=sys.stderr, flush=True),
                         clauses=tuple(dict.fromkeys(args.clause)))
    if args.format == "json":
        out = json.dumps(summary.to_json(), indent=2) + "\n"
    else:
        out = mutate.text_report(summary)
    if args.out:
        write_out(args.out, out)
    else:
        sys.stdout.write(out)
    if summary.count(mutate.ERROR):
        print(f"specmc: internal error on {summary.count(mutate.ERROR)} mutant(s); see the report",
              file=sys.stderr)
        return exitcodes.INTERNAL_ERROR
    if summary.score is not None and summary.score < args.min_score:
        return exitcodes.FINDING
    if summary.score is None and args.min_score > 0:
        # nothing counted (every mutant equivalent, invalid or of the same behaviour): a gate that
        # measured nothing has not passed (fourth review)
        print("specmc: no mutant counted towards the score, so --min-score was not met or missed: "
              "not checked", file=sys.stderr)
        return exitcodes.NOT_CHECKED
    return exitcodes.OK
