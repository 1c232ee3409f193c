"""Plan files: the embedded default loads; every kind of mistake is a located E07x/E05x/E06x."""

from __future__ import annotations

import pytest
from specmc.proofs.run.plan import EMBEDDED_PLAN, load_plan, parse_plan
from specmc.spec.diagnostics import SpecError

# shipped hosts checked by a plan of their own rather than by the embedded one (whose time is budgeted)
OWN_PLANS = {"quickjs-ng-0.12": "quickjs-ng-versions.toml", "quickjs-ng-0.13": "quickjs-ng-versions.toml",
             "jsc": "jsc.toml"}


def _safety() -> set[str]:
    """The catalogue's safety properties that a plan over the embedded text lists: not the temporal
    one, nor one that `needs` WeakMaps or WeakSets, which that text does not define (there it is
    true by construction)."""
    from specmc.proofs.properties import CATALOGUE

    return {p.id for p in CATALOGUE.values() if p.temporal is None and not p.needs}


def test_embedded_plan_names_every_shipped_host_and_the_hazard():
    """Every shipped profile is checked somewhere: by the embedded plan, or by its own plan file."""
    from specmc.model.hosts import shipped

    plan = load_plan()
    assert plan.path == str(EMBEDDED_PLAN)
    main = plan.runs[0]
    assert set(main.hosts) == set(shipped()) - set(OWN_PLANS)
    for host, name in OWN_PLANS.items():
        assert host in load_plan(EMBEDDED_PLAN.parent / name).runs[0].hosts
    exp = {(e.host, e.property): e.verdict for e in main.expect}
    assert exp[("quickjs-ng-0.5", "cleanup-not-on-free-stack")] == "VIOLATED"
    assert exp[("ecma262", "no-dangling-cell")] == "PROVED"
    hazard = plan.runs[1]
    assert hazard.bounds.cells == 2 and hazard.expect[0].verdict == "VIOLATED"


def test_the_three_object_plan_loads_and_expects_what_the_docs_say():
    """proofs/plans/objects3.toml is run by hand (about 14 minutes on two cores), so its text is checked
    here: it parses, and every expectation is one the docs report as measured."""
    plan = load_plan(EMBEDDED_PLAN.parent / "objects3.toml")
    exp = {(e.host, e.property): e.verdict for r in plan.runs for e in r.expect}
    assert all(r.bounds.objects == 3 for r in plan.runs)
    assert exp == {("ecma262", "no-freed-observed"): "PROVED", ("ecma262", "deref-consistent"): "PROVED",
                   ("v8", "no-freed-observed"): "PROVED", ("v8", "deref-consistent"): "PROVED",
                   ("quickjs-ng-0.5", "no-freed-observed"): "VIOLATED"}


def test_the_object_graph_plan_expects_what_the_readme_table_reports():
    """proofs/plans/object-graph.toml is run by hand (about 14 minutes on two loaded cores): every
    shipped host against every safety property at objects=2, slots=1, each given an expectation,
    with exactly the violations the README's table lists and replays."""
    from specmc.model.hosts import shipped

    (run,) = load_plan(EMBEDDED_PLAN.parent / "object-graph.toml").runs
    safety = _safety()
    assert set(run.hosts) == set(shipped()) and set(run.properties) == safety
    assert (run.bounds.objects, run.bounds.cells, run.bounds.slots) == (2, 1, 1)
    exp = {(e.host, e.property): e.verdict for e in run.expect}
    assert set(exp) == {(h, p) for h in run.hosts for p in safety}
    assert {k for k, v in exp.items() if v == "VIOLATED"} == {
        ("quickjs-ng-0.5", "cleanup-not-on-free-stack"),
        *((h, p) for h in ("quickjs-ng-0.5", "quickjs-ng-0.6", "quickjs-ng-0.12", "quickjs-ng-0.13")
          for p in ("unregister-result", "argument-checks")),
        ("quickjs-ng-0.12", "deref-consistent"), ("quickjs-ng-0.13", "deref-consistent"),
        ("quickjs-ng-0.12", "no-freed-observed")}


def _versions_plan():
    return load_plan(EMBEDDED_PLAN.parent / "quickjs-ng-versions.toml")


