"""`observable`, the digest behind the "same behaviour" class of `specmc mutate`: equal for a
reordering the user cannot see, different for a change the user can see."""

from __future__ import annotations

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import explore
from specmc.model.hosts import load_host
from specmc.proofs.review.mutate import SAME, Mutant, Result, Summary, observable
from specmc.spec.load import EMBEDDED, load_spec

SMALL = Bounds(objects=2, frames=4)


def _digest(tmp_path, old: str = "", new: str = "") -> str:
    text = EMBEDDED.read_text()
    if old:
        assert text.count(old) == 1
        text = text.replace(old, new)
    path = tmp_path / "finreg.html"
    path.write_text(text)
    program = build(load_spec(path), load_host("ecma262"), SMALL)
    r = explore(program, {}, SMALL.steps, keep=True)
    assert r.complete
    return observable(program, r.reached)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The unchanged text's digest, which both slow tests compare with (one exploration, not two)."""
    return _digest(tmp_path_factory.mktemp("base"))


@pytest.mark.slow
def test_a_change_user_code_can_see_changes_the_digest(tmp_path, base):
    # deref answers undefined although its target is there: a result user code receives
    kept = "            1. Perform AddToKeptObjects(_target_).\n"
    ret = "            1. Return "
    assert _digest(tmp_path, kept + ret + "_target_.", kept + ret + "*undefined*.") != base
    # the WeakRef constructor no longer adds its target to [[KeptAlive]]: the heap differs
    assert _digest(tmp_path, "          1. Perform AddToKeptObjects(_target_).\n          1. Set _weakRef_.",
                   "          1. Set _weakRef_.") != base


@pytest.mark.slow
def test_reordering_two_independent_steps_keeps_the_digest(tmp_path, base):
    # the constructor's two last effects in the other order: nothing runs in between
    swapped = _digest(tmp_path,
                      "          1. Perform AddToKeptObjects(_target_).\n"
                      "          1. Set _weakRef_.[[WeakRefTarget]] to _target_.\n",
                      "          1. Set _weakRef_.[[WeakRefTarget]] to _target_.\n"
                      "          1. Perform AddToKeptObjects(_target_).\n")
    assert swapped == base


def test_same_behaviour_is_not_counted_in_the_score():
    m = Mutant("swap x 1", "swap", "x", "X", "1", 1, "a", "b", 0, 0, "")
    s = Summary("f", ("ecma262",), "objects=1", (Result(m, SAME), Result(m, "killed")))
    assert s.score == 1.0 and s.to_json()["counts"][SAME] == 1
