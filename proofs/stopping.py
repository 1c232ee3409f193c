"""The signals that have asked the main process to stop (Ctrl-C, SIGTERM, SIGHUP), as
proofs/cli.py's handler records them.

The handler raises KeyboardInterrupt, and that is nearly always enough. But an exception raised
where Python cannot pass it on is dropped: in an `os.register_at_fork` callback (the parent's
side of forking an engine), a finalizer, a weakref callback. A signal that landed there used to
be lost: with the whole group signalled the engines were gone, and the run went on with the next
tasks. A loop that runs for long (proofs/engines/portfolio.py `run_many`) calls `check()`."""

from __future__ import annotations

came: list[int] = []  # (the list main() records into; emptied at its start)


def reset() -> list[int]:
    came.clear()
    return came


def check() -> None:
    """Raises KeyboardInterrupt once a stopping signal has come, whatever became of the first."""
    if came:
        raise KeyboardInterrupt
