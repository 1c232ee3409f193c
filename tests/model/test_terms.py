"""The one walker over Z3 terms (model/terms.py) that the printers and the bdd engine share."""

from __future__ import annotations

import pytest
import z3
from specmc.model.terms import Node, Untranslatable, Walker


class Counting(Walker[int]):
    """Counts the operations of a term, recording every node it translates."""

    def __init__(self, leaves: dict[int, int]) -> None:
        super().__init__(leaves)
        self.seen: list[str] = []

    def _count(self, node: Node, a: list[int]) -> int:
        self.seen.append(node.term.decl().name())
        return 1 + sum(a)

    walk_eq = walk_add = walk_and = walk_ult = _count

    def walk_bnum(self, node: Node, a: list[int]) -> int:
        return 0


def test_each_shared_node_is_translated_once_children_first():
    x, y = z3.BitVecs("x y", 8)
    s = x + y
    w = Counting({x.get_id(): 0, y.get_id(): 0})
    assert w.value(z3.And(s == 3, z3.ULT(s, y))) == 5  # the sum counts in both conjuncts
    assert w.seen == ["bvadd", "=", "bvult", "and"]  # ... and is translated once, first


def test_an_operation_without_a_method_is_refused_with_its_name():
    x = z3.BitVec("x", 8)
    w = Counting({x.get_id(): 0})
    with pytest.raises(Untranslatable, match="bvmul"):
        w.value(x * 3 == 1)
    with pytest.raises(Untranslatable, match="free constant y"):
        w.value(x == z3.BitVec("y", 8))
    with pytest.raises(Untranslatable, match="Python value 7"):
        w.value(7)
