"""Parsed steps kept by text (spec/stepcache.py): a warm parse is exactly a cold one, locations
included (the IR's equality ignores locations, so the tests compare them explicitly)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

import pytest
from specmc.spec import stepcache
from specmc.spec.load import EMBEDDED, load_specs, load_text
from specmc.spec.source import Loc

from tests.conftest import FULL, HISTORY


def dump(node: Any) -> Any:
    """The node as nested tuples, every field (loc included) spelled out."""
    if isinstance(node, Loc):
        return ("Loc", node.file, node.line, node.column, node.clause, node.algorithm, node.step)
    if isinstance(node, tuple | list):
        return tuple(dump(n) for n in node)
    if is_dataclass(node) and not isinstance(node, type):
        return (type(node).__name__, *(dump(getattr(node, f.name)) for f in fields(node)))
    return node


def both(load) -> tuple[Any, Any]:
    stepcache.clear()
    cold = load()
    warm = load()
    return dump(cold), dump(warm)


def test_a_warm_parse_of_the_embedded_text_is_the_cold_one() -> None:
    cold, warm = both(lambda: load_specs([EMBEDDED]))
    assert cold == warm


def test_a_step_met_again_elsewhere_gets_its_own_locations() -> None:
    alg = ('<emu-clause id="sec-{0}" type="abstract operation">\n<h1>{0} ( _x_ )</h1>\n'
           '<emu-alg>\n  1. Let _y_ be ToString(_x_).\n  1. Return _y_.\n</emu-alg>\n</emu-clause>\n')
    text = alg.format("First") + "\n\n" + alg.format("Second")
    stepcache.clear()
    spec = load_text("twice.html", text)
    first, second = (a.steps[0] for a in spec.algorithms)
    assert first.stmt == second.stmt  # one parse, kept
    locs = [[n.loc for n in (s.stmt, s.stmt.value)] for s in (first, second)]
    assert [loc.line for loc in locs[0]] == [4, 4] and [loc.line for loc in locs[1]] == [13, 13]
    assert locs[1][1].column == locs[0][1].column and locs[1][1].algorithm == "Second"
    # and every location is what a parse without the kept statements gives
    cold = dump(spec)
    stepcache.clear()
    assert dump(load_text("twice.html", text)) == cold


def test_a_typo_warning_is_located_at_each_occurrence() -> None:
    alg = ('<emu-clause id="sec-{0}" type="abstract operation">\n<h1>{0} ( _x_ )</h1>\n'
           '<emu-alg>\n  1. Perfom ToString(_x_).\n</emu-alg>\n</emu-clause>\n')
    stepcache.clear()
    spec = load_text("typo.html", alg.format("First") + alg.format("Second"))
    lines = sorted(w.loc.line for w in spec.warnings if w.code == "W101")
    assert lines == [4, 10]


@pytest.mark.slow
def test_two_whole_spec_files_parse_as_they_would_alone() -> None:
    """The second file is read almost entirely from the kept statements of the first."""
    base, head = FULL / "spec-2021-07-19-ee2d7909.html", FULL / "spec-2021-07-21-61f79507.html"
    stepcache.clear()
    cold_head = dump(load_specs([head]))
    stepcache.clear()
    load_specs([base])
    assert dump(load_specs([head])) == cold_head


def test_a_clause_set_folder_parses_as_it_would_alone() -> None:
    folder = HISTORY / "2022-02-24-7575f745"
    cold, warm = both(lambda: load_specs([folder]))
    assert cold == warm
