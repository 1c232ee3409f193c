"""`specmc mutate` end to end: mutants of real steps, each classified, survivors shown, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

from specmc.proofs import exitcodes

from tests.conftest import ROOT

UNREGISTER = "sec-finalization-registry.prototype.unregister"


def specmc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "specmc.proofs", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)


def test_mutants_of_unregister_are_classified(tmp_path):
    out = tmp_path / "m.json"
    r = specmc("mutate", "--clause", UNREGISTER, "--operator", "delete", "--bounds", "objects=1",
               "--format", "json", "--out", str(out))
    assert r.returncode == exitcodes.OK, r.stderr
    doc = json.loads(out.read_text())
    by_step = {m["step"]: m for m in doc["mutants"]}
    assert set(by_step) == {"1", "2", "3", "4", "5", "5.a", "5.a.i", "5.a.ii", "6"}
    # deleting the step that sets _removed_ to true: unregister answers false after removing
    assert by_step["5.a.ii"]["outcome"] == "killed" and by_step["5.a.ii"]["killer"] == "unregister-result"
    # deleting the loop: registrations with the token stay behind
    assert by_step["5"]["outcome"] == "killed"
    # deleting the Let that defines _finalizationRegistry_ leaves a text the model cannot run
    assert by_step["1"]["outcome"] == "invalid" and "not defined" in by_step["1"]["detail"]
    counts = doc["counts"]
    assert sum(counts.values()) == 9
    # the receiver and token checks (steps 2-3): argument-checks judges them against what user
    # code passed (they survived until it did)
    assert by_step["3"]["outcome"] == "killed" and by_step["3"]["killer"] == "argument-checks"
    assert by_step["2"]["outcome"] == "killed"
    assert doc["score"] == 1.0
    assert all(m["before"] for m in doc["mutants"])


def test_min_score_and_bad_operator(tmp_path):
    # at one object nothing can observe the WeakRef constructor's AddToKeptObjects: a survivor
    r = specmc("mutate", "--clause", "sec-weak-ref-target", "--operator", "delete", "--bounds", "objects=1",
               "--min-score", "1", "--out", str(tmp_path / "m.txt"))
    assert r.returncode == exitcodes.FINDING
    text = (tmp_path / "m.txt").read_text()
    assert "survived" in text and "was:" in text and "killed" in text
    bad = specmc("mutate", "--operator", "shuffle")
    assert bad.returncode == exitcodes.INPUT_ERROR
    assert "shuffle" in bad.stderr and "Traceback" not in bad.stderr


def test_a_clause_that_mutates_nothing_is_bad_input_not_a_pass():
    """Fourth review: a misspelt --clause, or one the model does not run at these bounds (the
    embedded text has no WeakMap; a parent clause holds no algorithm of its own), mutated nothing
    and exited 0, even with --min-score 1."""
    for clause, say in (("sec-nope", "no clause with id 'sec-nope'"),
                        ("sec-finalization-registry-objects", "none of those is written in it")):
        r = specmc("mutate", "--clause", UNREGISTER, "--clause", clause, "--bounds", "objects=1",
                   "--min-score", "1")
        assert r.returncode == exitcodes.INPUT_ERROR, r.stderr
        assert "E030" in r.stderr and say in r.stderr and "Traceback" not in r.stderr


def test_a_min_score_nothing_counted_towards_is_not_checked():
    """ClearKeptObjects at objects=1: every mutant is of the same behaviour (nothing to count), so the
    score is n/a; with --min-score that is not a pass (exit 4), without it mutate just reports."""
    args = ("mutate", "--clause", "sec-clear-kept-objects", "--bounds", "objects=1", "--format", "json")
    r = specmc(*args, "--min-score", "0.9")
    assert json.loads(r.stdout)["score"] is None, r.stdout
    assert r.returncode == exitcodes.NOT_CHECKED and "not checked" in r.stderr
