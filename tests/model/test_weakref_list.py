"""A target's weak-reference list (`_obj_.[[WeakRefRecords]]`, model/loops.py): the QuickJS-NG
profiles' FreeObject walks it as reset_weak_ref's second pass does, newest record first across
registrations and WeakMap records; the order is the engine's, not the model's index order."""

from __future__ import annotations

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.errors import ModelError
from specmc.model.hosts import load_host
from specmc.proofs.cli import main
from specmc.spec.load import load_spec, load_specs

from tests.conftest import FULL
from tests.model.test_bounds_hosts import PROFILE
from tests.model.test_object_graph import _get, _run

WHOLE = FULL / "spec-2025-11-04-e936549f.html"
WALK = "1. For each Record _rec_ of _obj_.[[WeakRefRecords]]{how}\n        1. Free _rec_."
AHEAD = ", reading the next element before the steps run, do"


@pytest.mark.parametrize("host", ["quickjs-ng-0.12", "quickjs-ng-0.13"])
def test_a_map_record_older_than_the_registration_is_released_after_it(host: str) -> None:
    """#1352's actions with `set` before `register`: the registration is the newer record, so the
    second pass visits it first (its registry is still allocated) and only then releases the map
    record's value, which frees the registry. No read of a freed registry under either profile:
    which record comes first is the order they were made in, newest first."""
    p = build(load_specs([WHOLE]), load_host(host), Bounds(weakmaps=1, objects=2, slots=1, symbols=1))
    s, log = _run(p, ["Symbol()", "new WeakMap()", "(built-in returned)",
                      "new FinalizationRegistry(callback)", "(built-in returned)",
                      "obj0.set(sym0, obj1)", "(built-in returned)",
                      "obj1.register(sym0, undefined, undefined)", "(built-in returned)", "drop obj1"])
    assert _get(p, s, "ent_order") == 0  # no cell existed when the entry was made
    s, log = _run(p, ["drop sym0"], s)
    assert _get(p, s, "err_uaf") == 0 and _get(p, s, "qlen") == 1
    assert _get(p, s, "obj_status", 1) == 2 and _get(p, s, "sym_status") == 2
    # the registration's callback read (5.a.i) came before the registry's nested free (8)
    assert log.index("FreeObject 5.a.i") < log.index("FreeObject 8")


def test_newest_registration_first_across_registries() -> None:
    """Two registries watching one object: the registration made last is visited first, whatever
    the registries' slots (the model used to walk registries by slot, oldest cell first)."""
    p = build(load_spec(), load_host("quickjs-ng-0.13"), Bounds(objects=3, cells=2, jobs=2))
    s, _ = _run(p, ["new FinalizationRegistry(callback)", "(built-in returned)",
                    "new FinalizationRegistry(callback)", "(built-in returned)", "allocate {}",
                    "obj1.register(obj2, obj0, undefined)", "(built-in returned)",
                    "obj0.register(obj2, obj1, undefined)", "(built-in returned)"])
    s, _ = _run(p, ["drop obj2"], s)
    lay = p.layout
    assert _get(p, s, "qlen") == 2
    # each job holds its registration's held value: obj1's (registered last) was queued first
    assert [_get(p, s, "queue", q) for q in range(2)] == [lay.obj(1), lay.obj(0)]


def test_a_live_walk_of_the_list_is_refused_at_its_step(tmp_path) -> None:
    """The model walks a weak-reference list only reading ahead, as reset_weak_ref's second pass
    does: another form is a located error (the CLI's exit 2), never a walk in some other order."""
    f = tmp_path / "x.html"
    f.write_text(PROFILE.format(collector="reference counting", step=WALK.format(how=", do")))
    build(load_spec(), load_host(str(f)), Bounds(objects=1))  # nothing reaches the free path yet
    with pytest.raises(ModelError) as e:
        p = build(load_spec(), load_host(str(f)), Bounds(objects=1))
        _run(p, ["allocate {}", "drop obj0"])
    d = e.value.diagnostics[0]
    assert d.loc.line == 7 and d.loc.step == "1" and "reading" in d.message
    f.write_text(PROFILE.format(collector="reference counting", step=WALK.format(how=AHEAD)))
    p = build(load_spec(), load_host(str(f)), Bounds(objects=1))
    _run(p, ["allocate {}", "drop obj0"])


def test_the_cli_says_where(tmp_path, capsys) -> None:
    f = tmp_path / "x.html"
    f.write_text(PROFILE.format(collector="reference counting", step=WALK.format(how=", do")))
    assert main(["explore", "--host", str(f), "--bounds", "objects=1"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith(f"{f}:7:")]
    assert len(err) == 1 and "reading the next element" in err[0]
