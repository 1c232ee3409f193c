"""A review rendered for people (text, Markdown for a pull-request comment) and for tools (JSON,
SARIF 2.1.0, GitHub workflow annotations). Each format is one function of the `Review` value."""

from __future__ import annotations

import json
from typing import Any

from proofs.review import Review, StepRef, VerdictPair

FORMATS = ("text", "json", "markdown", "sarif", "github")
REFERENCE_HOST = "ecma262"  # a new violation under the spec's own host is a hazard in the text


def render(review: Review, fmt: str) -> str:
    return {"text": text, "json": as_json, "markdown": markdown, "sarif": sarif,
            "github": github}[fmt](review)


def as_json(r: Review) -> str:
    return json.dumps(r.to_json(), indent=2, ensure_ascii=False) + "\n"


def _headline(r: Review) -> str:
    worse = [v for v in r.verdicts if v.worse]
    model = "the compiled model is identical" if r.model_identical else "the compiled model changed"
    parts = [f"{len(r.changed)} algorithm(s) changed", model,
             f"{len(r.new_unknown)} new unknown step(s)", f"{len(worse)} verdict(s) got worse"]
    return "; ".join(parts)


def _ref(s: StepRef | None) -> str:
    return f"{s.number}" if s else "-"


def text(r: Review) -> str:
    lines = [f"review {r.base} -> {r.head}", _headline(r), ""]
    for m in r.models:
        state = "identical" if m.identical else "changed: " + ", ".join(m.changed)
        lines.append(f"model under {m.host}: {state}")
        for side, err in (("base", m.base_error), ("head", m.head_error)):
            if err:
                lines.append(f"  {side}: {err}")
    if r.changed:
        lines.append("\nchanged algorithms")
        for c in r.changed:
            tag = "model" if c.model_changed else "editorial" if c.in_model else "not modelled"
            lines.append(f"  {c.status:8} {c.name} ({c.clause}) [{tag}]")
            for s in c.steps:
                lines.append(f"    {s.op:8} {_ref(s.base):>7} -> {_ref(s.head):<7} "
                             f"{(s.head or s.base).text[:100]}")  # type: ignore[union-attr]
    if r.new_unknown:
        lines.append("\nnew unknown steps")
        for u in r.new_unknown:
            where = f"{u.step.file}:{u.step.line}:{u.step.column}"
            lines.append(f"  {where} {u.algorithm} step {u.step.number}"
                         f"{' (used by the model)' if u.in_model else ''}: {u.step.text}")
    if r.verdicts:
        lines.append("\nverdicts (base -> head)")
        for v in r.verdicts:
            mark = "WORSE" if v.worse else "     "
            same = "  (same model)" if v.carried else ""
            lines.append(f"  {mark} {v.host:16} {v.property:28} {v.base.verdict:8} -> {v.head.verdict}{same}")
    for v in r.verdicts:
        if v.new_violation:
            lines.append(f"\n{v.property} newly VIOLATED under {v.host}: {len(v.head.trace)} steps "
                         "(* = a step the change touched)")
            for i, t in enumerate(v.head.trace):
                star = "*" if i in v.touched else " "
                where = f"{t.get('clause', '')} {t.get('step', '')}".strip() or t.get("actor", "")
                lines.append(f"  {star}{i:3}  {where:48} {t.get('text', '')}")
    return "\n".join(lines) + "\n"


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def markdown(r: Review) -> str:
    verdict = "**fails**" if r.failing else "passes"
    out = [f"### specmc review: `{r.base}` → `{r.head}`", "",
           f"{_headline(r)}. This review {verdict}.", ""]
    out += ["| host | model |", "| --- | --- |"]
    for m in r.models:
        state = "identical" if m.identical else "changed: " + ", ".join(f"`{n}`" for n in m.changed)
        errs = "; ".join(f"{side}: {_md(e)}" for side, e in (("base", m.base_error), ("head", m.head_error))
                         if e)
        out.append(f"| {m.host} | {state}{' (' + errs + ')' if errs else ''} |")
    changes = [v for v in r.verdicts if v.base.verdict != v.head.verdict]
    out += ["", "#### Verdicts", ""]
    if r.verdicts:
        out += ["| host | property | base | head | |", "| --- | --- | --- | --- | --- |"]
        for v in changes or r.verdicts:
            flag = "⚠️ worse" if v.worse else ("same model" if v.carried else "")
            out.append(f"| {v.host} | `{v.property}` | {v.base.verdict} | {v.head.verdict} | {flag} |")
        if not changes:
            out.append("")
            out.append("No verdict changed.")
    for v in r.verdicts:
        if v.new_violation:
            out += ["", f"<details><summary>Counterexample: <code>{v.property}</code> under {v.host} "
                        f"({len(v.head.trace)} steps; ★ marks steps this change touched)</summary>", "",
                    "| # | step | text | stack |", "| --- | --- | --- | --- |"]
            for i, t in enumerate(v.head.trace):
                where = f"{t.get('clause', '')} {t.get('step', '')}".strip() or t.get("actor", "")
                star = "★ " if i in v.touched else ""
                out.append(f"| {i} | {star}{_md(where)} | {_md(t.get('text', ''))} | "
                           f"{_md(' > '.join(t.get('stack', [])))} |")
            out += ["", "</details>"]
    if r.new_unknown:
        out += ["", "#### New unknown steps", ""]
        for u in r.new_unknown:
            used = " (**used by the model**)" if u.in_model else ""
            out.append(f"- `{u.step.file}:{u.step.line}` {u.algorithm} step {u.step.number}{used}: "
                       f"{_md(u.step.text)}")
    if r.changed:
        out += ["", "#### Changed algorithms", ""]
        for c in r.changed:
            tag = "model changed" if c.model_changed else "editorial" if c.in_model else "not modelled"
            out += [f"<details><summary>{c.status} <code>{_md(c.name)}</code> ({c.clause}): {tag}</summary>",
                    "", "| | base | head | text |", "| --- | --- | --- | --- |"]
            for s in c.steps:
                sign = {"added": "+", "removed": "−", "changed": "~"}[s.op]
                if s.base and s.head:
                    body = f"~~{_md(s.base.text)}~~<br>{_md(s.head.text)}"
                else:
                    ref = s.head or s.base
                    body = _md(ref.text) if ref else ""
                out.append(f"| {sign} | {_ref(s.base)} | {_ref(s.head)} | {body} |")
            out += ["", "</details>"]
    return "\n".join(out) + "\n"


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
)


