"""QuickJS-NG v0.12.1 and v0.13.0 as PyPI ships them (quickjs-ng 0.12.1.1, 0.13.0.1).

Two kinds of replay, both in docs/findings.md: the witnesses of the violations the profiles
report (the engines answer as their profiles say; among them the unregister cascade's use after
free, from the model's own run), and small programs for the engine bugs, with what each version
does. Every program is deterministic on these pinned
builds (a use after free that lands on freed memory glibc has already reused).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from specmc.proofs.cli import main

from tests.proofs.witness.test_replay import needs_network, needs_node

OLD, NEW = "quickjs-ng@0.12.1.1", "quickjs-ng@0.13.0.1"

_HEAD = "var out = typeof print === 'function' ? print : console.log;\n"
_TAIL = "out('witness: result timing=never');\nglobalThis.witnessDone = true;\n"

# A WeakRef keeps nothing alive: its target goes in the same synchronous run (ECMA-262: kept
# until ClearKeptObjects). What the model reports as `deref-consistent` VIOLATED.
KEPT = _HEAD + """let t = {};
const w = new WeakRef(t);
t = null;
out('deref: ' + typeof w.deref());
""" + _TAIL

# A registry whose last reference is another registration's unregister token, both watching one
# Symbol: v0.12.1's reset_weak_ref frees the registry while releasing the token, then reads it
# through fre->obj (fixed by 8f62384 in v0.13.0). Symbols are freed at once, not deferred.
SYMBOL_TOKEN = _HEAD + """let key = Symbol('k');
let fr2 = new FinalizationRegistry(h => out('cleanup ' + h));
fr2.register(key, 'two');
let fr1 = new FinalizationRegistry(h => out('cleanup ' + h));
fr1.register(key, 'one', fr2);
fr2 = null;
key = null;
""" + _TAIL

# The same with an object target: a free inside free_zero_refcount is deferred to its list, so
# the registry outlives the walk on both versions.
OBJECT_TOKEN = SYMBOL_TOKEN.replace("Symbol('k')", "{}")

# quickjs-ng issue #1352: the registry is a WeakMap value under the same Symbol.
WEAKMAP_VALUE = _HEAD + """let key = Symbol('k');
let wm = new WeakMap();
let fr = new FinalizationRegistry(h => out('cleanup ' + h));
fr.register(key, 42);
wm.set(key, fr);
fr = null;
key = null;
""" + _TAIL

# quickjs-ng issue #1318 (fixed by 78494db in v0.13.0): registry and target in a cycle, the
# registry its own held value; the runner collects cycles between jobs.
CYCLE = _HEAD + """(function () {
  let target = {};
  let fr = new FinalizationRegistry(h => out('cleanup'));
  fr.register(target, fr);
  fr.ref = target;
  target.ref = fr;
})();
""" + _TAIL

# unregister(K) releases E1's held value H, the only reference to E2's target: H's free frees E2,
# which js_finrec_unregister's list_for_each_safe already holds as its next element (AddressSanitizer:
# heap-use-after-free in js_finrec_unregister, freed by js_finrec_free <- reset_weak_ref <-
# free_object <- ... <- js_finrec_free <- js_finrec_unregister). Present at both tags and in
# quickjs-ng 0.17.0.2. The model shows it too (UNREGISTER_RUN below).
UNREGISTER_CASCADE = _HEAD + """let R = new FinalizationRegistry(h => out('cleanup ' + h));
let A = {}, H = {}, K = {};
R.register(A, H, K);
R.register(H, 'e2');
H = null;
out('unregister: ' + R.unregister(K));
""" + _TAIL

PROGRAMS = {"kept": KEPT, "symbol-token": SYMBOL_TOKEN, "object-token": OBJECT_TOKEN,
            "weakmap-value": WEAKMAP_VALUE, "cycle": CYCLE, "unregister-cascade": UNREGISTER_CASCADE}


def _replay(path: Path, engine: str, engines_dir: Path, capsys: pytest.CaptureFixture) -> dict:
    capsys.readouterr()
    assert main(["replay", str(path), "--on", engine, "--format", "json", "--engines-dir", str(engines_dir),
                 "--timeout", "120"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["engine"] == engine
    return doc


@needs_network
@pytest.mark.slow
@pytest.mark.parametrize(("program", "engine", "outcome", "shows"), [
    ("kept", OLD, "never", "deref: undefined"),
    ("kept", NEW, "never", "deref: undefined"),
    pytest.param("kept", "node", "never", "deref: object", marks=needs_node),
    ("symbol-token", OLD, "crash", ""),
    ("symbol-token", NEW, "never", "cleanup one\ncleanup two\n"),
    ("object-token", OLD, "never", "cleanup one\ncleanup two\n"),
    ("object-token", NEW, "never", "cleanup one\ncleanup two\n"),
    ("weakmap-value", OLD, "crash", ""),
    ("weakmap-value", NEW, "never", "cleanup 42"),
    ("cycle", OLD, "crash", ""),
    ("cycle", NEW, "never", ""),
    ("unregister-cascade", OLD, "crash", ""),
    ("unregister-cascade", NEW, "crash", ""),
])
def test_engine_programs(tmp_path: Path, engines_dir: Path, capsys: pytest.CaptureFixture, program: str,
                         engine: str, outcome: str, shows: str) -> None:
    path = tmp_path / f"{program}.js"
    path.write_text(PROGRAMS[program], encoding="utf-8")
    doc = _replay(path, engine, engines_dir, capsys)
    assert doc["outcome"] == outcome, doc["output"]
    assert (doc["exit_code"] == 139) == (outcome == "crash"), doc  # a segfault, not another failure
    assert shows in doc["output"]


# The unregister cascade as the model runs it (spec/hosts/quickjs-ng-0.13.html, unregister's loop
# reading ahead as js_finrec_unregister's list_for_each_safe does, quickjs.c v0.13.0 line 59807):
# the mutator's actions, every other step being the only one enabled, up to the use after free.
UNREGISTER_RUN = ["new FinalizationRegistry(callback)", "(built-in returned)", "allocate {}", "allocate {}",
                  "obj0.register(obj1, obj2, obj1)", "(built-in returned)",
                  "obj0.register(obj2, undefined, undefined)", "(built-in returned)", "drop obj2",
                  "obj0.unregister(obj1)"]


def _model_run(program, labels: list[str]) -> list:
    """The model's run of the mutator actions `labels`, every other step being the only one
    enabled, up to its first use after free (`err_uaf`), or, with none, until user code is on
    top again after the last action: the path, as (command, state) pairs."""
    from specmc.model.explore import successors

    uaf = program.layout.where("err_uaf")[0]
    s = program.init
    path: list = [(None, s)]
    todo = list(labels)
    while not s[uaf]:
        succ = successors(program, s)
        chosen = [(c, n) for c, n in succ if todo and c.name == todo[0]]
        if chosen:
            todo.pop(0)
        else:
            chosen = [(c, n) for c, n in succ if c.actor not in ("mutator", "collector", "event-loop")]
            if not chosen and not todo:
                break  # user code (or the event loop) is next: the run is over
            assert len(chosen) == 1, sorted(c.name for c, _ in succ)
        path.append(chosen[0])
        s = chosen[0][1]
    assert not todo
    return path


def _witness(program, host: str, path: list, objects: int, symbols: int = 0) -> str:
    """The witness program of a model run, written by the generator `specmc witness` uses."""
    from specmc.model.trace import build_trace
    from specmc.proofs.witness.witness import generate

    trace = [t.to_json() for t in build_trace(program, path)]
    return generate(trace, host, "no-freed-observed", objects, symbols).source


def _model_witness(host: str) -> tuple[str, int]:
    """The witness program of the model's run of UNREGISTER_RUN up to its first use after free,
    written by the generator `specmc witness` uses, and the run's length in transitions. An
    exhaustive search does not reach this run's depth at these bounds (docs/findings.md)."""
    from specmc.model.bounds import Bounds
    from specmc.model.build import build
    from specmc.model.hosts import load_host
    from specmc.spec.load import load_spec

    program = build(load_spec(), load_host(host), Bounds(objects=3, cells=2, frames=3, slots=1))
    path = _model_run(program, UNREGISTER_RUN)
    assert path[-1][0].name == "FinalizationRegistry.prototype.unregister 5 (next)"
    return _witness(program, host, path, 3), len(path) - 1


