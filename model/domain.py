"""The abstract value interface the semantics is written against, and its two domains.

Every transition of the model (spec steps, mutator, collector, event loop) is a
Python function over a `View` of the state that only ever combines values through
a `Domain`. Run it with `Concrete` and it computes one successor state; run it
with `Symbolic` and the same code builds the Z3 terms of the transition relation.
There is no second semantics to drift from the first.

State variables are small unsigned integers (booleans are 0/1). Conditions are
domain booleans. A transition states what it requires with `View.require`; the
concrete view stops at the first requirement that is false.
"""

from __future__ import annotations

from typing import Any

import z3

WIDTH = 8  # bits per state variable; every encoded value is < 2**WIDTH
_MASK = (1 << WIDTH) - 1


class Disabled(Exception):
    """Raised by the concrete view when a transition's guard is false."""


class Concrete:
    """Python ints and bools."""

    symbolic = False

    def num(self, n: int) -> int:
        # state values are bytes: a literal wraps as it does in the symbolic domain (a predicate's
        # `S.d.num(256)` was 256 here and 0 for Z3, so the two explorers disagreed)
        return n % (1 << WIDTH)

    def true(self) -> bool:
        return True

    def false(self) -> bool:
        return False

    def eq(self, a: Any, b: Any) -> bool:
        return a == b

    def ne(self, a: Any, b: Any) -> bool:
        return a != b

    def lt(self, a: Any, b: Any) -> bool:
        return a < b

    def le(self, a: Any, b: Any) -> bool:
        return a <= b

    def add(self, a: Any, b: Any) -> int:
        return (a + b) % (1 << WIDTH)

    def sub(self, a: Any, b: Any) -> int:
        return (a - b) % (1 << WIDTH)

    def bit(self, mask: Any, i: int) -> bool:
        return bool((mask >> i) & 1)

    def and_(self, *bs: Any) -> bool:
        return all(bs)

    def or_(self, *bs: Any) -> bool:
        return any(bs)

    def not_(self, b: Any) -> bool:
        return not b

    def ite(self, c: Any, a: Any, b: Any) -> Any:
        return a if c else b

    def truth(self, v: Any) -> bool:
        return v != 0

    def as_num(self, b: Any) -> int:
        return 1 if b else 0

    def known(self, b: Any) -> bool | None:
        return bool(b)

    def input(self, name: str) -> Any:
        raise TypeError(f"input {name}: a family's arguments are symbolic; the explorer runs its instances")


class Symbolic:
    """Z3 bit-vector terms; booleans are Z3 Bool terms."""

    symbolic = True

    def __init__(self) -> None:
        self._nums = [z3.BitVecVal(i, WIDTH) for i in range(1 << WIDTH)]
        self._true = z3.BoolVal(True)
        self._false = z3.BoolVal(False)
        self._one = self._nums[1]
        self._zero = self._nums[0]
        self._ids = {self._true.get_id(): True, self._false.get_id(): False}

    def _lit(self, b: Any) -> bool | None:
        """True or False for a constant; None for any other term. By AST id (Z3 shares equal
        terms): z3.is_true is a chain of API calls, and the liveness terms ask it thousands of
        times per command."""
        if isinstance(b, bool):
            return b
        return self._ids.get(b.get_id())

    def num(self, n: int) -> Any:
        return self._nums[n % (1 << WIDTH)]

    def true(self) -> Any:
        return self._true

    def false(self) -> Any:
        return self._false

    def _v(self, a: Any) -> Any:
        return self._nums[a] if isinstance(a, int) else a

    def eq(self, a: Any, b: Any) -> Any:
        a, b = self._v(a), self._v(b)
        if z3.is_bv_value(a) and z3.is_bv_value(b):  # two constants (a family instance's argument)
            return self._true if a.as_long() == b.as_long() else self._false
        return a == b

    def ne(self, a: Any, b: Any) -> Any:
        return self._v(a) != self._v(b)

    def lt(self, a: Any, b: Any) -> Any:
        return z3.ULT(self._v(a), self._v(b))

    def le(self, a: Any, b: Any) -> Any:
        return z3.ULE(self._v(a), self._v(b))

    def add(self, a: Any, b: Any) -> Any:
        return self._v(a) + self._v(b)

    def sub(self, a: Any, b: Any) -> Any:
        return self._v(a) - self._v(b)

    def bit(self, mask: Any, i: int) -> Any:
        return z3.Extract(i, i, self._v(mask)) == z3.BitVecVal(1, 1)

    def and_(self, *bs: Any) -> Any:
        lits = [self._lit(b) for b in bs]
        if False in lits:
            return self._false
        bs = tuple(b for b, lit in zip(bs, lits, strict=True) if lit is None)
        if not bs:
            return self._true
        return bs[0] if len(bs) == 1 else _nary(z3.Z3_mk_and, bs)

    def or_(self, *bs: Any) -> Any:
        lits = [self._lit(b) for b in bs]
        if True in lits:
            return self._true
        bs = tuple(b for b, lit in zip(bs, lits, strict=True) if lit is None)
        if not bs:
            return self._false
        return bs[0] if len(bs) == 1 else _nary(z3.Z3_mk_or, bs)

    def not_(self, b: Any) -> Any:
        return z3.Not(b)

    def ite(self, c: Any, a: Any, b: Any) -> Any:
        if z3.is_true(c):
            return a
        if z3.is_false(c):
            return b
        if isinstance(a, bool) or isinstance(b, bool) or z3.is_bool(a):
            return z3.If(c, a, b)
        return z3.If(c, self._v(a), self._v(b))

    def truth(self, v: Any) -> Any:
        return self._v(v) != self._zero

    def as_num(self, b: Any) -> Any:
        return z3.If(b, self._one, self._zero)

    def input(self, name: str) -> Any:
        return z3.BitVec(name, WIDTH)

    def known(self, b: Any) -> bool | None:
        if z3.is_true(b):
            return True
        if z3.is_false(b):
            return False
        return None


