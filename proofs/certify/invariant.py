"""A set of states as a reduced decision diagram, and as SMT-LIB2 text (or a Z3 term).

The explicit engine proves a property by visiting every reachable state. The set it
visited is an inductive invariant, and a decision diagram over the state variables
(shared suffixes merged) writes it down compactly: the 124,275 states of the default
ecma262 model become 10,966 nodes. As text it is what a certificate carries and what a
fresh solver re-checks, so the explorer is never trusted on its word.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import z3
from specmc.model.layout import Layout

TRUE_NODE = 1


@dataclass(frozen=True)
class Diagram:
    """nodes[i - 2] = (level, ((value, child), ...)); node 1 is the accepting leaf. Level L tests
    state variable order[L] (the identity when no order was given)."""

    width: int  # number of state variables (levels)
    root: int
    nodes: tuple[tuple[int, tuple[tuple[int, int], ...]], ...]
    order: tuple[int, ...] = ()

    def variable(self, level: int) -> int:
        return self.order[level] if self.order else level

    def __len__(self) -> int:
        return len(self.nodes)


STICKY = ("err_uaf", "err_assert", "cut")  # flags that, once set, stay set: the run has ended
REGISTRATIONS = ("regs", "cell_", "reg_")  # the registration cells and the observers that mirror them
IN_FLIGHT = ("ret", "need_clear")  # values between two steps: tested above the stack (certificates)
CALLS = ("arg", "queue_kind", "qlen", "queue")  # the script's call or job in progress: tested above its frame
# per-object arrays: the heap and the observers that follow one object (certificates test them
# object by object)
HEAP = ("wr_target", "gone", "made", "obj_", "root", "kept")  # in this order within an object


def variable_order(layout: Layout, outermost_first: bool = False, by_object: bool = False) -> tuple[int, ...]:
    """The order a diagram tests state variables in.

    For certificates (the default): the sticky flags, the return register and the pending
    ClearKeptObjects flag, the stack pointer, then each frame (code, pc, phase, locals) deepest
    first (with the script's arguments and the job queue between the frames above the script's own
    frame and that frame), the rest of the runtime, the heap one object at a
    time (the observers that follow an object, then its fields), and last the
    registration cells side by side with the observers that record what was registered.

    Why, measured as diagram nodes of the reachable set at the default bounds (and the consecution
    check follows the node count: docs/measurements.md):
    - Control first means a transition's guard (which names the top frame's pc) selects a small
      sub-diagram at once: on the ecma262 model of 2026-11, deepest frames first gave 10,966 nodes
      where the layout order gave 27,216, and the consecution check ran about 3x faster.
    - Cells next to their observers: the two hold nearly the same values, and a diagram that tests
      them far apart remembers every combination in between (ecma262: 58,386 nodes with the cells
      among the runtime, 32,962 with them at the bottom).
    - The return register above the stack (a value in flight between a callee's return and its
      caller's next step is tested before the frames it connects), the script's call in progress
      (its arguments, the job it runs) right above the script's frame, whose phase says which
      call that is, and the heap by object rather than by field (an object's status, kind and
      roots go together): 32,962 -> 20,778 nodes on ecma262, 20,632 -> 14,426 on quickjs-ng-0.5,
      13,533 -> 10,162 on quickjs-ng-0.6. The rules came from a random search over moves of single
      variables (21,437 on ecma262 after 270 diagram builds), kept where they helped every host.

    The bdd engine (proofs/engines/bdd.py) asks for frames outermost first, and each object's fields side
    by side: a call copies values from a frame into the one above it, and conjoining
    `next = f(current)` onto a set stays small only when f reads variables tested before the one
    it writes (otherwise the diagram remembers every value of the written one until it meets
    what it depends on)."""
    where = {name: (base, size) for name, base, size in layout.names}
    k = layout.locals_per_frame
    certificate = not outermost_first and not by_object
    top = [n for n in (*STICKY, *IN_FLIGHT) if n in where] if certificate else []
    out = [i for n in top for i in range(where[n][0], where[n][0] + where[n][1])]
    out.append(where["sp"][0])
    depths = range(layout.bounds.frames)
    calls = [n for n in CALLS if n in where] if certificate else []
    for d in depths if outermost_first else reversed(depths):
        if d == 0:  # the script's own frame, below the call it has in progress
            out += [i for n in calls for i in range(where[n][0], where[n][0] + where[n][1])]
        out += [where["frame_alg"][0] + d, where["frame_pc"][0] + d, where["frame_phase"][0] + d]
        out += [where["frame_local"][0] + d * k + i for i in range(k)]
    rest = [n for n, _, _ in layout.names
            if n != "sp" and not n.startswith("frame_") and n not in top and n not in calls]
    if certificate:
        heap = sorted((n for n in rest if n.startswith(HEAP) and where[n][1] == layout.bounds.objects),
                      key=lambda n: next(j for j, h in enumerate(HEAP) if n.startswith(h)))
    else:
        heap = [n for n in rest if n.startswith(("obj_", "root", "kept"))]
    last = [n for n in rest if certificate and n.startswith(REGISTRATIONS) and n not in heap]
    for name in [n for n in rest if n not in heap and n not in last]:
        base, size = where[name]
        out += range(base, base + size)
    if by_object or certificate:
        for i in range(layout.bounds.objects):
            out += [where[name][0] + i for name in heap]
    else:
        for name in heap:
            out += range(where[name][0], where[name][0] + where[name][1])
    for name in last:
        base, size = where[name]
        out += range(base, base + size)
    return tuple(out)


def diagram(states: Iterable[tuple[int, ...]] | np.ndarray, width: int, order: Sequence[int] = ()) -> Diagram:
    """The states, tested in `order` (a permutation of the variables; default: as laid out).

    Built level by level from the bottom over the sorted states, with array operations: a node
    is its list of (value, child) edges, interned per level by a 64-bit hash of that list, and
    every group merged under one hash is compared edge by edge with the group kept for it, so a
    hash collision can never merge different nodes (the exact, slower construction takes over)."""
    order = tuple(order)
    if order and sorted(order) != list(range(width)):
        raise ValueError("order is not a permutation of the state variables")
    if isinstance(states, np.ndarray):  # rows of a state matrix: no Python tuples on the way
        # bytes stay bytes: at 3 objects the native search hands over 17.5 M rows of 126 bytes,
        # which as int64 would take 18 GB
        arr = states if states.dtype == np.uint8 else states.astype(np.int64, copy=False)
        if not len(arr) or width == 0:
            return replace(_diagram_exact([tuple(r) for r in arr.tolist()], width), order=order)
    else:
        states = list(states)
        if not states or width == 0:
            return replace(_diagram_exact(states, width), order=order)
        arr = np.array(states, dtype=np.int64)
    if order:
        arr = arr[:, order]
    if arr.dtype != np.uint8 and (arr.min() < 0 or arr.max() > 255):
        d = _diagram_exact(sorted({tuple(r) for r in arr.tolist()}), width)
        return replace(d, order=order)
    # sorted and deduplicated as raw bytes: lexicographic order of the rows, without Python tuples
    arr = np.ascontiguousarray(arr.astype(np.uint8, copy=False))
    _, first = np.unique(arr.view(np.dtype((np.void, width))).reshape(-1), return_index=True)
    arr = arr[first]
    try:
        d = _diagram_arrays(arr, width)
    except _Collision:
        d = _diagram_exact([tuple(r) for r in arr.tolist()], width)
    return replace(d, order=order)


class _Collision(Exception):
    """Two different nodes got the same hash."""


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads small integers over all 64 bits (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _diagram_arrays(arr: np.ndarray, width: int) -> Diagram:
    """arr: the states as sorted, distinct rows of bytes."""
    n = len(arr)
    first_diff = np.full(n, -1, dtype=np.int64)  # row 0 starts every group
    if n > 1:
        first_diff[1:] = np.argmax(arr[1:] != arr[:-1], axis=1)
    # groups at prefix length L are the runs of rows starting where first_diff < L
    child = np.full(n, TRUE_NODE, dtype=np.int64)  # node of each group at prefix length `width`
    child_starts = np.arange(n)
    nodes: list[tuple[int, tuple[tuple[int, int], ...]]] = []
    for level in range(width - 1, -1, -1):
        starts = np.flatnonzero(first_diff < level)
        values = arr[child_starts, level].astype(np.uint64)
        with np.errstate(over="ignore"):
            edge_hash = _mix(values * np.uint64(0x9E3779B97F4A7C15) ^ _mix(child.astype(np.uint64)))
        # which parent group each child group belongs to, and the hash of each parent's edge set
        parent = np.searchsorted(starts, child_starts, side="right") - 1
        first_child = np.searchsorted(child_starts, starts)
        with np.errstate(over="ignore"):
            group_hash = np.add.reduceat(edge_hash, first_child)
        unique, rep, inverse = np.unique(group_hash, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        ends = np.append(first_child[1:], len(child_starts))
        # exactness: each group has the same edges, in order, as the group its hash maps to
        kept = rep[inverse]
        if np.any(ends - first_child != (ends - first_child)[kept]):
            raise _Collision
        twin = first_child[kept[parent]] + (np.arange(len(child_starts)) - first_child[parent])
        if np.any(values != values[twin]) or np.any(child != child[twin]):
            raise _Collision
        ids = np.arange(len(unique), dtype=np.int64) + len(nodes) + 2
        for g in rep:
            lo, hi = first_child[g], ends[g]
            nodes.append((level, tuple(zip(values[lo:hi].tolist(), child[lo:hi].tolist(), strict=True))))
        child = ids[inverse]
        child_starts = starts
    return Diagram(width, int(child[0]), tuple(nodes))


def count(d: Diagram) -> int:
    """How many states the diagram accepts."""
    paths = {TRUE_NODE: 1}
    for i in sorted(range(len(d.nodes)), key=lambda i: -d.nodes[i][0]):
        paths[i + 2] = sum(paths[c] for _, c in d.nodes[i][1])
    return paths.get(d.root, 0)


def _diagram_exact(states: Iterable[tuple[int, ...]], width: int) -> Diagram:
    unique: dict[tuple[int, tuple[tuple[int, int], ...]], int] = {}

    def node(level: int, group: Sequence[tuple[int, ...]]) -> int:
        if level == width:
            return TRUE_NODE
        by_value: dict[int, list[tuple[int, ...]]] = {}
        for s in group:
            by_value.setdefault(s[level], []).append(s)
        key = (level, tuple(sorted((v, node(level + 1, g)) for v, g in by_value.items())))
        found = unique.get(key)
        if found is None:
            found = unique[key] = len(unique) + 2
        return found

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, width + 100))
    try:
        root = node(0, list(states))
    finally:
        sys.setrecursionlimit(limit)
    ordered = sorted(unique.items(), key=lambda kv: kv[1])
    return Diagram(width, root, tuple(k for k, _ in ordered))


def to_term(d: Diagram, xs: Sequence[Any]) -> Any:
    """The diagram as a Z3 Bool over the state variables xs (shared nodes stay shared)."""
    terms: dict[int, Any] = {TRUE_NODE: z3.BoolVal(True)}
    width = xs[0].size() if xs else 8
    for i in sorted(range(len(d.nodes)), key=lambda i: -d.nodes[i][0]):
        level, edges = d.nodes[i]
        x = xs[d.variable(level)]
        parts = [x == z3.BitVecVal(v, width) if c == TRUE_NODE else
                 z3.And(x == z3.BitVecVal(v, width), terms[c]) for v, c in edges]
        terms[i + 2] = parts[0] if len(parts) == 1 else z3.Or(*parts)
    return terms[d.root]


def to_smtlib(d: Diagram, names: Sequence[str], width: int = 8) -> str:
    """The diagram as SMT-LIB2 commands over bit-vector constants named `names`: one `define-fun`
    per node (children first, so sharing survives the text) and an `assert` of the root. Written
    as text, not built as a Z3 term, because building ~10^4 terms through the Python API takes
    seconds and the certificate is text anyway."""
    hexw = (width + 3) // 4
    sym = [f"|{n}|" for n in names]
    out = [f"(declare-fun {x} () (_ BitVec {width}))" for x in sym]

    def test(level: int, v: int) -> str:
        return f"(= {sym[d.variable(level)]} #x{v:0{hexw}x})"

    for i in sorted(range(len(d.nodes)), key=lambda i: -d.nodes[i][0]):
        level, edges = d.nodes[i]
        parts = [test(level, v) if c == TRUE_NODE else f"(and {test(level, v)} node!{c})" for v, c in edges]
        body = "false" if not parts else parts[0] if len(parts) == 1 else f"(or {' '.join(parts)})"
        out.append(f"(define-fun node!{i + 2} () Bool {body})")
    out.append(f"(assert {'true' if d.root == TRUE_NODE else f'node!{d.root}'})")
    return "\n".join(out) + "\n"
