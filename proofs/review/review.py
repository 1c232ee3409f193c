"""`specmc review BASE HEAD`: what a spec change did to the algorithms, the model and the verdicts.

A review is data (`Review`), rendered by proofs/report/review.py. It answers, in this order:
which algorithms changed and how (a step-level diff with step numbers on both sides); whether
the model compiled from the text changed at all (`model.normal`: equal normal forms compile to
the same transitions); which unknown steps the change brought in; and for every combination of
the plan, the verdict on BASE and on HEAD, with the counterexample of each new violation and the
steps on its path that the change touched.

Verdicts are never carried over by guessing: a host whose model is identical on both sides
(equal normal forms) has, by construction, the same transition system and so the same verdicts;
every other host is checked on HEAD by the plan's engines, the properties the change can affect
first (`rerun_order`).

A review that could not check something says so instead of passing: a verdict pair whose model
cannot be built on either side, or that is UNKNOWN on both sides, is "not checked", and its
reasons are located on the side's own paths (`HEAD:spec.html:12425:14`, never the private copy).
So is every pair of a changed model when not one of them was decided by a search (`decided`:
NOT APPLICABLE, vacuous and a BOUNDED short of the property's cover compare nothing).
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from specmc.model.bounds import Bounds
from specmc.model.build import build, host_notes
from specmc.model.by_hand import hand_modelled
from specmc.model.hosts import HostProfile, load_host
from specmc.model.normal import ModelForm, model_form
from specmc.proofs import exitcodes
from specmc.proofs.certify.certificate import file_digest
from specmc.proofs.engines.portfolio import UNBUILDABLE, bad_input
from specmc.proofs.properties import has_cover, select
from specmc.proofs.properties.userfile import load_properties_file
from specmc.proofs.review.changes import AlgorithmChange, UnknownStep, algorithm_changes, new_unknown
from specmc.proofs.review.hand import HandChange, hand_changes
from specmc.proofs.review.order import order_line, rerun_order
from specmc.proofs.review.sides import Side, built, open_side
from specmc.proofs.run.cache import VerdictCache
from specmc.proofs.run.check import Overrides, decide, distinct_names
from specmc.proofs.run.plan import Plan
from specmc.proofs.verdict import BOUNDED, CELLS_ONCE, PROVED, UNKNOWN, VIOLATED, Outcome
from specmc.spec import ir
from specmc.spec.diagnostics import SpecError
from specmc.spec.ir import Step

# ----------------------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class HostModel:
    host: str
    identical: bool
    changed: tuple[str, ...]  # model algorithms whose normal form differs
    base_error: str  # why the model could not be built ("" when it was)
    head_error: str
    # the text's general definitions the model replaced by its own meaning (a whole spec.html
    # defines Call, SameValue, ...; model.build.Substitution), on either side
    by_hand: tuple[str, ...] = ()


@dataclass(frozen=True)
class VerdictPair:
    run: str
    host: str
    property: str
    base: Outcome
    head: Outcome
    carried: bool  # HEAD's model is BASE's: the verdict is the same by construction
    touched: tuple[int, ...] = ()  # indices of HEAD trace steps in steps the change touched
    # the property reads what a changed algorithm writes or runs (`rerun_order`): HEAD checks it
    # before the others. A priority only: every property is checked all the same
    first: bool = False
    # what the run's bounds leave out of the host's profile (model.build.host_notes), as check's
    # rows say it: neither verdict covers it
    notes: tuple[str, ...] = ()

    @property
    def worse(self) -> bool:
        """HEAD's verdict ranks lower, or HEAD's proof became vacuous where BASE's was not: a
        PROVED whose cover no state reaches says nothing, so losing the cover is losing the proof
        (a change that stops register appending its cell proves held-value-once about nothing)."""
        if self.head.verdict.goodness != self.base.verdict.goodness:
            return self.head.verdict.goodness < self.base.verdict.goodness
        return self.head.vacuous and not self.base.vacuous and self.base.cover_reached is True

    @property
    def new_violation(self) -> bool:
        return self.head.verdict == VIOLATED and self.base.verdict != VIOLATED

    @property
    def searched(self) -> bool:
        """HEAD's verdict was decided by a search that met the property's situation (`decided`).
        HEAD's, since the review is about the change: a BASE that reached the cover says nothing
        of a HEAD whose BOUNDED no longer does (a change that makes registering take more steps
        than the depth). A pair NOT APPLICABLE, vacuous, UNKNOWN or BOUNDED short of the cover
        compared nothing, however equal its two verdicts look."""
        return decided(self.head)

    @property
    def not_checked(self) -> bool:
        """The review says nothing about this combination: a side's model could not be built (so
        there is nothing to compare against), neither side got a verdict, or HEAD's runs were cut
        where the model cannot follow the text (`Outcome.cut_by_text`: a cell appended twice), a
        cut no bound lifts, so that its PROVED says nothing past the cut (`check` counts such a
        row undecided alike; sixth review: "PROVED -> PROVED within bounds (cells-once hit)"
        read as not worse, and a review of such a change passed)."""
        both_unknown = self.base.verdict == UNKNOWN and self.head.verdict == UNKNOWN
        return both_unknown or unbuildable(self.base) or unbuildable(self.head) or self.head.cut_by_text

    def unchecked_sides(self) -> tuple[tuple[str, str], ...]:
        """(side, reason) for each side that left this combination unchecked."""
        if not self.not_checked:
            return ()
        sides = (("base", self.base), ("head", self.head))
        unknown = tuple((side, o.reason or "no reason given") for side, o in sides if o.verdict == UNKNOWN)
        return unknown + ((("head", CUT_BY_TEXT),) if self.head.cut_by_text else ())

    def to_json(self) -> dict[str, Any]:
        return {"run": self.run, "host": self.host, "property": self.property,
                "base": self.base.verdict, "head": self.head.verdict, "worse": self.worse,
                "base_label": self.base.label, "head_label": self.head.label,
                "not_checked": self.not_checked, "carried_over": self.carried,
                "base_reason": self.base.reason or None, "head_reason": self.head.reason or None,
                "trace": list(self.head.trace) if self.new_violation else [],
                "touched_steps": list(self.touched), "checked_first": self.first, "notes": list(self.notes),
                "searched": self.searched, "base_depth": self.base.depth, "head_depth": self.head.depth,
                "base_cover_reached": self.base.cover_reached, "head_cover_reached": self.head.cover_reached}


@dataclass(frozen=True)
class Review:
    base: str
    head: str
    plan: str
    changed: tuple[AlgorithmChange, ...]
    models: tuple[HostModel, ...]
    new_unknown: tuple[UnknownStep, ...]
    verdicts: tuple[VerdictPair, ...]
    seconds: float = 0.0
    # clauses whose meaning the model builds in (model/by_hand.py) and whose text changed: no
    # verdict can reflect them
    hand_changed: tuple[HandChange, ...] = ()
    strict: bool = False  # --strict: a changed hand-modelled clause fails the review
    # changes only a wider bound would run (`_beyond_the_bounds`): the review did not check them
    unrun: tuple[UnrunChange | UnreachedChange | UnaffectedChange, ...] = ()

    @property
    def model_identical(self) -> bool:
        return all(m.identical for m in self.models)

    @property
    def failing(self) -> bool:
        """CI fails when a verdict got worse or a new unknown step sits in an algorithm the model
        uses, and under --strict when a hand-modelled clause changed."""
        return (any(v.worse for v in self.verdicts) or any(u.in_model for u in self.new_unknown)
                or (self.strict and bool(self.hand_changed)))

    def notes(self) -> tuple[tuple[str, str, str], ...]:
        """(run, host, note) once each: what each run's bounds leave out of its hosts' profiles."""
        return tuple(dict.fromkeys((v.run, v.host, n) for v in self.verdicts for n in v.notes))

    def internal_errors(self) -> tuple[VerdictPair, ...]:
        """Pairs an engine failed on: a bug in specmc, never a finding."""
        return tuple(v for v in self.verdicts if v.base.reason.startswith("internal error")
                     or v.head.reason.startswith("internal error"))

    def exit_code(self) -> int:
        """The command's exit code: an internal error outranks a finding, which outranks what
        could not be checked (README, "Exit codes")."""
        if self.internal_errors():
            return exitcodes.INTERNAL_ERROR
        if self.failing:
            return exitcodes.FINDING
        return exitcodes.OK if self.checked else exitcodes.NOT_CHECKED

    @property
    def nothing_searched(self) -> bool:
        """Some model changed, and no combination checked on a changed model was decided by a
        search (`VerdictPair.searched`): every verdict there is NOT APPLICABLE, vacuous, UNKNOWN
        or BOUNDED at a depth that never met the property's situation. Such a review compared
        nothing, so it cannot pass (an independent review passed one whose every verdict was NOT
        APPLICABLE, and one whose bmc depth could not reach a registration)."""
        changed = [v for v in self.verdicts if not v.carried]
        return bool(changed) and not any(v.searched for v in changed)

    @property
    def not_checked(self) -> tuple[VerdictPair, ...]:
        """The combinations this review could not check; while any is left, it does not pass.
        When nothing was searched on a changed model, every combination checked on one."""
        return tuple(v for v in self.verdicts
                     if v.not_checked or (self.nothing_searched and not v.carried))

    @property
    def checked(self) -> bool:
        return not self.not_checked and not self.unrun

    def unchecked_reasons(self) -> tuple[UncheckedReason, ...]:
        """Why combinations went unchecked, one entry per side and distinct reason, in the order
        met: a model that cannot be built leaves every property of its host unchecked with the
        same reason, and a report that repeated it per property would bury it."""
        groups: dict[tuple[str, str], list[VerdictPair]] = {}
        for v in self.verdicts:
            for side, reason in v.unchecked_sides():
                groups.setdefault((side, reason), []).append(v)
        idle = [v for v in self.verdicts if not v.carried and not v.not_checked]
        if self.nothing_searched and idle:
            groups[("head", NOTHING_SEARCHED)] = idle
        for u in self.unrun:
            groups[("head", u.reason())] = [v for v in self.verdicts if v.host == u.host]
        return tuple(UncheckedReason(side, reason, tuple((v.run, v.host, v.property) for v in vs))
                     for (side, reason), vs in groups.items())

    def to_json(self) -> dict[str, Any]:
        return {"base": self.base, "head": self.head, "plan": self.plan, "seconds": self.seconds,
                "changed_algorithms": [c.to_json() for c in self.changed],
                "model_identical": self.model_identical,
                "models": [m.__dict__ | {"changed": list(m.changed)} for m in self.models],
                "new_unknown_steps": [u.to_json() for u in self.new_unknown],
                "verdicts": [v.to_json() for v in self.verdicts],
                "failing": self.failing, "checked": self.checked, "nothing_searched": self.nothing_searched,
                "not_checked": [u.to_json() for u in self.unchecked_reasons()],
                "hand_modelled_changed": [h.to_json() for h in self.hand_changed], "strict": self.strict,
                "not_run_at_these_bounds": [u.to_json() for u in self.unrun]}


@dataclass(frozen=True)
class UncheckedReason:
    side: str  # base | head
    reason: str  # located on the side's own paths
    combinations: tuple[tuple[str, str, str], ...]  # (run, host, property)

    def to_json(self) -> dict[str, Any]:
        return {"side": self.side, "reason": self.reason,
                "combinations": [{"run": r, "host": h, "property": p} for r, h, p in self.combinations]}


NOTHING_SEARCHED = ("the model changed, but no verdict on it was decided by a search: each of HEAD's "
                    "is NOT APPLICABLE (nothing searched), PROVED (vacuous), UNKNOWN, or BOUNDED at "
                    "a depth where no state meets the property's cover; give bounds, a depth or an "
                    "engine that reach it")


CUT_BY_TEXT = (f"some run of HEAD's model was cut at {CELLS_ONCE}: the text appends one cell twice, which "
               "the model cannot follow, so its verdict says nothing past that step; no bound lifts the "
               "cut (docs/soundness.md)")


def decided(o: Outcome) -> bool:
    """The verdict came from a search that met the situation its property is about: VIOLATED; a
    PROVED the host promised that is not vacuous, whose engine decided its cover (or whose
    property has none), and whose runs were not cut where the model cannot follow the text; a
    BOUNDED whose depth reached the cover (then it is checked within that depth, and the report
    says the depth). A symbolic engine's PROVED with its cover not checked may be vacuous, so it
    counts no more here than in `check`, which counts its row undecided: a review whose only
    such pair was a kind PROVED about a situation the changed text no longer reaches had passed."""
    if o.verdict == VIOLATED:
        return True
    if o.cut_by_text:
        return False
    if o.verdict == PROVED:
        return o.applicable and not o.vacuous and not (o.cover_open and has_cover(o.property))
    return o.verdict == BOUNDED and o.cover_reached is True


def unbuildable(o: Outcome) -> bool:
    """The verdict is UNKNOWN because the side's model could not be built at all (or a user's
    property could not be evaluated on it)."""
    return o.verdict == UNKNOWN and bad_input(o.reason)


# cache of outcomes by (model digest, host file, run settings, property): a model met before is not
# re-checked, and a property decided for it once is not decided again with another property set
Cache = dict[tuple[Any, ...], Outcome]


def review(base_arg: str, head_arg: str, plan: Plan, overrides: Overrides | None = None,
           repo: str | None = None, certificates: str = "",
           progress: Callable[[str], None] = lambda _m: None, cache: Cache | None = None,
           strict: bool = False, disk: VerdictCache | None = None) -> Review:
    """`strict`: a change to a clause the model builds in (model/by_hand.py) fails the review
    instead of being a warning. `disk`: verdicts kept between runs (proofs/run/cache.py)."""
    started = time.monotonic()
    cache = {} if cache is None else cache
    overrides = overrides or Overrides()
    with tempfile.TemporaryDirectory(prefix="specmc-review-") as tmp:
        base = open_side(base_arg, repo, Path(tmp))
        head = open_side(head_arg, repo, Path(tmp))
        runs = overrides.select(plan.runs)
        hosts = {h: load_host(h) for r in runs for h in r.hosts}
        for r in runs:  # (two profiles of one name would be one model in the report: check refuses it too)
            distinct_names(r, [hosts[h] for h in r.hosts])
        made: dict[tuple[str, Bounds], tuple[ModelForm, ModelForm]] = {}

        def forms_for(name: str, bounds: Bounds) -> tuple[ModelForm, ModelForm]:
            """BASE's and HEAD's forms of `name`'s model at `bounds`: which built-ins and loops
            the model runs depends on `symbols`, `weakmaps`, `weaksets` (nothing else of the bounds)."""
            key = (name, Bounds(symbols=min(bounds.symbols, 1), weakmaps=min(bounds.weakmaps, 1),
                                weaksets=min(bounds.weaksets, 1)))
            if key not in made:
                made[key] = (model_form(base.spec, hosts[name], key[1]),
                             model_form(head.spec, hosts[name], key[1]))
            return made[key]

        # per host, the form at the widest of its runs' bounds: what the report lists as changed
        widest = {name: Bounds(symbols=max(r.bounds.symbols for r in runs if name in r.hosts),
                               weakmaps=max(r.bounds.weakmaps for r in runs if name in r.hosts),
                               weaksets=max(r.bounds.weaksets for r in runs if name in r.hosts))
                  for name in hosts}
        forms = {name: forms_for(name, widest[name]) for name in hosts}
        models = tuple(_host_model(h, *forms[name], base, head) for name, h in hosts.items())
        # spec algorithms some host's model runs (by id) -> the name the model knows them by
        names = {id(alg): name for pair in forms.values() for f in pair for name, alg in f.from_text}
        runs_with, beyond = _beyond_the_bounds(hosts, widest, models, names, forms_for, base, head)
        unrun: list[UnrunChange | UnreachedChange | UnaffectedChange] = list(beyond)
        changed = algorithm_changes(base.spec, head.spec, names, {n for m in models for n in m.changed},
                                    runs_with)
        unrun += _in_dead_loops(changed, base, head, hosts, widest, forms, forms_for)
        unrun += _unreached_callers(changed, base, head, {hosts[n].name: f for n, f in forms.items()})
        unknown = new_unknown(base.spec, head.spec, names)
        touched = {(c.clause, ref.number) for c in changed for s in c.steps
                   for ref in (s.head, s.after) if ref is not None}
        substituted = {sub.name: sub.algorithm.clause for pair in forms.values() for f in pair
                       for sub in f.substituted}
        # the clauses about WeakMaps and WeakSets only where some run has them
        widest = Bounds(weakmaps=max(r.bounds.weakmaps for r in runs) if runs else 0,
                        weaksets=max(r.bounds.weaksets for r in runs) if runs else 0)
        hand = hand_changes(base, head, hand_modelled(substituted, widest))
        verdicts: list[VerdictPair] = []
        b_steps, h_steps = _step_index(base), _step_index(head)
        for run in runs:
            # the plan's own properties files, as check loads them (paths resolved by the plan):
            # a plan naming a property they register was refused (E061), and one checking the
            # whole catalogue left theirs out
            for f in run.properties_files:
                load_properties_file(f)
            props = tuple(p.id for p in select(list(run.properties)))
            for name in run.hosts:
                host = hosts[name]
                bf, hf = forms_for(name, run.bounds)
                b_out = _verdicts(run, host, base, bf, props, certificates, progress, cache, disk)
                same = bf.digest == hf.digest  # the same model: HEAD's verdicts are BASE's
                # a reason why the model cannot be built points into BASE's text: HEAD gets its own
                # (a failed build is quick); every other verdict carries over
                redo = not same or any(unbuildable(o) for o in b_out.values())
                first: dict[str, tuple[str, ...]] = {}
                order = props
                if not same:
                    model = next(m for m in models if m.host == host.name)  # (name may be a file path)
                    try:
                        first = rerun_order(run, host, base, head, model.changed, props)
                        if not first and model.changed:
                            unrun.append(UnaffectedChange(host.name, run.name, model.changed, props))
                    except SpecError:
                        # a HEAD whose model cannot be compiled: the order is only a priority, and
                        # HEAD's verdicts say why, located, as for any side that cannot be built
                        # (review 8: this escaped, exit 2 with no report)
                        first = {}
                    order = tuple(p for p in props if p in first) + tuple(p for p in props if p not in first)
                    progress(order_line(run.name, name, model.changed, order, first))
                h_out = _verdicts(run, host, head, hf, order, certificates, progress, cache, disk) if redo \
                    else b_out
                notes = host_notes(host, run.bounds)
                verdicts += [_pair(run.name, host.name, _shown(b_out[p], base, b_steps),
                                   _shown(h_out[p], head, h_steps), same, touched, p in first, notes)
                             for p in props]
    return Review(base_arg, head_arg, plan.path, tuple(changed), models, tuple(unknown), tuple(verdicts),
                  round(time.monotonic() - started, 3), hand, strict, tuple(unrun))


BEYOND = ("weakmaps", "weaksets", "symbols")  # the bounds that decide which algorithms the model runs


def _in_dead_loops(changed: list[AlgorithmChange], base: Side, head: Side, hosts: dict[str, HostProfile],
                   widest: dict[str, Bounds], forms: dict[str, tuple[ModelForm, ModelForm]],
                   forms_for: Callable[[str, Bounds], tuple[ModelForm, ModelForm]]
                   ) -> tuple[UnrunChange, ...]:
    """Changes to an algorithm the model runs, some changed step of which lies in a loop over
    entities the model has none of at the review's bounds (model/compile.py `dead_loop`: Execution
    1.c walks WeakMaps, 1.d WeakSets): compiled, but never run, so no verdict can show them. The
    fourth review deleted Execution 1.d (killed by no-freed-observed at weaksets=1) and the review at
    weaksets=0 passed it as "model changed, PROVED -> PROVED"; the fifth hid the same deletion
    behind a harmless live change in the same algorithm. Per host, the bound of BEYOND that brings
    such a step to life is named, unless every changed step in those loops is a rewording: on both
    sides, with the same normal form (model/normal.py `step_form`).
    """
    from specmc.model.compile import dead_loop
    from specmc.model.normal import step_form

    def alg_of(spec: ir.Spec, c: AlgorithmChange) -> ir.Algorithm | None:
        return next((a for a in spec.algorithms if (a.name or a.kind) == c.name and a.clause == c.clause),
                    None)

    def reworded(c: AlgorithmChange, idle: set[tuple[str, str]]) -> bool:
        ba, ha = alg_of(base.spec, c), alg_of(head.spec, c)
        if ba is None or ha is None:
            return False
        bf = step_form(ba, {a.name: a for a in base.spec.algorithms if a.name})
        hf = step_form(ha, {a.name: a for a in head.spec.algorithms if a.name})
        bs, hs = {s.number: s for s in ba.walk()}, {s.number: s for s in ha.walk()}
        for s in c.steps:
            if not {("b", s.base.number if s.base else ""), ("h", s.head.number if s.head else "")} & idle:
                continue
            if s.base is None or s.head is None or s.base.number not in bs or s.head.number not in hs:
                return False
            if bf[id(bs[s.base.number])] != hf[id(hs[s.head.number])]:
                return False
        return True

    def dead(spec: ir.Spec, c: AlgorithmChange, bounds: Bounds) -> list[str]:
        return [s.number for a in spec.algorithms if (a.name or a.kind) == c.name and a.clause == c.clause
                for s in a.walk() if dead_loop(s.stmt, bounds.symbols, bounds.weakmaps, bounds.weaksets)]

    def inside(number: str, loops: list[str]) -> bool:
        return any(number == n or number.startswith(n + ".") for n in loops)

    def dead_steps(c: AlgorithmChange, bounds: Bounds) -> set[tuple[str, str]]:
        b, h = dead(base.spec, c, bounds), dead(head.spec, c, bounds)
        return {(side, ref.number) for s in c.steps
                for side, ref, loops in (("b", s.base, b), ("h", s.head, h))
                if ref is not None and inside(ref.number, loops)}

    out = []
    for name, bounds in widest.items():
        known = {(alg.name or alg.kind, alg.clause): n for f in forms[name] for n, alg in f.from_text}
        for c in changed:
            model_name = known.get((c.name, c.clause))
            idle = dead_steps(c, bounds) if c.in_model and model_name else set()
            if not idle or reworded(c, idle):
                continue
            for b in BEYOND:
                wider = replace(bounds, **{b: 1})
                if getattr(bounds, b) or dead_steps(c, wider) >= idle:
                    continue  # (this bound does not bring those steps to life)
                try:
                    forms_for(name, wider)
                except SpecError:  # the host cannot have the bound: nothing can ever run the steps
                    break
                out.append(UnrunChange(hosts[name].name, b, (c.name,), in_steps=True))
                break
    return tuple(out)


def _beyond_the_bounds(hosts: dict[str, HostProfile], widest: dict[str, Bounds],
                       models: tuple[HostModel, ...], names: dict[int, str],
                       forms_for: Callable[[str, Bounds], tuple[ModelForm, ModelForm]],
                       base: Side, head: Side) -> tuple[dict[int, tuple[str, ...]], tuple[UnrunChange, ...]]:
    """What the review's bounds keep the model from running. Per host and per bound of BEYOND
    that none of its runs gives, the model's form with that bound at 1: the text's algorithms it
    would run then (by id: the bounds that would), and the ones whose form the change altered
    there and nowhere the runs reach. A change of WeakMap.prototype.get reviewed at weakmaps=0
    was "not modelled" and passed (fourth review), though `--bounds weakmaps=1` finds it."""
    runs_with: dict[int, tuple[str, ...]] = {}
    unrun: list[UnrunChange] = []
    for name, host in hosts.items():
        reached = next(m for m in models if m.host == host.name)
        for bound in BEYOND:
            if getattr(widest[name], bound):
                continue
            try:
                pair = forms_for(name, replace(widest[name], **{bound: 1}))
            except SpecError:  # the host, or this text, cannot have it (E089, E095, ...): nothing to run
                continue
            for f in pair:
                for _name, alg in f.from_text:
                    if id(alg) not in names and bound not in runs_with.get(id(alg), ()):
                        runs_with[id(alg)] = (*runs_with.get(id(alg), ()), bound)
            extra = tuple(n for n in _host_model(host, *pair, base, head).changed if n not in reached.changed)
            if extra:
                unrun.append(UnrunChange(host.name, bound, extra))
    return runs_with, tuple(unrun)


@dataclass(frozen=True)
class UnrunChange:
    """A change to algorithms the model runs for `host` only with `bound` >= 1, which no run of
    the review gives it: nothing checked that change."""

    host: str
    bound: str
    algorithms: tuple[str, ...]
    in_steps: bool = False  # the algorithms run, but their changed steps only with the bound

    def reason(self) -> str:
        what = "changed in steps" if self.in_steps else "changed, which"
        return (f"{', '.join(self.algorithms)} {what} the model runs only with {self.bound} >= 1, "
                f"and no run gives {self.host} that bound: nothing checked the change (give --bounds "
                f"{self.bound}=1, or a plan run with it)")

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "bound": self.bound, "algorithms": list(self.algorithms),
                "in_steps": self.in_steps, "reason": self.reason()}


@dataclass(frozen=True)
class UnreachedChange:
    """An algorithm the model does not run, added or changed so that it now calls one the model
    does run: the model's user code calls only its fixed built-ins, so no run reaches the new
    call, and the model (and its verdicts) stay as they were. Review 8: a new
    `FinalizationRegistry.prototype.cleanupSome()` running CleanupFinalizationRegistry from user
    code, and `Perform ClearKeptObjects()` added to Array.prototype.push, both passed as "model
    identical"."""

    host: str
    algorithm: str
    calls: tuple[str, ...]
    bound: str = ""  # (UnrunChange's interface: no bound brings it in)

    def reason(self) -> str:
        return (f"{self.algorithm} now calls {', '.join(self.calls)}, which the model runs under "
                f"{self.host}, but the model's user code never calls {self.algorithm} (it calls only "
                "the built-ins the model knows): nothing checked what the new call does")

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "algorithm": self.algorithm, "calls": list(self.calls),
                "reason": self.reason()}


