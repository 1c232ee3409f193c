"""Symbols (bound `symbols`): non-registered Symbols as values and weak targets, the registered
`Symbol.for("k")` refused by CanBeHeldWeakly as the text says, Symbols in liveness and in the
collector's set, and on reference-counting hosts a Symbol's free at once. At symbols=0 the model
is the one without Symbols, byte for byte."""

from __future__ import annotations

import pytest
from specmc.model.actions import Action, Drop, NewSymbol, Register, Sym, Unregister
from specmc.model.bounds import Bounds, parse_bounds
from specmc.model.build import build
from specmc.model.explore import successors
from specmc.model.hosts import load_host
from specmc.model.layout import FREED, LIVE, THROW, UNDEF
from specmc.model.symbolic import relation
from specmc.proofs.properties import CATALOGUE
from specmc.spec.diagnostics import SpecError
from specmc.spec.load import load_spec

from tests.model.searching import assert_relation_admits_exactly, search
from tests.model.test_object_graph import WITHOUT_GRAPH, _get, _program_digest, _relation_digest, _run
from tests.model.test_symbolic import reachable, sample

REGISTER = ["new FinalizationRegistry(callback)", "(built-in returned)", "Symbol()"]


@pytest.mark.parametrize("host", ["ecma262", "quickjs-ng-0.13"])
def test_symbols_zero_is_the_model_without_symbols(host: str) -> None:
    """The pinned digests of the program and of the Z3 relation from before Symbols existed."""
    assert Bounds(symbols=0) == Bounds() and "symbols" not in Bounds(symbols=0).describe()
    p = build(load_spec(), load_host(host), Bounds(symbols=0))
    assert not any(name.startswith("sym_") for name, _, _ in p.layout.names)
    assert _program_digest(p) == WITHOUT_GRAPH[host][0]
    assert _relation_digest(p) == WITHOUT_GRAPH[host][1]


@pytest.mark.parametrize(("text", "why"), [
    ("symbols=3", "symbols=3 is out of range"),
    ("objects=8,symbols=1", r"symbols=1 is out of range \(allowed 0..0\)"),  # S's bits: one variable
    ("symbols=-1", "out of range")])
def test_a_bad_symbols_bound_is_a_located_error(text: str, why: str) -> None:
    with pytest.raises(SpecError, match=why):
        parse_bounds(text)


def test_symbol_operands_are_values() -> None:
    for action in (Drop(Sym(1)), Register(0, Sym(0), Sym(None), Sym(None)), Unregister(1, Sym(None)),
                   NewSymbol()):
        assert Action.from_json(action.to_json()) == action
    assert Register(0, Sym(0), None, Sym(None)).label == 'obj0.register(sym0, undefined, Symbol.for("k"))'
    assert Drop(Sym(0)).to_json() == {"kind": "drop", "slot": "sym0"}


def test_without_symbols_no_symbol_actions() -> None:
    p = build(load_spec(), load_host("ecma262"), Bounds())
    assert not any("Symbol" in c.name or "sym" in c.name for c in p.commands
                   if c.actor in ("mutator", "collector"))
    p = build(load_spec(), load_host("ecma262"), Bounds(symbols=1))
    names = {c.name for c in p.commands}
    assert {"Symbol()", "drop sym0", 'new WeakRef(Symbol.for("k"))',
            "collector: S = {obj0, sym0} is not live"} <= names


@pytest.mark.parametrize("call", ['obj0.register(Symbol.for("k"), undefined, undefined)',
                                  'obj0.register(obj1, undefined, Symbol.for("k"))',
                                  'obj0.unregister(Symbol.for("k"))'])
def test_the_registered_symbol_cannot_be_held_weakly(call: str) -> None:
    """CanBeHeldWeakly 2, compiled from the text: KeyForSymbol walks the GlobalSymbolRegistry,
    finds the registered Symbol's entry and returns its [[Key]], so the call throws a TypeError."""
    p = build(load_spec(), load_host("ecma262"), Bounds(symbols=1))
    s, log = _run(p, [*REGISTER, "allocate {}", call])
    assert "KeyForSymbol 1.a" in log and _get(p, s, "ret") == THROW


def test_a_symbol_can_be_held_weakly() -> None:
    p = build(load_spec(), load_host("ecma262"), Bounds(symbols=1))
    s, log = _run(p, [*REGISTER, "obj0.register(sym0, undefined, sym0)"])
    assert "KeyForSymbol 3" in log and _get(p, s, "ret") == UNDEF
    assert _get(p, s, "cell_target") == p.layout.sym(0) == _get(p, s, "cell_token")


