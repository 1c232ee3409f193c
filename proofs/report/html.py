"""A check report as one self-contained HTML page: the verdicts, then each counterexample.

A counterexample is read in three ways at once: the steps taken (left), the spec text
they come from with those steps marked (right), and a drawing of the stack over time
(above), in which user code running on top of the host's free path is a blue box over
an orange one. The page fetches nothing and needs no script: it must open from a CI
artifact, a mail attachment or a file:// URL, years later, as it was.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from html import escape
from typing import Any

from specmc.model.trace import SCHEMA, fold, trace_json
from specmc.proofs import exitcodes
from specmc.proofs.properties import CATALOGUE
from specmc.proofs.report.check import detail, summary
from specmc.proofs.run.check import Report, Row
from specmc.proofs.verdict import VIOLATED

ROLE_COLOURS = {"user": "#3b82f6", "free-path": "#f97316", "host": "#fbbf24", "spec": "#a3a3a3"}
ROLE_NAMES = {"user": "user code", "free-path": "host free path", "host": "host profile", "spec": "spec"}
ROW_H, PAD = 24, 30

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1f2937;background:#fff}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-top:1px solid #d1d5db;padding-top:1em}
table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #e5e7eb;text-align:left;
vertical-align:top}th{background:#f3f4f6}.num{text-align:right;font-variant-numeric:tabular-nums}
.v-VIOLATED{color:#b91c1c;font-weight:600}.v-PROVED{color:#15803d;font-weight:600}
.v-BOUNDED{color:#a16207}.v-UNKNOWN{color:#6b7280}tr.fail td{background:#fef2f2}
tr.undecided td{background:#fefce8}
.mark{font-weight:600}.ok{color:#15803d}.bad{color:#b91c1c}.cert{font:12px monospace;color:#4b5563}
.pair{display:grid;grid-template-columns:minmax(0,1.1fr) minmax(0,1fr);gap:1.5em;align-items:start}
.trace td{font-size:13px}.trace tr.final td{background:#fee2e2;border-top:2px solid #b91c1c}
.trace tr.loop td{background:#fef3c7}.trace tr.loopmark td{background:#fde68a;font-weight:bold}
.trace .where{white-space:nowrap;font:12px monospace}.frame{font:12px monospace;color:#374151;
overflow-wrap:anywhere}.trace td{overflow-wrap:anywhere}
.trace td.num{overflow-wrap:normal;white-space:nowrap}
.changes{font:11px monospace;color:#6b7280}details.fold summary{cursor:pointer;color:#6b7280}
.spec .alg{margin-bottom:1em}.spec .alg h3{font-size:1em;margin:.5em 0 .2em}
.spec ol{list-style:none;padding-left:0;margin:0}.spec li{padding:1px 4px;font-size:13px}
.spec li.hit{background:#fef9c3}.spec li.final{background:#fecaca;outline:2px solid #b91c1c}
.spec .n{display:inline-block;min-width:5.5em;padding-right:.4em;color:#6b7280;font:12px monospace}
.spec .at{font:11px monospace;color:#92400e;margin-left:.5em}var{font-style:italic;color:#7c2d12}
code{font-size:12px}svg text{font:11px system-ui,sans-serif}.legend span{display:inline-block;
margin-right:1em}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;
vertical-align:-2px}.meaning{color:#4b5563}
"""


def render_html(report: Report) -> str:
    """The whole page; `trace_files` gives the JSON documents it links to."""
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>specmc check: "
             f"{escape(report.plan or 'embedded plan')}</title><style>{CSS}</style></head><body>",
             f"<h1>specmc check: {escape(report.plan or 'embedded plan')}</h1>",
             f"<p class={'ok' if report.exit_code == exitcodes.OK else 'bad'}>{escape(summary(report))}</p>",
             _table(report)]
    for s in report.stale:
        parts.append(f"<p class=bad>Stale expectation at <code>{escape(s.where)}</code>: {escape(s.host)} / "
                     f"<code>{escape(s.property)}</code> = {escape(s.expected)} ({escape(s.why)})</p>")
    for i, r in violations(report):
        parts.append(_violation(i, r))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def violations(report: Report) -> list[tuple[int, Row]]:
    return [(i, r) for i, r in enumerate(report.rows) if r.outcome.verdict == VIOLATED and r.outcome.trace]