@dataclass(frozen=True)
class UnaffectedChange:
    """HEAD's model changed, but no property a run reviews reads what the changed algorithms write
    or run (proofs/review/order.py `rerun_order`, which errs towards "reads": callers, the clause,
    the frames a property tests): their verdicts could not show the change. Review 8: with
    `--property held-value-once`, a change that made unregister always answer false passed."""

    host: str
    run: str
    algorithms: tuple[str, ...]
    properties: tuple[str, ...]
    bound: str = ""

    def reason(self) -> str:
        return (f"the model changed in {', '.join(self.algorithms)}, but no property run {self.run} "
                f"reviews under {self.host} ({', '.join(self.properties)}) reads what those algorithms "
                "write or run: nothing checked the change (review more properties)")

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "run": self.run, "algorithms": list(self.algorithms),
                "properties": list(self.properties), "reason": self.reason()}


def _unreached_callers(changed: list[AlgorithmChange], base: Side, head: Side,
                       forms: dict[str, tuple[ModelForm, ModelForm]]) -> list[UnreachedChange]:
    """Per host, the algorithms the change made call, anew, one its model runs, where the model
    runs neither them nor (at any bound) will: `UnreachedChange`. Only new calls count: an
    algorithm that always called one (PerformPromiseThen calls HostMakeJobCallback) changing
    elsewhere is not flagged."""
    def calls(spec: ir.Spec, name: str, clause: str, runs: set[str]) -> Counter[str]:
        out: Counter[str] = Counter()
        for a in spec.algorithms:
            if a.name == name and a.clause == clause:
                for s in a.walk():
                    for n in ir.iter_nodes(s.stmt):
                        if isinstance(n, ir.Call) and isinstance(n.callee, ir.Name) and n.callee.name in runs:
                            out[n.callee.name] += 1
        return out

    found: list[UnreachedChange] = []
    for host, (_bf, hf) in forms.items():
        runs = {n for n, _alg in hf.from_text}
        for c in changed:
            if c.in_model or c.runs_with or c.status == "removed" or c.name in runs:
                continue
            new = calls(head.spec, c.name, c.clause, runs) - calls(base.spec, c.name, c.clause, runs)
            if new:
                found.append(UnreachedChange(host, c.name, tuple(sorted(new))))
    return found


