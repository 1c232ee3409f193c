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


def test_an_exception_without_sigint_is_still_an_internal_error(monkeypatch, helper_handler):
    def engine(*_args, **_kwargs):
        raise ctypes.ArgumentError("argument 1: TypeError: wrong type")

    sent = _run_worker(monkeypatch, engine)
    assert sent[0][0] == "internal" and "ArgumentError" in sent[0][2], sent
