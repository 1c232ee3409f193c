"""Fuzzed user input (issue 18): plans, bounds strings, host profiles and command lines, cut,
spliced and corrupted from real ones. Each is accepted or refused with located diagnostics (exit
2 through the command line), never a traceback, and nothing is written outside `--out`."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from specmc.model.bounds import Bounds, parse_bounds
from specmc.model.build import build
from specmc.model.hosts import load_host, shipped
from specmc.proofs import exitcodes
from specmc.proofs.cli import main
from specmc.proofs.run.plan import EMBEDDED_PLAN, parse_plan
from specmc.spec.diagnostics import SpecError
from specmc.spec.load import load_spec

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
PLAN = EMBEDDED_PLAN.read_text(encoding="utf-8")
PROFILES = {name: Path(load_host(name).path).read_text(encoding="utf-8") for name in shipped()}
SPEC = load_spec()
TINY = Bounds(objects=1, frames=2)


def _refused_well(e: SpecError) -> None:
    assert e.diagnostics
    for d in e.diagnostics:
        line = d.render().splitlines()[0]
        assert line and "Traceback" not in line
        if d.loc is not None:
            assert d.loc.line >= 1 and d.loc.column >= 1


@st.composite
def damaged(draw: st.DrawFn, text: str) -> str:
    """A text with a few edits: a cut, a duplicated line, a line replaced by noise."""
    lines = text.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["cut", "duplicate", "noise", "truncate"]))
        if kind == "cut":
            del lines[i:i + draw(st.integers(1, 4))]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "noise":
            lines[i] = draw(st.text(alphabet='ab=[]"#<>/_.1 -\n\t', max_size=30)) + "\n"
        else:
            lines[i] = lines[i][:draw(st.integers(0, max(0, len(lines[i]) - 1)))]
    return "".join(lines)


@SETTINGS
@given(damaged(PLAN))
def test_damaged_plans_are_read_or_refused_with_a_location(text):
    try:
        plan = parse_plan("fuzz.toml", text)
    except SpecError as e:
        _refused_well(e)
        return
    assert plan.runs is not None


@SETTINGS
@given(st.text(alphabet="objectsframjpu=,0123456789 -.naife", max_size=40))
def test_bounds_strings_are_read_or_refused(text):
    try:
        b = parse_bounds(text)
    except SpecError as e:
        _refused_well(e)
        return
    assert isinstance(b, Bounds)


@SETTINGS
@given(st.sampled_from(sorted(PROFILES)).flatmap(lambda name: damaged(PROFILES[name])))
def test_damaged_host_profiles_are_built_or_refused(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("profile") / "host.html"
    path.write_text(text, encoding="utf-8")
    try:
        build(SPEC, load_host(str(path)), TINY)
    except SpecError as e:
        _refused_well(e)


BAD_ARGS = [
    ["--bounds", "objects=99"], ["--bounds", "objects=2,objects=3"], ["--timeout", "nan"],
    ["--timeout", "-1"], ["--depth", "0"], ["--host", "no-such-host"], ["--property", "no-such-property"],
    ["--plan", "/nonexistent/specmc.toml"], ["--spec", "/nonexistent.html"], ["--engine", "magic"],
    ["--format", "pdf"], ["--out", "/proc/specmc/report.txt"], ["--no-such-option"],
]
GOOD_ARGS = [["--host", "ecma262"], ["--property", "held-value-once"], ["--bounds", "objects=1,frames=2"],
             ["--engine", "explicit"], ["--format", "json"], ["--timeout", "5"]]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["check", "explore", "witness", "review"]), st.sampled_from(BAD_ARGS),
       st.lists(st.sampled_from(GOOD_ARGS), max_size=3), st.randoms())
def test_command_lines_with_a_bad_argument_exit_2_and_write_nothing(tmp_path_factory, command, bad, good,
                                                                     rnd):
    """Every command line here holds one bad argument among good ones (in any order): it must be
    refused before any work, with exit 2 and no traceback, and leave the folder as it was."""
    cwd = tmp_path_factory.mktemp("cwd")
    parts = [bad, *[g for g in good if g[0] != bad[0]]]  # a repeated option: the last one given wins
    rnd.shuffle(parts)
    argv = [command, *(["HEAD", "HEAD"] if command == "review" else []), *[a for p in parts for a in p]]
    err = io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(argv)
            except SystemExit as e:  # argparse's own refusals
                code = e.code
    finally:
        os.chdir(here)
    assert code == exitcodes.INPUT_ERROR, (argv, err.getvalue())
    assert "Traceback" not in err.getvalue()
    assert list(cwd.iterdir()) == [], argv
