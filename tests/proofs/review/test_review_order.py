"""When HEAD's model changed, HEAD checks first the properties the change can affect (issue 16).

`rerun_order` reads, off HEAD's model, which properties read what a changed algorithm writes or
runs; the review hands those to the engines first, says so on its log, and marks them in every
format. The engines are replaced here by a recorder (`decide`), so the order they are asked in
is observed directly and no search runs; which property a real harmful change breaks is pinned
in tests/proofs/review/test_review_harmful.py (the breaking property is always among the first).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from specmc.proofs.report.review import render
from specmc.proofs.review import review as rv
from specmc.proofs.run.plan import load_plan
from specmc.proofs.verdict import PROVED, Outcome

from tests.conftest import SHARED

EXCERPT = SHARED / "current" / "finreg-excerpt.html"

# in the plan's order: the unregister properties come last, so that going first is the review's doing
PROPS = ("held-value-once", "cleanup-only-from-job", "weakref-not-dangling", "unregister-result",
         "unregister-complete")
PLAN = f"""
[[run]]
name = "order"
spec = ["embedded"]
hosts = ["ecma262"]
properties = [{", ".join(f'"{p}"' for p in PROPS)}]
bounds = "objects=1,cells=1,frames=6,jobs=1"
engine = "explicit"
"""


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[str, ...]]]:
    """(the first spec path, the properties in the order given) for every engine job."""
    calls: list[tuple[str, tuple[str, ...]]] = []

    def decide(run, host_path, props, certificates, progress):  # noqa: ANN001, ARG001
        calls.append((run.specs[0], tuple(props)))
        return {p: Outcome(p, PROVED, "recorded", cover_reached=True) for p in props}

    monkeypatch.setattr(rv, "decide", decide)
    return calls


def _review(tmp_path: Path, change: tuple[str, str] | None) -> tuple[rv.Review, list[str]]:
    plan_file = tmp_path / "specmc.toml"
    plan_file.write_text(PLAN)
    head = tmp_path / "head" / "finreg-excerpt.html"
    head.parent.mkdir()
    text = EXCERPT.read_text(encoding="utf-8")
    if change:
        assert text.count(change[0]) == 1
        text = text.replace(*change)
    head.write_text(text, encoding="utf-8")
    log: list[str] = []
    r = rv.review(str(EXCERPT), str(head), load_plan(str(plan_file)), certificates=str(tmp_path / "c"),
                  progress=log.append)
    return r, log


UNREGISTER_FALSE = ("1. Set _removed_ to *true*.\n", "")


def test_head_checks_first_what_the_changed_algorithm_can_affect(tmp_path: Path, asked) -> None:
    r, log = _review(tmp_path, UNREGISTER_FALSE)
    assert [m.changed for m in r.models] == [("FinalizationRegistry.prototype.unregister",)]
    (base_path, base_order), (head_path, head_order) = asked
    assert base_path == str(EXCERPT) and base_order == PROPS  # BASE: the plan's order
    # HEAD: unregister's two properties before the three it cannot touch, each group in plan order
    assert head_path != str(EXCERPT)
    assert head_order == ("unregister-result", "unregister-complete", "held-value-once",
                          "cleanup-only-from-job", "weakref-not-dangling")
    # the log says the order and why
    [line] = [m for m in log if "first the properties they can affect" in m]
    assert "HEAD's model changed in FinalizationRegistry.prototype.unregister" in line
    assert "unregister-result (FinalizationRegistry.prototype.unregister)" in line
    assert line.endswith("then held-value-once, cleanup-only-from-job, weakref-not-dangling")
    # the report keeps the plan's order, and marks what went first in every format
    assert [v.property for v in r.verdicts] == list(PROPS)
    assert {v.property for v in r.verdicts if v.first} == {"unregister-result", "unregister-complete"}
    doc = json.loads(render(r, "json"))
    assert {v["property"]: v["checked_first"] for v in doc["verdicts"]} == {
        p: p.startswith("unregister") for p in PROPS}
    assert "checked first on head (they read what the changed algorithms write or run): " \
           "unregister-result, unregister-complete" in render(r, "text")
    assert "Checked first on head, as the properties the changed algorithms can affect: " \
           "ecma262: `unregister-result`, `unregister-complete`." in render(r, "markdown")


def test_a_change_to_the_cleanup_job_puts_its_properties_first(tmp_path: Path, asked) -> None:
    """The job lets an abrupt completion escape: cleanup-only-from-job tests for frames of
    CleanupFinalizationRegistry, which the job calls, so it goes first; held-value-once reads the
    cells' delivery counts, which only CleanupFinalizationRegistry and register write, so it waits
    with the rest, in the plan's order."""
    r, _log = _review(tmp_path, ("Completion(CleanupFinalizationRegistry(_finalizationRegistry_))",
                                 "? CleanupFinalizationRegistry(_finalizationRegistry_)"))
    assert [m.changed for m in r.models] == [("cleanupJob",)]
    assert asked[-1][1] == ("cleanup-only-from-job", "held-value-once", "weakref-not-dangling",
                            "unregister-result", "unregister-complete")
    [v] = [v for v in r.verdicts if v.first]
    assert v.property == "cleanup-only-from-job"


def test_an_identical_model_is_not_reordered_nor_checked_again(tmp_path: Path, asked) -> None:
    r, log = _review(tmp_path, None)
    assert r.model_identical and len(asked) == 1  # BASE only: HEAD's verdicts carry over
    assert not any(v.first for v in r.verdicts)
    assert not any("first the properties" in m for m in log)
    assert "checked first" not in render(r, "text") and "Checked first" not in render(r, "markdown")


def test_every_property_is_still_checked(tmp_path: Path, asked) -> None:
    """A priority, not a slice: the properties the change cannot affect are checked on HEAD too."""
    r, _log = _review(tmp_path, UNREGISTER_FALSE)
    assert set(asked[-1][1]) == set(PROPS)
    assert all(v.head.engine == "recorded" and not v.carried for v in r.verdicts)
