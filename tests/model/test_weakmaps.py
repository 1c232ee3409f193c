"""WeakMaps (bound `weakmaps`): the constructor and get/set/has/delete compiled from a whole
spec.html's text, entries as heap Records, ephemeron liveness (an entry keeps its value live only
while the WeakMap and the key are), and Execution 1.c run from the text to clear the entries of
collected keys. At weakmaps=0 the model is the one without WeakMaps, byte for byte."""

from __future__ import annotations

import pytest
from specmc.model.actions import Action, NewWeakMap, Sym, WeakMapDelete, WeakMapGet, WeakMapHas, WeakMapSet
from specmc.model.bounds import Bounds, parse_bounds
from specmc.model.build import build
from specmc.model.explore import successors
from specmc.model.hosts import load_host
from specmc.model.layout import EMPTY, FALSE, FREED, LIVE, THROW, TRUE, UNDEF, WEAKMAP
from specmc.model.program import Program
from specmc.model.symbolic import relation
from specmc.proofs.properties import CATALOGUE
from specmc.spec import ir
from specmc.spec.diagnostics import SpecError
from specmc.spec.load import load_spec, load_specs

from tests.conftest import FULL
from tests.model.searching import assert_relation_admits_exactly, search
from tests.model.test_object_graph import WITHOUT_GRAPH, _get, _program_digest, _relation_digest, _run
from tests.model.test_symbolic import reachable, sample

WHOLE = FULL / "spec-2025-11-04-e936549f.html"  # the text that defines WeakMap (the excerpt does not)
MADE = ["new WeakMap()", "(built-in returned)", "allocate {}", "allocate {}"]


@pytest.fixture(scope="module")
def whole() -> ir.Spec:
    return load_specs([WHOLE])


def _with_maps(spec: ir.Spec, **bounds: int) -> Program:
    return build(spec, load_host("ecma262"), Bounds(**{"weakmaps": 1, **bounds}))


@pytest.mark.parametrize("host", ["ecma262", "quickjs-ng-0.13"])
def test_weakmaps_zero_is_the_model_without_weakmaps(host: str, whole: ir.Spec) -> None:
    """The pinned digests of the program and of the Z3 relation from before WeakMaps existed, from
    the embedded text and from the whole spec.html (which defines WeakMap: at 0 it is not run)."""
    assert Bounds(weakmaps=0) == Bounds() and "weakmaps" not in Bounds(weakmaps=0).describe()
    for spec in (load_spec(), whole):
        p = build(spec, load_host(host), Bounds(weakmaps=0))
        assert not any(name.startswith("ent_") for name, _, _ in p.layout.names)
        assert _program_digest(p) == WITHOUT_GRAPH[host][0]
    assert _relation_digest(p) == WITHOUT_GRAPH[host][1]


@pytest.mark.parametrize(("text", "why"), [("weakmaps=5", "weakmaps=5 is out of range"),
                                           ("weakmaps=-1", "out of range"),
                                           ("weakmaps=x", "weakmaps")])
def test_a_bad_weakmaps_bound_is_a_located_error(text: str, why: str) -> None:
    with pytest.raises(SpecError, match=why):
        parse_bounds(text)


def test_a_text_without_weakmap_is_refused_with_the_bound() -> None:
    """The embedded text (and the clause-set excerpt) has no WeakMap clauses: E089, not a model
    whose WeakMap calls do nothing."""
    with pytest.raises(SpecError) as e:
        build(load_spec(), load_host("ecma262"), Bounds(weakmaps=1))
    d = e.value.diagnostics[0]
    assert d.code == "E089" and d.loc is not None and "WeakMap.prototype.set" in d.message


def test_a_counting_host_whose_free_path_skips_weakmaps_is_refused_there(whole: ir.Spec) -> None:
    """quickjs-ng-0.6's FreeObject says nothing of WeakMap entries: E095 at its free path, not a
    model where freeing a key leaves its entry's value counted forever."""
    with pytest.raises(SpecError) as e:
        build(whole, load_host("quickjs-ng-0.6"), Bounds(weakmaps=1))
    d = e.value.diagnostics[0]
    assert d.code == "E095" and d.loc is not None and d.loc.file.endswith("quickjs-ng-0.6.html")


def test_weakmap_actions_are_values() -> None:
    for action in (NewWeakMap(), WeakMapSet(0, 1, None), WeakMapGet(1, Sym(0)), WeakMapHas(0, Sym(None)),
                   WeakMapDelete(1, 0)):
        assert Action.from_json(action.to_json()) == action
    assert WeakMapSet(0, 1, None).label == "obj0.set(obj1, undefined)"
    assert WeakMapGet(0, Sym(None)).to_json() == {"kind": "WeakMap get", "this": "obj0",
                                                  "key": 'Symbol.for("k")'}