def _pair(run: str, host: str, base: Outcome, head: Outcome, carried: bool,
          touched: set[tuple[str, str]], first: bool = False, notes: tuple[str, ...] = ()) -> VerdictPair:
    marks = tuple(i for i, t in enumerate(head.trace) if (t.get("clause"), t.get("step")) in touched)
    return VerdictPair(run, host, head.property, base, head, carried,
                       marks if head.verdict == VIOLATED else (), first, notes)


def _host_model(host: HostProfile, b: ModelForm, h: ModelForm, base: Side, head: Side) -> HostModel:
    names = sorted(set(dict(b.algorithms)) | set(dict(h.algorithms)))
    diff = tuple(n for n in names if b.of(n) != h.of(n))
    by_hand = tuple(sorted({s.name for f in (b, h) for s in f.substituted}))
    return HostModel(host.name, b.digest == h.digest, diff, base.locate(_form_error(b)),
                     head.locate(_form_error(h)), by_hand)


def _form_error(f: ModelForm) -> str:
    if f.missing:
        return f"the text does not define {', '.join(f.missing)}"
    if f.twice:
        name, where = f.twice[0]
        return f"the text defines {name}, which the model runs, twice (again at {where})"
    if f.unknown:
        s = f.unknown[0]
        return f"unknown step at {s.loc}: {' '.join(s.text.split())}"
    return ""


