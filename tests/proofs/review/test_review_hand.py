"""Hand-modelled clauses (model/by_hand.py) are still reviewed: a change to their text is reported
with the clause and its line, markup and whitespace are not, and compiled steps are left to the
model's normal form. No engine runs here: these read text only."""

from __future__ import annotations

from pathlib import Path

from specmc.model.bounds import Bounds
from specmc.model.by_hand import BY_HAND, ENVIRONMENT, hand_modelled
from specmc.proofs.review.hand import clause_texts, hand_changes
from specmc.proofs.review.sides import Side
from specmc.spec import ir

from tests.conftest import SHARED

CURRENT = SHARED / "full" / "spec-2025-11-04-e936549f.html"

TEXT = """<emu-clause id="sec-parent">
  <h1>Parent</h1>
  <emu-clause id="sec-jobs">
    <h1>Jobs</h1>
    <p>A Job runs when the stack is empty.</p>
    <emu-note>Notes are informative.</emu-note>
    <emu-alg>
      1. Return ~unused~.
    </emu-alg>
    <emu-clause id="sec-nested"><h1>Nested</h1><p>Not part of sec-jobs' own text.</p></emu-clause>
    <p>Only one Job runs at a time.</p>
  </emu-clause>
</emu-clause>
"""


def _side(tmp: Path, name: str, text: str) -> Side:
    path = tmp / name
    path.write_text(text)
    return Side(name, (str(path),), ir.Spec((), (), (), ()))


def test_own_prose_without_nested_clauses_notes_or_steps() -> None:
    [c] = clause_texts(TEXT, "f.html", {"sec-jobs"}, {"sec-jobs"}).values()
    assert [t for _, t in c.lines] == ["A Job runs when the stack is empty.", "[an algorithm]",
                                      "Only one Job runs at a time."]
    assert c.lines[0][0] == 5 and c.parent == "sec-parent" and c.line == 3


def test_a_prose_change_is_reported_at_its_line(tmp_path: Path) -> None:
    hands = hand_modelled({})
    base = _side(tmp_path, "a.html", TEXT)
    head = _side(tmp_path, "b.html", TEXT.replace("Only one Job runs", "Several Jobs may run"))
    [h] = hand_changes(base, head, hands)
    assert (h.clause, h.status, h.line) == ("sec-jobs", "changed", 11)
    assert h.before == "Only one Job runs at a time." and h.after == "Several Jobs may run at a time."
    assert h.message() == ("hand-modelled clause changed: verdicts do not reflect it: "
                           f"sec-jobs (the job rules) at {tmp_path / 'b.html'}:11")


def test_markup_whitespace_notes_and_compiled_steps_are_not_reported(tmp_path: Path) -> None:
    hands = hand_modelled({})
    base = _side(tmp_path, "a.html", TEXT)
    same = (TEXT.replace("<p>A Job runs when", '<p class="x">A <em>Job</em>\n    runs  when')
            .replace("Notes are informative.", "Notes say anything.")
            .replace("1. Return ~unused~.", "1. Return *undefined*.")
            .replace("<h1>Jobs</h1>", "<h1>Jobs and Job queues</h1>"))
    assert hand_changes(base, _side(tmp_path, "b.html", same), hands) == ()


def test_a_removed_clause_is_reported_when_its_parent_stayed(tmp_path: Path) -> None:
    hands = hand_modelled({})
    base = _side(tmp_path, "a.html", TEXT)
    start = TEXT.index('  <emu-clause id="sec-jobs">')
    end = TEXT.rindex("  </emu-clause>") + len("  </emu-clause>")
    [h] = hand_changes(base, _side(tmp_path, "b.html", TEXT[:start] + TEXT[end:]), hands)
    assert (h.clause, h.status, h.line) == ("sec-jobs", "removed", 3)
    # an excerpt that never had the clause's parent compares nothing
    assert hand_changes(base, _side(tmp_path, "c.html", "<p>nothing</p>\n"), hands) == ()


