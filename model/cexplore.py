"""The explicit explorer in C: the same breadth-first search, over the same Z3 terms, at native speed.

model/explore.py runs each command as a Python function printed from its Z3 terms
(model/native.py); at the default bounds that is about 10,000 states a second, and the
explicit engine spends most of the main job there. Here the very same terms (every command's
guard and writes, every property's predicate) are printed as C, compiled once per model with
the system's C compiler and cached by the source's digest, and the whole search runs in one
call: states packed one byte per variable in one array, an open-addressing visited set, each
state's parent and command kept for traces.

What stays the same as the Python explorer, so that either can stand for the other (a test
compares them state for state): the order of commands at each state (the site's commands, then
the unsited ones), breadth-first order, when a property is checked, when the search stops, and
what `complete` means. What is given up: predicates must be printable (every catalogue and user
property is, being written over the domain); a model with a term the printer does not know is
searched in Python, and the caller is told why (`Unavailable`).

No compiler, a `CC` that names no program, `SPECMC_NATIVE` off (or not understood), a cache
folder others can write, a term the printer does not know: `Unavailable` with the reason, and the
caller falls back to Python and says why. Nothing is ever replaced silently.
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
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import z3
from specmc.model.layout import Layout
from specmc.model.native import Syntax, Untranslatable, _Nodes, _Printer
from specmc.model.program import Command, Program
from specmc.model.symbolic import command_term, command_terms, state_vars

ABI = 2  # bump when the generated interface changes: cached libraries are keyed on it too


class Unavailable(Exception):
    """The native search cannot run here (no compiler, disabled, a term it cannot print)."""


class _CSyntax(Syntax):
    """C over unsigned temporaries: booleans are 0/1, bit-vectors bytes masked after + and -."""

    true, false = "1", "0"
    not_, and_, or_ = "!{0}", " && ", " || "
    ite = "{0} ? {1} : {2}"
    mask = " & 255u"
    temp = "  unsigned {0} = {1};"

    def literal(self, v: int) -> str:
        return str(v & 0xFF)


def _c_printer(nodes: _Nodes) -> _Printer:
    return _Printer(nodes, _CSyntax())


def _command_c(n: int, guard: Any, writes: dict[int, Any], width: int, nodes: _Nodes,
               frozen: frozenset[int]) -> str:
    p = _c_printer(nodes)
    _, kind, children, _ = nodes.get(guard) if not isinstance(guard, bool) else (None, 0, (), None)
    if guard is False:
        p.lines.append("  return 0;")
    elif guard is not True:
        for c in children if kind == z3.Z3_OP_AND else (guard,):
            if nodes.get(c)[1] == z3.Z3_OP_TRUE:
                continue
            p.lines.append(f"  if (!({p.value(c)})) return 0;")
    stores = []
    for i in range(width):
        if i in writes and i not in frozen:
            v = p.value(writes[i])
            if v != f"s[{i}]":
                stores.append(f"  o[{i}] = (u8)({v});")
    return "\n".join([f"static int c{n}(const u8 *s, u8 *o) {{", *p.lines,
                      f"  memcpy(o, s, {width});", *stores, "  return 1;", "}"])


def _predicate_c(n: int, term: Any, nodes: _Nodes) -> str:
    p = _c_printer(nodes)
    v = p.value(term)
    return "\n".join([f"static int p{n}(const u8 *s) {{", *p.lines, f"  return ({v}) != 0;", "}"])


_RUNTIME = r"""
typedef long long i64;
typedef unsigned long long u64;
typedef int (*progress_fn)(i64 states, int depth);

static u8 *st; static uint32_t *par; static int32_t *cmdof; static uint16_t *dep;
static i64 cap, count; static uint32_t *tab; static u64 tabmask;

static u64 hash(const u8 *s) {
  u64 h = 0x9E3779B97F4A7C15ull; int i = 0;
  for (; i + 8 <= W; i += 8) {
    u64 v; memcpy(&v, s + i, 8); h = (h ^ v) * 0xff51afd7ed558ccdull; h ^= h >> 29;
  }
  for (; i < W; i++) { h = (h ^ s[i]) * 0x100000001b3ull; }
  h ^= h >> 32; return h;
}

