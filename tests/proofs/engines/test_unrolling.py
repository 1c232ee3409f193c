"""The engines' shared toolkit: a corrupted solver trace is refused by the replay as an internal
error, never reported as a counterexample."""

from __future__ import annotations

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.hosts import load_host
from specmc.proofs.engines.unrolling import ReplayError, replay
from specmc.spec.load import load_spec


def test_replay_refuses_a_trace_the_interpreter_cannot_follow():
    program = build(load_spec(), load_host("ecma262"), Bounds(objects=1))
    bogus = list(program.init)
    bogus[program.layout.where("err_uaf")[0]] = 1
    with pytest.raises(ReplayError):
        replay(program, [program.init, tuple(bogus)])
