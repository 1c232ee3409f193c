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

The C text is printed by model/cprint.py and compiled (and cached) by model/ccompile.py; this
module loads a compiled model and runs its search.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import z3
from specmc.model.ccompile import Unavailable, cached_path, compile_command, compiler, library, private
from specmc.model.cprint import numbering, predicates_c, source
from specmc.model.program import Command, Program
from specmc.model.symmetry import NotSymmetric, Symmetry
from specmc.model.terms import Untranslatable

# the signals whose Python handler the C search defers until it has returned (`_call`)
STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


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
    command = compile_command(compiler(flags), flags)
    lib = cached_path(command, _full_key(program, _bool_terms(predicates), key))
    private(lib.parent)
    return lib.exists()


@dataclass(frozen=True)
class Search:
    """A finished native search: every state visited, in discovery order, as rows of `states`.
    The arrays lie in the memory the C search filled, freed when they are gone."""

    states: np.ndarray  # (n, width) uint8, in the order found; row 0 is the initial state
    parent: np.ndarray  # parent[i]: the row state i was first reached from (row 0: 2**32 - 1)
    command: np.ndarray  # command[i]: the index into `commands` of the step taken (row 0: -1)
    commands: tuple[Command, ...]
    transitions: int
    complete: bool  # False if a bound (steps, state limit, memory) cut some run
    out_of_memory: bool
    violations: dict[str, int]  # predicate name -> row of the first state breaking it
    # the reduction the search ran under (model/symmetry.py): rows are then representatives, and a
    # path to one is a path of representatives (model/explore.py `concrete` makes it the model's)
    symmetry: Symmetry | None = None
    # depth first: rows in the order a depth-first search found them, each reached by the run that
    # found it first, which need not be the shortest; a cut search then says nothing of any depth
    depth_first: bool = False

    @property
    def count(self) -> int:
        return int(self.states.shape[0])

    def depth_of(self, row: int) -> int:
        """How many transitions the path to `row` takes (the shortest one, breadth first)."""
        n, cur = 0, row
        while cur != 0:
            cur, n = int(self.parent[cur]), n + 1
        return n

    def path_to(self, row: int) -> list[tuple[Command | None, tuple[int, ...]]]:
        """The path from the initial state to `row` the search found, as (command taken, state):
        a shortest one breadth first."""
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


def default_threads() -> int:
    """How many threads a breadth-first C search makes successors with when its caller does not
    say: one. Measured on an idle 2-core machine (docs/measurements.md, "Threads and hash
    compaction"), a second thread made the search 0.7-0.85 times as fast, not faster: the search
    is bound by memory (the visited states' table and the predicates over new states, on the
    calling thread), and the hand-offs cost more than the successors made beside it. An earlier
    default (the cores the load leaves free) was therefore slower on exactly the idle machines it
    meant to help. `threads=` still takes any number; the bench measures it."""
    return 1


def compact_slots(share: float = 0.5) -> int:
    """The size of a hash-compacted run's fingerprint table (`Native.search_compact`): the largest
    power of two of 8-byte slots within `share` of the memory available now (MemAvailable in
    /proc/meminfo, else the free pages), and at least 2**20. So a run is as large as the machine
    it runs on allows, not a count fixed here (issue 19: the cap set by memory)."""
    available = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if not available:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            available = 0
    slots = 1 << 20
    while slots * 2 * 8 <= available * share:
        slots *= 2
    return slots


_PROGRESS = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_longlong, ctypes.c_int)
PROGRESS_SECONDS = 1.0  # the least time between two calls of a search's `progress`
STOP_INTERRUPT, STOP_TIME = 1, 2  # what the callback answers to stop a C search, and why


