"""The check report's formats for rows that have no verdict (bad input, an engine that failed),
rows that decided nothing or do not apply, and for its summary line."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from specmc.proofs import exitcodes
from specmc.proofs.engines.portfolio import UNEVALUABLE
from specmc.proofs.report.check import render
from specmc.proofs.run.check import BAD_INPUT, INTERNAL, Report, Row
from specmc.proofs.verdict import BOUNDED, PROVED, UNKNOWN, Outcome

PREDICATE_FAILED = f"{UNEVALUABLE}: /tmp/props.py:5:13: error E079: property 'mine' cannot be evaluated"


def _row(outcome: Outcome, expected: str | None = None, prop: str = "held-value-once") -> Row:
    return Row("default", "embedded", "ecma262", prop, "objects=2", outcome, expected)


def _unknown(reason: str) -> Outcome:
    return Outcome("held-value-once", UNKNOWN, "explicit", reason=reason)


def test_a_row_without_a_verdict_is_an_error_never_ok():
    """A predicate that failed (E079) left the row UNKNOWN with no expectation, which read as
    `ok  UNKNOWN` just above the command's exit 2."""
    bad = _row(_unknown(PREDICATE_FAILED))
    broken = _row(_unknown("internal error: engine explicit: ZeroDivisionError"), expected=UNKNOWN)
    timed_out = _row(_unknown("time limit (60 s) reached"))
    assert (bad.error, broken.error, timed_out.error) == (BAD_INPUT, INTERNAL, "")
    assert not bad.ok and not broken.ok and timed_out.ok
    text = render(Report("plan.toml", (bad,)), "text")
    (line,) = [s for s in text.splitlines() if "held-value-once" in s]
    assert line.split()[:2] == ["ERR", "UNKNOWN"] and "E079" in line
    assert not any(s.lstrip().startswith("ok") for s in text.splitlines())


def test_the_summary_counts_one_result_in_the_singular():
    one = Report("plan.toml", (_row(Outcome("held-value-once", PROVED, "explicit", cover_reached=True)),))
    assert "\n1 result, 0 not as expected, " in render(one, "text")
    assert ">1 result, 0 not as expected, " in render(one, "html")
    two = Report("plan.toml", one.rows * 2)
    assert "\n2 results, 0 not as expected, " in render(two, "text")
    assert ">2 results, 0 not as expected, " in render(two, "html")


def test_junit_reports_a_row_without_a_verdict_as_an_error():
    bad = _row(_unknown(PREDICATE_FAILED))
    proved = _row(Outcome("no-dangling-cell", PROVED, "explicit", cover_reached=True),
                  prop="no-dangling-cell")
    suite = ET.fromstring(render(Report("plan.toml", (bad, proved)), "junit")).find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "0", "1")
    (error,) = suite.iter("error")
    assert error.get("message") == BAD_INPUT and "E079" in error.text
    assert "error" in render(Report("plan.toml", (bad,)), "html").split("<td class=mark>")[1][:8]


def test_a_bounded_row_says_whether_its_depth_met_the_cover():
    short = _row(Outcome("held-value-once", BOUNDED, "bmc", 3, cover_reached=False))
    deep = _row(Outcome("held-value-once", BOUNDED, "bmc", 40, cover_reached=True))
    text = render(Report("plan.toml", (short, deep)), "text")
    assert "bmc: no violation up to depth 3 (no state within it meets the cover: nothing checked)" in text
    assert text.count("bmc: no violation up to depth 40\n") == 1


def test_a_bounded_row_says_when_the_steps_bound_set_its_depth():
    """bmc, kind and pdr search no deeper than `steps`; a row showed only "up to depth 10", as if
    --depth had said so (sixth review)."""
    cut = _row(Outcome("held-value-once", BOUNDED, "bmc", 10, cover_reached=True,
                       reason="no violation in 10 steps (depth 30 cut to the bound steps=10)"))
    plain = _row(Outcome("held-value-once", BOUNDED, "kind", 4, cover_reached=True,
                         reason="not 4-inductive; no violation in 4 steps"))
    text = render(Report("plan.toml", (cut, plain)), "text")
    first, second = [s for s in text.splitlines() if "held-value-once" in s]
    assert ("bmc: no violation up to depth 10; no violation in 10 steps (depth 30 cut to the bound "
            "steps=10)") in first
    assert second.rstrip().endswith("kind: no violation up to depth 4")