def trace_files(report: Report) -> dict[str, str]:
    """`trace-<row>.json` for each counterexample, in the specmc-trace/1 schema, folded view included."""
    return {f"trace-{i}.json": json.dumps(trace_json(_steps(r), folded=True), indent=2, ensure_ascii=False)
            + "\n" for i, r in violations(report)}


def _steps(r: Row) -> list[dict[str, Any]]:
    return [t.to_json() if hasattr(t, "to_json") else dict(t) for t in r.outcome.trace]


def _table(report: Report) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("", "run", "host", "property", "verdict", "expected", "engine",
                                              "seconds", "certificate"))
    rows = []
    links = {id(r): i for i, r in violations(report)}
    for r in report.rows:
        o = r.outcome
        prop = escape(r.property)
        if id(r) in links:
            prop = f"<a href='#v{links[id(r)]}'>{prop}</a>"
        said = detail(r)  # as the text report words it: "nothing checked", "cover not checked"
        mark = "undecided" if r.undecided else "ok" if r.ok else "error" if r.error else "FAIL"
        cls = "undecided" if r.undecided else "ok" if r.ok else "fail"
        rows.append(f"<tr class={cls}><td class=mark>{mark}</td>"
                    f"<td>{escape(r.run)}</td><td>{escape(r.host)}</td><td><code>{prop}</code></td>"
                    f"<td class=v-{o.verdict} title='{escape(said, quote=True)}'>{escape(o.label)}</td>"
                    f"<td>{escape(r.expected or '')}</td><td>{escape(o.engine)}</td>"
                    f"<td class=num>{o.seconds:.1f}</td>"
                    f"<td class=cert>{escape(o.certificate or '')}</td></tr>")
    return f"<table class=verdicts><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _violation(i: int, r: Row) -> str:
    steps = _steps(r)
    prop = CATALOGUE.get(r.property)
    meaning = f"<p class=meaning>{escape(prop.meaning)}</p>" if prop else ""
    return (f"<section id=v{i}><h2>{escape(r.property)} VIOLATED under {escape(r.host)} [{escape(r.run)}]: "
            f"{len(steps) - 1} transitions ({escape(r.outcome.engine)}), replayed by the reference "
            f"interpreter</h2>{meaning}<p>Trace as data: <a href='trace-{i}.json'>trace-{i}.json</a> "
            f"(<code>{SCHEMA}</code>)</p>{stack_svg(steps, i)}"
            f"<div class=pair><div>{_trace_table(i, steps)}</div><div class=spec>{_spec_text(i, steps)}"
            f"</div></div></section>")


# --- the stack over time --------------------------------------------------------------------------

def _frames(step: dict[str, Any]) -> list[dict[str, Any]]:
    """Frames of a step; traces made before frames were recorded have only names."""
    if step.get("frames"):
        return step["frames"]
    return [{"alg": a, "role": "user" if a == "user code" else "spec", "args": {}} for a in step["stack"]]


def _call(f: dict[str, Any]) -> str:
    if f["role"] == "user":
        return f["alg"]
    return f"{f['alg']}({', '.join(f'{k}={v}' for k, v in f.get('args', {}).items())})"


