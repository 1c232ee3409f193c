"""Source text with a line index, and the location every IR node carries.

Locations are computed once, from offsets into the file as read, so that every
later phase (model, proofs, reports) can point back at the exact column of the
text a user wrote without re-deriving anything.
"""

from __future__ import annotations

import bisect
import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Loc:
    """Where a node came from: file position plus the spec coordinates people cite."""

    file: str
    line: int
    column: int
    clause: str = ""
    algorithm: str = ""
    step: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def cite(self) -> str:
        """The clause/step citation as a reader of the spec would write it."""
        parts = [p for p in (self.clause, self.algorithm) if p]
        where = " / ".join(parts)
        if self.step:
            where = f"{where} step {self.step}" if where else f"step {self.step}"
        return where


@dataclass(frozen=True)
class SourceText:
    """A decoded file plus the offsets of its line starts (1-based lines, 1-based columns)."""

    path: str
    text: str
    line_starts: tuple[int, ...] = field(repr=False, default=())

    @staticmethod
    def of(path: str, text: str) -> SourceText:
        starts = [0]
        find = text.find
        i = find("\n")
        while i != -1:
            starts.append(i + 1)
            i = find("\n", i + 1)
        return SourceText(path, text, tuple(starts))

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column) of a character offset."""
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line + 1, offset - self.line_starts[line] + 1

    def line_text(self, line: int) -> str:
        if not 1 <= line <= len(self.line_starts):
            return ""
        start = self.line_starts[line - 1]
        end = self.line_starts[line] - 1 if line < len(self.line_starts) else len(self.text)
        return self.text[start:end]

    def loc(self, offset: int, clause: str = "", algorithm: str = "", step: str = "") -> Loc:
        line, col = self.position(offset)
        return Loc(self.path, line, col, clause, algorithm, step)


MAX_INPUT = 64 * 1024 * 1024  # bytes: a whole spec.html is about 3 MB


def read_input(path: str | Path) -> bytes:
    """The bytes of a file the user named as input (a spec text, plan, host profile, properties
    file, certificate, witness): a regular file of at most MAX_INPUT bytes. Anything else is an
    OSError whose strerror says why, for the caller's located message. `/dev/zero` was read until
    memory ran out and a FIFO blocked forever (fourth review). The file is opened without blocking
    and checked on the open descriptor, so one replaced by a FIFO after a check cannot hang it."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file (specmc reads no device, FIFO or socket)",
                          str(path))
        if st.st_size > MAX_INPUT:
            raise OSError(errno.EFBIG, f"larger than {MAX_INPUT // 2**20} MB", str(path))
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(MAX_INPUT + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_INPUT:
        raise OSError(errno.EFBIG, f"larger than {MAX_INPUT // 2**20} MB", str(path))
    return data
