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
from specmc.model.hosts import load_host
from specmc.model.symbolic import predicate_term, state_vars
from specmc.proofs.properties import select
from specmc.spec.load import load_spec

from tests.conftest import distinct_models
from tests.model.searching import needs_compiler  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("needs_compiler")


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


@pytest.mark.parametrize("host", distinct_models())
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


@pytest.mark.parametrize("cc", ["tcc", "gcc"])
def test_each_compiler_specmc_picks_searches_alike(monkeypatch, tmp_path, cc):
    """TinyCC compiles the unoptimised searches, gcc (or cc) the optimised ones: both must find
    the Python explorer's states, in its order, with its violations."""
    import shutil

    if not shutil.which(cc):
        if os.environ.get("SPECMC_REQUIRE_CC"):
            pytest.fail(f"SPECMC_REQUIRE_CC is set but {cc} is not installed (.ci/run installs it)")
        pytest.skip(f"{cc} is not installed")
    monkeypatch.setenv("CC", cc)
    monkeypatch.setenv("SPECMC_NATIVE_CACHE", str(tmp_path))
    program = build(load_spec(), load_host("quickjs-ng-0.5"), Bounds(objects=1, frames=3))
    py, c = _both(program, select([]))
    assert py.violations and py.complete
    _same(py, c)


def test_the_whole_space_without_predicates():
    program = build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3))
    py = explore(program, {}, 10_000, keep=True)
    c = cexplore.Native(program, {}).search(10_000, 1_000_000)
    assert c.complete and c.count == py.states
    assert np.array_equal(c.states, np.array(list(py.reached), dtype=np.uint8))


def test_a_sliced_model_keeps_its_frozen_variables():
    from specmc.proofs.run.job import Job, load, slices

    job = load(Job(("embedded",), "ecma262", Bounds(objects=1, frames=3), ()))
    program, props = max(slices(job), key=lambda g: len(g[0].dropped))
    assert program.dropped
    py, c = _both(program, props)
    _same(py, c)
    assert (c.states[:, list(program.dropped)] == np.array(program.init)[list(program.dropped)]).all()


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


def test_a_literal_past_a_byte_means_the_same_to_both_explorers():
    """`S.d.num(256)` wraps to 0 in the concrete domain as in Z3's: found by an independent
    review, where the C search said VIOLATED and the Python one could not replay it."""
    from types import SimpleNamespace

    program = build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3))
    prop = SimpleNamespace(id="u-num256", holds=lambda prog, S: S.d.ne(S.get("sp"), S.d.num(256)))
    py, c = _both(program, [prop])
    assert "u-num256" in py.violations
    _same(py, c)


# --- the compiler and SPECMC_NATIVE, as a user sets them ---------------------------------------


@pytest.fixture(scope="module")
def big():
    """A model whose C search takes about a second (608,986 states), compiled once, and the
    number of its states."""
    program = build(load_spec(), load_host("quickjs-ng-0.6"), Bounds(objects=2, frames=3))
    native = cexplore.Native(program, {})
    return native, native.search(10_000, 100_000_000).count


def _interrupt_during(native, monkeypatch, signum=None):
    """Sends SIGINT (or `signum`) to this process from another thread while the C code runs (not
    while Python runs the progress callback: that case was always fine)."""
    import signal
    import threading
    import time

    monkeypatch.setattr(cexplore, "PROGRESS_SECONDS", 0.0)
    sent = []

    def interrupt():
        time.sleep(0.02)  # (by then the main thread is back in C)
        os.kill(os.getpid(), signal.SIGINT if signum is None else signum)

    def progress(states, depth, seconds):
        if not sent:
            sent.append(threading.Thread(target=interrupt))
            sent[0].start()

    try:
        native.search(10_000, 100_000_000, progress=progress)
    finally:
        if sent:
            sent[0].join()


@pytest.mark.slow
def test_ctrl_c_during_the_c_search_is_keyboard_interrupt(big, monkeypatch):
    """Before, the handler raised on entry to the ctypes callback: ctypes printed "Exception
    ignored" and the search went on or stopped by the luck of an undefined return value."""
    import sys

    native, whole = big
    ignored = []
    monkeypatch.setattr(sys, "unraisablehook", ignored.append)
    with pytest.raises(KeyboardInterrupt):
        _interrupt_during(native, monkeypatch)
    assert not ignored
    assert native.search(10_000, 100_000_000).count == whole  # and the next search is whole


