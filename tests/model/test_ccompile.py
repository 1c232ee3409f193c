"""model/ccompile.py: which compiler, how it runs, and the cache of compiled models. Everything
here ends either in a compiled model or in `Unavailable` with the reason, never in a silent
replacement; what a compiled model searches is tests/model/test_cexplore.py's."""

from __future__ import annotations

import os

import pytest
from specmc.model import ccompile, cexplore
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import explore
from specmc.model.hosts import load_host
from specmc.spec.load import load_spec

from tests.model.searching import needs_compiler  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("needs_compiler")


def test_without_cc_tinycc_compiles_unoptimised_searches_only(monkeypatch, tmp_path):
    for name in ("tcc", "cc", "gcc"):
        _script(tmp_path / name, "exit 1\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CC", raising=False)
    assert cexplore.compiler("-O0") == (str(tmp_path / "tcc"),)
    assert cexplore.compiler("-O1") == (str(tmp_path / "cc"),)
    (tmp_path / "tcc").unlink()
    assert cexplore.compiler("-O0") == (str(tmp_path / "cc"),)
    monkeypatch.setenv("CC", "gcc")  # the user's choice stands at every level
    _script(tmp_path / "tcc", "exit 1\n")
    assert cexplore.compiler("-O0") == (str(tmp_path / "gcc"),)


def test_no_compiler_or_turned_off_is_said_not_hidden(monkeypatch, tmp_path):
    program = build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3))
    monkeypatch.setenv("SPECMC_NATIVE", "0")
    with pytest.raises(cexplore.Unavailable, match="SPECMC_NATIVE=0"):
        cexplore.Native(program, {})
    monkeypatch.delenv("SPECMC_NATIVE")
    monkeypatch.setenv("SPECMC_NATIVE_CACHE", str(tmp_path))
    monkeypatch.setenv("CC", "false")  # a compiler that always fails
    with pytest.raises(cexplore.Unavailable, match="the C compiler failed"):
        cexplore.Native(program, {})
    assert not list(tmp_path.glob("*.so"))  # nothing half-written is left to be loaded later


def test_the_cache_is_bounded(monkeypatch, tmp_path):
    monkeypatch.setenv("SPECMC_NATIVE_CACHE", str(tmp_path))
    monkeypatch.setattr(ccompile, "KEEP", 1)
    program = build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3))
    cexplore.Native(program, {})
    cexplore.Native(program, {"t": True})  # another text: another library, and the older goes
    assert len(list(tmp_path.glob("m*.so"))) == 1


_COMPILE = """
from specmc.model import cexplore
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import explore
from specmc.model.hosts import load_host
from specmc.spec.load import load_spec
program = build(load_spec(), load_host("{host}"), Bounds(objects=1, frames=3))
cexplore.Native(program, {{"t": True}}, key="{key}")
"""


@pytest.mark.slow
def test_a_damaged_or_foreign_cached_library_is_never_used(monkeypatch, tmp_path):
    """A truncated library (loading it would kill the process) is compiled again; another
    model's library copied in under this model's name, digest file and all, is removed and
    refused (Unavailable: the caller searches in Python), never searched. The libraries are
    compiled by other processes: this one must not have them loaded already."""
    import shutil
    import subprocess
    import sys

    monkeypatch.setenv("SPECMC_NATIVE_CACHE", str(tmp_path))
    program = build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3))
    subprocess.run([sys.executable, "-c", _COMPILE.format(host="v8", key="k")], check=True, env=os.environ)
    (lib,) = tmp_path.glob("m*.so")
    lib.write_bytes(lib.read_bytes()[:4096])  # truncated
    again = cexplore.Native(program, {"t": True}, key="k").search(10_000, 1_000_000)
    assert again.complete and again.count == explore(program, {}, 10_000).states

    subprocess.run([sys.executable, "-c", _COMPILE.format(host="ecma262", key="other")], check=True,
                   env=os.environ)
    (foreign,) = set(tmp_path.glob("m*.so")) - {lib}
    command = ccompile.compile_command(cexplore.compiler(), "-O0")
    mine = ccompile.cached_path(command, cexplore._full_key(program, [True], "k2"))
    shutil.copy(foreign, mine)
    shutil.copy(ccompile._sum_path(foreign), ccompile._sum_path(mine))
    with pytest.raises(cexplore.Unavailable, match="not the compiled form of this model"):
        cexplore.Native(program, {"t": True}, key="k2")
    assert not mine.exists()

