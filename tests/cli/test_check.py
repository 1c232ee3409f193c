"""`specmc check` end to end: plan discovery, the JSON contract, every output format, exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from xml.etree import ElementTree as ET

import pytest
from specmc.proofs import exitcodes

from tests.conftest import ROOT

SMALL = "objects=2,frames=4"


def specmc(*args: str, cwd=ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "specmc.proofs", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


PLAN = """
[[run]]
name = "small"
hosts = ["ecma262", "quickjs-ng-0.5"]
properties = ["held-value-once", "cleanup-not-on-free-stack"]
bounds = "{bounds}"
engine = "explicit"
timeout = 1200  # generous: under load a limit hit turns PROVED into UNKNOWN and fails the row

[run.expect.ecma262]
held-value-once = "PROVED"
cleanup-not-on-free-stack = "{vacuous}"  # a tracing host has no free operation

[run.expect."quickjs-ng-0.5"]
cleanup-not-on-free-stack = "VIOLATED"
"""


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("plan")
    (d / "specmc.toml").write_text(PLAN.format(bounds=SMALL, vacuous="PROVED (vacuous)"))
    return d


@pytest.fixture(scope="module")
def json_run(plan_dir):
    r = specmc("check", "--format", "json", "--certificates", str(plan_dir / "certs"), cwd=plan_dir)
    return r, json.loads(r.stdout)


@pytest.mark.slow
def test_json_contract_and_plan_discovery(json_run, plan_dir):
    r, out = json_run
    assert r.returncode == exitcodes.OK, r.stdout + r.stderr
    rows = {(x["host"], x["property"]): x for x in out["results"]}
    assert len(rows) == 4
    for x in out["results"]:
        assert set(x) >= {"spec", "host", "property", "verdict", "engine", "depth", "seconds", "expected",
                          "certificate", "trace"}
        assert x["verdict"] in ("VIOLATED", "PROVED", "BOUNDED", "UNKNOWN")
        assert x["spec"].endswith("spec/texts/finreg.html")  # "embedded" is reported as its path
    proved = rows[("ecma262", "held-value-once")]
    assert proved["verdict"] == "PROVED" and proved["expected"] == "PROVED"
    assert proved["certificate"].startswith(str(plan_dir / "certs"))
    # frames=4 is too shallow for a callback inside cleanup inside a job: the bound is reported as
    # reached, never as a violation
    assert proved["bounds_hit"]["frames"] > 0 and proved["label"] == "PROVED within bounds (frames hit)"
    assert proved["cover_reached"] is True and proved["vacuous"] is False
    vacuous = rows[("ecma262", "cleanup-not-on-free-stack")]
    assert vacuous["verdict"] == "PROVED" and vacuous["vacuous"]
    # true by construction on a tracing host (no free frame): proved with no search, so whether
    # runs hit a bound is not measured (a searched vacuous row reads "PROVED (vacuous; frames hit)")
    assert vacuous["label"] == "PROVED (vacuous)" and vacuous["trivial"] and vacuous["bounds_hit"] is None
    assert vacuous["ok"] and vacuous["cover"]
    bad = rows[("quickjs-ng-0.5", "cleanup-not-on-free-stack")]
    assert bad["verdict"] == "VIOLATED" and bad["trace"] and bad["depth"] == len(bad["trace"]) - 1
    assert all(set(t) >= {"clause", "step", "text", "stack"} for t in bad["trace"])
    assert rows[("quickjs-ng-0.5", "held-value-once")]["expected"] is None
    assert "ecma262" in r.stderr  # progress goes to stderr


@pytest.mark.slow
def test_verdict_differing_from_expectation_exits_1(tmp_path):
    (tmp_path / "specmc.toml").write_text(PLAN.format(bounds=SMALL, vacuous="PROVED"))
    r = specmc("check", "--host", "ecma262", "--format", "junit", "--out", str(tmp_path / "r.xml"),
               "--certificates", str(tmp_path / "c"), cwd=tmp_path)
    assert r.returncode == exitcodes.FINDING, r.stderr
    suites = ET.parse(tmp_path / "r.xml").getroot()
    fails = suites.findall(".//failure")
    # a vacuous proof the plan did not ask for fails the check
    assert len(fails) == 1 and "PROVED (vacuous), expected PROVED" in fails[0].get("message")
    assert r.stdout == ""  # the report went to --out


@pytest.mark.slow
def test_stale_expectation_exits_1(tmp_path):
    plan = PLAN.format(bounds=SMALL, vacuous="PROVED (vacuous)")
    plan += '\n[run.expect."gone-engine"]\nheld-value-once = "PROVED"\n'
    (tmp_path / "specmc.toml").write_text(plan)
    r = specmc("check", "--host", "ecma262", "--property", "held-value-once", "--certificates",
               str(tmp_path / "c"), cwd=tmp_path)
    assert r.returncode == exitcodes.FINDING
    assert "stale expectation" in r.stdout and "gone-engine" in r.stdout


def test_an_expectation_the_run_never_checks_is_stale(tmp_path):
    """`[run.expect.v8]` in a run whose hosts leave v8 out, and an expectation for a property the
    run does not list, were read and never compared with anything (exit 0). They fail as stale,
    located at the expectation; one that --host narrows away is the plan's still, not stale."""
    plan = tmp_path / "specmc.toml"
    plan.write_text('[[run]]\nhosts = ["ecma262", "v8"]\nproperties = ["spec-asserts"]\n'
                    'bounds = "objects=1"\nengine = "explicit"\n'
                    '[run.expect.v8]\nspec-asserts = "PROVED"\n'
                    '[run.expect."quickjs-ng-0.5"]\nspec-asserts = "PROVED"\n'
                    '[run.expect.ecma262]\nheld-value-once = "PROVED"\n')
    r = specmc("check", "--host", "ecma262", "--format", "json", "--quiet", "--certificates",
               str(tmp_path / "c"), cwd=tmp_path)
    assert r.returncode == exitcodes.FINDING, r.stderr
    stale = {(s["host"], s["property"]): (s["where"], s["why"]) for s in json.loads(r.stdout)["stale"]}
    assert stale == {("quickjs-ng-0.5", "spec-asserts"): ("specmc.toml:9:1", "not among the run's hosts"),
                     ("ecma262", "held-value-once"): ("specmc.toml:11:1", "not among the run's properties")}


