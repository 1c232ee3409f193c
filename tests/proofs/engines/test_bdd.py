"""The decision-diagram engine computes exactly the explorer's reachable set, steps exactly as the
interpreter does, finds the explorer's shortest violations and proves only through a certificate
that fresh solvers re-check."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st
from specmc.model.bounds import Bounds
from specmc.model.explore import explore, successors
from specmc.model.terms import Untranslatable
from specmc.proofs.engines import bdd, explicit
from specmc.proofs.run.job import Job, load

cudd = pytest.importorskip("dd.cudd")

TINY = Bounds(objects=1, frames=2)


@pytest.fixture(scope="module", params=["ecma262", "quickjs-ng-0.5"])
def machine(request):
    program = load(Job(("embedded",), request.param, TINY, ())).program
    return bdd.Machine(program)


@pytest.fixture(scope="module")
def reached(machine):
    """The machine's reachable set and its breadth-first layers, computed once for both tests
    that read them (the fixed point is most of their time); neither test changes them."""
    reached, layers, _found, complete = bdd.reach(machine, {}, None)
    assert complete
    return reached, layers


@pytest.mark.slow
def test_reachable_set_is_the_explorers(machine, reached):
    reached_set, layers = reached
    r = explore(machine.program, {}, 10_000, keep=True)
    assert machine.bdd.count(reached_set, nvars=len(machine.xnames) * 8) == r.states
    for s in r.reached:  # as many states, and each explored one is in the set: the same set
        assert machine.state(s) & reached_set != machine.bdd.false
    assert len(layers) > 10


@pytest.mark.slow
def test_image_of_a_state_is_its_interpreter_successors(machine, reached):
    _reached_set, layers = reached
    states = [machine.pick(layer) for layer in layers]
    states += list(explore(machine.program, {}, 10_000, keep=True).reached)
    for s in random.Random(7).sample(states, 40):
        want = machine.bdd.false
        for _cmd, t in successors(machine.program, s):
            want |= machine.state(t)
        assert machine.image(machine.state(s)) == want


def _run(job: Job):
    got = []
    bdd.run(load(job), got.append)
    return {o.property: o for o in got}


@pytest.mark.slow
def test_seed_violations_have_the_explorers_shortest_length(tmp_path):
    props = ("cleanup-not-on-free-stack", "no-dangling-cell")
    job = Job(("embedded",), "quickjs-ng-0.5", Bounds(), props, certificates=str(tmp_path))
    got = _run(job)
    want = {}
    explicit.run(load(job), lambda o: want.__setitem__(o.property, o))
    for p in props:
        assert want[p].verdict == "VIOLATED" and got[p].verdict == "VIOLATED", got[p].reason
        assert got[p].depth == want[p].depth and len(got[p].trace) == len(want[p].trace)


def test_a_proof_comes_with_a_rechecked_certificate_and_a_broken_one_is_refused(tmp_path):
    from specmc.proofs.certify import certificate, obligations
    from specmc.proofs.certify.fileformat import CertificateError, read

    job = Job(("embedded",), "ecma262", TINY, ("held-value-once",), certificates=str(tmp_path))
    o = _run(job)["held-value-once"]
    assert o.verdict == "PROVED", o.reason
    assert read(o.certificate)[0]["method"].startswith("bdd reachable set")
    loaded = load(job)
    p = loaded.properties[0]
    head, text = read(o.certificate)
    # the root's complement: the initial state is no longer in the invariant
    root = text.rstrip().rsplit("\n", 1)[1]
    broken = text.replace(root, root.replace("(assert ", "(assert (not ") + ")")
    Path(o.certificate).write_bytes(gzip.compress(broken.encode()))
    obligations._PARSED.clear()
    obligations._CONSECUTIVE.clear()
    with pytest.raises(CertificateError):
        certificate.recheck(o.certificate, loaded.subject(p), loaded.program, p.holds)


BYTES = st.integers(0, 255)


@settings(max_examples=60, deadline=None)
@given(a=BYTES, b=BYTES)
def test_operators_agree_with_z3(a, b):
    manager = cudd.BDD()
    x, y = z3.BitVec("x", 8), z3.BitVec("y", 8)
    names = [[f"x{i}" for i in range(7, -1, -1)], [f"y{i}" for i in range(7, -1, -1)]]
    manager.declare(*names[0], *names[1])
    bits = bdd.Bits(manager, (x, y), names)
    assign = {f"x{i}": bool((a >> i) & 1) for i in range(8)} | {f"y{i}": bool((b >> i) & 1) for i in range(8)}

    def value(t):
        got = bits.value(t)
        if isinstance(got, list):
            return sum(int(manager.let(assign, g) == manager.true) << i for i, g in enumerate(got))
        return manager.let(assign, got) == manager.true

    for t in (z3.ULT(x, y), z3.ULE(x, y), z3.UGT(x, y), z3.UGE(x, y), x == y, z3.Distinct(x, y),
              x + y, x - y, z3.Extract(5, 2, x), z3.Concat(z3.Extract(3, 0, x), z3.Extract(7, 4, y)),
              z3.If(z3.ULT(x, 7), y, x + 1), z3.Implies(x == 3, y == 4), z3.Not(z3.Or(x == 1, y == 2))):
        want = z3.simplify(z3.substitute(t, (x, z3.BitVecVal(a, 8)), (y, z3.BitVecVal(b, 8))))
        want = want.as_long() if z3.is_bv_value(want) else z3.is_true(want)
        assert value(t) == want, t


def test_an_unknown_operator_is_refused():
    manager = cudd.BDD()
    x = z3.BitVec("x", 8)
    manager.declare(*[f"x{i}" for i in range(8)])
    bits = bdd.Bits(manager, (x,), [[f"x{i}" for i in range(7, -1, -1)]])
    with pytest.raises(Untranslatable):
        bits.value(x * 3 == 1)


def test_a_predicate_that_reads_no_state_is_a_constant_set():
    """A property may return a Python bool (predicate_term passes it through): all states or none,
    not the byte 1."""
    manager = cudd.BDD()
    x = z3.BitVec("x", 8)
    manager.declare(*[f"x{i}" for i in range(8)])
    bits = bdd.Bits(manager, (x,), [[f"x{i}" for i in range(7, -1, -1)]])
    assert bits.boolean(True) == manager.true and bits.boolean(False) == manager.false
    assert bits.vector(5) == bits.const(5)
    with pytest.raises(AssertionError):
        bits.boolean(x)  # a bit-vector where a Bool term was expected


def test_a_step_bound_below_the_diameter_is_unknown_never_proved(tmp_path):
    job = Job(("embedded",), "ecma262", Bounds(objects=1, frames=2, steps=5), ("held-value-once",),
              certificates=str(tmp_path))
    o = _run(job)["held-value-once"]
    assert o.verdict == "UNKNOWN" and "step bound" in o.reason


def test_a_proof_says_whether_its_cover_is_reached_as_the_explorer_does(tmp_path):
    """Sixth review (F12): the engine holds the whole reachable set, yet every PROVED said "cover
    not checked", which `check` now counts as undecided. It decides the cover, and agrees with the
    explicit engine on a property whose cover is reached and on one whose proof is vacuous."""
    props = ("held-value-once", "kept-alive-until-clear")
    job = Job(("embedded",), "ecma262", Bounds(objects=1), props, certificates=str(tmp_path))
    got = _run(job)
    want: dict = {}
    explicit.run(load(job), lambda o: want.__setitem__(o.property, o))
    assert {p: (got[p].verdict, got[p].cover_reached) for p in props} == \
        {p: (want[p].verdict, want[p].cover_reached) for p in props} == \
        {"held-value-once": ("PROVED", True), "kept-alive-until-clear": ("PROVED", False)}


def test_a_proof_says_which_bounds_cut_runs_as_the_explorer_does(tmp_path):
    """Review 7, F2: a text that appends one cell twice is cut at `cells-once` (no bound lifts
    it), which makes explicit's PROVED undecided; bdd holds the same reachable set, yet said
    "bounds not measured" and its plain PROVED passed with exit 0. It now counts the cut states
    on the diagram: the same bounds as explicit, and none on the unchanged text."""
    from specmc.spec.load import EMBEDDED, load_text

    step = "          1. Append _cell_ to _finalizationRegistry_.[[Cells]].\n"
    text = EMBEDDED.read_text(encoding="utf-8")
    twice = tmp_path / "twice.html"
    twice.write_text(text.replace(step, step + step), encoding="utf-8")
    assert load_text("twice.html", twice.read_text(encoding="utf-8")) is not None
    for spec, cut in ((str(twice), True), ("embedded", False)):
        job = Job((spec,), "ecma262", Bounds(objects=1, frames=3), ("spec-asserts",),
                  certificates=str(tmp_path))
        o = _run(job)["spec-asserts"]
        want: list = []
        explicit.run(load(job), want.append)
        assert o.verdict == want[0].verdict == "PROVED"
        assert {n for n, _ in o.bounds_hit} == {n for n, _ in want[0].bounds_hit}
        assert o.cut_by_text == cut == ("cells-once" in o.label)