def test_without_the_bound_no_weakmap_actions(whole: ir.Spec) -> None:
    p = build(whole, load_host("ecma262"), Bounds())
    assert not any("WeakMap" in c.name or ".set(" in c.name for c in p.commands)
    names = {c.name for c in _with_maps(whole).commands}
    assert {"new WeakMap()", "obj0.set(obj1, undefined)", "obj1.get(obj0)", "obj0.has(undefined)",
            "obj0.delete(obj0)", "Execution 1.c.i"} <= names


def _ent(p: Program, s: tuple[int, ...]) -> tuple[int, int, int, int]:
    return tuple(_get(p, s, n) for n in ("ent_status", "ent_owner", "ent_key", "ent_value"))  # type: ignore[return-value]


def _ret(p: Program, labels: list[str], s: tuple[int, ...]) -> int:
    """What the built-in the last label calls returns to user code."""
    s, log = _run(p, labels, s)
    s, _ = _run(p, [], s)
    frames = [n for c, n in successors(p, s) if c.name == "(built-in returned)"]
    assert len(frames) == 1
    return _get(p, s, "ret")


def test_the_text_stores_finds_and_deletes_entries(whole: ir.Spec) -> None:
    p = _with_maps(whole, objects=3)
    lay = p.layout
    s, log = _run(p, MADE)
    assert "WeakMap 3" in log and "WeakMap 5" not in log  # no iterable: step 4 returns the map
    assert _get(p, s, "obj_kind", 0) == WEAKMAP
    assert _ret(p, ["obj0.get(obj1)"], s) == UNDEF
    s, log = _run(p, ["obj0.set(obj1, obj2)", "(built-in returned)"], s)
    assert "WeakMap.prototype.set 6" in log  # Append _p_ to _M_.[[WeakMapData]]
    assert _ent(p, s) == (LIVE, lay.obj(0), lay.obj(1), lay.obj(2))
    assert _ret(p, ["obj0.get(obj1)"], s) == lay.obj(2)
    assert _ret(p, ["obj0.has(obj1)"], s) == TRUE
    assert _ret(p, ["obj0.has(obj2)"], s) == FALSE
    # the text's TypeError for a key that cannot be held weakly; get answers undefined for it
    assert _ret(p, ["obj0.set(undefined, obj2)"], s) == THROW
    assert _ret(p, ["obj0.get(undefined)"], s) == UNDEF
    # a second set with the same key overwrites the value (step 4.a.i), taking no new entry
    s2, _ = _run(p, ["obj0.set(obj1, obj1)", "(built-in returned)"], s)
    assert _ent(p, s2) == (LIVE, lay.obj(0), lay.obj(1), lay.obj(1))
    # delete empties the entry (the spec's ~empty~ device) and answers true, then false
    assert _ret(p, ["obj0.delete(obj1)"], s) == TRUE
    s3, _ = _run(p, ["obj0.delete(obj1)", "(built-in returned)"], s)
    assert _ent(p, s3) == (LIVE, lay.obj(0), EMPTY, EMPTY)
    assert _ret(p, ["obj0.delete(obj1)"], s3) == FALSE
    # a WeakMap method on an object without [[WeakMapData]]: RequireInternalSlot's TypeError
    assert _ret(p, ["obj1.get(obj1)"], s) == THROW
    for t in (s, s2, s3):
        assert _get(p, t, "err_uaf") == 0 and _get(p, t, "err_assert") == 0


def _collectable(p: Program, s: tuple[int, ...]) -> set[str]:
    return {c.name for c, _ in successors(p, s) if c.actor == "collector"}


def test_an_entry_keeps_its_value_only_while_map_and_key_are_live(whole: ir.Spec) -> None:
    """Ephemerons: obj0.set(obj1, obj2) with obj2 dropped: obj2 stays live while obj0 and obj1 are;
    with the key obj1 dropped too, or the map dropped, the value is collectable."""
    p = _with_maps(whole, objects=3)
    s, _ = _run(p, [*MADE, "obj0.set(obj1, obj2)", "(built-in returned)", "drop obj2"])
    assert _collectable(p, s) == set()  # map and key held: the value is live
    s2, _ = _run(p, ["obj0.get(obj1)", "(built-in returned)"], s)
    assert _get(p, s2, "root", 2) == 1  # ... and get hands it back
    s3, _ = _run(p, ["drop obj1"], s)
    assert _collectable(p, s3) == {"collector: S = {obj1} is not live", "collector: S = {obj2} is not live",
                                   "collector: S = {obj1, obj2} is not live"}
    s4, _ = _run(p, ["drop obj0"], s)
    assert "collector: S = {obj2} is not live" in _collectable(p, s4)
    # the entry does not keep its key: a key whose value user code holds is collectable
    s5, _ = _run(p, [*MADE, "obj0.set(obj1, obj2)", "(built-in returned)", "drop obj1"])
    assert _collectable(p, s5) == {"collector: S = {obj1} is not live"}


