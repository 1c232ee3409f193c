"""Witnesses: counterexamples as JavaScript, run on node, and the motivating bug on real engines."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from specmc.model.actions import (
    Action,
    Allocate,
    DeleteProperty,
    Deref,
    Drop,
    GetProperty,
    NewRegistry,
    NewSymbol,
    NewWeakRef,
    Register,
    Resumed,
    SetProperty,
    Sym,
    Throw,
    Unregister,
)
from specmc.model.bounds import parse_bounds
from specmc.model.build import build
from specmc.model.explore import explore, successors
from specmc.model.hosts import load_host, shipped
from specmc.model.trace import build_trace
from specmc.proofs.cli import main
from specmc.proofs.properties import select
from specmc.proofs.run.job import predicate
from specmc.proofs.run.plan import EMBEDDED_PLAN, load_plan
from specmc.proofs.witness.witness import WitnessError, activations, generate, pick_run
from specmc.spec.load import load_spec, load_specs

from tests.model.test_weakmaps import WHOLE
from tests.proofs.witness.test_replay import needs_network, needs_node


def _step(actor: str, what: str | Action, stack: list[str], changed: dict | None = None,
          changes: dict | None = None) -> dict:
    """A trace step as the JSON carries it; a mutator step's text is its action's label."""
    step = {"actor": actor, "text": what if isinstance(what, str) else what.label, "stack": stack,
            "changed": changed or {}, "changes": changes or {}, "clause": "", "step": ""}
    if isinstance(what, Action):
        step["action"] = what.to_json()
    return step


def _runs_clean_on_node(source: str, path: Path) -> None:
    """The program runs to its end on node without a built-in throwing, and every call answers on
    node what it answered in the model, where node is installed (without node, the JavaScript the
    caller checked is what the test checks)."""
    path.write_text(source, encoding="utf-8")
    try:
        done = subprocess.run(["node", str(path)], capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        return
    assert done.returncode == 0 and "witness: threw" not in done.stdout, done.stdout + done.stderr
    _answers_agree(done.stdout)


def _answers_agree(stdout: str) -> None:
    """Every `witness: returned` line answers on the engine what the model's trace answered."""
    for line in stdout.splitlines():
        if line.startswith("witness: returned") and " model=" in line:
            value, model = line.split(" value=")[1].split(" model=")
            assert value == model, stdout


def _code(body: list) -> list[str]:
    return [s.code for s in body]


def test_a_builtin_called_on_another_kind_of_object_is_called_through_its_prototype() -> None:
    """The model's user code may call WeakMap's set on a plain object (RequireInternalSlot throws
    in the built-in); `obj0.set(...)` would throw "is not a function" before any WeakMap code ran,
    so such a call is written `WeakMap.prototype.set.call(obj0, ...)`. On a WeakMap (and a
    deref on a WeakRef) the ordinary call stays."""
    from specmc.model.actions import NewWeakMap, WeakMapSet

    u = "user code"
    trace = [
        _step("mutator", Allocate(), [u], {"root[0]": 1}),
        _step("mutator", WeakMapSet(0, None, None), [u, "WeakMap.prototype.set"]),
        _step("mutator", Resumed(), [u]),
        _step("mutator", NewWeakMap(), [u, "WeakMap"]),
        _step("mutator", Resumed(), [u], {"root[1]": 1}),
        _step("mutator", WeakMapSet(1, 0, None), [u, "WeakMap.prototype.set"]),
        _step("mutator", Resumed(), [u]),
        _step("mutator", Deref(1), [u, "WeakRef.prototype.deref"]),
        _step("mutator", Resumed(), [u]),
    ]
    (script,) = activations(trace)
    assert [st.shown for st in script[1:4]] == ["WeakMap.prototype.set.call(obj0, undefined, undefined);",
                                                "obj1 = new WeakMap();", "obj1.set(obj0, undefined);"]
    # what each WeakMap call answered is printed (weak-collection-results judges it); this trace
    # has no built-in's return value, so the model's answer is null
    call = "WeakMap.prototype.set.call(obj0, undefined, undefined)"
    assert _code(script)[:2] == ["obj0 = {};", f'returned("{call}", {call}, null);']
    assert _code(script)[4].startswith('returned("WeakRef.prototype.deref.call(obj1)", ')


