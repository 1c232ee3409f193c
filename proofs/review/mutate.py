"""`specmc mutate`: how complete is the property catalogue? Mutation adequacy, measured.

Each mutant is the spec text with one semantic change to one step of an algorithm the model
runs, made in the ecmarkup source itself (so a mutant is a real text a reader could write, and
it goes through the same reader, grammar and compiler as the original). A mutant is

- *killed* when some property is VIOLATED under some host, or when a property whose cover the
  original reaches becomes vacuous (the change made the situation it is about unreachable, which
  `specmc check` reports as a failure too);
- *survived* when the exploration is complete and neither happens: a gap of the catalogue (or a
  change that does not matter at these bounds);
- *equivalent* when the compiled model is the same as the original's for every host (by the
  normal-form digest review uses), so no property could ever tell them apart;
- *same behaviour* when the model changed but, at these bounds, every reachable state in which
  user code runs or the stack is empty is one the original reaches too, and the other way round
  (frames' program counters and locals aside: `observable`); typically two independent steps
  swapped. Listed with the survivors' reasons, not counted in the score: no property over what
  user code can see could kill it at these bounds (a larger bound might);
- *invalid* when the mutated text cannot be read or compiled (reported, not counted);
- *unknown* when the exploration was cut (state cap) before a verdict.

Operators (the set a demanding reviewer asks for): delete a step (with its substeps), negate a
condition, drop a `?` (an abrupt completion treated as normal), turn `Completion(F(...))` into
`? F(...)` (a handled abrupt completion propagated), make an `Optionally` mandatory or impossible,
and swap a step with its next sibling.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from specmc.model.bounds import Bounds
from specmc.spec import diagnostics as diag
from specmc.spec import ir
from specmc.spec.diagnostics import SpecError

OPERATORS = ("delete", "negate", "drop-abrupt", "propagate", "mandatory", "impossible", "swap")
KILLED, SURVIVED, EQUIVALENT, INVALID, UNKNOWN = "killed", "survived", "equivalent", "invalid", "unknown"
# the compiled model changed, yet every state in which user code runs or the stack is empty is the
# same as the original's at these bounds (`observable`): no state property can tell them apart there
SAME = "same behaviour"
OUTCOMES = (KILLED, SURVIVED, UNKNOWN, SAME, EQUIVALENT, INVALID)
ERROR = "error"  # specmc failed on this mutant: an internal error, never a verdict


@dataclass(frozen=True)
class Mutant:
    id: str  # "<operator> <clause> <step>"
    operator: str
    clause: str
    algorithm: str
    step: str
    line: int  # 1-based line of the step in the original file
    before: str  # the original step text
    after: str  # what the step reads now ("" when deleted)
    start: int  # character span [start, end) of the original text that is replaced ...
    end: int
    replacement: str  # ... by this
    inert: str = ""  # why the model gives the mutated step no effect ("" when it does)

    def apply(self, text: str) -> str:
        return text[:self.start] + self.replacement + text[self.end:]


@dataclass(frozen=True)
class Result:
    mutant: Mutant
    outcome: str
    killer: str = ""  # property id (or "cover: <id>" when a cover became unreachable)
    host: str = ""
    detail: str = ""
    states: int = 0


@dataclass(frozen=True)
class Summary:
    spec: str
    hosts: tuple[str, ...]
    bounds: str
    results: tuple[Result, ...] = field(default=())

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def score(self) -> float | None:
        """Killed among the mutants that count (killed + survived + unknown)."""
        counted = self.count(KILLED) + self.count(SURVIVED) + self.count(UNKNOWN)
        return self.count(KILLED) / counted if counted else None

    def to_json(self) -> dict:
        return {"spec": self.spec, "hosts": list(self.hosts), "bounds": self.bounds,
                "score": self.score,
                "counts": {o: self.count(o) for o in (*OUTCOMES, ERROR)},
                "mutants": [{"id": r.mutant.id, "operator": r.mutant.operator, "clause": r.mutant.clause,
                             "step": r.mutant.step, "line": r.mutant.line, "before": r.mutant.before,
                             "after": r.mutant.after, "outcome": r.outcome, "killer": r.killer or None,
                             "host": r.host or None, "detail": r.detail or None, "states": r.states}
                            for r in self.results]}


# ------------------------------------------------------------------ generating mutants

_MARKER = re.compile(r"^(?P<indent>\s*)1\.\s")


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def _extent(lines: list[str], i: int) -> int:
    """The line after step line i and its substeps (lines indented deeper than it)."""
    m = _MARKER.match(lines[i])
    depth = len(m.group("indent")) if m else 0
    j = i + 1
    while j < len(lines):
        line = lines[j]
        if line.strip() and (len(line) - len(line.lstrip())) <= depth:
            break
        if "</emu-alg>" in line:
            break
        j += 1
    return j


def _conditional(text: str) -> bool:
    return bool(re.match(r"(If|Else, if|While|Assert:)\b", text))


def _negate(body: str) -> str | None:
    """The step's condition negated, in the text's own idiom."""
    for pat, rep in ((r" is not ", " is "), (r" is \*true\*", " is *false*"),
                     (r" is \*false\*", " is *true*"), (r" is ", " is not "),
                     (r" does not contain ", " contains "), (r" contains ", " does not contain ")):
        if re.search(pat, body):
            return re.sub(pat, rep, body, count=1)
    return None


def _matching_paren(s: str, open_at: int) -> int:
    depth = 0
    for k in range(open_at, len(s)):
        if s[k] == "(":
            depth += 1
        elif s[k] == ")":
            depth -= 1
            if depth == 0:
                return k
    return -1


def _inert(steps: list[tuple[ir.Algorithm, ir.Step]], bounds: Bounds | None = None) -> dict[int, str]:
    """Steps the model gives no effect, by construction: loops over entities it has none of
    (WeakMaps, WeakSets, the GlobalSymbolRegistry) and what they hold, and "perform any
    host-defined steps". A mutant of such a step changes the text, not the model's behaviour."""
    from specmc.model.compile import dead_loop

    b = bounds or Bounds()
    out: dict[int, str] = {}
    for _, step in steps:
        if dead_loop(step.stmt, b.symbols, b.weakmaps, b.weaksets):
            for s in step.walk():
                out[id(s)] = "a loop over entities the model has none of"
        elif isinstance(step.stmt, ir.HostDefined) or (
                isinstance(step.stmt, ir.If) and isinstance(step.stmt.inline, ir.HostDefined)):
            out.setdefault(id(step), "host-defined steps: the model gives them no effect")
    return out