def test_the_model_runs_the_unregister_cascade_into_a_use_after_free() -> None:
    """Both profiles reach the use after free in the same run, and its witness is the program of
    UNREGISTER_CASCADE (with the target as the token)."""
    w12, n12 = _model_witness("quickjs-ng-0.12")
    w13, n13 = _model_witness("quickjs-ng-0.13")
    assert n12 == n13 == 79  # the held value's free unlinks its registration in a first pass, then frees it
    assert w12.split("\n", 1)[1] == w13.split("\n", 1)[1]
    body = w13[w13.index("function script()"):w13.index("script();")]
    for code in ("obj0 = new FinalizationRegistry(callback);", "obj0.register(obj1, obj2, obj1);",
                 "obj0.register(obj2, undefined, undefined);", "obj2 = undefined;", "obj0.unregister(obj1)"):
        assert code in body


@needs_network
@pytest.mark.slow
@pytest.mark.parametrize(("host", "engine"), [("quickjs-ng-0.12", OLD), ("quickjs-ng-0.13", NEW)])
def test_the_unregister_witness_crashes_both_versions(tmp_path: Path, engines_dir: Path,
                                                      capsys: pytest.CaptureFixture, host: str,
                                                      engine: str) -> None:
    """The model's witness segfaults inside unregister (nothing printed: the call never returns)."""
    path = tmp_path / f"{host}-unregister.js"
    path.write_text(_model_witness(host)[0], encoding="utf-8")
    doc = _replay(path, engine, engines_dir, capsys)
    assert doc["outcome"] == "crash" and doc["exit_code"] == 139, doc
    assert "witness: returned" not in doc["output"]


