"""The abstract value interface the semantics is written against, and its two domains.

Every transition of the model (spec steps, mutator, collector, event loop) is a
Python function over a `View` of the state that only ever combines values through
a `Domain`. Run it with `Concrete` and it computes one successor state; run it
with `Symbolic` and the same code builds the Z3 terms of the transition relation.
There is no second semantics to drift from the first.

State variables are small unsigned integers (booleans are 0/1). Conditions are
domain booleans. A transition states what it requires with `View.require`; the
concrete view stops at the first requirement that is false.

`Domain[V, B]` says what a domain offers: V is its value (a state variable's content: an int,
or a Z3 bit-vector term) and B its boolean (a bool, or a Z3 Bool term). Both domains also take
Python ints and bools where they take a value or a boolean, since the semantics writes its
constants (layout codes, 0/1 flags) as plain ints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import z3

if TYPE_CHECKING:
    from specmc.model.layout import Layout

WIDTH = 8  # bits per state variable; every encoded value is < 2**WIDTH
_MASK = (1 << WIDTH) - 1

V = TypeVar("V")  # a domain's value
B = TypeVar("B")  # a domain's boolean
T = TypeVar("T")  # either, where an operation does not care (`ite`)


class Domain(Protocol[V, B]):
    """What the semantics may do with values and booleans; `Concrete` (Domain[int, bool]) and
    `Symbolic` (Domain[z3.BitVecRef, z3.BoolRef]) implement it. Arithmetic and comparisons are
    unsigned and wrap at WIDTH bits, in both."""

    symbolic: bool  # False: values are known, a false requirement stops the transition at once

    def num(self, n: int) -> V:
        """The constant n (wrapped to WIDTH bits)."""
        ...

    def true(self) -> B: ...

    def false(self) -> B: ...

    def eq(self, a: V | int, b: V | int) -> B: ...

    def ne(self, a: V | int, b: V | int) -> B: ...

    def lt(self, a: V | int, b: V | int) -> B: ...

    def le(self, a: V | int, b: V | int) -> B: ...

    def add(self, a: V | int, b: V | int) -> V: ...

    def sub(self, a: V | int, b: V | int) -> V: ...

    def bit(self, mask: V | int, i: int) -> B:
        """Bit i of a bitmask (the set _S_ of sec-weakref-execution)."""
        ...

    def and_(self, *bs: B | bool) -> B: ...

    def or_(self, *bs: B | bool) -> B: ...

    def not_(self, b: B | bool) -> B: ...

    def ite(self, c: B | bool, a: T, b: T) -> T:
        """a where c holds, else b (two values, or two booleans)."""
        ...

    def truth(self, v: V | int) -> B:
        """A value read as a boolean: nonzero."""
        ...

    def as_num(self, b: B | bool) -> V:
        """A boolean stored as a value: 1 or 0."""
        ...

    def known(self, b: B | bool) -> bool | None:
        """b's truth when it is decided without knowing the state, else None."""
        ...

    def input(self, name: str) -> V:
        """An argument of a family command (model/program.py): symbolic only."""
        ...


class Disabled(Exception):
    """Raised by the concrete view when a transition's guard is false."""


class Concrete:
    """Python ints and bools: Domain[int, bool]."""

    symbolic = False

    def num(self, n: int) -> int:
        # state values are bytes: a literal wraps as it does in the symbolic domain (a predicate's
        # `S.d.num(256)` was 256 here and 0 for Z3, so the two explorers disagreed)
        return n % (1 << WIDTH)

    def true(self) -> bool:
        return True

    def false(self) -> bool:
        return False

    def eq(self, a: int, b: int) -> bool:
        return a == b

    def ne(self, a: int, b: int) -> bool:
        return a != b

    def lt(self, a: int, b: int) -> bool:
        return a < b

    def le(self, a: int, b: int) -> bool:
        return a <= b

    def add(self, a: int, b: int) -> int:
        return (a + b) % (1 << WIDTH)

    def sub(self, a: int, b: int) -> int:
        return (a - b) % (1 << WIDTH)

    def bit(self, mask: int, i: int) -> bool:
        return bool((mask >> i) & 1)

    def and_(self, *bs: bool) -> bool:
        return all(bs)

    def or_(self, *bs: bool) -> bool:
        return any(bs)

    def not_(self, b: bool) -> bool:
        return not b

    def ite(self, c: bool, a: T, b: T) -> T:
        return a if c else b

    def truth(self, v: int) -> bool:
        return v != 0

    def as_num(self, b: bool) -> int:
        return 1 if b else 0

    def known(self, b: bool) -> bool | None:
        return bool(b)

    def input(self, name: str) -> int:
        raise TypeError(f"input {name}: a family's arguments are symbolic; the explorer runs its instances")