def test_one_list_every_clause_in_the_current_text_with_a_reason() -> None:
    text = CURRENT.read_text(encoding="utf-8")
    every = hand_modelled()
    assert {h.clause for h in every} >= {h.clause for h in ENVIRONMENT} | {h.clause for h in BY_HAND.values()}
    for h in every:
        assert h.reason and h.what
        if h.clause not in ("sec-normalcompletion",):  # the 2021 texts' name; the current one has Completion
            assert f'id="{h.clause}"' in text, h.clause
    found = clause_texts(text, "spec.html", {h.clause for h in every}, {h.clause for h in ENVIRONMENT})
    assert set(found) >= {h.clause for h in ENVIRONMENT}
    # ClearKeptObjects' timing is the header's description, which the text reads as prose
    assert any("synchronous sequence of ECMAScript executions completes" in t
               for _, t in found["sec-clear-kept-objects"].lines)


def test_an_algorithm_added_to_prose_is_reported_its_steps_are_not(tmp_path: Path) -> None:
    """The steps of a prose-only clause are compiled; that it has an algorithm at all is not."""
    hands = hand_modelled({})
    base = _side(tmp_path, "a.html", TEXT)
    steps = _side(tmp_path, "b.html", TEXT.replace("1. Return ~unused~.", "1. Return *true*."))
    assert hand_changes(base, steps, hands) == ()
    added = TEXT.replace("<p>Only one Job", "<emu-alg>\n      1. Perform ClearKeptObjects().\n"
                         "    </emu-alg>\n    <p>Only one Job")
    [h] = hand_changes(base, _side(tmp_path, "c.html", added), hands)
    assert (h.clause, h.status, h.after) == ("sec-jobs", "changed", "[an algorithm]")


def test_the_agent_record_table_host_requirements_and_the_notation_are_reviewed(tmp_path: Path) -> None:
    """Edits an independent review made to the current spec.html that passed, even with --strict:
    [[KeptAlive]]'s meaning, what hosts must do in the job callback hooks, and what `!` means."""
    text = CURRENT.read_text()
    hands = hand_modelled({})
    base = _side(tmp_path, "base.html", text)
    edits = {
        "table-agent-record": ("representing the list of objects and/or symbols to be kept alive",
                               "representing every object the agent creates, never collected,"),
        "sec-hostcalljobcallback": ("It must perform and return the result of Call(",
                                    "It may perform any number of times Call("),
        "sec-hostmakejobcallback": (
            "It must return a JobCallback Record whose [[Callback]] field is _callback_.",
            "It may return any JobCallback Record."),
        "sec-shorthands-for-unwrapping-completion-records": (
            "`!` is used to assert that a Completion Record is normal",
            "`!` is used to discard an abrupt Completion Record"),
    }
    for clause, (old, new) in edits.items():
        assert text.count(old) == 1, clause
        [h] = hand_changes(base, _side(tmp_path, f"{clause}.html", text.replace(old, new)), hands)
        assert h.clause == clause and h.status == "changed" and new.split()[0] in h.after, clause


def test_the_weak_collection_clauses_are_reviewed_when_the_bounds_have_them(tmp_path: Path) -> None:
    """The WeakMap clause's note (the ephemeron rule model/liveness.py follows) and its prose on
    observing keys, and the WeakSet clause's prose: an independent review rewrote them and
    `--strict` passed with "0 algorithm(s) changed". At weakmaps=0 and weaksets=0 the model has
    neither, and an edit to them must not fail a review."""
    text = CURRENT.read_text()
    base = _side(tmp_path, "base.html", text)
    edits = {
        "sec-weakmap-objects": [
            ("references describe mechanism that may be useful",  # inside the emu-note
             "references describe mechanism that may be useful. A WeakMap holds each value strongly"),
            ("must not provide any means to observe a key of a WeakMap that does not require the "
             "observer to present the observed key", "may provide a means to enumerate the keys")],
        "sec-weakset-objects": [
            ("values which are not live are removed as WeakSet elements",
             "values are never removed as WeakSet elements")],
    }
    wide = hand_modelled({}, Bounds(weakmaps=1, weaksets=1))
    for clause, pairs in edits.items():
        for old, new in pairs:
            assert text.count(old) == 1, old
            head = _side(tmp_path, f"{clause}.html", text.replace(old, new))
            [h] = hand_changes(base, head, wide)
            assert (h.clause, h.status) == (clause, "changed"), clause
            assert h.line == text[:text.index(old)].count("\n") + 1  # the edited line
            assert hand_changes(base, head, hand_modelled({}, Bounds())) == ()
    # each clause at its own bound only
    only_maps = {h.clause for h in hand_modelled({}, Bounds(weakmaps=1))}
    assert "sec-weakmap-objects" in only_maps and "sec-weakset-objects" not in only_maps
