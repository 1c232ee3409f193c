"""`specmc review` over real ECMA-262 history: model identity by normal form, and verdicts on
both sides of a change."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from specmc.model.hosts import load_host
from specmc.proofs import exitcodes
from specmc.proofs.engines.portfolio import UNBUILDABLE
from specmc.proofs.report.review import render
from specmc.proofs.review.changes import algorithm_changes
from specmc.proofs.review.review import (
    NOTHING_SEARCHED,
    Review,
    UnrunChange,
    VerdictPair,
    _build_error,
    review,
)
from specmc.proofs.review.sides import Side, open_side
from specmc.proofs.run.plan import load_plan
from specmc.proofs.verdict import BOUNDED, PROVED, UNKNOWN, Outcome
from specmc.spec import ir

from tests.conftest import ROOT, SHARED

HISTORY = SHARED / "history"
FULL = SHARED / "full"

PLAN = """
[[run]]
name = "review"
spec = ["embedded"]
hosts = ["ecma262", "quickjs-ng-0.5"]
properties = ["cleanup-only-from-job", "cleanup-not-on-free-stack"]
bounds = "objects=1,cells=1,frames=6,jobs=1"
engine = "explicit"
timeout = 300
"""

# Editorial rows whose steps really change meaning for the model (docs/review.md, "Model identity"):
# d4069b34 binds _cell_ in Execution step 1.b (unbound before, so the old step cannot run) and
# declares _callback_ in CleanupFinalizationRegistry ("Set" of an undeclared name before);
# the 7575f745 snapshot returns ~unused~ where NormalCompletion(~empty~) was returned (a different
# value in the cleanup job's local), and lacks HostMakeJobCallback's Assert, which 4fde5142 (between
# the 61f79507 and 7575f745 snapshots) moved into the parameter's type.
MEANING_CHANGED = {
    "d4069b34": {"ecma262": {"CleanupFinalizationRegistry", "Execution"}},
    "7575f745": {"ecma262": {"CleanupFinalizationRegistry", "HostMakeJobCallback", "cleanupJob"},
                 "quickjs-ng-0.5": {"HostMakeJobCallback"}},
}
# Normative rows that do not touch what the model runs, and why (docs/review.md): cleanupSome is not in
# the model (a857970b, 9320c656); the job rules, per-agent jobs and the WeakRef constructor's
# attributes are prose the model's event loop and heap already follow (a59a820d, 3330e231, 1cad710b).
NORMATIVE_UNTOUCHED = {"a857970b", "9320c656", "a59a820d", "3330e231", "1cad710b"}


def _kinds() -> dict[str, str]:
    rows = re.findall(r"^\| [0-9-]+ \| `([0-9a-f]{8})` \| [^|]* \| ([^|]+) \|",
                      (HISTORY / "INDEX.md").read_text(), re.M)
    kinds: dict[str, str] = {}
    for sha, kind in rows:  # the main table comes first; the appendix repeats shas with clause lists
        kinds.setdefault(sha, kind.strip().split()[0])
    return kinds


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory):
    p = tmp_path_factory.mktemp("plan") / "specmc.toml"
    p.write_text(PLAN)
    return load_plan(str(p))


@pytest.fixture(scope="module")
def cache() -> dict:
    """Outcomes by model normal form, shared by the module: a model met before is not re-checked."""
    return {}


@pytest.fixture(scope="module")
def history(plan, cache: dict, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Review]]:
    certs = str(tmp_path_factory.mktemp("certs"))
    folders = sorted(p for p in HISTORY.iterdir() if p.is_dir()) + [SHARED / "current"]
    return [(b.name.split("-")[-1] if b.name != "current" else "current",
             review(str(a), str(b), plan, certificates=certs, cache=cache))
            for a, b in zip(folders, folders[1:], strict=False)]


@pytest.mark.slow
def test_editorial_and_markup_rows_are_model_identical(history: list[tuple[str, Review]]) -> None:
    kinds = _kinds()
    checked = 0
    for sha, r in history:
        if kinds.get(sha) not in ("Editorial", "Markup"):
            continue
        checked += 1
        changed = {m.host: set(m.changed) for m in r.models if not m.identical}
        assert changed == MEANING_CHANGED.get(sha, {}), sha
    assert checked == 9


@pytest.mark.slow
def test_normative_rows_that_touch_the_model_are_model_changed(history: list[tuple[str, Review]]) -> None:
    kinds = _kinds()
    for sha, r in history:
        if kinds.get(sha, "").startswith("Normative") or kinds.get(sha) == "Layering":
            assert r.model_identical == (sha in NORMATIVE_UNTOUCHED), sha
    # the change that made the hook a job closure changes the reference host's model there
    r = dict(history)["61f79507"]
    assert {"CleanupFinalizationRegistry", "cleanupJob"} <= set(
        next(m for m in r.models if m.host == "ecma262").changed)


@pytest.mark.slow
def test_no_pair_crashes_and_verdicts_come_from_engines(history: list[tuple[str, Review]]) -> None:
    for sha, r in history:
        for v in r.verdicts:
            for o in (v.base, v.head):
                assert not o.reason.startswith("internal error"), (sha, o.reason)
                if o.verdict == "UNKNOWN":  # only texts the model cannot run, each named
                    assert o.reason.startswith("the model cannot be built"), (sha, o.reason)
            if v.carried:
                assert v.base.verdict == v.head.verdict
    # from d4069b34 on, the reference host's model runs and proves what the plan asks; at one
    # object QuickJS-NG's seed cannot happen (it needs a registry and another object to watch)
    current = dict(history)["current"]
    assert {(v.host, v.property): v.head.verdict for v in current.verdicts} == {
        ("ecma262", "cleanup-only-from-job"): "PROVED", ("ecma262", "cleanup-not-on-free-stack"): "PROVED",
        ("quickjs-ng-0.5", "cleanup-only-from-job"): "PROVED",
        ("quickjs-ng-0.5", "cleanup-not-on-free-stack"): "PROVED"}
    old = dict(history)["a59a820d"]
    assert all(v.base.verdict == "UNKNOWN" for v in old.verdicts if v.host == "ecma262")


@pytest.mark.slow
def test_a_review_that_could_not_check_does_not_pass(history: list[tuple[str, Review]]) -> None:
    """Before d4069b34 the reference host's model cannot be built (Execution uses an unbound
    _cell_), and before 3330e231 QuickJS-NG's cannot either (its profile calls CanBeHeldWeakly,
    which the older texts do not define): those reviews are not checked, each reason located in
    the file it is about, and every review whose models build on both sides is checked."""
    reviews = dict(history)
    old = reviews["a59a820d"]  # 71c08971 -> a59a820d: the same model, unbuildable on both sides
    assert not old.checked and not old.failing
    assert {(v.host, v.property) for v in old.verdicts if v.host == "ecma262"} <= {
        (v.host, v.property) for v in old.not_checked}
    reasons = [u for u in old.unchecked_reasons() if u.combinations[0][1] == "ecma262"]
    assert {u.side for u in reasons} == {"base", "head"}
    for u in reasons:
        assert u.reason.startswith(UNBUILDABLE) and "E064" in u.reason, u.reason
        assert {c[2] for c in u.combinations} == {"cleanup-only-from-job", "cleanup-not-on-free-stack"}
        folder = {"base": "2020-08-05-71c08971", "head": "2020-08-07-a59a820d"}[u.side]
        assert f"{folder}/finreg-excerpt.html:" in u.reason, u.reason  # HEAD's own file, not BASE's
    # the text becomes buildable at d4069b34: only BASE leaves the reference host unchecked
    fixed = reviews["d4069b34"]
    assert not fixed.checked
    assert {u.side for u in fixed.unchecked_reasons()
            if u.combinations[0][1] == "ecma262" and u.reason.startswith(UNBUILDABLE)} == {"base"}
    # (its HEAD also turns Execution 1.c, which BASE's parser could not read as a loop, into a loop
    # over WeakMaps, which only weakmaps >= 1 runs: that is said too)
    assert [(u.host, u.bound) for u in fixed.unrun] == [("ecma262", "weakmaps")]
    assert reviews["3330e231"].checked and reviews["current"].checked
    for sha, r in history:  # not checked exactly where some side has no model or no verdict
        for v in r.verdicts:
            unbuilt = any(o.reason.startswith(UNBUILDABLE) for o in (v.base, v.head))
            both = v.base.verdict == v.head.verdict == "UNKNOWN"
            assert v.not_checked == (unbuilt or both), (sha, v)


@pytest.mark.parametrize("base,head,expected", [
    ("spec-2021-03-15-3cd00d74.html", "spec-2021-03-17-06357938.html",
     {"FinalizationRegistry", "CleanupFinalizationRegistry"}),
    ("spec-2021-07-19-ee2d7909.html", "spec-2021-07-21-61f79507.html",
     {"HostEnqueueFinalizationRegistryCleanupJob", "CleanupFinalizationRegistry"}),
])
@pytest.mark.slow
def test_whole_spec_files(plan, cache: dict, tmp_path: Path, base: str, head: str,
                          expected: set[str]) -> None:
    r = review(str(FULL / base), str(FULL / head), plan, certificates=str(tmp_path), cache=cache)
    names = {c.name for c in r.changed}
    assert expected <= names
    assert not r.model_identical
    assert all(c.in_model for c in r.changed if c.name in expected)
    assert not any(o.reason.startswith("internal error") for v in r.verdicts for o in (v.base, v.head))
    # whatever the whole file gives, a combination without a model on a side is never passed
    for v in r.verdicts:
        for side, o, name in (("base", v.base, base), ("head", v.head, head)):
            if o.reason.startswith(UNBUILDABLE):
                assert v.not_checked and not r.checked
                assert (side, o.reason) in v.unchecked_sides()
                assert f"{name}:" in o.reason, o.reason  # located in that side's file


def hook_calls_cleanup_directly(tmp_path: Path) -> Path:
    """A copy of the current clauses whose host hook runs CleanupFinalizationRegistry itself."""
    head = tmp_path / "head"
    shutil.copytree(SHARED / "current", head)
    f = head / "finreg-excerpt.html"
    s = f.read_text()
    start = s.index("<p>Let _cleanupJob_ be a new Job Abstract Closure")
    end = s.index("</p>", s.index("schedules _cleanupJob_", start)) + len("</p>")
    f.write_text(s[:start] + "<p>The host performs the following steps:</p>\n        <emu-alg>\n"
                 "          1. Perform ? CleanupFinalizationRegistry(_finalizationRegistry_).\n"
                 "          1. Return ~unused~.\n        </emu-alg>" + s[end:])
    return head


@pytest.mark.slow
def test_a_removed_step_marks_the_step_now_in_its_place(plan, cache: dict, tmp_path: Path) -> None:
    """BASE's hook returns before it would call cleanup; HEAD deletes that Return. The deleted
    step is reported with its BASE line, and the counterexample's last step (the call that now
    runs where the Return stood) is marked as touched."""
    head = hook_calls_cleanup_directly(tmp_path)
    base = tmp_path / "base"
    shutil.copytree(head, base)
    f = base / "finreg-excerpt.html"
    call = "          1. Perform ? CleanupFinalizationRegistry(_finalizationRegistry_).\n"
    f.write_text(f.read_text().replace(call, "          1. Return ~unused~.\n" + call, 1))
    r = review(str(base), str(head), plan, certificates=str(tmp_path / "certs"), cache=cache)
    [hook] = [c for c in r.changed if c.name == "HostEnqueueFinalizationRegistryCleanupJob"]
    [removed] = hook.steps
    assert removed.op == "removed" and removed.head is None
    assert removed.base is not None and removed.base.text == "Return ~unused~."
    assert removed.base.file == str(f) and removed.base.line == 431
    assert removed.after is not None and removed.after.number == "1" and "Perform" in removed.after.text
    v = next(v for v in r.verdicts if v.new_violation)
    assert v.head.trace[-1]["clause"] == "sec-host-cleanup-finalization-registry"
    assert len(v.head.trace) - 1 in v.touched
    assert r.failing and r.checked
    # annotated on HEAD's file at the step that now stands where it stood (GitHub reads an
    # annotation's line in HEAD's file), its BASE line named in the message
    [note] = [a for a in render(r, "github").splitlines() if "step 1 removed" in a]
    assert note.startswith(f"::warning file={removed.after.file},line={removed.after.line},col=")
    assert removed.after.file == str(head / "finreg-excerpt.html") and removed.after.line == 431
    assert note.endswith("::changes the model, removed (line 431 of the base text): Return ~unused~.")


def test_locations_name_the_side_not_the_private_copy() -> None:
    """A git side is read from a temporary copy; its reasons say `REV:path:line:col`."""
    spec = ir.Spec((), (), (), ())
    side = Side("HEAD~1:spec.html", ("/tmp/specmc-review-x/side0/spec.html",), spec,
                {"/tmp/specmc-review-x/side0/spec.html": "spec.html"}, "HEAD~1")
    assert side.locate("E064 at /tmp/specmc-review-x/side0/spec.html:12425:14: two calls") == \
        "E064 at HEAD~1:spec.html:12425:14: two calls"
    assert side.locate("unknown step at spec.html:7:3: Frob") == "unknown step at HEAD~1:spec.html:7:3: Frob"
    assert side.locate(side.locate("spec.html:7:3")) == "HEAD~1:spec.html:7:3"  # idempotent
    assert side.locate("see docs/spec.html:7 or spec.html alone") == "see docs/spec.html:7 or spec.html alone"
    plain = Side("a.html", ("a.html",), spec)  # a file named by the user is shown as named
    assert plain.locate("a.html:1:1: E063") == "a.html:1:1: E063"


def test_a_missing_algorithm_is_located_at_the_side(plan, tmp_path: Path) -> None:
    """E062 has no line in the text (the algorithm is not there): the reason names the side."""
    (tmp_path / "tiny.html").write_text('<emu-clause id="sec-f" type="abstract operation">\n'
                                        "  <h1>F ( )</h1>\n  <emu-alg>\n    1. Return ~unused~.\n"
                                        "  </emu-alg>\n</emu-clause>\n")
    side = open_side(str(tmp_path / "tiny.html"), None, tmp_path)
    why = _build_error(side, load_host("ecma262"), plan.runs[0])
    assert why == (f"{UNBUILDABLE}: {tmp_path / 'tiny.html'}: error E062: the model needs algorithm "
                   "'FinalizationRegistry', which the text does not define")


@pytest.mark.slow
def test_hook_that_calls_cleanup_directly_flips_verdicts(plan, cache: dict, tmp_path: Path) -> None:
    head = hook_calls_cleanup_directly(tmp_path)
    r = review(str(SHARED / "current"), str(head), plan, certificates=str(tmp_path / "certs"), cache=cache)
    flips = {(v.host, v.property): (v.base.verdict, v.head.verdict) for v in r.verdicts
             if v.base.verdict != v.head.verdict}
    assert flips == {("ecma262", "cleanup-only-from-job"): ("PROVED", "VIOLATED")}
    v = next(v for v in r.verdicts if v.new_violation)
    assert v.worse and r.failing
    # the counterexample ends in the changed hook, and that step is marked as touched
    last = v.head.trace[-1]
    assert last["clause"] == "sec-host-cleanup-finalization-registry" and last["step"] == "1"
    assert len(v.head.trace) - 1 in v.touched
    hook = next(c for c in r.changed if c.name == "HostEnqueueFinalizationRegistryCleanupJob")
    assert hook.model_changed and hook.in_model


@pytest.mark.slow
def test_a_new_unknown_step_in_a_model_algorithm_fails_the_review(plan, cache: dict, tmp_path: Path) -> None:
    head = tmp_path / "head"
    shutil.copytree(SHARED / "current", head)
    f = head / "finreg-excerpt.html"
    text = f.read_text()
    assert "1. Let _target_ be _weakRef_.[[WeakRefTarget]]." in text
    f.write_text(text.replace("1. Let _target_ be _weakRef_.[[WeakRefTarget]].",
                              "1. Frobnicate _weakRef_ until it remembers its target.", 1))
    r = review(str(SHARED / "current"), str(head), plan, certificates=str(tmp_path / "certs"), cache=cache)
    [u] = r.new_unknown
    assert u.algorithm == "WeakRefDeref" and u.in_model and u.step.number == "1"
    assert u.step.file.endswith("finreg-excerpt.html") and u.step.line > 1
    assert r.failing
    # the head's model cannot be built, and says where
    assert all(v.head.verdict == "UNKNOWN" and "finreg-excerpt.html" in v.head.reason for v in r.verdicts)


def _pair(base: Outcome, head: Outcome, carried: bool = False) -> VerdictPair:
    return VerdictPair("r", "ecma262", base.property, base, head, carried)


def _review(*pairs: VerdictPair) -> Review:
    return Review("a", "b", "plan", (), (), (), pairs)


NA = Outcome("eventually-delivered", PROVED, "explicit", method="delivery: optional", applicable=False)
PROVEN = Outcome("held-value-once", PROVED, "explicit", cover_reached=True)
VACUOUS = Outcome("held-value-once", PROVED, "explicit", cover_reached=False)
SHORT = Outcome("held-value-once", BOUNDED, "bmc", 3, cover_reached=False)
DEEP = Outcome("held-value-once", BOUNDED, "bmc", 30, cover_reached=True)
TIMED_OUT = Outcome("held-value-once", UNKNOWN, "kind", reason="time limit (1 s) reached")
OPEN = Outcome("held-value-once", PROVED, "kind", method="k-induction")  # cover not checked


@pytest.mark.parametrize("pairs,code", [
    # an independent review passed both of these: nothing was searched on the changed model
    ((_pair(NA, NA),), exitcodes.NOT_CHECKED),
    ((_pair(SHORT, SHORT),), exitcodes.NOT_CHECKED),
    ((_pair(VACUOUS, VACUOUS), _pair(NA, NA)), exitcodes.NOT_CHECKED),
    ((_pair(NA, NA), _pair(TIMED_OUT, SHORT)), exitcodes.NOT_CHECKED),
    # one pair decided by a search is enough; the others are shown as they are
    ((_pair(NA, NA), _pair(PROVEN, PROVEN)), exitcodes.OK),
    ((_pair(DEEP, DEEP),), exitcodes.OK),
    ((_pair(SHORT, DEEP),), exitcodes.OK),
    # a symbolic PROVED whose cover was not checked may be vacuous: no more a search here than in
    # check, which counts its row undecided
    ((_pair(PROVEN, OPEN),), exitcodes.NOT_CHECKED),
    ((_pair(OPEN, OPEN), _pair(NA, NA)), exitcodes.NOT_CHECKED),
    ((_pair(OPEN, OPEN), _pair(PROVEN, PROVEN)), exitcodes.OK),
    # what counts is HEAD's: a BASE that met the cover says nothing of a HEAD that no longer does
    ((_pair(DEEP, SHORT),), exitcodes.NOT_CHECKED),
    # the same model on both sides: the verdicts are BASE's by construction, nothing to compare
    ((_pair(NA, NA, carried=True),), exitcodes.OK),
    # a verdict that got worse is a finding whatever else was searched
    ((_pair(DEEP, SHORT), _pair(PROVEN, VACUOUS)), exitcodes.FINDING),
])
def test_a_review_that_searched_nothing_on_a_changed_model_is_not_checked(pairs, code) -> None:
    r = _review(*pairs)
    assert r.exit_code() == code
    if code != exitcodes.FINDING:
        assert r.checked == (code == exitcodes.OK)
    if code == exitcodes.NOT_CHECKED:
        [why] = r.unchecked_reasons()
        assert why.reason == NOTHING_SEARCHED and why.side == "head"
        assert len(r.not_checked) == len(pairs)
        assert "result: not checked" in render(r, "text")


CUT = Outcome("held-value-once", PROVED, "explicit", cover_reached=True, bounds_hit=(("cells-once", 98),))
FRAMES = Outcome("held-value-once", PROVED, "explicit", cover_reached=True, bounds_hit=(("frames", 3),))


def test_a_head_cut_where_the_model_cannot_follow_the_text_is_not_checked() -> None:
    """Sixth review (F6): a change that writes register's Append twice cuts every registering run
    at `cells-once`; "PROVED -> PROVED within bounds (cells-once hit)" read as not worse and the
    review passed, though no bound lifts that cut. It is not checked (exit 4), with the reason,
    even beside a pair decided by a search; a `frames` cut, which a bound lifts, is checked."""
    r = _review(_pair(PROVEN, CUT), _pair(PROVEN, PROVEN))
    assert r.exit_code() == exitcodes.NOT_CHECKED and not r.failing
    [why] = r.unchecked_reasons()
    assert why.side == "head" and "cells-once" in why.reason and len(why.combinations) == 1
    assert "result: not checked" in render(r, "text")
    assert _review(_pair(PROVEN, FRAMES)).exit_code() == exitcodes.OK
    # the other way round (a change that removes the second Append) checks HEAD as usual
    assert _review(_pair(CUT, PROVEN)).exit_code() == exitcodes.OK


def test_a_bounded_verdict_shows_its_depth_and_whether_it_met_the_cover() -> None:
    out = render(_review(_pair(SHORT, DEEP)), "text")
    assert "BOUNDED (depth 3, cover not reached) -> BOUNDED (depth 30)" in out
    doc = _review(_pair(SHORT, DEEP)).to_json()["verdicts"][0]
    assert (doc["base_depth"], doc["head_depth"], doc["base_cover_reached"], doc["head_cover_reached"],
            doc["searched"]) == (3, 30, False, True, True)


def test_a_header_change_and_a_changed_step_show_both_sides(tmp_path: Path) -> None:
    """register's parameters swapped in its header (the body unchanged) was listed with no line at
    all; a changed step showed HEAD's text only."""
    text = (SHARED / "current" / "finreg-excerpt.html").read_text()
    header = "FinalizationRegistry.prototype.register ( _target_, _heldValue_ [ , _unregisterToken_ ] )"
    step = "1. Append _cell_ to _finalizationRegistry_.[[Cells]]."
    assert text.count(header) == 1 and text.count(step) == 1
    (tmp_path / "b.html").write_text(text)
    (tmp_path / "h.html").write_text(
        text.replace(header, header.replace("_target_, _heldValue_", "_heldValue_, _target_"))
        .replace(step, "1. Append _cell_ to _finalizationRegistry_.[[Cells]] twice."))
    base, head = (open_side(str(tmp_path / n), None, tmp_path) for n in ("b.html", "h.html"))
    [c] = algorithm_changes(base.spec, head.spec, {}, set())
    assert c.header == ("( _target_, _heldValue_ [ , _unregisterToken_ ] )",
                        "( _heldValue_, _target_ [ , _unregisterToken_ ] )")
    out = render(Review("b", "h", "plan", (c,), (), (), ()), "text")
    assert "    header     base:    ( _target_, _heldValue_ [ , _unregisterToken_ ] )\n" \
           "               head:    ( _heldValue_, _target_ [ , _unregisterToken_ ] )" in out
    assert "    changed        7 -> 7       - Append _cell_ to _finalizationRegistry_.[[Cells]].\n" \
           f"{'':32}+ Append _cell_ to _finalizationRegistry_.[[Cells]] twice.\n" in out
    md = render(Review("b", "h", "plan", (replace(c, in_model=True),), (), (), ()), "markdown")
    assert "| ~ | header | header | ~~( _target_, _heldValue_" in md
    assert "::notice file=" in render(Review("b", "h", "plan", (c,), (), (), ()), "github")