def test_statements_land_in_the_activation_they_ran_in() -> None:
    u, fr = "user code", "FinalizationRegistry"
    trace = [
        _step("init", "the script starts", [u]),
        _step("mutator", NewRegistry(), [u, fr]),
        _step("mutator", Resumed(), [u], {"root[0]": 1}),
        _step("mutator", Allocate(), [u], {"root[1]": 1}),
        _step("mutator", Register(0, 1, None, None), [u, "register"]),
        _step("mutator", Resumed(), [u]),
        _step("mutator", Drop(1), [u, "FreeObject"]),
        _step("host", "call the callback", [u, "FreeObject", "HostCallJobCallback", u]),
        _step("mutator", NewWeakRef(0), [u, "FreeObject", "HostCallJobCallback", u, "WeakRef"]),
        _step("mutator", Resumed(), [u, "FreeObject", "HostCallJobCallback", u], {"root[1]": 1}),
        _step("mutator", Throw(), [u, "FreeObject", "HostCallJobCallback"]),
    ]
    script, callback = activations(trace)
    report = 'out("witness: threw " + what(e) + " at: " + \'obj1 = undefined;\');'
    dropped = f"try {{ obj1 = undefined; }} catch (e) {{ {report} }}"
    assert _code(script) == ["obj0 = new FinalizationRegistry(callback);", "obj1 = {};",
                             "obj0.register(obj1, undefined, undefined);",
                             f'phase = "drop obj1"; {dropped} phase = "script";']
    assert _code(callback)[0] == "obj1 = new WeakRef(obj0);"
    assert _code(callback)[1].startswith("throw ")


def test_property_actions_are_written_as_javascript() -> None:
    """The object graph (bound `slots`): a store and a delete are guarded and named in `phase`,
    like a drop (an engine may free and call back inside them); a read assigns the slot user code
    takes the object into (`changed`), or reads for nothing when it held it already."""
    u = "user code"
    trace = [
        _step("mutator", SetProperty(0, 0, 1), [u]),
        _step("mutator", GetProperty(0, 0), [u], {"root[1]": 1}),
        _step("mutator", GetProperty(0, 0), [u]),
        _step("mutator", DeleteProperty(0, 0), [u, "FreeObject"]),
        _step("mutator", Resumed(), [u]),
    ]
    (script,) = activations(trace)
    code = _code(script)
    assert code[0].startswith('phase = "set obj0.p0"; try { obj0.p0 = obj1; } catch (e) {')
    assert code[1:3] == ["obj1 = obj0.p0;", "void obj0.p0;"]
    assert code[3].startswith('phase = "delete obj0.p0"; try { delete obj0.p0; } catch (e) {')
    assert code[3].endswith('phase = "script";') and len(code) == 4


def test_symbol_actions_are_written_as_javascript() -> None:
    """Bound `symbols`: `Symbol()` into the variable the trace's `changed` names (sym_root), a
    Symbol as an argument, the registered one as `Symbol.for("k")`, a drop guarded like an
    object's, and a deref whose result is a Symbol into that Symbol's variable."""
    u = "user code"
    trace = [
        _step("mutator", NewSymbol(), [u], {"sym_root": 1}),
        _step("mutator", Register(0, Sym(0), None, Sym(None)), [u, "register"]),
        _step("mutator", Resumed(), [u]),
        _step("mutator", Deref(1), [u, "deref"]),
        _step("mutator", Resumed(), [u], {"sym_root[1]": 1}),
        _step("mutator", Drop(Sym(0)), [u, "FreeObject"]),
    ]
    (script,) = activations(trace)
    code = _code(script)
    assert code[:2] == ["sym0 = Symbol();", 'obj0.register(sym0, undefined, Symbol.for("k"));']
    assert code[2].startswith("sym1 = obj1.deref(); returned(")
    assert code[3].startswith('phase = "drop sym0"; try { sym0 = undefined; } catch (e) {')
    source = generate(trace, "ecma262", "p", 2, symbols=2).source
    assert "var obj0, obj1, sym0, sym1;" in source and "Symbol.for(\"k\")" in source