class Symbolic:
    """Z3 bit-vector terms; booleans are Z3 Bool terms: Domain[z3.BitVecRef, z3.BoolRef]."""

    symbolic = True

    def __init__(self) -> None:
        self._nums = [z3.BitVecVal(i, WIDTH) for i in range(1 << WIDTH)]
        self._true = z3.BoolVal(True)
        self._false = z3.BoolVal(False)
        self._one = self._nums[1]
        self._zero = self._nums[0]
        self._ids = {self._true.get_id(): True, self._false.get_id(): False}

    def _lit(self, b: z3.BoolRef | bool) -> bool | None:
        """True or False for a constant; None for any other term. By AST id (Z3 shares equal
        terms): z3.is_true is a chain of API calls, and the liveness terms ask it thousands of
        times per command."""
        if isinstance(b, bool):
            return b
        return self._ids.get(b.get_id())

    def num(self, n: int) -> z3.BitVecRef:
        return self._nums[n % (1 << WIDTH)]

    def true(self) -> z3.BoolRef:
        return self._true

    def false(self) -> z3.BoolRef:
        return self._false

    def _v(self, a: z3.BitVecRef | int) -> z3.BitVecRef:
        if isinstance(a, int):
            if not 0 <= a < len(self._nums):
                # (a predicate's literal: state values are bytes; an IndexError said nothing of that)
                raise ValueError(f"the constant {a} is no state value (values are 0 to "
                                 f"{len(self._nums) - 1}; S.d.num(n) wraps n as the model's arithmetic does)")
            return self._nums[a]
        if isinstance(a, z3.ExprRef):
            return a
        # (a float reached Z3, which truncated and wrapped it: `S.d.lt(sp, 0.5)` was `sp < 0` to the
        # solvers, so dfs and kind PROVED what the explorer, comparing with 0.5, found broken; review 7)
        raise ValueError(f"the constant {a!r} is no state value (values are the ints 0 to "
                         f"{len(self._nums) - 1}, not a {type(a).__name__})")

    def eq(self, a: z3.BitVecRef | int, b: z3.BitVecRef | int) -> z3.BoolRef:
        a, b = self._v(a), self._v(b)
        if z3.is_bv_value(a) and z3.is_bv_value(b):  # two constants (a family instance's argument)
            return self._true if a.as_long() == b.as_long() else self._false
        return a == b

    def ne(self, a: z3.BitVecRef | int, b: z3.BitVecRef | int) -> z3.BoolRef:
        return self._v(a) != self._v(b)

    def lt(self, a: z3.BitVecRef | int, b: z3.BitVecRef | int) -> z3.BoolRef:
        return z3.ULT(self._v(a), self._v(b))

    def le(self, a: z3.BitVecRef | int, b: z3.BitVecRef | int) -> z3.BoolRef:
        return z3.ULE(self._v(a), self._v(b))

    def add(self, a: z3.BitVecRef | int, b: z3.BitVecRef | int) -> z3.BitVecRef:
        return self._v(a) + self._v(b)

    def sub(self, a: z3.BitVecRef | int, b: z3.BitVecRef | int) -> z3.BitVecRef:
        return self._v(a) - self._v(b)

    def bit(self, mask: z3.BitVecRef | int, i: int) -> z3.BoolRef:
        return z3.Extract(i, i, self._v(mask)) == z3.BitVecVal(1, 1)

    def and_(self, *bs: z3.BoolRef | bool) -> z3.BoolRef:
        lits = [self._lit(b) for b in bs]
        if False in lits:
            return self._false
        bs = tuple(b for b, lit in zip(bs, lits, strict=True) if lit is None)
        if not bs:
            return self._true
        return bs[0] if len(bs) == 1 else _nary(z3.Z3_mk_and, bs)

    def or_(self, *bs: z3.BoolRef | bool) -> z3.BoolRef:
        lits = [self._lit(b) for b in bs]
        if True in lits:
            return self._true
        bs = tuple(b for b, lit in zip(bs, lits, strict=True) if lit is None)
        if not bs:
            return self._false
        return bs[0] if len(bs) == 1 else _nary(z3.Z3_mk_or, bs)

    def not_(self, b: z3.BoolRef | bool) -> z3.BoolRef:
        return z3.Not(b)

    def ite(self, c: z3.BoolRef | bool, a: T, b: T) -> T:
        if z3.is_true(c):
            return a
        if z3.is_false(c):
            return b
        if isinstance(a, bool) or isinstance(b, bool) or z3.is_bool(a):
            return z3.If(c, a, b)
        return z3.If(c, self._v(a), self._v(b))  # type: ignore[arg-type]  # two values: not bools

    def truth(self, v: z3.BitVecRef | int) -> z3.BoolRef:
        return self._v(v) != self._zero

    def as_num(self, b: z3.BoolRef | bool) -> z3.BitVecRef:
        return z3.If(b, self._one, self._zero)

    def input(self, name: str) -> z3.BitVecRef:
        return z3.BitVec(name, WIDTH)

    def known(self, b: z3.BoolRef | bool) -> bool | None:
        if z3.is_true(b):
            return True
        if z3.is_false(b):
            return False
        return None


