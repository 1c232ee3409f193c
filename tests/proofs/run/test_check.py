"""proofs/run/check.py: how --host and --property narrow a plan's runs."""

from __future__ import annotations

from specmc.model.bounds import Bounds
from specmc.proofs.run.check import Overrides
from specmc.proofs.run.plan import Run


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
