"""`specmc check`: run every combination of a plan and compare each verdict with its expectation.

A row fails when its verdict differs from the expectation; with no expectation, only a
VIOLATED verdict fails. An expectation is stale when its host or property no longer
exists: that fails too, so that a plan cannot silently stop checking something.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from specmc.model.bounds import Bounds, parse_bounds
from specmc.proofs import exitcodes
from specmc.proofs.engines import portfolio
from specmc.proofs.progress import prefixed
from specmc.proofs.properties import CATALOGUE, has_cover
from specmc.proofs.run.job import Job, spec_paths
from specmc.proofs.run.plan import Plan, Run
from specmc.proofs.verdict import (
    BOUNDED,
    CELLS_ONCE,
    NOT_APPLICABLE,
    PROVED,
    UNKNOWN,
    VACUOUS,
    VIOLATED,
    Outcome,
)
from specmc.spec import diagnostics as diag
from specmc.spec.diagnostics import SpecError

# why a row has no verdict at all, from its outcome's reason (proofs/engines/portfolio.py words them)
BAD_INPUT = "bad input"  # the model cannot be built, or a user's predicate failed: exit 2
INTERNAL = "internal error"  # an engine failed: exit 3


@dataclass(frozen=True)
class Row:
    run: str
    spec: str
    host: str
    property: str
    bounds: str
    outcome: Outcome
    expected: str | None
    # what the host's profile asks for that the run's bounds leave out (model.build.host_notes)
    notes: tuple[str, ...] = ()

    @property
    def error(self) -> str:
        """BAD_INPUT or INTERNAL when the row has no verdict because something failed, else ""."""
        reason = self.outcome.reason
        if portfolio.bad_input(reason):
            return BAD_INPUT
        return INTERNAL if reason.startswith(INTERNAL) else ""

    @property
    def has_cover(self) -> bool:
        """The property names the situation it is about; one without a cover is never vacuous, so
        no engine leaves anything about it open."""
        return has_cover(self.property)

    @property
    def ok(self) -> bool:
        """A vacuous PROVED passes only where the plan expects `PROVED (vacuous)`: a proof about a
        situation no run reaches must be asked for, never taken for a real one. A row with no
        verdict because its input was bad or an engine failed is never ok, whatever is expected.
        A PROVED whose cover was not checked (`Outcome.cover_open`) does not fail an expected
        `PROVED (vacuous)`: nothing contradicts it; it is `undecided` instead (sixth review)."""
        o = self.outcome
        if self.error:
            return False
        if not o.applicable:  # the host, in its profile, says it does not promise this
            return self.expected in (None, NOT_APPLICABLE)
        if self.expected is None:
            return o.verdict != VIOLATED and not o.vacuous
        if self.expected == VACUOUS:
            # "PROVED (vacuous; frames hit)" is still the vacuous result expected
            return o.vacuous or (o.cover_open and self.has_cover)
        return o.verdict == self.expected and not o.vacuous

    @property
    def undecided(self) -> str:
        """Why a row that passes decided nothing its expectation asks ("" when it did): an UNKNOWN
        where the plan expects nothing; a BOUNDED at a depth where no state meets the property's
        cover, or where the engine could not tell (also where the plan expects BOUNDED, which
        names no depth); a PROVED whose cover was not checked, where the expectation depends on
        it (none, PROVED, or `PROVED (vacuous)`: a symbolic engine's proof may be vacuous, sixth
        review); a PROVED or BOUNDED cut at `cells-once`, a text the model cannot follow, which
        no bound lifts. Such rows pass but checked nothing, so `check` exits 4 rather than 0
        (`Report.undecided`). A plan whose every run timed out read "0 not as expected", exit 0
        (third review), and so did bmc at depth 1 (fourth review)."""
        o = self.outcome
        if not self.ok:
            return ""
        if not o.applicable:
            # nothing was searched: a pass only where the plan asks for exactly this (review 8:
            # `check --property eventually-delivered` on the reference host exited 0 having
            # checked nothing, where `review` counts the same pair as not searched)
            return "" if self.expected == NOT_APPLICABLE else \
                "NOT APPLICABLE, nothing expected: nothing searched"
        if o.verdict == UNKNOWN and self.expected is None:
            return "UNKNOWN, nothing expected"
        if o.cut_by_text:
            return (f"some run was cut at {CELLS_ONCE}: the text appends one cell twice, which the "
                    "model cannot follow, and no bound lifts that cut")
        if o.verdict == BOUNDED and o.cover_reached is not True and self.expected in (None, BOUNDED.value):
            return ("no state within its depth meets the cover: nothing checked" if o.cover_reached is False
                    else "the engine did not check the cover within its depth")
        if o.cover_open and self.has_cover and self.expected in (None, PROVED.value, VACUOUS):
            return "cover not checked: the engine cannot tell whether this proof is vacuous"
        return ""

    def to_json(self) -> dict[str, Any]:
        o = self.outcome
        return {"run": self.run, "spec": self.spec, "host": self.host, "property": self.property,
                # NOT APPLICABLE is no proof (nothing searched, no certificate): never "PROVED" here
                "bounds": self.bounds, "verdict": o.verdict if o.applicable else NOT_APPLICABLE,
                "label": o.label, "vacuous": o.vacuous,
                "applicable": o.applicable,
                "cover": CATALOGUE[self.property].cover_meaning if self.property in CATALOGUE else None,
                "cover_reached": o.cover_reached, "trivial": o.trivial,
                "bounds_hit": dict(o.bounds_hit) if o.bounds_hit is not None else None,
                "engine": o.engine, "depth": o.depth,
                "seconds": o.seconds, "expected": self.expected, "certificate": o.certificate,
                "method": o.method or None, "reason": o.reason or None, "ok": self.ok,
                "undecided": self.undecided or None,
                "notes": list(self.notes), "trace": list(o.trace)}


@dataclass(frozen=True)
class Stale:
    run: str
    host: str
    property: str
    expected: str
    where: str
    why: str


@dataclass(frozen=True)
class Report:
    plan: str
    rows: tuple[Row, ...]
    stale: tuple[Stale, ...] = field(default=())
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows) and not self.stale

    @property
    def undecided(self) -> tuple[Row, ...]:
        """Rows that pass but decided nothing their expectation asks (`Row.undecided`): `check`
        says so in its exit code (4) rather than 0, and every format counts them."""
        return tuple(r for r in self.rows if r.undecided)

    @property
    def exit_code(self) -> int:
        """`check`'s exit code from the report alone (README, "Exit codes"): 3 when an engine
        failed, 2 when a model could not be built or a user's predicate failed, 1 when a verdict
        is not as expected or an expectation is stale, 4 when every verdict is as expected but
        some row decided nothing, else 0. The command returns exactly this, and the JSON report
        carries it, so that a tool reading the file cannot take a run that checked nothing for
        a pass (sixth review)."""
        if any(r.error == INTERNAL for r in self.rows):
            return exitcodes.INTERNAL_ERROR
        if any(r.error == BAD_INPUT for r in self.rows):
            return exitcodes.INPUT_ERROR
        if not self.ok:
            return exitcodes.FINDING
        return exitcodes.NOT_CHECKED if self.undecided else exitcodes.OK

    def to_json(self) -> dict[str, Any]:
        # "ok": what exit 0 means (nothing failed and every row decided); "exit": the code itself
        return {"plan": self.plan, "ok": self.exit_code == exitcodes.OK, "exit": self.exit_code,
                "undecided": len(self.undecided), "seconds": self.seconds,
                "results": [r.to_json() for r in self.rows],
                "stale": [s.__dict__ for s in self.stale]}


@dataclass(frozen=True)
class Overrides:
    """Command-line choices for every run: --host and --property narrow the plan's lists
    (select), the others replace the plan's values (apply)."""

    specs: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()
    engine: str | None = None
    bounds: str | None = None
    depth: int | None = None
    timeout: float | None = None
    properties_files: tuple[str, ...] = ()  # more properties for every run (beside the plan's files)

    def select(self, runs: tuple[Run, ...]) -> list[Run]:
        """The runs to do, narrowed by --host and --property alike: a run that names one of the
        hosts (properties) asked for is kept with only those, and a host (property) no run names
        (a new profile file, a property from --properties-file, one the plan leaves out) is
        checked under every run. A run with no properties listed checks the whole catalogue, so
        it names every property. Every host and property asked for is checked: one the plan
        names used to drop those it does not (`--host ecma262 --host quickjs-ng-0.12` checked
        only ecma262), and --property used to replace each run's list, so that a run made for
        one property (the spec hazard's) checked another it has no expectation for."""
        def narrow(asked: tuple[str, ...], named: list[tuple[str, ...]]) -> list[tuple[str, ...] | None]:
            asked = tuple(dict.fromkeys(asked))
            unnamed = tuple(a for a in asked if not any(not n or a in n for n in named))
            return [(tuple(a for a in asked if not n or a in n) + unnamed) or None for n in named]

        hosts = narrow(self.hosts, [r.hosts for r in runs]) if self.hosts else [r.hosts for r in runs]
        props = narrow(self.properties, [r.properties for r in runs]) if self.properties \
            else [r.properties for r in runs]
        return [replace(self.apply(r), hosts=h, properties=p)
                for r, h, p in zip(runs, hosts, props, strict=True) if h is not None and p is not None]

    def apply(self, run: Run) -> Run:
        """The run with the command line's values. A run whose bounds --bounds changed is named for
        them too: progress and reports showed "[default bounds]" for a run at objects=1."""
        bounds: Bounds = parse_bounds(self.bounds, run.bounds) if self.bounds else run.bounds
        name = run.name if bounds == run.bounds else f"{run.name}, --bounds {self.bounds}"
        return replace(run, name=name, specs=self.specs or run.specs, engine=self.engine or run.engine,
                       bounds=bounds, depth=self.depth if self.depth is not None else run.depth,
                       timeout=self.timeout or run.timeout,
                       properties_files=run.properties_files + tuple(
                           f for f in self.properties_files if f not in run.properties_files))