def mutants(text: str, steps: list[tuple[ir.Algorithm, ir.Step]], file: str,
            bounds: Bounds | None = None) -> list[Mutant]:
    """Every mutant of the steps given (each located in `file`), in text order; which steps are
    inert (loops over what the model lacks) depends on `bounds`."""
    lines = text.split("\n")
    starts = _line_starts(text)
    out: list[Mutant] = []
    inert = _inert(steps, bounds)
    seen: set[tuple[int, str]] = set()
    for alg, step in steps:
        if step.loc.file != file:
            continue
        i = step.loc.line - 1
        if i >= len(lines) or not _MARKER.match(lines[i]):
            continue
        if (i, "") in seen:
            continue
        seen.add((i, ""))
        line = lines[i]
        m = _MARKER.match(line)
        assert m is not None
        head = line[:m.end()]
        body = line[m.end():]
        end_line = _extent(lines, i)
        span_start, span_end = starts[i], starts[end_line] if end_line < len(starts) else len(text)

        def make(op: str, start: int, end: int, replacement: str, after: str,
                 alg: ir.Algorithm = alg, step: ir.Step = step, why: str = inert.get(id(step), "")) -> Mutant:
            return Mutant(f"{op} {alg.clause} {step.number}", op, alg.clause, alg.name, step.number,
                          step.loc.line, step.text, after, start, end, replacement, why)

        line_start, line_end = starts[i], starts[i] + len(line)
        out.append(make("delete", span_start, span_end, "", ""))
        if _conditional(body):
            neg = _negate(body)
            if neg is not None and neg != body:
                out.append(make("negate", line_start, line_end, head + neg, neg))
        q = re.search(r"(?<=[\s(])\? ", body)
        if q is not None:
            new = body[:q.start()] + body[q.end():]
            out.append(make("drop-abrupt", line_start, line_end, head + new, new))
        c = body.find("Completion(")
        if c >= 0 and not body[max(0, c - 6):c].endswith("Normal"):
            close = _matching_paren(body, c + len("Completion"))
            if close > 0:
                new = body[:c] + "? " + body[c + len("Completion("):close] + body[close + 1:]
                out.append(make("propagate", line_start, line_end, head + new, new))
        if body.startswith("Optionally, "):
            rest = body[len("Optionally, "):]
            new = rest[:1].upper() + rest[1:]
            out.append(make("mandatory", line_start, line_end, head + new, new))
            out.append(make("impossible", span_start, span_end, "", ""))
        nxt = end_line
        if nxt < len(lines):
            m2 = _MARKER.match(lines[nxt])
            if m2 and len(m2.group("indent")) == len(m.group("indent")):
                nxt_end = _extent(lines, nxt)
                b_start = starts[nxt]
                b_end = starts[nxt_end] if nxt_end < len(starts) else len(text)
                first, second = text[span_start:b_start], text[b_start:b_end]
                out.append(make("swap", span_start, b_end, second + first,
                                f"(after the next step) {step.text}"))
    return out


