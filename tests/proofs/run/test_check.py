"""proofs/run/check.py: how --host and --property narrow a plan's runs, and when a row passes,
fails or decided nothing."""

from __future__ import annotations

import pytest
from specmc.model.bounds import Bounds
from specmc.proofs import exitcodes
from specmc.proofs.run.check import Overrides, Report, Row
from specmc.proofs.run.plan import Run
from specmc.proofs.verdict import PROVED, VACUOUS, VIOLATED, Outcome


def run(name: str, *hosts: str, properties: tuple[str, ...] = ()) -> Run:
    return Run(name=name, specs=("embedded",), hosts=hosts, properties=properties, properties_files=(),
               bounds=Bounds(), engine="portfolio", depth=60, timeout=600.0)


RUNS = (run("a", "ecma262", "v8"), run("b", "ecma262"))


def hosts(*asked: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(r.name, r.hosts) for r in Overrides(hosts=asked).select(RUNS)]


def test_no_host_keeps_every_run():
    assert hosts() == [("a", ("ecma262", "v8")), ("b", ("ecma262",))]


def test_hosts_the_plan_names_narrow_its_runs():
    assert hosts("v8") == [("a", ("v8",))]
    assert hosts("ecma262") == [("a", ("ecma262",)), ("b", ("ecma262",))]


def test_a_host_the_plan_does_not_name_is_checked_under_every_run():
    assert hosts("quickjs-ng-0.12") == [("a", ("quickjs-ng-0.12",)), ("b", ("quickjs-ng-0.12",))]


def test_every_host_asked_for_is_checked_when_some_are_named_and_some_not():
    assert hosts("v8", "quickjs-ng-0.12") == [("a", ("v8", "quickjs-ng-0.12")), ("b", ("quickjs-ng-0.12",))]


# the embedded plan's shape: a main run over the whole catalogue and one made for one property
PROPERTY_RUNS = (run("main", "ecma262", properties=("no-dangling-cell", "held-value-once")),
                 run("hazard", "ecma262", properties=("no-dangling-cell",)),
                 run("all", "v8"))


def properties(*asked: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(r.name, r.properties) for r in Overrides(properties=asked).select(PROPERTY_RUNS)]


def test_no_property_keeps_every_run_as_written():
    assert properties() == [(r.name, r.properties) for r in PROPERTY_RUNS]


def test_a_property_narrows_the_runs_that_name_it_and_drops_the_others():
    """--property used to replace every run's list: the hazard run, made for no-dangling-cell
    with an expectation for it alone, checked held-value-once and reported it not as expected."""
    assert properties("held-value-once") == [("main", ("held-value-once",)), ("all", ("held-value-once",))]
    dangling = ("no-dangling-cell",)
    assert properties(*dangling) == [("main", dangling), ("hazard", dangling), ("all", dangling)]


def test_a_property_no_run_names_is_checked_under_every_run():
    only_named = (PROPERTY_RUNS[0], PROPERTY_RUNS[1])
    got = [(r.name, r.properties) for r in Overrides(properties=("mine",)).select(only_named)]
    assert got == [("main", ("mine",)), ("hazard", ("mine",))]


def test_host_and_property_narrow_together():
    got = [(r.name, r.hosts, r.properties)
           for r in Overrides(hosts=("v8",), properties=("held-value-once",)).select(PROPERTY_RUNS)]
    assert got == [("all", ("v8",), ("held-value-once",))]


def row(expected: str | None, **outcome) -> Row:
    return Row("default", "embedded", "ecma262", "held-value-once", "objects=1",
               Outcome("held-value-once", PROVED, "bdd", **outcome), expected)


@pytest.mark.parametrize("expected", [None, PROVED.value, VACUOUS])
def test_a_proof_whose_cover_was_not_checked_neither_passes_nor_fails_what_depends_on_it(expected):
    """Sixth review (F12, F12b): a symbolic engine's "PROVED [cover not checked]" failed an expected
    `PROVED (vacuous)` (exit 1, though nothing contradicts it) and passed an expected PROVED (exit
    0, though it may be vacuous). Either way it decided nothing: undecided, exit 4."""
    open_cover = row(expected, cover_reached=None)
    assert open_cover.ok and "cover not checked" in open_cover.undecided
    assert Report("plan.toml", (open_cover,)).exit_code == exitcodes.NOT_CHECKED


def test_a_proof_whose_cover_was_not_checked_still_fails_a_contradicting_expectation():
    """The cover decides nothing about VIOLATED: a PROVED against it is a finding, exit 1."""
    wrong = row(VIOLATED.value, cover_reached=None)
    assert not wrong.ok and not wrong.undecided
    assert Report("plan.toml", (wrong,)).exit_code == exitcodes.FINDING


def test_a_decided_cover_decides_the_row():
    """With the cover decided (the explicit engine), a real proof passes PROVED with exit 0 and a
    vacuous one passes only `PROVED (vacuous)`."""
    real, empty = row(PROVED.value, cover_reached=True), row(PROVED.value, cover_reached=False)
    assert real.ok and not real.undecided and not empty.ok
    assert row(VACUOUS, cover_reached=False).ok and not row(VACUOUS, cover_reached=True).ok
    assert Report("plan.toml", (real,)).exit_code == exitcodes.OK


@pytest.mark.parametrize("expected", [None, PROVED.value])
def test_a_proof_cut_where_the_model_cannot_follow_the_text_is_undecided(expected):
    """Sixth review (F6): a text that appends one cell twice cuts every registering run at
    `cells-once`; "PROVED within bounds (cells-once hit)" passed with exit 0, though no bound
    lifts that cut. A `frames` cut, which a bound lifts, still passes an expected PROVED."""
    cut = row(expected, cover_reached=True, bounds_hit=(("cells-once", 98),))
    assert cut.ok and "cells-once" in cut.undecided
    assert Report("plan.toml", (cut,)).exit_code == exitcodes.NOT_CHECKED
    frames = row(expected, cover_reached=True, bounds_hit=(("frames", 3),))
    assert frames.ok and not frames.undecided
