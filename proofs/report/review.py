"""A review rendered for people (text, Markdown for a pull-request comment) and for tools (JSON,
SARIF 2.1.0, GitHub workflow annotations). Each format is one function of the `Review` value.

Every format gives the same outcome: the review fails (a verdict got worse, a new unknown step
sits in an algorithm the model runs, or, under --strict, a hand-modelled clause changed), it was
not checked (some combination has no verdict to
compare, each reason shown once and located), or it passes. UNKNOWN verdicts always come with
their reason, numbered so that one reason shared by many rows is printed once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from specmc.model.hosts import REFERENCE_HOST
from specmc.proofs.report.sarif import code_flows, document, location
from specmc.proofs.review.changes import AlgorithmChange, StepRef
from specmc.proofs.review.hand import HAND_CHANGED, HandChange
from specmc.proofs.review.review import Review, UncheckedReason, VerdictPair
from specmc.proofs.verdict import BOUNDED, UNKNOWN, Outcome

# the heading of the host notes (model.build.host_notes), as check's rows give them
NOTES = "what the bounds leave out of the host's profile (no verdict above covers it)"
# (a new violation under the spec's own host is a hazard in the text)
MARKDOWN_LIMIT = 60_000  # a GitHub pull-request comment holds 65,536 characters; leave room


def render(review: Review, fmt: str) -> str:
    return {"text": text, "json": as_json, "markdown": markdown, "sarif": sarif,
            "github": github}[fmt](review)


def as_json(r: Review) -> str:
    return json.dumps(r.to_json(), indent=2, ensure_ascii=False) + "\n"


def _headline(r: Review) -> str:
    worse = [v for v in r.verdicts if v.worse]
    model = "model identical (the compiled model is the same)" if r.model_identical else "model changed"
    parts = [f"{len(r.changed)} algorithm(s) changed", model,
             f"{len(r.new_unknown)} new unknown step(s)", f"{len(worse)} verdict(s) got worse"]
    if r.not_checked:
        parts.append(f"{len(r.not_checked)} of {len(r.verdicts)} verdict(s) not checked")
    if r.hand_changed:
        parts.append(f"{len(r.hand_changed)} hand-modelled clause(s) changed")
    return "; ".join(parts)


def outcome(r: Review) -> str:
    """fails, not checked, or passes: a finding outranks what could not be checked."""
    return "fails" if r.failing else "not checked" if not r.checked else "passes"


def _reasons(r: Review) -> dict[str, int]:
    """Every UNKNOWN reason in the review, numbered: those that left combinations unchecked first."""
    numbers: dict[str, int] = {}
    for u in r.unchecked_reasons():
        numbers.setdefault(u.reason, len(numbers) + 1)
    for v in r.verdicts:
        for o in (v.base, v.head):
            if o.verdict == UNKNOWN or (o.vacuous and o.reason):  # (a vacuous proof's why, if known)
                numbers.setdefault(o.reason or "no reason given", len(numbers) + 1)
    return numbers


def _cell(o: Outcome, numbers: dict[str, int]) -> str:
    """A verdict as people read it (`PROVED (vacuous)`), with the number of its reason when it is
    UNKNOWN."""
    if o.verdict == BOUNDED:  # checked within its depth only, and only if that met the cover
        reach = {True: "", False: ", cover not reached", None: ", cover not checked"}[o.cover_reached]
        return f"BOUNDED (depth {o.depth}{reach})"
    if o.verdict != UNKNOWN:
        return f"{o.label} [{numbers[o.reason]}]" if o.vacuous and o.reason in numbers else o.label
    return f"UNKNOWN [{numbers[o.reason or 'no reason given']}]"


def _unchecked(r: Review) -> set[int]:
    """The verdict pairs (by index) the review counts as not checked."""
    ids = {id(v) for v in r.not_checked}
    return {i for i, v in enumerate(r.verdicts) if id(v) in ids}


def _combinations(combos: Iterable[tuple[str, str, str]]) -> str:
    """`run R, host H: p, q` per run and host; a count instead of a long property list."""
    by: dict[tuple[str, str], list[str]] = {}
    for run, host, prop in combos:
        by.setdefault((run, host), []).append(prop)
    return "; ".join(f"run {run}, host {host}: " + (", ".join(props) if len(props) <= 3
                                                    else f"{len(props)} properties")
                     for (run, host), props in by.items())


def _unchecked_line(u: UncheckedReason, n: int) -> str:
    return f"[{n}] {u.side} ({_combinations(u.combinations)}): {u.reason}"


def _hand_level(r: Review) -> str:
    """A changed hand-modelled clause fails a --strict review and is a warning otherwise."""
    return "error" if r.strict else "warning"


def _hand_line(h: HandChange, r: Review) -> str:
    tail = "fails under --strict" if r.strict else "a warning; --strict fails the review"
    return f"{h.message()} [{h.status}; {tail}]"


def _ref(s: StepRef | None) -> str:
    return f"{s.number}" if s else "-"


def text(r: Review) -> str:
    numbers = _reasons(r)
    result = outcome(r)
    if r.not_checked:
        result += f": {len(r.not_checked)} of {len(r.verdicts)} verdict(s) could not be checked"
    lines = [f"review {r.base} -> {r.head}", _headline(r), f"result: {result}"]
    lines += ["  " + _unchecked_line(u, numbers[u.reason]) for u in r.unchecked_reasons()]
    for h in r.hand_changed:
        lines.append("  " + _hand_line(h, r))
        lines.append(f"      the model builds in {h.what}: {h.reason}")
        if h.before:
            lines.append(f"      base: {h.before}")
        if h.after:
            lines.append(f"      head: {h.after}")
    lines.append("")
    for m in r.models:
        state = "identical" if m.identical else "changed: " + ", ".join(m.changed)
        lines.append(f"model under {m.host}: {state}")
        for side, err in (("base", m.base_error), ("head", m.head_error)):
            if err:
                lines.append(f"  {side}: {err}")
        if m.by_hand:
            lines.append(f"  modelled by hand, not from the text: {', '.join(m.by_hand)}")
        first = _first(r, m.host)
        if first:
            lines.append(f"  checked first on head (they read what the changed algorithms write or run): "
                         f"{', '.join(first)}")
    if r.changed:
        lines.append("\nchanged algorithms")
        for c in r.changed:
            tag = c.tag("model")
            lines.append(f"  {c.status:8} {c.name} ({c.clause}) [{tag}]")
            if c.header:
                lines.append(f"    {'header':8} {'base:':>7}    {c.header[0]}")
                lines.append(f"    {'':8} {'head:':>7}    {c.header[1]}")
            for s in c.steps:
                if s.base and s.head:  # a changed step: what it was, then what it is
                    lines.append(f"    {s.op:8} {_ref(s.base):>7} -> {_ref(s.head):<7} - {s.base.text[:100]}")
                    lines.append(f"{'':32}+ {s.head.text[:100]}")
                    continue
                lines.append(f"    {s.op:8} {_ref(s.base):>7} -> {_ref(s.head):<7} "
                             f"{(s.head or s.base).text[:100]}")  # type: ignore[union-attr]
                if s.base and not s.head:
                    lines.append(f"{'':26}(was {s.base.file}:{s.base.line}:{s.base.column})")
    if r.new_unknown:
        lines.append("\nnew unknown steps")
        for u in r.new_unknown:
            where = f"{u.step.file}:{u.step.line}:{u.step.column}"
            lines.append(f"  {where} {u.algorithm} step {u.step.number}"
                         f"{' (used by the model)' if u.in_model else ''}: {u.step.text}")
    if r.verdicts:
        lines.append("\nverdicts (base -> head)")
        width = max(len(v.run) for v in r.verdicts)
        unchecked = _unchecked(r)
        for i, v in enumerate(r.verdicts):
            mark = "WORSE" if v.worse else "NOT CHECKED" if i in unchecked else ""
            same = "  (same model)" if v.carried else ""
            lines.append(f"  {mark:11} {v.run:{width}}  {v.host:16} {v.property:28} "
                         f"{_cell(v.base, numbers):8} -> {_cell(v.head, numbers)}{same}")
        shown = {numbers[u.reason] for u in r.unchecked_reasons()}
        rest = [(n, why) for why, n in numbers.items() if n not in shown]
        if rest:
            vacuous = any(o.vacuous and o.reason for v in r.verdicts for o in (v.base, v.head))
            lines.append("\nwhy UNKNOWN" + (" or vacuous" if vacuous else ""))
            lines += [f"  [{n}] {why}" for n, why in rest]
        if r.notes():
            lines.append(f"\n{NOTES}")
            lines += [f"  run {run}, host {host}: {note}" for run, host, note in r.notes()]
    for v in r.verdicts:
        if v.new_violation:
            lines.append(f"\n{v.property} newly VIOLATED under {v.host} (run {v.run}): {len(v.head.trace)} "
                         "steps (* = a step the change touched)")
            for i, t in enumerate(v.head.trace):
                star = "*" if i in v.touched else " "
                where = f"{t.get('clause', '')} {t.get('step', '')}".strip() or t.get("actor", "")
                lines.append(f"  {star}{i:3}  {where:48} {t.get('text', '')}")
    return "\n".join(lines) + "\n"


def _first(r: Review, host: str) -> list[str]:
    """The properties head checked first under `host` (review.rerun_order), once each."""
    return list(dict.fromkeys(v.property for v in r.verdicts if v.host == host and v.first))


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _code(s: str) -> str:
    """`s` as a Markdown code span: fenced by one backtick more than its longest run of them, as
    CommonMark reads it (algorithm names such as "`Promise.all` Resolve Element Functions" broke
    a span of single backticks)."""
    runs = [len(m) for m in re.findall(r"`+", s)]
    if not runs:
        return f"`{s}`"
    fence = "`" * (max(runs) + 1)
    return f"{fence} {s} {fence}"


class _Page:
    """The lines of a Markdown comment, kept under MARKDOWN_LIMIT: the summary and the verdict table
    always go in; a block of detail (a counterexample, a step diff, an unknown step) goes in only
    while it fits with `reserve` characters left for what follows, and is otherwise counted so
    that the comment can say how much it left to `--format text` or `json`."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.size = 0

    def add(self, lines: list[str]) -> None:
        self.lines += lines
        self.size += sum(len(line) + 1 for line in lines)

    def offer(self, lines: list[str], reserve: int) -> bool:
        if self.size + sum(len(line) + 1 for line in lines) > MARKDOWN_LIMIT - reserve:
            return False
        self.add(lines)
        return True

    def left(self) -> int:
        return MARKDOWN_LIMIT - self.size


