"""WeakSets (bound `weaksets`): the constructor and add/has/delete compiled from a whole
spec.html's text, the [[WeakSetData]] List as heap elements holding values (~empty~ once deleted),
liveness (an element keeps nothing live: sec-liveness), and Execution 1.d run from the text to
replace a collected value's elements with ~empty~. At weaksets=0 the model is the one without
WeakSets, byte for byte."""

from __future__ import annotations

import pytest
from specmc.model.actions import Action, NewWeakSet, Sym, WeakSetAdd, WeakSetDelete, WeakSetHas
from specmc.model.bounds import Bounds, parse_bounds
from specmc.model.build import build
from specmc.model.explore import successors
from specmc.model.hosts import load_host
from specmc.model.layout import EMPTY, FALSE, FREED, LIVE, NONE, PHASE_RUN, THROW, TRUE, WEAKMAP, WEAKSET
from specmc.model.program import Program
from specmc.model.symbolic import relation
from specmc.proofs.properties import CATALOGUE
from specmc.spec import ir
from specmc.spec.diagnostics import SpecError
from specmc.spec.load import load_spec, load_specs

from tests.model.searching import assert_relation_admits_exactly, search
from tests.model.test_object_graph import WITHOUT_GRAPH, _get, _program_digest, _relation_digest, _run
from tests.model.test_symbolic import reachable, sample
from tests.model.test_weakmaps import WHOLE

MADE = ["new WeakSet()", "(built-in returned)", "allocate {}"]


@pytest.fixture(scope="module")
def whole() -> ir.Spec:
    return load_specs([WHOLE])


def _with_sets(spec: ir.Spec, **bounds: int) -> Program:
    return build(spec, load_host("ecma262"), Bounds(**{"weaksets": 1, **bounds}))


@pytest.mark.parametrize("host", ["ecma262", "quickjs-ng-0.13"])
def test_weaksets_zero_is_the_model_without_weaksets(host: str, whole: ir.Spec) -> None:
    """The pinned digests of the program and of the Z3 relation from before WeakSets existed, from
    the embedded text and from the whole spec.html (which defines WeakSet: at 0 it is not run)."""
    assert Bounds(weaksets=0) == Bounds() and "weaksets" not in Bounds(weaksets=0).describe()
    assert "weaksets=1" in Bounds(weaksets=1).describe()
    for spec in (load_spec(), whole):
        p = build(spec, load_host(host), Bounds(weaksets=0))
        assert not any(name.startswith("wse_") for name, _, _ in p.layout.names)
        assert _program_digest(p) == WITHOUT_GRAPH[host][0]
    assert _relation_digest(p) == WITHOUT_GRAPH[host][1]


@pytest.mark.parametrize(("text", "why"), [("weaksets=5", "weaksets=5 is out of range"),
                                           ("weaksets=-1", "out of range"),
                                           ("weaksets=x", "weaksets")])
def test_a_bad_weaksets_bound_is_a_located_error(text: str, why: str) -> None:
    with pytest.raises(SpecError, match=why):
        parse_bounds(text)


def test_a_text_without_weakset_is_refused_with_the_bound() -> None:
    """The embedded text (and the clause-set excerpt) has no WeakSet clauses: E096, not a model
    whose WeakSet calls do nothing."""
    with pytest.raises(SpecError) as e:
        build(load_spec(), load_host("ecma262"), Bounds(weaksets=1))
    d = e.value.diagnostics[0]
    assert d.code == "E096" and d.loc is not None and "WeakSet.prototype.add" in d.message


def test_a_counting_host_whose_free_path_skips_weaksets_is_refused_there(whole: ir.Spec) -> None:
    with pytest.raises(SpecError) as e:
        build(whole, load_host("quickjs-ng-0.6"), Bounds(weaksets=1))
    d = e.value.diagnostics[0]
    assert d.code == "E097" and d.loc is not None and d.loc.file.endswith("quickjs-ng-0.6.html")
    assert "WeakSet elements" in d.message


def test_weakset_actions_are_values() -> None:
    for action in (NewWeakSet(), WeakSetAdd(0, 1), WeakSetHas(1, Sym(0)), WeakSetDelete(0, Sym(None)),
                   WeakSetAdd(1, None)):
        assert Action.from_json(action.to_json()) == action
    assert WeakSetAdd(0, 1).label == "obj0.add(obj1)"
    assert WeakSetDelete(1, Sym(0)).label == "obj1.delete(sym0)"
    assert WeakSetHas(0, Sym(None)).to_json() == {"kind": "WeakSet has", "this": "obj0",
                                                  "value": 'Symbol.for("k")'}


