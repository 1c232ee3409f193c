"""Harmful changes to the whole current spec.html are caught by `specmc review` (issue 16, part 7).

Each case is one semantic change of our own to the text a TC39 editor would edit (the whole
spec.html of e936549f), across the hook, CleanupFinalizationRegistry, Execution, WeakRefDeref,
AddToKeptObjects/ClearKeptObjects and register/unregister. The review of BASE (the unchanged file)
against the changed copy must exit 1 and name what broke: a property whose verdict got worse
(VIOLATED, or a PROVED that became vacuous), or, for a change to prose the model builds in, the
hand-modelled clause (under --strict). And a copy that differs only in whitespace and markup
reviews as the same model and exits 0.

Small bounds keep it fast: two groups of properties with their bounds; BASE is checked once per
group (a review of BASE against itself), and each changed copy is then checked for one property,
the one the change is meant to break (any one for a prose change), with the explicit engine; the
reviews share one cache of outcomes by model digest and reuse BASE's parse. The exit code is
`Review.exit_code()`, the very function the command returns; the whitespace case and one harmful
case also go through the command line itself.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from specmc.proofs import exitcodes
from specmc.proofs.cli import main
from specmc.proofs.report.review import render
from specmc.proofs.review.review import Review, review
from specmc.proofs.run.check import Overrides
from specmc.proofs.run.plan import load_plan

from tests.conftest import SHARED

pytestmark = pytest.mark.slow  # every test shares a fixture that reviews six changes (minutes)

CURRENT = SHARED / "full" / "spec-2025-11-04-e936549f.html"

# one property set per group: the explicit engine decides them all in one exploration, and BASE's
# outcomes are cached by model digest, so they cost one BASE check per group
SMALL = ("cleanup-only-from-job", "cleanup-job-reports-abrupt", "held-value-once", "spec-asserts",
         "unregister-result", "unregister-complete")
TWO_OBJECTS = ("deref-consistent", "no-dangling-cell", "weakref-not-dangling")
BOUNDS = {SMALL: "objects=1,cells=1,frames=6,jobs=1", TWO_OBJECTS: "objects=2,cells=1,frames=4,jobs=1"}


def _plan(props: tuple[str, ...]) -> str:
    quoted = ", ".join(f'"{p}"' for p in props)
    return (f'[[run]]\nname = "harm"\nspec = ["embedded"]\nhosts = ["ecma262"]\nproperties = [{quoted}]\n'
            f'bounds = "{BOUNDS[props]}"\nengine = "explicit"\ntimeout = 600\n')


# ------------------------------------------------------------------------- editing the text


def _clause(text: str, cid: str) -> tuple[int, int]:
    """Start and end of the clause `cid`, nested clauses included."""
    start = text.index(f'<emu-clause id="{cid}"')
    depth = 0
    for m in re.finditer(r"<(/?)emu-clause\b", text[start:]):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            return start, start + m.end()
    raise ValueError(cid)


def edit(cid: str, old: str, new: str) -> Callable[[str], str]:
    """Replace `old` (which must occur once in the clause) by `new`."""
    def apply(text: str) -> str:
        a, b = _clause(text, cid)
        body = text[a:b]
        assert body.count(old) == 1, (cid, old)
        return text[:a] + body.replace(old, new) + text[b:]
    return apply


def drop(cid: str, step: str) -> Callable[[str], str]:
    """Delete the step `1. <step>` (once in the clause)."""
    def apply(text: str) -> str:
        a, b = _clause(text, cid)
        body = text[a:b]
        found = list(re.finditer(r"\n[ \t]*1\. " + re.escape(step) + r"[ \t]*(?=\n)", body))
        assert len(found) == 1, (cid, step)
        return text[:a] + body[:found[0].start()] + body[found[0].end():] + text[b:]
    return apply


def _hook_runs_cleanup(text: str) -> str:
    start = text.index("<p>Let _cleanupJob_ be a new Job Abstract Closure")
    end = text.index("</p>", text.index("schedules _cleanupJob_", start)) + len("</p>")
    return text[:start] + ("<p>The host performs the following steps:</p>\n        <emu-alg>\n"
                           "          1. Perform ? CleanupFinalizationRegistry(_finalizationRegistry_).\n"
                           "          1. Return ~unused~.\n        </emu-alg>") + text[end:]


HOOK = "sec-host-cleanup-finalization-registry"
CLEANUP = "sec-cleanup-finalization-registry"
EXECUTION = "sec-weakref-execution"
REGISTER = "sec-finalization-registry.prototype.register"
UNREGISTER = "sec-finalization-registry.prototype.unregister"


@dataclass(frozen=True)
class Harm:
    name: str
    change: Callable[[str], str]
    props: tuple[str, ...]  # the group it is checked with (bounds and property set)
    caught_by: str  # the property whose verdict gets worse, or the hand-modelled clause


CASES = (
    # the hook
    Harm("hook runs cleanup synchronously", _hook_runs_cleanup, SMALL, "cleanup-only-from-job"),
    Harm("the cleanup job lets an abrupt completion escape",
         edit(HOOK, "Let _cleanupResult_ be Completion(CleanupFinalizationRegistry(_finalizationRegistry_)).",
              "Let _cleanupResult_ be ? CleanupFinalizationRegistry(_finalizationRegistry_)."),
         SMALL, "cleanup-job-reports-abrupt"),
    Harm("the hook's prose performs the job at once",
         edit(HOOK, "schedules _cleanupJob_ to be performed at some future time, if possible.",
              "performs _cleanupJob_ at once, before it returns."), SMALL, HOOK),
    # CleanupFinalizationRegistry
    Harm("cleanup does not remove the cell before the callback",
         drop(CLEANUP, "Remove _cell_ from _finalizationRegistry_.[[Cells]]."), SMALL, "held-value-once"),
    Harm("cleanup asserts that the callback cannot throw",
         edit(CLEANUP, "Perform ? HostCallJobCallback", "Perform ! HostCallJobCallback"), SMALL,
         "spec-asserts"),
    # Execution
    Harm("Execution does not empty WeakRefs",
         drop(EXECUTION, "Set _ref_.[[WeakRefTarget]] to ~empty~."), TWO_OBJECTS, "weakref-not-dangling"),
    Harm("Execution does not empty cells",
         drop(EXECUTION, "Set _cell_.[[WeakRefTarget]] to ~empty~."), TWO_OBJECTS, "no-dangling-cell"),
    Harm("Execution may take live objects (prose)",
         edit(EXECUTION, "if a set of objects and/or symbols _S_ is not live,",
              "for any set of objects and/or symbols _S_,"), SMALL, EXECUTION),
    # WeakRefDeref, AddToKeptObjects / ClearKeptObjects
    Harm("deref does not keep its target",
         drop("sec-weakrefderef", "Perform AddToKeptObjects(_target_)."), TWO_OBJECTS, "deref-consistent"),
    Harm("AddToKeptObjects keeps nothing",
         drop("sec-addtokeptobjects", "Append _value_ to _agentRecord_.[[KeptAlive]]."), TWO_OBJECTS,
         "deref-consistent"),
    Harm("ClearKeptObjects may run in the middle of synchronous code (prose)",
         edit("sec-clear-kept-objects", "when a synchronous sequence of ECMAScript executions completes",
              "at any time"), SMALL, "sec-clear-kept-objects"),
    # register / unregister
    Harm("register forgets the cell (held-value-once becomes vacuous)",
         drop(REGISTER, "Append _cell_ to _finalizationRegistry_.[[Cells]]."), SMALL, "held-value-once"),
    Harm("unregister always returns false",
         drop(UNREGISTER, "Set _removed_ to *true*."), SMALL, "unregister-result"),
)


def whitespace_and_markup(text: str) -> str:
    """The same spec with whitespace and markup changed only: trailing blanks on every line of
    the clause set (steps included), blank lines between clauses, a prose paragraph of each
    hand-modelled clause reflowed and wrapped in a span, and an entity for a character."""
    a, b = _clause(text, "sec-weakref-processing-model")
    part = text[a:b]
    part = part.replace("\n", "   \n").replace("</emu-clause>", "</emu-clause>\n\n")
    part = part.replace("schedules _cleanupJob_ to be performed",
                        '<span class="x">schedules\n        _cleanupJob_</span>   to be performed')
    part = part.replace("is not live, an ECMAScript implementation may",
                        "is not live,\n      an <em>ECMAScript</em> implementation may")
    text = text[:a] + part + text[b:]
    c, d = _clause(text, "sec-clear-kept-objects")
    text = text[:c] + text[c:d].replace("synchronous sequence", "synchronous\n      sequence") + text[d:]
    e, f = _clause(text, CLEANUP)
    return text[:e] + text[e:f].replace("« _cell_.[[HeldValue]] »", "&laquo; _cell_.[[HeldValue]] &raquo;") \
        + text[f:]


# ------------------------------------------------------------------------------------ the runs


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], str]:
    folder = tmp_path_factory.mktemp("plans")
    out = {}
    for i, props in enumerate(BOUNDS):
        path = folder / f"plan{i}.toml"
        path.write_text(_plan(props))
        out[props] = str(path)
    return out


@pytest.fixture(scope="module")
def reviews(plans: dict[tuple[str, ...], str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Review]:
    """Every case reviewed against the unchanged file, with one shared cache (BASE checked once
    per group)."""
    tmp = tmp_path_factory.mktemp("harm")
    text = CURRENT.read_text(encoding="utf-8")
    cache: dict = {}
    out = {}
    started = time.monotonic()
    for props in BOUNDS:  # BASE's verdicts for the whole group, in one exploration
        same = review(str(CURRENT), str(CURRENT), load_plan(plans[props]), certificates=str(tmp / "certs"),
                      cache=cache)
        assert same.model_identical and same.exit_code() == exitcodes.OK
        assert all(v.base.verdict == "PROVED" and v.base.cover_reached for v in same.verdicts), same
    for i, case in enumerate(CASES):
        head = tmp / f"harm{i}" / "spec.html"
        head.parent.mkdir()
        changed = case.change(text)
        assert changed != text
        head.write_text(changed, encoding="utf-8")
        prop = case.caught_by if not case.caught_by.startswith("sec-") else case.props[0]
        out[case.name] = review(str(CURRENT), str(head), load_plan(plans[case.props]),
                                Overrides(properties=(prop,)), certificates=str(tmp / "certs"), cache=cache,
                                strict=True)
    print(f"{len(CASES)} harmful reviews in {time.monotonic() - started:.1f} s")
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_harmful_change_fails_the_review_naming_what_broke(reviews: dict[str, Review],
                                                                case: Harm) -> None:
    r = reviews[case.name]
    assert r.exit_code() == exitcodes.FINDING, render(r, "text")
    report = render(r, "text")
    if case.caught_by.startswith("sec-"):  # prose the model builds in: the model cannot see it
        assert r.model_identical and not any(v.first for v in r.verdicts)
        assert [h.clause for h in r.hand_changed] == [case.caught_by]
        assert f"hand-modelled clause changed: verdicts do not reflect it: {case.caught_by}" in report
        assert re.search(rf"{re.escape(case.caught_by)} \(.*\) at .*spec\.html:\d+", report)
    else:
        worse = {v.property for v in r.verdicts if v.worse}
        assert case.caught_by in worse, report
        assert re.search(rf"WORSE .* {re.escape(case.caught_by)} ", report)
        # the base had a real proof (not vacuous) for what got worse
        [v] = [v for v in r.verdicts if v.property == case.caught_by]
        assert v.base.verdict == "PROVED" and not v.base.vacuous
        # HEAD's model changed, and the property the change breaks is one HEAD checks first: it
        # reads what a changed algorithm writes or runs (review.rerun_order)
        assert v.first, (r.models, case.caught_by)


def test_a_proof_that_became_vacuous_counts_as_worse(reviews: dict[str, Review]) -> None:
    r = reviews["register forgets the cell (held-value-once becomes vacuous)"]
    [v] = [v for v in r.verdicts if v.property == "held-value-once"]
    assert v.head.verdict == "PROVED" and v.head.vacuous and v.worse
    assert re.search(r"WORSE .* held-value-once +PROVED +-> PROVED \(vacuous\)", render(r, "text"))


def test_prose_changes_are_warnings_without_strict(reviews: dict[str, Review]) -> None:
    from dataclasses import replace

    for case in CASES:
        if case.caught_by.startswith("sec-"):
            lenient = replace(reviews[case.name], strict=False)
            assert lenient.exit_code() == exitcodes.OK
            assert "a warning; --strict fails the review" in render(lenient, "text")
            assert render(lenient, "github").count(f"::warning file={lenient.hand_changed[0].file}") == 1


def test_the_command_line_fails_on_a_harmful_change(plans: dict[tuple[str, ...], str], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    head = tmp_path / "spec.html"
    head.write_text(_hook_runs_cleanup(CURRENT.read_text(encoding="utf-8")), encoding="utf-8")
    rc = main(["review", str(CURRENT), str(head), "--plan", plans[SMALL],
               "--property", "cleanup-only-from-job", "--certificates", str(tmp_path / "certs")])
    out = capsys.readouterr().out
    assert rc == exitcodes.FINDING
    assert re.search(r"WORSE .* cleanup-only-from-job +PROVED +-> VIOLATED", out)


def test_whitespace_and_markup_only_is_the_same_model(plans: dict[tuple[str, ...], str], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    head = tmp_path / "spec.html"
    text = CURRENT.read_text(encoding="utf-8")
    changed = whitespace_and_markup(text)
    assert changed != text and changed.count("\n") > text.count("\n")
    head.write_text(changed, encoding="utf-8")
    rc = main(["review", str(CURRENT), str(head), "--plan", plans[SMALL], "--strict",
               "--property", "cleanup-only-from-job", "--certificates", str(tmp_path / "certs")])
    out = capsys.readouterr().out
    assert rc == exitcodes.OK, out
    assert "model identical" in out and "hand-modelled" not in out
    assert "result: passes" in out
