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
"""

from __future__ import annotations

import difflib
import hashlib
import html
import re
import subprocess
import tempfile
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from specmc.model.build import build
from specmc.model.by_hand import HandClause, hand_modelled
from specmc.model.hosts import HostProfile, load_host
from specmc.model.normal import ModelForm, model_form
from specmc.proofs import exitcodes
from specmc.proofs.cache import VerdictCache
from specmc.proofs.certify.certificate import file_digest
from specmc.proofs.check import Overrides, decide
from specmc.proofs.engines.portfolio import UNBUILDABLE
from specmc.proofs.plan import Plan
from specmc.proofs.properties import select
from specmc.proofs.verdict import UNKNOWN, VIOLATED, Outcome
from specmc.spec import diagnostics as diag
from specmc.spec import ir
from specmc.spec.diagnostics import SpecError
from specmc.spec.load import SPEC_SUFFIXES, load_specs, load_text

# ------------------------------------------------------------------------------ the two sides


@dataclass(frozen=True)
class Side:
    """One side of the review: the text as the user named it, and files an engine can read."""

    label: str
    paths: tuple[str, ...]  # on disk (git revisions are written to a private folder)
    spec: ir.Spec
    shown: dict[str, str] = field(default_factory=dict, compare=False)  # disk path -> path shown
    rev: str = ""  # the git revision the files were read from ("" for files on disk)

    def locate(self, text: str) -> str:
        """`text` with every location on this side written as the user can find it.

        Engines read a git side from a private temporary copy, and the parser names its files by
        their path in the repository, which is the same on both sides; a reason must say which
        side it is about and must not point into a folder that is gone once the review ends. So
        `/tmp/.../side1/spec.html:12:3` and `spec.html:12:3` both become `HEAD:spec.html:12:3`.
        """
        if not self.shown or not text:
            return text
        names = {**{v: v for v in self.shown.values()}, **self.shown}
        alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        # not already preceded by a revision or a folder, and followed by ":LINE"
        return re.sub(rf"(?<![\w/.:~^-])({alternatives})(?=:\d)",
                      lambda m: f"{self.rev}:{names[m.group(1)]}", text)


# Texts parsed lately, by what they were read from: a series of reviews (a history sweep, the
# harmful-change test, a CI job reviewing several pairs) meets the same side again and again, and
# a whole spec.html costs seconds to parse. The parse is a pure function of the text, so a hit is
# exactly what parsing again would give.
_PARSED: OrderedDict[tuple[Any, ...], ir.Spec] = OrderedDict()
_PARSED_KEEP = 4


def _parsed(key: tuple[Any, ...], parse: Callable[[], ir.Spec]) -> ir.Spec:
    if key in _PARSED:
        _PARSED.move_to_end(key)
        return _PARSED[key]
    spec = parse()
    _PARSED[key] = spec
    while len(_PARSED) > _PARSED_KEEP:
        _PARSED.popitem(last=False)
    return spec


def _disk_key(arg: str) -> tuple[Any, ...]:
    """What a text on disk is, for the parse cache: the path as given, and every file's size and
    modification time (an edited file is parsed again)."""
    p = Path(arg)
    files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    stats = []
    for f in files:
        st = f.stat()
        stats.append((str(f), st.st_size, st.st_mtime_ns))
    return ("disk", arg, str(p.resolve()), tuple(stats))


def open_side(arg: str, repo: str | None, scratch: Path) -> Side:
    """A file, a folder of clause files, or REV:path inside --repo. A text with no clause and no
    algorithm at all is not a spec (a README given by mistake): it would review as two empty
    models whose every verdict is "not checked", and a report written over the user's --out."""
    side = _open_side(arg, repo, scratch)
    if not side.spec.clauses and not side.spec.algorithms:
        raise SpecError([diag.make("E083", path=arg)])
    return side