def test_without_the_bound_no_weakset_actions(whole: ir.Spec) -> None:
    p = build(whole, load_host("ecma262"), Bounds())
    assert not any("WeakSet" in c.name or ".add(" in c.name for c in p.commands)
    names = {c.name for c in _with_sets(whole).commands}
    assert {"new WeakSet()", "obj0.add(obj1)", "obj1.has(obj0)", "obj0.delete(undefined)",
            "Execution 1.d.i"} <= names


def _el(p: Program, s: tuple[int, ...], e: int = 0) -> tuple[int, int, int]:
    return tuple(_get(p, s, n, e) for n in ("wse_status", "wse_owner", "wse_value"))  # type: ignore[return-value]


def _ret(p: Program, labels: list[str], s: tuple[int, ...]) -> int:
    """What the built-in the last label calls returns to user code."""
    s, _ = _run(p, labels, s)
    s, _ = _run(p, [], s)
    assert [c.name for c, _ in successors(p, s) if c.name == "(built-in returned)"]
    return _get(p, s, "ret")


def test_the_text_adds_finds_and_deletes_values(whole: ir.Spec) -> None:
    p = _with_sets(whole, weaksets=2)
    lay = p.layout
    s, log = _run(p, MADE)
    assert "WeakSet 4" in log and "WeakSet 5" not in log  # no iterable: step 4 returns the set
    assert _get(p, s, "obj_kind", 0) == WEAKSET
    assert _ret(p, ["obj0.has(obj1)"], s) == FALSE
    s, log = _run(p, ["obj0.add(obj1)", "(built-in returned)"], s)
    assert "WeakSet.prototype.add 5" in log  # Append _value_ to _S_.[[WeakSetData]]
    assert _el(p, s) == (LIVE, lay.obj(0), lay.obj(1))
    assert _ret(p, ["obj0.has(obj1)"], s) == TRUE
    assert _ret(p, ["obj0.has(obj0)"], s) == FALSE
    assert _ret(p, ["obj0.add(obj1)"], s) == lay.obj(0)  # add returns the set ...
    s2, log = _run(p, ["obj0.add(obj1)", "(built-in returned)"], s)
    assert "WeakSet.prototype.add 4.a.i" in log and _el(p, s2, 1)[0] == NONE  # ... and takes no new element
    # the text's TypeError for a value that cannot be held weakly; has answers false for it
    assert _ret(p, ["obj0.add(undefined)"], s) == THROW
    assert _ret(p, ["obj0.has(undefined)"], s) == FALSE
    # delete replaces the element with ~empty~ and answers true, then false
    s3, log = _run(p, ["obj0.delete(obj1)", "(built-in returned)"], s)
    assert "WeakSet.prototype.delete 4.a.i" in log
    assert _el(p, s3) == (LIVE, lay.obj(0), EMPTY)
    assert _ret(p, ["obj0.delete(obj1)"], s3) == FALSE
    assert _ret(p, ["obj0.has(obj1)"], s3) == FALSE
    # added again, the value takes a new element (the emptied one stays, skipped by every walk)
    s4, _ = _run(p, ["obj0.add(obj1)", "(built-in returned)"], s3)
    assert _el(p, s4, 1) == (LIVE, lay.obj(0), lay.obj(1)) and _el(p, s4) == (LIVE, lay.obj(0), EMPTY)
    assert _ret(p, ["obj0.has(obj1)"], s4) == TRUE
    # a WeakSet method on an object without [[WeakSetData]]: RequireInternalSlot's TypeError
    assert _ret(p, ["obj1.add(obj1)"], s) == THROW
    for t in (s, s2, s3, s4):
        assert _get(p, t, "err_uaf") == 0 and _get(p, t, "err_assert") == 0


def _collectable(p: Program, s: tuple[int, ...]) -> set[str]:
    return {c.name for c, _ in successors(p, s) if c.actor == "collector"}


def test_an_element_keeps_nothing_live_and_execution_1d_empties_it(whole: ir.Spec) -> None:
    """sec-liveness: a value held only by a WeakSet is not live; Execution 1.d replaces its element
    with ~empty~ in the same atomic step that collects it, so has() can never see it."""
    p = _with_sets(whole)
    lay = p.layout
    s, _ = _run(p, [*MADE, "obj0.add(obj1)", "(built-in returned)"])
    assert _collectable(p, s) == set()
    s, _ = _run(p, ["drop obj1"], s)
    assert _collectable(p, s) == {"collector: S = {obj1} is not live"}
    s, log = _run(p, ["collector: S = {obj1} is not live"], s)
    at = log.index("Execution 1.d")
    assert log[at:at + 2] == ["Execution 1.d", "Execution 1.d.i"]
    assert _el(p, s) == (LIVE, lay.obj(0), EMPTY)
    assert _get(p, s, "obj_status", 1) == FREED
    assert _get(p, s, "err_uaf") == 0 and _get(p, s, "err_assert") == 0
    # a collected WeakSet's elements go with it; its value stays (user code holds it)
    s, _ = _run(p, [*MADE, "obj0.add(obj1)", "(built-in returned)", "drop obj0",
                    "collector: S = {obj0} is not live"])
    assert _el(p, s) == (FREED, lay.obj(0), lay.obj(1)) and _get(p, s, "obj_status", 1) == LIVE
    assert _collectable(p, s) == set()