def test_the_quickjs_ng_versions_plan_expects_what_the_findings_report():
    """proofs/plans/quickjs-ng-versions.toml: every safety property for both profiles at the default
    bounds, every property given an expectation, the same for both (without an object graph their
    enqueue tests never differ), with the violations docs/findings.md replays; then #1318 with the
    cycle collector, where they part, and three objects depth first, where both are violated."""

    run, cycles, deep = _versions_plan().runs
    safety = _safety()  # the temporal one runs apart
    assert run.hosts == ("quickjs-ng-0.12", "quickjs-ng-0.13") and set(run.properties) == safety
    assert run.bounds == load_plan().runs[0].bounds
    exp = {(e.host, e.property): e.verdict for e in run.expect}
    for host in run.hosts:
        row = {p: v for (h, p), v in exp.items() if h == host}
        assert set(row) == safety
        assert {p for p, v in row.items() if v == "VIOLATED"} == {"deref-consistent", "unregister-result",
                                                                  "argument-checks"}
    assert {p: v for (h, p), v in exp.items() if h == "quickjs-ng-0.12"} == \
        {p: v for (h, p), v in exp.items() if h == "quickjs-ng-0.13"}
    assert cycles.hosts == run.hosts and cycles.bounds.slots == 1
    assert {(e.host, e.property): e.verdict for e in cycles.expect} == {
        ("quickjs-ng-0.12", "no-freed-observed"): "VIOLATED",
        ("quickjs-ng-0.13", "no-freed-observed"): "PROVED"}
    assert deep.engine == "dfs" and deep.hosts == run.hosts and deep.bounds.objects == 3
    assert {(e.host, e.property): e.verdict for e in deep.expect} == {
        (h, "no-freed-observed"): "VIOLATED" for h in run.hosts}


@pytest.mark.slow
def test_the_quickjs_ng_versions_plan_holds(tmp_path):
    """The expectations hold: `specmc check --plan proofs/plans/quickjs-ng-versions.toml` passes
    (about 3 min on two cores)."""
    from specmc.proofs.run.check import check

    report = check(_versions_plan(), certificates=str(tmp_path))
    assert report.ok, [(r.host, r.property, r.outcome.label, r.expected) for r in report.rows if not r.ok]
    safety = len(_safety())
    assert len(report.rows) == 2 * safety + 4 and not report.stale  # + the #1318 run, + three objects


def test_the_jsc_plan_expects_what_the_findings_report():
    """proofs/plans/jsc.toml: every safety property at the default bounds, all PROVED (one vacuous,
    as for v8), and eventually-delivered VIOLATED for a batch of two (docs/findings.md)."""

    catalogue, batch = load_plan(EMBEDDED_PLAN.parent / "jsc.toml").runs
    safety = _safety()
    assert catalogue.hosts == batch.hosts == ("jsc",) and set(catalogue.properties) == safety
    assert catalogue.bounds == load_plan().runs[0].bounds
    exp = {e.property: e.verdict for e in catalogue.expect}
    assert set(exp) == safety
    vacuous = {p: v for p, v in exp.items() if v != "PROVED"}
    assert vacuous == {"cleanup-not-on-free-stack": "PROVED (vacuous)"}
    assert batch.bounds.cells == 2 and [(e.property, e.verdict) for e in batch.expect] == [
        ("eventually-delivered", "VIOLATED")]


@pytest.mark.slow
def test_the_jsc_plan_holds(tmp_path):
    """`specmc check --plan proofs/plans/jsc.toml` passes (about 2 minutes on two loaded cores); the
    lasso goes through a callback's throw."""
    from specmc.proofs.run.check import check

    report = check(load_plan(EMBEDDED_PLAN.parent / "jsc.toml"), certificates=str(tmp_path))
    assert report.ok, [(r.host, r.property, r.outcome.label, r.expected) for r in report.rows if not r.ok]
    (lasso,) = [r.outcome for r in report.rows if r.property == "eventually-delivered"]
    assert any(t["text"] == "throw" for t in lasso.trace)


