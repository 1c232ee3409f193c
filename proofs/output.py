"""Where a command's report goes: a file named with --out, or the standard output.

A file is replaced atomically (proofs/atomic.py): a reader never sees half of it. That is right
for a regular file and wrong for everything else: `--out fifo --force` renamed a regular file over
the FIFO, and as root `--out /dev/full --force` replaced the device (third review, F6). So what
--out names is looked at first (`destination`):

- nothing there: a new file, written atomically;
- a regular file, or a symbolic link to one: replaced atomically with --force (a link's target is
  replaced, the link is kept);
- a FIFO: written in place, as a stream (its reader gets the report; nothing is replaced);
- a name of a descriptor this process has open (/dev/stdout, /dev/stderr, /dev/fd/N,
  /proc/self/fd/N, and links to them): written to that descriptor, whatever it is (a file the
  shell opened, a pipe, a terminal), as the shell's own redirection would;
- anything else (a folder, a device, a socket): refused, exit 2; --force does not change it.

The standard output is guarded while a command runs (`guarded_stdout`): a report it cannot take
(a full disk: ENOSPC) is E098 and exit 2, not a traceback with exit 1, which reads as a finding;
a reader that left (`| head -1`) ends the output quietly and the command keeps its own exit code.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from specmc.proofs.atomic import write_atomic
from specmc.spec import diagnostics as diag
from specmc.spec.diagnostics import SpecError

# a link that names one of this process's descriptors (Linux: /dev/stdout -> /proc/self/fd/1)
_DESCRIPTOR = re.compile(r"^/(?:proc/self|proc/thread-self|dev)/fd/(\d+)$")


@dataclass(frozen=True)
class Destination:
    """`kind` is how the report is written; `path` is where (a link's target for "file")."""

    path: Path
    kind: Literal["new", "file", "fifo", "descriptor"]
    fd: int = -1  # for "descriptor": the descriptor the name stands for


class Refused(Exception):
    """What --out names cannot take a report; the message says what it is."""


def _descriptor(path: Path) -> int | None:
    """The descriptor `path` names, following its links (None if it names none)."""
    p = str(path.absolute())
    for _ in range(40):  # the kernel's own limit on links followed
        m = _DESCRIPTOR.match(p)
        if m:
            return int(m.group(1))
        try:
            target = os.readlink(p)
        except OSError:
            return None
        p = os.path.normpath(os.path.join(os.path.dirname(p), target))
    return None


def _what(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def destination(given: str | Path) -> Destination:
    """How a report written to `given` would go there (module docstring); Refused when it cannot."""
    p = Path(given).absolute()
    fd = _descriptor(p)
    if fd is not None:
        return Destination(p, "descriptor", fd)
    try:
        mode = os.stat(p).st_mode  # follows links
    except (FileNotFoundError, NotADirectoryError):  # NotADirectory: a file above it (said by its caller)
        # a dangling link: its target is created, as the shell's `>` would
        return Destination(Path(os.path.realpath(p)), "new")
    except OSError as e:
        raise Refused(f"{p} cannot be examined ({e.strerror or e})") from None
    if stat.S_ISREG(mode):
        return Destination(Path(os.path.realpath(p)), "file")
    if stat.S_ISFIFO(mode):
        return Destination(p, "fifo")
    raise Refused(f"{p} is {_what(mode)}: --out writes a new or regular file (replaced atomically), a FIFO, "
                  "or a descriptor the shell opened (/dev/stdout, /dev/fd/N); --force does not change that")


def write_out(given: str | Path, content: str) -> None:
    """Write a report where `given` names (checked beforehand by proofs/commands/arguments.py). A
    write that fails (a full disk) is E077, exit 2; a FIFO or pipe whose reader left takes no more,
    quietly, as for the standard output."""
    try:
        _write_out(given, content)
    except BrokenPipeError:
        pass
    except (Refused, OSError) as e:
        reason = str(e) if isinstance(e, Refused) else e.strerror or str(e)
        raise SpecError([diag.make("E077", option="--out", path=given, reason=reason)]) from None


def _write_out(given: str | Path, content: str) -> None:
    d = destination(given)
    data = content.encode("utf-8")
    if d.kind in ("new", "file"):
        write_atomic(d.path, data)
        return
    if d.kind == "fifo":
        fd = os.open(d.path, os.O_WRONLY)  # never O_CREAT: a FIFO removed meanwhile is an error
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        return
    if d.fd in (1, 2):  # what Python may have buffered for it goes first
        (sys.stdout if d.fd == 1 else sys.stderr).flush()
    _write_all(d.fd, data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _Guarded:
    """sys.stdout while a command runs (module docstring): everything else is the stream's own."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._gone = False

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                return self._inner.write(text)
            except OSError as e:
                self._failed(e)
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._inner.flush()
            except OSError as e:
                self._failed(e)

    def _failed(self, e: OSError) -> None:
        self._gone = True
        # what is still buffered would fail again when the interpreter ends, with a traceback of
        # its own: the descriptor now writes to /dev/null, since nothing more can reach the reader
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self._inner.fileno())
            os.close(null)
        except (OSError, ValueError, AttributeError):
            pass  # not a descriptor (a test's capture): nothing is left to fail later
        if not isinstance(e, BrokenPipeError):  # the reader left: it wanted no more
            raise SpecError([diag.make("E098", reason=e.strerror or str(e))]) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextmanager
def guarded_stdout() -> Iterator[None]:
    """sys.stdout guarded for the block, and flushed at its end (a write the buffer took can still
    fail then), so that the failure is said by the command, not by the interpreter's exit."""
    inner = sys.stdout
    if inner is None or isinstance(inner, _Guarded):
        yield
        return
    guard = _Guarded(inner)
    sys.stdout = guard
    try:
        yield
    except SystemExit:  # --version and --help print, then exit
        guard.flush()
        raise
    else:
        guard.flush()
    finally:
        sys.stdout = inner