def _undecided_report() -> Report:
    """One row that checked nothing (BOUNDED short of the cover, nothing expected): `check` exits 4."""
    short = _row(Outcome("held-value-once", BOUNDED, "explicit", 5, cover_reached=False))
    assert short.ok and short.undecided
    return Report("plan.toml", (short,))


def test_every_format_says_a_row_that_checked_nothing_is_undecided():
    """Sixth review (F2): only the text and the exit code (4) said so; JUnit had a green test, SARIF
    no result and no exit code, Markdown no summary, HTML a summary styled as a pass and no
    "nothing checked", JSON `"ok": true`."""
    report = _undecided_report()
    assert report.exit_code == exitcodes.NOT_CHECKED
    doc = json.loads(render(report, "json"))
    assert (doc["ok"], doc["exit"], doc["undecided"]) == (False, exitcodes.NOT_CHECKED, 1)
    assert "nothing checked" in doc["results"][0]["undecided"]
    suite = ET.fromstring(render(report, "junit")).find("testsuite")
    assert suite.get("skipped") == "1"
    (skipped,) = suite.iter("skipped")
    assert skipped.get("message").startswith("undecided: ") and "nothing checked" in skipped.get("message")
    run = json.loads(render(report, "sarif"))["runs"][0]
    assert run["invocations"][0]["exitCode"] == exitcodes.NOT_CHECKED
    assert [r["level"] for r in run["results"]] == ["note"]
    assert "1 undecided" in render(report, "markdown").splitlines()[-1]
    page = render(report, "html")
    assert "<p class=bad>1 result, 0 not as expected, 1 undecided" in page
    assert "nothing checked" in page.split("<table class=verdicts>")[1]


def test_a_decided_report_is_ok_in_every_format():
    """The same formats for a row that decided its property: exit 0, `ok`, no skipped test, no
    result, the summary styled as a pass."""
    report = Report("plan.toml", (_row(Outcome("held-value-once", PROVED, "explicit", cover_reached=True)),))
    assert report.exit_code == exitcodes.OK
    assert json.loads(render(report, "json"))["ok"] is True
    assert not list(ET.fromstring(render(report, "junit")).iter("skipped"))
    assert json.loads(render(report, "sarif"))["runs"][0]["results"] == []
    assert "<p class=ok>1 result, 0 not as expected, " in render(report, "html")


def test_not_applicable_is_never_a_proof_for_tools():
    """Sixth review (F4): NOT APPLICABLE was `"verdict": "PROVED"` with no certificate in JSON and
    a passing JUnit test; nothing was searched."""
    why = "v8 does not promise delivery (delivery: optional)"
    na = _row(Outcome("eventually-delivered", PROVED, "explicit", method=why, reason=why, applicable=False),
              prop="eventually-delivered")
    report = Report("plan.toml", (na,))
    (row,) = json.loads(render(report, "json"))["results"]
    assert (row["verdict"], row["label"], row["applicable"]) == ("NOT APPLICABLE", "NOT APPLICABLE", False)
    (skipped,) = ET.fromstring(render(report, "junit")).iter("skipped")
    assert skipped.get("message") == f"not applicable: {why}"
    worded = _row(Outcome("eventually-delivered", PROVED, "explicit", method=f"not applicable: {why}",
                          applicable=False), prop="eventually-delivered")
    (skipped,) = ET.fromstring(render(Report("plan.toml", (worded,)), "junit")).iter("skipped")
    assert skipped.get("message") == f"not applicable: {why}"  # said once
    # what the host does not promise passes, but with nothing expected it searched nothing: exit 4
    # (review 8), and only an expected NOT APPLICABLE is a plain pass
    assert report.exit_code == exitcodes.NOT_CHECKED
    from dataclasses import replace

    assert Report("plan.toml", (replace(na, expected="NOT APPLICABLE"),)).exit_code == exitcodes.OK


def test_a_proof_cut_at_cells_once_says_why_it_decided_nothing():
    """Sixth review (F6): "PROVED within bounds (cells-once hit)" passed an expected PROVED with
    exit 0, though no bound lifts that cut: the text says why the row is undecided."""
    cut = _row(Outcome("held-value-once", PROVED, "explicit", cover_reached=True,
                       bounds_hit=(("cells-once", 98),)), expected=PROVED)
    text = render(Report("plan.toml", (cut,)), "text")
    assert "PROVED within bounds (cells-once hit)" in text
    assert "(undecided: some run was cut at cells-once" in text and "1 undecided" in text