WEAKMAP_GET_LOOP = (
    "          1. For each Record { [[Key]], [[Value]] } _p_ of _M_.[[WeakMapData]], do\n"
    "            1. If _p_.[[Key]] is not ~empty~ and SameValue(_p_.[[Key]], _key_) is *true*, "
    "return _p_.[[Value]].\n")


def test_a_change_the_model_runs_only_at_wider_bounds_is_not_checked(tmp_path: Path, cache: dict) -> None:
    """Fourth review: WeakMap.prototype.get losing its loop (it always returns undefined), reviewed at
    weakmaps=0, was "[not modelled]" and passed. The model runs get with weakmaps >= 1 (where
    weak-collection-results finds it): the review now says so and is not checked (exit 4). The
    same algorithm reworded (a renamed variable, the same normal form) still passes."""
    text = (FULL / "spec-2025-11-04-e936549f.html").read_text(encoding="utf-8")
    assert text.count(WEAKMAP_GET_LOOP) == 1
    plan_file = tmp_path / "specmc.toml"
    plan_file.write_text(PLAN.replace('"ecma262", "quickjs-ng-0.5"', '"ecma262"')
                         .replace(', "cleanup-not-on-free-stack"]', "]"))
    base = tmp_path / "base.html"
    base.write_text(text, encoding="utf-8")
    broken, reworded = tmp_path / "broken.html", tmp_path / "reworded.html"
    broken.write_text(text.replace(WEAKMAP_GET_LOOP, ""), encoding="utf-8")
    reworded.write_text(text.replace(WEAKMAP_GET_LOOP, WEAKMAP_GET_LOOP.replace("_p_", "_q_")),
                        encoding="utf-8")
    plan = load_plan(str(plan_file))
    r = review(str(base), str(broken), plan, certificates=str(tmp_path / "certs"), cache=cache)
    [c] = [c for c in r.changed if c.name == "WeakMap.prototype.get"]
    assert not c.in_model and c.runs_with == ("weakmaps",)
    assert c.tag() == "not run at these bounds: weakmaps >= 1 runs it"
    assert r.model_identical and not r.failing and not r.checked
    assert r.exit_code() == exitcodes.NOT_CHECKED
    [u] = [u for u in r.unrun if isinstance(u, UnrunChange)]
    assert (u.host, u.bound) == ("ecma262", "weakmaps") and "WeakMap.prototype.get" in u.algorithms
    assert any("give --bounds weakmaps=1" in w.reason for w in r.unchecked_reasons())
    assert "not run at these bounds: weakmaps >= 1 runs it" in render(r, "text")
    assert render(r, "json").count('"bound": "weakmaps"') == 1
    r = review(str(base), str(reworded), plan, certificates=str(tmp_path / "certs"), cache=cache)
    [c] = [c for c in r.changed if c.name == "WeakMap.prototype.get"]
    assert c.runs_with == ("weakmaps",) and r.unrun == () and r.exit_code() == exitcodes.OK
    # Execution without 1.d (WeakSet elements never emptied): Execution runs at weaksets=0, but its
    # 1.d loop walks WeakSets, of which the model then has none: "model changed, PROVED -> PROVED"
    # passed (fourth review). The changed steps are named, and so is the bound that runs them.
    no_1d = tmp_path / "no-1d.html"
    step = ("          1. For each WeakSet _set_ such that _set_.[[WeakSetData]] contains _value_, do\n"
            "            1. Replace the element of _set_.[[WeakSetData]] whose value is _value_ with an "
            "element whose value is ~empty~.\n")
    assert text.count(step) == 1
    no_1d.write_text(text.replace(step, ""), encoding="utf-8")
    r = review(str(base), str(no_1d), plan, certificates=str(tmp_path / "certs"), cache=cache)
    assert not r.model_identical and not r.failing and r.exit_code() == exitcodes.NOT_CHECKED
    [u] = [u for u in r.unrun if isinstance(u, UnrunChange)]
    assert (u.host, u.bound, u.algorithms, u.in_steps) == ("ecma262", "weaksets", ("Execution",), True)
    assert "Execution changed in steps the model runs only with weaksets >= 1" in u.reason()
    # a harmless live change beside it does not hide it (fifth review: 1.b.i and 1.b.ii swapped, which
    # run in one atomic step), and a rewording inside the dead loop is no change of its form
    swap = ("            1. Set _cell_.[[WeakRefTarget]] to ~empty~.\n"
            "            1. Optionally, perform HostEnqueueFinalizationRegistryCleanupJob(_fg_).\n")
    assert text.count(swap) == 1
    both = tmp_path / "swap-no-1d.html"
    swapped = swap.split("\n")[1] + "\n" + swap.split("\n")[0] + "\n"
    both.write_text(text.replace(step, "").replace(swap, swapped), encoding="utf-8")
    r = review(str(base), str(both), plan, certificates=str(tmp_path / "certs"), cache=cache)
    unrun = [(u.host, u.bound) for u in r.unrun if isinstance(u, UnrunChange)]
    assert unrun == [("ecma262", "weaksets")], r.unrun
    renamed = tmp_path / "renamed-1d.html"
    renamed.write_text(text.replace(step, step.replace("_set_", "_ws_")), encoding="utf-8")
    r = review(str(base), str(renamed), plan, certificates=str(tmp_path / "certs"), cache=cache)
    assert r.unrun == () and r.exit_code() == exitcodes.OK
    # the same with the profile given as a file: the review looked its model up by the path it was
    # given, not by the profile's name, and stopped with StopIteration once HEAD's model changed
    mine = tmp_path / "mine.html"
    mine.write_text((ROOT / "spec" / "hosts" / "ecma262.html").read_text(encoding="utf-8"), encoding="utf-8")
    plan_file.write_text(plan_file.read_text().replace('hosts = ["ecma262"]', f'hosts = ["{mine}"]'))
    r = review(str(base), str(no_1d), load_plan(str(plan_file)), certificates=str(tmp_path / "certs"),
               cache=cache)
    assert [(u.host, u.bound) for u in r.unrun if isinstance(u, UnrunChange)] == [("mine", "weaksets")]
    assert r.exit_code() == exitcodes.NOT_CHECKED