def _open_side(arg: str, repo: str | None, scratch: Path) -> Side:
    if repo is None:
        if not Path(arg).exists() and ":" in arg and not Path(arg.split(":", 1)[1]).is_absolute():
            raise SpecError([diag.make("E081", arg=arg)])
        try:
            key = _disk_key(arg)
        except OSError:  # let the reader give its located diagnostic
            spec = load_specs([arg])
        else:
            spec = _parsed(key, lambda: load_specs([arg]))
        return Side(arg, spec.files, spec)
    rev, sep, path = arg.partition(":")
    if not sep:
        rev, path = arg, ""
    path = path.strip("/")
    listed = _git(repo, ["ls-tree", "-r", "--name-only", rev, "--", path or "."], f"{rev}:{path}")
    files = [f for f in listed.splitlines() if f == path or Path(f).suffix in SPEC_SUFFIXES]
    if not files:
        raise SpecError([diag.make("E080", what=f"{rev}:{path}", repo=repo,
                                   reason="no spec files (.html, .emu) at that path")])
    if len(files) > 1 and any(Path(f).name == "finreg-excerpt.html" for f in files):
        files = [f for f in files if Path(f).name == "finreg-excerpt.html"]
    folder = scratch / f"side{len(list(scratch.iterdir()))}"
    shown: dict[str, str] = {}
    texts = []
    for f in files:
        text = _git(repo, ["show", f"{rev}:{f}"], f"{rev}:{f}")
        disk = folder / f
        disk.parent.mkdir(parents=True, exist_ok=True)
        disk.write_text(text, encoding="utf-8")
        shown[str(disk)] = f
        texts.append((f, text))

    def parse() -> ir.Spec:
        parts = [load_text(name, text) for name, text in texts]
        return ir.Spec(tuple(f for f, _ in texts), tuple(c for p in parts for c in p.clauses),
                       tuple(a for p in parts for a in p.algorithms),
                       tuple(w for p in parts for w in p.warnings))

    key = ("git", tuple((f, hashlib.sha256(text.encode()).hexdigest()) for f, text in texts))
    return Side(arg, tuple(shown), _parsed(key, parse), shown, rev)


def _git(repo: str, args: list[str], what: str) -> str:
    try:
        done = subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SpecError([diag.make("E080", what=what, repo=repo, reason=str(e))]) from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["git failed"])[-1]
        raise SpecError([diag.make("E080", what=what, repo=repo, reason=reason)])
    return done.stdout


# ------------------------------------------------------------------------ algorithms and steps


@dataclass(frozen=True)
class StepRef:
    number: str
    text: str
    file: str
    line: int
    column: int

    @staticmethod
    def of(s: ir.Step) -> StepRef:
        return StepRef(s.number, " ".join(s.text.split()), s.loc.file, s.loc.line, s.loc.column)

    def to_json(self) -> dict[str, Any]:
        return {"step": self.number, "text": self.text, "file": self.file, "line": self.line,
                "column": self.column}


@dataclass(frozen=True)
class StepChange:
    op: str  # added | removed | changed
    base: StepRef | None
    head: StepRef | None
    # for a removed step: the HEAD step that now runs where it stood (None at the end of the
    # algorithm). A path through that step is where the deletion shows, so it counts as touched.
    after: StepRef | None = None

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "base": self.base.to_json() if self.base else None,
                "head": self.head.to_json() if self.head else None,
                "after": self.after.to_json() if self.after else None}


@dataclass(frozen=True)
class AlgorithmChange:
    name: str
    clause: str
    status: str  # added | removed | changed
    steps: tuple[StepChange, ...]
    in_model: bool  # some host's model runs it (on either side)
    model_changed: bool  # its normal form differs for some host (False: an editorial change)
    file: str = ""
    line: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "clause": self.clause, "status": self.status, "in_model": self.in_model,
                "model_changed": self.model_changed, "file": self.file or None, "line": self.line or None,
                "steps": [s.to_json() for s in self.steps]}


def _key(a: ir.Algorithm) -> tuple[str, str]:
    return (a.name or a.kind, a.clause)


def _match(base: ir.Spec, head: ir.Spec) -> list[tuple[ir.Algorithm | None, ir.Algorithm | None]]:
    """Pairs algorithms by name and clause; then, for renamed clauses, by a name unique on both sides."""
    def index(spec: ir.Spec) -> dict[tuple[str, str], ir.Algorithm]:
        out: dict[tuple[str, str], ir.Algorithm] = {}
        seen: Counter[tuple[str, str]] = Counter()
        for a in spec.algorithms:
            k = _key(a)
            seen[k] += 1
            out[(k[0], f"{k[1]}#{seen[k]}" if seen[k] > 1 else k[1])] = a
        return out

    b, h = index(base), index(head)
    names_b = Counter(k[0] for k in b)
    names_h = Counter(k[0] for k in h)
    lone_b = {k[0]: k for k in b if k not in h and names_b[k[0]] == 1}
    out: list[tuple[ir.Algorithm | None, ir.Algorithm | None]] = [(b[k], h[k]) for k in b if k in h]
    matched: set[tuple[str, str]] = set()
    for k in h:
        if k in b:
            continue
        bk = lone_b.get(k[0]) if names_h[k[0]] == 1 else None
        if bk is not None:
            matched.add(bk)
        out.append((b[bk] if bk is not None else None, h[k]))
    out += [(b[k], None) for k in b if k not in h and k not in matched]
    return out


