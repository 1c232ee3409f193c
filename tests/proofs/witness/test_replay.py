"""specmc replay: classification on canned outputs, engine specs, installs and real engines.

Tests that install an engine need the network; they share one engines folder per test run
(see `engines_dir`) and are skipped only when SPECMC_OFFLINE=1.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from specmc.proofs.witness import replay as rp
from specmc.spec.diagnostics import SpecError

needs_network = pytest.mark.skipif(os.environ.get("SPECMC_OFFLINE") == "1",
                                   reason="SPECMC_OFFLINE=1: engine installs need the network")
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")

# One registration, dropped inside a function (V8 may keep an object made by top-level code
# alive), then event-loop turns (node) or microtask turns (QuickJS, whose runners collect
# between jobs) until the cleanup has run.
MINIMAL = """var out = typeof print === 'function' ? print : console.log;
var phase = 'init', first = null, calls = 0, depth = 0, maxdepth = 0;
var registry = new FinalizationRegistry(function () {
  calls++; depth++;
  if (depth > maxdepth) maxdepth = depth;
  if (first === null) first = phase;
  depth--;
});
// Created and dropped inside a function: V8 may keep an object made by top-level code alive.
(function () {
  var target = {};
  registry.register(target, 'held');
  phase = 'drop';
  target = null;
  phase = 'after';
})();
function collect() { if (typeof globalThis.gc === 'function') globalThis.gc(); }
function nextTurn() {
  if (typeof setTimeout === 'function') return new Promise(function (r) { setTimeout(r, 0); });
  return Promise.resolve();
}
(async function () {
  for (var turn = 1; turn <= 50 && calls === 0; turn++) {
    phase = 'turn' + turn; collect(); await nextTurn();
  }
  var timing = first === null ? 'never' : first === 'drop' ? 'synchronous' : 'asynchronous';
  out('witness: result timing=' + timing + ' calls=' + calls + ' maxdepth=' + maxdepth);
  globalThis.witnessDone = true;
})();"""

# Each cleanup drops a fresh registered object after making cyclic garbage; on an engine that
# runs cleanups synchronously they nest, which is what broke quickjs-ng 0.31.
CHAIN = """var out = typeof print === 'function' ? print : console.log;
var phase = 'init', first = null, calls = 0, depth = 0, maxdepth = 0, limit = 50, keep = [];
function junk(n) { var a = []; for (var i = 0; i < n; i++) a.push({ i: i }); a.push(a); }
function dropOne(gen) {
  var registry = new FinalizationRegistry(onCleanup);
  keep.push(registry);
  var target = {};
  registry.register(target, gen);
  var was = phase;
  phase = 'drop';
  target = null;
  phase = was;
}
function onCleanup(gen) {
  calls++; depth++;
  if (depth > maxdepth) maxdepth = depth;
  if (first === null) first = phase;
  try {
    if (gen + 1 < limit) { junk(20000); dropOne(gen + 1); }
  } finally { depth--; }
}
dropOne(0);
function collect() { if (typeof globalThis.gc === 'function') globalThis.gc(); }
function nextTurn() {
  if (typeof setTimeout === 'function') return new Promise(function (r) { setTimeout(r, 0); });
  return Promise.resolve();
}
(async function () {
  for (var turn = 1, idle = 0; turn <= 500 && calls < limit && idle < 20; turn++) {
    var before = calls; phase = 'turn' + turn; collect(); await nextTurn();
    idle = calls === before ? idle + 1 : 0;
  }
  var timing = first === null ? 'never' : first === 'drop' ? 'synchronous' : 'asynchronous';
  out('witness: result timing=' + timing + ' calls=' + calls + ' maxdepth=' + maxdepth);
  globalThis.witnessDone = true;
})();"""


# Two registrations whose callbacks throw: a runner reports each job's exception and runs the
# next job, as a host's event loop would, where it used to stop at the first (issue 17). Node and
# bun report an exception that escapes a task to an `uncaughtException` listener, as the
# generated witnesses do; without one the process ends.
THROWS = """var out = typeof print === 'function' ? print : console.log;
var calls = 0, first = null, phase = 'init';
if (typeof process === 'object' && typeof process.on === 'function')
  process.on('uncaughtException', function (e) { out('witness: uncaught ' + e.name + ': ' + e.message); });
