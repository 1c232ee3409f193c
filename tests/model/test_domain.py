"""Both domains implement the `Domain` protocol (model/domain.py). The semantics is written once
against it and run concretely (the explorer, the replay of every counterexample) and symbolically
(the solvers), so a method one domain lacks or takes differently is a model that runs in one and
breaks in the other. The check compares, method by method, the parameters and the resolved type
hints of each domain with the protocol's, its type parameters bound to the domain's types."""

from __future__ import annotations

import functools
import inspect
import operator
import re
import types
import typing
from collections.abc import Callable

import pytest
import z3
from specmc.model.domain import BYTES, B, Byte, Bytes, Concrete, Domain, SignedOperation, Symbolic, V

BINDINGS = {Concrete: {V: int, B: bool}, Symbolic: {V: z3.BitVecRef, B: z3.BoolRef}}
SAMPLE = (0, 1, 2, 7, 127, 128, 129, 200, 254, 255)


def _bound(tp: object, binding: dict[typing.TypeVar, type]) -> object:
    """`tp` with the protocol's type parameters replaced (T, the one `ite` takes, stays)."""
    if isinstance(tp, typing.TypeVar):
        return binding.get(tp, tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return functools.reduce(operator.or_, [_bound(a, binding) for a in typing.get_args(tp)])
    return tp


def _methods() -> dict[str, Callable[..., object]]:
    own = {n: f for n, f in vars(Domain).items() if inspect.isfunction(f) and not n.startswith("_")}
    assert len(own) > 15  # the protocol is read, not an empty dict
    return own


def problems(cls: type, binding: dict[typing.TypeVar, type]) -> list[str]:
    """What keeps `cls` from being a Domain with these type arguments."""
    out = []
    if typing.get_type_hints(Domain)["symbolic"] is not bool or not isinstance(cls.symbolic, bool):
        out.append("symbolic: not a bool")
    for name, spec in _methods().items():
        impl = getattr(cls, name, None)
        if not callable(impl):
            out.append(f"{name}: missing")
            continue
        want, got = inspect.signature(spec), inspect.signature(impl)
        if [(p.name, p.kind) for p in want.parameters.values()] != \
                [(p.name, p.kind) for p in got.parameters.values()]:
            out.append(f"{name}: parameters {got} where the protocol has {want}")
            continue
        hints = {k: _bound(t, binding) for k, t in typing.get_type_hints(spec).items()}
        if typing.get_type_hints(impl) != hints:
            out.append(f"{name}: types {typing.get_type_hints(impl)} where the protocol has {hints}")
    return out


def test_the_concrete_and_the_symbolic_domain_implement_the_protocol():
    for cls, binding in BINDINGS.items():
        assert problems(cls, binding) == [], cls.__name__


def test_a_missing_method_other_parameters_or_another_type_are_each_found():
    lacking = type("Lacking", (), {k: v for k, v in vars(Concrete).items() if k != "bit"})

    class Narrow(Concrete):
        def and_(self, a: bool, b: bool) -> bool:  # two operands, not any number
            return a and b

    class Wrong(Concrete):
        def add(self, a: int, b: int) -> bool:  # a value's sum must be a value
            return bool(a + b)

    assert problems(lacking, BINDINGS[Concrete]) == ["bit: missing"]
    assert [p.split(":")[0] for p in problems(Narrow, BINDINGS[Concrete])] == ["and_"]
    assert [p.split(":")[0] for p in problems(Wrong, BINDINGS[Concrete])] == ["add"]
    # and the two domains are not interchangeable: each one's types are its own
    assert problems(Symbolic, BINDINGS[Concrete]) != []


def test_both_domains_compute_the_same_values():
    """The protocol's meaning, not only its shape: every operation on sample bytes agrees."""
    c, s = Concrete(), Symbolic()

    def value(t: object) -> object:
        t = z3.simplify(t)
        return t.as_long() if z3.is_bv_value(t) else z3.is_true(t)

    for a, b in [(0, 0), (3, 7), (255, 1), (128, 128), (9, 2)]:
        for op in ("eq", "ne", "lt", "le", "add", "sub"):
            assert value(getattr(s, op)(s.num(a), s.num(b))) == getattr(c, op)(a, b), (op, a, b)
        assert value(s.bit(s.num(a), 3)) == c.bit(a, 3)
        assert value(s.truth(s.num(a))) == c.truth(a)
        assert value(s.as_num(s.eq(a, b))) == c.as_num(c.eq(a, b))
        assert value(s.ite(s.lt(a, b), s.num(a), s.num(b))) == c.ite(c.lt(a, b), a, b)
    assert s.known(s.and_(True, s.false())) is False and c.known(c.and_(True, False)) is False
    assert s.known(s.or_(s.eq(s.input("x"), 1), True)) is True
    assert s.known(s.eq(s.input("x"), 1)) is None
    assert c.num(256) == 0 and value(s.num(256)) == 0


def _z3_value(t: object) -> object:
    t = z3.simplify(t)
    return t.as_long() if z3.is_bv_value(t) else z3.is_true(t)


WRAPPING = {"+": operator.add, "-": operator.sub, "*": operator.mul, "&": operator.and_,
            "|": operator.or_, "^": operator.xor, "<<": operator.lshift, "==": operator.eq,
            "!=": operator.ne}


@pytest.mark.parametrize("op", WRAPPING)
def test_a_predicates_python_arithmetic_on_bytes_is_z3s(op):
    """A predicate's `S.get("sp") + 256` (review 6, F1): the concrete reading (a Byte) gives what
    Z3 gives for the same Python expression on a bit-vector, with the byte on either side and a
    Python int past a byte (Z3 wraps it) on the other."""
    f = WRAPPING[op]
    others = (*SAMPLE, 256, 300, 1000, -1, -200)
    for a in SAMPLE:
        x = z3.BitVecVal(a, 8)
        for b in others:
            for got, want in ((f(Byte(a), b), f(x, b)), (f(b, Byte(a)), f(b, x))):
                if op in ("==", "!=") and isinstance(want, bool):  # Python compared the objects
                    continue
                assert int(got) == int(_z3_value(want)), (a, op, b)
                assert isinstance(got, Byte) or isinstance(got, bool), (a, op, b)
        for b in SAMPLE:
            assert int(f(Byte(a), Byte(b))) == int(_z3_value(f(x, z3.BitVecVal(b, 8)))), (a, op, b)
        assert int(-Byte(a)) == _z3_value(-x) and int(~Byte(a)) == _z3_value(~x)


@pytest.mark.parametrize("op", ["<", "<=", ">", ">=", "/", "//", "%", ">>", "**"])
def test_an_operator_z3_reads_as_signed_is_refused_on_a_byte(op):
    """Z3 reads `x < 200` on a bit-vector as a signed comparison (true at x = 250); a Python int
    does not. The concrete reading refuses these, as model/symbolic.py's predicate_reading does."""
    f = eval(f"lambda a, b: a {op} b")
    with pytest.raises(SignedOperation, match=re.escape(f"`{op}`")):
        f(Byte(250), 200)
    with pytest.raises(SignedOperation):
        f(200, Byte(250))
    assert f(250, 200) is not None  # plain ints (the model's own values) are untouched


def test_the_predicate_domain_is_a_domain_whose_values_stay_bytes():
    # Concrete's methods, num/add/sub/ite/as_num narrowed to Byte (an int: the protocol's V)
    assert {p.split(":")[0] for p in problems(Bytes, BINDINGS[Concrete])} == {"num", "add", "sub", "as_num"}
    assert isinstance(BYTES.num(3) + 0, Byte) and BYTES.num(3) + 256 == 3
    assert BYTES.add(Byte(250), 10) + 0 == 4 and isinstance(BYTES.ite(True, 300, 2), Byte)
    assert BYTES.ite(False, True, False) is False  # a boolean stays a boolean
    assert BYTES.lt(Byte(250), 251) and BYTES.le(200, Byte(200)) and BYTES.bit(Byte(8), 3)
