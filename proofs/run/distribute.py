"""A plan's matrix on a Dask cluster: each (run, host) task of `specmc check` on a worker.

In process, `check` runs its tasks side by side as the cores of this machine allow
(`portfolio.run_many`). A sweep over many revisions, hosts and bounds wants more cores than one
machine has, so with `--scheduler ADDRESS` every task is submitted to that Dask scheduler
instead, and `--scheduler local` starts a `distributed.LocalCluster` on this machine (one worker
process per core, one task at a time each). A worker runs its task exactly as `check` would
here, its engines side by side in processes of their own, and sends back the outcomes; results
are gathered in the plan's order, so the report is the same as the in-process one whatever the
order in which workers finish.

Workers read the spec texts, host profiles and properties files by the paths in the plan and
write certificates to the folder `check` was given: on a cluster of several machines those paths
must be on a shared file system (docs/engines.md, "Sweeps on Dask").
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from specmc.proofs.engines import portfolio
from specmc.proofs.verdict import Outcome

LOCAL = "local"
CONNECT_TIMEOUT = 20  # seconds to reach a scheduler before the address is called unreachable


class SchedulerError(Exception):
    """The scheduler could not be reached or started (the message says which and why), or, with
    `lost`, the cluster lost a task (a worker died): not the user's input, an internal error."""

    def __init__(self, message: str, lost: bool = False) -> None:
        super().__init__(message)
        self.lost = lost


DAEMONIC = ("the Dask worker is a daemonic process, which may not start the engine processes a "
            "task needs: start the workers with DASK_DISTRIBUTED__WORKER__DAEMON=False")


class DaemonicWorker(Exception):
    """Raised on a worker that cannot start processes (sent back to the client as the reason)."""


def _run_task(task: portfolio.Task) -> dict[str, Outcome]:
    """On a worker: the task as `check` runs one, its engines side by side."""
    import multiprocessing

    if multiprocessing.current_process().daemon:
        raise DaemonicWorker(DAEMONIC)
    return portfolio.run_many([task], at_once=1)[0]


def run_many(tasks: list[portfolio.Task], scheduler: str,
             progress: Callable[[str], None] = lambda _m: None,
             connect_timeout: float = CONNECT_TIMEOUT) -> list[dict[str, Outcome]]:
    """Every task on the cluster at `scheduler` (or a local one); outcomes in the tasks' order."""
    try:
        import dask
        from distributed import Client, LocalCluster, as_completed
    except ImportError as e:
        raise SchedulerError(f"--scheduler needs the `distributed` package ({e}); "
                             "install it with: pip install 'specmc[dask]'") from None
    # a worker's task starts engine processes of its own, which a daemonic worker may not have
    with dask.config.set({"distributed.worker.daemon": False}):
        cluster: Any = None
        try:
            if scheduler == LOCAL:
                cluster = LocalCluster(n_workers=portfolio.slots(), threads_per_worker=1,
                                       processes=True, dashboard_address=None)
                client = Client(cluster)
            else:
                client = Client(scheduler, timeout=connect_timeout)
        except (OSError, TimeoutError, ValueError) as e:
            if cluster is not None:
                cluster.close()
            raise SchedulerError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
        try:
            progress(f"dask: {len(tasks)} task(s) on {client.scheduler.address} "
                     f"({len(client.scheduler_info().get('workers', {}))} worker(s))")
            futures = [client.submit(_run_task, t, pure=False, key=f"specmc-{os.getpid()}-{i}")
                       for i, t in enumerate(tasks)]
            index = {f.key: i for i, f in enumerate(futures)}
            for f in as_completed(futures):
                if f.status == "error":
                    if isinstance(f.exception(), DaemonicWorker):
                        raise SchedulerError(f"{scheduler}: {DAEMONIC}")
                    raise SchedulerError(f"{scheduler}: the cluster lost the task "
                                         f"{tasks[index[f.key]].label.strip(': ')!r}: {f.exception()!r}",
                                         lost=True)
                progress(f"{tasks[index[f.key]].label}done on the cluster")
            return list(client.gather(futures))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
