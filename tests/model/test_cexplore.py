"""The native explorer (model/cexplore.py) and the Python one search the same space the same way:
same states in the same order, same transitions, same first violations with the same paths, and
the same answer to "was the search complete" under every bound that can cut it.

CI sets SPECMC_REQUIRE_CC, so that a missing C compiler fails there instead of skipping."""

from __future__ import annotations

import os

import numpy as np
import pytest
from specmc.model import cexplore
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import explore
from specmc.model.hosts import load_host, shipped
from specmc.model.symbolic import predicate_term, state_vars
from specmc.proofs.properties import select
from specmc.spec.load import load_spec


@pytest.fixture(autouse=True)
def _compiler():
    try:
        cexplore.compiler()
    except cexplore.Unavailable as e:
        if os.environ.get("SPECMC_REQUIRE_CC"):
            pytest.fail(f"SPECMC_REQUIRE_CC is set but {e}")
        pytest.skip(str(e))


def _both(program, props, steps=10_000, max_states=2_000_000, stop_at=frozenset()):
    preds = {p.id: (lambda S, p=p: p.holds(program, S)) for p in props}
    py = explore(program, preds, steps, max_states, keep=True, stop_at=stop_at)
    xs = state_vars(program)
    native = cexplore.Native(program, {p.id: predicate_term(program, p.holds, xs) for p in props})
    c = native.search(steps, max_states, stop_at=stop_at)
    return py, c


def _same(py, c):
    assert c.count == py.states and c.transitions == py.transitions and c.complete == py.complete
    assert [tuple(int(v) for v in row) for row in c.states] == list(py.reached)
    assert set(c.violations) == set(py.violations)
    for k, row in c.violations.items():
        want = py.violations[k]
        got = c.path_to(row)
        assert [s for _, s in got] == [s for _, s in want], k
        assert [cmd.name if cmd else None for cmd, _ in got] == [cmd.name if cmd else None for cmd, _ in want]


@pytest.mark.parametrize("host", shipped())
@pytest.mark.slow
def test_same_states_order_and_violations_as_the_python_explorer(host):
    program = build(load_spec(), load_host(host), Bounds(objects=2, frames=3))
    py, c = _both(program, select([]), max_states=60_000)
    assert py.states > 1_000
    _same(py, c)


def test_every_bound_cuts_both_alike():
    """The state limit, the steps bound, and a property named to stop at."""
    program = build(load_spec(), load_host("quickjs-ng-0.5"), Bounds(objects=1, frames=3))
    props = select([])
    for kwargs in ({"max_states": 777}, {"steps": 9}, {"stop_at": frozenset({"argument-checks"})}):
        py, c = _both(program, props, **kwargs)
        assert not py.complete, kwargs
        _same(py, c)


def test_the_whole_space_without_predicates():
    program = build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3))
    py = explore(program, {}, 10_000, keep=True)
    c = cexplore.Native(program, {}).search(10_000, 1_000_000)
    assert c.complete and c.count == py.states
    assert np.array_equal(c.states, np.array(list(py.reached), dtype=np.uint8))


def test_a_sliced_model_keeps_its_frozen_variables():
    from specmc.proofs.job import Job, load, slices

    job = load(Job(("embedded",), "ecma262", Bounds(objects=1, frames=3), ()))
    program, props = max(slices(job), key=lambda g: len(g[0].dropped))
    assert program.dropped
    py, c = _both(program, props)
    _same(py, c)
    assert (c.states[:, list(program.dropped)] == np.array(program.init)[list(program.dropped)]).all()


def test_no_compiler_or_turned_off_is_said_not_hidden(monkeypatch, tmp_path):
    program = build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3))
    monkeypatch.setenv("SPECMC_NATIVE", "0")
    with pytest.raises(cexplore.Unavailable, match="SPECMC_NATIVE=0"):
        cexplore.Native(program, {})
    monkeypatch.delenv("SPECMC_NATIVE")
    monkeypatch.setenv("SPECMC_NATIVE_CACHE", str(tmp_path))
    monkeypatch.setenv("CC", "false")  # a compiler that always fails
    with pytest.raises(cexplore.Unavailable, match="the C compiler failed"):
        cexplore.Native(program, {})
    assert not list(tmp_path.glob("*.so"))  # nothing half-written is left to be loaded later