def _step_diff(base: ir.Algorithm | None, head: ir.Algorithm | None) -> tuple[StepChange, ...]:
    bs = [StepRef.of(s) for s in base.walk()] if base else []
    hs = [StepRef.of(s) for s in head.walk()] if head else []
    sm = difflib.SequenceMatcher(a=[s.text for s in bs], b=[s.text for s in hs], autojunk=False)
    out: list[StepChange] = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            continue
        olds, news = bs[i1:i2], hs[j1:j2]
        following = hs[j2] if j2 < len(hs) else None
        for k in range(max(len(olds), len(news))):
            o = olds[k] if k < len(olds) else None
            n = news[k] if k < len(news) else None
            op = "changed" if o and n else "removed" if o else "added"
            out.append(StepChange(op, o, n, following if op == "removed" else None))
    return tuple(out)


@dataclass(frozen=True)
class UnknownStep:
    algorithm: str
    clause: str
    step: StepRef
    in_model: bool

    def to_json(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm, "clause": self.clause, "in_model": self.in_model,
                **self.step.to_json()}


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
    def not_checked(self) -> bool:
        """The review says nothing about this combination: a side's model could not be built (so
        there is nothing to compare against), or neither side got a verdict."""
        both_unknown = self.base.verdict == UNKNOWN and self.head.verdict == UNKNOWN
        return both_unknown or unbuildable(self.base) or unbuildable(self.head)

    def unchecked_sides(self) -> tuple[tuple[str, str], ...]:
        """(side, reason) for each side that left this combination unchecked."""
        if not self.not_checked:
            return ()
        sides = (("base", self.base), ("head", self.head))
        return tuple((side, o.reason or "no reason given") for side, o in sides if o.verdict == UNKNOWN)

    def to_json(self) -> dict[str, Any]:
        return {"run": self.run, "host": self.host, "property": self.property,
                "base": self.base.verdict, "head": self.head.verdict, "worse": self.worse,
                "base_label": self.base.label, "head_label": self.head.label,
                "not_checked": self.not_checked, "carried_over": self.carried,
                "base_reason": self.base.reason or None, "head_reason": self.head.reason or None,
                "trace": list(self.head.trace) if self.new_violation else [],
                "touched_steps": list(self.touched), "checked_first": self.first}


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

    @property
    def model_identical(self) -> bool:
        return all(m.identical for m in self.models)

    @property
    def failing(self) -> bool:
        """CI fails when a verdict got worse or a new unknown step sits in an algorithm the model
        uses, and under --strict when a hand-modelled clause changed."""
        return (any(v.worse for v in self.verdicts) or any(u.in_model for u in self.new_unknown)
                or (self.strict and bool(self.hand_changed)))

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
    def not_checked(self) -> tuple[VerdictPair, ...]:
        """The combinations this review could not check; while any is left, it does not pass."""
        return tuple(v for v in self.verdicts if v.not_checked)

    @property
    def checked(self) -> bool:
        return not self.not_checked

    def unchecked_reasons(self) -> tuple[UncheckedReason, ...]:
        """Why combinations went unchecked, one entry per side and distinct reason, in the order
        met: a model that cannot be built leaves every property of its host unchecked with the
        same reason, and a report that repeated it per property would bury it."""
        groups: dict[tuple[str, str], list[VerdictPair]] = {}
        for v in self.verdicts:
            for side, reason in v.unchecked_sides():
                groups.setdefault((side, reason), []).append(v)
        return tuple(UncheckedReason(side, reason, tuple((v.run, v.host, v.property) for v in vs))
                     for (side, reason), vs in groups.items())

    def to_json(self) -> dict[str, Any]:
        return {"base": self.base, "head": self.head, "plan": self.plan, "seconds": self.seconds,
                "changed_algorithms": [c.to_json() for c in self.changed],
                "model_identical": self.model_identical,
                "models": [m.__dict__ | {"changed": list(m.changed)} for m in self.models],
                "new_unknown_steps": [u.to_json() for u in self.new_unknown],
                "verdicts": [v.to_json() for v in self.verdicts],
                "failing": self.failing, "checked": self.checked,
                "not_checked": [u.to_json() for u in self.unchecked_reasons()],
                "hand_modelled_changed": [h.to_json() for h in self.hand_changed], "strict": self.strict}