def test_the_action_is_read_not_the_text() -> None:
    """A label is for people: the generator writes what `action` says, whatever `text` reads."""
    step = _step("mutator", Allocate(), ["user code"], {"root[2]": 1})
    step["text"] = "something else entirely"
    (script,) = activations([step])
    assert _code(script) == ["obj2 = {};"]


@pytest.mark.parametrize("action", [None, {"kind": "cleanupSome", "this": "obj0"},
                                    {"kind": "drop", "slot": "undefined"}])
def test_an_action_it_cannot_write_is_refused(action: dict | None) -> None:
    step = _step("mutator", "obj0.cleanupSome()", ["user code"])
    if action is not None:
        step["action"] = action
    with pytest.raises(WitnessError, match="carries no action" if action is None else "obj0.cleanupSome()"):
        activations([step])


def test_unregister_and_deref_show_what_they_returned() -> None:
    """The answer is what `unregister-result` and `deref-consistent` judge: the witness prints the
    engine's beside the counterexample's (`ret` of the call's last step), and a call the trace
    ends inside is still made and shown."""
    u, un, de = "user code", "FinalizationRegistry.prototype.unregister", "WeakRef.prototype.deref"
    trace = [
        _step("mutator", Unregister(0, 1), [u, un]),
        _step("spec", "If _v_ is an Object, return *true*.", [u, un, "CanBeHeldWeakly"],
              changes={"ret": "true"}),
        _step("spec", "Return _removed_.", [u], changes={"ret": "false"}),
        _step("mutator", Resumed(), [u], changes={"ret": "~empty~"}),
        _step("mutator", Deref(1), [u, de]),
        _step("spec", "Return _target_.", [u], changes={"ret": "obj0"}),
        _step("mutator", Resumed(), [u], {"root[0]": 1}, changes={"ret": "~empty~"}),
        _step("mutator", Deref(1), [u, de]),
        _step("spec", "Return _target_.", [u], changes={"ret": "obj0"}),
        _step("mutator", Resumed(), [u], changes={"ret": "~empty~"}),
        _step("mutator", Unregister(0, 0), [u, un]),
    ]
    (script,) = activations(trace)
    assert _code(script) == [
        'returned("obj0.unregister(obj1)", obj0.unregister(obj1), "false");',
        'obj0 = obj1.deref(); returned("obj1.deref()", obj0, "obj0");',
        'returned("obj1.deref()", obj1.deref(), "obj0");',
        'returned("obj0.unregister(obj0)", obj0.unregister(obj0), null);',
    ]
    # what a built-in's exception is reported as: the call, not the instrumentation around it
    assert [s.shown for s in script] == ["obj0.unregister(obj1);", "obj0 = obj1.deref();", "obj1.deref();",
                                         "obj0.unregister(obj0);"]


def _violations() -> list[tuple[str, str, list[dict], int]]:
    """Every shortest counterexample the explorer finds for the shipped hosts at small bounds."""
    spec = load_spec()
    out = []
    for bounds_text, hosts in (("objects=1,frames=5", shipped()), ("objects=2,frames=6", ["quickjs-ng-0.5"])):
        bounds = parse_bounds(bounds_text)
        for name in hosts:
            program = build(spec, load_host(name), bounds)
            props = select([])
            r = explore(program, {p.id: predicate(program, p) for p in props}, bounds.steps, 400_000)
            for pid, path in r.violations.items():
                trace = [t.to_json() for t in build_trace(program, path)]
                out.append((name, pid, trace, bounds.objects))
    return out