@pytest.mark.parametrize("fmt", ["sarif", "markdown", "text"])
def test_formats(plan_dir, fmt):
    r = specmc("check", "--property", "cleanup-not-on-free-stack", "--host", "quickjs-ng-0.5",
               "--format", fmt, "--certificates", str(plan_dir / "certs"), cwd=plan_dir)
    assert r.returncode == exitcodes.OK, r.stderr
    if fmt == "sarif":
        doc = json.loads(r.stdout)
        assert doc["version"] == "2.1.0" and doc["runs"][0]["tool"]["driver"]["name"] == "specmc"
        (res,) = doc["runs"][0]["results"]
        assert res["ruleId"] == "cleanup-not-on-free-stack"
        rules = [x["id"] for x in doc["runs"][0]["tool"]["driver"]["rules"]]
        assert rules[res["ruleIndex"]] == "cleanup-not-on-free-stack"
        assert res["locations"][0]["physicalLocation"]["region"]["startLine"] > 0
    elif fmt == "markdown":
        assert r.stdout.startswith("| run | host | property |") and "<details>" in r.stdout
    else:
        assert "VIOLATED" in r.stdout and "replayed by the reference interpreter" in r.stdout


@pytest.mark.parametrize("args, code", [
    (("--bounds", "objects=0"), "E050"),
    (("--host", "nosuch"), "E060"),
    (("--property", "nosuch"), "E061"),
    (("--plan", "/nonexistent/specmc.toml"), "E001"),
    (("--depth", "-1"), "E075"),
])
def test_bad_input_exits_2(plan_dir, args, code):
    r = specmc("check", *args, cwd=plan_dir)
    assert r.returncode == exitcodes.INPUT_ERROR and code in r.stderr
    assert "Traceback" not in r.stderr


def test_bad_plan_file_is_located(tmp_path):
    (tmp_path / "specmc.toml").write_text("[[run]]\nhosts = ['ecma262']\nengine = 'magic'\n")
    r = specmc("check", cwd=tmp_path)
    assert r.returncode == exitcodes.INPUT_ERROR
    assert "specmc.toml:3:11: error E074" in r.stderr and "engine = 'magic'" in r.stderr


@pytest.mark.slow
def test_out_file_is_replaced_atomically(plan_dir, tmp_path):
    out = tmp_path / "report.json"
    out.write_text("old")
    r = specmc("check", "--host", "ecma262", "--property", "held-value-once", "--format", "json", "--out",
               str(out), "--force", "--certificates", str(plan_dir / "certs"), cwd=plan_dir)
    assert r.returncode == exitcodes.OK
    assert json.loads(out.read_text())["results"][0]["verdict"] == "PROVED"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