def distinct_names(run: Run, hosts: list[Any]) -> None:
    """Rows, expectations, certificates and witnesses name a host by its profile's name (a file's
    stem): two profiles of one name in a run (`fake/quickjs-ng-0.6.html` beside the shipped one)
    were two rows no report told apart, under one expectation (fourth review). E071, at the run."""
    seen: dict[str, str] = {}
    for h in hosts:
        if h.name in seen and seen[h.name] != h.path:
            raise SpecError([diag.make("E071", run.loc, what=(
                f"two host profiles named '{h.name}' in run '{run.name}' ({seen[h.name]} and {h.path}); a "
                "host is named by its file's stem: rename one file"))])
        seen[h.name] = h.path


def check(plan: Plan, overrides: Overrides = Overrides(), certificates: str = "",
          progress: Callable[[str], None] = lambda _m: None, scheduler: str = "") -> Report:
    """Every run of the plan on every host, against its expectations. The (run, host) tasks run
    side by side in this process, or with `scheduler` on a Dask cluster (proofs/run/distribute.py):
    the same outcomes, gathered in the same order."""
    from specmc.model.build import host_notes, trace_notes
    from specmc.model.hosts import load_host
    from specmc.proofs.properties import select
    from specmc.proofs.properties.userfile import load_properties_file

    started = time.monotonic()
    rows: list[Row] = []
    stale: list[Stale] = []
    tasks: list[portfolio.Task] = []
    planned: list[tuple[Run, Any, tuple[str, ...], str, dict, tuple[str, ...]]] = []
    for run in overrides.select(plan.runs):
        for f in run.properties_files:
            load_properties_file(f)
        props = tuple(p.id for p in select(list(run.properties)))
        hosts = [load_host(h) for h in run.hosts]  # every host is validated before any engine runs
        distinct_names(run, hosts)
        names = {h.name for h in hosts}
        expected = {(e.host, e.property): e for e in run.expect}
        as_planned = next((r for r in plan.runs if r.loc == run.loc), run)  # before the overrides
        for e in run.expect:
            why = _stale(e.host, e.property, names, props, as_planned)
            if why:
                stale.append(Stale(run.name, e.host, e.property, e.verdict, str(e.loc), why))
        progress(f"[{run.name}] at {run.bounds.describe()}: {', '.join(h.name for h in hosts)}")
        for host in hosts:
            tasks.append(task(run, host.path, props, certificates))
            spec_label = ", ".join(spec_paths(Job(run.specs, host.path, run.bounds, props)))
            notes = host_notes(host, run.bounds)
            for n in notes:
                progress(f"  [{run.name}] note: {host.name}: {n}")
            planned.append((run, host, props, spec_label, expected, notes))
    # every (run, host) job, side by side as the cores allow; a job that two runs ask for alike
    # (command-line overrides can make them so) runs once
    unique = list({(t.job, t.engines): t for t in tasks}.values())
    if scheduler:
        from specmc.proofs.run import distribute

        done = distribute.run_many(unique, scheduler, progress=lambda m: progress(prefixed("  ", m)))
    else:
        done = portfolio.run_many(unique, progress=lambda m: progress(prefixed("  ", m)))
    by_job = {(t.job, t.engines): r for t, r in zip(unique, done, strict=True)}
    results = [by_job[(t.job, t.engines)] for t in tasks]
    for (run, host, props, spec_label, expected, notes), outcomes in zip(planned, results, strict=True):
        for pid in props:
            e = expected.get((host.name, pid))
            o = outcomes[pid]
            rows.append(Row(run.name, spec_label, host.name, pid, run.bounds.describe(), o,
                            e.verdict if e else None, notes + trace_notes(host, run.bounds, o.trace)))
    return Report(plan.path, tuple(rows), tuple(stale), round(time.monotonic() - started, 3))