def _location(file: str, line: int, column: int = 1) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": file},
                                 "region": {"startLine": max(line, 1), "startColumn": max(column, 1)}}}


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
        res: dict[str, Any] = {
            "ruleId": rule, "level": "error",
            "message": {"text": f"{v.property} under {v.host}: {v.base.verdict} on base, {v.head.verdict} "
                                f"on head" + (f" ({len(v.head.trace)}-step counterexample)" if v.new_violation
                                              else f" ({v.head.reason})" if v.head.reason else "")},
            "properties": {"host": v.host, "property": v.property, "base": v.base.verdict,
                           "head": v.head.verdict}}
        if file:
            res["locations"] = [_location(file, line)]
        if v.new_violation:
            res["codeFlows"] = [{"threadFlows": [{"locations": [
                {"location": {**(_location(t["file"], int(t.get("line", 1))) if t.get("file") else {}),
                              "message": {"text": f"{t.get('clause', '')} {t.get('step', '')} "
                                                  f"{t.get('text', '')}".strip()}}}
                for t in v.head.trace]}]}]
        results.append(res)
    for u in r.new_unknown:
        results.append({"ruleId": "unknown-step", "level": "warning" if u.in_model else "note",
                        "message": {"text": f"{u.algorithm} step {u.step.number}: the grammar cannot read "
                                            f"'{u.step.text}'"},
                        "locations": [_location(u.step.file, u.step.line, u.step.column)]})
    for c in r.changed:
        if c.model_changed:
            first = next((s.head for s in c.steps if s.head), None)
            loc = _location(first.file, first.line, first.column) if first else _location(c.file, c.line)
            results.append({"ruleId": "model-change", "level": "note",
                            "message": {"text": f"{c.name} ({c.clause}) changed meaning for the model"},
                            "locations": [loc]})
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "specmc", "rules": list(RULES)}},
                     "results": results}]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


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
    notice when the model is unaffected, a warning when its meaning changed), new unknown steps,
    and each verdict that got worse at the touched step on its counterexample's path."""
    out = []
    for c in r.changed:
        for s in c.steps:
            ref = s.head or s.base
            if ref is None or s.head is None:
                continue  # removed steps have no line on the head side
            level = "warning" if c.model_changed else "notice"
            what = "changes the model" if c.model_changed else ("editorial" if c.in_model else "not modelled")
            out.append(_annotation(level, ref.file, ref.line, f"specmc: {c.name} step {ref.number} {s.op}",
                                   f"{what}: {ref.text}", ref.column))
    for u in r.new_unknown:
        out.append(_annotation("warning" if u.in_model else "notice", u.step.file, u.step.line,
                               f"specmc: unknown step in {u.algorithm}",
                               f"the grammar cannot read step {u.step.number}: {u.step.text}", u.step.column))
    for v in r.verdicts:
        if v.worse:
            file, line = _violation_site(v)
            msg = f"{v.property} under {v.host}: {v.base.verdict} -> {v.head.verdict}"
            out.append(_annotation("error", file, line, "specmc: verdict got worse", msg) if file
                       else f"::error title=specmc%3A verdict got worse::{_escape_data(msg)}")
    return "\n".join(out) + ("\n" if out else "")
