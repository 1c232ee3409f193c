"""Writing a file so that a reader never sees half of it: a temporary file beside it, then a
rename. One writer for reports, programs and certificates alike.

Only a regular file (or nothing) is ever replaced: a rename over a FIFO, a device or a link would
put a regular file in its place (`--out /dev/full --force` did, as root; third review, F6). What
--out names is read by proofs/output.py first, which sends a report to a FIFO or a descriptor in
place and a link's report to the file it names; here the rule is kept for every writer.

The temporary file is created private (mode 0600); the result gets the mode an ordinary `open`
would give it (0666 less the user's umask), so a report is as readable as any file the user
writes, and a certificate as shareable."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, content: str | bytes) -> None:
    """`content` at `path`, whole or not at all; FileExistsError when something other than a
    regular file is there."""
    path = Path(path)
    _regular_or_nothing(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.chmod(tmp, 0o666 & ~_umask())
        _regular_or_nothing(path)  # again: the content may have taken long to write
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _regular_or_nothing(path: Path) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        raise FileExistsError(errno.EEXIST, "not a regular file, which specmc never replaces", str(path))