@dataclass(frozen=True)
class UncheckedReason:
    side: str  # base | head
    reason: str  # located on the side's own paths
    combinations: tuple[tuple[str, str, str], ...]  # (run, host, property)

    def to_json(self) -> dict[str, Any]:
        return {"side": self.side, "reason": self.reason,
                "combinations": [{"run": r, "host": h, "property": p} for r, h, p in self.combinations]}


def unbuildable(o: Outcome) -> bool:
    """The verdict is UNKNOWN because the side's model could not be built at all."""
    return o.verdict == UNKNOWN and o.reason.startswith(UNBUILDABLE)


# cache of outcomes by (model digest, host file, run settings, property): a model met before is not
# re-checked, and a property decided for it once is not decided again with another property set
Cache = dict[tuple[Any, ...], Outcome]


def review(base_arg: str, head_arg: str, plan: Plan, overrides: Overrides | None = None,
           repo: str | None = None, certificates: str = "",
           progress: Callable[[str], None] = lambda _m: None, cache: Cache | None = None,
           strict: bool = False, disk: VerdictCache | None = None) -> Review:
    """`strict`: a change to a clause the model builds in (model/by_hand.py) fails the review
    instead of being a warning. `disk`: verdicts kept between runs (proofs/cache.py)."""
    started = time.monotonic()
    cache = {} if cache is None else cache
    overrides = overrides or Overrides()
    with tempfile.TemporaryDirectory(prefix="specmc-review-") as tmp:
        base = open_side(base_arg, repo, Path(tmp))
        head = open_side(head_arg, repo, Path(tmp))
        runs = overrides.select(plan.runs)
        hosts = {h: load_host(h) for r in runs for h in r.hosts}
        forms = {name: (model_form(base.spec, h), model_form(head.spec, h)) for name, h in hosts.items()}
        models = tuple(_host_model(h, *forms[name], base, head) for name, h in hosts.items())
        # spec algorithms some host's model runs (by id) -> the name the model knows them by
        names = {id(alg): name for pair in forms.values() for f in pair for name, alg in f.from_text}
        changed = _changes(base.spec, head.spec, names, {n for m in models for n in m.changed})
        unknown = _new_unknown(base.spec, head.spec, names)
        touched = {(c.clause, ref.number) for c in changed for s in c.steps
                   for ref in (s.head, s.after) if ref is not None}
        substituted = {sub.name: sub.algorithm.clause for pair in forms.values() for f in pair
                       for sub in f.substituted}
        hand = _hand_changes(base, head, hand_modelled(substituted))
        verdicts: list[VerdictPair] = []
        for run in runs:
            props = tuple(p.id for p in select(list(run.properties)))
            for name in run.hosts:
                host = hosts[name]
                bf, hf = forms[name]
                b_out = _verdicts(run, host, base, bf, props, certificates, progress, cache, disk)
                same = bf.digest == hf.digest  # the same model: HEAD's verdicts are BASE's
                # a reason why the model cannot be built points into BASE's text: HEAD gets its own
                # (a failed build is quick); every other verdict carries over
                redo = not same or any(unbuildable(o) for o in b_out.values())
                first: dict[str, tuple[str, ...]] = {}
                order = props
                if not same:
                    model = next(m for m in models if m.host == name)
                    first = rerun_order(run, host, base, head, model.changed, props)
                    order = tuple(p for p in props if p in first) + tuple(p for p in props if p not in first)
                    progress(_order_line(run.name, name, model.changed, order, first))
                h_out = _verdicts(run, host, head, hf, order, certificates, progress, cache, disk) if redo \
                    else b_out
                verdicts += [_pair(run.name, host.name, _shown(b_out[p], base), _shown(h_out[p], head),
                                   same, touched, p in first) for p in props]
    return Review(base_arg, head_arg, plan.path, tuple(changed), models, tuple(unknown), tuple(verdicts),
                  round(time.monotonic() - started, 3), hand, strict)


def _pair(run: str, host: str, base: Outcome, head: Outcome, carried: bool,
          touched: set[tuple[str, str]], first: bool = False) -> VerdictPair:
    marks = tuple(i for i, t in enumerate(head.trace) if (t.get("clause"), t.get("step")) in touched)
    return VerdictPair(run, host, head.property, base, head, carried,
                       marks if head.verdict == VIOLATED else (), first)