def test_the_cache_is_bounded(monkeypatch, tmp_path):
    monkeypatch.setenv("SPECMC_NATIVE_CACHE", str(tmp_path))
    monkeypatch.setattr(cexplore, "KEEP", 1)
    program = build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3))
    cexplore.Native(program, {})
    cexplore.Native(program, {"t": True})  # another text: another library, and the older goes
    assert len(list(tmp_path.glob("m*.so"))) == 1


def test_a_key_finds_the_library_without_printing_the_model(monkeypatch, tmp_path):
    """With the caller's key, a cached model is loaded without printing its commands again; the
    key still covers the predicates (another predicate: another library)."""
    monkeypatch.setenv("SPECMC_NATIVE_CACHE", str(tmp_path))
    program = build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3))
    first = cexplore.Native(program, {"t": True}, key="k").search(10_000, 1_000_000)

    def no_printing(*a, **k):
        raise AssertionError("the model was printed again")

    monkeypatch.setattr(cexplore, "source", no_printing)
    again = cexplore.Native(program, {"t": True}, key="k").search(10_000, 1_000_000)
    assert np.array_equal(first.states, again.states) and again.complete
    with pytest.raises(AssertionError, match="printed again"):
        cexplore.Native(program, {"t": False}, key="k")


def test_is_cached_says_what_native_would_load(monkeypatch, tmp_path):
    monkeypatch.setenv("SPECMC_NATIVE_CACHE", str(tmp_path))
    program = build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3))
    assert not cexplore.is_cached(program, {"t": True}, "-O0", "k")
    cexplore.Native(program, {"t": True}, "-O0", key="k")
    assert cexplore.is_cached(program, {"t": True}, "-O0", "k")
    assert not cexplore.is_cached(program, {"t": True}, "-O1", "k")
    assert not cexplore.is_cached(program, {"u": False}, "-O0", "k")


_COMPILE = """
from specmc.model import cexplore
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.hosts import load_host
from specmc.spec.load import load_spec
program = build(load_spec(), load_host("{host}"), Bounds(objects=1, frames=3))
cexplore.Native(program, {{"t": True}}, key="{key}")
"""


@pytest.mark.slow
def test_a_damaged_or_foreign_cached_library_is_never_used(monkeypatch, tmp_path):
    """A truncated library (loading it would kill the process) is compiled again; another
    model's library copied in under this model's name, digest file and all, is removed and
    refused (Unavailable: the caller searches in Python), never searched. The libraries are
    compiled by other processes: this one must not have them loaded already."""
    import shutil
    import subprocess
    import sys

    monkeypatch.setenv("SPECMC_NATIVE_CACHE", str(tmp_path))
    program = build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3))
    subprocess.run([sys.executable, "-c", _COMPILE.format(host="v8", key="k")], check=True, env=os.environ)
    (lib,) = tmp_path.glob("m*.so")
    lib.write_bytes(lib.read_bytes()[:4096])  # truncated
    again = cexplore.Native(program, {"t": True}, key="k").search(10_000, 1_000_000)
    assert again.complete and again.count == explore(program, {}, 10_000).states

    subprocess.run([sys.executable, "-c", _COMPILE.format(host="ecma262", key="other")], check=True,
                   env=os.environ)
    (foreign,) = set(tmp_path.glob("m*.so")) - {lib}
    mine = cexplore._cached_path("-O0", cexplore._full_key(program, [True], "k2"))
    shutil.copy(foreign, mine)
    shutil.copy(cexplore._sum_path(foreign), cexplore._sum_path(mine))
    with pytest.raises(cexplore.Unavailable, match="not the compiled form of this model"):
        cexplore.Native(program, {"t": True}, key="k2")
    assert not mine.exists()


def test_a_literal_past_a_byte_means_the_same_to_both_explorers():
    """`S.d.num(256)` wraps to 0 in the concrete domain as in Z3's: found by an independent
    review, where the C search said VIOLATED and the Python one could not replay it."""
    from types import SimpleNamespace

    program = build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3))
    prop = SimpleNamespace(id="u-num256", holds=lambda prog, S: S.d.ne(S.get("sp"), S.d.num(256)))
    py, c = _both(program, [prop])
    assert "u-num256" in py.violations
    _same(py, c)