@pytest.mark.slow
def test_an_engines_own_sigint_handler_decides(big, monkeypatch):
    """An engine process turns SIGINT into SystemExit; the search must let that handler speak."""
    import signal

    def handler(signum, frame):
        raise SystemExit(130)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        with pytest.raises(SystemExit):
            _interrupt_during(big[0], monkeypatch)
        assert signal.getsignal(signal.SIGINT) is handler
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.slow
def test_sigterm_during_the_c_search_waits_for_c_then_its_handler_decides(big, monkeypatch):
    """proofs/cli.py handles SIGTERM as Ctrl-C; raised on entry to the ctypes callback, its
    KeyboardInterrupt would be "Exception ignored" and the search's end left to chance."""
    import signal
    import sys

    came = []

    def handler(signum, frame):
        came.append(signum)
        raise KeyboardInterrupt

    ignored = []
    monkeypatch.setattr(sys, "unraisablehook", ignored.append)
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            _interrupt_during(big[0], monkeypatch, signal.SIGTERM)
        assert signal.getsignal(signal.SIGTERM) is handler and came == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert not ignored


@pytest.mark.slow
def test_the_states_are_handed_over_not_copied_and_freed_when_dropped(big):
    """A copy doubled the memory held at the end of a large search (8M states: 1.6 GB at peak)."""
    import gc

    native, whole = big

    def resident():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    s = native.search(10_000, 100_000_000)
    assert s.count == whole
    assert not s.states.flags.owndata and not s.parent.flags.owndata and not s.command.flags.owndata
    path = s.path_to(s.count - 1)
    assert path[-1][1] == tuple(int(v) for v in s.states[-1])
    del s
    gc.collect()
    first = resident()
    for _ in range(4):
        native.search(10_000, 100_000_000)
        gc.collect()
    assert resident() - first < whole * 88 // 2  # four searches leaked nothing like their 54 MB each


def _dfs_native(program, props):
    xs = state_vars(program)
    return cexplore.Native(program, {p.id: predicate_term(program, p.holds, xs) for p in props})


def _is_a_step(program, search, row):
    """The search's own path to `row` ends with a step the reference interpreter takes."""
    from specmc.model.explore import successors

    before = tuple(int(v) for v in search.states[int(search.parent[row])])
    after = tuple(int(v) for v in search.states[row])
    cmd = search.commands[int(search.command[row])]
    return (cmd, after) in successors(program, before)


def _depths(search):
    """Each row's depth on the run that found it (a parent is always found before its child)."""
    depth = np.zeros(search.count, dtype=np.int64)
    parent = search.parent.astype(np.int64)
    for r in range(1, search.count):
        depth[r] = depth[parent[r]] + 1
    return depth


def test_depth_first_visits_the_breadth_first_states_in_another_order():
    """Complete, both orders find the same reachable set through the same transitions; each state's
    recorded step is one the interpreter takes, and its depth is that of the run that found it."""
    program = build(load_spec(), load_host("quickjs-ng-0.5"), Bounds(objects=2, frames=3))
    native = _dfs_native(program, [])  # (at objects=1 every run to a state is as long as any other)
    bfs = native.search(10_000, 2_000_000)
    dfs = native.search(10_000, 2_000_000, depth_first=True)
    assert bfs.complete and dfs.complete and dfs.depth_first and not bfs.depth_first
    assert dfs.count == bfs.count > 10_000 and dfs.transitions == bfs.transitions
    shortest = dict(zip((row.tobytes() for row in bfs.states), _depths(bfs), strict=True))
    assert len(shortest) == bfs.count
    found = [int(d) - shortest[row.tobytes()] for row, d in zip(dfs.states, _depths(dfs), strict=True)]
    assert min(found) == 0 and max(found) > 0  # never shorter than the shortest run; some longer
    assert all(_is_a_step(program, dfs, r) for r in range(1, dfs.count, 997))


def test_depth_first_finds_a_violation_on_a_run_the_interpreter_replays():
    program = build(load_spec(), load_host("quickjs-ng-0.5"), Bounds())  # the seed's bounds
    props = select(["cleanup-not-on-free-stack"])
    s = _dfs_native(program, props).search(10_000, 2_000_000, depth_first=True)
    row = s.violations["cleanup-not-on-free-stack"]
    path = s.path_to(row)
    from specmc.model.explore import successors

    for (_, before), (cmd, after) in zip(path, path[1:], strict=False):
        assert (cmd, after) in successors(program, before)
    from specmc.model.domain import View
    from specmc.model.explore import CONCRETE

    assert not props[0].holds(program, View(CONCRETE, program.layout, path[-1][1]))
    assert not s.complete  # it stopped there: every asked property was broken