def _meanings(side: Side, host: HostProfile, run: Any, props: tuple[str, ...]) -> dict[str, str]:
    """Per property, the digest of what its predicates say about this model (their Z3 terms over
    the state variables): the disk cache's key holds it, since a properties file's own bytes do
    not cover what it imports (a helper module changed under it, and review served the verdict
    of the old predicate: found by an independent review). "" when it cannot be computed (the
    model cannot be built, or a predicate fails: such a verdict is not stored). A temporal
    property's lasso parts are functions with no term; its file's digest stands for them."""
    from specmc.proofs.certify.fileformat import sha
    from specmc.proofs.certify.terms import property_text
    from specmc.proofs.properties import CATALOGUE

    program = built(side, host, run)
    out: dict[str, str] = {}
    for p in props:
        prop = CATALOGUE.get(p)
        try:
            text = property_text(program, prop.holds) if program is not None and prop is not None else ""
            if text and prop is not None and prop.cover is not None:
                text += property_text(program, prop.cover)
        except Exception:  # a user's predicate that fails is reported by the engines, not here
            text = ""
        out[p] = sha(text) if text else ""
    return out


def _build_error(side: Side, host: HostProfile, run: Any) -> str:
    """Why `side`'s model cannot be built ("" when it can), located: at the diagnostic's own
    place, or at the side as the user named it when the text has no line for it (an algorithm
    the text does not define)."""
    try:
        build(side.spec, host, run.bounds)
    except SpecError as e:
        d = e.diagnostics[0]
        if d.code == "E062":  # the side's text lacks the algorithm: the side is where it is missing
            called = f" (called at {d.loc})" if d.loc else ""
            return f"{UNBUILDABLE}: {side.label}: {d.severity} {d.code}: {d.message}{called}"
        where = f"{d.loc}" if d.loc else side.label
        return f"{UNBUILDABLE}: {where}: {d.severity} {d.code}: {d.message}"  # as the engines word it
    return ""


