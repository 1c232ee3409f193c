"""`specmc witness` and `specmc replay`: a counterexample as a JavaScript program, and that
program run on a real engine."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from specmc.proofs import exitcodes
from specmc.proofs.commands.arguments import files, find_plan, host_arg
from specmc.proofs.commands.check import unbuildable
from specmc.proofs.progress import Printer
from specmc.spec.diagnostics import SpecError


def run_witness(args: argparse.Namespace) -> int:
    """The program on stdout or in --out; exit 1 when the property has no counterexample."""
    from specmc.proofs.output import write_out
    from specmc.proofs.run.check import Overrides
    from specmc.proofs.run.plan import load_plan
    from specmc.proofs.witness.witness import WitnessError, witness_for

    plan = load_plan(find_plan(args.plan))
    specs = tuple(s if s == "embedded" else str(Path(s).resolve()) for s in args.spec)
    over = Overrides(specs, (host_arg(args.host),), (args.property,), args.engine, args.bounds, None,
                     args.timeout, files(args.properties_file))
    try:
        with Printer(quiet=args.quiet) as progress:
            found, row, used = witness_for(plan, over, args.certificates, progress)
    except WitnessError as e:
        print(f"specmc: cannot write this counterexample as JavaScript: {e}", file=sys.stderr)
        return exitcodes.INTERNAL_ERROR
    if found is None:
        if row is not None and unbuildable([row]):
            return exitcodes.INPUT_ERROR
        # why there is none, as check's row says it: a cut search names its bound or limit
        why = "no result"
        if row is not None:
            o = row.outcome
            why = f"{o.label} at {row.bounds}" + (f" ({o.reason})" if o.reason else "")
        print(f"specmc: no counterexample for {args.property} under {args.host}: {why}"
              + (f" [{used}]" if used else ""), file=sys.stderr)
        return exitcodes.FINDING
    if args.out:
        write_out(args.out, found.source)
        if not args.quiet:
            print(f"wrote {args.out}: {found.statements} statements from a "
                  f"{row.outcome.depth}-transition trace" + (f" [{used}]" if used else ""), file=sys.stderr)
    else:
        sys.stdout.write(found.source)
    return exitcodes.OK


def run_replay(args: argparse.Namespace) -> int:
    """The witness run on one engine (installed on first use) and its outcome classified."""
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
