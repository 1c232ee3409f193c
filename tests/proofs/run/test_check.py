"""proofs/run/check.py: how --host narrows a plan's runs."""

from __future__ import annotations

from specmc.model.bounds import Bounds
from specmc.proofs.run.check import Overrides
from specmc.proofs.run.plan import Run


def run(name: str, *hosts: str) -> Run:
    return Run(name=name, specs=("embedded",), hosts=hosts, properties=(), properties_files=(),
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