def _verdicts(run: Any, host: HostProfile, side: Side, form: ModelForm, props: tuple[str, ...],
              certificates: str, progress: Callable[[str], None], cache: Cache,
              disk: VerdictCache | None = None) -> dict[str, Outcome]:
    error = _build_error(side, host, run)
    if error:
        return {p: Outcome(p, UNKNOWN, "build", reason=error) for p in props}
    key = (form.digest, host.path, run.bounds.describe(), run.engine, run.depth, run.timeout,
           run.properties_files)
    # outcomes that say the model cannot be built are kept per side: their reason is located in
    # the text that was read, and another text with the same normal form has its own lines
    own = (*key, side.paths)
    out = {p: cache.get((*key, p)) or cache.get((*own, p)) for p in props}
    # on disk: what decides a definite verdict, by content (a time limit does not)
    stored = (form.digest, file_digest(host.path), run.bounds.describe(), run.engine, run.depth,
              tuple(file_digest(f) for f in run.properties_files))
    meaning: dict[str, str] = {}
    if disk is not None:
        meaning = _meanings(side, host, run, props)
        for p in props:
            certifies = {"property": p, "bounds": run.bounds.describe(), "host-profile": stored[1]}
            if out[p] is None and meaning[p] and \
                    (o := disk.get((*stored, p, meaning[p]), certifies)) is not None:
                out[p] = cache[(*key, p)] = o
    missing = tuple(p for p in props if out[p] is None)
    if missing:
        got = decide(replace(run, specs=side.paths), host.path, missing, certificates, progress)
        where = own if any(unbuildable(o) for o in got.values()) else key
        for p, o in got.items():
            cache[(*where, p)] = o
            if disk is not None and not unbuildable(o) and meaning.get(p):
                disk.put((*stored, p, meaning[p]), o)
        out.update(got)
    return {p: o for p, o in out.items() if o is not None}


