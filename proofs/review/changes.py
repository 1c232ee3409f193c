"""What changed in the text: algorithms matched by clause and name across the two sides, a
step-level diff with step numbers on both sides, and the unknown steps a change brought in."""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass
from typing import Any

from specmc.spec import ir
from specmc.spec.load import fully_parsed

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
    # (BASE's, HEAD's) parameter list when the header changed and nothing else might show why the
    # algorithm is listed: parameters swapped change which argument a step reads
    header: tuple[str, str] | None = None
    # not run at the review's bounds, but by the model at other bounds: which of them (each >= 1)
    # would run it ("weakmaps": WeakMap.prototype.get); () when the model runs it or never does
    runs_with: tuple[str, ...] = ()

    def tag(self, changed: str = "model changed") -> str:
        """What the change is to the model, as the reports label it."""
        if self.model_changed:
            return changed
        if self.in_model:
            return "same model"
        if self.runs_with:
            return "not run at these bounds: " + " or ".join(f"{b} >= 1" for b in self.runs_with) + " runs it"
        return "not modelled"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "clause": self.clause, "status": self.status, "in_model": self.in_model,
                "runs_with": list(self.runs_with),
                "model_changed": self.model_changed, "file": self.file or None, "line": self.line or None,
                "steps": [s.to_json() for s in self.steps],
                "header": {"base": self.header[0], "head": self.header[1]} if self.header else None}


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


def algorithm_changes(base: ir.Spec, head: ir.Spec, names: dict[int, str],
             changed_forms: set[str], runs_with: dict[int, tuple[str, ...]] | None = None
             ) -> list[AlgorithmChange]:
    """`runs_with`: per algorithm (by id) the model runs only at other bounds, those bounds."""
    runs_with = runs_with or {}
    out = []
    for b, h in _match(base, head):
        a = h or b
        assert a is not None
        steps = _step_diff(b, h)
        if b is not None and h is not None and not steps and _same_header(b, h):
            continue
        status = "added" if b is None else "removed" if h is None else "changed"
        model = [names[id(x)] for x in (b, h) if x is not None and id(x) in names]
        header = (signature(b), signature(h)) if b is not None and h is not None and not _same_header(b, h) \
            else None
        wider = () if model else tuple(dict.fromkeys(bound for x in (b, h) if x is not None
                                                      for bound in runs_with.get(id(x), ())))
        out.append(AlgorithmChange(a.name or a.kind, a.clause, status, steps, bool(model),
                                   any(n in changed_forms for n in model), a.loc.file, a.loc.line, header,
                                   wider))
    return out


def _same_header(b: ir.Algorithm, h: ir.Algorithm) -> bool:
    return [(p.name, p.optional) for p in b.params] == [(p.name, p.optional) for p in h.params]


def signature(a: ir.Algorithm) -> str:
    """The parameter list as a header writes it: `( _target_, _heldValue_ [ , _token_ ] )`."""
    text = ""
    for p in a.params:
        name = p.name if p.name.startswith("_") else f"_{p.name}_"
        if p.optional:
            text += f" [ , {name} ]" if text else f"[ {name} ]"
        else:
            text += f", {name}" if text else name
    return f"( {text} )" if text else "( )"


def new_unknown(base: ir.Spec, head: ir.Spec, names: dict[int, str]) -> list[UnknownStep]:
    def unknowns(spec: ir.Spec) -> list[tuple[ir.Algorithm, ir.Step]]:
        # what the model refuses as an unknown step (E040, model/build.py): one the grammar read
        # only in part (an Opaque operand) too, not only one it could not read at all; the review
        # said "0 new unknown step(s)" beside HEAD's E040 for such a step (review 8)
        return [(a, s) for a in spec.algorithms for s in a.walk() if not fully_parsed(s)]

    before = Counter((a.name, " ".join(s.text.split())) for a, s in unknowns(base))
    out = []
    for a, s in unknowns(head):
        k = (a.name, " ".join(s.text.split()))
        if before[k] > 0:
            before[k] -= 1
            continue
        out.append(UnknownStep(a.name or a.kind, a.clause, StepRef.of(s), id(a) in names))
    return out