# ------------------------------------------------------------------ running them


@dataclass(frozen=True)
class _Task:
    spec_path: str
    hosts: tuple[str, ...]
    bounds: Bounds
    max_states: int
    mutant: Mutant
    baseline_digests: tuple[tuple[str, str], ...]
    baseline_covers: tuple[tuple[str, tuple[str, ...]], ...]  # host -> covers the original reaches
    baseline_violated: tuple[tuple[str, tuple[str, ...]], ...] = ()  # host -> what the original violates
    baseline_observable: tuple[tuple[str, str], ...] = ()  # host -> digest of `observable`


def observable(program, states) -> str:
    """A digest of the reachable states in which user code is on top of the stack or the stack is
    empty, without the program counters and locals of the frames (the text's own bookkeeping,
    which a reordering of independent steps changes). What user code can see is all in there:
    the heap, the registries' cells, [[KeptAlive]], the queue, what a call returned, and the
    observers (model/layout.py). Two models with the same digest give every state property that
    reads those variables the same verdict at these points, however their algorithms run."""
    import hashlib

    from specmc.model.compile import USER

    lay = program.layout
    sp = lay.where("sp")[0]
    alg = lay.where("frame_alg")[0]
    inner = set()
    for name in ("frame_pc", "frame_local"):
        base, size = lay.where(name)
        inner |= set(range(base, base + size))
    keep = [i for i in range(lay.size) if i not in inner]
    seen = sorted({tuple(s[i] for i in keep) for s in states
                   if s[sp] == 0 or s[alg + s[sp] - 1] == USER})
    return hashlib.sha256(repr(seen).encode()).hexdigest()


def _explore_all(program, max_depth: int, max_states: int, first: bool, known: frozenset[str] = frozenset()):
    """Every catalogue property and its cover at once; with `first`, stop at the first violation of
    a property not in `known` (those the original text already violates)."""
    from specmc.model.explore import explore
    from specmc.proofs.properties import CATALOGUE
    from specmc.proofs.run.job import cover_predicate, predicate

    preds = {p.id: predicate(program, p) for p in CATALOGUE.values()}
    for p in CATALOGUE.values():
        cover = cover_predicate(program, p)
        if cover is not None:
            preds["cover: " + p.id] = lambda S, cover=cover: not cover(S)
    stop = frozenset(p.id for p in CATALOGUE.values() if p.id not in known) if first else frozenset()
    return explore(program, preds, max_depth, max_states, keep=True, stop_at=stop)


def _run(task: _Task) -> Result:
    """One mutant; whatever goes wrong comes back as a Result (a worker must not raise: the
    exception would have to cross processes)."""
    import traceback

    from specmc.spec.diagnostics import SpecError

    try:
        return _run_one(task)
    except SpecError as e:
        return Result(task.mutant, INVALID, detail=_first_line(e))
    except Exception:  # a bug in specmc, reported as such by the command (exit 3)
        return Result(task.mutant, ERROR, detail=traceback.format_exc(limit=6).strip().splitlines()[-1])