def _nary(make: Callable[..., z3.Ast], bs: tuple[z3.BoolRef, ...]) -> z3.BoolRef:
    """z3.And / z3.Or without the Python wrapper's argument checks, which cost more than the
    term (the arguments here are Bool terms of the main context by construction)."""
    ctx = bs[0].ctx
    args = (z3.Ast * len(bs))(*[b.as_ast() for b in bs])
    return z3.BoolRef(make(ctx.ref(), len(bs), args), ctx)


class SignedOperation(TypeError):
    """A predicate applied a Python operator to a state value that Z3 reads as *signed* 8-bit
    arithmetic (`<`, `/`, `%`, `>>`, ...): the explorer's int and the solvers' bit-vector would give
    different answers for values from 128 up, so both readings refuse it (E079 at the user's line)."""


_DOMAIN_OP = {"<": "S.d.lt(a, b)", "<=": "S.d.le(a, b)", ">": "S.d.lt(b, a)", ">=": "S.d.le(b, a)"}


def refuse_signed(op: str) -> SignedOperation:
    """The refusal of Python's `op` on a state value, worded for the predicate's author."""
    instead = _DOMAIN_OP.get(op)
    return SignedOperation(
        f"Python's `{op}` on a state value: the solvers read it as signed 8-bit arithmetic, the "
        "explorer as a Python int, so the two would disagree; "
        + (f"compare with {instead} (unsigned, as the model does)" if instead else
           "state values are bytes: use + - * & | ^ ~ << (they wrap at 8 bits in both readings) "
           "and S.d's comparisons"))


def _refused(op: str) -> Callable[..., Any]:
    def refused(self: Any, *_args: Any) -> Any:
        raise refuse_signed(op)

    return refused


def _wrapping(op: Callable[[int, Any], Any]) -> Callable[[Any, Any], Any]:
    """Byte's `op`: the int result wrapped at WIDTH bits (NotImplemented passed on)."""
    def wrapped(self: Any, o: Any) -> Any:
        r = op(self, o)
        return r if r is NotImplemented else _BYTE[r & _MASK]

    return wrapped


