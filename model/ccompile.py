"""Compiling the native explorer's C text, and the cache of compiled models.

Which compiler (`CC`, else TinyCC for unoptimised searches, else cc or gcc), how it runs (a
process group of its own under a supervisor, so that Ctrl-C or a killed engine takes it along),
and where its libraries live (a private folder keyed by the text's digest and the command,
pruned of old models and of what dead processes left). A setting specmc cannot read, a compiler
that cannot run, a folder others can write: `Unavailable`, with the reason, never a silent
replacement.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from specmc.model.cprint import ABI


class Unavailable(Exception):
    """The native search cannot run here (no compiler, disabled, a term it cannot print)."""


_ON = frozenset({"", "1", "on", "true", "yes"})
_OFF = frozenset({"0", "off", "false", "no"})


QUICK = ("tcc",)  # compilers tried first, without CC, for a search that asks no optimisation


def _optimised(flags: str) -> bool:
    return any(w.startswith("-O") and w != "-O0" for w in shlex.split(flags))


def compiler(flags: str = "-O0") -> tuple[str, ...]:
    """The C compiler's command: `$CC` split into words as a shell would (`CC="ccache gcc -m64"`
    works), its program looked up on the PATH; without CC, `cc` or `gcc`, except that `flags`
    asking no optimisation take TinyCC (`tcc`) first where it is installed: on the default
    models it compiles in 0.06 s what gcc -O0 takes 4.7 s for, and the code it makes searches
    as fast as gcc -O0's (docs/engines.md has the figures). Unavailable, saying
    why, when `SPECMC_NATIVE` turns the search off or is not understood, when CC names no program,
    or when there is no compiler: a CC that cannot run is never silently replaced by another
    compiler, and a setting specmc cannot read never silently means "on"."""
    setting = os.environ.get("SPECMC_NATIVE", "")
    word = setting.strip().lower()
    if word in _OFF:
        raise Unavailable(f"the native search is turned off (SPECMC_NATIVE={setting})")
    if word not in _ON:
        raise Unavailable(f"SPECMC_NATIVE={setting} is not understood (1, on, true, yes turn the "
                          "native search on; 0, off, false, no turn it off)")
    cc = os.environ.get("CC", "")
    if cc.strip():
        try:
            words = shlex.split(cc)
        except ValueError as e:
            raise Unavailable(f"CC={cc} cannot be read as a command: {e}") from None
        found = shutil.which(words[0])
        if not found:
            raise Unavailable(f"the C compiler CC={cc} is not found (no program {words[0]})")
        return (found, *words[1:])
    for name in ("cc", "gcc") if _optimised(flags) else (*QUICK, "cc", "gcc"):
        found = shutil.which(name)
        if found:
            return (found,)
    raise Unavailable("no C compiler found (set CC, or install gcc)")


def compile_command(cc: tuple[str, ...], flags: str) -> tuple[str, ...]:
    """The compile command without its file names: CC's words, then specmc's optimisation `flags`
    unless CC chose a level itself (for gcc and clang the last -O wins: the user's must stand)."""
    own = shlex.split(flags)
    if any(w.startswith("-O") for w in cc[1:]):
        own = [w for w in own if not w.startswith("-O")]
    return (*cc, *own, "-shared", "-fPIC", "-w")


def cache_dir() -> Path:
    """`$SPECMC_NATIVE_CACHE`, else `$XDG_CACHE_HOME/specmc/native` (by default under `~/.cache`):
    compiled models, by the digest of their C text (and compile command)."""
    if os.environ.get("SPECMC_NATIVE_CACHE"):
        return Path(os.environ["SPECMC_NATIVE_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "specmc" / "native"


def private(path: Path, folder: str = "the native cache folder", takes: str = "code",
            setting: str = "SPECMC_NATIVE_CACHE") -> None:
    """Unavailable unless `path` (the cache folder, or a library in it) belongs to this user and
    no one else can write it: whoever can write there chooses code that specmc loads and runs
    (or, for another cache, what it `takes` from it: verdicts). A folder or file that is not
    there yet is fine (it is made private when made)."""
    if not hasattr(os, "getuid"):
        return
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    what = folder if stat.S_ISDIR(st.st_mode) else "the compiled model"
    if st.st_uid != os.getuid():
        raise Unavailable(f"{what} {path} belongs to another user (uid {st.st_uid}): specmc takes no "
                          f"{takes} from it (set {setting} to a folder of your own)")
    if st.st_mode & 0o022:
        raise Unavailable(f"{what} {path} can be written by others (mode {stat.S_IMODE(st.st_mode):o}): "
                          f"specmc takes no {takes} from it (chmod go-w it, or set {setting})")


KEEP = 64  # compiled models kept in the cache; the least recently compiled go first
STALE = 3600.0  # seconds after which a temporary file or folder in the cache is a leftover

# the temporary folder a compilation works in: tmp-<pid>-<host>-<random>, so that a later run can
# tell that its process is gone (a process killed by a time limit runs no cleanup)
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
_TEMP = re.compile(r"tmp-(\d+)-([0-9a-f]{8})-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftover(entry: Path, now: float) -> bool:
    """A temporary folder of a process of this machine that is gone, or anything temporary older
    than STALE (another machine's, sharing the folder, or an older specmc's `tmp…` folder). A
    younger one may be another process compiling this very model at this moment."""
    m = _TEMP.match(entry.name)
    if m and m[2] == _HOST and not _alive(int(m[1])):
        return True
    try:
        return now - entry.lstat().st_mtime > STALE
    except FileNotFoundError:
        return False


def _prune(folder: Path) -> None:
    """Every reviewed revision and every mutant is a new model: without a bound the cache would
    grow by a few MB each time. Also removes what interrupted compilations left behind."""
    libs = sorted(folder.glob("m*.so"), key=lambda f: f.stat().st_mtime)
    for old in libs[:-KEEP]:
        old.unlink(missing_ok=True)
        _sum_path(old).unlink(missing_ok=True)
    now = time.time()
    for entry in folder.glob("tmp*"):
        if _leftover(entry, now):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
    for summed in folder.glob("m*.sum"):  # a digest whose library never arrived
        if not summed.with_suffix(".so").exists() and _leftover(summed, now):
            summed.unlink(missing_ok=True)


def cached_path(command: tuple[str, ...], key: str) -> Path:
    digest = hashlib.sha256(f"{ABI}\n{shlex.join(command)}\n{key}".encode()).hexdigest()[:32]
    return cache_dir() / f"m{digest}.so"


def library(make: Callable[[], str], flags: str, key: str) -> ctypes.CDLL:
    """The compiled library for `key`, from the cache, or compiled now from `make()` (written under
    a temporary name and renamed, so that two processes compiling the same model never see half a
    file). Each library answers `specmc_model()` with its own file name: a file that does not
    load (truncated, damaged) is compiled again; one that is another model's (copied or renamed
    into the cache) is removed and refused, since the loader would keep handing out the copy
    already loaded under that name. Nothing is loaded from a folder, or a file, that another user
    owns or can write."""
    command = compile_command(compiler(flags), flags)
    lib = cached_path(command, key)
    private(lib.parent)
    for attempt in (1, 2):
        if lib.exists() and not _intact(lib):
            lib.unlink(missing_ok=True)  # loading a truncated library kills the process (SIGBUS)
        if not lib.exists():
            _compile(command, make(), lib)
        private(lib)
        try:
            handle = ctypes.CDLL(str(lib))
        except OSError as e:
            if attempt == 1:
                lib.unlink(missing_ok=True)
                continue
            raise Unavailable(f"cannot load the compiled model {lib}: {e}") from None
        try:
            handle.specmc_model.restype = ctypes.c_char_p
            ident = handle.specmc_model()
        except AttributeError:
            ident = None
        if ident == lib.stem.encode():
            return handle
        lib.unlink(missing_ok=True)
        raise Unavailable(f"{lib} was not the compiled form of this model; removed (it is compiled "
                          "again on the next run)")
    raise AssertionError("unreachable")


def _sum_path(lib: Path) -> Path:
    return lib.with_suffix(".sum")


def _digest_of(f: Path) -> str:
    return hashlib.sha256(f.read_bytes()).hexdigest()


def _intact(lib: Path) -> bool:
    """The library's bytes are those its compilation wrote (its digest beside it)."""
    try:
        return _sum_path(lib).read_text().strip() == _digest_of(lib)
    except OSError:
        return False


# Runs the compiler (argv[2:]) in a process group of its own, and when its standard input reaches
# end of file, that is when the process that started it has given up on it or is gone (even killed
# outright by a time limit, which runs no cleanup), kills that whole group (the driver and cc1, as,
# ld below it) and removes the compilation's temporary folder (argv[1]).
_SUPERVISOR = r"""
import os, shutil, signal, subprocess, sys, threading, time
tmp, command = sys.argv[1], sys.argv[2:]
child = subprocess.Popen(command, stdin=subprocess.DEVNULL, process_group=0)
stopping = threading.Event()
def orphaned():
    while os.read(0, 4096):
        pass
    stopping.set()
    end = time.monotonic() + 1.0
    while time.monotonic() < end:  # until the group is empty: no last write into tmp after rmtree
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except OSError:
            break
        time.sleep(0.01)
    shutil.rmtree(tmp, ignore_errors=True)
    os._exit(128 + signal.SIGKILL)
threading.Thread(target=orphaned, daemon=True).start()
code = child.wait()
if stopping.is_set():
    threading.Event().wait()  # orphaned() is cleaning up, and ends this process
os._exit(code if code >= 0 else 128 - code)
"""


def _run(tmp: Path, command: list[str]) -> tuple[int, str]:
    """Run the compiler, working in `tmp`; its exit status and what it wrote to stderr. On any
    exception here (Ctrl-C, the SystemExit of an engine told to stop) the supervisor is let go of,
    so that it kills the compiler's process group and removes `tmp` even if this process is
    killed a moment later (a portfolio stopping its engines does that): a compilation of the
    largest models takes a minute of CPU that nobody would be waiting for."""
    proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", _SUPERVISOR, str(tmp), *command],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)  # (the terminal's Ctrl-C reaches this process only)
    assert proc.stdin is not None and proc.stderr is not None
    try:
        err = proc.stderr.read()  # (not communicate(): that closes stdin, which is the supervisor's leash)
        return proc.wait(), err.decode(errors="replace")
    except BaseException:
        proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        raise
    finally:
        proc.stdin.close()
        proc.stderr.close()


def _compile(command: tuple[str, ...], text: str, lib: Path) -> None:
    folder = lib.parent
    text += f'\nconst char *specmc_model(void) {{ return "{lib.stem}"; }}\n'
    shown = shlex.join(command[: len(command) - 3])  # (without -shared -fPIC -w)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        private(folder)
        _prune(folder)  # (first too: a run killed during every compilation would leave one each time)
        tmp = Path(tempfile.mkdtemp(prefix=f"tmp-{os.getpid()}-{_HOST}-", dir=folder))
        try:
            c = tmp / "model.c"
            c.write_text(text)
            out = tmp / "model.so"
            code, err = _run(tmp, [*command, "-o", str(out), str(c)])
            if code != 0:
                first = (err.strip().splitlines() or [f"exit status {code}"])[0]
                raise Unavailable(f"the C compiler failed ({shown}): {first}")
            if not out.exists():
                raise Unavailable(f"the C compiler ({shown}) wrote no library")
            os.chmod(out, 0o700)  # whatever the umask: a library others can write is never loaded
            summed = tmp / "model.sum"
            summed.write_text(_digest_of(out))
            os.replace(summed, _sum_path(lib))
            os.replace(out, lib)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _prune(folder)
    except OSError as e:
        raise Unavailable(f"cannot compile the model in {folder}: {e.strerror or e}") from None
