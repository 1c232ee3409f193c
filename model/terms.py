"""One walker over the Z3 terms of the transition relation, for every translation of them.

The solvers' terms (model/symbolic.py) are translated into other forms: straight-line Python
and C for the explorers (model/native.py, model/cprint.py) and decision diagrams for the bdd
engine (proofs/engines/bdd.py). Each translation is a fold over the same shared graph: a node's
children are translated first, then the node from their translations. This module holds that
traversal once, in the manner of pySMT's walkers: a node is asked of Z3's API once, translated
once per walker (Z3 hash-conses equal subterms, and commands share most of theirs), and handed
to one method per operation (`walk_and`, `walk_ite`, ...). A translation that lacks the method
for an operation refuses the term (`Untranslatable`) rather than guess.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Generic, NamedTuple, TypeVar

import z3

R = TypeVar("R")  # what a walker translates a term into


class Untranslatable(Exception):
    """A term uses an operation (or a free constant) the translation does not know: the caller
    falls back (the explorers run the command through `fire`) or declines (the bdd engine)."""


class Node(NamedTuple):
    """What a translation needs of one Z3 node."""

    kind: int  # the Z3_OP_* of its declaration
    children: tuple[z3.ExprRef, ...]
    term: z3.ExprRef


class Nodes:
    """The node of each term, asked of Z3's API once (each call costs about a microsecond), kept
    by AST id. One cache can serve several walkers over terms that share subterms. It holds every
    term it has described, so that an id stays the id of that term (Z3 reuses the id of a freed
    one)."""

    def __init__(self) -> None:
        self.info: dict[int, Node] = {}

    def get(self, t: z3.ExprRef) -> Node:
        tid = t.get_id()
        found = self.info.get(tid)
        if found is None:
            found = self.info[tid] = Node(t.decl().kind(), tuple(t.children()), t)
        return found


# the method of a walker that translates each operation; an operation not listed here, or whose
# method a walker does not define, is untranslatable for that walker
_METHOD = {
    z3.Z3_OP_TRUE: "walk_true", z3.Z3_OP_FALSE: "walk_false", z3.Z3_OP_BNUM: "walk_bnum",
    z3.Z3_OP_EQ: "walk_eq", z3.Z3_OP_DISTINCT: "walk_distinct", z3.Z3_OP_NOT: "walk_not",
    z3.Z3_OP_AND: "walk_and", z3.Z3_OP_OR: "walk_or", z3.Z3_OP_IMPLIES: "walk_implies",
    z3.Z3_OP_ITE: "walk_ite",
    z3.Z3_OP_ULT: "walk_ult", z3.Z3_OP_ULEQ: "walk_ule", z3.Z3_OP_UGT: "walk_ugt", z3.Z3_OP_UGEQ: "walk_uge",
    z3.Z3_OP_BADD: "walk_add", z3.Z3_OP_BSUB: "walk_sub", z3.Z3_OP_EXTRACT: "walk_extract",
    z3.Z3_OP_CONCAT: "walk_concat",
    # a predicate's wrapping arithmetic on bytes (`Byte`, model/domain.py: `*`, `&`, `|`, `^`, `~`,
    # unary `-`, `<<`), which the C search could not print: one such predicate sent every property
    # of its job to Python, or made dfs answer UNKNOWN (review 7, F9)
    z3.Z3_OP_BMUL: "walk_mul", z3.Z3_OP_BAND: "walk_band", z3.Z3_OP_BOR: "walk_bor",
    z3.Z3_OP_BXOR: "walk_bxor", z3.Z3_OP_BNOT: "walk_bnot", z3.Z3_OP_BNEG: "walk_neg",
    z3.Z3_OP_BSHL: "walk_shl",
}

Walk = Callable[[Node, list[R]], R]  # a node and its children's translations -> its translation


class Walker(Generic[R]):
    """A translation of Z3 terms into R: `leaves` gives the translation of the variables (by AST
    id); every other node is translated by the method `_METHOD` names for its operation, from its
    children's translations, left to right. Each node is translated once per walker."""

    def __init__(self, leaves: Mapping[int, R], nodes: Nodes | None = None) -> None:
        self.leaves = leaves
        self.nodes = nodes if nodes is not None else Nodes()
        self.memo: dict[int, R] = {}

    def value(self, t: z3.ExprRef | int) -> R:
        """The translation of t: a term, or a Python int or bool standing for a constant."""
        if isinstance(t, int):
            return self.walk_python(t)
        tid = t.get_id()
        if tid in self.memo:
            return self.memo[tid]
        if tid in self.leaves:
            return self.leaves[tid]
        node = self.nodes.get(t)
        walk: Walk[R] | None = getattr(self, _METHOD.get(node.kind, ""), None)
        if walk is None:
            raise Untranslatable(_unknown(node.term))
        out = self.made(node, walk(node, [self.value(c) for c in node.children]))
        self.memo[tid] = out
        return out

    def walk_python(self, v: int) -> R:
        """A Python int or bool in place of a term."""
        raise Untranslatable(f"a Python value {v!r} in place of a term")

    def made(self, node: Node, out: R) -> R:
        """The translation kept for `node` (a printer names a compound one here)."""
        return out


def _unknown(t: z3.ExprRef) -> str:
    if z3.is_const(t):
        return f"free constant {t}"
    return f"operation {t.decl().name()} in {str(t)[:80]}"