var registry = new FinalizationRegistry(function (held) {
  calls++;
  if (first === null) first = phase;
  throw new Error('callback ' + held);
});
(function () {
  var a = {}, b = {};
  registry.register(a, 'a'); registry.register(b, 'b');
  phase = 'drop'; a = null; b = null; phase = 'after';
})();
""" + MINIMAL[MINIMAL.index("function collect"):MINIMAL.index("(async")] + """(async function () {
  for (var turn = 1; turn <= 50 && calls < 2; turn++) { phase = 'turn' + turn; collect(); await nextTurn(); }
  var timing = first === null ? 'never' : first === 'drop' ? 'synchronous' : 'asynchronous';
  out('witness: result timing=' + timing + ' calls=' + calls + ' maxdepth=1');
  globalThis.witnessDone = true;
})();"""

WITNESSES = {"minimal": MINIMAL, "chain": CHAIN, "throws": THROWS}


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


# -- classification on canned outputs ---------------------------------------------------------

RESULT_ASYNC = "after drop\nwitness: result timing=asynchronous calls=1 maxdepth=1\n"
RESULT_SYNC = "witness: result timing=synchronous calls=50 maxdepth=50\n"


@pytest.mark.parametrize(("exit_code", "stdout", "stderr", "timed_out", "outcome"), [
    (0, RESULT_ASYNC, "", False, "asynchronous"),
    (0, RESULT_SYNC, "wasm: queue drained after 0 jobs\n", False, "synchronous"),
    (0, "witness: result timing=never calls=0 maxdepth=0\n", "", False, "never"),
    # the time limit wins over anything printed before the kill
    (-9, RESULT_ASYNC, "", True, "timeout"),
    (0, "", "", True, "timeout"),
    # death by a signal, even after the verdict
    (-11, RESULT_ASYNC, "", False, "crash"),
    (-6, "", "", False, "crash"),
    # a trap at dispose time after the verdict line: the memory error is the finding
    (6, RESULT_SYNC, "Aborted(Assertion failed: p->ref_count > 0)\nwasm: engine failure during dispose: "
     "RuntimeError: Aborted(...)\n", False, "crash"),
    (5, "cleanup\n", "wasm: engine failure during eval: RuntimeError: memory access out of bounds\n",
     False, "crash"),
    (5, "", "RuntimeError: table index is out of bounds\n", False, "crash"),
    (1, RESULT_ASYNC, "RangeError: Maximum call stack size exceeded\n", False, "crash"),
    (1, RESULT_ASYNC, "pyqjs: JS exception: StackOverflow: InternalError: stack overflow\n", False, "crash"),
    # nonzero without the verdict line: the witness did not finish
    (1, "cleanup phase=drop\n", "pyqjs: JS exception: TypeError: x is not a function\n", False, "crash"),
    (3, "", "pyqjs: the witness did not set globalThis.witnessDone = true\n", False, "crash"),
    # nonzero, verdict printed, no trap (a job bound hit after the witness finished): the verdict
    (4, RESULT_ASYNC, "pyqjs: job bound 100000 exhausted\n", False, "asynchronous"),
    # exit 0 without a verdict line is no verdict
    (0, "hello\n", "", False, "crash"),
    # a malformed timing is not a verdict
    (0, "witness: result timing=soon calls=1\n", "", False, "crash"),
])
def test_classify(exit_code: int, stdout: str, stderr: str, timed_out: bool, outcome: str):
    assert rp.classify(exit_code, stdout, stderr, timed_out) == outcome


def test_the_last_result_line_counts():
    out = ("witness: result timing=never calls=0 maxdepth=0\n"
           "witness: result timing=asynchronous calls=1 maxdepth=1\n")
    assert rp.result_timing(out) == "asynchronous"
    assert rp.result_timing("  witness: result timing=never\n") is None


def test_signals_are_reported_as_a_shell_does():
    assert rp.shell_exit_code(-11) == 139 and rp.shell_exit_code(-6) == 134
    assert rp.shell_exit_code(0) == 0 and rp.shell_exit_code(5) == 5


# -- arguments --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kind", "version"), [
    ("node", "node", None),
    ("quickjs-ng@0.17.0.2", "quickjs-ng", "0.17.0.2"),
    ("quickjs-ng-wasm@0.31.0", "quickjs-ng-wasm", "0.31.0"),
    ("quickjs-ng-wasm@0.32.0-rc.1", "quickjs-ng-wasm", "0.32.0-rc.1"),
    ("bun@1.3.3", "bun", "1.3.3"),
])
def test_engine_specs(text: str, kind: str, version: str | None):
    e = rp.parse_engine(text)
    assert (e.kind, e.version, e.name) == (kind, version, text)


@pytest.mark.parametrize("text", ["", "v8", "node@20", "quickjs-ng", "quickjs-ng@", "quickjs-ng@latest",
                                  "quickjs-ng@1.0 --index-url x", "quickjs-ng-wasm@../../etc", "quickjs@0.1",
                                  "bun", "bun@latest"])
def test_bad_engine_specs(text: str):
    with pytest.raises(SpecError) as e:
        rp.parse_engine(text)
    assert e.value.diagnostics[0].code == "E090"


@pytest.mark.parametrize("text", ["0", "-1", "abc", "nan", "inf", ""])
def test_bad_timeouts(text: str):
    with pytest.raises(SpecError) as e:
        rp.parse_timeout(text)
    assert e.value.diagnostics[0].code == "E093"


def test_timeouts():
    assert rp.parse_timeout("2.5") == 2.5 and rp.parse_timeout(None) == rp.DEFAULT_TIMEOUT


def test_unreadable_witnesses(tmp_path: Path):
    (tmp_path / "bin.js").write_bytes(b"\xff\xfe\x00")
    for p in (tmp_path / "missing.js", tmp_path, tmp_path / "bin.js"):
        with pytest.raises(SpecError) as e:
            rp.read_witness(p)
        assert e.value.diagnostics[0].code == "E092"


def test_engines_dir_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("SPECMC_ENGINES", str(tmp_path / "cache"))
    assert rp.default_engines_dir() == tmp_path / "cache"
    monkeypatch.delenv("SPECMC_ENGINES")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert rp.default_engines_dir() == tmp_path / ".cache" / "specmc" / "engines"


def test_runners_are_shipped():
    assert all((rp.RUNNERS / name).is_file() for name in ("pyqjs.py", "wasm.mjs", "bun-gc.js"))


# -- running under node (no install) ----------------------------------------------------------


@needs_node
def test_a_scripted_verdict_is_reported(tmp_path: Path):
    w = write(tmp_path, "sync.js", "console.log('witness: result timing=synchronous calls=1 maxdepth=1');\n")
    r = rp.replay(rp.Engine("node"), w, 60, tmp_path / "engines")
    assert (r.outcome, r.exit_code) == ("synchronous", 0)
    assert r.to_json() == {"engine": "node", "outcome": "synchronous", "exit_code": 0, "answers": [],
                           "answers_differ": 0,
                           "output": "witness: result timing=synchronous calls=1 maxdepth=1\n"}
    assert not (tmp_path / "engines").exists()  # node is never installed


@needs_node
def test_a_hanging_witness_times_out_and_its_children_die(tmp_path: Path):
    w = write(tmp_path, "hang.js", "const c = require('child_process').spawn('sleep', ['600']);\n"
                                   "console.log('child ' + c.pid);\nsetInterval(() => {}, 1000);\n")
    r = rp.replay(rp.Engine("node"), w, 2, tmp_path)
    assert r.outcome == "timeout" and r.exit_code == 137
    pid = int(r.output.split()[1])
    # SIGKILL to the group is sent, but a child the scheduler has not run since stays "R" until it
    # does; on a loaded machine that took longer than the check (CI, stop 29). Give it 10 s.
    assert _dies(pid, 10.0), f"child {pid} outlived the timeout by 10 s"


def _dies(pid: int, within: float) -> bool:
    """True once `pid` is gone or a zombie waiting for a parent to reap it."""
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + within
    while True:
        try:
            if stat.read_text().split(") ")[1].startswith(("Z", "X")):
                return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


@needs_node
def test_death_by_signal_is_a_crash(tmp_path: Path):
    w = write(tmp_path, "segv.js", "console.log('witness: result timing=asynchronous calls=1 maxdepth=1');\n"
                                   "process.kill(process.pid, 'SIGSEGV');\n")
    r = rp.replay(rp.Engine("node"), w, 60, tmp_path)
    assert (r.outcome, r.exit_code) == ("crash", 139)


@needs_node
def test_an_uncaught_exception_is_a_crash(tmp_path: Path):
    w = write(tmp_path, "throw.js", "throw new TypeError('nope');\n")
    r = rp.replay(rp.Engine("node"), w, 60, tmp_path)
    assert (r.outcome, r.exit_code) == ("crash", 1) and "TypeError: nope" in r.output


@needs_node
def test_huge_output_keeps_the_verdict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(rp, "OUTPUT_CAP", 4096)
    w = write(tmp_path, "chatty.js", "for (let i = 0; i < 5000; i++) console.log('line ' + i);\n"
                                     "console.log('witness: result timing=never calls=0 maxdepth=0');\n")
    r = rp.replay(rp.Engine("node"), w, 60, tmp_path)
    assert r.outcome == "never" and "bytes left out" in r.output and len(r.output) < 5000


@needs_node
@pytest.mark.parametrize("witness", ["minimal", "chain"])
def test_node_is_asynchronous(tmp_path: Path, witness: str):
    w = write(tmp_path, f"{witness}.js", WITNESSES[witness])
    r = rp.replay(rp.Engine("node"), w, 120, tmp_path)
    assert (r.outcome, r.exit_code) == ("asynchronous", 0), r.output


# -- installed engines (network) --------------------------------------------------------------


@needs_network
@pytest.mark.parametrize(("engine", "witness", "outcomes"), [
    ("quickjs-ng@0.17.0.2", "minimal", {"asynchronous"}),
    ("quickjs-ng@0.17.0.2", "chain", {"asynchronous"}),
    ("quickjs-ng-wasm@0.32.0", "minimal", {"asynchronous"}),
    ("quickjs-ng-wasm@0.32.0", "chain", {"asynchronous"}),
    # the cleanup runs inside the statement that drops the object
    ("quickjs-ng-wasm@0.31.0", "minimal", {"synchronous", "crash"}),
    ("quickjs-ng-wasm@0.31.0", "chain", {"synchronous", "crash"}),
    ("quickjs-ng@0.17.0.2", "throws", {"asynchronous"}),
    ("quickjs-ng-wasm@0.32.0", "throws", {"asynchronous"}),
    # JavaScriptCore as bun ships it; bun reports the callback's exception and goes on with the batch
    ("bun@1.3.3", "minimal", {"asynchronous"}),
    ("bun@1.3.3", "chain", {"asynchronous"}),
    ("bun@1.3.3", "throws", {"asynchronous"}),
])
@pytest.mark.slow
def test_installed_engines(engines_dir: Path, tmp_path: Path, engine: str, witness: str, outcomes: set[str]):
    w = write(tmp_path, f"{witness}.js", WITNESSES[witness])
    r = rp.replay(rp.parse_engine(engine), w, 120, engines_dir)
    assert r.outcome in outcomes, r.output
    assert r.engine == engine
    if r.outcome != "crash":
        assert r.exit_code == 0, r.output
    if witness == "throws":  # both callbacks ran, each exception reported on stdout
        assert "calls=2" in r.output
        assert r.output.count("witness: uncaught Error: callback ") == 2, r.output


@needs_network
def test_an_install_happens_once(engines_dir: Path):
    engine = rp.parse_engine("quickjs-ng-wasm@0.32.0")
    rp.ensure_installed(engine, engines_dir, lambda _msg: None)
    said: list[str] = []
    home = rp.ensure_installed(engine, engines_dir, said.append)
    assert said == [] and home == engines_dir / "quickjs-ng-wasm-0.32.0" and (home / rp.MARKER).is_file()
    assert not [p for p in engines_dir.iterdir() if p.name.startswith(".")]  # no temp folders left


@needs_network
def test_a_failed_install_names_the_installers_last_line(tmp_path: Path):
    with pytest.raises(SpecError) as e:
        rp.ensure_installed(rp.parse_engine("quickjs-ng@0.0.0.999"), tmp_path, lambda _msg: None)
    d = e.value.diagnostics[0]
    assert d.code == "E091" and "quickjs-ng==0.0.0.999" in d.message
    assert list(tmp_path.iterdir()) == []  # nothing half-installed stays behind


@needs_network
def test_concurrent_installs_both_succeed(tmp_path: Path):
    from concurrent.futures import ThreadPoolExecutor

    engine = rp.parse_engine("quickjs-ng-wasm@0.32.0")
    with ThreadPoolExecutor(2) as pool:
        homes = list(pool.map(lambda _i: rp.ensure_installed(engine, tmp_path, lambda _msg: None), range(2)))
    assert homes == [tmp_path / "quickjs-ng-wasm-0.32.0"] * 2 and (homes[0] / rp.MARKER).is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["quickjs-ng-wasm-0.32.0"]


def test_answers_are_compared_with_the_model():
    """Fourth review: the outcome is about the cleanup callback only, so a witness of a WeakMap.get
    mutant (always undefined) read `never` on node whatever get answered; the answers it printed
    are now read, and the ones that differ from the counterexample's are said first."""
    from specmc.proofs.witness.replay import Replay, render_text

    out = ("witness: returned call=obj0.set(obj0, obj0) value=obj0 model=obj0\n"
           "witness: returned call=obj0.get(obj0) value=obj0 model=undefined\n"
           "witness: returned call=obj1.deref() value=undefined\n"
           "witness: observed call=obj1.deref() value=obj1\n"
           "witness: result timing=never calls=0 maxdepth=0\n")
    r = Replay("node", "never", 0, out)
    doc = r.to_json()
    assert [(a["call"], a["same"]) for a in doc["answers"]] == [
        ("obj0.set(obj0, obj0)", True), ("obj0.get(obj0)", False), ("obj1.deref()", None),
        ("obj1.deref()", None)]
    assert doc["answers_differ"] == 1
    text = render_text(r)
    assert ("answers   2 compared with the model, 1 differ\n"
            "          obj0.get(obj0) answered obj0, the model undefined") in text
    assert "answers" not in render_text(Replay("node", "never", 0, "witness: result timing=never calls=0\n"))
