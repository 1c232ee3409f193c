"""The explicit engine: the reference interpreter explored breadth first, every property at once.

A violation comes with the explorer's shortest trace. A property that holds in every
state of a complete exploration is PROVED only after the visited set, written as a
decision diagram, has been stored as a certificate and re-checked by fresh solvers
(proofs/certify/): the solver, not the explorer, has the last word.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from specmc.model import cexplore
from specmc.model.domain import ByteView
from specmc.model.explore import Exploration, concrete, explore
from specmc.model.layout import CUT_NAMES
from specmc.model.program import Command, Program
from specmc.model.slice import LiftError, lift
from specmc.model.symbolic import predicate_parts, predicate_term, state_vars
from specmc.model.symmetry import NotSymmetric, Symmetry, switched_off
from specmc.model.trace import build_trace
from specmc.proofs.certify import certificate
from specmc.proofs.certify.fileformat import CertificateError
from specmc.proofs.certify.invariant import diagram, to_smtlib, variable_order
from specmc.proofs.engines import lasso
from specmc.proofs.engines.unrolling import ReplayError, replay
from specmc.proofs.properties import Property
from specmc.proofs.properties.liveness import most_turns
from specmc.proofs.run.job import Loaded, certificate_dir, cover_predicate, predicate, sliced_to, slices
from specmc.proofs.verdict import BOUNDED, PROVED, UNKNOWN, VIOLATED, Outcome

MAX_STATES = 4_000_000  # the Python explorer keeps each state as a tuple in a dict: ~1 KB a state
# the native one keeps ~140 bytes a state at 3 objects (the state, its parent, command and depth,
# its slot in the visited set); 40 M states are about 6 GB, and the 17.5 M states of the union cone
# of no-freed-observed and deref-consistent at 3 objects under ecma262 fit
NATIVE_MAX_STATES = 40_000_000
# states the Python explorer searches before the native one takes over: Python runs about 7,000
# states/s and printing and compiling the C about 10 s, but a compiled model is cached for every
# later run while a Python search is paid again each time, so the hand-over comes early (at 50,000
# each host of the main job spent about 4 s of CPU on a Python prelude that C then searched again)
PYTHON_FIRST = 10_000


COVER = "cover: "  # explorer predicates that fail where a property's cover is met


def bounds_hit(program: Program, states: Iterable[tuple[int, ...]]) -> tuple[tuple[str, int], ...]:
    """Which bounds ended a run of the exploration, and in how many states (model/layout.py, `cut`)."""
    at = program.layout.where("cut")[0]
    counts = Counter(s[at] for s in states)
    return tuple((CUT_NAMES[v], n) for v, n in sorted(counts.items()) if v in CUT_NAMES)


def run(job: Loaded, report: Callable[[Outcome], None],
        progress: Callable[[str], None] | None = None, engine: str = "explicit") -> None:
    """One search over the union of the properties' cones of influence (model/slice.py); when it
    is cut (by the state limit, or by the steps bound), the properties it leaves open are searched
    again one group of properties with a common cone at a time, each in the model cut down to its
    own cone.

    Why the union first: at the default bounds the groups' cones overlap so much that searching
    them one by one costs more than searching their union once (ecma262: 162,610 + 162,126 +
    150,431 states against 175,798; quickjs-ng-0.6: 42,994 + 610,750 + 43,268 against 612,010),
    and one search means one certificate to check. Where one observer multiplies the space and
    only a few properties read it, a group's smaller cone may still complete where the union did
    not (docs/soundness.md, "Slices")."""
    started = time.perf_counter()
    # (only the depth-first swarm heeds it; a tenth early, and 2 s, so that the swarm stops and says
    # so before the process that started this engine, counting from before the model was loaded,
    # stops it with a bare "time limit reached")
    deadline = time.monotonic() + max(0.0, job.job.timeout * 0.9 - 2.0)
    job, temporal = lasso.split(job, engine, report, supported=True)
    for p in temporal:
        _run_temporal(job, p, report, started, _said(progress, p.id, 1), engine, deadline)
    if not job.properties:
        return
    groups = slices(job)
    if len(groups) > 1:
        ((program, props),) = slices(job, together=True)
        left = _run_slice(job, program, props, report, started, _said(progress, "one search", len(props)),
                          final=False, engine=engine, deadline=deadline)
        groups = [(g, tuple(p for p in ps if p in left)) for g, ps in groups]
        groups = [(g, ps) for g, ps in groups if ps]
    for n, (program, props) in enumerate(groups, start=1):
        _run_slice(job, program, props, report, started,
                   _said(progress, f"search {n} of {len(groups)}", len(props)), engine=engine,
                   deadline=deadline)


def run_depth_first(job: Loaded, report: Callable[[Outcome], None],
                    progress: Callable[[str], None] | None = None) -> None:
    """The `dfs` engine: the same search, in C, depth first (model/cprint.py, `search_dfs`).

    Why a second order: breadth first, every state of a level is stored before any of the next,
    so a violation 116-223 transitions deep is reached only after every shallower state, and the
    state limit (or memory) comes first on the models where QuickJS-NG's deep bugs live (#1352,
    the unregister cascade: docs/findings.md). Depth first follows one run down until it has
    nothing new, and where that first run is cut, the swarm (`_swarm`) goes down other paths
    first. What it gives up: the run it reports is the one it found, not the shortest, and a
    search it cuts has checked no depth completely, so it is UNKNOWN, never BOUNDED. A complete
    search is the same reachable set as breadth first, and proves with the same certificate."""
    run(job, report, progress, engine=DEPTH_FIRST)


DEPTH_FIRST = "dfs"
# after a cut depth-first search, runs of this many states each, in the successor orders seeds
# 1, 2, ... draw (model/cprint.py, `shuffle`), until every property is broken, the runs are done or
# the job's time is: Holzmann's swarm search, which reaches deep states by going down many
# different paths rather than one (docs/engines.md, "Depth first")
SWARM_RUNS = 16
SWARM_STATES = 15_000_000


def _run_temporal(job: Loaded, p: Property, report: Callable[[Outcome], None], started: float,
                  progress: Callable[[int, int, float], None] | None, engine: str, deadline: float) -> None:
    """A temporal property (proofs/engines/lasso.py): the monitored model searched for a counter at
    its cap; a path there becomes a replayed lasso, a complete search a k-liveness proof."""
    na = lasso.not_applicable(job, p, engine)
    if na is not None:
        report(na.timed(time.perf_counter() - started))
        return
    mjob, safety = lasso.monitor_job(job, p)
    ((program, _props),) = slices(mjob, together=True)
    _run_slice(mjob, program, (safety,), report, started, progress, temporal=(job, p), engine=engine,
               deadline=deadline)


def _said(progress: Callable[[str], None] | None, which: str, k: int
          ) -> Callable[[int, int, float], None] | None:
    if progress is None:
        return None

    def said(states: int, depth: int, seconds: float) -> None:
        progress(f"{which} ({k} properties): {states:,} states, depth {depth}, {seconds:.0f} s")
    return said


@dataclass(frozen=True)
class Found:
    """What a search of one slice found, whichever explorer ran it."""

    states: np.ndarray  # every state visited, one row each, in discovery order
    complete: bool
    cut: str  # what cut an incomplete search ("the state limit", "the steps bound", ...)
    limit: int  # the state limit it ran under
    violations: dict[str, list[tuple[Command | None, tuple[int, ...]]]]  # predicate -> shortest path
    by: str  # which explorer: "searched in C" or "searched in Python" (with why, if C was wanted)
    symmetry: Symmetry | None = None  # the reduction it ran under: `states` are representatives
    unreduced: str = ""  # why it ran without one, when it did
    # a cut search's depth: every run of at most this many transitions was searched (None: not known)
    depth: int | None = None
    # predicate -> the run that found it, where that was not the first (the depth-first swarm's)
    found_by: dict[str, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return int(self.states.shape[0])

    @property
    def counted(self) -> str:
        """`N states`, or `N canonical states (symmetry-reduced)`."""
        return f"{self.count:,} canonical states (symmetry-reduced)" if self.symmetry is not None \
            else f"{self.count:,} states"


SHIPPED = "specmc.proofs.properties.predicates"  # the module of the catalogue's predicates


def _symmetry(program: Program, props: tuple[Property, ...]) -> tuple[Symmetry | None, str]:
    """The reduction to search under (model/symmetry.py), or None and why not: switched off by
    SPECMC_SYMMETRY, a property that is not the catalogue's (a properties file's predicate may
    tell objects apart by index; the catalogue's give one value on a whole class, as
    tests/model/test_symmetry.py checks), or a model it cannot take."""
    off = switched_off()
    if off:
        return None, off
    odd = [p.id for p in props if any(f is not None and getattr(f, "__module__", "") != SHIPPED
                                      for f in (p.holds, p.cover))]
    if odd:
        return None, (f"{', '.join(odd)} not known to be symmetric (a predicate outside the catalogue's "
                      "safety predicates: a properties file's, or a temporal property's monitor)")
    try:
        return Symmetry.of(program), ""
    except NotSymmetric as e:
        return None, str(e)


def _search(job: Loaded, program: Program, props: tuple[Property, ...],
            progress: Callable[[int, int, float], None] | None, depth_first: bool = False,
            deadline: float | None = None) -> Found:
    """The slice searched breadth first with every property's predicate (and the negation of its
    cover). Unless the model is compiled already (cached), a first search in Python stops after
    PYTHON_FIRST states: the seed's violation (at 8,183 states) and small slices are decided
    there before compiling C would have paid. What it leaves open is searched from the start by
    the native explorer (model/cexplore.py); where that cannot run, by Python again without that
    limit, and the results say why. `depth_first` searches in C only, from the start (the Python
    explorer is breadth first): without C it raises `cexplore.Unavailable`."""
    steps = job.job.bounds.steps
    sym, unreduced = _symmetry(program, props)
    preds = {p.id: predicate(program, p) for p in props}
    for p in props:
        cover = cover_predicate(program, p)
        if cover is not None:
            preds[COVER + p.id] = lambda S, cover=cover: not cover(S)
    why = ""
    terms = _terms(program, props)
    flags = "-O1" if job.job.bounds.objects >= 3 else "-O0"
    key = _model_key(job, program)
    try:
        cexplore.compiler()
        ready = cexplore.is_cached(program, terms, flags, key)
    except cexplore.Unavailable as e:
        why, ready = str(e), False
    if depth_first and why:
        raise cexplore.Unavailable(why)
    # (a model compiled already is searched in C at once: that costs less even when small)
    if not ready and not depth_first:
        first = PYTHON_FIRST if not why else MAX_STATES
        r = explore(program, preds, steps, first, keep=True, progress=progress, symmetry=sym)
        if why or r.complete or len(r.violations) == len(preds) or r.states < first:
            # (without C, that search already ran to Python's own limit: never run it twice)
            by = "searched in Python" if not why else f"searched in Python: {why}"
            # (cut by `first`, not by the state limit it stands for, only when every property was
            # broken first: then nothing is reported as cut; the limit shown is the real one)
            found = _found(r, program, first, by, unreduced, shown=MAX_STATES if why else NATIVE_MAX_STATES)
            _readings_agree(program, props, terms, found.states)
            return found
    try:
        native = cexplore.Native(program, terms, flags, key=key)
    except cexplore.Unavailable as e:
        if depth_first:
            raise
        r = explore(program, preds, steps, MAX_STATES, keep=True, progress=progress, symmetry=sym)
        found = _found(r, program, MAX_STATES, f"searched in Python: {e}", unreduced)
        _readings_agree(program, props, terms, found.states)
        return found
    try:
        s = native.search(steps, NATIVE_MAX_STATES, progress=progress, symmetry=sym is not None,
                          depth_first=depth_first)
    except MemoryError:  # the search fitted, handing its states over to numpy did not
        empty = np.zeros((0, program.layout.size), dtype=np.uint8)
        return Found(empty, False, "memory", NATIVE_MAX_STATES, {}, "searched in C", sym, unreduced)
    _readings_agree(program, props, terms, s.states)
    cut = "memory" if s.out_of_memory else "the state limit" if s.count >= NATIVE_MAX_STATES \
        else "the steps bound"
    paths = {k: s.path_to(row) for k, row in s.violations.items()}
    if s.symmetry is not None:  # a path of representatives, made the model's own (model/explore.py)
        paths = {k: concrete(program, path, s.symmetry) for k, path in paths.items()}
    # (depth first, a cut search completed no level: no depth to claim)
    depth = None if s.complete or not s.count or depth_first \
        else _searched_depth(s.depth_of(s.count - 1), cut)
    by = "searched in C, depth first" if depth_first else "searched in C"
    found_by: dict[str, str] = {}
    if depth_first and not s.complete and not s.out_of_memory:
        by += _swarm(native, program, steps, paths, found_by, progress, sym is not None, deadline)
    return Found(s.states, s.complete, cut, NATIVE_MAX_STATES, paths, by, s.symmetry,
                 unreduced if s.symmetry is None else "", depth, found_by)


def _swarm(native: cexplore.Native, program: Program, steps: int, paths: dict[str, Any],
           found_by: dict[str, str], progress: Callable[[int, int, float], None] | None, sym: bool,
           deadline: float | None) -> str:
    """The swarm after a cut depth-first search: more depth-first runs, each in the successor order
    its seed draws, for the predicates still open. Adds each run's violations to `paths` (and which
    run found them to `found_by`) and says what ran. The runs keep fingerprints, not states (hash
    compaction, `Native.search_compact`), in a table sized from the memory available, so that each
    goes SWARM_STATES deep in states where a run keeping its states would stop far sooner. None
    of them proves anything (they keep no reachable set, and a fingerprint two states share hides
    one): what they add is violations, each replayed like any other."""
    ran, stopped, most = 0, "", 0
    # (the table no larger than the runs need: a fingerprint lands on any page of it, so a table
    # far larger than its contents is touched all over and costs its whole size all the same)
    slots = min(cexplore.compact_slots(), _table_for(SWARM_STATES))
    cap = min(SWARM_STATES, slots // 4 * 3)
    for seed in range(1, SWARM_RUNS + 1):
        open_ = frozenset(k for k in native.names if k not in paths)
        if not any(not k.startswith(COVER) for k in open_):  # (a cover alone is no reason to go on)
            break
        if deadline is not None and time.monotonic() >= deadline:
            stopped = ", stopped there by the time limit"
            break
        t = native.search_compact(steps, cap, slots, asked=open_, progress=progress, symmetry=sym,
                                  seed=seed, deadline=deadline)
        ran, most = ran + 1, max(most, t.states)
        for k, path in t.paths.items():
            paths[k] = concrete(program, path, t.symmetry) if t.symmetry is not None else path
            found_by[k] = f"run {seed + 1}, successors in seed {seed}'s order"
        if t.timed_out:
            stopped = ", the last stopped by the time limit"
            break
        if t.full:
            stopped = ", the last stopped by memory (its table three quarters full)"
            break
    if not ran:
        return stopped
    orders = "in the order seed 1 draws" if ran == 1 else f"in the orders seeds 1-{ran} draw"
    if ran == 1:
        stopped = stopped.replace(", the last stopped", ", stopped")
    return (f"; then {ran} more run{'s' if ran > 1 else ''} with hash compaction (64-bit fingerprints of "
            f"the states, not the states: {slots:,} slots, {slots * 8 / 2 ** 30:.1f} GB, within half the "
            f"memory available), of up to {cap:,} states each, successors {orders}{stopped}; the largest "
            f"kept {most:,} fingerprints")


def _table_for(states: int) -> int:
    """The least power of two of slots that holds `states` fingerprints below three quarters full."""
    slots = 1 << 20
    while slots // 4 * 3 < states:
        slots *= 2
    return slots


def _searched_depth(last: int, cut: str) -> int:
    """How deep a cut breadth-first search is complete, from the depth of the last state it found.
    Breadth first, states are found in order of depth: when the steps bound cut the search, every
    state up to that depth was found (and checked), none beyond; when the state limit or memory
    did, the search stopped inside a level, so every state of the level before it was found. A
    property no state broke then has no violation in runs of that many transitions, which is a
    BOUNDED verdict as bmc's is (symmetry-reduced too: a class is found no deeper than its states)."""
    return last if cut == "the steps bound" else max(0, last - 1)