@pytest.mark.slow
def test_runs_made_alike_by_overrides_are_checked_once(tmp_path):
    """Two runs that differ only in bounds become the same job under --bounds: one engine run, and
    a row for each run; the run whose bounds --bounds changed is named for them."""
    plan = PLAN.format(bounds=SMALL, vacuous="PROVED (vacuous)")
    plan += plan.replace('name = "small"', 'name = "other"').replace(SMALL, "objects=2,frames=5")
    (tmp_path / "specmc.toml").write_text(plan)
    r = specmc("check", "--host", "ecma262", "--bounds", SMALL, "--format", "json", "--certificates",
               str(tmp_path / "c"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["results"]
    assert sorted({row["run"] for row in rows}) == [f"other, --bounds {SMALL}", "small"] and len(rows) == 4
    assert r.stderr.count("ecma262: explicit ...") == 1


NOTHING_REGISTERED = '''from specmc.proofs.properties import Property, register


def holds(prog, S):
    return S.d.eq(S.get("regs"), 0)


register(Property("no-registration", "nothing is ever registered", "sec-x", holds))
'''


def test_check_and_witness_take_a_properties_file(tmp_path):
    """A property of one's own, without writing a plan: check finds it violated, and witness
    writes that counterexample as JavaScript (witness had no way to name such a property)."""
    f = tmp_path / "props.py"
    f.write_text(NOTHING_REGISTERED, encoding="utf-8")
    common = ("--host", "v8", "--property", "no-registration", "--properties-file", "props.py",
              "--bounds", "objects=1,frames=4")
    r = specmc("check", *common, "--engine", "explicit", "--format", "json", "--certificates",
               str(tmp_path / "certs"), cwd=tmp_path)
    assert r.returncode == exitcodes.FINDING, r.stderr
    (row,) = json.loads(r.stdout)["results"]
    assert (row["property"], row["verdict"], row["host"]) == ("no-registration", "VIOLATED", "v8")
    w = specmc("witness", *common, "--out", str(tmp_path / "w.js"), cwd=tmp_path)
    assert w.returncode == exitcodes.OK, w.stderr
    text = (tmp_path / "w.js").read_text()
    assert "no-registration under v8" in text and ".register(" in text
    # the header and the command count the same thing: transitions (the header said "N+1-step")
    said = re.search(r"from a (\d+)-transition trace", w.stderr)
    header = re.search(r"^// .* from a (\d+)-transition counterexample\.$", text, re.M)
    assert said and header and said.group(1) == header.group(1) == str(row["depth"]), (w.stderr, text[:200])
    # the run is named for the bounds it ran at, not only "[default bounds]"
    assert "[default bounds]" not in w.stderr and "[default bounds, --bounds objects=1,frames=4]" in w.stderr


def test_witness_says_why_there_is_no_counterexample(tmp_path):
    """A search cut by its bound printed only "BOUNDED" (or "UNKNOWN"), not how far it went."""
    plan = tmp_path / "shallow.toml"
    plan.write_text('[[run]]\nname = "shallow"\nhosts = ["ecma262"]\nengine = "bmc"\ndepth = 2\n'
                    'bounds = "objects=1"\n')
    w = specmc("witness", "--plan", str(plan), "--host", "ecma262", "--property", "held-value-once",
               "--engine", "bmc", "--certificates", str(tmp_path / "c"), cwd=tmp_path)
    assert w.returncode == exitcodes.FINDING, w.stderr
    assert w.stderr.splitlines()[-1] == (
        "specmc: no counterexample for held-value-once under ecma262: BOUNDED "
        "at objects=1,cells=1,frames=6,jobs=1,steps=10000 (no violation in 2 steps) "
        "[run 'shallow']"), w.stderr


def test_check_properties_file_that_does_not_load_is_input_error(tmp_path):
    f = tmp_path / "props.py"
    f.write_text("this is not python\n", encoding="utf-8")
    r = specmc("check", "--host", "v8", "--properties-file", str(f), cwd=tmp_path)
    assert r.returncode == exitcodes.INPUT_ERROR and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.splitlines()[0].startswith(f"{f}:1:") and "E078" in r.stderr


def test_a_properties_file_cannot_replace_a_catalogue_property(tmp_path):
    """An always-true `unregister-result` came out PROVED under quickjs-ng-0.5 (where the shipped
    one is VIOLATED), and its certificate took the shipped one's name (independent review)."""
    f = tmp_path / "clash.py"
    f.write_text("from specmc.proofs.properties import Property, register\n"
                 "register(Property('unregister-result', 'always true', 'x', lambda prog, S: S.d.true()))\n")
    r = specmc("check", "--host", "quickjs-ng-0.5", "--property", "unregister-result", "--properties-file",
               str(f), "--certificates", str(tmp_path / "certs"), cwd=tmp_path)
    assert r.returncode == exitcodes.INPUT_ERROR and "Traceback" not in r.stderr, r.stderr
    first = [s for s in r.stderr.splitlines() if "E078" in s][0]
    assert first.startswith(f"{f}:2:") and "'unregister-result' is already a catalogue property" in first
    assert not (tmp_path / "certs").exists() or not any((tmp_path / "certs").iterdir())


_TAUTOLOGY = "replace(P.CATALOGUE['held-value-once'], holds=lambda prog, S: S.d.true())\n"


@pytest.mark.parametrize("body, say", [
    # the third review's override.py: a tautology in place of the shipped held-value-once
    ("P.CATALOGUE['held-value-once'] = " + _TAUTOLOGY, "does not support item assignment"),
    ("P._CATALOGUE['held-value-once'] = " + _TAUTOLOGY, "it replaces property 'held-value-once'"),
    ("del P._CATALOGUE['held-value-once']\n", "it removes property 'held-value-once'"),
    ("P._CATALOGUE = {}\n", "it rebinds the property catalogue"),
])
def test_a_properties_file_cannot_change_the_catalogue_past_register(tmp_path, body, say):
    """Assigning into CATALOGUE went past register's check: the CleanupFinalizationRegistry mutant
    without "Remove _cell_" is VIOLATED by held-value-once, and with the override it read
    "ok PROVED" and left a sealed certificate (third review, F8). Now E078, and nothing is checked."""
    f = tmp_path / "override.py"
    f.write_text("from dataclasses import replace\nfrom specmc.proofs import properties as P\n" + body)
    r = specmc("check", "--host", "ecma262", "--property", "held-value-once", "--properties-file", str(f),
               "--bounds", "objects=1", "--certificates", str(tmp_path / "certs"), cwd=tmp_path)
    assert r.returncode == exitcodes.INPUT_ERROR and "Traceback" not in r.stderr, r.stderr
    first = [s for s in r.stderr.splitlines() if "E078" in s][0]
    assert first.startswith(f"{f}:") and say in first, first
    assert not (tmp_path / "certs").exists() or not any((tmp_path / "certs").iterdir())


def test_a_properties_file_may_be_loaded_twice(tmp_path):
    """Engines in other processes, and the in-process run, load one file again: its own ids are
    registered again, which is not a change to the catalogue."""
    from specmc.proofs.properties import CATALOGUE
    from specmc.proofs.properties.userfile import load_properties_file

    f = tmp_path / "mine.py"
    f.write_text("from specmc.proofs.properties import Property, register\n"
                 "register(Property('mine-twice', 'x', 'x', lambda prog, S: S.d.true()))\n")
    load_properties_file(str(f))
    ids = set(CATALOGUE)
    load_properties_file(str(f))
    assert set(CATALOGUE) == ids


def test_two_properties_files_cannot_register_one_id(tmp_path):
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("from specmc.proofs.properties import Property, register\n"
                                     "register(Property('mine', 'x', 'x', lambda prog, S: S.d.true()))\n")
    r = specmc("check", "--host", "v8", "--property", "mine", "--properties-file", "a.py",
               "--properties-file", "b.py", cwd=tmp_path)
    assert r.returncode == exitcodes.INPUT_ERROR, r.stderr
    assert "'mine' is already registered by" in r.stderr and "a.py" in r.stderr


def test_one_properties_file_cannot_register_one_id_twice(tmp_path):
    """Review 7, F8: the second registration replaced the first without a word (an always-true
    definition turned the first's VIOLATED into PROVED)."""
    f = tmp_path / "twice.py"
    f.write_text("from specmc.proofs.properties import Property, register\n\n"
                 "register(Property('dup', 'x', 'x', lambda prog, S: S.d.eq(S.get('regs'), 0)))\n"
                 "register(Property('dup', 'y', 'x', lambda prog, S: S.d.true()))\n")
    r = specmc("check", "--host", "v8", "--property", "dup", "--properties-file", str(f),
               "--bounds", "objects=1,frames=3", cwd=tmp_path)
    assert r.returncode == exitcodes.INPUT_ERROR and "Traceback" not in r.stderr, r.stderr
    assert f"{f}:4:1: error E078" in r.stderr and "'dup' is registered twice in this file" in r.stderr


def test_witness_reports_a_predicate_that_cannot_be_read_as_input_error(tmp_path):
    """witness said 'no counterexample ...: UNKNOWN' and exit 1 where check gives the located E079."""
    f = tmp_path / "past.py"
    f.write_text("from specmc.proofs.properties import Property, register\n\n\n"
                 "def holds(prog, S):\n    return S.d.ne(S.get('frame_alg', S.get('sp')), 200)\n\n\n"
                 "register(Property('past', 'x', 'x', holds))\n")
    r = specmc("witness", "--host", "ecma262", "--property", "past", "--properties-file", str(f),
               "--bounds", "objects=1,frames=3", cwd=tmp_path)
    assert r.returncode == exitcodes.INPUT_ERROR and "Traceback" not in r.stderr, r.stderr
    assert f"{f}:5:" in r.stderr and "E079" in r.stderr and "frame_alg[3]" in r.stderr


WRAPS = '''from specmc.proofs.properties import Property, register


def holds(prog, S):
    sp = S.d.ite(S.d.lt(S.get("sp"), 3), S.get("sp"), 0)
    return S.d.ne(S.get("frame_alg", sp + 256), 200)


register(Property("wraps", "an index past 255 wraps", "sec-x", holds))
'''


@pytest.mark.parametrize("engine", ["explicit", "bdd"])
def test_an_index_computed_past_255_wraps_in_every_engine(tmp_path, engine):
    """Python's `+` gave the interpreter index 257 (E079) where the solvers' 8-bit sum wraps to
    1 (PROVED by pdr and bdd): the engines disagreed (independent review). Both readings wrap."""
    (tmp_path / "props.py").write_text(WRAPS)
    # a plan of one run: the embedded plan's two runs both name ecma262, and with the bounds
    # overridden they were the same job, decided twice (the bdd engine's half a minute, twice)
    (tmp_path / "specmc.toml").write_text('[[run]]\nname = "wraps"\nhosts = ["ecma262"]\n')
    r = specmc("check", "--host", "ecma262", "--property", "wraps", "--properties-file", "props.py",
               "--bounds", "objects=1,frames=3", "--engine", engine, "--format", "json",
               "--certificates", str(tmp_path / "certs"), cwd=tmp_path)
    assert "E079" not in r.stderr, r.stderr
    rows = json.loads(r.stdout)["results"]
    assert [(row["property"], row["verdict"]) for row in rows] == [("wraps", "PROVED")], rows


TRIVIAL = """from specmc.proofs.properties import Property, register

register(Property("sp-is-sp", "sp equals itself", "sec-weakref-execution",
                  lambda prog, S: S.d.eq(S.get("sp"), S.get("sp")),
                  cover=lambda prog, S: S.d.eq(S.get("sp"), S.get("sp")), cover_meaning="any state"))
# tautologies that z3.simplify leaves standing (an independent review's third round)
register(Property("sp-not-1-and-2", "sp is not both 1 and 2", "sec-weakref-execution",
                  lambda prog, S: S.d.not_(S.d.and_(S.d.eq(S.get("sp"), 1), S.d.eq(S.get("sp"), 2)))))
register(Property("sp-below-or-not", "sp is below 5 or not", "sec-weakref-execution",
                  lambda prog, S: S.d.or_(S.d.lt(S.get("sp"), 5), S.d.le(5, S.get("sp")))))
register(Property("sp-small", "the stack is below its bound", "sec-weakref-execution",
                  lambda prog, S: S.d.le(S.get("sp"), prog.layout.bounds.frames),
                  cover=lambda prog, S: S.d.eq(S.get("sp"), S.get("sp")), cover_meaning="any state"))
"""


def test_a_property_true_by_construction_is_vacuous_and_fails_check(tmp_path):
    """A predicate that is valid (a variable compared with itself, even with a cover every state
    meets; or a tautology that z3.simplify leaves standing, which a solver decides) is PROVED
    about nothing: labelled vacuous, `trivial` in JSON, and `check` fails unless the plan
    expects it. A real invariant over the same variable is not."""
    props = tmp_path / "props.py"
    props.write_text(TRIVIAL)
    trivial = {"sp-is-sp", "sp-not-1-and-2", "sp-below-or-not"}
    for engine in ("explicit", "kind"):
        r = specmc("check", "--host", "ecma262", "--engine", engine, "--properties-file", str(props),
                   *[a for p in (*trivial, "sp-small") for a in ("--property", p)], "--bounds",
                   "objects=1,frames=3", "--format", "json", "--quiet", "--certificates", str(tmp_path / "c"))
        assert r.returncode == exitcodes.FINDING, r.stderr
        rows = {(x["run"], x["property"]): x for x in json.loads(r.stdout)["results"]}
        assert {p for _, p in rows} == {*trivial, "sp-small"}
        for (_run, prop), x in rows.items():
            assert x["verdict"] == "PROVED", (engine, prop)
            assert x["trivial"] is (prop in trivial) and x["vacuous"] is (prop in trivial), (engine, prop)
            assert x["ok"] is (prop == "sp-small")


def test_a_check_that_decided_nothing_is_not_checked_not_a_pass(tmp_path):
    """Rows no engine decided (UNKNOWN: here a temporal property given to bmc, which cannot
    check one) with nothing expected: exit 4 and the summary counts them; a plan every run of
    which timed out used to pass with exit 0 (an independent review's third round)."""
    args = ("check", "--host", "v8", "--property", "eventually-delivered", "--engine", "bmc", "--bounds",
            "objects=1,frames=3", "--quiet", "--certificates", str(tmp_path / "c"))
    r = specmc(*args, "--format", "json")
    rows = json.loads(r.stdout)["results"]
    assert rows and {x["verdict"] for x in rows} == {"UNKNOWN"}, rows
    assert r.returncode == exitcodes.NOT_CHECKED and json.loads(r.stdout)["undecided"] == len(rows)
    assert f"{len(rows)} undecided (UNKNOWN or BOUNDED short of the cover" in specmc(*args).stdout


def test_a_bounded_row_that_met_no_cover_is_undecided_not_a_pass(tmp_path):
    """Fourth review: bmc at depth 1 ("no state within it meets the cover: nothing checked") passed
    with exit 0. It is undecided (exit 4)."""
    plan = tmp_path / "specmc.toml"
    plan.write_text('[[run]]\nname = "shallow"\nhosts = ["ecma262"]\nproperties = ["held-value-once"]\n'
                    'bounds = "objects=1,frames=3"\nengine = "bmc"\ndepth = 1\n')
    r = specmc("check", "--plan", str(plan), "--quiet", "--certificates", str(tmp_path / "c"),
               "--format", "json")
    [row] = {x["property"]: x for x in json.loads(r.stdout)["results"]}.values()
    assert row["verdict"] == "BOUNDED" and row["cover_reached"] is False, row
    assert r.returncode == exitcodes.NOT_CHECKED and json.loads(r.stdout)["undecided"] >= 1


def test_a_property_that_needs_weakmaps_says_so_and_is_proved_without_a_search(tmp_path):
    """weak-collection-results at weakmaps=weaksets=0 reads nothing: PROVED (vacuous) at once with
    the invariant true (no search: it took 96 s to search for nothing), a certificate that
    `recheck` accepts, and the reason names the bounds that would give it something to judge."""
    r = specmc("check", "--host", "ecma262", "--property", "weak-collection-results", "--bounds",
               "objects=1,frames=3", "--format", "json", "--quiet", "--certificates", str(tmp_path / "c"))
    assert r.returncode == exitcodes.FINDING, r.stderr
    (x,) = [x for x in json.loads(r.stdout)["results"] if x["run"].startswith("default")]
    assert x["verdict"] == "PROVED" and x["trivial"] is True and x["vacuous"] is True
    assert "no search" in x["method"]
    assert specmc("recheck", x["certificate"]).returncode == 0
    text = specmc("check", "--host", "ecma262", "--property", "weak-collection-results", "--bounds",
                  "objects=1,frames=3", "--quiet", "--certificates", str(tmp_path / "c")).stdout
    assert "it judges what exists only with weakmaps >= 1 or weaksets >= 1" in text


def test_a_profile_option_the_bounds_leave_out_is_noted_on_its_rows(tmp_path):
    """quickjs-ng-0.12's cycle collector does not run at slots=0: its rows say so (JSON `notes`,
    and the text beside the verdict); another host's rows in the same run carry no note."""
    args = ("check", "--host", "quickjs-ng-0.12", "--host", "quickjs-ng-0.6", "--property",
            "no-reentrant-cleanup", "--engine", "explicit", "--bounds", "objects=1,frames=4", "--quiet",
            "--certificates", str(tmp_path / "c"))
    r = specmc(*args, "--format", "json")
    notes = {x["host"]: x["notes"] for x in json.loads(r.stdout)["results"] if x["run"].startswith("default")}
    assert notes["quickjs-ng-0.6"] == [] and len(notes["quickjs-ng-0.12"]) == 1
    assert "cycle collection" in notes["quickjs-ng-0.12"][0]
    text = specmc(*args).stdout
    assert "quickjs-ng-0.12: its cycle collection (trial deletion) does not run at slots=0" in text


def test_recheck_against_never_runs_the_files_a_certificate_names(tmp_path):
    """A certificate records the properties files of its run as data; `recheck --against` used to
    run them, so a re-sealed certificate naming a file that stubbed out the check was accepted
    with a false invariant (an independent review). Now such a file is never run, a false
    invariant is refused, and a folder with no certificate is bad input."""
    import gzip

    from specmc.proofs.certify.fileformat import read, seal

    certs = tmp_path / "c"
    r = specmc("check", "--host", "ecma262", "--property", "weakref-not-dangling", "--engine", "explicit",
               "--bounds", "objects=1,frames=4", "--quiet", "--certificates", str(certs))
    assert "PROVED" in r.stdout, r.stdout + r.stderr  # (vacuous at objects=1: a certificate all the same)
    (cert,) = certs.glob("*.smt2.gz")
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.py"
    evil.write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\n"
                    "import specmc.proofs.certify.certificate as c\nc.discharge = lambda *a, **k: None\n")
    head, text = read(cert)
    body = text.split("; digest: ", 1)[1].split("\n", 1)[1]
    origin = json.loads(head["origin"])
    head["origin"] = json.dumps({**origin, "properties_files": [str(evil)]})
    start = body.index(";; invariant")
    end = body.index("\n;; ", start + 1) if "\n;; " in body[start + 1:] else len(body)
    false_inv = ";; invariant\n(assert false)\n"
    cert.write_bytes(gzip.compress(seal(head, body[:start] + false_inv + body[end + 1:]).encode()))
    for args in ((), ("--against",)):
        r = specmc("recheck", *args, str(cert))
        assert r.returncode == exitcodes.FINDING and "REJECTED" in r.stdout, (args, r.stdout, r.stderr)
    assert not marker.exists()
    (tmp_path / "empty").mkdir()
    r = specmc("recheck", str(tmp_path / "empty"))
    assert r.returncode == exitcodes.INPUT_ERROR and "no certificate" in r.stderr


def test_a_registry_freed_before_its_registrations_breaks_no_dangling_cell(tmp_path):
    """quickjs-ng-0.6 with its registry finalizer's walk (FreeObject step 3) deleted leaves live
    registrations that name a freed registry: the engine's records would point at freed memory.
    Every catalogue property used to pass that profile (an independent review); no-dangling-cell
    now counts such a registration. The shipped profile still proves it (the plan tests)."""
    text = (ROOT / "spec" / "hosts" / "quickjs-ng-0.6.html").read_text(encoding="utf-8")
    start = text.index("      1. If _obj_ has a [[Cells]] internal slot, then")
    end = text.index("      1. Free _obj_.")
    edited = tmp_path / "no-finalizer-walk.html"
    edited.write_text(text[:start] + text[end:], encoding="utf-8")
    r = specmc("check", "--host", str(edited), "--property", "no-dangling-cell", "--engine", "explicit",
               "--bounds", "objects=2,frames=5", "--format", "json", "--quiet", "--certificates",
               str(tmp_path / "c"))
    assert {x["verdict"] for x in json.loads(r.stdout)["results"]} == {"VIOLATED"}, r.stdout + r.stderr


def test_two_host_profiles_of_one_name_in_a_run_are_refused(tmp_path):
    """Fourth review: a copy of quickjs-ng-0.5's profile saved as fake/quickjs-ng-0.6.html beside the
    shipped quickjs-ng-0.6 gave two rows named quickjs-ng-0.6 (PROVED and VIOLATED) under one
    expectation, and no field told them apart. E071 at the run, before any engine runs."""
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "quickjs-ng-0.6.html").write_text(
        (ROOT / "spec" / "hosts" / "quickjs-ng-0.5.html").read_text(encoding="utf-8"), encoding="utf-8")
    plan = tmp_path / "specmc.toml"
    plan.write_text('[[run]]\nname = "dup"\nhosts = ["quickjs-ng-0.6", "fake/quickjs-ng-0.6.html"]\n'
                    'properties = ["cleanup-not-on-free-stack"]\nengine = "explicit"\n')
    r = specmc("check", "--plan", str(plan), "--certificates", str(tmp_path / "c"))
    assert r.returncode == exitcodes.INPUT_ERROR and "Traceback" not in r.stderr, r.stderr
    first = r.stderr.splitlines()[0]
    assert first.startswith(f"{plan}:1:1: error E071") and "two host profiles named 'quickjs-ng-0.6'" in first
    assert not r.stdout