def _script(path, body):
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_cc_is_a_command_and_its_flags_are_used(monkeypatch, tmp_path):
    """`CC="wrapper -O2"` runs that wrapper with -O2 (and then specmc's flags, without its own -O,
    since the user chose one); it was silently replaced by `cc` before."""
    import shutil

    log = tmp_path / "argv"
    real = shutil.which("cc") or shutil.which("gcc")
    wrapper = _script(tmp_path / "logging cc", f'echo "$@" >> "{log}"\nexec "{real}" "$@"\n')
    monkeypatch.setenv("SPECMC_NATIVE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CC", f"'{wrapper}' -O2 -DSPECMC_FROM_CC=1")
    assert cexplore.compiler() == (str(wrapper), "-O2", "-DSPECMC_FROM_CC=1")
    program = build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3))
    s = cexplore.Native(program, {}).search(10_000, 1_000_000)
    assert s.complete
    (argv,) = log.read_text().splitlines()
    assert argv.startswith("-O2 -DSPECMC_FROM_CC=1 ") and "-O0" not in argv.split()


@pytest.mark.parametrize("cc, reason", [("specmc-no-such-cc", "CC=specmc-no-such-cc is not found"),
                                        ("'gcc", "cannot be read as a command"),
                                        ("true", "wrote no library")])
def test_a_cc_that_cannot_compile_is_said_never_replaced(monkeypatch, tmp_path, cc, reason):
    monkeypatch.setenv("SPECMC_NATIVE_CACHE", str(tmp_path))
    monkeypatch.setenv("CC", cc)
    program = build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3))
    with pytest.raises(cexplore.Unavailable, match=reason):
        cexplore.Native(program, {})
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("value", ["0", "off", "false", "no", "OFF", " No "])
def test_specmc_native_off_in_any_usual_spelling(monkeypatch, value):
    monkeypatch.setenv("SPECMC_NATIVE", value)
    with pytest.raises(cexplore.Unavailable, match="the native search is turned off"):
        cexplore.compiler()


@pytest.mark.parametrize("value", ["1", "on", "true", "yes", "Yes", ""])
def test_specmc_native_on_in_any_usual_spelling(monkeypatch, value):
    monkeypatch.setenv("SPECMC_NATIVE", value)
    assert cexplore.compiler()


def test_specmc_native_not_understood_is_not_on(monkeypatch):
    monkeypatch.setenv("SPECMC_NATIVE", "disabled")
    with pytest.raises(cexplore.Unavailable, match="SPECMC_NATIVE=disabled is not understood"):
        cexplore.compiler()


# --- a compilation that is stopped --------------------------------------------------------------


def _gone(pid, within=10.0):
    """The process `pid` has ended (a zombie counts as ended: it runs nothing)."""
    import time

    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def _slow_cc(tmp_path):
    """A compiler whose driver starts a child (as gcc starts cc1) and waits for it for a minute;
    the child's pid is written to a file."""
    pid = tmp_path / "cc1.pid"
    body = f'sleep 60 &\necho $! > "{pid}.part"\nmv "{pid}.part" "{pid}"\nwait\n'
    return _script(tmp_path / "slowcc", body), pid


def _wait_for(path, within=30.0):
    import time

    end = time.monotonic() + within
    while not path.exists():
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.02)
    return int(path.read_text())


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_ctrl_c_during_a_compilation_stops_the_compiler_and_leaves_nothing(monkeypatch, tmp_path):
    """Before, the compiler's children went on for half a minute after Ctrl-C."""
    import signal
    import threading

    cc, pidfile = _slow_cc(tmp_path)
    cache = tmp_path / "cache"
    monkeypatch.setenv("SPECMC_NATIVE_CACHE", str(cache))
    monkeypatch.setenv("CC", str(cc))
    program = build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3))

    def interrupt():
        _wait_for(pidfile)
        os.kill(os.getpid(), signal.SIGINT)

    t = threading.Thread(target=interrupt)
    t.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            cexplore.Native(program, {})
    finally:
        t.join()
    assert _gone(int(pidfile.read_text()), within=5)
    assert not list(cache.iterdir())


