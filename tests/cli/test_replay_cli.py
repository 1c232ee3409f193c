"""`specmc replay` end to end: the JSON contract, the text report and the exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from specmc.proofs import exitcodes

from tests.conftest import ROOT
from tests.proofs.witness.test_replay import CHAIN, MINIMAL, needs_network, needs_node

KEYS = {"engine", "outcome", "exit_code", "answers", "answers_differ", "output"}


def specmc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "specmc.proofs", "replay", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=600, env={**os.environ, **(env or {})})


@pytest.fixture
def minimal(tmp_path: Path) -> Path:
    p = tmp_path / "minimal.js"
    p.write_text(MINIMAL, encoding="utf-8")
    return p


@needs_node
def test_node_json_contract(minimal: Path):
    r = specmc(str(minimal), "--on", "node", "--format", "json", "--timeout", "120")
    assert r.returncode == exitcodes.OK, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == KEYS
    assert out["engine"] == "node" and out["outcome"] == "asynchronous" and out["exit_code"] == 0
    assert "witness: result timing=asynchronous" in out["output"]


@needs_node
def test_text_report_and_any_outcome_exits_0(tmp_path: Path):
    w = tmp_path / "throws.js"
    # a witness that throws before its result line: the crash is reported, and exit 0
    w.write_text("throw new Error('boom');\n"
                 "console.log('witness: result timing=never calls=0 maxdepth=0');\n", encoding="utf-8")
    r = specmc(str(w), "--on", "node")
    assert r.returncode == exitcodes.OK, r.stderr
    assert r.stdout.startswith("engine    node\noutcome   crash\nexit code 1\n--- output ---\n")
    assert "Error: boom" in r.stdout


@pytest.mark.parametrize(("args", "code"), [
    (["missing.js", "--on", "node"], "E092"),
    (["WITNESS", "--on", "spidermonkey"], "E090"),
    (["WITNESS", "--on", "quickjs-ng"], "E090"),
    (["WITNESS", "--on", "node", "--timeout", "0"], "E093"),
    (["WITNESS", "--on", "node", "--timeout", "soon"], "E093"),
])
def test_input_errors_exit_2_with_a_code(minimal: Path, tmp_path: Path, args: list[str], code: str):
    args = [str(minimal) if a == "WITNESS" else str(tmp_path / a) if a.endswith(".js") else a for a in args]
    r = specmc(*args)
    assert r.returncode == exitcodes.INPUT_ERROR
    assert f"error {code}:" in r.stderr and "Traceback" not in r.stderr


def test_a_program_that_is_not_a_witness_is_bad_input(tmp_path: Path):
    """`console.log("hi")` was run and reported as `outcome crash`, exit 0 (sixth review): no run
    of it can print the result line the outcome is read from."""
    w = tmp_path / "notw.js"
    w.write_text('console.log("hi");\n', encoding="utf-8")
    r = specmc(str(w), "--on", "node")
    assert r.returncode == exitcodes.INPUT_ERROR, (r.returncode, r.stdout, r.stderr)
    assert "error E092:" in r.stderr and "notw.js" in r.stderr and "not a witness" in r.stderr
    assert "Traceback" not in r.stderr and "outcome" not in r.stdout


def test_a_missing_engine_option_is_a_usage_error(minimal: Path):
    r = specmc(str(minimal))
    assert r.returncode == exitcodes.INPUT_ERROR and "--on" in r.stderr


@needs_network
@pytest.mark.slow
def test_engine_install_failure_exits_2(minimal: Path, tmp_path: Path):
    r = specmc(str(minimal), "--on", "quickjs-ng@0.0.0.999", "--engines-dir", str(tmp_path / "cache"))
    assert r.returncode == exitcodes.INPUT_ERROR
    assert "error E091:" in r.stderr and "Traceback" not in r.stderr


@needs_network
@pytest.mark.parametrize(("engine", "outcomes"), [
    ("quickjs-ng@0.17.0.2", {"asynchronous"}),
    ("quickjs-ng-wasm@0.32.0", {"asynchronous"}),
    ("quickjs-ng-wasm@0.31.0", {"synchronous", "crash"}),
])
@pytest.mark.slow
def test_installed_engines_via_the_environment(engines_dir: Path, tmp_path: Path,
                                               engine: str, outcomes: set[str]):
    w = tmp_path / "chain.js"
    w.write_text(CHAIN, encoding="utf-8")
    r = specmc(str(w), "--on", engine, "--format", "json", "--timeout", "120",
               env={"SPECMC_ENGINES": str(engines_dir)})
    assert r.returncode == exitcodes.OK, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == KEYS and out["engine"] == engine and out["outcome"] in outcomes, out


@needs_network
def test_engines_dir_option_wins(engines_dir: Path, minimal: Path):  # noqa: F811
    r = specmc(str(minimal), "--on", "quickjs-ng-wasm@0.32.0", "--engines-dir", str(engines_dir),
               "--format", "json", env={"SPECMC_ENGINES": "/nonexistent/never-used"})
    assert r.returncode == exitcodes.OK, r.stderr
    assert json.loads(r.stdout)["outcome"] == "asynchronous"
