"""The `specmc` command line: one subcommand per workflow, one exit-code table.

Bad input ends as located diagnostics on stderr and exit 2; an unexpected
exception is reported as an internal error (exit 3), never as a finding.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from proofs import exitcodes
from spec.diagnostics import SpecError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="specmc", description="Model checking for ECMAScript spec text.")
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
    return p


def _cmd_parse(args: argparse.Namespace) -> int:
    from spec.load import EMBEDDED, load_specs
    from spec.render import spec_json, spec_text

    spec = load_specs(args.paths or [EMBEDDED], args.clause)
    _warn(spec.warnings)
    if args.format == "json":
        print(json.dumps(spec_json(spec, args.ir), indent=2, ensure_ascii=False))
    else:
        print(spec_text(spec))
    return exitcodes.OK


def _cmd_coverage(args: argparse.Namespace) -> int:
    from spec.coverage import coverage
    from spec.load import load_specs

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


_COMMANDS = {"parse": _cmd_parse, "coverage": _cmd_coverage}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except SpecError as e:
        for d in e.diagnostics:
            print(d.render(), file=sys.stderr)
        return exitcodes.INPUT_ERROR
    except BrokenPipeError:
        return exitcodes.OK
    except RecursionError:
        print("specmc: input nests too deeply to process", file=sys.stderr)
        return exitcodes.INPUT_ERROR


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
