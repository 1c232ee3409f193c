"""QuickJS-NG v0.12.1 and v0.13.0 as PyPI ships them (quickjs-ng 0.12.1.1, 0.13.0.1).

Two kinds of replay, both in docs/findings.md: the witnesses of the violations the profiles
report (the engines answer as their profiles say), and small programs for the engine bugs the
model cannot show, with what each version does. Every program is deterministic on these pinned
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
# quickjs-ng 0.17.0.2.
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