WRAPPING_PROPERTIES = '''from specmc.proofs.properties import Property, register

register(Property("sp-wraps-below", "sp + 256 below 7", "sec-x",
                  lambda prog, S: S.d.lt(S.get("sp") + 256, 7)))
register(Property("sp-wraps-to-zero", "sp + 255 is not 0", "sec-x",
                  lambda prog, S: S.d.ne(S.get("sp") + 255, 0)))
'''


@pytest.mark.parametrize("engine", ["explicit", pytest.param("kind", marks=pytest.mark.slow)])
def test_python_arithmetic_in_a_properties_file_means_one_thing_to_every_command(tmp_path, engine):
    """Review 6, F1: the explorer read `S.get("sp") + 256` as a Python int and the solvers as a
    byte, so explore said VIOLATED where check said PROVED, and the reverse. Both wrap now."""
    f = tmp_path / "props.py"
    f.write_text(WRAPPING_PROPERTIES, encoding="utf-8")
    common = ("--host", "ecma262", "--bounds", "objects=1", "--properties-file", str(f),
              "--property", "sp-wraps-below", "--property", "sp-wraps-to-zero")
    r = specmc("explore", *common)
    labels = dict(re.findall(r"^(HOLDS|VIOLATED)\s+ecma262\s+(\S+)", r.stdout, re.M))
    assert {v: k for k, v in labels.items()} == {"sp-wraps-below": "HOLDS", "sp-wraps-to-zero": "VIOLATED"}, r
    r = specmc("check", *common, "--engine", engine, "--timeout", "300", "--format", "json",
               "--certificates", str(tmp_path / "certs"))
    rows = json.loads(r.stdout)["results"]
    assert rows and all(row["verdict"] == ("PROVED" if row["property"] == "sp-wraps-below" else "VIOLATED")
                        for row in rows), rows
    assert all(row["depth"] == 0 for row in rows if row["verdict"] == "VIOLATED"), rows  # the initial state


