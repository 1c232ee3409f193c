"""The spec hazard in sec-weakref-execution step 1.b: the literal reading lets a registry keep a
cell whose target is reclaimed; the step reworded as meant does not.

The literal reading is what the embedded plan records (VIOLATED). The reworded text is made
here, by the test, from the project's rendition with exactly that one step replaced."""

from __future__ import annotations

import os

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import explore
from specmc.model.hosts import load_host
from specmc.proofs.engines import explicit
from specmc.proofs.properties import CATALOGUE
from specmc.proofs.run.job import Job, load
from specmc.spec.load import EMBEDDED, load_text

IND = " " * 10
LITERAL = "\n".join([
    IND + "1. For each FinalizationRegistry _fg_ such that _fg_.[[Cells]] contains a Record _cell_ "
          "such that _cell_.[[WeakRefTarget]] is _value_, do",
    IND + "  1. Set _cell_.[[WeakRefTarget]] to ~empty~.",
    IND + "  1. Optionally, perform HostEnqueueFinalizationRegistryCleanupJob(_fg_)."])
MEANT = "\n".join([
    IND + "1. For each FinalizationRegistry _fg_ such that _fg_.[[Cells]] contains a Record _r_ "
          "such that _r_.[[WeakRefTarget]] is _value_, do",
    IND + "  1. For each element _cell_ of _fg_.[[Cells]], do",
    IND + "    1. If _cell_.[[WeakRefTarget]] is _value_, set _cell_.[[WeakRefTarget]] to ~empty~.",
    IND + "  1. Optionally, perform HostEnqueueFinalizationRegistryCleanupJob(_fg_)."])
BOUNDS = Bounds(objects=2, cells=2, frames=3)  # the smallest bounds at which the hazard exists
PROP = CATALOGUE["no-dangling-cell"]


def _program(text: str):
    return build(load_text("finreg.html", text), load_host("ecma262"), BOUNDS)


@pytest.fixture(scope="module")
def texts():
    text = EMBEDDED.read_text(encoding="utf-8")
    assert text.count(LITERAL) == 1
    return text, text.replace(LITERAL, MEANT)


@pytest.fixture(scope="module")
def literal(texts):
    program = _program(texts[0])
    return program, explore(program, {"p": lambda S: PROP.holds(program, S)}, 10_000)


@pytest.mark.slow
def test_literal_reading_violates_no_dangling_cell(literal):
    program, r = literal
    path = r.violations["p"]
    assert len(path) - 1 == 53  # transitions after the initial state
    steps = [(c.clause, c.step.number) for c, _ in path[1:] if c.step is not None]
    assert ("sec-weakref-execution", "1.b") in steps  # the witness binding of step 1.b is on the path


@pytest.mark.slow
def test_reworded_step_removes_the_counterexample(texts, literal):
    """Every state the literal text reaches within 53 transitions is explored for the reworded text
    too, with no violation. (The exhaustive proof at these bounds, 3,096,012 states, is the long
    test below: see docs/findings.md, "Spec hazards".)"""
    program = _program(texts[1])
    r = explore(program, {"p": lambda S: PROP.holds(program, S)}, 53, max_states=literal[1].states)
    assert "p" not in r.violations
    assert r.states >= literal[1].states * 0.9


@pytest.mark.skipif(os.environ.get("SPECMC_LONG_TESTS") != "1",
                    reason="about 7 minutes and 6 GB: set SPECMC_LONG_TESTS=1 (docs/findings.md)")
def test_reworded_step_is_proved_at_the_hazard_bounds(texts, tmp_path):
    """The whole proof: every state the reworded text reaches at the hazard's bounds, written as a
    certificate and re-checked by fresh solvers. Measured: 3,096,012 states, 26,772 diagram nodes,
    400 s and 5.8 GB on the machine of docs/findings.md; too long for the default suite."""
    spec = tmp_path / "meant.html"
    spec.write_text(texts[1], encoding="utf-8")
    job = load(Job((str(spec),), "ecma262", BOUNDS, (PROP.id,), certificates=str(tmp_path / "certs")))
    got: list = []
    explicit.run(job, got.append)
    assert [(o.property, o.verdict) for o in got] == [(PROP.id, "PROVED")], got
    assert got[0].certificate