@dataclass(frozen=True)
class CompactRun:
    """A finished hash-compacted depth-first run (`Native.search_compact`). It kept fingerprints,
    not states: a state whose fingerprint a visited one had was skipped unseen (for n states, with
    probability about n*n/2**65 if fingerprints behave as random 64-bit numbers), and no
    reachable set is left to certify, so even a complete run proves nothing. What it gives is
    paths, each of which the reference interpreter replays before anyone is told of it."""

    states: int  # fingerprints stored: states found new
    transitions: int
    complete: bool  # every successor of every state it found was looked at
    full: bool  # the table reached three quarters (or the stack could not grow): memory cut it
    timed_out: bool  # the deadline cut it
    deepest: int  # the longest run it went down, in transitions
    slots: int  # the table's size (8 bytes a slot)
    paths: dict[str, list[tuple[Command | None, tuple[int, ...]]]]  # predicate -> the run that broke it
    symmetry: Symmetry | None = None  # the reduction it ran under: the paths are of representatives

    @property
    def collision_bound(self) -> float:
        """About the probability that some state was skipped for a fingerprint it shared."""
        return min(1.0, self.states * self.states / 2.0 ** 65)


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
        try:
            self.symmetry: Symmetry | None = Symmetry.of(program)
            self.asymmetric = ""
        except NotSymmetric as e:  # (the C text's canon() then leaves states as they are)
            self.symmetry, self.asymmetric = None, str(e)

        def text() -> str:
            try:
                return source(program, terms)[0]
            except Untranslatable as e:
                raise Unavailable(f"a term the C printer does not know: {e}") from None

        if key is None:
            made = text()
            self.lib = library(lambda: made, flags, made)
        else:
            self.lib = library(text, flags, _full_key(program, terms, key))
        try:
            self.lib.search.restype = None
            self.lib.search_dfs.restype = None
            self.lib.search_hc.restype = None
            self.lib.hc_path.restype = None
            self.lib.hc_release.restype = None
            self.lib.detach.restype = None
            self.lib.specmc_free.restype = None
        except AttributeError as e:
            raise Unavailable(f"the compiled model lacks a function: {e}") from None
        self.lib.specmc_free.argtypes = [ctypes.c_void_p]

    def search(self, max_depth: int, max_states: int, asked: frozenset[str] | None = None,
               stop_at: frozenset[str] = frozenset(),
               progress: Callable[[int, int, float], None] | None = None, symmetry: bool = False,
               depth_first: bool = False, seed: int = 0, threads: int | None = None) -> Search:
        """Breadth first (with `depth_first`, depth first: `Search.depth_first`) from the initial
        state, checking the predicates named in `asked` (all by default) until each is broken or
        nothing is left, or one named in `stop_at` is broken. `seed` (depth first only): 0 takes
        each state's successors in the order the model lists them; any other number, in an order
        it draws per state (the same every time), so that runs of different seeds go down
        different paths first.
        `symmetry`: each successor replaced by its representative (model/symmetry.py), when the
        model allows it (`self.symmetry`; else the search is not reduced, and says so by its
        result's `symmetry`, None). `threads` (breadth first): how many threads make successors
        (`default_threads()` by default); the search's result is the same with any number.

        Ctrl-C stops the search within a fraction of a second, and always comes out of here as
        the SIGINT handler in place says (KeyboardInterrupt by default; an engine process's
        SystemExit), never as a cut search (`_call`)."""
        flags, stops, viol = self._predicates(asked, stop_at)
        out = (ctypes.c_longlong * 6)()
        init = (ctypes.c_uint8 * len(self.init))(*self.init)
        reduced = symmetry and self.symmetry is not None
        try:
            def call(callback: Any) -> None:
                args = (init, max_depth, max_states, flags, stops, callback, int(reduced), out, viol)
                if depth_first:
                    self.lib.search_dfs(*args, ctypes.c_uint64(seed))
                else:
                    self.lib.search(*args, default_threads() if threads is None else threads)

            self._call(call, out, progress, None)
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
                      bool(out[3]), {k: int(viol[i]) for i, k in enumerate(self.names) if viol[i] >= 0},
                      self.symmetry if reduced else None, depth_first)

    def search_compact(self, max_depth: int, max_states: int, slots: int,
                       asked: frozenset[str] | None = None, stop_at: frozenset[str] = frozenset(),
                       progress: Callable[[int, int, float], None] | None = None, symmetry: bool = False,
                       seed: int = 0, deadline: float | None = None) -> CompactRun:
        """Depth first with hash compaction (`search_hc` in model/cprint.py's runtime): a table of
        `slots` 64-bit fingerprints (rounded up to a power of two; the run stops when it is three
        quarters full) instead of the states, so that a run's size is set by the memory given to
        its table, 8 bytes a slot, and not by the 150 bytes a kept state costs. Nothing is kept
        but the paths that broke predicates, so the run proves nothing (`CompactRun`).
        `deadline` (time.monotonic): the run stops there, cut, and says so (`timed_out`).
        Everything else as `search(depth_first=True)`."""
        flags, stops, viol = self._predicates(asked, stop_at)
        out = (ctypes.c_longlong * 6)()
        init = (ctypes.c_uint8 * len(self.init))(*self.init)
        reduced = symmetry and self.symmetry is not None
        paths: dict[str, list[tuple[Command | None, tuple[int, ...]]]] = {}
        size = 1024  # (the table C makes: the least power of two, at least 1024, of `slots` or more)
        while size < slots:
            size *= 2
        try:
            def call(callback: Any) -> None:
                self.lib.search_hc(init, max_depth, max_states, flags, stops, callback, int(reduced), out,
                                   viol, ctypes.c_uint64(seed), ctypes.c_uint64(size))

            self._call(call, out, progress, deadline)
            for i, k in enumerate(self.names):
                if viol[i] < 0:
                    continue
                n = int(viol[i]) + 1
                rows = (ctypes.c_uint8 * (n * self.width))()
                cmds = (ctypes.c_int32 * n)()
                self.lib.hc_path(i, rows, cmds)
                flat = bytes(rows)
                paths[k] = [(self.commands[cmds[j]] if cmds[j] >= 0 else None,
                             tuple(flat[j * self.width:(j + 1) * self.width])) for j in range(n)]
        finally:
            self.lib.hc_release()
        return CompactRun(int(out[0]), int(out[1]), bool(out[2]), bool(out[3]), out[4] == STOP_TIME,
                          int(out[5]), size, paths, self.symmetry if reduced else None)

    def _predicates(self, asked: frozenset[str] | None, stop_at: frozenset[str]) -> tuple[Any, Any, Any]:
        n = len(self.names)
        asked = frozenset(self.names) if asked is None else asked
        flags = (ctypes.c_int * max(n, 1))(*[int(k in asked) for k in self.names])
        stops = (ctypes.c_int * max(n, 1))(*[int(k in stop_at) for k in self.names])
        return flags, stops, (ctypes.c_longlong * max(n, 1))()

    def _call(self, call: Callable[[Any], None], out: Any,
              progress: Callable[[int, int, float], None] | None, deadline: float | None) -> None:
        """Runs `call(callback)`, a C search that calls `callback` now and then and stops when it
        answers non-zero (out[4] keeps the answer). The C side cannot run Python's SIGINT handler,
        and a handler raising on entry to the ctypes callback would be printed and dropped by
        ctypes ("Exception ignored on calling ctypes callback function"), its return value
        undefined. So while the C search runs (called from the main thread), SIGINT only notes
        that it came; the callback then tells C to stop, and once C has returned the signal is
        raised again under the handler that was there before. An exception from `progress` also
        stops the search and comes out of here. A `deadline` passed stops it with STOP_TIME, which
        is a cut search, not an interrupt. SIGTERM and SIGHUP, when a Python handler takes them
        (proofs/cli.py installs the one it uses for Ctrl-C), are deferred the same way."""
        started = time.monotonic()
        last = [started]
        raised: list[BaseException] = []
        signals: list[int] = []

        def noted(signum: int, _frame: Any) -> None:
            signals.append(signum)

        def said(states: int, depth: int) -> int:
            if signals or raised:
                return STOP_INTERRUPT
            try:
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    return STOP_TIME
                if progress is not None and now - last[0] >= PROGRESS_SECONDS:
                    last[0] = now
                    progress(int(states), int(depth), now - started)
            except BaseException as e:  # (KeyboardInterrupt too: the caller's, to be raised again)
                raised.append(e)
                return STOP_INTERRUPT
            return 0

        callback = _PROGRESS(said)
        previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for signum in STOPPING:
                handler = signal.getsignal(signum)
                if callable(handler):  # (not when ignored, or left to the system: that stays as it is)
                    previous[signum] = signal.signal(signum, noted)
        try:
            call(callback)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if signals:
            signal.raise_signal(signals[0])  # the handler in place now decides: normally it raises
        if raised:
            raise raised[0]
        if signals or out[4] == STOP_INTERRUPT:  # only an interrupt stops it so
            raise KeyboardInterrupt
