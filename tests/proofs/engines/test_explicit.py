"""The explicit engine's plan of searches: the union of the properties' cones first, and the
groups' smaller cones only for what a search cut by the state limit left open."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from specmc.model import cexplore
from specmc.model.bounds import Bounds
from specmc.proofs.engines import explicit
from specmc.proofs.run.job import Job, load, slices

BOUNDS = Bounds(objects=1, frames=3)


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("certificates"))
    return load(Job(("embedded",), "quickjs-ng-0.6", BOUNDS, (), certificates=folder))


def _run(job):
    got = []
    explicit.run(job, got.append)
    return {o.property: o for o in got}


def test_one_search_decides_every_property_when_it_completes(job):
    out = _run(job)
    assert len(out) == len(job.properties)
    assert all(o.verdict != "UNKNOWN" for o in out.values())
    searched = {re.search(r"([\d,]+) (?:canonical )?states", o.method or o.reason)[1] for o in out.values()}
    assert len(searched) == 1, searched  # one search: every result names the same state count


@pytest.mark.parametrize("native", [False, True])
@pytest.mark.slow
def test_groups_take_over_what_the_cut_union_left_open(job, monkeypatch, native):
    """At this bound the union of the cones has 1,280 states and the smallest group's cone 210:
    with room for 500, the union is cut, the small group completes and decides its properties,
    and only the group that needs the large cone is UNKNOWN (never PROVED from a cut search).
    Either explorer: Python alone (no compiler), or Python for 100 states and then C."""
    if native:
        monkeypatch.setattr(explicit, "PYTHON_FIRST", 100)
        monkeypatch.setattr(explicit, "NATIVE_MAX_STATES", 500)
        try:
            cexplore.compiler()
        except cexplore.Unavailable as e:
            pytest.skip(str(e))
    else:
        monkeypatch.setenv("SPECMC_NATIVE", "0")
        monkeypatch.setattr(explicit, "MAX_STATES", 500)
    groups = slices(job)
    assert len(groups) > 1
    out = _run(job)
    assert len(out) == len(job.properties)  # each property reported once
    small = max(groups, key=lambda g: len(g[0].dropped))[1]  # the most dropped: the smallest cone
    for p in small:
        assert out[p.id].verdict not in ("UNKNOWN", "BOUNDED"), out[p.id]
        assert "sliced to" in (out[p.id].method or out[p.id].reason)
    cut = [o for o in out.values() if o.verdict in ("UNKNOWN", "BOUNDED")]
    assert cut
    stopped = r"exploration stopped at 500 (canonical )?states( \(symmetry-reduced\))? by the state limit"
    assert all(re.search(stopped, o.reason) for o in cut), [o.reason for o in cut]
    by = "searched in C" if native else "searched in Python: the native search is turned off"
    assert all(by in o.reason for o in cut)
    # never PROVED from a cut search: a safety property is BOUNDED at the depth the search
    # finished, a temporal one (its monitor's search) UNKNOWN
    for o in cut:
        temporal = job.properties[[p.id for p in job.properties].index(o.property)].temporal is not None
        assert o.verdict == ("UNKNOWN" if temporal else "BOUNDED"), o
        assert temporal or f"no violation in runs of up to {o.depth} transitions" in o.reason


def test_memory_running_out_is_unknown_never_a_traceback(job, monkeypatch):
    """Out of memory in the search or in the certificate: every open property UNKNOWN, saying so."""
    monkeypatch.setenv("SPECMC_NATIVE", "0")

    def no_room(*a, **k):
        raise MemoryError

    monkeypatch.setattr(explicit, "diagram", no_room)
    out = _run(job)
    held = [o for o in out.values() if o.verdict != "VIOLATED"]
    assert held and all(o.verdict == "UNKNOWN" and "ran out of memory" in o.reason for o in held)


def test_a_c_search_too_big_to_copy_back_is_unknown_by_memory(job, monkeypatch):
    try:
        cexplore.compiler()
    except cexplore.Unavailable as e:
        pytest.skip(str(e))
    monkeypatch.setattr(explicit, "PYTHON_FIRST", 100)

    def no_room(*a, **k):
        raise MemoryError

    monkeypatch.setattr(cexplore.Native, "search", no_room)
    out = _run(job)
    assert all(o.verdict == "UNKNOWN" and "by memory" in o.reason for o in out.values())


def test_a_violation_the_interpreter_does_not_see_is_an_internal_error(job, monkeypatch):
    """The C search judges a property by its Z3 term; the interpreter must see the violation on the
    replayed path too. Here the predicates' concrete domain is made to read `num(256)` as 256 (as it
    did before a review found it) while Z3 reads 0: the disagreement is an error, never a VIOLATED."""
    from dataclasses import replace as _replace

    from specmc.model.domain import Bytes
    from specmc.proofs.engines.unrolling import ReplayError
    from specmc.proofs.properties import Property

    try:
        cexplore.compiler()
    except cexplore.Unavailable as e:
        pytest.skip(str(e))
    monkeypatch.setattr(explicit, "PYTHON_FIRST", 1)
    monkeypatch.setattr(Bytes, "num", lambda self, n: n)
    prop = Property("u-num256", "sp is never 256", "x", lambda prog, S: S.d.ne(S.get("sp"), S.d.num(256)))
    with pytest.raises(ReplayError, match="disagree"):
        explicit.run(_replace(job, properties=(prop,)), lambda o: None)


def _explorers():
    return [pytest.param("python", id="python"), pytest.param("c", id="c")]


def _pick(explorer, monkeypatch):
    if explorer == "python":
        monkeypatch.setenv("SPECMC_NATIVE", "0")
        return
    try:
        cexplore.compiler()
    except cexplore.Unavailable as e:
        pytest.skip(str(e))
    monkeypatch.setattr(explicit, "PYTHON_FIRST", 1)


def _past_the_end(prog, S):
    return S.d.ne(S.get("frame_alg", S.get("sp")), 200)  # sp reaches `frames`: one past the last frame


def _never_met_until_past_the_end(prog, S):
    return S.d.not_(_past_the_end(prog, S))


@pytest.mark.parametrize("where", ["holds", "cover"])
@pytest.mark.parametrize("explorer", _explorers())
def test_a_predicate_reading_past_an_array_is_the_users_error_in_either_explorer(job, monkeypatch,
                                                                                 explorer, where):
    """The concrete View refuses an index past an array's end; the symbolic read used to fall back
    to the last slot, so the C search PROVED what the Python search called E079 (found by an
    independent review). Now the term carries the range, and both explorers end in E079."""
    from dataclasses import replace as _replace

    from specmc.proofs.properties import Property
    from specmc.proofs.properties.userfile import _guarded
    from specmc.spec.diagnostics import SpecError

    _pick(explorer, monkeypatch)
    if where == "holds":
        prop = Property("u-idx", "reads past frame_alg", "x", _past_the_end)
    else:
        prop = Property("u-idx", "true", "x", lambda prog, S: S.d.true(), cover=_never_met_until_past_the_end,
                        cover_meaning="reads past frame_alg")
    with pytest.raises(SpecError, match=r"E079.*IndexError: frame_alg\[3\]"):
        explicit.run(_replace(job, properties=(_guarded(prop, __file__),)), lambda o: None)


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("seed-certificates"))
    loaded = load(Job(("embedded",), "quickjs-ng-0.5", Bounds(), (), certificates=folder))
    from dataclasses import replace as _replace

    return _replace(loaded, properties=tuple(p for p in loaded.properties
                                             if p.id == "cleanup-not-on-free-stack"))


@pytest.mark.parametrize("explorer", _explorers())
def test_a_search_cut_by_the_state_limit_is_bounded_short_of_the_violation_it_did_not_reach(
        seed, monkeypatch, explorer):
    """The seed's violation is 38 transitions deep (found after about 8,000 states). Cut earlier, the
    search says BOUNDED at the depth it finished, which must be short of 38 (a deeper claim would
    deny a violation that exists), and it grows with the limit; never PROVED, and with room the
    same search finds the violation."""
    _pick(explorer, monkeypatch)
    depths = []
    for limit in (50, 400, 3000):
        monkeypatch.setattr(explicit, "MAX_STATES" if explorer == "python" else "NATIVE_MAX_STATES", limit)
        (o,) = _run(seed).values()
        assert o.verdict == "BOUNDED", o
        assert o.depth is not None and o.depth < 38, o
        assert f"stopped at {limit:,}" in o.reason and f"up to {o.depth} transitions" in o.reason
        depths.append(o.depth)
    assert depths == sorted(depths) and depths[0] < depths[-1], depths
    monkeypatch.setattr(explicit, "MAX_STATES" if explorer == "python" else "NATIVE_MAX_STATES", 200_000)
    (o,) = _run(seed).values()
    assert o.verdict == "VIOLATED" and o.depth == 38, o


@pytest.mark.parametrize("explorer", _explorers())
def test_every_state_within_a_cut_searchs_depth_was_searched(job, monkeypatch, explorer):
    """What BOUNDED at depth d claims: every state reachable in d transitions was found and checked.
    Checked against a complete search of the same model: a cut search at every tenth limit holds
    every state whose shortest path is at most its depth long."""
    from specmc.model.explore import explore
    from specmc.proofs.properties import Property

    ((program, _props),) = slices(job, together=True)
    anything = (Property("u-true", "true", "x", lambda prog, S: S.d.true()),)  # searched to the limit
    full = explore(program, {}, 10_000, keep=True)
    assert full.complete and full.parents is not None
    shortest = {s: len(full.path_to(s)) - 1 for s in full.reached}
    _pick(explorer, monkeypatch)
    for limit in range(40, full.states, max(1, full.states // 10)):
        monkeypatch.setattr(explicit, "NATIVE_MAX_STATES", limit)
        monkeypatch.setattr(explicit, "MAX_STATES", limit)
        monkeypatch.setattr(explicit, "_symmetry", lambda program, props: (None, "compared state for state"))
        r = explicit._search(job, program, anything, None)
        assert not r.complete and r.depth is not None
        found = {tuple(int(v) for v in row) for row in r.states}
        missing = [s for s, d in shortest.items() if d <= r.depth and s not in found]
        assert not missing, (limit, r.depth, len(missing))


def test_depth_first_proves_what_breadth_first_proves_from_the_same_states(job):
    """A complete depth-first search is the same reachable set: the same verdicts, certified the
    same way, under the engine's own name."""
    wide = _run(job)
    deep = []
    explicit.run_depth_first(job, deep.append)
    deep = {o.property: o for o in deep}
    assert {k: o.verdict for k, o in deep.items()} == {k: o.verdict for k, o in wide.items()}
    assert {o.engine for o in deep.values()} == {"dfs"}
    count = r"([\d,]+) (?:canonical )?states"
    for k, o in deep.items():
        if o.verdict == "PROVED":
            assert o.certificate and "depth first" in o.method
            assert re.search(count, o.method)[1] == re.search(count, wide[k].method)[1]