def _host_model(host: HostProfile, b: ModelForm, h: ModelForm, base: Side, head: Side) -> HostModel:
    names = sorted(set(dict(b.algorithms)) | set(dict(h.algorithms)))
    diff = tuple(n for n in names if b.of(n) != h.of(n))
    by_hand = tuple(sorted({s.name for f in (b, h) for s in f.substituted}))
    return HostModel(host.name, b.digest == h.digest, diff, base.locate(_form_error(b)),
                     head.locate(_form_error(h)), by_hand)


def _form_error(f: ModelForm) -> str:
    if f.missing:
        return f"the text does not define {', '.join(f.missing)}"
    if f.unknown:
        s = f.unknown[0]
        return f"unknown step at {s.loc}: {' '.join(s.text.split())}"
    return ""


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


def _built(side: Side, host: HostProfile, run: Any) -> Any:
    """`side`'s model under `host` at the run's bounds, or None when it cannot be built."""
    try:
        return build(side.spec, host, run.bounds)
    except SpecError:
        return None


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
    if disk is not None:
        for p in props:
            if out[p] is None and (o := disk.get((*stored, p))) is not None:
                out[p] = cache[(*key, p)] = o
    missing = tuple(p for p in props if out[p] is None)
    if missing:
        got = decide(replace(run, specs=side.paths), host.path, missing, certificates, progress)
        where = own if any(unbuildable(o) for o in got.values()) else key
        for p, o in got.items():
            cache[(*where, p)] = o
            if disk is not None and not unbuildable(o):
                disk.put((*stored, p), o)
        out.update(got)
    return {p: o for p, o in out.items() if o is not None}


# ------------------------------------------------------- which properties HEAD checks first

# The execution context stack's own variables. Every step writes its frame's pc, every call and
# return writes sp, ret and a frame, so "a changed algorithm writes a variable the property
# reads" would put every property first for any change. What a property asks of the stack is
# which algorithms' frames are on it, and that is read off its frame tests instead.
_STACK = frozenset({"sp", "ret", "frame_alg", "frame_pc", "frame_phase", "frame_local"})
USER_CODE = "user code"  # the model's name for the frames of user code (the mutator, callbacks)


