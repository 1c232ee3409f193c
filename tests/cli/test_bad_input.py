"""Bad input through the `specmc` command: exit 2 and a located message, never a traceback.

Each case here was once accepted silently, or ended in a Python traceback (issue 18). The first
line of stderr must say where the problem is (FILE:LINE:COL when a file is involved) and which
code it is, so that an editor or CI log can jump to it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from proofs import exitcodes
from tests.conftest import ROOT

QJS = ROOT / "spec" / "hosts" / "quickjs-ng-0.5.html"


def specmc(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "proofs", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def _bad(r: subprocess.CompletedProcess[str], code: str, where: str | None = None) -> str:
    """The run exited 2 with `code` on the first line of stderr (located at `where` if given)."""
    assert r.returncode == exitcodes.INPUT_ERROR, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    first = r.stderr.splitlines()[0]
    assert code in first, r.stderr
    if where is not None:
        assert first.startswith(where + ": "), first
    return first


def _line_col(path: Path, needle: str) -> str:
    """FILE:LINE:COL of the first occurrence of `needle` in `path`."""
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return f"{path}:{i}:{line.index(needle) + 1}"
    raise AssertionError(f"{needle!r} not in {path}")


# --- host profile headers -------------------------------------------------------------------

def _profile(tmp_path: Path, old: str, new: str) -> Path:
    text = QJS.read_text(encoding="utf-8")
    assert old in text
    f = tmp_path / "damaged.html"
    f.write_text(text.replace(old, new, 1), encoding="utf-8")
    return f


def test_misspelled_collector_is_an_error_not_a_tracing_host(tmp_path):
    """The issue's case: `colector` used to make the profile a tracing host, and every property
    PROVED; the seed bug disappeared without a word."""
    f = _profile(tmp_path, "<dt>collector</dt>", "<dt>colector</dt>")
    r = specmc("check", "--host", str(f), "--property", "cleanup-not-on-free-stack",
               "--certificates", str(tmp_path / "certs"))
    first = _bad(r, "E067", _line_col(f, "colector"))
    assert "'colector'" in first and "collector, free path, cleanup scheduling, unregister tokens" in first
    assert not r.stdout


def test_unknown_header_value_names_the_allowed_ones(tmp_path):
    f = _profile(tmp_path, "<dd>reference counting</dd>", "<dd>refcounting</dd>")
    first = _bad(specmc("explore", "--host", str(f), "--property", "held-value-once"), "E066",
                 _line_col(f, "refcounting"))
    assert "tracing | reference counting" in first


@pytest.mark.parametrize("old, key", [
    ("<dt>collector</dt>\n    <dd>reference counting</dd>\n", "collector"),
    ("<dt>free path</dt>\n    <dd>FreeObject</dd>\n", "free path"),
])
def test_missing_required_header_key(tmp_path, old, key):
    f = _profile(tmp_path, old, "")
    first = _bad(specmc("explore", "--host", str(f), "--property", "held-value-once"), "E068",
                 _line_col(f, '<dl class="header">'))
    assert f"'{key}'" in first


def test_duplicate_header_key(tmp_path):
    f = _profile(tmp_path, "<dt>unregister tokens</dt>\n    <dd>strong</dd>\n",
                 "<dt>unregister tokens</dt>\n    <dd>strong</dd>\n    <dt>unregister tokens</dt>\n"
                 "    <dd>weak</dd>\n")
    lines = f.read_text(encoding="utf-8").splitlines()
    second = [i for i, s in enumerate(lines, 1) if "<dt>unregister tokens</dt>" in s][1]
    first = _bad(specmc("explore", "--host", str(f), "--property", "held-value-once"), "E069",
                 f"{f}:{second}:9")
    assert "given twice" in first


def test_shipped_profiles_still_load():
    from model.hosts import load_host, shipped

    kinds = {h: load_host(h).collector for h in shipped()}
    assert kinds == {"ecma262": "tracing", "quickjs-ng-0.5": "reference counting",
                     "quickjs-ng-0.6": "reference counting", "v8": "tracing"}

