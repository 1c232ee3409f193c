"""Both domains implement the `Domain` protocol (model/domain.py). The semantics is written once
against it and run concretely (the explorer, the replay of every counterexample) and symbolically
(the solvers), so a method one domain lacks or takes differently is a model that runs in one and
breaks in the other. The check compares, method by method, the parameters and the resolved type
hints of each domain with the protocol's, its type parameters bound to the domain's types."""

from __future__ import annotations

import functools
import inspect
import operator
import types
import typing
from collections.abc import Callable

import z3
from specmc.model.domain import B, Concrete, Domain, Symbolic, V

BINDINGS = {Concrete: {V: int, B: bool}, Symbolic: {V: z3.BitVecRef, B: z3.BoolRef}}


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
