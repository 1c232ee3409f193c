"""A check report rendered for people (text, Markdown) and for tools (JSON, JUnit XML, SARIF).

The report is data (`proofs.run.check.Report`); each format is one function of it. Files are
written atomically: a reader never sees half a report, and a failed run leaves the
previous file as it was.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from specmc.model.bounds import parse_bounds
from specmc.proofs import exitcodes
from specmc.proofs.properties import CATALOGUE
from specmc.proofs.report.sarif import artifact_uri, code_flows, document, location
from specmc.proofs.run.check import Report, Row
from specmc.proofs.verdict import BOUNDED, PROVED, UNKNOWN, VIOLATED


def render(report: Report, fmt: str) -> str:
    return {"text": text, "json": as_json, "junit": junit, "sarif": sarif, "markdown": markdown,
            "html": _html}[fmt](report)


def _html(report: Report) -> str:
    from specmc.proofs.report.html import render_html  # a page of its own, kept out of this module

    return render_html(report)


def detail(r: Row) -> str:
    """What a row found, in a few words: the trace length, the method and scope, the depth, the
    reason; every format words it alike."""
    o = r.outcome
    if o.verdict == VIOLATED:
        # (what the run's bounds leave out, or what its run does that the engine may not:
        # model.build.host_notes and trace_notes)
        notes = "".join(f" [{r.host}: {n}]" for n in r.notes)
        return f"{o.depth} transitions ({o.engine}){notes}"
    if o.verdict == PROVED and not o.applicable:
        return f"{o.engine}: {o.method}"  # the reason; nothing was searched, so no scope
    if o.verdict == PROVED:
        # why it decided nothing, where the scope does not say it already (cells-once; the cover)
        why = f" (undecided: {r.undecided})" if r.undecided else ""
        return f"{o.engine}: {o.method}" + _scope(r) + why
    if o.verdict == BOUNDED:
        reach = {True: "", False: " (no state within it meets the cover: nothing checked)",
                 None: " (cover not checked)"}[o.cover_reached]
        # the explicit engine's BOUNDED is a search the state limit cut: the reason says where; a
        # symbolic engine's says when the `steps` bound, not --depth, set its depth (bmc.search_depth)
        shown = o.engine == "explicit" or "the bound steps=" in o.reason
        cut = f"; {o.reason}" if shown and o.reason else ""
        return f"{o.engine}: no violation up to depth {o.depth}{reach}{cut}"
    return o.reason


def _scope(r: Row) -> str:
    """What a PROVED covers: whether its situation was reached, and which bounds ended runs."""
    o = r.outcome
    meaning = CATALOGUE[r.property].cover_meaning if r.property in CATALOGUE else ""
    parts = []
    idle = CATALOGUE[r.property].idle_at(parse_bounds(r.bounds)) if r.property in CATALOGUE else ""
    if o.trivial:
        parts.append("vacuous: the property holds in every state by construction (its predicate "
                     "is valid" + (f"; {idle}" if idle else "") + ")")
    elif o.cover_reached is False:
        parts.append(f"vacuous: no reachable state where {meaning}" if meaning else "vacuous")
    if (o.trivial or o.cover_reached is False) and "which the property names" in o.reason:
        parts.append(o.reason)  # (why it is vacuous: a renamed algorithm; proofs/run/job.py `absent`)
    elif o.cover_reached is None:
        parts.append("cover not checked" if r.has_cover else "no cover given")
    if o.bounds_hit:
        # counted in the model the engine searched: for a slice (model/slice.py), its states
        parts.append("bounds hit: " + ", ".join(f"{n} in {k:,} searched states" for n, k in o.bounds_hit))
    elif o.bounds_hit is None:
        parts.append("bounds not measured")
    parts += [f"{r.host}: {n}" for n in r.notes]
    return f" [{'; '.join(parts)}]" if parts else ""


def text(report: Report) -> str:
    lines = []
    for run in dict.fromkeys(r.run for r in report.rows):
        rows = [r for r in report.rows if r.run == run]
        lines.append(f"{run} ({rows[0].bounds})")
        for r in rows:
            mark = "ok  " if r.ok else "ERR " if r.error else "FAIL"
            exp = "" if r.expected is None or r.ok else f"  (expected {r.expected})"
            lines.append(f"  {mark} {r.outcome.label:8} {r.host:16} {r.property:28} "
                         f"{r.outcome.seconds:7.1f} s  {detail(r)}{exp}")
    for s in report.stale:
        lines.append(f"  FAIL stale expectation at {s.where}: {s.host} / {s.property} = {s.expected} "
                     f"({s.why})")
    for r in report.rows:
        if r.outcome.verdict == VIOLATED:
            lines.append("")
            lines.append(f"{r.property} VIOLATED under {r.host} [{r.run}]: {r.outcome.depth} transitions, "
                         "replayed by the reference interpreter")
            lines.extend(trace_lines(r.outcome.trace))
    for r in report.rows:
        if r.outcome.certificate:
            lines.append(f"certificate {r.host} / {r.property}: {r.outcome.certificate}")
    lines.append("")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def summary(report: Report) -> str:
    """The closing line every format for people carries (text, Markdown, HTML): how many rows,
    how many not as expected, and how many passed without deciding anything (exit 4)."""
    bad = sum(not r.ok for r in report.rows) + len(report.stale)
    undecided = (f", {len(report.undecided)} undecided (UNKNOWN or BOUNDED short of the cover, a PROVED "
                 "whose cover was not checked or whose runs were cut at cells-once: nothing decided)"
                 ) if report.undecided else ""
    return f"{results(len(report.rows))}, {bad} not as expected{undecided}, {report.seconds:.1f} s"


def results(n: int) -> str:
    """`1 result`, `61 results`: the count a report's summary line starts with."""
    return f"{n} result{'' if n == 1 else 's'}"