def test_a_map_reachable_only_through_a_live_weakref_keeps_its_values(whole: ir.Spec) -> None:
    """sec-liveness: a WeakRef-oblivious execution with respect to S = {value} derefs the WeakRef
    (the map is not in S), and `get` on the map hands the value back: the value is live, though
    no property and no variable reaches it. Found by an independent review: at slots=0 the
    collector took the value alone, and a later deref and get observed a freed object under the
    spec's own host. Taking the map alone, or with the value, stays allowed."""
    p = _with_maps(whole, objects=3)
    s, _ = _run(p, ["new WeakMap()", "(built-in returned)", "allocate {}", "obj0.set(obj0, obj1)",
                    "(built-in returned)", "new WeakRef(obj0)", "(built-in returned)", "drop obj1",
                    "drop obj0", "return", "event loop: ClearKeptObjects"])
    assert _collectable(p, s) == {"collector: S = {obj0} is not live",
                                  "collector: S = {obj0, obj1} is not live"}
    s, _ = _run(p, ["collector: S = {obj0, obj1} is not live"], s)
    assert _get(p, s, "obj_status", 0) == _get(p, s, "obj_status", 1) == FREED
    # the same with a Symbol as the value: the Symbol stays while the map may be read
    p = _with_maps(whole, objects=2, symbols=1)
    s, _ = _run(p, ["new WeakMap()", "(built-in returned)", "Symbol()", "obj0.set(obj0, sym0)",
                    "(built-in returned)", "new WeakRef(obj0)", "(built-in returned)", "drop sym0",
                    "drop obj0", "return", "event loop: ClearKeptObjects"])
    assert "collector: S = {sym0} is not live" not in _collectable(p, s)
    assert "collector: S = {obj0, sym0} is not live" in _collectable(p, s)


def test_execution_1c_clears_the_entries_of_collected_keys(whole: ir.Spec) -> None:
    p = _with_maps(whole, objects=3)
    lay = p.layout
    s, _ = _run(p, [*MADE, "obj0.set(obj1, obj2)", "(built-in returned)", "drop obj1", "drop obj2"])
    s, log = _run(p, ["collector: S = {obj1} is not live"], s)
    at = log.index("Execution 1.c")
    assert log[at:at + 3] == ["Execution 1.c", "Execution 1.c.i", "Execution 1.c.ii"]
    assert _ent(p, s) == (LIVE, lay.obj(0), EMPTY, EMPTY)
    assert _get(p, s, "obj_status", 1) == FREED
    assert _collectable(p, s) == {"collector: S = {obj2} is not live"}  # nothing keeps the value now
    # a collected WeakMap's entries go with it
    s, _ = _run(p, [*MADE, "obj0.set(obj1, obj2)", "(built-in returned)", "drop obj0",
                    "collector: S = {obj0} is not live"])
    assert _get(p, s, "ent_status") == FREED and _get(p, s, "obj_status", 0) == FREED


def test_a_symbol_key(whole: ir.Spec) -> None:
    """A non-registered Symbol is a key (CanBeHeldWeakly from the text); the registered one is
    refused by set with the text's TypeError. The Symbol's liveness decides the value's."""
    p = _with_maps(whole, objects=2, symbols=1)
    lay = p.layout
    s, _ = _run(p, [*MADE[:3], "Symbol()"])
    assert _ret(p, ['obj0.set(Symbol.for("k"), obj1)'], s) == THROW
    s, _ = _run(p, ["obj0.set(sym0, obj1)", "(built-in returned)", "drop obj1"], s)
    assert _ent(p, s) == (LIVE, lay.obj(0), lay.sym(0), lay.obj(1))
    assert _collectable(p, s) == set()
    s, _ = _run(p, ["drop sym0"], s)
    assert "collector: S = {obj1, sym0} is not live" in _collectable(p, s)
    s, _ = _run(p, ["collector: S = {sym0} is not live"], s)
    assert _ent(p, s) == (LIVE, lay.obj(0), EMPTY, EMPTY)


def test_weakmaps_are_searched_and_leave_the_verdicts_alone(whole: ir.Spec) -> None:
    found = search(_with_maps(whole, objects=2), list(CATALOGUE.values()))
    assert found.complete and found.states > WITHOUT_GRAPH["ecma262"][2]
    assert found.violations == frozenset(WITHOUT_GRAPH["ecma262"][3])


def test_symbolic_relation_admits_exactly_the_concrete_successors_with_weakmaps(whole: ir.Spec) -> None:
    """One semantics: on sampled states where WeakMap entries are made, found, deleted and cleared
    by Execution 1.c, Z3's transition relation has exactly the explorer's successors."""
    program = _with_maps(whole, objects=2, frames=4)
    rel = relation(program)
    seen = reachable(program, 20_000)
    states, kinds = sample(program, seen, 40)
    lay = program.layout
    cleared = sorted(s for s in seen if s[lay.where("ent_status")[0]] == LIVE
                     and s[lay.where("ent_key")[0]] == EMPTY)
    assert cleared and "append" in kinds
    states = sorted(set(states) | set(cleared[:4]))
    assert_relation_admits_exactly(program, rel, states)