class Byte(int):
    """A state value as a predicate reads it concretely: an int that wraps at WIDTH bits as the
    solvers' bit-vector does. Z3 reads `S.get("sp") + 256` as `sp + 0`; a Python int read it as
    sp + 256, and the explorer, the C search and the solvers gave one user property three
    verdicts (independent review 6, F1). So + - * & | ^ ~ << and their reflected forms wrap, == and
    != compare modulo 2**WIDTH (Z3 wraps an int literal), and the operators Z3 reads as signed
    (< <= > >= / % >> and the ones Z3 lacks: // ** divmod) are refused (SignedOperation).

    The 256 values are made once (`_BYTE`): the catalogue's predicates read some 700,000 values
    in one default search, and a constructor call per read cost the explorer a tenth of its time."""

    __slots__ = ()

    def __new__(cls, n: int) -> Byte:
        return _BYTE[int(n) & _MASK]

    __add__ = __radd__ = _wrapping(int.__add__)
    __sub__ = _wrapping(int.__sub__)
    __rsub__ = _wrapping(int.__rsub__)
    __mul__ = __rmul__ = _wrapping(int.__mul__)
    __and__ = __rand__ = _wrapping(int.__and__)
    __or__ = __ror__ = _wrapping(int.__or__)
    __xor__ = __rxor__ = _wrapping(int.__xor__)

    def __lshift__(self, o: int) -> Byte:  # Z3 wraps the shift amount too; 8 or more gives 0
        return _BYTE[(int(self) << (int(o) & _MASK)) & _MASK] if isinstance(o, int) else NotImplemented

    def __rlshift__(self, o: int) -> Byte:
        return _BYTE[(int(o) << int(self)) & _MASK] if isinstance(o, int) else NotImplemented

    def __neg__(self) -> Byte:
        return _BYTE[-int(self) & _MASK]

    def __pos__(self) -> Byte:
        return self

    def __invert__(self) -> Byte:
        return _BYTE[~int(self) & _MASK]

    def __eq__(self, o: object) -> bool:
        return int.__eq__(self, o & _MASK) if isinstance(o, int) else NotImplemented

    def __ne__(self, o: object) -> bool:
        return int.__ne__(self, o & _MASK) if isinstance(o, int) else NotImplemented

    __hash__ = int.__hash__

    __lt__ = _refused("<")
    __le__ = _refused("<=")
    __gt__ = _refused(">")
    __ge__ = _refused(">=")
    __truediv__ = __rtruediv__ = _refused("/")
    __floordiv__ = __rfloordiv__ = _refused("//")
    __mod__ = __rmod__ = _refused("%")
    __divmod__ = __rdivmod__ = _refused("divmod")
    __rshift__ = __rrshift__ = _refused(">>")
    __pow__ = __rpow__ = _refused("**")

    def __repr__(self) -> str:
        return int.__repr__(self)

    __str__ = __repr__


_BYTE: tuple[Byte, ...] = tuple(int.__new__(Byte, i) for i in range(1 << WIDTH))
_eq, _ne, _lt, _le = int.__eq__, int.__ne__, int.__lt__, int.__le__


class Bytes(Concrete):
    """The concrete domain a predicate is evaluated in: `Concrete`, with values handed back as
    `Byte`s (so that Python arithmetic on them keeps wrapping) and comparisons made on the ints
    (a Byte refuses Python's `<`). Only predicates run here: the model's own transitions keep
    `Concrete`, whose arithmetic already wraps and which is on the explorer's hot path. (A
    constant past a byte never reaches eq/lt: the symbolic reading, built first, refuses it.)"""

    def num(self, n: int) -> Byte:
        return _BYTE[n & _MASK]

    def eq(self, a: int, b: int) -> bool:
        return _eq(a, b)

    def ne(self, a: int, b: int) -> bool:
        return _ne(a, b)

    def lt(self, a: int, b: int) -> bool:
        return _lt(a, b)

    def le(self, a: int, b: int) -> bool:
        return _le(a, b)

    def add(self, a: int, b: int) -> Byte:
        return _BYTE[(int(a) + int(b)) & _MASK]

    def sub(self, a: int, b: int) -> Byte:
        return _BYTE[(int(a) - int(b)) & _MASK]

    def bit(self, mask: int, i: int) -> bool:
        return bool((int(mask) >> i) & 1)

    def ite(self, c: bool, a: T, b: T) -> T:
        r = a if c else b
        return _BYTE[r & _MASK] if type(r) is int else r  # type: ignore[return-value]  # a value: wraps

    def as_num(self, b: bool) -> Byte:
        return _BYTE[1 if b else 0]