def rerun_order(run: Any, host: HostProfile, base: Side, head: Side, changed: tuple[str, ...],
                props: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The properties a change can affect, each with the changed algorithms that put it first.

    When HEAD's model differs from BASE's, HEAD must be checked again, and a review of a pull
    request wants the verdicts the change is most likely to move soonest (an engine that decides
    properties one at a time, k-induction or PDR, takes them in the order given; the explicit
    engine decides a job's properties in one search, so for it the order changes nothing). A
    property goes first when, in HEAD's model, read off the very Z3 terms the engines check:

    - some changed algorithm's steps write a state variable its predicates read (the stack's own
      bookkeeping aside: `_STACK`); or
    - a changed algorithm, or an algorithm that calls one (a change to a callee changes what its
      callers do), is among those it is about: the algorithms whose frames its predicates test for
      and their direct callers (who puts such a frame on the stack), the algorithms defined in the
      clause it comes from, and, when it watches user code's frames, the built-ins user code calls.

    A priority, not a slice: every property is checked all the same, and one that goes second
    can still get worse. A property whose predicates cannot be read this way goes first."""
    from specmc.model.build import ENTRY_POINTS, select_algorithms
    from specmc.model.slice import reads
    from specmc.model.symbolic import command_term, predicate_term, state_vars

    if not changed:
        return {}
    program = _built(head, host, run)
    if program is None:
        return {}
    callers: dict[str, set[str]] = {}
    for side in (base, head):
        for caller, callees in _calls(side.spec, host, select_algorithms).items():
            for callee in callees:
                callers.setdefault(callee, set()).add(caller)
    reach = set(changed)  # the changed algorithms and every algorithm that runs one
    todo = list(reach)
    while todo:
        for c in callers.get(todo.pop(), ()):
            if c not in reach:
                reach.add(c)
                todo.append(c)
    xs = state_vars(program)
    index = {x.get_id(): i for i, x in enumerate(xs)}
    stack = {i for name in _STACK if name in program.layout.index
             for b, n in [program.layout.index[name]] for i in range(b, b + n)}
    writes: dict[int, set[str]] = {}  # variable -> the changed algorithms whose steps write it
    for cmd in program.symbolic_commands:
        if cmd.algorithm in changed:
            _guard, new = command_term(program, cmd, xs)
            for i, v in new.items():
                if i not in stack and (isinstance(v, int) or v.get_id() != xs[i].get_id()):
                    writes.setdefault(i, set()).add(cmd.algorithm)
    fb, fn = program.layout.index["frame_alg"]
    frame_ids = {xs[i].get_id(): i for i in range(fb, fb + fn)}
    out: dict[str, tuple[str, ...]] = {}
    for p in select(list(props)):
        try:
            terms = [predicate_term(program, f, xs) for f in (p.holds, p.cover) if f is not None]
        except Exception:  # noqa: BLE001 - a predicate the symbolic domain refuses (E079 in the engines)
            out[p.id] = ("its predicates could not be read",)
            continue
        read = set().union(*(reads(t, index) for t in terms))
        frames = set().union(*(_frame_tests(t, frame_ids, program) for t in terms))
        about = frames | {c for f in frames for c in callers.get(f, ())}
        about |= {a.name for a in program.algorithms if a.clause and a.clause == p.clause}
        if USER_CODE in frames:
            about |= set(ENTRY_POINTS)
        why = (reach & about) | {a for i in read for a in writes.get(i, ())}
        if why:
            out[p.id] = tuple(sorted(why))
    return out


def _calls(spec: ir.Spec, host: HostProfile, select_algorithms: Callable[..., Any]) -> dict[str, set[str]]:
    """caller -> callees among the algorithms the model takes from `spec` (a hook without steps
    stands for the cleanup job the environment queues: model/build.py)."""
    from specmc.model.build import HOOK
    from specmc.model.env import CLEANUP_JOB

    sel = select_algorithms(spec, host)
    out: dict[str, set[str]] = {}
    for name, (alg, _source) in sel.algorithms.items():
        for step in alg.walk():
            for n in ir.iter_nodes(step.stmt):
                if isinstance(n, ir.Call) and isinstance(n.callee, ir.Name):
                    callee = n.callee.name
                    if callee == HOOK and callee not in sel.algorithms:
                        callee = CLEANUP_JOB
                    out.setdefault(name, set()).add(callee)
    return out


def _frame_tests(term: Any, frame_ids: dict[int, int], program: Any) -> set[str]:
    """The algorithms whose frames a predicate tests for: `frame_alg[d] == code` in its term."""
    import z3

    out: set[str] = set()
    seen: set[int] = set()
    todo = [term]
    while todo:
        t = todo.pop()
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        if z3.is_eq(t) and t.num_args() == 2:
            for a, b in ((t.arg(0), t.arg(1)), (t.arg(1), t.arg(0))):
                if a.get_id() in frame_ids and z3.is_bv_value(b) and b.as_long() < len(program.algorithms):
                    out.add(program.algorithms[b.as_long()].name)
        todo.extend(t.children())
    return out


def _order_line(run: str, host: str, changed: tuple[str, ...], order: tuple[str, ...],
                first: dict[str, tuple[str, ...]]) -> str:
    """The log line that says in which order HEAD's properties are checked, and why."""
    lead = [f"{p} ({', '.join(first[p])})" for p in order if p in first]
    rest = [p for p in order if p not in first]
    line = f"[{run}] {host}: HEAD's model changed in {', '.join(changed) or 'its algorithm set'}; "
    if not lead:
        return line + "no property reads what those algorithms write or run: the plan's order"
    return line + "first the properties they can affect: " + "; ".join(lead) + \
        (f"; then {', '.join(rest)}" if rest else "")


def _shown(o: Outcome, side: Side) -> Outcome:
    """Trace locations as the user named the files (a git path, not the private copy), and the
    reason located on the side (`HEAD:spec.html:12:3`)."""
    if not side.shown:
        return o
    trace = tuple({**t, "file": side.shown.get(t.get("file", ""), t.get("file", ""))} if "file" in t else t
                  for t in o.trace)
    return replace(o, trace=trace, reason=side.locate(o.reason))


def _changes(base: ir.Spec, head: ir.Spec, names: dict[int, str],
             changed_forms: set[str]) -> list[AlgorithmChange]:
    out = []
    for b, h in _match(base, head):
        a = h or b
        assert a is not None
        steps = _step_diff(b, h)
        if b is not None and h is not None and not steps and _same_header(b, h):
            continue
        status = "added" if b is None else "removed" if h is None else "changed"
        model = [names[id(x)] for x in (b, h) if x is not None and id(x) in names]
        out.append(AlgorithmChange(a.name or a.kind, a.clause, status, steps, bool(model),
                                   any(n in changed_forms for n in model), a.loc.file, a.loc.line))
    return out


def _same_header(b: ir.Algorithm, h: ir.Algorithm) -> bool:
    return [(p.name, p.optional) for p in b.params] == [(p.name, p.optional) for p in h.params]


def _new_unknown(base: ir.Spec, head: ir.Spec, names: dict[int, str]) -> list[UnknownStep]:
    def unknowns(spec: ir.Spec) -> list[tuple[ir.Algorithm, ir.Step]]:
        return [(a, s) for a in spec.algorithms for s in a.walk() if isinstance(s.stmt, ir.Unknown)]

    before = Counter((a.name, " ".join(s.text.split())) for a, s in unknowns(base))
    out = []
    for a, s in unknowns(head):
        k = (a.name, " ".join(s.text.split()))
        if before[k] > 0:
            before[k] -= 1
            continue
        out.append(UnknownStep(a.name or a.kind, a.clause, StepRef.of(s), id(a) in names))
    return out


# ------------------------------------------------------------------- hand-modelled clauses

HAND_CHANGED = "hand-modelled clause changed: verdicts do not reflect it"


@dataclass(frozen=True)
class HandChange:
    """A clause the model builds in whose text differs between the sides (or that one side lost)."""

    clause: str
    what: str  # what of it the model builds in
    reason: str
    status: str  # changed | removed | added
    file: str  # the file as the user names it (a path in the repository for a git side)
    line: int  # the first changed line, on HEAD (on BASE when the clause or the text was removed)
    where: str  # file:line located on its side (`HEAD:spec.html:12420`)
    before: str  # the first changed text on BASE ("" if none)
    after: str  # and on HEAD

    def message(self) -> str:
        return f"{HAND_CHANGED}: {self.clause} ({self.what}) at {self.where}"

    def to_json(self) -> dict[str, Any]:
        return {"clause": self.clause, "what": self.what, "reason": self.reason, "status": self.status,
                "file": self.file, "line": self.line, "where": self.where, "before": self.before,
                "after": self.after, "message": self.message()}


@dataclass(frozen=True)
class _ClauseText:
    id: str
    oldids: tuple[str, ...]
    parent: str
    file: str  # as shown to the user
    line: int  # of the opening tag
    lines: tuple[tuple[int, str], ...]  # (line, plain text) of the clause's own non-empty lines


_CLAUSE_TAG = re.compile(r"<(/?)(emu-clause|emu-annex)\b((?:[^<>\"']|\"[^\"]*\"|'[^']*')*)>", re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_ANY_TAG = re.compile(r"<[^<>]*>")
# never normative (notes) or typing only (the header's h1: the model reads steps, not signatures)
_SKIP = re.compile(r"<(emu-note|h1)\b.*?</\1\s*>", re.S | re.I)
_ALG = re.compile(r"<(emu-alg)\b.*?</\1\s*>", re.S | re.I)


def _blank(m: re.Match[str]) -> str:
    """A cut-out region as the newlines it spanned, so that line numbers stay right."""
    return "\n" * m.group(0).count("\n")


def _clauses(text: str, file: str, wanted: set[str], prose_only: set[str]) -> dict[str, _ClauseText]:
    """The own text of each wanted clause (by id or old id): without nested clauses, notes and
    the h1, and for `prose_only` clauses without their algorithm steps; markup and entities gone,
    whitespace collapsed per line. Markup-only and reflowing changes leave it equal."""
    spans: list[tuple[str, tuple[str, ...], str, int, int, int]] = []  # id, oldids, parent, start, body, end
    stack: list[tuple[str, tuple[str, ...], int, int, list[tuple[int, int]]]] = []
    children: dict[int, list[tuple[int, int]]] = {}
    for m in _CLAUSE_TAG.finditer(text):
        if not m.group(1):
            attrs = dict(re.findall(r"([\w-]+)\s*=\s*\"([^\"]*)\"", m.group(3)))
            stack.append((attrs.get("id", ""), tuple(x for x in attrs.get("oldids", "").split(",") if x),
                          m.start(), m.end(), []))
        elif stack:
            cid, old, start, body, kids = stack.pop()
            if stack:
                stack[-1][4].append((start, m.end()))
            if cid in wanted or wanted.intersection(old):
                spans.append((cid, old, stack[-1][0] if stack else "", start, body, m.start()))
                children[start] = kids
    out: dict[str, _ClauseText] = {}
    for cid, old, parent, start, body, end in spans:
        pieces, at = [], body
        for a, b in children[start]:
            pieces += [text[at:a], "\n" * text.count("\n", a, b)]
            at = b
        own = "".join(pieces) + text[at:end]
        own = _SKIP.sub(_blank, _COMMENT.sub(_blank, own))
        if cid in prose_only or prose_only.intersection(old):
            own = _ALG.sub(_blank, own)
        own = _ANY_TAG.sub(_blank, own)
        first = text.count("\n", 0, body) + 1
        lines = tuple((first + i, " ".join(html.unescape(t).split()))
                      for i, t in enumerate(own.split("\n")) if t.strip())
        out[cid] = _ClauseText(cid, old, parent, file, text.count("\n", 0, start) + 1, lines)
    return out


def _side_clauses(side: Side, hands: tuple[HandClause, ...]) -> dict[str, _ClauseText]:
    """The hand-modelled clauses as one side's files have them, by the id the list uses."""
    wanted = {i for h in hands for i in (h.clause, *h.aliases)}
    prose = {i for h in hands if h.prose_only for i in (h.clause, *h.aliases)}
    found: dict[str, _ClauseText] = {}
    for path in side.paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):  # the reader already refused what it cannot read
            continue
        for c in _clauses(text, side.shown.get(path, path), wanted, prose).values():
            for name in (c.id, *c.oldids):
                found.setdefault(name, c)
    return {h.clause: next(found[i] for i in (h.clause, *h.aliases) if i in found)
            for h in hands if any(i in found for i in (h.clause, *h.aliases))}


def _hand_changes(base: Side, head: Side, hands: tuple[HandClause, ...]) -> tuple[HandChange, ...]:
    """Each hand-modelled clause whose own text differs between the sides. A clause one side
    lacks counts only when that side still has the clause's parent (it was taken out); an excerpt
    that never had the general operations compares nothing for them."""
    b, h = _side_clauses(base, hands), _side_clauses(head, hands)
    b_ids = {i for c in b.values() for i in (c.id, *c.oldids)}
    h_ids = {i for c in h.values() for i in (c.id, *c.oldids)}
    parents_b = _parents_present(base, {c.parent for c in h.values() if c.parent})
    parents_h = _parents_present(head, {c.parent for c in b.values() if c.parent})
    out: list[HandChange] = []
    seen: set[str] = set()
    for hand in hands:
        if hand.clause in seen:
            continue
        seen.add(hand.clause)
        old, new = b.get(hand.clause), h.get(hand.clause)
        if old is not None and new is not None:
            if " ".join(t for _, t in old.lines).split() == " ".join(t for _, t in new.lines).split():
                continue
            on_head, line, before, after = _first_change(old, new)
            side, ref = (head, new) if on_head else (base, old)
            out.append(HandChange(hand.clause, hand.what, hand.reason, "changed", ref.file, line,
                                  _where(side, ref.file, line), before, after))
        elif old is not None and old.parent in parents_h and not (h_ids & {old.id, *old.oldids}):
            out.append(HandChange(hand.clause, hand.what, hand.reason, "removed", old.file, old.line,
                                  _where(base, old.file, old.line), _excerpt(old.lines), ""))
        elif new is not None and new.parent in parents_b and not (b_ids & {new.id, *new.oldids}):
            out.append(HandChange(hand.clause, hand.what, hand.reason, "added", new.file, new.line,
                                  _where(head, new.file, new.line), "", _excerpt(new.lines)))
    return tuple(out)


def _parents_present(side: Side, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    present: set[str] = set()
    for path in side.paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        present |= {i for i in ids if f'id="{i}"' in text}
    return present


def _first_change(old: _ClauseText, new: _ClauseText) -> tuple[bool, int, str, str]:
    """Where the first changed text is (on HEAD, or on BASE when the change only removed text:
    the flag says which side), and the texts on both sides."""
    a, b = [t for _, t in old.lines], [t for _, t in new.lines]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        on_head = j1 < j2
        line = new.lines[j1][0] if on_head else old.lines[i1][0]
        return on_head, line, _clip(" ".join(a[i1:i2])), _clip(" ".join(b[j1:j2]))
    return True, new.line, "", ""  # the lines are equal: not reached when the words differ


def _excerpt(lines: tuple[tuple[int, str], ...]) -> str:
    return _clip(" ".join(t for _, t in lines))


def _clip(s: str, n: int = 240) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _where(side: Side, file: str, line: int) -> str:
    return f"{side.rev}:{file}:{line}" if side.rev else f"{file}:{line}"