def test_a_symbol_value(whole: ir.Spec) -> None:
    """A non-registered Symbol is a value (CanBeHeldWeakly from the text); the registered one is
    refused by add with the text's TypeError. The element does not keep the Symbol live."""
    p = _with_sets(whole, objects=1, symbols=1)
    lay = p.layout
    s, _ = _run(p, [*MADE[:2], "Symbol()"])
    assert _ret(p, ['obj0.add(Symbol.for("k"))'], s) == THROW
    assert _ret(p, ['obj0.has(Symbol.for("k"))'], s) == FALSE
    s, _ = _run(p, ["obj0.add(sym0)", "(built-in returned)"], s)
    assert _el(p, s) == (LIVE, lay.obj(0), lay.sym(0))
    assert _ret(p, ["obj0.has(sym0)"], s) == TRUE
    s, _ = _run(p, ["drop sym0"], s)
    assert _collectable(p, s) == {"collector: S = {sym0} is not live"}
    s, _ = _run(p, ["collector: S = {sym0} is not live"], s)
    assert _el(p, s) == (LIVE, lay.obj(0), EMPTY)


def test_has_and_delete_run_the_receivers_own_method(whole: ir.Spec) -> None:
    """With WeakMaps and WeakSets both in the model, `obj0.has(obj1)` is one call, as in
    JavaScript: WeakSet's method on a WeakSet, WeakMap's on anything else."""
    p = build(whole, load_host("ecma262"), Bounds(objects=2, weakmaps=1, weaksets=1))
    s, _ = _run(p, MADE)
    has = [c for c, _ in successors(p, s) if c.name == "obj0.has(obj1)"]
    assert [c.action.KIND for c in has] == ["WeakSet has"]  # type: ignore[attr-defined]
    s2, _ = _run(p, ["new WeakMap()", "(built-in returned)", "allocate {}"])
    has = [c for c, _ in successors(p, s2) if c.name == "obj0.has(obj1)"]
    assert [c.action.KIND for c in has] == ["WeakMap has"]  # type: ignore[attr-defined]
    assert _ret(p, ["obj0.add(obj1)"], s2) == THROW  # a WeakMap has no [[WeakSetData]]


def test_weaksets_are_searched_and_leave_the_verdicts_alone(whole: ir.Spec) -> None:
    found = search(_with_sets(whole, objects=2), list(CATALOGUE.values()))
    assert found.complete and found.states > WITHOUT_GRAPH["ecma262"][2]
    assert found.violations == frozenset(WITHOUT_GRAPH["ecma262"][3])


@pytest.mark.parametrize("weakmaps", [0, pytest.param(1, marks=pytest.mark.slow)])  # (1: ~20 s)
def test_symbolic_relation_admits_exactly_the_concrete_successors_with_weaksets(whole: ir.Spec,
                                                                               weakmaps: int) -> None:
    """One semantics: on sampled states where WeakSet elements are added, found, deleted and
    emptied by Execution 1.d, Z3's transition relation has exactly the explorer's successors; with
    WeakMaps beside them, has/delete run the receiver's method in both."""
    program = _with_sets(whole, objects=2, frames=4, weakmaps=weakmaps)
    rel = relation(program)
    seen = reachable(program, 20_000)
    states, kinds = sample(program, seen, 40)
    lay = program.layout
    emptied = sorted(s for s in seen if s[lay.where("wse_status")[0]] == LIVE
                     and s[lay.where("wse_value")[0]] == EMPTY)
    assert "append" in kinds and (emptied or weakmaps)
    # with WeakMaps: states where user code may call has/delete on a WeakSet, and on a WeakMap
    kind, root, sp, phase = (lay.where(n)[0] for n in ("obj_kind", "root", "sp", "frame_phase"))
    both = [[s for s in sorted(seen) if s[kind] == k and s[root] == s[root + 1] == 1
             and s[sp] == 1 and s[phase] == PHASE_RUN][:1]
            for k in (WEAKSET, WEAKMAP)] if weakmaps else []
    assert all(any(c.name == "obj0.has(obj1)" for s in b for c, _ in successors(program, s)) for b in both)
    states = sorted(set(states) | set(emptied[:4]) | {s for b in both for s in b})
    assert_relation_admits_exactly(program, rel, states)