@needs_node
@pytest.mark.slow
def test_every_witness_runs_on_node_without_instrumentation_errors(tmp_path: Path) -> None:
    found = _violations()
    assert {(h, p) for h, p, _, _ in found} >= {("quickjs-ng-0.5", "cleanup-not-on-free-stack"),
                                               ("quickjs-ng-0.5", "no-dangling-cell")}
    for host, prop, trace, slots in found:
        w = generate(trace, host, prop, slots)
        path = tmp_path / f"{host}-{prop}.js"
        path.write_text(w.source, encoding="utf-8")
        done = subprocess.run(["node", "--expose-gc", str(path)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, (host, prop, done.stderr)
        assert "witness: error" not in done.stdout, (host, prop, done.stdout)
        assert done.stdout.rstrip().splitlines()[-1].startswith("witness: result timing="), (host, prop)


@pytest.fixture(scope="module")
def seed_witness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The witness of the motivating case, through the command line."""
    tmp = tmp_path_factory.mktemp("witness")
    out = tmp / "seed.js"
    assert main(["witness", "--host", "quickjs-ng-0.5", "--property", "cleanup-not-on-free-stack",
                 "--out", str(out), "--certificates", str(tmp / "certs")]) == 0
    return out


@needs_network
@pytest.mark.parametrize("engine,allowed", [
    ("quickjs-ng-wasm@0.31.0", {"synchronous", "crash"}),  # the engine of early 2024: the bug
    ("quickjs-ng-wasm@0.32.0", {"asynchronous", "never"}),  # QuickJS-NG v0.12.1: cleanup as a job
    ("quickjs-ng@0.17.0.2", {"asynchronous", "never"}),
    ("node", {"asynchronous", "never"}),
    ("bun@1.3.3", {"asynchronous", "never"}),  # JavaScriptCore scans the stack conservatively
])
def test_the_seed_witness_on_real_engines(seed_witness: Path, engines_dir: Path, engine: str,
                                          allowed: set[str], capsys: pytest.CaptureFixture) -> None:
    rc = main(["replay", str(seed_witness), "--on", engine, "--format", "json",
               "--engines-dir", str(engines_dir), "--timeout", "120"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["engine"] == engine
    assert doc["outcome"] in allowed, doc["output"]


@needs_node
def test_an_unregister_result_witness_shows_the_engines_answer(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture) -> None:
    """The violation itself on a real engine: under the quickjs-ng-0.6 profile unregister answers
    false for a registration its register() skipped (the registry as its own target); V8 keeps the
    registration and answers true, which the witness now prints beside the model's false."""
    out = tmp_path / "unregister.js"
    assert main(["witness", "--host", "quickjs-ng-0.6", "--property", "unregister-result", "--bounds",
                 "objects=1,frames=5", "--out", str(out), "--certificates", str(tmp_path / "certs")]) == 0
    capsys.readouterr()
    assert main(["replay", str(out), "--on", "node", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "witness: returned call=obj0.unregister(obj0) value=true model=false\n" in doc["output"]


@needs_network
@pytest.mark.slow
@pytest.mark.parametrize("engine", ["quickjs-ng@0.17.0.2", "quickjs-ng-wasm@0.32.0"])
def test_the_unregister_result_witness_on_quickjs_ng(tmp_path: Path, engines_dir: Path, engine: str,
                                                     capsys: pytest.CaptureFixture) -> None:
    """The engine the profile describes answers as the profile says."""
    out = tmp_path / "unregister.js"
    assert main(["witness", "--host", "quickjs-ng-0.6", "--property", "unregister-result", "--bounds",
                 "objects=1,frames=5", "--out", str(out), "--certificates", str(tmp_path / "certs")]) == 0
    capsys.readouterr()
    assert main(["replay", str(out), "--on", engine, "--format", "json", "--engines-dir",
                 str(engines_dir), "--timeout", "120"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "witness: returned call=obj0.unregister(obj0) value=false model=false\n" in doc["output"]


THROWS = """from specmc.proofs.properties import Property, register

register(Property("callback-never-throws", "no cleanup callback ends by a throw", "sec-x",
                  lambda prog, S: S.d.eq(S.get("cb_threw"), 0)))
"""


@pytest.fixture(scope="module")
def throwing_witness(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A counterexample whose cleanup callback throws (quickjs-ng-0.5: registry, object,
    register, drop, and the callback throws), through the command line with a property of one's
    own (`--properties-file`)."""
    tmp = tmp_path_factory.mktemp("throwing")
    (tmp / "throws.py").write_text(THROWS, encoding="utf-8")
    out = tmp / "throws.js"
    assert main(["witness", "--host", "quickjs-ng-0.5", "--property", "callback-never-throws",
                 "--properties-file", str(tmp / "throws.py"), "--bounds", "objects=2", "--out", str(out),
                 "--certificates", str(tmp / "certs")]) == 0
    assert 'throw new Error("thrown by the cleanup callback' in out.read_text(encoding="utf-8")
    return out


THREW = "witness: cleanup #1 threw Error: thrown by the cleanup callback, as in the trace\n"
UNCAUGHT = "witness: uncaught Error: thrown by the cleanup callback, as in the trace\n"


@needs_node
def test_a_callback_that_throws_is_reported_and_the_witness_goes_on(throwing_witness: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    """node ended the process on the callback's exception: no result line, a `crash`."""
    capsys.readouterr()
    assert main(["replay", str(throwing_witness), "--on", "node", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["outcome"], doc["exit_code"]) == ("asynchronous", 0), doc["output"]
    out = doc["output"]
    assert THREW in out and UNCAUGHT in out and out.index(THREW) < out.index(UNCAUGHT) < out.index(
        "witness: result timing=asynchronous calls=1")


@needs_network
@pytest.mark.slow
@pytest.mark.parametrize(("engine", "outcome", "uncaught"), [
    ("quickjs-ng-wasm@0.31.0", "synchronous", False),  # the engine drops the callback's exception
    ("quickjs-ng-wasm@0.32.0", "asynchronous", True),  # a job that threw: the runner reports it
    ("quickjs-ng@0.17.0.2", "asynchronous", True),
    ("bun@1.3.3", "asynchronous", True),  # bun reports it to the witness's uncaughtException listener
])
def test_a_callback_that_throws_on_real_engines(throwing_witness: Path, engines_dir: Path, engine: str,
                                               outcome: str, uncaught: bool,
                                               capsys: pytest.CaptureFixture) -> None:
    capsys.readouterr()
    assert main(["replay", str(throwing_witness), "--on", engine, "--format", "json", "--engines-dir",
                 str(engines_dir), "--timeout", "120"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["outcome"], doc["exit_code"]) == (outcome, 0), doc["output"]
    assert THREW in doc["output"] and (UNCAUGHT in doc["output"]) == uncaught


def test_no_counterexample_means_no_witness(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rc = main(["witness", "--host", "quickjs-ng-0.6", "--property", "cleanup-not-on-free-stack", "--bounds",
               "objects=1,frames=4", "--certificates", str(tmp_path)])
    assert rc == 1
    assert "no counterexample" in capsys.readouterr().err


def test_the_witness_comes_from_the_run_that_expects_the_violation(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture) -> None:
    """The embedded plan's spec hazard (ecma262 x no-dangling-cell) is VIOLATED in its second run
    (cells=2); witness searched the first run naming ecma262 and said "no counterexample"."""
    capsys.readouterr()
    out = tmp_path / "hazard.js"
    rc = main(["witness", "--host", "ecma262", "--property", "no-dangling-cell", "--certificates",
               str(tmp_path / "c"), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "[run 'spec hazard: two cells']" in err.splitlines()[-1], err
    assert out.read_text().startswith("// specmc witness: no-dangling-cell under ecma262, from a ")


def test_pick_run_prefers_the_property_and_its_expected_violation(tmp_path: Path) -> None:
    jsc = load_plan(str(Path(EMBEDDED_PLAN).parent / "jsc.toml"))
    run, fits = pick_run(jsc.runs, "jsc", "eventually-delivered")
    assert run is jsc.runs[1] and fits == 1, run.name  # the delivery run, not the catalogue's
    run, _ = pick_run(jsc.runs, "jsc", "held-value-once")
    assert run is jsc.runs[0]
    # several runs fit as well: the first in plan order, and the count says so
    plan = tmp_path / "two.toml"
    plan.write_text("".join(f'[[run]]\nname = "r{i}"\nhosts = ["ecma262"]\nbounds = "objects={i}"\n'
                            for i in (1, 2)) + '[[run]]\nname = "v8 only"\nhosts = ["v8"]\n')
    runs = load_plan(str(plan)).runs
    assert pick_run(runs, "ecma262", "held-value-once")[0].name == "r1"
    assert pick_run(runs, "ecma262", "held-value-once")[1] == 2
    assert pick_run(runs, "jsc", "held-value-once")[0].name == "r1"  # no run names the host: the first
    assert pick_run(runs, "v8", "held-value-once") == (runs[2], 1)


def _path(program, labels: list[str]) -> list:
    """(command, state) pairs of the run that takes these mutator actions, each other step being
    the only one enabled besides the event loop and the collector, up to user code on top again."""
    s = program.init
    path: list = [(None, s)]
    for want in [*labels, None]:
        while True:
            succ = list(successors(program, s))
            chosen = [(c, n) for c, n in succ if c.name == want]
            if chosen:
                path.append(chosen[0])
                s = chosen[0][1]
                break
            others = [(c, n) for c, n in succ if c.actor not in ("mutator", "collector", "event-loop")]
            if len(others) != 1:
                assert want is None, (want, sorted(c.name for c, _ in succ))
                return path
            path.append(others[0])
            s = others[0][1]
    return path


def test_weakmap_actions_are_written_as_javascript(tmp_path: Path) -> None:
    """Bound `weakmaps`: `new WeakMap()` into its slot, set/has/delete as calls, a get whose value
    user code did not hold into that value's slot; from a trace of the model (the whole spec.html
    defines WeakMap), and the program runs on node where it is installed."""
    program = build(load_specs([WHOLE]), load_host("ecma262"), parse_bounds("objects=3,weakmaps=1"))
    labels = ["new WeakMap()", "(built-in returned)", "allocate {}", "allocate {}",
              "obj0.set(obj1, obj2)", "(built-in returned)", "drop obj2", "obj0.has(obj1)",
              "(built-in returned)", "obj0.get(obj1)", "(built-in returned)", "obj0.delete(obj1)",
              "(built-in returned)"]
    trace = [t.to_json() for t in build_trace(program, _path(program, labels))]
    (script,) = activations(trace)
    code = [c for c in _code(script) if not c.startswith("phase")]
    # each call's answer beside the model's (weak-collection-results judges it)
    assert code == ["obj0 = new WeakMap();", "obj1 = {};", "obj2 = {};",
                    'returned("obj0.set(obj1, obj2)", obj0.set(obj1, obj2), "obj0");',
                    'returned("obj0.has(obj1)", obj0.has(obj1), "true");',
                    'obj2 = obj0.get(obj1); returned("obj0.get(obj1)", obj2, "obj2");',
                    'returned("obj0.delete(obj1)", obj0.delete(obj1), "true");']
    source = generate(trace, "ecma262", "p", 3).source
    _runs_clean_on_node(source, tmp_path / "weakmap.js")


def test_a_deref_consistent_witness_asks_the_weakref_after_the_drop(tmp_path: Path) -> None:
    """deref-consistent's violation under quickjs-ng-0.13 is a state (the target freed by the drop,
    in the turn new WeakRef promised to keep it): the witness ends with `obj1.deref()` observed,
    which node (a tracing collector, as the spec) answers with the object. The QuickJS-NG
    replays (undefined) are in test_quickjs_ng_versions.py."""
    path = tmp_path / "dc.js"
    assert main(["witness", "--host", "quickjs-ng-0.13", "--property", "deref-consistent", "--quiet",
                 "--out", str(path), "--certificates", str(tmp_path / "c")]) == 0
    body = path.read_text(encoding="utf-8")
    script = body[body.index("function script()"):body.index("script();")]
    assert script.index("obj0 = undefined;") < script.index('observed("obj1.deref()", obj1.deref());')
    try:
        done = subprocess.run(["node", str(path)], capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        return
    assert "witness: observed call=obj1.deref() value=object" in done.stdout, done.stdout + done.stderr
    other = tmp_path / "no.js"  # another property: no observation is added
    assert main(["witness", "--host", "quickjs-ng-0.13", "--property", "unregister-result", "--quiet",
                 "--out", str(other), "--certificates", str(tmp_path / "c")]) == 0
    assert "observed(" not in other.read_text(encoding="utf-8").split("function script()")[1]


def test_witness_quiet_leaves_stderr_empty_and_loud_says_what_it_wrote(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """--quiet silences progress and the summary, not the program; without it, both are said."""
    args = ["witness", "--host", "quickjs-ng-0.5", "--property", "cleanup-not-on-free-stack",
            "--certificates", str(tmp_path / "certs")]
    assert main([*args, "--quiet", "--out", str(tmp_path / "q.js")]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == "" and quiet.out == ""
    assert main([*args, "--out", str(tmp_path / "loud.js")]) == 0
    loud = capsys.readouterr().err
    assert "cleanup-not-on-free-stack: VIOLATED by explicit" in loud
    assert f"wrote {tmp_path / 'loud.js'}:" in loud
    assert (tmp_path / "q.js").read_text() == (tmp_path / "loud.js").read_text()


def test_weakset_actions_are_written_as_javascript(tmp_path: Path) -> None:
    """Bound `weaksets`: `new WeakSet()` into its slot, add/has/delete as calls, from a trace of the
    model (the whole spec.html defines WeakSet), and the program runs on node where it is
    installed."""
    program = build(load_specs([WHOLE]), load_host("ecma262"), parse_bounds("objects=2,weaksets=1"))
    labels = ["new WeakSet()", "(built-in returned)", "allocate {}", "obj0.add(obj1)", "(built-in returned)",
              "obj0.has(obj1)", "(built-in returned)", "obj0.delete(obj1)", "(built-in returned)"]
    trace = [t.to_json() for t in build_trace(program, _path(program, labels))]
    (script,) = activations(trace)
    code = [c for c in _code(script) if not c.startswith("phase")]
    assert code == ["obj0 = new WeakSet();", "obj1 = {};",
                    'returned("obj0.add(obj1)", obj0.add(obj1), "obj0");',
                    'returned("obj0.has(obj1)", obj0.has(obj1), "true");',
                    'returned("obj0.delete(obj1)", obj0.delete(obj1), "true");']
    source = generate(trace, "ecma262", "p", 2).source
    _runs_clean_on_node(source, tmp_path / "weakset.js")


def test_a_function_object_callback_is_written_as_javascript(tmp_path: Path) -> None:
    """Bound `slots` on a tracing host: `function () {}` is the harness's callback behind a closure
    of its own, what it captures is its property, the registry is made with it, and the callback's
    activation reads what it captured through its own variable (which it puts back on entry, as
    the model's activation holds the function it runs). Runs on node where it is installed: a
    read of `obj0.p0` with obj0 gone would throw and be reported."""
    program = build(load_spec(), load_host("ecma262"), parse_bounds("objects=4,slots=1"))
    labels = ["function () {}", "allocate {}", "obj0.p0 = obj1", "drop obj1",
              "new FinalizationRegistry(obj0)", "(built-in returned)", "drop obj0", "allocate {}",
              "obj2.register(obj3, undefined, undefined)", "(built-in returned)", "drop obj3", "return",
              "event loop: ClearKeptObjects", "collector: S = {obj3} is not live", "Execution 1.b.ii [do]",
              "event loop: ClearKeptObjects", "event loop: run the next job",
              "CleanupFinalizationRegistry 3 [enter]", "read obj0.p0"]
    trace = [t.to_json() for t in build_trace(program, _path(program, labels))]
    script, called = activations(trace)
    code = [c for c in _code(script) if not c.startswith("phase")]
    assert code == ["obj0 = function fobj0(held) { obj0 = fobj0; return callback(held); };", "obj1 = {};",
                    "obj2 = new FinalizationRegistry(obj0);", "obj3 = {};",
                    "obj2.register(obj3, undefined, undefined);", "return;"]
    # the function's own variable, dropped by the script, is put back by its wrapper; it takes the
    # held value only where the wrapper did not (a function object passed as the held value)
    assert [s.code for s in called] == ["if (obj0 === undefined) obj0 = held;", "obj1 = obj0.p0;"]
    source = generate(trace, "ecma262", "p", 4).source
    assert "obj0.p0 = obj1;" in source and "obj0 = undefined;" in source
    path = tmp_path / "function.js"
    path.write_text(source, encoding="utf-8")
    try:
        done = subprocess.run(["node", "--expose-gc", str(path)], capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        return  # no node here: the JavaScript above is what the test checks
    assert done.returncode == 0 and "witness: threw" not in done.stdout, done.stdout + done.stderr
    _answers_agree(done.stdout)
    assert "witness: cleanup #1 held=undefined" in done.stdout, done.stdout


@needs_node
def test_a_callback_uses_its_held_value_after_the_script_dropped_it(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture) -> None:
    """The model's call of user code makes it hold the held value (model/statements.py
    `_push_call`): after `drop obj2`, the callback's `obj0.unregister(obj2)` unregisters with the
    object. The witness never put it back, so node read undefined and threw "Invalid
    unregisterToken" where the trace has `false` (third review, F9). Now the call's entry writes
    `obj2 = held;` before the callback is reported (held=obj2), and node answers as the model."""
    program = build(load_spec(), load_host("ecma262"), parse_bounds("objects=3"))
    labels = ["new FinalizationRegistry(callback)", "(built-in returned)", "allocate {}", "allocate {}",
              "obj0.register(obj1, obj2, undefined)", "(built-in returned)", "drop obj1", "drop obj2",
              "return", "event loop: ClearKeptObjects", "collector: S = {obj1} is not live",
              "Execution 1.b.ii [do]", "event loop: ClearKeptObjects", "event loop: run the next job",
              "CleanupFinalizationRegistry 3 [enter]", "obj0.unregister(obj2)", "(built-in returned)"]
    trace = [t.to_json() for t in build_trace(program, _path(program, labels))]
    script, called = activations(trace)
    assert "obj2 = undefined;" in " ".join(_code(script))
    assert _code(called) == ["obj2 = held;",
                             'returned("obj0.unregister(obj2)", obj0.unregister(obj2), "false");']
    assert called[0].on_entry and not called[1].on_entry
    witness = generate(trace, "ecma262", "p", 3)
    assert "entries[1] = function (held) { obj2 = held; };" in witness.source
    assert witness.statements == len(script) + 1  # what user code did, not what the harness adds
    path = tmp_path / "held.js"
    path.write_text(witness.source, encoding="utf-8")
    assert main(["replay", str(path), "--on", "node", "--format", "json"]) == 0
    output = json.loads(capsys.readouterr().out)["output"]
    # which turn node's collector gets to the target in depends on the machine's load
    assert re.search(r"witness: cleanup #1 held=obj2 during=turn \d+ depth=1", output), output
    assert "witness: threw" not in output, output
    _answers_agree(output)
    assert "returned call=obj0.unregister(obj2) value=false model=false" in output


@needs_node
def test_a_function_held_value_is_told_from_the_function_running(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    """Both a function object callback (obj0) and a function object held value (obj1) are held again
    when the callback starts: obj0's wrapper puts obj0 back, and obj1 takes the held value; an
    `obj1 = held` for obj0 would have made the registry's callback the held function."""
    program = build(load_spec(), load_host("ecma262"), parse_bounds("objects=4,slots=1"))
    labels = ["function () {}", "function () {}", "new FinalizationRegistry(obj0)", "(built-in returned)",
              "allocate {}", "obj2.register(obj3, obj1, undefined)", "(built-in returned)", "drop obj0",
              "drop obj1", "drop obj3", "return", "event loop: ClearKeptObjects",
              "collector: S = {obj3} is not live", "Execution 1.b.ii [do]", "event loop: ClearKeptObjects",
              "event loop: run the next job", "CleanupFinalizationRegistry 3 [enter]",
              "obj2.unregister(obj1)", "(built-in returned)"]
    trace = [t.to_json() for t in build_trace(program, _path(program, labels))]
    _script, called = activations(trace)
    assert _code(called)[:2] == ["if (obj0 === undefined) obj0 = held;",
                                 "if (obj1 === undefined) obj1 = held;"]
    path = tmp_path / "held-function.js"
    path.write_text(generate(trace, "ecma262", "p", 4).source, encoding="utf-8")
    assert main(["replay", str(path), "--on", "node", "--format", "json"]) == 0
    output = json.loads(capsys.readouterr().out)["output"]
    assert "witness: cleanup #1 held=obj1 " in output and "witness: threw" not in output, output
    assert "returned call=obj2.unregister(obj1) value=false model=false" in output, output
