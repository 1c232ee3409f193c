"""proofs/engines/portfolio.py: how an engine process's end is reported."""

from __future__ import annotations

import ctypes
import signal
import types

import pytest
from specmc.proofs.engines import portfolio
from specmc.proofs.exitcodes import INTERRUPTED
from specmc.proofs.run import job as jobmod


class _Conn:
    def __init__(self) -> None:
        self.sent: list = []

    def send(self, msg) -> None:
        self.sent.append(msg[1])

    def close(self) -> None:
        pass


def _run_worker(monkeypatch, engine) -> list:
    monkeypatch.setattr(jobmod, "load", lambda job: types.SimpleNamespace(program=None, properties=()))
    monkeypatch.setattr(portfolio, "_engine", lambda name: engine)
    conn = _Conn()
    portfolio._worker("explicit", None, conn)
    return conn.sent


@pytest.fixture
def helper_handler():
    """The handler proofs/cli.py installs in a forked engine process: SIGINT leaves with SystemExit."""

    def handler(_signum, _frame):
        raise SystemExit(INTERRUPTED)

    previous = signal.signal(signal.SIGINT, handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_sigint_in_a_ctypes_argument_conversion_is_a_stop_not_an_internal_error(monkeypatch, helper_handler):
    """CI caught this: SIGINT arrived while slice.py walked a term through Z3's C interface, and
    ctypes turned the handler's SystemExit into ArgumentError('argument 1: SystemExit: 130'),
    which the worker reported as an engine bug with a traceback."""

    class Arg:
        @classmethod
        def from_param(cls, _value):
            signal.raise_signal(signal.SIGINT)
            return 0

    labs = ctypes.CDLL(None).labs
    labs.argtypes = [Arg]

    def engine(*_args, **_kwargs):
        labs(1)

    sent = _run_worker(monkeypatch, engine)
    assert sent[0] == ("stopped", "explicit", "was interrupted (SIGINT)"), sent
    assert not any(m[0] == "internal" for m in sent)


def test_an_engine_whose_parent_is_already_gone_ends_at_once():
    """`_die_with_parent` asks the kernel for SIGKILL when the parent ends, then looks whether the
    parent ended before that: a process whose parent is not the one named ends with 137."""
    import multiprocessing as mp
    import os
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux's")
    proc = mp.get_context("fork").Process(target=portfolio._die_with_parent, args=(os.getpid(),))
    proc.start()
    proc.join(timeout=60)
    assert proc.exitcode == 0  # its parent is there: it goes on (here: returns, and ends normally)
    other = 1 if os.getpid() != 1 else 2
    proc = mp.get_context("fork").Process(target=portfolio._die_with_parent, args=(other,))
    proc.start()
    proc.join(timeout=60)
    assert proc.exitcode == 128 + signal.SIGKILL


def test_an_exception_without_sigint_is_still_an_internal_error(monkeypatch, helper_handler):
    def engine(*_args, **_kwargs):
        raise ctypes.ArgumentError("argument 1: TypeError: wrong type")

    sent = _run_worker(monkeypatch, engine)
    assert sent[0][0] == "internal" and "ArgumentError" in sent[0][2], sent


def _killed_by(monkeypatch, sig: int) -> dict:
    """The portfolio's outcome when its one engine process dies of `sig` (the forked child runs
    the monkeypatched engine)."""
    import os

    from specmc.model.bounds import Bounds
    from specmc.proofs.run.job import Job

    def engine(*_args, **_kwargs):
        os.kill(os.getpid(), sig)

    monkeypatch.setattr(jobmod, "load", lambda job: types.SimpleNamespace(program=None, properties=()))
    monkeypatch.setattr(portfolio, "_engine", lambda name: engine)
    job = Job(("embedded",), "ecma262", Bounds(), ("p",), timeout=60.0)
    return portfolio.run(job, ("p",), ("explicit",))


def test_an_engine_the_kernel_kills_is_unknown_for_lack_of_memory_not_an_internal_error(monkeypatch):
    """SIGKILL is what the out-of-memory killer sends (an independent review ran a WeakMap model
    into it: 'internal error ... ended without a result', exit 3). specmc sends it to no running
    engine, so it is a resource limit: UNKNOWN, saying so, with no 'internal error'."""
    o = _killed_by(monkeypatch, signal.SIGKILL)["p"]
    assert o.verdict == "UNKNOWN"
    assert "killed by SIGKILL" in o.reason and "out-of-memory" in o.reason
    assert not o.reason.startswith("internal error")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_an_engine_sent_sigterm_alone_was_stopped_not_an_internal_error(monkeypatch, sig):
    """SIGTERM ends an engine process at once (proofs/cli.py leaves the forked processes the
    default action): stopped from outside, as by a SIGINT to it alone, not an engine bug."""
    o = _killed_by(monkeypatch, sig)["p"]
    assert o.verdict == "UNKNOWN"
    assert o.reason == f"the explicit engine was stopped by {signal.Signals(sig).name}"


def test_an_engine_that_crashes_is_an_internal_error_naming_the_signal(monkeypatch):
    o = _killed_by(monkeypatch, signal.SIGSEGV)["p"]
    assert o.reason == "internal error: explicit: the engine process was killed by SIGSEGV"


def test_a_promise_the_host_does_not_make_is_not_applicable_even_when_the_time_runs_out_first(monkeypatch):
    """eventually-delivered under ecma262 (`delivery: optional`) is NOT APPLICABLE from the profile's
    header alone. With a time limit no engine can build the model in (every engine made to hang
    before it reports), it used to be UNKNOWN (time limit); the other property asked stays UNKNOWN."""
    import time

    from specmc.model.bounds import Bounds

    monkeypatch.setattr(jobmod, "load", lambda job: time.sleep(60))
    job = jobmod.Job(("embedded",), "ecma262", Bounds(), (), timeout=0.5)
    out = portfolio.run(job, ("eventually-delivered", "held-value-once"), ("explicit", "kind"))
    assert out["eventually-delivered"].label == "NOT APPLICABLE", out["eventually-delivered"]
    assert "optional" in out["eventually-delivered"].method
    assert out["held-value-once"].verdict == "UNKNOWN" and "time limit" in out["held-value-once"].reason
    promised = portfolio.run(jobmod.Job(("embedded",), "v8", Bounds(), (), timeout=0.5),
                             ("eventually-delivered",), ("explicit",))
    assert promised["eventually-delivered"].verdict == "UNKNOWN"  # v8 promises delivery: searched, cut


def test_a_stop_whose_keyboard_interrupt_was_dropped_still_stops_the_portfolio(monkeypatch):
    """A signal landing in an at-fork callback (the parent's side of starting an engine) raised
    a KeyboardInterrupt that Python dropped; with the whole group signalled the run went on with
    its next tasks. proofs/stopping.py keeps the signal; the portfolio's loop raises it again."""
    from specmc.model.bounds import Bounds
    from specmc.proofs import stopping

    monkeypatch.setattr(stopping, "came", [signal.SIGTERM])
    job = jobmod.Job(("embedded",), "ecma262", Bounds(), ("p",), timeout=60.0)
    with pytest.raises(KeyboardInterrupt):
        portfolio.run(job, ("p",), ("explicit",))


def test_a_proof_that_measured_no_cut_waits_for_the_search_that_does(monkeypatch):
    """Review 7, F2: kind proved a text that appends a cell twice first, "bounds not measured", and
    the row passed (exit 0); where explicit answered first it was undecided (exit 4). A PROVED that
    would pass waits for a running explicit search, and carries the cuts that search met."""
    import time

    from specmc.model.bounds import Bounds
    from specmc.proofs.run.job import Job
    from specmc.proofs.verdict import PROVED, Outcome

    def engine_for(name):
        def engine(_loaded, report, **_kwargs):
            if name == "kind":
                report(Outcome("p", PROVED, "kind", method="k-induction, k=1"))
            else:
                time.sleep(1.0)
                report(Outcome("p", PROVED, "explicit", method="reachable set", cover_reached=None,
                               bounds_hit=(("cells-once", 3),)))
        return engine

    from specmc.proofs import properties

    # (a property without a cover, as a properties file may give: its kind PROVED passes on its own)
    bare = properties.Property("p", "x", "x", lambda prog, S: S.d.true())
    monkeypatch.setitem(properties._CATALOGUE, "p", bare)
    monkeypatch.setattr(jobmod, "load", lambda job: types.SimpleNamespace(program=None, properties=()))
    monkeypatch.setattr(portfolio, "_engine", engine_for)
    job = Job(("embedded",), "ecma262", Bounds(), ("p",), timeout=60.0)
    o = portfolio.run(job, ("p",), ("explicit", "kind"))["p"]
    assert o.engine == "kind" and o.verdict == PROVED and o.bounds_hit == (("cells-once", 3),)
    assert o.cut_by_text
