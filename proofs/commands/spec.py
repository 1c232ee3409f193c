"""`specmc parse` and `specmc coverage`: what the spec reader makes of ecmarkup text."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from specmc.proofs import exitcodes


def run_parse(args: argparse.Namespace) -> int:
    """The algorithms of the files (or of the embedded rendition) as located IR, text or JSON."""
    from specmc.spec.load import EMBEDDED, load_specs
    from specmc.spec.render import spec_json, spec_text

    spec = load_specs(args.paths or [EMBEDDED], args.clause)
    warn(spec.warnings)
    if args.format == "json":
        print(json.dumps(spec_json(spec, args.ir), indent=2, ensure_ascii=False))
    else:
        print(spec_text(spec))
    return exitcodes.OK


def run_coverage(args: argparse.Namespace) -> int:
    """How many steps of a document the grammar types and parses, and the forms it does not."""
    from specmc.spec.coverage import coverage
    from specmc.spec.load import load_specs

    spec = load_specs([args.path])
    warn(spec.warnings)
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


def warn(warnings: Sequence) -> None:
    """The reader's warnings on stderr, one rendered diagnostic each; the command goes on."""
    for w in warnings:
        print(w.render(), file=sys.stderr)
