"""The check report's formats for rows that have no verdict (bad input, an engine that failed)
and for its summary line."""

from __future__ import annotations

from xml.etree import ElementTree as ET

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
