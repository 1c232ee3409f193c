"""Verdicts of the explicit explorer on the shipped profiles (the issue's acceptance runs)."""

from __future__ import annotations

import pytest
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import explore
from specmc.model.hosts import load_host, shipped
from specmc.model.trace import build_trace
from specmc.proofs.properties import CATALOGUE
from specmc.spec.load import load_spec

from tests.conftest import CURRENT
from tests.model.searching import Searched, search


def run(host: str, bounds: Bounds, props=None, spec=None):
    program = build(spec or load_spec(), load_host(host), bounds)
    chosen = [CATALOGUE[p] for p in (props or CATALOGUE)]
    preds = {p.id: (lambda S, p=p: p.holds(program, S)) for p in chosen}
    return program, explore(program, preds, bounds.steps)


def searched(host: str, bounds: Bounds, props=None, spec=None) -> Searched:
    """`run` in C where a compiler is installed (tests/model/searching.py): for the default-bound
    searches, whose verdicts, not the Python explorer, these tests are about."""
    program = build(spec or load_spec(), load_host(host), bounds)
    return search(program, [CATALOGUE[p] for p in (props or CATALOGUE)], bounds.steps)


@pytest.mark.slow
def test_quickjs_05_calls_cleanup_on_the_stack_of_a_free():
    program, r = run("quickjs-ng-0.5", Bounds(), ["cleanup-not-on-free-stack", "no-dangling-cell"])
    assert set(r.violations) == {"cleanup-not-on-free-stack", "no-dangling-cell"}
    trace = build_trace(program, r.violations["cleanup-not-on-free-stack"])
    last = trace[-1]
    assert last.stack[-3:] == ("FreeObject", "HostCallJobCallback", "user code")
    assert any(t.clause == "host-quickjs-ng-0.5-free-object" for t in trace)
    assert any(t.text.startswith("Append _cell_ to") for t in trace)
    uaf = build_trace(program, r.violations["no-dangling-cell"])
    assert dict(uaf[-1].changed).get("err_uaf") == 1


@pytest.mark.parametrize("host", ["quickjs-ng-0.6"])
@pytest.mark.slow
def test_fixed_hosts_hold_the_seed_properties(host):
    r = searched(host, Bounds(), ["cleanup-not-on-free-stack", "no-dangling-cell", "cleanup-only-from-job"])
    assert not r.violations and r.complete


@pytest.mark.slow
def test_ecma262_holds_every_property_at_default_bounds():
    r = searched("ecma262", Bounds())
    assert not r.violations and r.complete
    assert r.states > 100_000


def test_excerpt_and_rendition_compile_to_the_same_models():
    ours, theirs = load_spec(), load_spec(CURRENT / "finreg-excerpt.html")
    b = Bounds(objects=1)
    for host in shipped():
        _, a = run(host, b, spec=ours)
        _, c = run(host, b, spec=theirs)
        assert (a.states, a.transitions, sorted(a.violations)) == \
            (c.states, c.transitions, sorted(c.violations)), host


@pytest.mark.slow
def test_excerpt_and_rendition_agree_at_default_bounds():
    ours, theirs = load_spec(), load_spec(CURRENT / "finreg-excerpt.html")
    props = ["cleanup-not-on-free-stack", "no-dangling-cell", "held-value-once"]
    for host in ("quickjs-ng-0.5", "quickjs-ng-0.6"):
        a = searched(host, Bounds(), props, spec=ours)
        c = searched(host, Bounds(), props, spec=theirs)
        assert (a.states, a.violations) == (c.states, c.violations), host


