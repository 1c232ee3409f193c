"""Shared fixtures: where the real ECMA-262 text lives (../shared, never copied here)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# The suite's own verdict cache and certificate folder: a test must see engines decide (not a
# verdict an earlier run left in the user's cache), and must leave nothing in ~/.cache.
# Subprocesses (the CLI tests) inherit these.
_SCRATCH = Path(tempfile.mkdtemp(prefix="specmc-tests-"))
os.environ["SPECMC_CACHE"] = str(_SCRATCH / "verdicts")
os.environ["SPECMC_CERTIFICATES"] = str(_SCRATCH / "certificates")
os.environ["SPECMC_NATIVE_CACHE"] = str(_SCRATCH / "native")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "ecma262"
CURRENT = SHARED / "current"
HISTORY = SHARED / "history"
FULL = SHARED / "full"


def snapshot_folders() -> list[Path]:
    if not SHARED.exists():
        return []
    return sorted(p for p in HISTORY.iterdir() if p.is_dir()) + [CURRENT]


@pytest.fixture(scope="module", autouse=True)
def _shipped_catalogue():
    """A test that runs a command in process with `--properties-file` adds that file's properties
    to the one global catalogue, where every later test in the process would find them (a test of
    the whole catalogue then checks a property nobody asked for: seen when pytest-xdist ran another
    file's tests after tests/proofs/witness/test_witness.py). Each module starts from, and leaves,
    the catalogue as it was."""
    from specmc.proofs import properties

    saved = dict(properties._CATALOGUE), dict(properties._ORIGIN)
    yield
    for table, before in zip((properties._CATALOGUE, properties._ORIGIN), saved, strict=True):
        table.clear()
        table.update(before)


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.exists():
        pytest.fail(f"the real ECMA-262 text is expected at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def engines_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One engine cache per test run, shared by every test module, so that each engine installs once.
    Under pytest-xdist each worker has a temporary folder of its own inside the run's: the cache
    sits beside them, shared too (an install is atomic, replay.py `_install`)."""
    env = os.environ.get("SPECMC_ENGINES")
    if env:
        return Path(env)
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "specmc-engines"


# shipped profiles that compile to the same model as another shipped profile (pinned by
# tests/model/test_quickjs_ng_versions.py): the slow per-host sweeps check one of each model
SAME_MODEL_AS: dict[str, str] = {}  # quickjs-ng-0.13 was quickjs-ng-0.12's twin until #1318's enqueue test


def distinct_models() -> list[str]:
    """Shipped host names, one per distinct compiled model."""
    from specmc.model.hosts import shipped

    return [h for h in shipped() if h not in SAME_MODEL_AS]