def test_a_cut_depth_first_search_is_unknown_never_bounded(job, monkeypatch):
    """Cut, it has checked no depth completely, so it claims none (breadth first says BOUNDED)."""
    monkeypatch.setattr(explicit, "NATIVE_MAX_STATES", 300)
    got = []
    explicit.run_depth_first(job, got.append)
    assert got and "BOUNDED" not in {o.verdict for o in got}  # (a group's smaller cone may complete)
    cut = [o for o in got if o.verdict == "UNKNOWN"]
    assert cut and all("by the state limit" in o.reason and "depth first" in o.reason for o in cut)


def test_without_c_the_depth_first_search_is_unknown_and_says_why(job, monkeypatch):
    def none(*_a, **_k):
        raise cexplore.Unavailable("no C compiler (tested)")

    monkeypatch.setattr(cexplore, "compiler", none)
    got = []
    explicit.run_depth_first(job, got.append)
    assert got and all(o.verdict == "UNKNOWN" and "runs in C only: no C compiler (tested)" in o.reason
                       for o in got)


@pytest.mark.slow
def test_depth_first_reaches_a_violation_breadth_first_does_not(tmp_path):
    """At these bounds 40 M states breadth first end near depth 46 with nothing found under
    quickjs-ng-0.12; depth first finds #1318 with three registries, 138 transitions deep
    (docs/findings.md, "Deep runs found depth first")."""
    job = load(Job(("embedded",), "quickjs-ng-0.12", Bounds(objects=3, cells=2, frames=3, jobs=1, slots=1),
                   ("no-freed-observed",), certificates=str(tmp_path)))
    got = []
    explicit.run_depth_first(job, got.append)
    (o,) = got
    assert o.verdict == "VIOLATED" and o.engine == "dfs" and o.depth > 60 and len(o.trace) == o.depth + 1
    assert "not the shortest" in o.reason