def markdown(r: Review) -> str:
    numbers = _reasons(r)
    verdict = {"fails": "**fails**", "not checked": "was **not checked**", "passes": "passes"}[outcome(r)]
    page = _Page()
    page.add([f"### specmc review: `{r.base}` → `{r.head}`", "",
              f"{_headline(r)}. This review {verdict}.", ""])
    if r.not_checked:
        page.add([f"**Not checked** ({len(r.not_checked)} of {len(r.verdicts)} verdicts): nothing can be "
                  "said about these combinations until the reason below is fixed.", ""])
        page.add([f"- {_md(_unchecked_line(u, numbers[u.reason]))}" for u in r.unchecked_reasons()] + [""])
    if r.hand_changed:
        page.add(["**Hand-modelled clauses changed**: the model builds these clauses in rather than "
                  "compiling their text, so no verdict below reflects the change"
                  + (" (`--strict`: this fails the review)." if r.strict else "."), ""])
        for h in r.hand_changed:
            page.add([f"- `{h.clause}` ({_md(h.what)}), {h.status} at `{_md(h.where)}`: {_md(h.reason)}"])
            if h.before or h.after:
                page.add([f"  - base: {_md(h.before) or '—'}", f"  - head: {_md(h.after) or '—'}"])
        page.add([""])
    page.add(["| host | model |", "| --- | --- |"])
    for m in r.models:
        state = "identical" if m.identical else "changed: " + ", ".join(_code(n) for n in m.changed)
        errs = "; ".join(f"{side}: {_md(e)}" for side, e in (("base", m.base_error), ("head", m.head_error))
                         if e)
        page.add([f"| {m.host} | {state}{' (' + errs + ')' if errs else ''} |"])
    firsts = [(m.host, _first(r, m.host)) for m in r.models if _first(r, m.host)]
    if firsts:
        page.add(["", "Checked first on head, as the properties the changed algorithms can affect: "
                  + "; ".join(f"{h}: " + ", ".join(f"`{p}`" for p in ps) for h, ps in firsts) + "."])
    changes = [v for v in r.verdicts if v.base.verdict != v.head.verdict]
    page.add(["", "#### Verdicts", ""])
    if r.verdicts:
        page.add(["| run | host | property | base | head | |", "| --- | --- | --- | --- | --- | --- |"])
        unchecked = {id(v) for v in r.not_checked}
        for v in changes or r.verdicts:
            flag = "⚠️ worse" if v.worse else "not checked" if id(v) in unchecked else (
                "same model" if v.carried else "")
            page.add([f"| {_md(v.run)} | {v.host} | `{v.property}` | {_cell(v.base, numbers)} | "
                      f"{_cell(v.head, numbers)} | {flag} |"])
        if not changes:
            page.add(["", "No verdict changed."])
        shown = {numbers[u.reason] for u in r.unchecked_reasons()}
        rest = [(n, why) for why, n in numbers.items() if n not in shown]
        if rest:
            page.add(["", "Why UNKNOWN:", ""] + [f"- [{n}] {_md(why)}" for n, why in rest])
        if r.notes():
            page.add(["", f"{NOTES[0].upper()}{NOTES[1:]}:", ""]
                     + [f"- run {_md(run)}, host {host}: {_md(note)}" for run, host, note in r.notes()])
    left_out: list[str] = []
    traces = [v for v in r.verdicts if v.new_violation]
    missed = sum(not page.offer(_counterexample(v), 8_000) for v in traces)
    if missed:
        left_out.append(f"{missed} counterexample(s)")
    if r.new_unknown:
        page.add(["", "#### New unknown steps", ""])
        missed = 0
        for u in sorted(r.new_unknown, key=lambda u: not u.in_model):  # the ones that fail the review first
            used = " (**used by the model**)" if u.in_model else ""
            missed += not page.offer([f"- `{u.step.file}:{u.step.line}` {u.algorithm} step {u.step.number}"
                                      f"{used}: {_md(u.step.text)}"], 6_000)
        if missed:
            left_out.append(f"{missed} new unknown step(s)")
    if r.changed:
        page.add(["", "#### Changed algorithms", ""])
        named = [c.name for c in r.changed if not (c.in_model and page.offer(_step_table(c), 4_000))]
        if named:
            page.add(["", _names(named, page.left() - 600)])
    if left_out:
        page.add(["", f"_Left out to fit a pull-request comment: {', '.join(left_out)}; "
                      "`--format text` or `json` has everything._"])
    return "\n".join(page.lines) + "\n"


