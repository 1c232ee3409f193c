"""`weak-collection-results`: what WeakMap and WeakSet methods answer, judged against observers of
the calls user code made (model/mutator.py `_observe_weak`), never against the entries the text
writes. Each harmful change below to a whole spec.html's WeakMap / WeakSet steps passed every
other catalogue property (an independent review's mutants, and `specmc mutate`); this property
catches each under the spec's own host, and the unchanged text keeps it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from specmc.model.bounds import Bounds, parse_bounds
from specmc.model.build import build, host_notes
from specmc.model.explore import explore
from specmc.model.hosts import load_host
from specmc.model.program import Program
from specmc.proofs.properties import CATALOGUE
from specmc.proofs.run.job import cover_predicate, predicate
from specmc.spec.load import load_specs

from tests.conftest import FULL

WHOLE = FULL / "spec-2025-11-04-e936549f.html"
PROP = CATALOGUE["weak-collection-results"]
SMALL = "objects=1,weakmaps=1,weaksets=1,frames=3"  # the map is its own key: set(obj0, obj0)

# (clause, text, replacement, bounds): the first occurrence of the text after the clause's id
MUTANTS = {
    "WeakMap get answers undefined": (
        "sec-weakmap.prototype.get", "is *true*, return _p_.[[Value]].", "is *true*, return *undefined*.",
        SMALL),
    "WeakMap get without its receiver check": (
        "sec-weakmap.prototype.get",
        "          1. Perform ? RequireInternalSlot(_M_, [[WeakMapData]]).\n", "",
        "objects=2,weakmaps=1,frames=3"),
    "WeakMap delete keeps the key": (
        "sec-weakmap.prototype.delete", "              1. Set _p_.[[Key]] to ~empty~.\n", "", SMALL),
    "WeakMap has answers true for a missing key": (
        "sec-weakmap.prototype.has", "is *true*, return *true*.\n          1. Return *false*.",
        "is *true*, return *true*.\n          1. Return *true*.", SMALL),
    "WeakMap set accepts a registered Symbol": (
        "sec-weakmap.prototype.set",
        "          1. If CanBeHeldWeakly(_key_) is *false*, throw a *TypeError* exception.\n", "",
        "objects=1,weakmaps=1,symbols=1,frames=3"),
    "WeakSet has answers true for a missing value": (
        "sec-weakset.prototype.has", "is *true*, return *true*.\n          1. Return *false*.",
        "is *true*, return *true*.\n          1. Return *true*.", SMALL),
    "WeakSet delete keeps the value": (
        "sec-weakset.prototype.delete",
        "              1. Replace the element of _S_.[[WeakSetData]] whose value is _e_ with an element "
        "whose value is ~empty~.\n", "", SMALL),
    "WeakSet add appends nothing": (
        "sec-weakset.prototype.add", "          1. Append _value_ to _S_.[[WeakSetData]].\n", "", SMALL),
}


@pytest.fixture(scope="module")
def whole_text() -> str:
    return WHOLE.read_text(encoding="utf-8")


def _search(path: Path, bounds: str, props: dict) -> tuple:
    b = parse_bounds(bounds)
    program = build(load_specs([path]), load_host("ecma262"), b)
    preds = {name: make(program) for name, make in props.items()}
    return program, explore(program, preds, b.steps)


@pytest.mark.parametrize("name", MUTANTS)
def test_a_mutant_of_the_methods_is_caught(name: str, whole_text: str, tmp_path: Path) -> None:
    clause, old, new, bounds = MUTANTS[name]
    at = whole_text.index(f'id="{clause}"')
    assert whole_text.find(old, at, at + 3000) != -1, name
    path = tmp_path / "spec.html"
    path.write_text(whole_text[:at] + whole_text[at:].replace(old, new, 1), encoding="utf-8")
    _, r = _search(path, bounds, {PROP.id: lambda p: predicate(p, PROP)})
    assert PROP.id in r.violations, f"{name}: {PROP.id} did not notice"


def test_the_unchanged_text_keeps_it_and_reaches_its_cover() -> None:
    """The whole search at these bounds (complete: no bound is hit) finds no wrong answer, and a
    method does answer about a key its receiver holds (so the PROVED is not vacuous)."""
    def uncovered(program: Program) -> Callable[[tuple[int, ...]], bool]:
        cover = cover_predicate(program, PROP)
        return lambda s: not cover(s)

    _, r = _search(WHOLE, SMALL, {PROP.id: lambda p: predicate(p, PROP), "cover": uncovered})
    assert PROP.id not in r.violations and r.complete
    assert "cover" in r.violations


def test_without_weak_collections_it_reads_nothing() -> None:
    """At weakmaps=weaksets=0 no observer exists and the property is true by construction (the
    report calls such a PROVED vacuous); the rows at weakmaps or weaksets >= 1 no longer carry a
    note that their answers are unjudged."""
    program = build(load_specs([WHOLE]), load_host("ecma262"), Bounds())
    assert not any(name.startswith("wk_") for name, _, _ in program.layout.names)
    assert predicate(program, PROP)(program.init)
    for b in (Bounds(weaksets=1), Bounds(weakmaps=1)):
        assert host_notes(load_host("ecma262"), b) == ()