@pytest.fixture(scope="module")
def seed_job(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("certificates"))
    return load(Job(("embedded",), "quickjs-ng-0.5", Bounds(), ("cleanup-not-on-free-stack",),
                    certificates=folder))


@pytest.mark.parametrize("runs", [0, 16])
def test_the_swarm_goes_on_where_the_first_depth_first_run_was_cut(seed_job, monkeypatch, runs):
    """400 states in the model's own successor order miss the seed's violation; one of 16 more runs
    of 400 states in seeded orders finds it (seed 11, measured), and the verdict says which.
    Without them the same search is UNKNOWN."""
    monkeypatch.setattr(explicit, "NATIVE_MAX_STATES", 400)
    monkeypatch.setattr(explicit, "SWARM_STATES", 400)
    monkeypatch.setattr(explicit, "SWARM_RUNS", runs)
    got = []
    explicit.run_depth_first(seed_job, got.append)
    (o,) = got
    if not runs:
        assert o.verdict == "UNKNOWN" and "more run" not in o.reason
        return
    assert o.verdict == "VIOLATED" and o.trace, o
    seed = int(re.search(r"found by run (\d+), successors in seed (\d+)'s order", o.reason)[2])
    assert 1 <= seed <= runs and f"then {seed} more runs with hash compaction" in o.reason, o.reason
    assert "of up to 400 states each" in o.reason and "64-bit fingerprints" in o.reason


