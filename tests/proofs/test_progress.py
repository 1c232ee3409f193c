"""Progress on stderr: lines always (unless --quiet), statuses only on a terminal."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from specmc.proofs.progress import Printer, Status, prefixed

from tests.conftest import ROOT


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_statuses_only_on_a_terminal_and_lines_always():
    log = io.StringIO()
    with Printer(stream=log) as p:
        p("[run] at objects=2")
        p(Status("explicit: 40,000 states"))
    assert log.getvalue() == "[run] at objects=2\n"
    tty = Terminal()
    with Printer(stream=tty) as p:
        p(Status("explicit: 40,000 states"))
        p("held-value-once: PROVED")
    assert "held-value-once: PROVED" in tty.getvalue()
    quiet = Terminal()
    with Printer(quiet=True, stream=quiet) as p:
        p("a line")
        p(Status("a status"))
    assert quiet.getvalue() == ""
    assert isinstance(prefixed("  ", Status("x")), Status) and not isinstance(prefixed("  ", "x"), Status)


@pytest.mark.slow
def test_quiet_check_prints_nothing_but_the_report(tmp_path):
    args = ["check", "--host", "ecma262", "--property", "held-value-once", "--bounds", "objects=1,frames=3",
            "--engine", "explicit", "--quiet", "--certificates", str(tmp_path)]
    r = subprocess.run([sys.executable, "-m", "specmc.proofs", *args], capture_output=True, text=True,
                       cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "" and "held-value-once" in r.stdout