BYTES = Bytes()


class View(Generic[V, B]):
    """One transition's window on a state: reads, buffered writes, requirements.

    `values` is the state vector (ints or Z3 terms), indexed through `layout`.
    Writes are buffered so that reads later in the same transition see them; an
    array access with a symbolic index becomes an if-then-else over the slots.
    """

    def __init__(self, d: Domain[V, B], layout: Layout, values: Sequence[V | int]) -> None:
        self.d = d
        self.layout = layout
        self.values = values
        self.writes: dict[int, V | int] = {}
        self.requires: list[B | bool] = []

    # guard ------------------------------------------------------------------
    def require(self, b: B | bool) -> None:
        if self.d.known(b) is False:
            if not self.d.symbolic:
                raise Disabled
        self.requires.append(b)

    def guard(self) -> B:
        return self.d.and_(*self.requires)

    def input(self, name: str) -> V:
        """An argument of a family command (model/program.py)."""
        return self.d.input(name)

    # state access -------------------------------------------------------------
    def _slot(self, i: int) -> V | int:
        return self.writes[i] if i in self.writes else self.values[i]

    def get(self, name: str, index: V | int | None = None) -> V | int:
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
            if not 0 <= index < size:  # type: ignore[operator]  # a concrete value: an int
                raise IndexError(f"{name}[{index}]")
            return self._slot(base + index)  # type: ignore[operator]
        out = self._slot(base + size - 1)
        for i in range(size - 2, -1, -1):
            out = self.d.ite(self.d.eq(index, i), self._slot(base + i), out)
        return out

    def set(self, name: str, value: V | int, index: V | int | None = None,
            when: B | bool | None = None) -> None:
        base, size = self.layout.where(name)
        if index is None:
            self._put(base, value, when)
            return
        if isinstance(index, int) or not self.d.symbolic:
            if not self.d.symbolic:
                index &= _MASK  # type: ignore[operator]  # a concrete value: an int
            if not 0 <= index < size:  # type: ignore[operator]
                # a write its guard turns off writes nothing, wherever it points: an enqueue of a
                # registry already queued, with the queue full, names queue[jobs] under a false
                # guard (the C search and the symbolic relation skip it; the interpreter raised,
                # found by an independent review)
                if when is not None and self.d.known(when) is False:
                    return
                raise IndexError(f"{name}[{index}]")
            self._put(base + index, value, when)  # type: ignore[operator]
            return
        for i in range(size):
            cond = self.d.eq(index, i) if when is None else self.d.and_(when, self.d.eq(index, i))
            self._put(base + i, value, cond)

    def _put(self, i: int, value: V | int, when: B | bool | None) -> None:
        if when is None:
            self.writes[i] = value
            return
        k = self.d.known(when)
        if k is True:
            self.writes[i] = value
        elif k is None:
            self.writes[i] = self.d.ite(when, value, self._slot(i))

    def successor(self) -> tuple[V | int, ...] | list[V | int]:
        """The next state vector (concrete: a tuple; symbolic: a list of terms)."""
        vals = list(self.values)
        for i, v in self.writes.items():
            vals[i] = v
        return tuple(vals) if not self.d.symbolic else vals


class ByteView(View[int, bool]):
    """A concrete state as a predicate (a property, a cover, a temporal callback) reads it: every
    value read is a `Byte` and `S.d` is `BYTES`, so the predicate means what its Z3 term means
    (model/symbolic.py `predicate_parts` refuses the same signed operators on bit-vectors)."""

    def __init__(self, layout: Layout, values: Sequence[int]) -> None:
        super().__init__(BYTES, layout, values)

    def get(self, name: str, index: int | None = None) -> Byte:  # type: ignore[override]
        # View.get's concrete branch, inlined: the catalogue's predicates read through here about
        # 700,000 times in one default search
        base, size = self.layout.where(name)
        if index is not None:
            index = int(index) & _MASK  # an index computed with + or - wraps, as for the solvers
            if index >= size:
                raise IndexError(f"{name}[{index}]")
            base += index
        return _BYTE[self.writes[base] if base in self.writes else self.values[base]]  # type: ignore[index]
