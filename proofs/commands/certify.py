"""`specmc recheck`: certificate files re-checked alone, with fresh solvers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from specmc.proofs import exitcodes


def run_recheck(args: argparse.Namespace) -> int:
    """One line per certificate on stdout. Exit 0 when every one is accepted, 2 when any cannot
    be read as a certificate (corrupted, truncated, not the format), else 1 when any is refused
    (tampered, foreign, or an obligation fails)."""
    from specmc.proofs.certify.certificate import recheck_file
    from specmc.proofs.certify.fileformat import CertificateError, Unreadable

    paths: list[Path] = []
    for given in args.paths:
        p = Path(given)
        found = sorted(p.glob("*.smt2.gz")) if p.is_dir() else [p]
        if not found:  # a folder with nothing to check used to pass, printing nothing
            print(f"specmc: {given}: no certificate (*.smt2.gz) in this folder", file=sys.stderr)
            return exitcodes.INPUT_ERROR
        paths += found
    worst = exitcodes.OK
    for p in paths:
        try:
            done = recheck_file(p, timeout_s=args.timeout, against=args.against,
                                properties_files=tuple(str(Path(f).resolve()) for f in args.properties_file))
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
