"""One unit of checking: a spec, a host, bounds, some properties. Plain data, so it can be
sent to an engine in another process, which builds the model for itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specmc.model.bounds import Bounds
from specmc.model.program import Program
from specmc.proofs.certify.certificate import Subject, file_digest
from specmc.proofs.properties import Property
from specmc.proofs.verdict import Outcome


def default_certificates() -> str:
    """Where certificates go unless `--certificates` says: `$SPECMC_CERTIFICATES`, else the user's
    cache folder (`$XDG_CACHE_HOME/specmc/certificates`, by default `~/.cache/...`). They are
    derived files, re-made by any run and re-checked by `specmc recheck`; writing them into
    `./proofs/certificates` of whatever folder the user happens to be in surprised users."""
    import os

    if os.environ.get("SPECMC_CERTIFICATES"):
        return os.environ["SPECMC_CERTIFICATES"]
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(cache) / "specmc" / "certificates")


@dataclass(frozen=True)
class Job:
    specs: tuple[str, ...]  # paths; "embedded" is the shipped rendition
    host: str  # shipped name or profile path
    bounds: Bounds
    properties: tuple[str, ...]  # ids; () is the whole catalogue
    properties_files: tuple[str, ...] = ()
    depth: int = 60  # BMC / k-induction limit
    timeout: float = 600.0  # seconds for the whole job
    certificates: str = ""  # folder; "" is default_certificates()


@dataclass(frozen=True)
class Loaded:
    job: Job
    program: Program
    properties: tuple[Property, ...]
    spec_paths: tuple[str, ...]
    host_name: str
    host_path: str

    def subject(self, prop: Property) -> Subject:
        return Subject(file_digest(*self.spec_paths), self.host_name, file_digest(self.host_path), prop.id,
                       self.job.bounds.describe())


def spec_paths(job: Job) -> tuple[str, ...]:
    from specmc.spec.load import EMBEDDED, expand_paths

    paths = [str(EMBEDDED) if s == "embedded" else s for s in job.specs]
    return tuple(str(p) for p in expand_paths(paths))


def load(job: Job) -> Loaded:
    from specmc.model.build import build
    from specmc.model.hosts import load_host
    from specmc.proofs.properties import select
    from specmc.proofs.properties.userfile import load_properties_file
    from specmc.spec.load import load_specs

    for f in job.properties_files:
        load_properties_file(f)
    props = tuple(select(list(job.properties)))
    host = load_host(job.host)
    paths = spec_paths(job)
    spec = load_specs(list(paths))
    program = build(spec, host, job.bounds)
    return Loaded(job, program, props, paths, host.name, host.path)


def slices(job: Loaded, together: bool = False) -> list[tuple[Program, tuple[Property, ...]]]:
    """The job's properties grouped by cone of influence, each group with the model cut down to
    its cone (model/slice.py): what an engine that searches the state space searches, one group
    at a time. With `together`, one group: every property, the model cut down to the union of
    their cones (only what no property asked about is left out). An engine that proves from a
    slice writes an invariant over the kept variables only, and the certificate check holds it
    to the whole model."""
    from specmc.model.slice import groups, sliced

    deps = _dependencies(job)
    seeds = {p.id: deps.of(p.holds) | (deps.of(p.cover) if p.cover is not None else frozenset())
             for p in job.properties}
    if together:
        return [(sliced(job.program, deps.cone(frozenset().union(*seeds.values()))), job.properties)]
    by_id = {p.id: p for p in job.properties}
    return [(sliced(job.program, cone), tuple(by_id[i] for i in ids)) for cone, ids in groups(deps, seeds)]


_DEPENDENCIES: list[tuple[Program, Any]] = []  # the last program's, with the program it is for
KEEP_DEPENDENCIES = 256  # dependency files kept on disk; the least recently written go first


def _dependencies(job: Loaded) -> Any:
    """Dependencies of the job's program (model/slice.py), kept for the next call (an engine asks
    for the union and then for the groups) and on disk beside the compiled models, under a hash
    of everything the program is built from: specmc's sources, the spec files, the host profile
    and the bounds (and the program's variables and command names, since an engine may derive
    another program from the same inputs). Building them costs every command's Z3 term, most of
    the time of a check that a short counterexample decides (the seed: 0.7 of 1.5 s)."""
    import hashlib
    import json

    from specmc.model.ccompile import Unavailable, cache_dir, private
    from specmc.model.slice import Dependencies
    from specmc.proofs.atomic import write_atomic
    from specmc.proofs.run.cache import tool_digest

    program = job.program
    if _DEPENDENCIES and _DEPENDENCIES[0][0] is program:
        return _DEPENDENCIES[0][1]
    # the inputs, and the program's own shape: a program derived from the same inputs (the
    # monitored model of a temporal property adds counters and commands) gets a file of its own
    shape = (program.layout.names, tuple(c.name for c in program.commands))
    key = hashlib.sha256(repr((tool_digest(), file_digest(*job.spec_paths), file_digest(job.host_path),
                               job.job.bounds.describe(), shape)).encode()).hexdigest()[:32]
    folder = cache_dir()
    path = folder / f"deps-{key}.json"
    deps = None
    try:
        private(folder)
        deps = Dependencies.stored(program, json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, Unavailable):
        pass
    if deps is None:
        deps = Dependencies(program)
        try:
            private(folder)
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(path, json.dumps(deps.parts()))
            kept = sorted(folder.glob("deps-*.json"), key=lambda f: f.stat().st_mtime)
            for old in kept[:-KEEP_DEPENDENCIES]:
                old.unlink(missing_ok=True)
        except (OSError, Unavailable):
            pass  # a cache that cannot be written costs time, never a verdict
    _DEPENDENCIES[:] = [(program, deps)]
    return deps


def sliced_to(program: Program) -> str:
    """How a slice differs from the whole model, for results (empty for the whole model)."""
    if not program.dropped:
        return ""
    gone = set(program.dropped)
    names = []
    for n, base, size in program.layout.names:
        out = [i for i in range(size) if base + i in gone]
        if len(out) == size:
            names.append(n)
        elif out:  # part of an array: its dropped elements by index
            names += [f"{n}[{i}]" for i in out]
    kept = program.layout.size - len(gone)
    return f"; sliced to {kept} of {program.layout.size} variables, without {', '.join(names)}"


def predicate(program: Program, prop: Property) -> Any:
    """The property as an explorer predicate, memoised on the state variables it reads."""
    return state_predicate(program, prop.holds)


def cover_predicate(program: Program, prop: Property) -> Any:
    """The property's cover as an explorer predicate (None: the property declares none)."""
    return state_predicate(program, prop.cover) if prop.cover is not None else None