_KILLED = """
from specmc.model import cexplore
from specmc.model.bounds import Bounds
from specmc.model.build import build
from specmc.model.explore import explore
from specmc.model.hosts import load_host
from specmc.spec.load import load_spec
cexplore.Native(build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3)), {})
"""


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_a_killed_engine_takes_its_compiler_and_temp_folder_along(tmp_path):
    """A time limit kills the engine outright (SIGKILL: no cleanup runs in it). Its compiler must
    stop too, and its temporary folder go (pruning is the fallback: see below)."""
    import signal
    import subprocess
    import sys
    import time

    cc, pidfile = _slow_cc(tmp_path)
    cache = tmp_path / "cache"
    env = {**os.environ, "SPECMC_NATIVE_CACHE": str(cache), "CC": str(cc)}
    engine = subprocess.Popen([sys.executable, "-c", _KILLED], env=env)
    try:
        child = _wait_for(pidfile)
    finally:
        engine.send_signal(signal.SIGKILL)
        engine.wait()
    assert _gone(child, within=5)
    for _ in range(100):  # the compiler's supervisor removes the temporary folder itself
        if not list(cache.glob("tmp*")):
            break
        time.sleep(0.05)
    assert not list(cache.glob("tmp*"))


def test_pruning_removes_leftovers_of_dead_processes_and_old_ones_only(tmp_path):
    import subprocess
    import time

    dead = subprocess.Popen(["true"])
    dead.wait()
    host = ccompile._HOST
    other = "0" * 8 if host != "0" * 8 else "1" * 8
    mine = tmp_path / f"tmp-{os.getpid()}-{host}-a"  # this process: compiling right now
    gone = tmp_path / f"tmp-{dead.pid}-{host}-b"  # its process has ended
    elsewhere = tmp_path / f"tmp-{dead.pid}-{other}-c"  # another machine's: only age tells
    young, old = tmp_path / "tmpyoung", tmp_path / "tmpold"  # an older specmc's names
    for d in (mine, gone, elsewhere, young, old):
        d.mkdir()
        (d / "model.c").write_text("")
    orphan = tmp_path / "m0123.sum"  # a digest whose library never came
    orphan.write_text("")
    hours_ago = time.time() - 2 * 3600
    for f in (old, orphan):
        os.utime(f, (hours_ago, hours_ago))
    ccompile._prune(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {mine.name, elsewhere.name, young.name}


# --- who may write the cache --------------------------------------------------------------------


def test_the_cache_folder_and_libraries_are_made_private(monkeypatch, tmp_path):
    cache = tmp_path / "a" / "cache"
    monkeypatch.setenv("SPECMC_NATIVE_CACHE", str(cache))
    old = os.umask(0o002)  # (a usual umask: group-writable files)
    try:
        cexplore.Native(build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3)), {})
    finally:
        os.umask(old)
    assert cache.stat().st_mode & 0o777 == 0o700
    (lib,) = cache.glob("m*.so")
    assert not lib.stat().st_mode & 0o022


def test_a_cache_others_can_write_is_never_loaded(monkeypatch, tmp_path):
    """Whoever can write the cache chooses code that specmc runs: a folder or a library another
    user owns, or that others can write, is refused with the reason (the caller searches in
    Python and says why)."""
    monkeypatch.setenv("SPECMC_NATIVE_CACHE", str(tmp_path))
    program = build(load_spec(), load_host("v8"), Bounds(objects=1, frames=3))
    cexplore.Native(program, {}, key="k")
    (lib,) = tmp_path.glob("m*.so")

    tmp_path.chmod(0o777)
    with pytest.raises(cexplore.Unavailable, match="can be written by others"):
        cexplore.Native(program, {}, key="k")
    with pytest.raises(cexplore.Unavailable, match="can be written by others"):
        cexplore.is_cached(program, {}, "-O0", "k")
    tmp_path.chmod(0o700)

    lib.chmod(0o666)
    with pytest.raises(cexplore.Unavailable, match=f"compiled model {lib} can be written by others"):
        cexplore.Native(program, {}, key="k")
    lib.chmod(0o700)

    me = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: me + 1)
    with pytest.raises(cexplore.Unavailable, match="belongs to another user"):
        cexplore.Native(program, {}, key="k")
    monkeypatch.setattr(os, "getuid", lambda: me)
    assert cexplore.Native(program, {}, key="k").search(10_000, 1_000_000).complete


# --- Ctrl-C during the C search -----------------------------------------------------------------