def trace_lines(trace: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> list[str]:
    """A trace step by step; a lasso (a temporal property's counterexample, proofs/engines/lasso.py)
    marks where its loop starts and where it goes back."""
    out = []
    for i, t in enumerate(trace):
        if t.get("lasso") == "loop start":
            out.append(f"  ---- the loop starts after step {i}: steps {i + 1}-{len(trace) - 1} "
                       "repeat forever ----")
        where = f"{t['clause']} {t['step']}".strip() or t["actor"]
        stack = " > ".join(t["stack"]) or "(empty stack)"
        mark = "@" if t.get("lasso") == "loop" else " "
        out.append(f" {mark}{i:3}  {where:48} {t['text']}")
        out.append(f"       {'':48} stack: {stack}")
        if "lasso_back_to" in t:
            out.append(f"  ---- back to the state after step {t['lasso_back_to']} (the same state): the loop "
                       f"repeats forever; {t.get('lasso_waits', 'an obligation waits throughout')} ----")
    return out


def as_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


def markdown(report: Report) -> str:
    lines = ["| run | host | property | verdict | expected | engine | seconds | detail |",
             "|---|---|---|---|---|---|---|---|"]
    for r in report.rows:
        verdict = f"**{r.outcome.label}**" if not r.ok else r.outcome.label
        lines.append(f"| {r.run} | {r.host} | `{r.property}` | {verdict} | {r.expected or ''} | "
                     f"{r.outcome.engine} | {r.outcome.seconds:.1f} | {detail(r).replace('|', '/')} |")
    for s in report.stale:
        lines.append(f"\nStale expectation at `{s.where}`: {s.host} / `{s.property}` ({s.why}).")
    for r in report.rows:
        if r.outcome.verdict == VIOLATED:
            lines += ["", f"<details><summary>{r.property} VIOLATED under {r.host}: "
                      f"{r.outcome.depth} transitions</summary>", "", "```"]
            lines += trace_lines(r.outcome.trace)
            lines += ["```", "</details>"]
    lines += ["", summary(report)]
    return "\n".join(lines) + "\n"


def junit(report: Report) -> str:
    suites = ET.Element("testsuites", name="specmc check", time=f"{report.seconds:.3f}")
    for run in dict.fromkeys(r.run for r in report.rows):
        rows = [r for r in report.rows if r.run == run]
        stale = [s for s in report.stale if s.run == run]
        suite = ET.SubElement(suites, "testsuite", name=run, tests=str(len(rows) + len(stale)),
                              failures=str(sum(not r.ok and not r.error for r in rows) + len(stale)),
                              errors=str(sum(bool(r.error) for r in rows)),
                              skipped=str(sum(_skipped(r) is not None for r in rows)))
        for r in rows:
            case = ET.SubElement(suite, "testcase", classname=f"{run}.{r.host}", name=r.property,
                                 time=f"{r.outcome.seconds:.3f}")
            if r.error:  # no verdict to compare: JUnit's error, not a failed expectation
                ET.SubElement(case, "error", message=r.error).text = r.outcome.reason
            elif not r.ok:
                want = r.expected or "not VIOLATED"
                fail = ET.SubElement(case, "failure", message=f"{r.outcome.label}, expected {want}")
                fail.text = "\n".join(trace_lines(r.outcome.trace)) or r.outcome.reason
            elif _skipped(r) is not None:  # passed without deciding anything: not a green test
                ET.SubElement(case, "skipped", message=_skipped(r))
            ET.SubElement(case, "system-out").text = detail(r)
        for s in stale:
            case = ET.SubElement(suite, "testcase", classname=f"{run}.{s.host}", name=s.property)
            ET.SubElement(case, "failure", message=f"stale expectation at {s.where}: {s.why}")
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _skipped(r: Row) -> str | None:
    """Why JUnit should count a passing row as skipped (None: it is a real pass): the host does
    not make the property's promise, or the row decided nothing (exit 4)."""
    if not r.ok:
        return None
    if not r.outcome.applicable:  # the engines' reason starts "not applicable: host ..." already
        why = r.outcome.method or r.outcome.reason
        return why if why.startswith("not applicable") else f"not applicable: {why}"
    return f"undecided: {r.undecided}" if r.undecided else None


def sarif(report: Report) -> str:
    rules = [{"id": p.id, "name": p.id, "shortDescription": {"text": p.meaning},
              "helpUri": f"https://tc39.es/ecma262/#{p.clause}" if p.clause.startswith("sec-") else None}
             for p in CATALOGUE.values()]
    rules = [{k: v for k, v in r.items() if v is not None} for r in rules]
    rules.append({"id": "stale-expectation", "shortDescription":
                  {"text": "a plan expectation names a host or property that no longer exists"}})
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for r in report.rows:
        if r.outcome.verdict != VIOLATED and r.ok and not r.outcome.vacuous and not r.undecided:
            continue
        msg = (f"{r.property} is {r.outcome.label} under {r.host} at {r.bounds}"
               + (f": {r.outcome.reason}" if r.outcome.verdict == UNKNOWN and r.outcome.reason else "")
               + (f" (expected {r.expected})" if r.expected else "")
               + (f"; undecided: {r.undecided}" if r.undecided else ""))
        # a row that passed without deciding anything is a note: nothing found, nothing checked
        level = "error" if not r.ok else "note" if r.undecided and r.outcome.verdict != VIOLATED \
            else "warning"
        res: dict[str, Any] = {"ruleId": r.property, "ruleIndex": index.get(r.property, 0),
                               "level": level, "message": {"text": msg}}
        loc = next((t for t in r.outcome.trace if t.get("file")), None)
        if loc:
            res["locations"] = [location(artifact_uri(loc["file"]), loc["line"])]
            res["codeFlows"] = code_flows(
                (location(artifact_uri(t["file"]), t["line"]),
                 f"{t['clause']} {t['step']}: {t['text']}") for t in r.outcome.trace if t.get("file"))
        results.append(res)
    for s in report.stale:
        path, _, rest = s.where.rpartition(":")
        path, _, line = path.rpartition(":")
        results.append({"ruleId": "stale-expectation", "ruleIndex": index["stale-expectation"],
                        "level": "error", "message": {"text": f"{s.host} / {s.property}: {s.why}"},
                        "locations": [location(artifact_uri(path), int(line or 1))]})
    # the exit code, as `check` returns it: a log with no results may still have checked nothing
    invocation = {"executionSuccessful": report.exit_code not in (exitcodes.INPUT_ERROR,
                                                                  exitcodes.INTERNAL_ERROR),
                  "exitCode": report.exit_code,
                  "properties": {"undecided": len(report.undecided)}}
    return document(rules, results, information_uri="https://github.com/specmc", invocations=[invocation])