@pytest.mark.parametrize("cut", ["states", "steps"])
def test_a_cut_depth_first_search_is_incomplete(cut):
    """A step bound leaves it incomplete too: a state found at the bound is not expanded, even if a
    shorter run reaches it (it is visited already when that run comes)."""
    program = build(load_spec(), load_host("quickjs-ng-0.5"), Bounds(objects=1, frames=3))
    native = _dfs_native(program, [])
    whole = native.search(10_000, 2_000_000, depth_first=True).count
    s = native.search(10_000, 500, depth_first=True) if cut == "states" \
        else native.search(20, 2_000_000, depth_first=True)
    assert not s.complete and s.count < whole
    assert cut == "steps" or s.count == 500


def test_a_seeded_depth_first_search_is_the_same_set_in_an_order_of_its_own():
    """A seed draws each state's successor order; one seed, one order, every time."""
    program = build(load_spec(), load_host("quickjs-ng-0.5"), Bounds(objects=2, frames=3))
    native = _dfs_native(program, [])
    plain = native.search(10_000, 2_000_000, depth_first=True)
    a, again, b = (native.search(10_000, 2_000_000, depth_first=True, seed=k) for k in (7, 7, 8))
    assert plain.complete and a.complete and b.complete
    rows = lambda s: {r.tobytes() for r in s.states}  # noqa: E731
    assert rows(a) == rows(plain) == rows(b)
    assert np.array_equal(a.states, again.states) and np.array_equal(a.parent, again.parent)
    assert not np.array_equal(a.states, plain.states) and not np.array_equal(a.states, b.states)
    assert all(_is_a_step(program, a, r) for r in range(1, a.count, 997))


# --- hash compaction (search_hc): fingerprints instead of states --------------------------------


def test_a_compacted_run_goes_where_the_depth_first_search_goes_keeping_only_fingerprints():
    """With a table large enough for no fingerprint to be shared (553 K states, 2**22 slots), a
    compacted run is the depth-first search of the same seed: the same states counted, the same
    transitions, complete. It keeps no states, so it hands none over."""
    program = build(load_spec(), load_host("quickjs-ng-0.5"), Bounds(objects=2, frames=3))
    native = _dfs_native(program, [])
    for seed in (0, 7):
        dfs = native.search(10_000, 2_000_000, depth_first=True, seed=seed)
        hc = native.search_compact(10_000, 2_000_000, 1 << 22, seed=seed)
        assert (hc.states, hc.transitions, hc.complete) == (dfs.count, dfs.transitions, True)
        assert not hc.full and not hc.timed_out and hc.slots == 1 << 22 and not hc.paths
        assert 0 < hc.collision_bound < 1e-7
        assert hc.deepest == int(_depths(dfs).max())


def test_a_compacted_run_hands_over_the_path_that_broke_a_property():
    """The path is the run's stack when the property broke: the same path the depth-first search
    of that seed finds, each step one the reference interpreter takes, ending where it breaks."""
    from specmc.model.domain import View
    from specmc.model.explore import CONCRETE, successors

    program = build(load_spec(), load_host("quickjs-ng-0.5"), Bounds())  # the seed's bounds
    props = select(["cleanup-not-on-free-stack"])
    native = _dfs_native(program, props)
    for seed in (0, 7):
        dfs = native.search(10_000, 2_000_000, depth_first=True, seed=seed)
        hc = native.search_compact(10_000, 2_000_000, 1 << 20, seed=seed)
        path = hc.paths["cleanup-not-on-free-stack"]
        assert path == dfs.path_to(dfs.violations["cleanup-not-on-free-stack"])
        assert path[0] == (None, tuple(program.init))
        for (_, before), (cmd, after) in zip(path, path[1:], strict=False):
            assert (cmd, after) in successors(program, before)
        assert not props[0].holds(program, View(CONCRETE, program.layout, path[-1][1]))
        assert not hc.complete  # every asked property broken: it stopped there


