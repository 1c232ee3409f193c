"""WeakMaps on the reference-counting QuickJS-NG profiles (bound `weakmaps` with `slots`): an entry
counts its value, not its key; freeing a key runs FreeObject's step 3 (reset_weak_ref's records of
kind JS_WEAK_REF_KIND_MAP: unlink, then release the value), freeing a WeakMap its step 5
(js_map_finalizer), and the text's `delete` releases the value; each release may free the value
and what it alone held, at once from a built-in or a Symbol's free, queued inside an object's."""

from __future__ import annotations

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.hosts import load_host
from specmc.model.layout import EMPTY, FREED, LIVE
from specmc.model.program import Program
from specmc.spec import ir
from specmc.spec.load import load_specs

from tests.conftest import FULL
from tests.model.test_object_graph import _get, _run

WHOLE = FULL / "spec-2025-11-04-e936549f.html"
MADE = ["new WeakMap()", "(built-in returned)", "allocate {}", "allocate {}",
        "obj0.set(obj1, obj2)", "(built-in returned)"]


@pytest.fixture(scope="module")
def whole() -> ir.Spec:
    return load_specs([WHOLE])


def _program(spec: ir.Spec, host: str) -> Program:
    return build(spec, load_host(host), Bounds(weakmaps=1, objects=3, slots=1))


def _ent(p: Program, s: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(_get(p, s, n) for n in ("ent_status", "ent_owner", "ent_key", "ent_value"))


def _objs(p: Program, s: tuple[int, ...]) -> list[int]:
    return [_get(p, s, "obj_status", i) for i in range(3)]


@pytest.mark.parametrize("host", ["quickjs-ng-0.12", "quickjs-ng-0.13"])
def test_a_freed_key_releases_its_entry_value(host: str, whole: ir.Spec) -> None:
    """The entry keeps its value allocated after user code dropped it (js_dup on set) and not its
    key; the key's free unlinks the entry and releases the value, whose free is queued behind it."""
    p = _program(whole, host)
    lay = p.layout
    s, _ = _run(p, [*MADE, "drop obj2"])
    assert _ent(p, s) == (LIVE, lay.obj(0), lay.obj(1), lay.obj(2))
    assert _objs(p, s) == [LIVE, LIVE, LIVE]  # the entry counts obj2
    s, log = _run(p, ["drop obj1"], s)
    assert log.index("FreeObject 3.b") < log.index("FreeObject 6")  # the key's free releases first
    assert log.count("FreeObject 6") == 2  # then obj2's own free, queued while obj1's ran
    assert _ent(p, s) == (LIVE, lay.obj(0), EMPTY, EMPTY)
    assert _objs(p, s) == [LIVE, FREED, FREED]


@pytest.mark.parametrize("host", ["quickjs-ng-0.12", "quickjs-ng-0.13"])
def test_a_freed_weakmap_releases_its_values_and_its_entries(host: str, whole: ir.Spec) -> None:
    p = _program(whole, host)
    s, _ = _run(p, [*MADE, "drop obj2", "drop obj0"])
    assert _objs(p, s) == [FREED, LIVE, FREED]  # the key lives on; the value went with the map
    assert _get(p, s, "ent_status") == FREED


def test_delete_releases_the_value_at_once(whole: ir.Spec) -> None:
    """map_delete_record's JS_FreeValueRT from a built-in: gc_phase NONE, the value is freed above
    delete's frame before delete returns."""
    p = _program(whole, "quickjs-ng-0.13")
    lay = p.layout
    s, _ = _run(p, [*MADE, "drop obj2"])
    s, log = _run(p, ["obj0.delete(obj1)"], s)
    assert "FreeObject 6" in log and log.index("FreeObject 6") < log.index("(built-in returned)") \
        if "(built-in returned)" in log else "FreeObject 6" in log
    assert _ent(p, s)[2:] == (EMPTY, EMPTY)
    assert _objs(p, s) == [LIVE, LIVE, FREED]
    assert lay.obj(2) not in _ent(p, s)