def static_cover(program: Program, prop: Property) -> bool | None:
    """False when the cover is false in every state by construction (a tracing host has no free
    operation), so that any engine's PROVED can be called vacuous without a search; else None."""
    import z3
    from specmc.model.symbolic import predicate_term, state_vars

    if prop.cover is None:
        return None
    term = predicate_term(program, prop.cover, state_vars(program))
    if isinstance(term, bool):
        return False if term is False else None
    return False if _valid(z3.Not(term)) else None


def absent(program: Program, prop: Property) -> tuple[str, ...]:
    """The algorithms the property's predicate or cover names that this model does not have (its
    text renamed or removed them), read off one concrete evaluation: a property about
    CleanupFinalizationRegistry's frames sees none in a text that calls it CleanupRegistry, and
    its PROVED is vacuous for that reason (review 8: a review said "got worse" and nothing more)."""
    from specmc.model.domain import ByteView
    from specmc.proofs.properties.predicates import missing_names

    with missing_names() as names:
        for fn in (prop.holds, prop.cover):
            if fn is None or prop.temporal is not None:
                continue
            try:
                fn(program, ByteView(program.layout, program.init))
            except Exception:  # (a user's predicate: its own errors are reported where it is read)
                pass
    return tuple(sorted(names))


def _valid(term: Any) -> bool:
    """The term is true for every value of the state variables, as a solver decides it (not
    z3.simplify, which leaves `not (sp == 1 and sp == 2)` or `sp < 5 or 5 <= sp` standing: an
    independent review's third round). A solver that cannot answer within a second says no."""
    import z3

    if z3.is_true(z3.simplify(term)):
        return True
    s = z3.Solver()
    s.set("timeout", 1000)
    s.add(z3.Not(term))
    return s.check() == z3.unsat


def static_holds(program: Program, prop: Property) -> bool:
    """True when the property holds in every state by construction: its term, built over
    symbolic state variables, is valid (it reads nothing, compares a variable with itself, or is
    a tautology however written). A PROVED of such a property says nothing about the model: it
    is vacuous. A temporal property's `holds` is true everywhere on purpose (its lasso search is
    the check)."""
    if prop.temporal is not None:
        return False
    from specmc.model.symbolic import predicate_term, state_vars

    term = predicate_term(program, prop.holds, state_vars(program))
    if isinstance(term, bool):
        return term
    return _valid(term)


def _reads(program: Program, fn: Callable[[Program, Any], Any]) -> tuple[int, ...] | bool:
    """The state variables a predicate `fn(program, view)` reads, read off its own Z3 term (built
    by the same code over symbolic inputs, so no variable the concrete evaluation depends on can
    be missing); or its value, when it reads none."""
    import z3
    from specmc.model.slice import reads
    from specmc.model.symbolic import predicate_term, state_vars

    xs = state_vars(program)
    term = predicate_term(program, fn, xs)
    used = tuple(sorted(reads(term, {x.get_id(): i for i, x in enumerate(xs)})))
    if used:
        return used
    return bool(term) if isinstance(term, bool) else bool(z3.is_true(z3.simplify(term)))


def state_predicate(program: Program, fn: Callable[[Program, Any], Any]) -> Any:
    """A state predicate `fn(program, view)` for the explorer, memoised on the variables it reads
    (most properties read a handful of the ~100 variables, so most states hit the memo). `fn`
    reads the state through a ByteView (model/domain.py): its Python arithmetic on state values
    wraps at 8 bits, as in its Z3 term, which the C search and the solvers check."""
    import operator

    from specmc.model.domain import ByteView

    used = _reads(program, fn)
    if isinstance(used, bool):
        return lambda S, value=used: value
    project = operator.itemgetter(*used) if len(used) > 1 else (lambda st: st[used[0]])
    memo: dict[Any, bool] = {}

    def holds(S: Any) -> bool:
        key = project(S.values)
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = bool(fn(program, ByteView(S.layout, S.values)))
        return hit

    return holds


def each_property(job: Loaded, engine: str, decide: Callable[[Property, float], Outcome],
                  report: Callable[[Outcome], None]) -> None:
    """The symbolic engines' loop: one shared deadline, each property decided in turn and timed;
    a solver that gives up (time limit, `unknown`) makes that property UNKNOWN, never PROVED."""
    from specmc.proofs.engines.solver import SolverUnknown
    from specmc.proofs.verdict import UNKNOWN

    deadline = time.monotonic() + job.job.timeout
    for p in job.properties:
        started = time.perf_counter()
        try:
            out = decide(p, deadline)
        except SolverUnknown as e:
            out = Outcome(p.id, UNKNOWN, engine, reason=f"solver: {e.reason}")
        report(out.timed(time.perf_counter() - started))


def certificate_dir(job: Job) -> Path:
    return Path(job.certificates or default_certificates())
