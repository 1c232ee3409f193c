"""The step tree: numbering, nesting, continuation lines, attributes, locations."""

from __future__ import annotations

import pytest
from specmc.spec import ir
from specmc.spec.diagnostics import SpecError
from specmc.spec.load import load_text
from specmc.spec.steps import ordinal


def alg(body: str, clause: str = "sec-x", title: str = "F ( _a_ )") -> str:
    return (f'<emu-clause id="{clause}" type="abstract operation">\n  <h1>{title}</h1>\n'
            f"  <emu-alg>\n{body}\n  </emu-alg>\n</emu-clause>\n")


def test_ordinals_follow_ecmarkup_list_styles():
    assert [ordinal(0, i) for i in (1, 2, 10)] == ["1", "2", "10"]
    assert [ordinal(1, i) for i in (1, 26, 27)] == ["a", "z", "aa"]
    assert [ordinal(2, i) for i in (1, 4, 9, 14)] == ["i", "iv", "ix", "xiv"]
    assert ordinal(3, 2) == "2"


def test_numbers_are_computed_not_read():
    body = "\n".join([
        "    1. Let _x_ be 1.",
        "    1. If _x_ is 1, then",
        "      1. Set _x_ to 2.",
        "      1. If _x_ is 2, then",
        "        1. Return _x_.",
        "        1. Return 3.",
        "    1. Return _x_.",
    ])
    spec = load_text("t.html", alg(body))
    numbers = [s.number for s in spec.algorithms[0].walk()]
    assert numbers == ["1", "2", "2.a", "2.b", "2.b.i", "2.b.ii", "3"]
    step = list(spec.algorithms[0].walk())[4]
    assert (step.loc.line, step.loc.column) == (8, 12)
    assert step.loc.clause == "sec-x" and step.loc.algorithm == "F"


def test_continuation_lines_join_and_keep_columns():
    body = "    1. Return F(_a_,\n    _a_).\n"
    spec = load_text("t.html", alg(body))
    step = spec.algorithms[0].steps[0]
    assert step.text == "Return F(_a_, _a_)."
    call = step.stmt.value
    assert isinstance(call, ir.Call) and len(call.args) == 2
    # the second argument points at the continuation line
    assert (call.args[1].loc.line, call.args[1].loc.column) == (5, 5)


def test_step_attributes_are_kept():
    body = '    1. [id="step-foo", normative-optional] Return _a_.'
    step = load_text("t.html", alg(body)).algorithms[0].steps[0]
    assert dict(step.attrs) == {"id": "step-foo", "normative-optional": ""}
    assert step.text == "Return _a_." and step.kind == "return"


def test_unknown_step_is_a_node_not_a_skip():
    body = "    1. Frobnicate the quux.\n    1. Return _a_."
    spec = load_text("t.html", alg(body))
    first, second = spec.algorithms[0].steps
    assert isinstance(first.stmt, ir.Unknown) and first.kind == "unknown"
    assert first.stmt.text == "Frobnicate the quux." and first.loc.line == 4
    assert second.kind == "return"


def test_bad_indentation_is_located():
    body = "    1. Let _x_ be 1.\n      1. Return 2.\n     1. Return 3."
    with pytest.raises(SpecError) as e:
        load_text("t.html", alg(body))
    d = e.value.diagnostics[0]
    assert d.code == "E020" and (d.loc.line, d.loc.column) == (6, 6)
    assert d.loc.step == "1.b" and "step 1.b" in d.render()
    assert "^" in d.render()


def test_entities_and_inline_markup_are_decoded():
    body = "    1. Return &laquo; _a_ &raquo;.\n    1. Return <emu-xref>F</emu-xref>(_a_)."
    steps = load_text("t.html", alg(body)).algorithms[0].steps
    assert steps[0].text == "Return « _a_ »."
    assert isinstance(steps[0].stmt.value, ir.ListLit)
    assert steps[1].text == "Return F(_a_)."
