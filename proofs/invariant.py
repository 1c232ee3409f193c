"""A set of states as a reduced decision diagram, and as a Z3 term.

The explicit engine proves a property by visiting every reachable state. The set it
visited is an inductive invariant, and a decision diagram over the state variables
(shared suffixes merged) writes it down compactly: 258,505 states of the default
ecma262 model become about 31,000 nodes. As a Z3 term it is what a certificate
carries and what a fresh solver re-checks, so the explorer is never trusted on its word.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import z3

TRUE_NODE = 1


@dataclass(frozen=True)
class Diagram:
    """nodes[i - 2] = (level, ((value, child), ...)); node 1 is the accepting leaf."""

    width: int  # number of state variables (levels)
    root: int
    nodes: tuple[tuple[int, tuple[tuple[int, int], ...]], ...]

    def __len__(self) -> int:
        return len(self.nodes)


def diagram(states: Iterable[tuple[int, ...]], width: int) -> Diagram:
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
        x = xs[level]
        parts = [x == z3.BitVecVal(v, width) if c == TRUE_NODE else
                 z3.And(x == z3.BitVecVal(v, width), terms[c]) for v, c in edges]
        terms[i + 2] = parts[0] if len(parts) == 1 else z3.Or(*parts)
    return terms[d.root]