# where each step of a side's text is: (clause id, step number) -> (algorithm name, the step) for
# each algorithm of the clause that has a step of that number (a clause may hold several: a
# built-in and the job closure it creates)
StepIndex = dict[tuple[str, str], list[tuple[str, Step]]]
# what a trace step's text gets before the step's own text when it is not the step's first visit
# (model/trace.py build_trace)
_VISITS = ("(returned to) ", "(next iteration) ")


def _step_index(side: Side) -> StepIndex:
    index: StepIndex = {}
    for a in side.spec.algorithms:
        for st in a.walk():
            index.setdefault((a.clause, st.number), []).append((a.name, st))
    return index


def _here(t: dict[str, Any], steps: StepIndex) -> dict[str, Any]:
    """A trace step located in this side's text. A verdict is shared by every text with the same
    model (the caches key it by the model's digest, and HEAD takes BASE's when the models are
    equal), but its trace was built on one of them: a text with comments added above has the
    same steps on other lines. The step is found again by clause and number, and where the
    clause has several algorithms with that step, by the innermost of them on the stack (the
    stack is the one after the step: a call has pushed its callee, a return popped itself). A
    step this text does not have (a host profile's) keeps its place."""
    if "file" not in t or not t.get("step"):
        return t
    found = steps.get((t.get("clause", ""), t["step"]), [])
    if len(found) > 1:
        stack = list(t.get("stack", ()))
        found = sorted((f for f in found if f[0] in stack), key=lambda f: -stack.index(f[0]))[:1]
    if not found:
        return t
    st = found[0][1]
    visit = next((v for v in _VISITS if t.get("text", "").startswith(v)), "")
    return {**t, "file": st.loc.file, "line": st.loc.line, "text": visit + st.text}


def _shown(o: Outcome, side: Side, steps: StepIndex) -> Outcome:
    """Trace locations in the side's own text (`_here`; `steps` is the side's `_step_index`), as
    the user named its files (a git path, not the private copy), and the reason located on the
    side (`HEAD:spec.html:12:3`)."""
    trace = tuple(_here(t, steps) for t in o.trace)
    if side.shown:
        trace = tuple({**t, "file": side.shown.get(t["file"], t["file"])} if "file" in t else t
                      for t in trace)
    return replace(o, trace=trace, reason=side.locate(o.reason))
