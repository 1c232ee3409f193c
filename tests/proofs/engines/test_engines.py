"""Each engine end to end on small models: PDR's invariant becomes a certificate that re-checks,
k-induction proves what is inductive, BMC bounds what it cannot refute, the portfolio keeps the
first definite answer and a time limit is UNKNOWN, never PROVED."""

from __future__ import annotations

import pytest
from specmc.model.bounds import Bounds
from specmc.proofs.certify import certificate
from specmc.proofs.certify.fileformat import read
from specmc.proofs.engines import bmc, kind, pdr, portfolio
from specmc.proofs.properties import _CATALOGUE, Property, register
from specmc.proofs.run.job import Job, load

TINY = Bounds(objects=1, frames=2)
TEST_PROPS = (
    Property("test-queue-bounded", "the job queue never holds more than its bound", "test",
             lambda prog, S: S.d.le(S.get("qlen"), prog.layout.bounds.jobs)),
    Property("test-no-registry", "no FinalizationRegistry is ever allocated (false)", "test",
             lambda prog, S: S.d.and_(*[S.d.ne(S.get("obj_kind", i), 2)
                                        for i in range(prog.layout.bounds.objects)])),
)


@pytest.fixture(autouse=True)
def test_properties():
    for p in TEST_PROPS:
        register(p)
    yield
    for p in TEST_PROPS:
        _CATALOGUE.pop(p.id, None)


def _run(engine, job: Job):
    got = []
    engine(load(job), got.append)
    return {o.property: o for o in got}


def test_pdr_invariant_is_a_certificate_that_rechecks(tmp_path):
    job = Job(("embedded",), "ecma262", TINY, ("test-queue-bounded",), timeout=120,
              certificates=str(tmp_path))
    o = _run(pdr.run, job)["test-queue-bounded"]
    assert o.verdict == "PROVED" and o.engine == "pdr", o.reason
    loaded = load(job)
    p = loaded.properties[0]
    certificate.recheck(o.certificate, loaded.subject(p), loaded.program, p.holds)
    assert read(o.certificate)[0]["method"] == "pdr (Z3 Spacer)"


def test_kind_proves_an_inductive_property_and_bmc_only_bounds_it():
    job = Job(("embedded",), "ecma262", TINY, ("test-queue-bounded",), depth=4, timeout=120)
    k = _run(kind.run, job)["test-queue-bounded"]
    assert k.verdict == "PROVED" and "k-induction" in k.method
    b = _run(bmc.run, job)["test-queue-bounded"]
    assert b.verdict == "BOUNDED" and b.depth == 4


def test_bmc_and_kind_find_the_same_shortest_violation():
    job = Job(("embedded",), "ecma262", TINY, ("test-no-registry",), depth=8, timeout=120)
    b = _run(bmc.run, job)["test-no-registry"]
    k = _run(kind.run, job)["test-no-registry"]
    assert b.verdict == k.verdict == "VIOLATED"
    assert b.depth == k.depth == len(b.trace) - 1
    assert b.trace[-1]["stack"]  # a trace entry carries the stack


def test_portfolio_first_definite_answer_wins_and_stops_the_rest(tmp_path):
    job = Job(("embedded",), "ecma262", TINY, ("test-queue-bounded", "test-no-registry"), depth=30,
              timeout=300, certificates=str(tmp_path))
    out = portfolio.run(job, job.properties, ("explicit", "bmc"))
    assert out["test-queue-bounded"].verdict == "PROVED"  # bmc alone could only bound it
    assert out["test-no-registry"].verdict == "VIOLATED"
    import multiprocessing

    assert not multiprocessing.active_children()  # bmc (depth 30) was stopped, not left running


def test_time_limit_is_unknown_never_proved():
    job = Job(("embedded",), "ecma262", Bounds(objects=1, frames=3), ("spec-asserts",), timeout=3)
    out = portfolio.run(job, job.properties, ("pdr",))
    assert out["spec-asserts"].verdict == "UNKNOWN"
    assert "time limit" in out["spec-asserts"].reason


def test_an_engine_crash_is_an_internal_error_not_a_verdict(tmp_path):
    def broken(prog, S):
        raise RuntimeError("bug in a property")

    register(Property("test-broken", "raises", "test", broken))
    try:
        job = Job(("embedded",), "ecma262", TINY, ("test-broken",), timeout=60, certificates=str(tmp_path))
        out = portfolio.run(job, job.properties, ("explicit",))
    finally:
        _CATALOGUE.pop("test-broken", None)
    o = out["test-broken"]
    assert o.verdict == "UNKNOWN"
    assert o.reason.startswith("internal error") and "bug in a property" in o.reason


@pytest.mark.slow
def test_kind_proves_the_job_queue_fix_at_six_objects():
    """With mutator calls as families (model/program.py), the relation at 6 objects is small
    enough for k-induction: the fix is proved where the explorer's state space is out of reach."""
    job = Job(("embedded",), "quickjs-ng-0.6", Bounds(objects=6), ("cleanup-not-on-free-stack",),
              timeout=300)
    o = _run(kind.run, job)["cleanup-not-on-free-stack"]
    assert o.verdict == "PROVED" and "k-induction" in o.method, o.reason


@pytest.mark.parametrize("engine", [bmc.run, kind.run, pdr.run], ids=["bmc", "kind", "pdr"])
def test_the_steps_bound_limits_the_symbolic_engines(engine):
    """bmc, kind and pdr read `depth` only: bmc reported a 29-transition VIOLATED "at steps=10"
    where the explicit engine, which honours `steps`, said BOUNDED (sixth review). A violation
    longer than `steps` is outside the bounds: BOUNDED, saying that `steps` cut the depth."""
    short = _run(bmc.run, Job(("embedded",), "ecma262", TINY, ("test-no-registry",), depth=8,
                              timeout=120))["test-no-registry"]
    n = short.depth  # the shortest violation's length
    assert short.verdict == "VIOLATED" and n >= 1
    cut = Bounds(objects=1, frames=2, steps=n - 1)
    o = _run(engine, Job(("embedded",), "ecma262", cut, ("test-no-registry",), depth=8,
                         timeout=120))["test-no-registry"]
    assert o.verdict == "BOUNDED", (o.verdict, o.reason)
    assert o.depth == n - 1 and f"cut to the bound steps={n - 1}" in o.reason, o.reason
    at = Bounds(objects=1, frames=2, steps=n)
    o = _run(engine, Job(("embedded",), "ecma262", at, ("test-no-registry",), depth=8,
                         timeout=120))["test-no-registry"]
    assert o.verdict == "VIOLATED" and len(o.trace) - 1 == n


def test_kind_proof_stands_under_a_small_steps_bound(tmp_path):
    """A k-induction PROVED covers runs of every length, so it holds within `steps` too."""
    job = Job(("embedded",), "ecma262", Bounds(objects=1, frames=2, steps=1), ("test-queue-bounded",),
              depth=4, timeout=120, certificates=str(tmp_path))
    assert _run(kind.run, job)["test-queue-bounded"].verdict == "PROVED"


def test_the_default_steps_bound_leaves_the_depth_alone():
    """steps defaults to 10,000, far above the default depth: nothing changes at the defaults."""
    loaded = load(Job(("embedded",), "ecma262", Bounds(), ()))
    assert (loaded.job.bounds.steps, loaded.job.depth) == (10_000, 60)
    assert bmc.search_depth(loaded) == (60, "")