def _counterexample(v: VerdictPair) -> list[str]:
    out = ["", f"<details><summary>Counterexample: <code>{v.property}</code> under {v.host}, "
               f"run {_md(v.run)} ({len(v.head.trace)} steps; ★ marks steps this change "
               "touched)</summary>", "",
           "| # | step | text | stack |", "| --- | --- | --- | --- |"]
    for i, t in enumerate(v.head.trace):
        where = f"{t.get('clause', '')} {t.get('step', '')}".strip() or t.get("actor", "")
        star = "★ " if i in v.touched else ""
        out.append(f"| {i} | {star}{_md(where)} | {_md(t.get('text', ''))} | "
                   f"{_md(' > '.join(t.get('stack', [])))} |")
    return out + ["", "</details>"]


def _step_table(c: AlgorithmChange) -> list[str]:
    """One changed algorithm as a collapsible step diff (removed steps give their BASE line)."""
    tag = c.tag()
    out = [f"<details><summary>{c.status} <code>{_md(c.name)}</code> ({c.clause}): {tag}</summary>",
           "", "| | base | head | text |", "| --- | --- | --- | --- |"]
    if c.header:
        out.append(f"| ~ | header | header | ~~{_md(c.header[0])}~~<br>{_md(c.header[1])} |")
    for s in c.steps:
        sign = {"added": "+", "removed": "−", "changed": "~"}[s.op]
        if s.base and s.head:
            body = f"~~{_md(s.base.text)}~~<br>{_md(s.head.text)}"
        else:
            ref = s.head or s.base
            body = _md(ref.text) if ref else ""
        base = f"{_ref(s.base)} (line {s.base.line})" if s.base and not s.head else _ref(s.base)
        out.append(f"| {sign} | {base} | {_ref(s.head)} | {body} |")
    return out + ["", "</details>"]