def stack_svg(steps: list[dict[str, Any]], vid: int = 0) -> str:
    """x is the step, y the depth: one box per activation, coloured by whose code it is.

    An activation is a frame that stays at its depth with the same frames under it and the
    same arguments; a box ends where it is popped. The last step (the violation) is marked.
    """
    frames = [_frames(s) for s in steps]
    depth = max((len(f) for f in frames), default=1)
    step_w = max(12, min(40, 1200 // max(1, len(steps))))
    width, height = PAD + step_w * len(steps) + 10, PAD + ROW_H * depth + 28
    out = [f"<svg class=stack id=svg{vid} xmlns='http://www.w3.org/2000/svg' width={width} height={height} "
           f"viewBox='0 0 {width} {height}' role=img aria-label='stack depth over the trace'>"]
    last = len(steps) - 1
    x_last = PAD + step_w * last
    out.append(f"<rect class=violation x={x_last - 2} y=4 width={step_w + 4} height={ROW_H * depth + 8} "
               "fill='#fee2e2' stroke='#b91c1c' stroke-width=2><title>the violating step</title></rect>")
    for d in range(depth):
        start = None
        for t in range(len(steps) + 1):
            key = _key(frames[t], d) if t < len(steps) else None
            if start is not None and key != _key(frames[start], d):
                out.append(_box(frames[start][d], d, depth, start, t - 1, step_w))
                start = None
            if start is None and key is not None:
                start = t
    for t in range(0, len(steps), 5):
        x = PAD + step_w * t + step_w / 2
        out.append(f"<text x={x} y={PAD + ROW_H * depth + 6} text-anchor=middle fill='#6b7280'>{t}</text>")
    for d in range(depth):
        out.append(f"<text x={PAD - 6} y={PAD + ROW_H * (depth - 1 - d) - 4} text-anchor=end "
                   f"fill='#6b7280'>{d}</text>")
    out.append(f"<text x={x_last + step_w / 2} y={PAD + ROW_H * depth + 22} text-anchor=end "
               f"fill='#b91c1c' font-weight=600>violation at step {last}</text>")
    out.append("<text x='2' y='12' fill='#6b7280'>depth</text></svg>")
    legend = "".join(f"<span><i style='background:{c}'></i>{ROLE_NAMES[r]}</span>"
                     for r, c in ROLE_COLOURS.items())
    return f"<div class=legend>{legend}</div>{''.join(out)}"


def _key(frames: list[dict[str, Any]], d: int) -> Any:
    if d >= len(frames):
        return None
    return tuple((f["alg"], tuple(f.get("args", {}).items())) for f in frames[:d + 1])


def _box(frame: dict[str, Any], d: int, depth: int, t0: int, t1: int, step_w: int) -> str:
    x, w = PAD + step_w * t0 + 1, step_w * (t1 - t0 + 1) - 2
    y = PAD + ROW_H * (depth - 1 - d) - 20
    colour = ROLE_COLOURS.get(frame["role"], "#a3a3a3")
    label = frame["alg"]
    room = int((w - 6) / 6.5)
    if len(label) > room:
        label = label[:room - 1] + "…" if room >= 2 else ""
    return (f"<g class=frame data-alg='{escape(frame['alg'], quote=True)}' data-role={frame['role']} "
            f"data-depth={d} data-from={t0} data-to={t1}><rect x={x} y={y} width={w} height={ROW_H - 3} "
            f"rx='3' fill='{colour}' fill-opacity='0.85' stroke='#374151' stroke-width='0.5'/>"
            f"<text x={x + 3} y={y + 15} fill='#111827'>{escape(label)}</text>"
            f"<title>{escape(_call(frame))}: steps {t0}–{t1}</title></g>")


# --- the trace and the spec text beside it -------------------------------------------------------

def _trace_table(vid: int, steps: list[dict[str, Any]]) -> str:
    rows = []
    last = len(steps) - 1
    for e in fold(steps):
        if "folded" in e:
            hidden = "".join(_trace_row(vid, steps[k], k, last) for k in range(e["from"], e["to"] + 1))
            rows.append(f"<tr><td colspan=3><details class=fold><summary>{e['folded']} steps of "
                        f"{escape(e['alg'])} ({', '.join(escape(s) for s in e['steps'])}) that change no "
                        f"heap or registry state</summary><table>{hidden}</table></details></td></tr>")
        else:
            k = e["index"]
            if steps[k].get("lasso") == "loop start":
                rows.append(f"<tr class=loopmark><td colspan=3>the loop starts after step {k}: steps "
                            f"{k + 1}-{last} repeat forever (a lasso: the event loop keeps starting turns "
                            "in it, and an obligation waits in all of its states)</td></tr>")
            rows.append(_trace_row(vid, e, k, last, steps[k].get("lasso") == "loop"))
            if "lasso_back_to" in steps[k]:
                waits = steps[k].get("lasso_waits", "an obligation waits throughout")
                rows.append(f"<tr class=loopmark><td colspan=3>back to the state after step "
                            f"{steps[k]['lasso_back_to']}: the loop repeats forever; "
                            f"{escape(waits)}</td></tr>")
    return f"<table class=trace><tbody>{''.join(rows)}</tbody></table>"


def _trace_row(vid: int, s: dict[str, Any], k: int, last: int, in_loop: bool = False) -> str:
    if s.get("step"):
        where = (f"<a href='#v{vid}-{_anchor(s['clause'], s['step'])}' "
                 f"title='{escape(s['clause'], quote=True)}'>{escape(s['step'])}</a>")
    else:
        where = escape(s["actor"])
    frames = _frames(s)
    top = escape(_call(frames[-1])) if frames else "(empty stack)"
    changes = ", ".join(f"{k2} := {v}" for k2, v in (s.get("changes") or s.get("changed", {})).items())
    cls = " class=loop" if in_loop else " class=final" if k == last else ""
    return (f"<tr id=v{vid}-s{k}{cls}><td class=num>{k}</td><td class=where>{where}</td>"
            f"<td>{_prose(s['text'])}<div class=frame>depth {len(frames)}: {top}</div>"
            f"<div class=changes>{escape(changes)}</div></td></tr>")


def _anchor(clause: str, step: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{clause}-{step}")


def _prose(text: str) -> str:
    """Just enough ecmarkdown: _x_ is a variable, *x* a value."""
    t = escape(text)
    t = re.sub(r"\b_([A-Za-z][A-Za-z0-9]*)_\b", r"<var>\1</var>", t)
    return re.sub(r"\*([^*\s][^*]*)\*", r"<code>\1</code>", t)


@lru_cache(maxsize=32)
def _algorithms(path: str) -> tuple[Any, ...]:
    from specmc.spec.load import load_specs

    try:
        return load_specs([path]).algorithms
    except Exception:  # a moved or edited file: the trace's own step texts are shown instead
        return ()


def _spec_text(vid: int, steps: list[dict[str, Any]]) -> str:
    """Each algorithm the trace passes through, in order of first visit, with the visited steps marked."""
    visits: dict[tuple[str, str], list[int]] = {}
    order: dict[str, str] = {}  # clause -> file
    for k, s in enumerate(steps):
        if s.get("step"):
            visits.setdefault((s["clause"], s["step"]), []).append(k)
            order.setdefault(s["clause"], s.get("file", ""))
    last = len(steps) - 1
    out = []
    for clause, path in order.items():
        algs = [a for a in _algorithms(path) if a.clause == clause] if path else []
        if algs:
            items = [(st.number, st.text) for a in algs for st in a.walk()]
            title = algs[0].name
        else:
            seen = {s["step"]: (s.get("line", 0), s["text"]) for s in steps
                    if s["clause"] == clause and s["step"]}
            items = [(n, txt) for n, (_line, txt) in sorted(seen.items(), key=lambda kv: kv[1][0])]
            title = next(f["alg"] for s in steps if s["clause"] == clause for f in _frames(s)[-1:])
        link = ""
        if clause.startswith("sec-"):
            link = f" <a href='https://tc39.es/ecma262/#{escape(clause)}'>§</a>"
        lis = []
        for number, text in items:
            at = visits.get((clause, number), [])
            cls = "final" if last in at else "hit" if at else ""
            refs = " ".join(f"<a href='#v{vid}-s{k}'>#{k}</a>" for k in at)
            indent = number.count(".") * 1.2
            lis.append(f"<li id=v{vid}-{_anchor(clause, number)} class='{cls}' "
                       f"style='margin-left:{indent}em'>"
                       f"<span class=n>{escape(number)}.</span>{_prose(text)}"
                       f"{f'<span class=at>{refs}</span>' if refs else ''}</li>")
        out.append(f"<div class=alg><h3>{escape(title)} <small><code>{escape(clause)}</code></small>"
                   f"{link}</h3>"
                   f"<ol>{''.join(lis)}</ol></div>")
    return "".join(out)
