"""A text that defines an algorithm the model runs twice has no model (E087), whichever copy comes
first, and its normal form differs from the text with one copy: an independent review found the
second copy of WeakRefDeref (or of Execution) ignored, "model identical", and BASE's verdicts
carried over to a text `check` refuses."""

from __future__ import annotations

import re

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.hosts import load_host
from specmc.model.normal import model_form
from specmc.spec.diagnostics import SpecError
from specmc.spec.load import EMBEDDED, load_text

TEXT = EMBEDDED.read_text()


def clause(cid: str) -> tuple[int, int]:
    """Start and end of the clause `cid` in the embedded text (nested clauses included)."""
    start = TEXT.index(f'<emu-clause id="{cid}"')
    depth = 0
    for m in re.finditer(r"<(/?)emu-clause\b[^>]*>", TEXT[start:]):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            return start, start + m.end()
    raise AssertionError(cid)


def with_copy(cid: str, new_id: str, drop: str, before: bool) -> str:
    """The text with a second copy of clause `cid` (its id `new_id`, the step `drop` deleted)
    placed right before or right after the original."""
    a, b = clause(cid)
    original = TEXT[a:b]
    assert drop in original
    copy = original.replace(f'id="{cid}"', f'id="{new_id}"', 1).replace(drop, "", 1)
    return TEXT[:a] + (copy + "\n" + original if before else original + "\n" + copy) + TEXT[b:]


CASES = {
    "WeakRefDeref": ("sec-weakrefderef", "sec-weakrefderef-legacy",
                     "1. Perform AddToKeptObjects(_target_).\n"),
    # Execution is known by its clause id, so the copy keeps it
    "Execution": ("sec-weakref-execution", "sec-weakref-execution",
                  "1. Set _cell_.[[WeakRefTarget]] to ~empty~.\n"),
}


@pytest.mark.parametrize("before", [False, True], ids=["copy after", "copy before"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_a_second_definition_is_refused_and_changes_the_form(name: str, before: bool) -> None:
    host = load_host("ecma262")
    one = load_text("one.html", TEXT)
    two = load_text("two.html", with_copy(*CASES[name], before=before))
    form = model_form(two, host)
    assert form.twice and form.twice[0][0] == name
    assert form.digest != model_form(one, host).digest
    with pytest.raises(SpecError) as e:
        build(two, host, Bounds())
    assert "E087" in str(e.value) and name in str(e.value)

