"""A plan's tasks on a Dask cluster (proofs/run/distribute.py, issue 19): the same outcomes as the
in-process run, in the same order, from a real `distributed` cluster with two workers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from specmc.model.bounds import parse_bounds
from specmc.proofs.engines import portfolio
from specmc.proofs.run import distribute
from specmc.proofs.run.job import Job

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")


def tasks(certificates: Path) -> list[portfolio.Task]:
    bounds = parse_bounds("objects=2,cells=1,frames=6,jobs=1")
    props = ("cleanup-not-on-free-stack", "no-dangling-cell")
    return [portfolio.Task(Job(("embedded",), host, bounds, props, timeout=300,
                               certificates=str(certificates)), props, ("explicit",), f"{host}: ")
            for host in ("quickjs-ng-0.5", "ecma262")]


def comparable(results: list[dict]) -> list[dict]:
    """Outcomes without what depends on the machine's speed (both runs write their certificates
    to one folder, where a certificate is named by what it proves)."""
    return [{p: replace(o, seconds=0.0) for p, o in r.items()} for r in results]


def cluster(daemon: bool):
    with dask.config.set({"distributed.worker.daemon": daemon}):
        return distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                        dashboard_address=None)


@pytest.mark.slow
def test_a_cluster_of_two_workers_gives_the_in_process_outcomes(tmp_path: Path) -> None:
    here = portfolio.run_many(tasks(tmp_path))
    with cluster(daemon=False) as two:
        # the cluster is the test's own: run_many is given its address, as a user gives one
        lines: list[str] = []
        there = distribute.run_many(tasks(tmp_path), two.scheduler_address, lines.append)
    assert comparable(there) == comparable(here)
    assert [o.verdict for o in there[0].values()][0] == "VIOLATED"  # the seed, found on a worker
    assert lines[0].startswith("dask: 2 task(s) on ") and "2 worker(s)" in lines[0]
    assert len([m for m in lines if m.endswith("done on the cluster")]) == 2


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(distribute.SchedulerError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        distribute.run_many(tasks(tmp_path), "tcp://127.0.0.1:9", connect_timeout=1)


@pytest.mark.slow
def test_daemonic_workers_are_told_how_to_start(tmp_path: Path) -> None:
    """Dask's default workers are daemonic and may not start the engines' processes."""
    with cluster(daemon=True) as daemonic, pytest.raises(distribute.SchedulerError,
                                                         match="DASK_DISTRIBUTED__WORKER__DAEMON=False"):
        distribute.run_many(tasks(tmp_path)[:1], daemonic.scheduler_address)


@pytest.mark.slow
def test_a_task_the_cluster_loses_is_named_not_a_traceback(tmp_path: Path, monkeypatch) -> None:
    """A worker that dies (here: a task that raises on the worker) ends the check with the task's
    name, as an internal error, not a traceback from inside Dask."""
    def lost(task):
        raise RuntimeError("worker died")

    monkeypatch.setattr(distribute, "_run_task", lost)
    with cluster(daemon=False) as two, pytest.raises(distribute.SchedulerError, match="lost the task") as e:
        distribute.run_many(tasks(tmp_path)[:1], two.scheduler_address)
    assert e.value.lost and "quickjs-ng-0.5" in str(e.value)