def task(run: Run, host_path: str, props: tuple[str, ...], certificates: str) -> portfolio.Task:
    """The run's engines on one host, as a portfolio task."""
    engines = portfolio.portfolio_members() if run.engine == "portfolio" else (run.engine,)
    job = Job(run.specs, host_path, run.bounds, props, run.properties_files, run.depth, run.timeout,
              certificates)
    return portfolio.Task(job, props, engines, f"[{run.name}] {Path(host_path).stem}: ")


def decide(run: Run, host_path: str, props: tuple[str, ...], certificates: str,
           progress: Callable[[str], None]) -> dict[str, Outcome]:
    """The run's engines on one host: an outcome for every property."""
    progress(f"[{run.name}] at {run.bounds.describe()}")
    return portfolio.run_many([task(run, host_path, props, certificates)],
                              progress=lambda m: progress(prefixed("  ", m)), at_once=1)[0]


def _stale(host: str, prop: str, checked_hosts: set[str], checked: tuple[str, ...], planned: Run) -> str:
    """Why an expectation of this run can never be compared with a verdict ("" when it can): its
    property or host does not exist, or the plan's run does not check it (an expectation under
    `[run.expect.v8]` in a run whose hosts leave v8 out was read and never looked at). One the
    command line narrowed away (--host, --property) is not stale: the plan still checks it."""
    from specmc.model.hosts import load_host, shipped

    if prop not in CATALOGUE:
        return "no such property"
    if host not in checked_hosts:
        if host not in shipped() and all(h in shipped() for h in planned.hosts):
            return "no such host"
        if host not in {h if h in shipped() else load_host(h).name for h in planned.hosts}:
            return "not among the run's hosts"
    if prop not in checked and planned.properties and prop not in planned.properties:
        return "not among the run's properties"
    return ""