static int grow(void) {
  i64 nc = cap ? cap * 2 : 1 << 16;
  u8 *a = realloc(st, (size_t)nc * W); if (!a) return 0; st = a;
  uint32_t *b = realloc(par, (size_t)nc * 4); if (!b) return 0; par = b;
  int32_t *c = realloc(cmdof, (size_t)nc * 4); if (!c) return 0; cmdof = c;
  uint16_t *d = realloc(dep, (size_t)nc * 2); if (!d) return 0; dep = d;
  cap = nc;
  u64 tsize = (u64)nc * 2; uint32_t *t = calloc(tsize, 4); if (!t) return 0;
  free(tab); tab = t; tabmask = tsize - 1;
  for (i64 k = 0; k < count; k++) {
    u64 h = hash(st + k * W) & tabmask;
    while (tab[h]) h = (h + 1) & tabmask;
    tab[h] = (uint32_t)(k + 1);
  }
  return 1;
}

/* the index of s among the visited states, adding it (-1 - index: it was new); -2**40: no memory */
static i64 visit(const u8 *s) {
  if (count >= cap && !grow()) return -((i64)1 << 40);
  u64 h = hash(s) & tabmask;
  while (tab[h]) {
    i64 k = (i64)tab[h] - 1;
    if (!memcmp(st + k * W, s, W)) return k;
    h = (h + 1) & tabmask;
  }
  memcpy(st + count * W, s, W); tab[h] = (uint32_t)(count + 1);
  return -1 - count++;
}

void release(void) { free(st); free(par); free(cmdof); free(dep); free(tab);
  st = 0; par = 0; cmdof = 0; dep = 0; tab = 0; cap = count = 0; }

/* hands the states, parents and commands over to the caller, who frees each with specmc_free;
   the states shrunk to their count (in place, or by remapping: no second copy) */
void detach(u8 **s, uint32_t **p, int32_t **c) {
  free(tab); free(dep); tab = 0; dep = 0;
  if (count) {
    u8 *a = realloc(st, (size_t)count * W); if (a) st = a;
    uint32_t *b = realloc(par, (size_t)count * 4); if (b) par = b;
    int32_t *d = realloc(cmdof, (size_t)count * 4); if (d) cmdof = d;
  }
  *s = st; *p = par; *c = cmdof; st = 0; par = 0; cmdof = 0; cap = count = 0;
}
void specmc_free(void *p) { free(p); }

/* out[0] states, out[1] transitions, out[2] complete, out[3] 1 if memory ran out, out[4] stopped
   by the progress callback; viol[k]: index of the first state violating predicate k, or -1 */
void search(const u8 *init, int max_depth, i64 max_states, const int *asked, const int *stop_at,
            progress_fn progress, i64 *out, i64 *viol) {
  static u8 buf[MAXSUCC * W]; static int32_t which[MAXSUCC];
  int pending = 0, nasked = 0, stopped = 0, complete = 1, nomem = 0, quit = 0; i64 transitions = 0;
  release();
  for (int k = 0; k < NPRED; k++) { viol[k] = -1; pending += asked[k]; }
  nasked = pending;
  i64 r = visit(init);
  if (r == -((i64)1 << 40)) { out[3] = 1; return; }
  par[0] = 0xFFFFFFFFu; cmdof[0] = -1; dep[0] = 0;
  for (int k = 0; k < NPRED; k++)
    if (asked[k] && !pred(k, init)) { viol[k] = 0; pending--; stopped |= stop_at[k]; }
  i64 head = 0;
  while (head < count && (pending || !nasked) && !stopped) {
    i64 cur = head++;
    if (progress && !(head & 0xFFFF) && progress(count, dep[cur])) { quit = 1; complete = 0; break; }
    if (dep[cur] >= max_depth) { complete = 0; continue; }
    int n = succ(st + cur * W, buf, which);
    for (int j = 0; j < n; j++) {
      transitions++;
      i64 v = visit(buf + j * W);
      if (v == -((i64)1 << 40)) { nomem = 1; complete = 0; head = count; break; }
      if (v >= 0) continue;
      i64 idx = -1 - v;
      par[idx] = (uint32_t)cur; cmdof[idx] = which[j]; dep[idx] = (uint16_t)(dep[cur] + 1);
      const u8 *s = st + idx * W;
      for (int k = 0; k < NPRED; k++)
        if (asked[k] && viol[k] < 0 && !pred(k, s)) { viol[k] = idx; pending--; stopped |= stop_at[k]; }
      if (count >= max_states) { complete = 0; head = count; break; }
    }
    if (nomem) break;
  }
  out[0] = count; out[1] = transitions; out[2] = complete && head >= count; out[3] = nomem; out[4] = quit;
}
"""


def numbering(program: Program) -> tuple[Command, ...]:
    """The commands in the order the C text numbers them: each site's (sites sorted), then the
    unsited ones, each on its first appearance."""
    seen: dict[int, Command] = {}
    for _site, cmds in sorted(program.by_site.items()):
        for c in cmds:
            seen.setdefault(id(c), c)
    for c in program.unsited:
        seen.setdefault(id(c), c)
    return tuple(seen.values())


def predicates_c(program: Program, predicates: list[Any]) -> str:
    """The predicates' C functions and their dispatch (cheap: a few small terms)."""
    xs = state_vars(program)
    nodes = _Nodes({x.get_id(): i for i, x in enumerate(xs)})
    preds = [_predicate_c(k, t, nodes) for k, t in enumerate(predicates)]
    dispatch = "\n".join(["static int pred(int k, const u8 *s) {", "  switch (k) {",
                          *[f"  case {k}: return p{k}(s);" for k in range(len(predicates))],
                          "  default: return 1;", "  }", "}"])
    return "\n\n".join([*preds, dispatch])


