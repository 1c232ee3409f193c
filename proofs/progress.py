"""What a long run says while it works, on stderr.

Two kinds of message: lines (a run started, a verdict was reached: kept in the log) and statuses
(how far an engine has got: states, depth, seconds; replaced by the next one). Statuses are shown
only on a terminal, as one line rich keeps updating, so a CI log holds the lines and nothing
else; `--quiet` silences both. rich honours NO_COLOR."""

from __future__ import annotations

import sys
from typing import Any


class Status(str):
    """A transient message: how far an engine has got."""

    def prefixed(self, prefix: str) -> Status:
        return Status(prefix + self)


def prefixed(prefix: str, msg: str) -> str:
    """`prefix + msg`, keeping a Status a Status."""
    return msg.prefixed(prefix) if isinstance(msg, Status) else prefix + msg


class Printer:
    """The command line's progress callback (`printer(msg)`), and the context that ends its
    status line."""

    def __init__(self, quiet: bool = False, stream: Any = None) -> None:
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.live = not quiet and self.stream.isatty()
        self._console: Any = None
        self._status: Any = None

    def __call__(self, msg: str) -> None:
        if self.quiet:
            return
        if isinstance(msg, Status):
            if not self.live:
                return
            if self._status is None:
                from rich.console import Console

                self._console = Console(file=self.stream, highlight=False)
                self._status = self._console.status(str(msg))
                self._status.start()
            else:
                self._status.update(str(msg))
            return
        if self._console is not None:
            self._console.print(str(msg), markup=False, highlight=False)
        else:
            print(msg, file=self.stream, flush=True)

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