def _model_key(job: Loaded, program: Program) -> str:
    """What the compiled model depends on: specmc's code, the Z3 that printed its terms, the spec
    text, the host profile, the bounds and the slice."""
    import z3
    from specmc.proofs.run.cache import tool_digest

    return repr((tool_digest(), z3.get_version_string(), certificate.file_digest(*job.spec_paths),
                 job.host_name, certificate.file_digest(job.host_path), job.job.bounds.describe(),
                 program.dropped))


def _found(r: Exploration, program: Program, limit: int, by: str, unreduced: str,
           shown: int | None = None) -> Found:
    """`limit`: the state limit the search ran under (which tells a cut by it from one by the steps
    bound); `shown`: the one to report, when that was a first stretch of a larger search."""
    states = np.array(list(r.reached), dtype=np.uint8).reshape(-1, program.layout.size)
    cut = "the state limit" if r.states >= limit else "the steps bound"
    depth = None if r.complete or not r.states else _searched_depth(r.last_depth(), cut)
    return Found(states, r.complete, cut, shown or limit, r.violations, by, r.symmetry, unreduced, depth)


def _readings_agree(program: Program, props: tuple[Property, ...], terms: dict[str, Any],
                    states: Any) -> None:
    """A user's predicate read on the values (the Python search's reading) and as the term (the C
    search's and every solver's), compared on the states the search reached (model/readings.py
    `check_states`): a difference there is E079, not a verdict of one reading (review 8: explicit
    said VIOLATED where the other engines PROVED)."""
    from specmc.model import readings

    xs = state_vars(program)
    for p in props:
        readings.check_states(program, p.holds, terms[p.id], xs, states)