def source(program: Program, predicates: list[Any]) -> tuple[str, tuple[Command, ...]]:
    """The C text of `program` with `predicates` (Z3 terms over its state variables), and the
    commands in the order the text numbers them."""
    xs = state_vars(program)
    nodes = _Nodes({x.get_id(): i for i, x in enumerate(xs)})
    lay: Layout = program.layout
    width = lay.size
    frozen = frozenset(program.dropped)
    commands = numbering(program)
    number = {id(c): n for n, c in enumerate(commands)}
    # the solvers' terms of the commands that are not a family's member, built once per model
    # (model/symbolic.py keeps them): firing 1,214 commands again cost 3 s of the 5 s this takes
    known = {id(c): (guard, writes) for c, (_name, guard, writes)
             in zip(program.symbolic_commands, command_terms(program, xs), strict=True) if not c.family}
    funcs = []
    for n, c in enumerate(commands):
        guard, writes = known.get(id(c)) or command_term(program, c, xs)
        funcs.append(_command_c(n, guard, writes, width, nodes, frozen))

    def call(c: Command, indent: str) -> str:
        return f"{indent}if (c{number[id(c)]}(s, b + n * W)) which[n++] = {number[id(c)]};"

    cases = []
    most = len(program.unsited)
    for (d, alg, pc, phase), cmds in sorted(program.by_site.items()):
        calls = [call(c, "      ") for c in cmds]
        most = max(most, len(cmds) + len(program.unsited))
        cases.append("\n".join([f"    case {(d << 24) | (alg << 16) | (pc << 8) | phase}u:", *calls,
                                "      break;"]))
    unsited = [call(c, "  ") for c in program.unsited]
    sp, alg0, pc0, ph0 = (lay.where(n)[0] for n in ("sp", "frame_alg", "frame_pc", "frame_phase"))
    succ = "\n".join([
        "static int succ(const u8 *s, u8 *b, int32_t *which) {",
        "  int n = 0;",
        f"  if (s[{sp}] > 0) {{",
        f"    unsigned d = s[{sp}] - 1u;",
        f"    unsigned key = (d << 24) | ((unsigned)s[{alg0} + d] << 16) | ((unsigned)s[{pc0} + d] << 8)"
        f" | s[{ph0} + d];",
        "    switch (key) {", *cases, "    default: break;", "    }", "  }", *unsited, "  return n;", "}"])
    head = "\n".join(["#include <stdint.h>", "#include <stdlib.h>", "#include <string.h>",
                      "typedef uint8_t u8;", f"#define W {width}", f"#define MAXSUCC {max(most, 1)}",
                      f"#define NPRED {len(predicates)}", f"/* specmc native explorer, ABI {ABI} */"])
    text = "\n\n".join([head, *funcs, succ, predicates_c(program, predicates), _RUNTIME])
    return text, commands


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


def _command(cc: tuple[str, ...], flags: str) -> tuple[str, ...]:
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


def _private(path: Path) -> None:
    """Unavailable unless `path` (the cache folder, or a library in it) belongs to this user and
    no one else can write it: whoever can write there chooses code that specmc loads and runs.
    A folder or file that is not there yet is fine (it is made private when made)."""
    if not hasattr(os, "getuid"):
        return
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    what = "the native cache folder" if stat.S_ISDIR(st.st_mode) else "the compiled model"
    if st.st_uid != os.getuid():
        raise Unavailable(f"{what} {path} belongs to another user (uid {st.st_uid}): specmc loads no "
                          "code from it (set SPECMC_NATIVE_CACHE to a folder of your own)")
    if st.st_mode & 0o022:
        raise Unavailable(f"{what} {path} can be written by others (mode {stat.S_IMODE(st.st_mode):o}): "
                          "specmc loads no code from it (chmod go-w it, or set SPECMC_NATIVE_CACHE)")


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


