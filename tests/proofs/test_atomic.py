"""The one atomic writer: whole files or nothing, with the mode an ordinary open would give."""

from __future__ import annotations

import os
import stat

import pytest
from specmc.proofs.atomic import write_atomic


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_the_written_file_has_the_mode_the_umask_gives(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        write_atomic(tmp_path / "r.json", "{}")
        write_atomic(tmp_path / "c.gz", b"\x1f\x8b")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "c.gz").stat().st_mode) == mode
    assert (tmp_path / "c.gz").read_bytes() == b"\x1f\x8b"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "report.txt"
    target.write_text("old")

    class Boom(str):
        def encode(self, *a, **k):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, Boom("new"))
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]


def test_never_renames_over_what_is_not_a_regular_file(tmp_path):
    """A rename puts a regular file where a FIFO, a device or a link was: `--out /dev/full --force`
    replaced the device, as root (third review, F6). Every writer refuses, and leaves it as it was."""
    fifo, link = tmp_path / "fifo", tmp_path / "link"
    os.mkfifo(fifo)
    (tmp_path / "real").write_text("mine")
    link.symlink_to(tmp_path / "real")
    for path in (fifo, link):
        with pytest.raises(FileExistsError, match="not a regular file"):
            write_atomic(path, "report")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and link.is_symlink()
    assert (tmp_path / "real").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "link", "real"]  # no temporary left