@needs_node
@pytest.mark.slow
def test_the_unregister_witness_on_node(tmp_path: Path, engines_dir: Path,
                                        capsys: pytest.CaptureFixture) -> None:
    """Node (a tracing collector, no cascade): unregister returns true."""
    path = tmp_path / "unregister.js"
    path.write_text(_model_witness("quickjs-ng-0.13")[0], encoding="utf-8")
    doc = _replay(path, "node", engines_dir, capsys)
    assert "witness: returned call=obj0.unregister(obj1) value=true" in doc["output"], doc


@pytest.fixture(scope="module")
def cycle_witness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`specmc witness` for #1318: quickjs-ng-0.12's shortest no-freed-observed counterexample at
    objects=2,cells=1,slots=1, in which gc_free_cycles frees the callback first (docs/findings.md)."""
    tmp = tmp_path_factory.mktemp("cycle")
    path = tmp / "quickjs-ng-0.12-cycle.js"
    assert main(["witness", "--host", "quickjs-ng-0.12", "--property", "no-freed-observed", "--bounds",
                 "objects=2,cells=1,slots=1", "--out", str(path), "--certificates", str(tmp / "certs")]) == 0
    return path


@needs_network
@pytest.mark.slow
@pytest.mark.parametrize("engine", [OLD, NEW])
def test_the_cycle_witness_from_the_model(cycle_witness: Path, engines_dir: Path,
                                          capsys: pytest.CaptureFixture, engine: str) -> None:
    """With function objects (callbacks counted as quickjs.c counts them) the shortest trace is
    #1318's callback half: the registry watches its own callback and is its own token, so both
    leak by counts; gc_free_cycles frees the callback first (gc_decref reaches its count 0 at the
    registry's js_finrec_mark), and v0.12.1's reset_weak_ref queues a job holding it (it tests the
    held value only). 0.12.1.1 then runs that job on the freed function, whose memory a native
    `resolve` function has reused by then (a TypeError from `resolve`, never the witness's callback);
    0.13.0.1 (78494db tests the callback too) queues nothing. What the freed memory holds depends
    on the allocator (`resolve` here 8 times of 8), and so does the end: an error, a SIGSEGV or none."""
    text = cycle_witness.read_text(encoding="utf-8")
    assert "obj0 = function fobj0(held)" in text and "obj1 = new FinalizationRegistry(obj0);" in text
    assert "obj1.register(obj0, undefined, obj1);" in text and "gc();" in text
    doc = _replay(cycle_witness, engine, engines_dir, capsys)
    if engine == OLD:
        assert "JS exception in job 1" in doc["output"] and "at resolve (native)" in doc["output"], doc
        assert "witness: cleanup" not in doc["output"], doc
        # after it: an error (exit 3), a SIGSEGV (139) or a clean end (0), with the allocator
        assert (doc["outcome"], doc["exit_code"]) in {("crash", 3), ("crash", 139), ("never", 0)}, doc
    else:
        assert doc["outcome"] == "never" and doc["exit_code"] == 0, doc
        assert "witness: cleanup" not in doc["output"] and "calls=0" in doc["output"], doc
        assert "JS exception" not in doc["output"], doc


@pytest.fixture(scope="module")
def witnesses(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """The profiles' own witnesses for the two violations a one-object program shows."""
    tmp = tmp_path_factory.mktemp("versions")
    out = {}
    for host in ("quickjs-ng-0.12", "quickjs-ng-0.13"):
        for prop in ("unregister-result", "argument-checks"):
            path = tmp / f"{host}-{prop}.js"
            assert main(["witness", "--host", host, "--property", prop, "--bounds", "objects=1,frames=5",
                         "--out", str(path), "--certificates", str(tmp / "certs")]) == 0
            out[(host, prop)] = path
    return out


@needs_network
@pytest.mark.slow
@pytest.mark.parametrize("host,engine", [("quickjs-ng-0.12", OLD), ("quickjs-ng-0.12", NEW),
                                         ("quickjs-ng-0.13", NEW), ("quickjs-ng-0.13", OLD)])
def test_each_profiles_witnesses_on_both_versions(witnesses: dict[tuple[str, str], Path],
                                                  engines_dir: Path, capsys: pytest.CaptureFixture,
                                                  host: str, engine: str) -> None:
    """Both versions answer as both profiles say: unregister(token) is false for the registration
    register() skipped, and register(registry, registry) returns instead of throwing."""
    doc = _replay(witnesses[(host, "unregister-result")], engine, engines_dir, capsys)
    assert "witness: returned call=obj0.unregister(obj0) value=false model=false\n" in doc["output"]
    doc = _replay(witnesses[(host, "argument-checks")], engine, engines_dir, capsys)
    assert "obj0.register(obj0, obj0, undefined)" in witnesses[(host, "argument-checks")].read_text()
    assert doc["outcome"] == "never" and "witness: threw" not in doc["output"], doc["output"]


@needs_network
@pytest.mark.slow
@pytest.mark.parametrize(("host", "engine"), [("quickjs-ng-0.12", OLD), ("quickjs-ng-0.13", NEW)])
def test_the_deref_consistent_witness_shows_the_freed_target(tmp_path: Path, engines_dir: Path,
                                                             capsys: pytest.CaptureFixture, host: str,
                                                             engine: str) -> None:
    """The profiles' deref-consistent counterexample ends in a state (the target freed by the drop
    in the turn `new WeakRef` promised to keep it); the witness then asks the WeakRef, and both
    versions answer undefined where the spec (and node) answer the object."""
    path = tmp_path / f"{host}-deref.js"
    assert main(["witness", "--host", host, "--property", "deref-consistent", "--quiet", "--out", str(path),
                 "--certificates", str(tmp_path / "c")]) == 0
    doc = _replay(path, engine, engines_dir, capsys)
    assert "witness: observed call=obj1.deref() value=undefined" in doc["output"], doc


# quickjs-ng issue #1352 as the model runs it (WEAKMAP_VALUE above, with an undefined held value):
# reset_weak_ref's first pass unlinks the Symbol's registration and its WeakMap record, the second
# visits them newest first (spec/hosts/quickjs-ng-0.12.html, FreeObject step 5): the map record's
# release frees the registry at once (a Symbol's free is not deferred), and v0.12.1 then reads it
# through the registration's fre->obj (`_rec_.[[Registry]]`); v0.13.0's registration holds its own
# callback and reads no registry.
WEAKMAP_RUN = ["Symbol()", "new WeakMap()", "(built-in returned)", "new FinalizationRegistry(callback)",
               "(built-in returned)", "obj1.register(sym0, undefined, undefined)", "(built-in returned)",
               "obj0.set(sym0, obj1)", "(built-in returned)", "drop obj1", "drop sym0"]
# The token variant (SYMBOL_TOKEN above): the newer registration's token is the last reference to
# the older one's registry.
TOKEN_RUN = ["Symbol()", "new FinalizationRegistry(callback)", "(built-in returned)",
             "obj0.register(sym0, undefined, undefined)", "(built-in returned)",
             "new FinalizationRegistry(callback)", "(built-in returned)",
             "obj1.register(sym0, undefined, obj0)", "(built-in returned)", "drop obj0", "drop sym0"]
SYMBOL_RUNS = {"weakmap": (WEAKMAP_RUN, {"objects": 2, "symbols": 1, "slots": 1, "weakmaps": 1}),
               "token": (TOKEN_RUN, {"objects": 2, "symbols": 1, "slots": 1, "cells": 2, "jobs": 2})}


def _symbol_run(host: str, which: str) -> tuple:
    from specmc.model.bounds import Bounds
    from specmc.model.build import build
    from specmc.model.hosts import load_host
    from specmc.spec.load import load_spec, load_specs

    from tests.conftest import FULL

    labels, bounds = SYMBOL_RUNS[which]
    spec = load_specs([FULL / "spec-2025-11-04-e936549f.html"]) if bounds.get("weakmaps") else load_spec()
    program = build(spec, load_host(host), Bounds(**bounds))
    return program, _model_run(program, labels)


@pytest.mark.parametrize("which", sorted(SYMBOL_RUNS))
def test_the_model_reaches_1352_under_0_12_only(which: str) -> None:
    """Under quickjs-ng-0.12 the Symbol's free reads the registry it freed a step before
    (no-freed-observed, no-dangling-cell: `err_uaf`), at the registration's callback read; under
    quickjs-ng-0.13 the same actions end clean with one job per registration queued."""
    from specmc.model.domain import View
    from specmc.model.explore import CONCRETE
    from specmc.model.trace import build_trace
    from specmc.proofs.properties import CATALOGUE

    program, path = _symbol_run("quickjs-ng-0.12", which)
    lay = program.layout
    last = path[-1][1]
    assert last[lay.where("err_uaf")[0]] == 1
    assert path[-1][0].name == "FreeObject 5.a.i"  # Let _callback_ be _rec_.[[Registry]].[[CleanupCallback]].
    for prop in ("no-freed-observed", "no-dangling-cell"):
        assert not CATALOGUE[prop].holds(program, View(CONCRETE, lay, last))
    trace = build_trace(program, path)
    # Free _obj_ (step 8) of the registry, nested in the Symbol's free, came before the read
    nested = [t for t in trace if t.clause.endswith("free-object") and t.step == "8"
              and t.stack.count("FreeObject") == 2]
    assert len(nested) == 1

    program, path = _symbol_run("quickjs-ng-0.13", which)
    lay = program.layout
    last = path[-1][1]
    assert last[lay.where("err_uaf")[0]] == 0
    assert last[lay.where("qlen")[0]] == (1 if which == "weakmap" else 2)
    assert last[lay.where("sym_status")[0]] == 2  # the Symbol was freed: the run went to its end
    assert all(CATALOGUE[p].holds(program, View(CONCRETE, lay, last))
               for p in ("no-freed-observed", "no-dangling-cell"))


def test_the_1352_witness_is_the_issue_program() -> None:
    program, path = _symbol_run("quickjs-ng-0.12", "weakmap")
    source = _witness(program, "quickjs-ng-0.12", path, 2, 1)
    body = source[source.index("function script()"):source.index("script();")]
    for code in ("sym0 = Symbol(", "obj0 = new WeakMap();", "obj1 = new FinalizationRegistry(callback);",
                 "obj1.register(sym0, undefined, undefined);", "obj0.set(sym0, obj1);", "obj1 = undefined;",
                 "sym0 = undefined;"):
        assert code in body, code


@needs_network
@pytest.mark.slow
@pytest.mark.parametrize("which", sorted(SYMBOL_RUNS))
@pytest.mark.parametrize(("engine", "crashes"), [(OLD, True), (NEW, False)])
def test_the_1352_witnesses_crash_0_12_only(tmp_path: Path, engines_dir: Path, capsys: pytest.CaptureFixture,
                                            which: str, engine: str, crashes: bool) -> None:
    """The model's witness (from its quickjs-ng-0.12 run) segfaults PyPI quickjs-ng 0.12.1.1 in the
    statement that drops the Symbol, and runs to its end on 0.13.0.1."""
    program, path = _symbol_run("quickjs-ng-0.12", which)
    source = _witness(program, "quickjs-ng-0.12", path, 2, 1)
    file = tmp_path / f"{which}.js"
    file.write_text(source, encoding="utf-8")
    doc = _replay(file, engine, engines_dir, capsys)
    if crashes:
        assert doc["outcome"] == "crash" and doc["exit_code"] == 139, doc
    else:
        assert doc["outcome"] != "crash" and doc["exit_code"] == 0, doc


def _depth_first_witness(tmp: Path, host: str) -> Path:
    """The depth-first engine's witness for no-freed-observed at three objects, where breadth first
    finds nothing within its 40 M states (docs/findings.md, "Deep runs found depth first")."""
    path = tmp / f"{host}-depth-first.js"
    assert main(["witness", "--host", host, "--property", "no-freed-observed", "--engine", "dfs",
                 "--bounds", "objects=3,cells=2,frames=3,jobs=1,slots=1", "--out", str(path),
                 "--certificates", str(tmp / "certs")]) == 0
    return path


@pytest.fixture(scope="module")
def deep_witness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """quickjs-ng-0.12's: the first depth-first run finds it."""
    return _depth_first_witness(tmp_path_factory.mktemp("deep"), "quickjs-ng-0.12")


@needs_network
@pytest.mark.slow
@pytest.mark.parametrize("engine", [OLD, NEW])
def test_the_depth_first_witness_at_three_objects(deep_witness: Path, engines_dir: Path,
                                                  capsys: pytest.CaptureFixture, engine: str) -> None:
    """#1318 with three registries, 138 transitions deep: a collection inside the first callback
    frees a registry a queued job still holds as its held value. 0.12.1.1 runs that job on the
    freed memory (under valgrind: an invalid read in js_finrec_job of a block gc_free_cycles
    freed): the callback a second time, or a crash, with the allocator; 0.13.0.1 once."""
    assert "gc();" in deep_witness.read_text(encoding="utf-8")
    doc = _replay(deep_witness, engine, engines_dir, capsys)
    assert "witness: cleanup #1 held=undefined" in doc["output"], doc
    if engine == OLD:
        assert "witness: cleanup #2" in doc["output"] or doc["outcome"] == "crash", doc
    else:
        assert doc["outcome"] == "asynchronous" and doc["exit_code"] == 0, doc
        assert "calls=1 " in doc["output"] and "cleanup #2" not in doc["output"], doc


@pytest.fixture(scope="module")
def swarm_witness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """quickjs-ng-0.13's unregister cascade: a seeded run of the swarm finds it."""
    return _depth_first_witness(tmp_path_factory.mktemp("swarm"), "quickjs-ng-0.13")


@needs_network
@pytest.mark.slow
@pytest.mark.parametrize("engine", [OLD, NEW])
def test_the_swarm_witness_crashes_both_versions(swarm_witness: Path, engines_dir: Path,
                                                 capsys: pytest.CaptureFixture, engine: str) -> None:
    """A search's own program for the cascade (the driven run's is above): many property writes,
    then an unregister whose list walk frees the next registration's target and reads it."""
    text = swarm_witness.read_text(encoding="utf-8")
    assert ".unregister(" in text.split("function script()")[1]
    doc = _replay(swarm_witness, engine, engines_dir, capsys)
    assert doc["outcome"] == "crash" and doc["exit_code"] == 139, doc


@pytest.fixture(scope="module")
def swarm_1352_witness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """#1352 as the swarm finds it under quickjs-ng-0.12 (no-dangling-cell, with a WeakMap, so
    the whole spec.html): about 3 minutes of search."""
    from tests.conftest import FULL

    tmp = tmp_path_factory.mktemp("swarm1352")
    path = tmp / "quickjs-ng-0.12-1352.js"
    whole = str(FULL / "spec-2025-11-04-e936549f.html")
    assert main(["witness", "--spec", whole, "--host", "quickjs-ng-0.12", "--property", "no-dangling-cell",
                 "--engine", "dfs",
                 "--bounds", "objects=2,symbols=1,slots=1,weakmaps=1", "--out", str(path),
                 "--certificates", str(tmp / "certs")]) == 0
    return path


@needs_network
@pytest.mark.slow
@pytest.mark.parametrize("engine", [OLD, NEW])
def test_the_swarm_finds_1352(swarm_1352_witness: Path, engines_dir: Path, capsys: pytest.CaptureFixture,
                              engine: str) -> None:
    """The search's own #1352 program: a Symbol registered with a registry that a WeakMap holds as
    the value under that Symbol; dropping the Symbol frees the registry in reset_weak_ref's second
    pass, which then reads it. 0.12.1.1 segfaults; 0.13.0.1 runs the callback, and both answer
    every WeakMap call as the model does."""
    script = swarm_1352_witness.read_text(encoding="utf-8").split("function script()")[1]
    assert "new WeakMap()" in script and ".register(sym0" in script and "sym0 = undefined" in script
    doc = _replay(swarm_1352_witness, engine, engines_dir, capsys)
    assert doc["answers_differ"] == 0, doc
    if engine == OLD:
        assert doc["outcome"] == "crash" and doc["exit_code"] == 139, doc
    else:
        assert doc["exit_code"] == 0 and doc["outcome"] != "crash", doc
