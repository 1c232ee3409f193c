"""`specmc recheck`: certificate files re-checked alone, with fresh solvers."""

from __future__ import annotations

import argparse
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