def _names(names: list[str], budget: int) -> str:
    """The changed algorithms a pull-request comment does not detail (those the model does not
    run, and any past the size limit), by name with a count for names the spec uses many times
    (syntax-directed operations), cut to `budget` characters."""
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    head = f"{len(names)} more changed algorithm(s), step diffs in `--format text` or `json`: "
    shown: list[str] = []
    size = len(head)
    for n, k in counts.items():
        item = _code(n) + (f" (×{k})" if k > 1 else "")
        if size + len(item) + 2 > budget - 40:
            break
        shown.append(item)
        size += len(item) + 2
    left = len(counts) - len(shown)
    return head + ", ".join(shown) + (f" and {left} more name(s)" if left else "") + "."


# ------------------------------------------------------------------------------------- SARIF

RULES = (
    {"id": "property-violation", "name": "PropertyViolation",
     "shortDescription": {"text": "A property that held on the base text is violated on the head text"},
     "defaultConfiguration": {"level": "error"}},
    {"id": "spec-hazard", "name": "SpecHazard",
     "shortDescription": {"text": "Read literally under the reference host, the head text breaks a property"},
     "defaultConfiguration": {"level": "error"}},
    {"id": "unknown-step", "name": "UnknownStep",
     "shortDescription": {"text": "A step the grammar cannot read was introduced"},
     "defaultConfiguration": {"level": "warning"}},
    {"id": "model-change", "name": "ModelChange",
     "shortDescription": {"text": "An algorithm the model runs changed meaning"},
     "defaultConfiguration": {"level": "note"}},
    {"id": "hand-modelled-change", "name": "HandModelledChange",
     "shortDescription": {"text": "A clause whose meaning the model builds in changed: verdicts do not "
                                  "reflect it"},
     "defaultConfiguration": {"level": "warning"}},
    {"id": "bounds-leave-out", "name": "BoundsLeaveOut",
     "shortDescription": {"text": "The run's bounds leave part of the host's profile out: no verdict "
                                  "covers it"},
     "defaultConfiguration": {"level": "note"}},
    {"id": "not-checked", "name": "NotChecked",
     "shortDescription": {"text": "A combination of host and property has no verdict to compare on one side"},
     "defaultConfiguration": {"level": "warning"}},
)


