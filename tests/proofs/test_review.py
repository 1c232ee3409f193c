"""`specmc review` over real ECMA-262 history: model identity by normal form, and verdicts on
both sides of a change."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from proofs.plan import load_plan
from proofs.review import Review, review

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "ecma262"
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

# Editorial rows whose steps really change meaning for the model (README, "Spec-change review"):
# d4069b34 binds _cell_ in Execution step 1.b (unbound before, so the old step cannot run) and
# declares _callback_ in CleanupFinalizationRegistry ("Set" of an undeclared name before);
# 7575f745 returns ~unused~ where NormalCompletion(~empty~) was returned (a different value in the
# cleanup job's local) and deletes the Assert in HostMakeJobCallback.
MEANING_CHANGED = {
    "d4069b34": {"ecma262": {"CleanupFinalizationRegistry", "Execution"}},
    "7575f745": {"ecma262": {"CleanupFinalizationRegistry", "HostMakeJobCallback", "cleanupJob"},
                 "quickjs-ng-0.5": {"HostMakeJobCallback"}},
}
# Normative rows that do not touch what the model runs, and why (README): cleanupSome is not in
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


def test_normative_rows_that_touch_the_model_are_model_changed(history: list[tuple[str, Review]]) -> None:
    kinds = _kinds()
    for sha, r in history:
        if kinds.get(sha, "").startswith("Normative") or kinds.get(sha) == "Layering":
            assert r.model_identical == (sha in NORMATIVE_UNTOUCHED), sha
    # the change that made the hook a job closure changes the reference host's model there
    r = dict(history)["61f79507"]
    assert {"CleanupFinalizationRegistry", "cleanupJob"} <= set(
        next(m for m in r.models if m.host == "ecma262").changed)


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


@pytest.mark.parametrize("base,head,expected", [
    ("spec-2021-03-15-3cd00d74.html", "spec-2021-03-17-06357938.html",
     {"FinalizationRegistry", "CleanupFinalizationRegistry"}),
    ("spec-2021-07-19-ee2d7909.html", "spec-2021-07-21-61f79507.html",
     {"HostEnqueueFinalizationRegistryCleanupJob", "CleanupFinalizationRegistry"}),
])
def test_whole_spec_files(plan, cache: dict, tmp_path: Path, base: str, head: str,
                          expected: set[str]) -> None:
    r = review(str(FULL / base), str(FULL / head), plan, certificates=str(tmp_path), cache=cache)
    names = {c.name for c in r.changed}
    assert expected <= names
    assert not r.model_identical
    assert all(c.in_model for c in r.changed if c.name in expected)
    assert not any(o.reason.startswith("internal error") for v in r.verdicts for o in (v.base, v.head))


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