def _first_line(e: Exception) -> str:
    diags = getattr(e, "diagnostics", None)
    text = diags[0].render() if diags else str(e)
    return text.splitlines()[0].split(": ", 1)[-1]


def _run_one(task: _Task) -> Result:
    from specmc.model.build import build
    from specmc.model.hosts import load_host
    from specmc.model.normal import model_form
    from specmc.spec.diagnostics import SpecError
    from specmc.spec.load import load_spec

    m = task.mutant
    original = Path(task.spec_path).read_text()
    with tempfile.TemporaryDirectory(prefix="specmc-mutant-") as tmp:
        path = Path(tmp) / Path(task.spec_path).name
        path.write_text(m.apply(original))
        try:
            spec = load_spec(path)
            hosts = [load_host(h) for h in task.hosts]
            digests = {h.name: model_form(spec, h, task.bounds).digest for h in hosts}
        except SpecError as e:
            return Result(m, INVALID, detail=_first_line(e))
        if digests == dict(task.baseline_digests):
            return Result(m, EQUIVALENT, detail="the compiled model is unchanged")
        if m.inert:
            return Result(m, EQUIVALENT, detail=m.inert)
        covers = dict(task.baseline_covers)
        states = 0
        cut = ""
        same = True
        for host in hosts:
            if digests[host.name] == dict(task.baseline_digests)[host.name]:
                continue
            try:
                program = build(spec, host, task.bounds)
            except SpecError as e:
                return Result(m, INVALID, host=host.name, detail=_first_line(e))
            known = frozenset(dict(task.baseline_violated).get(host.name, ()))
            r = _explore_all(program, task.bounds.steps, task.max_states, first=True, known=known)
            states += r.states
            # a property the original already violates here says nothing about the change
            hit = sorted(k for k in r.violations if not k.startswith("cover: ") and k not in known)
            if hit:
                depth = len(r.violations[hit[0]]) - 1
                return Result(m, KILLED, hit[0], host.name, f"{depth} transitions", states)
            if not r.complete:
                cut = f"exploration cut at {r.states:,} states under {host.name}"
                continue
            lost = sorted(set(covers.get(host.name, ())) - {k[len("cover: "):] for k in r.violations
                                                             if k.startswith("cover: ")})
            if lost:
                return Result(m, KILLED, "cover: " + lost[0], host.name,
                              "PROVED (vacuous) where the original reaches the cover", states)
            if observable(program, r.reached) != dict(task.baseline_observable).get(host.name):
                same = False
        if cut:
            return Result(m, UNKNOWN, detail=cut, states=states)
        if same:
            return Result(m, SAME, detail="every state where user code runs or the stack is empty is "
                          "the original's at these bounds", states=states)
        return Result(m, SURVIVED, states=states)


def _baseline(spec_path: str, hosts: tuple[str, ...], bounds: Bounds, max_states: int):
    from specmc.model.build import build
    from specmc.model.hosts import load_host
    from specmc.model.normal import model_form
    from specmc.spec.load import load_spec

    spec = load_spec(spec_path)
    digests, covers, violated, seen = [], [], [], []
    for name in hosts:
        host = load_host(name)
        digests.append((host.name, model_form(spec, host, bounds).digest))
        program = build(spec, host, bounds)
        r = _explore_all(program, bounds.steps, max_states, first=False)
        seen.append((host.name, observable(program, r.reached)))
        covers.append((host.name, tuple(sorted(k[len("cover: "):] for k in r.violations
                                                if k.startswith("cover: ")))))
        violated.append((host.name, tuple(sorted(k for k in r.violations if not k.startswith("cover: ")))))
    return spec, tuple(digests), tuple(covers), tuple(violated), tuple(seen)


def candidate_steps(spec: ir.Spec, hosts: tuple[str, ...],
                    bounds: Bounds | None = None) -> list[tuple[ir.Algorithm, ir.Step]]:
    """The steps of the text's algorithms that some host's model runs, in text order."""
    from specmc.model.build import select_algorithms
    from specmc.model.hosts import load_host

    chosen: dict[str, ir.Algorithm] = {}
    for name in hosts:
        b = bounds or Bounds()
        sel = select_algorithms(spec, load_host(name), b.weakmaps, b.weaksets)
        for alg, source in sel.algorithms.values():
            if source == "spec":
                chosen.setdefault(f"{alg.clause}/{alg.name}", alg)
    steps = [(alg, s) for alg in chosen.values() for s in alg.walk()]
    return sorted(steps, key=lambda p: (p[1].loc.file, p[1].loc.line))