def _transitions(trace: tuple[dict[str, Any], ...]) -> int:
    """A counterexample's length as check and witness give it: its steps less the initial state."""
    return sum(1 for t in trace if t.get("actor") != "init")


def _violation_site(v: VerdictPair) -> tuple[str, int]:
    """Where to point: the first touched step on the path, else the last located one."""
    trace = v.head.trace
    order = list(v.touched) + list(range(len(trace) - 1, -1, -1))
    for i in order:
        t = trace[i]
        if t.get("file"):
            return t["file"], int(t.get("line", 1))
    return "", 0


def sarif(r: Review) -> str:
    results: list[dict[str, Any]] = []
    for v in r.verdicts:
        if not v.worse:
            continue
        rule = "spec-hazard" if v.host == REFERENCE_HOST and v.new_violation else "property-violation"
        file, line = _violation_site(v)
        why = (f" ({_transitions(v.head.trace)}-transition counterexample)" if v.new_violation
               else f" ({v.head.reason})" if v.head.reason else "")
        res: dict[str, Any] = {
            "ruleId": rule, "level": "error",
            "message": {"text": f"{v.property} under {v.host} (run {v.run}): {v.base.verdict} on base, "
                                f"{v.head.verdict} on head{why}"},
            "properties": {"run": v.run, "host": v.host, "property": v.property, "base": v.base.verdict,
                           "head": v.head.verdict, "notes": list(v.notes)}}
        if file:
            res["locations"] = [location(file, line, 1)]
        if v.new_violation:
            res["codeFlows"] = code_flows(
                (location(t["file"], int(t.get("line", 1)), 1) if t.get("file") else None,
                 f"{t.get('clause', '')} {t.get('step', '')} {t.get('text', '')}".strip())
                for t in v.head.trace)
        results.append(res)
    for u in r.new_unknown:
        results.append({"ruleId": "unknown-step", "level": "warning" if u.in_model else "note",
                        "message": {"text": f"{u.algorithm} step {u.step.number}: the grammar cannot read "
                                            f"'{u.step.text}'"},
                        "locations": [location(u.step.file, u.step.line, u.step.column)]})
    for run, host, note in r.notes():
        results.append({"ruleId": "bounds-leave-out", "level": "note",
                        "message": {"text": f"run {run}, host {host}: {note}"},
                        "properties": {"run": run, "host": host}})
    for u in r.unchecked_reasons():
        results.append({"ruleId": "not-checked", "level": "warning",
                        "message": {"text": f"not checked on {u.side} ({_combinations(u.combinations)}): "
                                            f"{u.reason}"},
                        "properties": {"side": u.side, "reason": u.reason}})
    for h in r.hand_changed:
        results.append({"ruleId": "hand-modelled-change", "level": _hand_level(r),
                        "message": {"text": f"{h.message()}: the model builds in {h.what}; {h.reason}"},
                        "locations": [location(h.file, h.line, 1)],
                        "properties": {"clause": h.clause, "status": h.status, "strict": r.strict}})
    for c in r.changed:
        if c.model_changed:
            first = next((s.head for s in c.steps if s.head), None)
            loc = (location(first.file, first.line, first.column) if first
                   else location(c.file, c.line, 1))
            results.append({"ruleId": "model-change", "level": "note",
                            "message": {"text": f"{c.name} ({c.clause}) changed meaning for the model"},
                            "locations": [loc]})
    return document(list(RULES), results)