def test_a_vacuous_proof_names_the_algorithm_the_text_no_longer_defines(tmp_path):
    """Review 8: a text that renames CleanupFinalizationRegistry leaves the properties about its
    frames seeing none: PROVED (vacuous), and a review said "got worse" with no reason. The row now
    says which algorithm the text does not define."""
    import shutil

    from tests.proofs.review.test_review import SHARED

    head = tmp_path / "renamed"
    shutil.copytree(SHARED / "current", head)
    for f in head.glob("*.html"):
        f.write_text(f.read_text().replace("CleanupFinalizationRegistry", "CleanupRegistry"))
    r = subprocess.run([sys.executable, "-m", "specmc.proofs", "check", "--spec", str(head),
                        "--host", "ecma262", "--property", "cleanup-only-from-job", "--engine", "explicit",
                        "--bounds", "objects=1", "--certificates", str(tmp_path / "c")],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert "PROVED (vacuous)" in r.stdout, r.stdout + r.stderr
    assert "the text defines no CleanupFinalizationRegistry, which the property names" in r.stdout, r.stdout


def test_a_run_that_frees_inside_a_free_path_at_slots_0_says_the_engine_may_not(tmp_path):
    """Review 8: quickjs-ng-0.5's 51-transition no-freed-observed run frees the registry inside the
    free path that called the callback; quickjs.c defers that free, the model at slots=0 does not.
    The row says so; the seed's run, with one free path on the stack, carries no such note."""
    r = specmc("check", "--host", "quickjs-ng-0.5", "--property", "no-freed-observed", "--property",
               "cleanup-not-on-free-stack", "--engine", "explicit", "--format", "json", "--quiet",
               "--certificates", str(tmp_path / "c"))
    rows = {x["property"]: x for x in json.loads(r.stdout)["results"]}
    assert rows["no-freed-observed"]["verdict"] == "VIOLATED"
    [note] = rows["no-freed-observed"]["notes"]
    assert "frees inside a running free path" in note and "slots >= 1" in note
    assert rows["cleanup-not-on-free-stack"]["verdict"] == "VIOLATED"
    assert rows["cleanup-not-on-free-stack"]["notes"] == []