def _cached_path(command: tuple[str, ...], key: str) -> Path:
    digest = hashlib.sha256(f"{ABI}\n{shlex.join(command)}\n{key}".encode()).hexdigest()[:32]
    return cache_dir() / f"m{digest}.so"


def _full_key(program: Program, terms: list[Any], key: str) -> str:
    try:
        preds = predicates_c(program, terms)
    except Untranslatable as e:
        raise Unavailable(f"a term the C printer does not know: {e}") from None
    return f"{key}\n{program.layout.size}\n{preds}"


def _bool_terms(predicates: dict[str, Any]) -> list[Any]:
    return [z3.BoolVal(t) if isinstance(t, bool) else t for t in predicates.values()]


def is_cached(program: Program, predicates: dict[str, Any], flags: str, key: str) -> bool:
    """Whether `Native(program, predicates, flags, key)` would load a compiled model from the cache
    (then even a small search is cheaper in C than in Python). Unavailable when Native would be:
    no compiler, or a cache folder that is not private."""
    lib = _cached_path(_command(compiler(flags), flags), _full_key(program, _bool_terms(predicates), key))
    _private(lib.parent)
    return lib.exists()


def _library(make: Callable[[], str], flags: str, key: str) -> ctypes.CDLL:
    """The compiled library for `key`, from the cache, or compiled now from `make()` (written under
    a temporary name and renamed, so that two processes compiling the same model never see half a
    file). Each library answers `specmc_model()` with its own file name: a file that does not
    load (truncated, damaged) is compiled again; one that is another model's (copied or renamed
    into the cache) is removed and refused, since the loader would keep handing out the copy
    already loaded under that name. Nothing is loaded from a folder, or a file, that another user
    owns or can write."""
    command = _command(compiler(flags), flags)
    lib = _cached_path(command, key)
    _private(lib.parent)
    for attempt in (1, 2):
        if lib.exists() and not _intact(lib):
            lib.unlink(missing_ok=True)  # loading a truncated library kills the process (SIGBUS)
        if not lib.exists():
            _compile(command, make(), lib)
        _private(lib)
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
        _private(folder)
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


@dataclass(frozen=True)
class Search:
    """A finished native search: every state visited, in discovery order, as rows of `states`.
    The arrays lie in the memory the C search filled, freed when they are gone."""

    states: np.ndarray  # (n, width) uint8, breadth-first discovery order; row 0 is the initial state
    parent: np.ndarray  # parent[i]: the row state i was first reached from (row 0: 2**32 - 1)
    command: np.ndarray  # command[i]: the index into `commands` of the step taken (row 0: -1)
    commands: tuple[Command, ...]
    transitions: int
    complete: bool  # False if a bound (steps, state limit, memory) cut some run
    out_of_memory: bool
    violations: dict[str, int]  # predicate name -> row of the first state breaking it

    @property
    def count(self) -> int:
        return int(self.states.shape[0])

    def path_to(self, row: int) -> list[tuple[Command | None, tuple[int, ...]]]:
        """The breadth-first path from the initial state to `row`, as (command taken, state)."""
        out = []
        cur = row
        while True:
            c = int(self.command[cur])
            out.append((self.commands[c] if c >= 0 else None, tuple(int(v) for v in self.states[cur])))
            if cur == 0:
                break
            cur = int(self.parent[cur])
        return list(reversed(out))


def _taken(lib: ctypes.CDLL, pointer: ctypes.c_void_p, kind: Any, n: int) -> np.ndarray:
    """The `n` values of C type `kind` at `pointer`, handed over by the library's detach(), as an
    array over that very memory, freed by the library when the array (and every view of it) is
    gone. Copying them instead would double the memory a large search holds at its end (8M
    states at 89 bytes: 1.6 GB at peak instead of under 1 GB)."""
    if not pointer.value:
        return np.zeros(0, dtype=np.dtype(kind))
    block = (kind * max(n, 1)).from_address(pointer.value)
    weakref.finalize(block, lib.specmc_free, pointer.value)
    return np.frombuffer(block, dtype=np.dtype(kind), count=n)


_PROGRESS = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_longlong, ctypes.c_int)
PROGRESS_SECONDS = 1.0  # the least time between two calls of a search's `progress`