def test_a_text_that_runs_cleanup_synchronously_is_caught():
    """Mutation check: Execution calling CleanupFinalizationRegistry directly, instead of
    enqueueing the host hook's job, violates cleanup-only-from-job under the spec's own host."""
    from specmc.spec.load import load_text

    text = (CURRENT / "finreg-excerpt.html").read_text(encoding="utf-8")
    hook = "Optionally, perform HostEnqueueFinalizationRegistryCleanupJob(_fg_)."
    assert hook in text
    spec = load_text("mutant.html", text.replace(hook, "Perform CleanupFinalizationRegistry(_fg_)."))
    program, r = run("ecma262", Bounds(objects=1), ["cleanup-only-from-job"], spec=spec)
    trace = build_trace(program, r.violations["cleanup-only-from-job"])
    assert trace[-1].stack[-2:] == ("Execution", "CleanupFinalizationRegistry")
    _, clean = run("ecma262", Bounds(objects=1), ["cleanup-only-from-job"])
    assert clean.violations == {}


def test_unregister_complete_catches_an_unregister_that_forgets_to_remove():
    from specmc.spec.load import load_text

    text = (CURRENT / "finreg-excerpt.html").read_text(encoding="utf-8")
    start = text.index('id="sec-finalization-registry.prototype.unregister"')
    step = "1. Remove _cell_ from _finalizationRegistry_.[[Cells]]."
    at = text.index(step, start)
    mutant = text[:at] + "1. Set _removed_ to *true*." + text[at + len(step):]
    _, r = run("ecma262", Bounds(objects=1), ["unregister-complete"], spec=load_text("m.html", mutant))
    assert "unregister-complete" in r.violations
    _, clean = run("ecma262", Bounds(objects=1), ["unregister-complete"])
    assert clean.violations == {}
    # the same with unregister's locals renamed: the property read them by today's names, and a
    # renamed local made it true in every state (helper-15's review, found while fixing F8)
    renamed = mutant.replace("_finalizationRegistry_", "_registry_").replace("_unregisterToken_", "_token_")
    _, r = run("ecma262", Bounds(objects=1), ["unregister-complete"], spec=load_text("m.html", renamed))
    assert "unregister-complete" in r.violations


@pytest.mark.parametrize("host", shipped())
def test_excerpt_and_rendition_compile_to_identical_programs_at_default_bounds(host):
    """The same transitions (names, sites, IR of every step) and the same layout and initial
    state: the two models then have the same states and verdicts at any bounds."""
    from specmc.spec.render import node_json

    a = build(load_spec(), load_host(host), Bounds())
    b = build(load_spec(CURRENT / "finreg-excerpt.html"), load_host(host), Bounds())
    assert a.layout.names == b.layout.names and a.init == b.init
    assert [(c.name, c.site, c.actor) for c in a.commands] == \
        [(c.name, c.site, c.actor) for c in b.commands]
    assert [(x.name, x.locals, [node_json(s.stmt) if s else None for s in x.pcs])
            for x in a.algorithms] == \
        [(x.name, x.locals, [node_json(s.stmt) if s else None for s in x.pcs]) for x in b.algorithms]


def test_a_cell_appended_twice_ends_the_run_as_a_cut_not_silently():
    """The model keeps one owner per cell (a set of cells per registry): a text that appends a
    cell twice used to be a no-op the second time, and every property PROVED (helper-15, F4).
    Now the run ends there with `cut` = CUT_LISTS, reported as the bound "cells-once"."""
    from specmc.model.layout import CUT_LISTS
    from specmc.spec.load import EMBEDDED, load_text

    text = EMBEDDED.read_text(encoding="utf-8")
    step = "          1. Append _cell_ to _finalizationRegistry_.[[Cells]].\n"
    assert text.count(step) == 1
    twice = text.replace(step, step + step)
    for spec, cut in ((load_text("twice.html", twice), True), (load_spec(), False)):
        program = build(spec, load_host("ecma262"), Bounds(objects=1, frames=3))
        at = program.layout.where("cut")[0]
        r = explore(program, {}, 10_000, keep=True)
        assert r.complete
        assert any(s[at] == CUT_LISTS for s in r.reached) == cut
