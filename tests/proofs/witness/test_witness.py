"""Witnesses: counterexamples as JavaScript, run on node, and the motivating bug on real engines."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from specmc.model.bounds import parse_bounds
from specmc.model.build import build
from specmc.model.explore import explore
from specmc.model.hosts import load_host, shipped
from specmc.model.trace import build_trace
from specmc.proofs.cli import main
from specmc.proofs.job import predicate
from specmc.proofs.properties import select
from specmc.proofs.witness.witness import WitnessError, activations, generate
from specmc.spec.load import load_spec

from tests.proofs.witness.test_replay import needs_network, needs_node


def _step(actor: str, text: str, stack: list[str], changed: dict | None = None) -> dict:
    return {"actor": actor, "text": text, "stack": stack, "changed": changed or {}, "clause": "", "step": ""}


def test_statements_land_in_the_activation_they_ran_in() -> None:
    u, fr = "user code", "FinalizationRegistry"
    trace = [
        _step("init", "the script starts", [u]),
        _step("mutator", "new FinalizationRegistry(callback)", [u, fr]),
        _step("mutator", "(built-in returned)", [u], {"root[0]": 1}),
        _step("mutator", "allocate {}", [u], {"root[1]": 1}),
        _step("mutator", "obj0.register(obj1, undefined, undefined)", [u, "register"]),
        _step("mutator", "(built-in returned)", [u]),
        _step("mutator", "drop obj1", [u, "FreeObject"]),
        _step("host", "call the callback", [u, "FreeObject", "HostCallJobCallback", u]),
        _step("mutator", "new WeakRef(obj0)", [u, "FreeObject", "HostCallJobCallback", u, "WeakRef"]),
        _step("mutator", "(built-in returned)", [u, "FreeObject", "HostCallJobCallback", u], {"root[1]": 1}),
        _step("mutator", "throw", [u, "FreeObject", "HostCallJobCallback"]),
    ]
    script, callback = activations(trace)
    assert script == ["obj0 = new FinalizationRegistry(callback);", "obj1 = {};",
                      "obj0.register(obj1, undefined, undefined);",
                      'phase = "drop obj1"; obj1 = undefined; phase = "script";']
    assert callback[0] == "obj1 = new WeakRef(obj0);"
    assert callback[1].startswith("throw ")


def test_an_action_it_cannot_write_is_refused() -> None:
    with pytest.raises(WitnessError):
        activations([_step("mutator", "obj0.cleanupSome()", ["user code"])])


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
])
def test_the_seed_witness_on_real_engines(seed_witness: Path, engines_dir: Path, engine: str,
                                          allowed: set[str], capsys: pytest.CaptureFixture) -> None:
    rc = main(["replay", str(seed_witness), "--on", engine, "--format", "json",
               "--engines-dir", str(engines_dir), "--timeout", "120"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["engine"] == engine
    assert doc["outcome"] in allowed, doc["output"]


def test_no_counterexample_means_no_witness(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rc = main(["witness", "--host", "quickjs-ng-0.6", "--property", "cleanup-not-on-free-stack", "--bounds",
               "objects=1,frames=4", "--certificates", str(tmp_path)])
    assert rc == 1
    assert "no counterexample" in capsys.readouterr().err