def _check_clauses(spec: ir.Spec, clauses: tuple[str, ...], run: set[str], bounds: Bounds) -> None:
    """A --clause the text lacks is E030, as `parse` says; one the model does not run at these
    bounds (WeakMap.prototype.get at weakmaps=0, or a clause outside the model) is E030 too, saying
    so. Before, either mutated nothing and `mutate` passed (fourth review)."""
    known = {c.id for c in spec.clauses}
    where = ", ".join(spec.files) or "the input"
    for c in clauses:
        if c not in known:
            raise SpecError([diag.make("E030", clause=c, where=where)])
        if c not in run:
            raise SpecError([diag.make("E030", clause=c, where=(
                f"the algorithms the model runs at {bounds.describe()} (the text has the clause, but "
                "none of those is written in it: it is not compiled at these bounds or for these "
                "hosts, or it only holds other clauses)"))])


def run(spec_path: str, hosts: tuple[str, ...], bounds: Bounds, max_states: int = 2_000_000,
        only: Callable[[Mutant], bool] = lambda _m: True, workers: int | None = None,
        progress: Callable[[str], None] = lambda _m: None, clauses: tuple[str, ...] = ()) -> Summary:
    """Generate every mutant of the text and run each (side by side, one per core). `clauses`:
    the clause ids a `only` keeps, each of which must be one the model runs (else a SpecError)."""
    spec, digests, covers, violated, seen = _baseline(spec_path, hosts, bounds, max_states)
    text = Path(spec_path).read_text()
    steps = candidate_steps(spec, hosts, bounds)
    _check_clauses(spec, clauses, {alg.clause for alg, _ in steps}, bounds)
    file = next((s.loc.file for _, s in steps), spec_path)
    ms = [m for m in mutants(text, steps, file, bounds) if only(m)]
    progress(f"{len(ms)} mutants of {len({m.step + m.clause for m in ms})} steps; "
             f"the original reaches {sum(len(c) for _, c in covers)} covers")
    if any(v for _, v in violated):
        progress("the original already violates " + "; ".join(f"{', '.join(v)} under {h}"
                                                            for h, v in violated if v)
                 + ": those do not count as kills")
    tasks = [_Task(spec_path, hosts, bounds, max_states, m, digests, covers, violated, seen) for m in ms]
    results: list[Result] = []
    n = max(1, workers or os.cpu_count() or 1)
    if n == 1 or len(tasks) <= 1:
        it: Iterator[Result] = map(_run, tasks)
        for r in it:
            results.append(r)
            progress(_line(r))
    else:
        with mp.get_context("fork").Pool(n) as pool:
            for r in pool.imap(_run, tasks):
                results.append(r)
                progress(_line(r))
    return Summary(spec_path, tuple(Path(h).stem for h in hosts), bounds.describe(), tuple(results))


def _line(r: Result) -> str:
    who = f"{r.killer} under {r.host}" if r.outcome == KILLED else r.detail
    return f"{r.outcome:10} {r.mutant.id}" + (f"  ({who})" if who else "")


def text_report(s: Summary) -> str:
    lines = [f"mutants of {s.spec} under {', '.join(s.hosts)} at {s.bounds}", ""]
    for r in s.results:
        m = r.mutant
        who = f"{r.killer} ({r.host}, {r.detail})" if r.outcome == KILLED else r.detail
        lines.append(f"{r.outcome:10} {m.operator:11} {m.clause} {m.step} (line {m.line}): {who}")
        if r.outcome == SURVIVED:
            lines.append(f"{'':10}   was: {m.before}")
            lines.append(f"{'':10}   now: {m.after or '(deleted)'}")
    counts = ", ".join(f"{s.count(o)} {o}" for o in (*OUTCOMES, ERROR))
    score = f"{s.score:.0%}" if s.score is not None else "n/a"
    lines += ["", f"{len(s.results)} mutants: {counts}; killed {score} of those that count "
              "(killed, survived, unknown)"]
    return "\n".join(lines) + "\n"
