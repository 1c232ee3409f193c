"""Properties that can fail: each harmful change to the embedded text is caught by the property
written for it, under the spec's own host at the default bounds. These are the changes an
independent review found every catalogue property blind to."""

from __future__ import annotations

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import explore
from specmc.model.hosts import load_host
from specmc.proofs.properties import CATALOGUE
from specmc.proofs.run.job import predicate
from specmc.spec.load import EMBEDDED, load_spec

MUTANTS = {
    # WeakRefDeref no longer keeps what it returns alive until the end of the turn
    "deref without AddToKeptObjects": (
        "            1. Perform AddToKeptObjects(_target_).\n            1. Return _target_.",
        "            1. Return _target_.",
        "deref-consistent"),
    # deref answers undefined although its target is there
    "deref always undefined": (
        "            1. Perform AddToKeptObjects(_target_).\n            1. Return _target_.",
        "            1. Perform AddToKeptObjects(_target_).\n            1. Return *undefined*.",
        "deref-consistent"),
    # the cleanup job lets the callback's throw escape instead of reporting it
    "cleanup job propagates": (
        "          1. Let _cleanupResult_ be "
        "Completion(CleanupFinalizationRegistry(_finalizationRegistry_)).\n"
        "          1. If _cleanupResult_ is an abrupt completion, perform any host-defined steps for "
        "reporting the error.",
        "          1. Perform ? CleanupFinalizationRegistry(_finalizationRegistry_).",
        "cleanup-job-reports-abrupt"),
    # unregister claims it removed something
    "unregister returns true": (
        "          1. Return _removed_.", "          1. Return *true*.", "unregister-result"),
    # found by an independent review after the first observers read what the text writes:
    # the WeakRef constructor forgets its target (deref answers undefined at once)
    "WeakRef without its target": (
        "          1. Set _weakRef_.[[WeakRefTarget]] to _target_.\n", "", "deref-consistent"),
    # the registration records the held value as its token
    "token is the held value": (
        "[[UnregisterToken]]: _unregisterToken_ }.", "[[UnregisterToken]]: _heldValue_ }.",
        "unregister-result"),
    # the registration swaps target and held value: the callback gets the target
    "target and held value swapped": (
        "{ [[WeakRefTarget]]: _target_, [[HeldValue]]: _heldValue_,",
        "{ [[WeakRefTarget]]: _heldValue_, [[HeldValue]]: _target_,", "delivered-as-registered"),
    # the WeakRef constructor no longer keeps its target alive until the end of the turn (a
    # survivor of `specmc mutate` until the observer counted the constructor's promise too)
    "WeakRef constructor without AddToKeptObjects": (
        "          1. Perform AddToKeptObjects(_target_).\n          1. Set _weakRef_.[[WeakRefTarget]]",
        "          1. Set _weakRef_.[[WeakRefTarget]]", "deref-consistent"),
    # register accepts a held value that is its target (survivors of `specmc mutate` until a
    # property judged the API's TypeErrors against what user code passed)
    "register without the held-value check": (
        "          1. If SameValue(_target_, _heldValue_) is *true*, throw a *TypeError* exception.\n", "",
        "argument-checks"),
    # unregister accepts a token that cannot be held weakly
    "unregister without the token check": (
        "          1. If CanBeHeldWeakly(_unregisterToken_) is *false*, throw a *TypeError* exception.\n", "",
        "argument-checks"),
}


@pytest.mark.parametrize("name", MUTANTS)
def test_mutant_is_killed(name, tmp_path):
    old, new, killer = MUTANTS[name]
    text = EMBEDDED.read_text()
    assert text.count(old) == 1, name
    path = tmp_path / "finreg.html"
    path.write_text(text.replace(old, new))
    program = build(load_spec(path), load_host("ecma262"), Bounds())
    prop = CATALOGUE[killer]
    r = explore(program, {prop.id: predicate(program, prop)}, Bounds().steps)
    assert prop.id in r.violations, f"{name}: {killer} did not notice"


def test_the_unchanged_text_keeps_them():
    program = build(load_spec(), load_host("ecma262"), Bounds())
    props = {k: CATALOGUE[k] for k in ("deref-consistent", "cleanup-job-reports-abrupt", "unregister-result",
                                       "delivered-as-registered")}
    cover = {k: (lambda S, p=p: not bool(p.cover(program, S))) for k, p in props.items()}
    preds = {k: predicate(program, p) for k, p in props.items()}
    r = explore(program, {**preds, **{"cover " + k: f for k, f in cover.items()}}, Bounds().steps)
    assert not set(props) & set(r.violations)
    unreached = {"cover " + k for k in props} - set(r.violations)
    assert not unreached, "a cover is unreachable: the proof would be vacuous"


# the whole spec.html's Execution steps for WeakMaps and WeakSets (an independent review: without
# 1.c every property held, since no-freed-observed looked at no WeakMap entry)
WHOLE_MUTANTS = {
    "Execution without 1.c (WeakMap entries of a collected key)": (
        "          1. For each WeakMap _map_ such that _map_.[[WeakMapData]] contains a Record _r_ such that "
        "_r_.[[Key]] is _value_, do\n            1. Set _r_.[[Key]] to ~empty~.\n"
        "            1. Set _r_.[[Value]] to ~empty~.\n", "", "objects=2,weakmaps=1"),
    "Execution 1.c without its key": (
        "            1. Set _r_.[[Key]] to ~empty~.\n", "", "objects=2,weakmaps=1"),
    "Execution without 1.d (WeakSet elements of a collected value)": (
        "          1. For each WeakSet _set_ such that _set_.[[WeakSetData]] contains _value_, do\n"
        "            1. Replace the element of _set_.[[WeakSetData]] whose value is _value_ with an element "
        "whose value is ~empty~.\n", "", "objects=2,weaksets=1"),
}


@pytest.mark.parametrize("name", WHOLE_MUTANTS)
def test_an_execution_mutant_is_killed_by_no_freed_observed(name, tmp_path):
    from specmc.model.bounds import parse_bounds
    from specmc.spec.load import load_specs

    from tests.conftest import FULL

    old, new, bounds = WHOLE_MUTANTS[name]
    text = (FULL / "spec-2025-11-04-e936549f.html").read_text(encoding="utf-8")
    at = text.index('id="sec-weakref-execution"')
    assert text.find(old, at, at + 4000) != -1, name
    path = tmp_path / "spec.html"
    path.write_text(text[:at] + text[at:].replace(old, new, 1), encoding="utf-8")
    b = parse_bounds(bounds)
    program = build(load_specs([path]), load_host("ecma262"), b)
    prop = CATALOGUE["no-freed-observed"]
    r = explore(program, {prop.id: predicate(program, prop)}, b.steps)
    assert prop.id in r.violations, f"{name}: no-freed-observed did not notice"


@pytest.mark.slow
def test_a_delivery_is_matched_to_its_own_registry():
    """Review 8 (F11): two registries registering one target with the same held value; one
    registry's cleanup delivered, and the observer used up the *other* registry's registration, so
    that registry's own delivery (delivered-as-registered) or unregister (unregister-result) then
    disagreed with it: a false VIOLATED under the spec's own host at objects=2, cells=2. The
    observer now matches the registry that delivers. The unchanged text keeps both properties."""
    from tests.model.searching import search

    program = build(load_spec(), load_host("ecma262"), Bounds(objects=2, cells=2))
    props = [CATALOGUE["unregister-result"], CATALOGUE["delivered-as-registered"]]
    r = search(program, props)
    assert r.complete and not r.violations, r