def _nary(make: Any, bs: tuple[Any, ...]) -> Any:
    """z3.And / z3.Or without the Python wrapper's argument checks, which cost more than the
    term (the arguments here are Bool terms of the main context by construction)."""
    ctx = bs[0].ctx
    args = (z3.Ast * len(bs))(*[b.as_ast() for b in bs])
    return z3.BoolRef(make(ctx.ref(), len(bs), args), ctx)


class View:
    """One transition's window on a state: reads, buffered writes, requirements.

    `values` is the state vector (ints or Z3 terms), indexed through `layout`.
    Writes are buffered so that reads later in the same transition see them; an
    array access with a symbolic index becomes an if-then-else over the slots.
    """

    def __init__(self, d: Concrete | Symbolic, layout: Any, values: Any) -> None:
        self.d = d
        self.layout = layout
        self.values = values
        self.writes: dict[int, Any] = {}
        self.requires: list[Any] = []

    # guard ------------------------------------------------------------------
    def require(self, b: Any) -> None:
        if self.d.known(b) is False:
            if not self.d.symbolic:
                raise Disabled
        self.requires.append(b)

    def guard(self) -> Any:
        return self.d.and_(*self.requires)

    def input(self, name: str) -> Any:
        """An argument of a family command (model/program.py)."""
        return self.d.input(name)

    # state access -------------------------------------------------------------
    def _slot(self, i: int) -> Any:
        return self.writes[i] if i in self.writes else self.values[i]

    def get(self, name: str, index: Any = None) -> Any:
        base, size = self.layout.where(name)
        if index is None:
            return self._slot(base)
        if not self.d.symbolic and isinstance(index, int):
            index &= _MASK  # an index computed with Python's + or - wraps as the solvers' 8 bits do
        if isinstance(index, int):
            if not 0 <= index < size:
                raise IndexError(f"{name}[{index}]")
            return self._slot(base + index)
        if not self.d.symbolic:
            if not 0 <= index < size:
                raise IndexError(f"{name}[{index}]")
            return self._slot(base + index)
        out = self._slot(base + size - 1)
        for i in range(size - 2, -1, -1):
            out = self.d.ite(self.d.eq(index, i), self._slot(base + i), out)
        return out

    def set(self, name: str, value: Any, index: Any = None, when: Any = None) -> None:
        base, size = self.layout.where(name)
        if index is None:
            self._put(base, value, when)
            return
        if isinstance(index, int) or not self.d.symbolic:
            if not self.d.symbolic:
                index &= _MASK
            if not 0 <= index < size:
                raise IndexError(f"{name}[{index}]")
            self._put(base + index, value, when)
            return
        for i in range(size):
            cond = self.d.eq(index, i) if when is None else self.d.and_(when, self.d.eq(index, i))
            self._put(base + i, value, cond)

    def _put(self, i: int, value: Any, when: Any) -> None:
        if when is None:
            self.writes[i] = value
            return
        k = self.d.known(when)
        if k is True:
            self.writes[i] = value
        elif k is None:
            self.writes[i] = self.d.ite(when, value, self._slot(i))

    def successor(self) -> Any:
        """The next state vector (concrete: a tuple)."""
        vals = list(self.values)
        for i, v in self.writes.items():
            vals[i] = v
        return tuple(vals) if not self.d.symbolic else vals
