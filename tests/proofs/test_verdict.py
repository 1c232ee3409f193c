"""The one verdict type: its two orders, and what a verdict read back from JSON becomes."""

from __future__ import annotations

import json

import pytest
from specmc.proofs.verdict import BOUNDED, PROVED, UNKNOWN, VIOLATED, Outcome, Verdict, better


def test_a_verdict_read_back_is_the_typed_value_and_a_bad_name_is_refused():
    o = Outcome(**json.loads(json.dumps({"property": "p", "verdict": "PROVED", "engine": "explicit"})))
    assert o.verdict is PROVED and isinstance(o.verdict, Verdict)
    assert json.dumps(o.verdict) == '"PROVED"' and f"{o.verdict}" == "PROVED"
    with pytest.raises(ValueError):
        Outcome("p", "PROVED (vacuous)", "explicit")  # a label, not a verdict


def test_the_two_orders_differ_where_they_should():
    # review: VIOLATED is the worst; the portfolio: VIOLATED says as much as PROVED
    assert [v.goodness for v in (VIOLATED, UNKNOWN, BOUNDED, PROVED)] == [0, 1, 2, 3]
    assert VIOLATED.informative == PROVED.informative > BOUNDED.informative > UNKNOWN.informative
    first = Outcome("p", UNKNOWN, "kind")
    assert better(first, Outcome("p", BOUNDED, "bmc", depth=3)).verdict is BOUNDED
    assert better(Outcome("p", BOUNDED, "bmc", depth=3), first).verdict is BOUNDED