def _terms(program: Program, props: tuple[Property, ...]) -> dict[str, Any]:
    """The explorer's predicates as Z3 terms, under the same names: each property, and the
    negation of each cover (broken where the cover is met)."""
    import z3

    xs = state_vars(program)
    out: dict[str, Any] = {}
    for p in props:
        out[p.id] = predicate_term(program, p.holds, xs)
        if p.cover is not None:
            # broken where the cover is met, and where it cannot be read (past an array's end: the
            # Python search stops there with E079, and so does the concrete check of the C path)
            c, defined = predicate_parts(program, p.cover, xs)
            out[COVER + p.id] = z3.And(*defined, z3.Not(c)) if defined \
                else (not c) if isinstance(c, bool) else z3.Not(c)
    return out


def _run_slice(job: Loaded, program: Program, props: tuple[Property, ...],
               report: Callable[[Outcome], None], started: float,
               progress: Callable[[int, int, float], None] | None = None,
               final: bool = True, temporal: tuple[Loaded, Property] | None = None,
               engine: str = "explicit", deadline: float | None = None) -> tuple[Property, ...]:
    """Search one slice and report its verdicts. A cut search (state limit, steps bound) reports its
    open properties UNKNOWN when `final`; otherwise it returns them, unreported. With `temporal`
    (the original job and its temporal property), the slice is of the monitored model: a violation
    is turned into a lasso of the original model, a proof into a k-liveness proof. `engine`:
    "explicit" (breadth first) or DEPTH_FIRST, the name its verdicts carry."""
    try:
        r = _search(job, program, props, progress, depth_first=engine == DEPTH_FIRST, deadline=deadline)
    except cexplore.Unavailable as e:  # (depth first only: breadth first falls back to Python)
        for p in props:
            report(Outcome(p.id, UNKNOWN, engine, reason=f"the depth-first search runs in C only: {e}")
                   .timed(time.perf_counter() - started))
        return ()
    at = program.layout.where("cut")[0]
    hit = tuple((CUT_NAMES[v], int(n)) for v, n in zip(*np.unique(r.states[:, at], return_counts=True),
                                                       strict=True) if int(v) in CUT_NAMES)
    kept = [i for i in range(program.layout.size) if i not in set(program.dropped)]
    how = sliced_to(program)

    def reached(p: Property) -> bool | None:
        return None if p.cover is None else COVER + p.id in r.violations

    for p in props:
        met = r.violations.get(COVER + p.id)
        if met is not None and p.cover is not None:  # where C found the cover, Python reads it too
            p.cover(program, ByteView(program.layout, met[-1][1]))  # (past an array's end: E079)
        path = r.violations.get(p.id)
        if path is not None:
            try:
                # the interpreter must see the violation too, not only the path: a predicate's term
                # (what the C search evaluates) and its concrete reading must agree on the last state
                checked = replay(job.program, [s for _, s in lift(program, path)], p.holds)
            except LiftError as e:
                raise ReplayError(str(e)) from None
            if temporal is not None:
                report(lasso.lasso_outcome(temporal[0], temporal[1], engine, [s for _, s in checked],
                                           f"; {r.count:,} states of the monitored model ({r.by})")
                       .timed(time.perf_counter() - started))
                continue
            trace = tuple(t.to_json() for t in build_trace(job.program, checked))
            found = "; the run it found, not the shortest" if engine == DEPTH_FIRST else ""
            if p.id in r.found_by:
                found += f"; found by {r.found_by[p.id]}"
            report(Outcome(p.id, VIOLATED, engine, len(path) - 1,
                           reason=f"{r.counted} explored{how} ({r.by}{found})",
                           trace=trace, cover_reached=reached(p), bounds_hit=hit)
                   .timed(time.perf_counter() - started))
    holding = [p for p in props if p.id not in r.violations]
    if not holding:
        return ()
    if not r.complete and not final:
        return tuple(holding)
    if not r.complete:
        stopped = (f"exploration stopped at {r.counted} by {r.cut} (limit {r.limit:,} states, "
                   f"{job.job.bounds.steps} steps{how}; {r.by})")
        for p in holding:
            if r.depth is None or temporal is not None:  # (a lasso's monitor has no BOUNDED to say)
                report(Outcome(p.id, UNKNOWN, engine, reason=stopped)
                       .timed(time.perf_counter() - started))
                continue
            # what the cut search did check: every run up to its depth, and whether any of those met
            # the property's situation (else it checked nothing, as review and check say)
            met = r.violations.get(COVER + p.id)
            within = None if p.cover is None else met is not None and len(met) - 1 <= r.depth
            report(Outcome(p.id, BOUNDED, engine, r.depth, cover_reached=within, bounds_hit=hit,
                           reason=f"{stopped}: no violation in runs of up to {r.depth} transitions")
                   .timed(time.perf_counter() - started))
        return ()
    # the invariant names the kept variables only: the certificate check holds it to the whole
    # model's transition relation, so a slice that dropped a variable it needed is refused there
    position = {v: n for n, v in enumerate(kept)}
    tested = [position[v] for v in variable_order(program.layout) if v in position]
    try:
        # representatives stand for their whole classes: the invariant is the union of their
        # orbits, closed under the symmetry as the reachable set is (model/symmetry.py)
        states = r.states if r.symmetry is None else r.symmetry.orbits(r.states)
        dd = diagram(states if len(kept) == states.shape[1] else states[:, kept], len(kept), tested)
        names = [str(x) for x in state_vars(program)]
        inv = to_smtlib(dd, [names[v] for v in kept])
    except MemoryError:
        for p in holding:
            report(Outcome(p.id, UNKNOWN, engine, reason=f"the search was complete ({r.counted}"
                           f"{how}; {r.by}), but its certificate ran out of memory")
                   .timed(time.perf_counter() - started))
        return ()
    if r.symmetry is not None:
        # the orbits hold every reachable state and may hold unreachable ones (a representative
        # need not be reachable itself: model/symmetry.py), so their count is no reachable count
        method = (f"reachable set, symmetry-reduced: {r.count:,} canonical states (certified as their "
                  f"orbits: {states.shape[0]:,} states, a superset of the reachable ones), {len(dd):,} "
                  f"diagram nodes{how} ({r.by})")
    else:
        unreduced = f"; not symmetry-reduced: {r.unreduced}" if r.unreduced else ""
        method = f"reachable set: {r.count:,} states, {len(dd):,} diagram nodes{how} ({r.by}{unreduced})"
    if temporal is not None:
        assert temporal[1].temporal is not None
        method = lasso.proved_method(method, most_turns(program, r.states), temporal[1].temporal)
    for p in holding:
        subject = job.subject(p)
        path = certificate.write(certificate_dir(job.job), subject, job.program, inv, "explicit " + method,
                                 holds=p.holds, origin=job)
        try:
            certificate.recheck(path, subject, job.program, p.holds)
        except CertificateError as e:
            report(Outcome(p.id, UNKNOWN, engine, reason=f"certificate refused: {e}")
                   .timed(time.perf_counter() - started))
            continue
        report(Outcome(p.id, PROVED, engine, method=method, certificate=path,
                       cover_reached=reached(p), bounds_hit=hit)
               .timed(time.perf_counter() - started))
    return ()