class Native:
    """A program and its predicates compiled to C, ready to search (any number of times)."""

    def __init__(self, program: Program, predicates: dict[str, Any], flags: str = "-O0",
                 key: str | None = None) -> None:
        """`predicates`: name -> a Z3 Bool term over `state_vars(program)` (or a Python bool), true
        where the state is fine. `flags`: the compiler's optimisation; -O1 takes gcc (not tcc,
        see `compiler`), which compiles ecma262's model at 3 objects in 19 s (tcc: 4 s with the
        printing) and searches its 17.5 M states twice as fast (26 s against 53 s of CPU).

        `key`: what determines the program (the caller's digest of the tool, spec, host, bounds and
        slice), so that a cached library is found without printing every command again (3-5 s on
        the default models); without it the key is the whole C text. A stale library could only
        mislead the search, never a verdict: paths are replayed, reachable sets re-checked."""
        terms = _bool_terms(predicates)
        self.init = tuple(program.init)
        self.width = program.layout.size
        self.names = tuple(predicates)
        self.commands = numbering(program)

        def text() -> str:
            try:
                return source(program, terms)[0]
            except Untranslatable as e:
                raise Unavailable(f"a term the C printer does not know: {e}") from None

        if key is None:
            made = text()
            self.lib = _library(lambda: made, flags, made)
        else:
            self.lib = _library(text, flags, _full_key(program, terms, key))
        try:
            self.lib.search.restype = None
            self.lib.detach.restype = None
            self.lib.specmc_free.restype = None
        except AttributeError as e:
            raise Unavailable(f"the compiled model lacks a function: {e}") from None
        self.lib.specmc_free.argtypes = [ctypes.c_void_p]

    def search(self, max_depth: int, max_states: int, asked: frozenset[str] | None = None,
               stop_at: frozenset[str] = frozenset(),
               progress: Callable[[int, int, float], None] | None = None) -> Search:
        """Breadth first from the initial state, checking the predicates named in `asked` (all by
        default) until each is broken or nothing is left, or one named in `stop_at` is broken.

        Ctrl-C stops the search within a fraction of a second, and always comes out of here as
        the SIGINT handler in place says (KeyboardInterrupt by default; an engine process's
        SystemExit), never as a cut search. The C side cannot run Python's handler, and a handler
        raising on entry to the ctypes callback would be printed and dropped by ctypes ("Exception
        ignored on calling ctypes callback function"), its return value undefined. So while the C
        search runs (called from the main thread), SIGINT only notes that it came; the callback
        then tells C to stop, and once C has returned the signal is raised again under the
        handler that was there before. An exception from `progress` also stops the search and
        comes out of here."""
        n = len(self.names)
        asked = frozenset(self.names) if asked is None else asked
        flags = (ctypes.c_int * max(n, 1))(*[int(k in asked) for k in self.names])
        stops = (ctypes.c_int * max(n, 1))(*[int(k in stop_at) for k in self.names])
        out = (ctypes.c_longlong * 5)()
        viol = (ctypes.c_longlong * max(n, 1))()
        init = (ctypes.c_uint8 * len(self.init))(*self.init)
        started = time.monotonic()
        last = [started]
        raised: list[BaseException] = []
        signals: list[int] = []

        def noted(signum: int, _frame: Any) -> None:
            signals.append(signum)

        def said(states: int, depth: int) -> int:
            if signals or raised:
                return 1
            try:
                now = time.monotonic()
                if progress is not None and now - last[0] >= PROGRESS_SECONDS:
                    last[0] = now
                    progress(int(states), int(depth), now - started)
            except BaseException as e:  # (KeyboardInterrupt too: the caller's, to be raised again)
                raised.append(e)
                return 1
            return 0

        callback = _PROGRESS(said)
        previous: Any = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if callable(previous):  # (not when ignored, or left to the system: that stays as it is)
                signal.signal(signal.SIGINT, noted)
            else:
                previous = None
        try:
            try:
                self.lib.search(init, max_depth, max_states, flags, stops, callback, out, viol)
            finally:
                if previous is not None:
                    signal.signal(signal.SIGINT, previous)
            if signals:
                signal.raise_signal(signal.SIGINT)  # the handler in place now decides: normally it raises
            if raised:
                raise raised[0]
            if signals or out[4]:  # stopped by the callback: only an interrupt does that
                raise KeyboardInterrupt
            count = int(out[0])
            held = [ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()]
            self.lib.detach(*(ctypes.byref(h) for h in held))
            states, parent, command = (
                _taken(self.lib, h, t, count * k) for h, t, k in
                zip(held, (ctypes.c_uint8, ctypes.c_uint32, ctypes.c_int32), (self.width, 1, 1), strict=True))
            states = states.reshape(count, self.width)
        finally:
            self.lib.release()
        return Search(states, parent, command, self.commands, int(out[1]), bool(out[2]),
                      bool(out[3]), {k: int(viol[i]) for i, k in enumerate(self.names) if viol[i] >= 0})
