"""`specmc check --scheduler`: the plan's tasks on a Dask cluster (issue 19), from the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from specmc.proofs import exitcodes

from tests.conftest import ROOT

pytest.importorskip("distributed")

SEED = ("check", "--host", "quickjs-ng-0.5", "--property", "cleanup-not-on-free-stack", "--format", "json",
        "--quiet")


def specmc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "specmc.proofs", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)


@pytest.mark.slow
def test_a_local_cluster_finds_the_seed(tmp_path) -> None:
    done = specmc(*SEED, "--scheduler", "local", "--certificates", str(tmp_path))
    assert done.returncode == exitcodes.OK, done.stderr
    [row] = json.loads(done.stdout)["results"]
    assert row["verdict"] == "VIOLATED" and row["expected"] == "VIOLATED"
    assert "Traceback" not in done.stderr


def test_a_scheduler_that_is_no_address_is_bad_input(tmp_path) -> None:
    done = specmc(*SEED, "--scheduler", "not an address", "--certificates", str(tmp_path))
    assert done.returncode == exitcodes.INPUT_ERROR
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("specmc: --scheduler cannot reach the Dask scheduler at not an address")