def test_a_compacted_run_stops_when_its_table_is_three_quarters_full_or_its_time_is_up():
    import time

    program = build(load_spec(), load_host("quickjs-ng-0.5"), Bounds(objects=2, frames=3))
    native = _dfs_native(program, [])
    small = native.search_compact(10_000, 2_000_000, 1000)  # (rounded up to 1024 slots)
    assert small.slots == 1024 and small.full and not small.complete and small.states == 768
    late = native.search_compact(10_000, 2_000_000, 1 << 22, deadline=time.monotonic() - 1)
    assert late.timed_out and not late.complete and not late.full and late.states < 552_628
    capped = native.search_compact(10_000, 5_000, 1 << 22)
    assert capped.states == 5_000 and not capped.complete and not capped.full and not capped.timed_out


# --- breadth first on several threads -----------------------------------------------------------


@pytest.mark.parametrize("cut", ["none", "states", "steps", "stop"])
def test_threads_making_successors_change_nothing_the_search_finds(cut):
    """Successors are made by several threads, each state's in a region of its own, and added by
    one in the batch's order: states, parents, commands, violations, transitions and where the
    search stops are those of one thread, under every bound that cuts it."""
    program = build(load_spec(), load_host("quickjs-ng-0.5"), Bounds(objects=2, frames=4))
    props = select(["cleanup-not-on-free-stack", "no-dangling-cell"])
    native = _dfs_native(program, props)
    steps, limit, stop = {"none": (10_000, 5_000_000, frozenset()), "states": (10_000, 100_003, frozenset()),
                          "steps": (30, 5_000_000, frozenset()),
                          "stop": (10_000, 5_000_000, frozenset({"cleanup-not-on-free-stack"}))}[cut]
    one = native.search(steps, limit, stop_at=stop, symmetry=True, threads=1)
    assert one.count > 1_000 and (one.complete == (cut == "none"))
    for threads in (2, 3, 64, 1000):  # (more than the batch has states, and than the runtime allows)
        many = native.search(steps, limit, stop_at=stop, symmetry=True, threads=threads)
        assert np.array_equal(one.states, many.states) and np.array_equal(one.parent, many.parent)
        assert np.array_equal(one.command, many.command)
        assert (one.violations, one.transitions, one.complete) == (many.violations, many.transitions,
                                                                    many.complete)


# --- a predicate's wrapping arithmetic, printed as C ----------------------------------------------


def test_every_wrapping_operator_of_a_predicate_is_searched_in_c_as_in_python():
    """Review 7, F9: `*`, `&`, `|`, `^`, `~`, unary `-` and `<<` on a state value (bytes that wrap,
    model/domain.py `Byte`) had no C: one such predicate sent its whole job to the Python search,
    and made `--engine dfs` UNKNOWN. Each now breaks in C where it breaks in Python, at the same
    depth (a shift by 8 or more gives 0, as in Z3)."""
    from specmc.proofs.run.job import state_predicate

    program = build(load_spec(), load_host("ecma262"), Bounds(objects=1, frames=3))
    ops = {"mul": lambda S: S.d.ne(S.get("sp") * 128, 0), "band": lambda S: S.d.ne(S.get("sp") & 2, 2),
           "bor": lambda S: S.d.ne(S.get("sp") | 1, 3), "xor": lambda S: S.d.ne(S.get("sp") ^ 1, 3),
           "not": lambda S: S.d.ne(~S.get("sp"), 253), "neg": lambda S: S.d.ne(-S.get("sp"), 254),
           "shl": lambda S: S.d.ne(S.get("sp") << 7, 128),
           "shl-by-state": lambda S: S.d.ne(S.get("sp") << S.get("sp"), 8),
           "shl-past-a-byte": lambda S: S.d.eq((S.get("sp") + 1) << (S.get("sp") + 40), 0),
           "mul-wraps": lambda S: S.d.ne(S.get("sp") * 200, 144)}
    def holds(f):
        return lambda prog, S: f(S)

    fns = {k: holds(f) for k, f in ops.items()}
    xs = state_vars(program)
    native = cexplore.Native(program, {k: predicate_term(program, f, xs) for k, f in fns.items()})
    c = native.search(10_000, 2_000_000)
    py = explore(program, {k: state_predicate(program, f) for k, f in fns.items()}, 10_000, 2_000_000)
    assert set(c.violations) == set(py.violations) == set(ops) - {"shl-past-a-byte"}
    for k, row in c.violations.items():
        assert c.depth_of(row) == len(py.violations[k]) - 1, k