def test_the_swarm_stops_at_the_time_limit_and_says_so(seed_job, monkeypatch):
    monkeypatch.setattr(explicit, "NATIVE_MAX_STATES", 400)
    monkeypatch.setattr(explicit, "SWARM_STATES", 400)
    got = []
    explicit.run_depth_first(replace(seed_job, job=replace(seed_job.job, timeout=0.0)), got.append)
    (o,) = got
    assert o.verdict == "UNKNOWN" and "stopped there by the time limit" in o.reason, o.reason


@pytest.mark.slow
def test_the_swarm_reaches_the_unregister_cascade(tmp_path):
    """quickjs-ng-0.13 at the cascade's bounds: the first depth-first run ends at the state limit with
    nothing, and a seeded run finds the use after free in js_finrec_unregister's cascade, which
    ends the run with `unregister` (docs/findings.md, "Deep runs found depth first")."""
    job = load(Job(("embedded",), "quickjs-ng-0.13", Bounds(objects=3, cells=2, frames=3, jobs=1, slots=1),
                   ("no-freed-observed",), certificates=str(tmp_path)))
    got = []
    explicit.run_depth_first(job, got.append)
    (o,) = got
    assert o.verdict == "VIOLATED" and "found by run" in o.reason, o
    assert any("unregister" in str(step) for step in o.trace[-40:])


def test_a_swarm_run_is_cut_by_the_time_limit_inside_the_run(monkeypatch):
    """Compacted runs can be long (their size is set by memory), so the time limit cuts one where it
    is, not only between runs, and the reason says so; and the swarm's limit comes a tenth before
    the job's, so that it is the swarm that says it, not the process that started the engine."""
    import time

    from specmc.model.build import build
    from specmc.model.hosts import load_host
    from specmc.spec.load import load_spec

    program = build(load_spec(), load_host("quickjs-ng-0.6"), Bounds(objects=2, frames=3))
    native = cexplore.Native(program, {"never": False, "fine": True})
    monkeypatch.setattr(explicit, "SWARM_STATES", 10**9)
    monkeypatch.setattr(cexplore, "compact_slots", lambda: 1 << 22)  # (32 MB: the memory is not the point)
    paths: dict = {"never": []}  # (broken already: only "fine" keeps the swarm going)
    started = time.monotonic()
    said = explicit._swarm(native, program, 10_000, paths, {}, None, False, started + 0.05)
    assert time.monotonic() - started < 5 and set(paths) == {"never"}
    assert "then 1 more run with hash compaction" in said and "stopped by the time limit" in said, said
    assert "in the order seed 1 draws" in said
