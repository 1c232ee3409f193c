"""Property tests: cut, splice, re-indent and corrupt real text; the result is IR or a
located diagnostic, never a traceback."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from specmc.spec import ir
from specmc.spec.diagnostics import SpecError
from specmc.spec.load import load_text

from tests.conftest import CURRENT, HISTORY

TEXTS = [
    (CURRENT / "finreg-excerpt.html").read_text(encoding="utf-8"),
    (HISTORY / "2020-04-06-df16d7df" / "finreg-excerpt.html").read_text(encoding="utf-8"),
    (HISTORY / "2021-07-14-f64df565" / "finreg-excerpt.html").read_text(encoding="utf-8"),
]
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def outcome(text: str) -> str:
    try:
        spec = load_text("fuzz.html", text)
    except SpecError as e:
        for d in e.diagnostics:
            assert d.render()
            if d.loc is not None:
                assert d.loc.line >= 1 and d.loc.column >= 1
        return "diagnostic"
    assert isinstance(spec, ir.Spec)
    for a in spec.algorithms:
        for s in a.walk():
            assert s.loc.line >= 1 and s.number
    return "ir"


@SETTINGS
@given(st.sampled_from(TEXTS), st.integers(0, 10**6), st.integers(0, 10**6))
def test_cut(text, a, b):
    a, b = sorted((a % len(text), b % len(text)))
    outcome(text[a:b] or "x")


@SETTINGS
@given(st.sampled_from(TEXTS), st.sampled_from(TEXTS), st.integers(0, 10**6), st.integers(0, 10**6))
def test_splice(t1, t2, a, b):
    outcome(t1[: a % len(t1)] + t2[b % len(t2):])


@SETTINGS
@given(st.sampled_from(TEXTS), st.data())
def test_reindent(text, data):
    lines = text.split("\n")
    idx = data.draw(st.lists(st.integers(0, len(lines) - 1), max_size=12))
    for i in idx:
        shift = data.draw(st.integers(-6, 6))
        stripped = lines[i].lstrip(" ")
        indent = max(0, len(lines[i]) - len(stripped) + shift)
        lines[i] = " " * indent + stripped
    outcome("\n".join(lines))


@SETTINGS
@given(st.sampled_from(TEXTS), st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(
    ["<", ">", "</emu-alg>", "<emu-alg>", "</emu-clause>", "1. ", "\n  1. ", "&", "_", "*",
     "«", "\x00", "\ufffd", "[[", "]]", "\t", ""])), max_size=8))
def test_corrupt(text, edits):
    for pos, junk in edits:
        pos %= len(text)
        text = text[:pos] + junk + text[pos + 1:]
    outcome(text)