def test_a_symbol_target_is_collected_by_a_tracing_collector() -> None:
    """sec-liveness: a Symbol nothing holds is not live (its WeakRef and its registration do not
    keep it); Execution runs with it in S, empties the WeakRef, and queues the cleanup (V8, which
    always performs the Optionally step, so that the run has no choice left)."""
    p = build(load_spec(), load_host("v8"), Bounds(symbols=1))
    s, _ = _run(p, [*REGISTER, "new WeakRef(sym0)", "(built-in returned)",
                    "obj0.register(sym0, undefined, undefined)", "(built-in returned)"])
    assert "collector: S = {sym0} is not live" not in {c.name for c, _ in successors(p, s)}  # held
    s, _ = _run(p, ["drop sym0"], s)
    # kept alive by new WeakRef (AddToKeptObjects) until the next ClearKeptObjects
    assert "collector: S = {sym0} is not live" not in {c.name for c, _ in successors(p, s)}
    s, _ = _run(p, ["return", "event loop: ClearKeptObjects",
                    "event loop: the script runs again (a later task)",
                    "collector: S = {sym0} is not live"], s)
    assert _get(p, s, "sym_status") == FREED and _get(p, s, "obj_target", 1) == 0  # ~empty~
    assert _get(p, s, "qlen") == 1


def test_a_symbols_free_runs_at_once_on_a_counting_host() -> None:
    """QuickJS-NG: dropping the last reference to a Symbol target frees it on the stack of the drop
    (JS_FreeAtomStruct, reset_weak_ref): the registration's callback job is queued by then."""
    p = build(load_spec(), load_host("quickjs-ng-0.13"), Bounds(symbols=1))
    s, log = _run(p, [*REGISTER, "allocate {}", "obj0.register(sym0, obj1, undefined)", "(built-in returned)",
                      "drop sym0"])
    assert any(n.startswith("FreeObject") for n in log)
    assert _get(p, s, "sym_status") == FREED and _get(p, s, "qlen") == 1


def test_a_symbol_released_inside_an_objects_free_is_freed_there() -> None:
    """With an object graph the engine queues an object released during another object's free
    (free_zero_refcount), but a Symbol's free is never queued: the registry's free releases its
    registration's held Symbol, whose free runs above the registry's, before it returns."""
    p = build(load_spec(), load_host("quickjs-ng-0.13"), Bounds(symbols=1, slots=1))
    trail: list = []
    s, _ = _run(p, [*REGISTER, "allocate {}", "obj0.register(obj1, sym0, undefined)", "(built-in returned)",
                    "drop sym0", "drop obj0"], trail=trail)
    lay = p.layout
    code = next(i.code for i in p.algorithms if i.name == "FreeObject")
    x = next(i for i in p.algorithms if i.name == "FreeObject").locals.index("obj")

    def freeing(t: tuple[int, ...]) -> list[int]:
        k = lay.locals_per_frame
        return [t[lay.where("frame_local")[0] + f * k + x] for f in range(t[lay.where("sp")[0]])
                if t[lay.where("frame_alg")[0] + f] == code]

    assert [lay.obj(0), lay.sym(0)] in [freeing(t) for t in trail]  # nested, the Symbol's on top
    assert _get(p, s, "sym_status") == FREED and _get(p, s, "obj_status", 0) == FREED
    assert _get(p, s, "obj_status", 1) == LIVE  # user code still holds the target


@pytest.mark.parametrize("host", ["ecma262", "quickjs-ng-0.13"])
def test_symbols_are_searched_and_leave_the_verdicts_alone(host: str) -> None:
    p = build(load_spec(), load_host(host), Bounds(objects=1, symbols=1))
    found = search(p, list(CATALOGUE.values()))
    assert found.complete and found.states > 0
    # the same verdicts as without Symbols at these bounds (QuickJS-NG's own findings, no new ones)
    without = search(build(load_spec(), load_host(host), Bounds(objects=1)), list(CATALOGUE.values()))
    assert found.violations == without.violations and found.states > without.states


@pytest.mark.parametrize("host", ["ecma262", "quickjs-ng-0.13"])
def test_symbolic_relation_admits_exactly_the_concrete_successors_with_symbols(host: str) -> None:
    """One semantics: on sampled states where Symbols are made, held weakly, dropped and freed, Z3's
    transition relation has exactly the explorer's successors."""
    program = build(load_spec(), load_host(host), Bounds(objects=1, symbols=1, frames=4))
    rel = relation(program)
    seen = reachable(program, 20_000)
    states, _ = sample(program, seen, 40)
    lay = program.layout
    freed = sorted(s for s in seen if s[lay.where("sym_status")[0]] == FREED)
    assert freed
    states = sorted(set(states) | set(freed[:4]))
    assert_relation_admits_exactly(program, rel, states)