# --------------------------------------------------------------------------- GitHub annotations


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def _annotation(level: str, file: str, line: int, title: str, message: str, col: int = 0) -> str:
    props = [f"file={_escape_prop(file)}", f"line={line}"]
    if col:
        props.append(f"col={col}")
    props.append(f"title={_escape_prop(title)}")
    return f"::{level} {','.join(props)}::{_escape_data(message)}"


def github(r: Review) -> str:
    """Workflow commands that annotate the spec's own lines: every step the change touched (a
    notice when the model is unaffected, a warning when its meaning changed; a removed step on
    the HEAD step that now stands in its place), new unknown steps, each verdict that got worse
    at the touched step on its counterexample's path, and a warning per reason the review could
    not check."""
    out = []
    for c in r.changed:
        if c.header:  # on the algorithm's own line: the header is where it changed
            level = "warning" if c.model_changed else "notice"
            out.append(_annotation(level, c.file, c.line, f"specmc: {c.name} header changed",
                                   f"parameters {c.header[0]} -> {c.header[1]}"))
        for s in c.steps:
            ref = s.head or s.base
            if ref is None:
                continue
            level = "warning" if c.model_changed else "notice"
            what = c.tag("changes the model")
            title = f"specmc: {c.name} step {ref.number} {s.op}"
            if s.head is None:
                # a removed step has no line on HEAD, and GitHub puts an annotation on the line of
                # that number in HEAD's file: anchor it on the step that now stands where it stood
                # (else on the algorithm, else on no line), and name its BASE line in the message
                what += f", removed (line {ref.line} of the base text)"
                at = s.after or (StepRef("", "", c.file, c.line, 0) if c.status != "removed" else None)
                if at is None:
                    message = _escape_data(f"{what}: {ref.text}")
                    out.append(f"::{level} title={_escape_prop(title)}::{message}")
                    continue
                out.append(_annotation(level, at.file, at.line, title, f"{what}: {ref.text}", at.column))
                continue
            out.append(_annotation(level, ref.file, ref.line, title, f"{what}: {ref.text}", ref.column))
    for u in r.new_unknown:
        out.append(_annotation("warning" if u.in_model else "notice", u.step.file, u.step.line,
                               f"specmc: unknown step in {u.algorithm}",
                               f"the grammar cannot read step {u.step.number}: {u.step.text}", u.step.column))
    for v in r.verdicts:
        if v.worse:
            file, line = _violation_site(v)
            msg = f"{v.property} under {v.host} (run {v.run}): {v.base.verdict} -> {v.head.verdict}"
            out.append(_annotation("error", file, line, "specmc: verdict got worse", msg) if file
                       else f"::error title=specmc%3A verdict got worse::{_escape_data(msg)}")
    for h in r.hand_changed:
        out.append(_annotation(_hand_level(r), h.file, h.line, f"specmc: {HAND_CHANGED.split(':')[0]}",
                               f"{h.message()}. The model builds in {h.what}: {h.reason}"))
    for run, host, note in r.notes():
        msg = _escape_data(f"run {run}, host {host}: {note}")
        out.append(f"::notice title=specmc%3A bounds leave out::{msg}")
    for u in r.unchecked_reasons():  # located in the message: the BASE side has no line on HEAD
        msg = f"not checked on {u.side} ({_combinations(u.combinations)}): {u.reason}"
        out.append(f"::warning title=specmc%3A not checked::{_escape_data(msg)}")
    return "\n".join(out) + ("\n" if out else "")