@pytest.mark.slow
def test_the_delivery_plan_holds(tmp_path):
    """`specmc check --plan proofs/plans/delivery.toml` passes: eventually-delivered under every
    shipped host at the default bounds (about 25 s on two cores), each PROVED with a certificate
    and its cover reached, the spec's own host not applicable."""
    from specmc.model.hosts import shipped
    from specmc.proofs.run.check import check

    report = check(load_plan(EMBEDDED_PLAN.parent / "delivery.toml"), certificates=str(tmp_path))
    assert report.ok, [(r.host, r.property, r.outcome.label, r.expected) for r in report.rows if not r.ok]
    assert {r.host for r in report.rows} == set(shipped())
    for r in report.rows:
        if r.host != "ecma262":
            assert r.outcome.certificate and r.outcome.cover_reached, r.outcome


def _error(text: str, name: str = "specmc.toml"):
    with pytest.raises(SpecError) as e:
        parse_plan(f"/tmp/x/{name}", text)
    return e.value.diagnostics[0]


@pytest.mark.parametrize("text, code, line", [
    ("[[run]\nname = 1\n", "E070", 1),
    ("[[run]]\nhosts = ['ecma262']\nbogus = 3\n", "E072", 3),
    ("[[run]]\nhosts = ['nosuchhost']\n", "E060", 2),
    ("[[run]]\nbounds = 'objects=99'\n", "E050", 2),
    ("[[run]]\nbounds = 'objects'\n", "E051", 2),
    ("[[run]]\nengine = 'magic'\n", "E074", 2),
    ("[[run]]\ndepth = 'ten'\n", "E073", 2),
    ("[[run]]\ntimeout = -1\n", "E075", 2),
    ("[[run]]\nhosts = ['ecma262']\n[run.expect.ecma262]\nheld-value-once = 'FINE'\n", "E076", 4),
    ("name = 'no runs'\n", "E072", 1),  # a top-level key a plan does not have (review 8 F7)
    ("run = []\n", "E071", 1),
    ("# runs\n\nrun = 5\n", "E073", 3),  # at the key, not at line 1
    ("[[run]]\nname = 'a'\nhosts = ['v8']\n[[runs]]\nname = 'b'\n", "E072", 4),
    ("[[run]]\nhosts = ['v8']\n[runs.x]\n", "E072", 3),
    # review 8: an empty spec list built a model of no text, and a missing file was an unlocated
    # E001 once the run had started
    ("[[run]]\nhosts = ['v8']\nspec = []\n", "E073", 3),
    ("[[run]]\nhosts = ['v8']\nspec = ['nosuch.html']\n", "E001", 3),
    ("[[run]]\nhosts = ['v8']\n\nproperties_files = ['nosuch.py']\n", "E001", 4),
])
def test_bad_plans_are_located(text, code, line):
    d = _error(text)
    assert d.code == code
    assert d.loc is not None and d.loc.line == line and d.loc.file.endswith("specmc.toml")
    assert str(d.loc).count(":") == 2  # file:line:col


@pytest.mark.parametrize("plan", sorted(EMBEDDED_PLAN.parent.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_plan_loads(plan):
    """Every plan in proofs/plans/ loads: none uses a key the loader refuses (a top-level key other
    than `run` is E072 since review 8)."""
    assert load_plan(plan).runs


def test_pyproject_unknown_keys_are_located():
    d = _error("[project]\nname='x'\n[tool.specmc]\nname = 'y'\n[[tool.specmc.run]]\nhosts=['v8']\n",
               "pyproject.toml")
    assert (d.code, d.loc.line, d.loc.column) == ("E072", 4, 1) and "'name'" in d.message
    d = _error("[project]\nname='x'\n[[tool.specmc.run]]\nhosts=['v8']\n[[tool.specmc.runs]]\n",
               "pyproject.toml")
    assert (d.code, d.loc.line, d.loc.column) == ("E072", 5, 1) and "'runs'" in d.message
    d = _error("[project]\nname='x'\n[tool]\nspecmc = 5\n", "pyproject.toml")
    assert (d.code, d.loc.line) == ("E073", 4)


def test_pyproject_table():
    plan = parse_plan("/tmp/x/pyproject.toml",
                      "[project]\nname='x'\n[[tool.specmc.run]]\nhosts=['v8']\nbounds={objects=1}\n")
    assert plan.runs[0].hosts == ("v8",) and plan.runs[0].bounds.objects == 1
    assert _error("[project]\nname='x'\n", "pyproject.toml").code == "E071"
