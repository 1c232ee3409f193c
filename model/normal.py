"""Normal form of a model's algorithms: how review decides that a change left the model alone.

Two texts give the same model when the algorithms `model.build` would compile from them (for one
host profile) have equal normal forms. Each rewrite below is one the compiler already treats as
a no-op, so equal normal forms compile to the same transitions (up to the names of steps):

- where a step sits and how it is worded (locations, numbers, text) only names a transition;
- names of locals and parameters (renamed in order of first use) and parameter types (headers
  document them; the model checks the steps, not the header);
- the element word of a loop or a `contains` over a list (`element _e_`, `a Record _r_`);
- `Completion(x)` and `NormalCompletion(x)` are x (sec-completion-record-specification-type);
- `! F(...)` where F cannot complete abruptly is `F(...)` (the assertion can never fire);
- a final `Return ~unused~.` is the same as running off the end (both return ~unused~);
- a string literal written as code (`"%WeakRef.prototype%"`) or as a value;
- the body of a loop over entities the model has none of at the run's bounds (WeakMaps without
  `weakmaps`, WeakSets without `weaksets`, registered Symbols without `symbols`) makes no
  transitions, whatever it says; with those bounds the loops run, and the WeakMap and WeakSet
  built-ins are part of the form (it used to ignore the bounds, and a review at weakmaps=1
  called a changed WeakMap.prototype.set "not modelled" and the model "identical": found by an
  independent review);
- the text's general definitions of operations the model gives a meaning by hand (Call,
  SameValue, ...: a whole spec.html has them, the excerpt does not) are not compiled, so they are
  not part of the form either; `ModelForm.substituted` lists them.

Anything else that differs is a change of the model; review lists which algorithms and steps.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields, is_dataclass

from specmc.model.bounds import Bounds
from specmc.model.build import HOST_CALLS, Substitution, select_algorithms
from specmc.model.by_hand import BY_HAND
from specmc.model.compile import dead_loop
from specmc.model.hosts import HostProfile
from specmc.spec import ir

# a normal form: nested tuples of node names, renamed variables, literals and flags
Form = str | int | bool | None | tuple["Form", ...]

# operations defined elsewhere in ECMA-262 that the compiler models by hand and that cannot throw
_TOTAL_BUILTINS = frozenset(name for name, hand in BY_HAND.items() if hand.total)


@dataclass(frozen=True)
class ModelForm:
    """What review compares: per algorithm the model compiles, its normal form."""

    host: str
    algorithms: tuple[tuple[str, Form], ...]  # (name, normal form), sorted by name
    missing: tuple[str, ...]  # algorithms the model needs and the text does not define
    unknown: tuple[ir.Step, ...]  # unreadable steps in algorithms the model needs
    from_text: tuple[tuple[str, ir.Algorithm], ...] = ()  # (model name, the text's algorithm)
    # the text's general definitions the model replaces by its own meaning; not in the digest,
    # since the model never runs their steps (an excerpt without them has the same model)
    substituted: tuple[Substitution, ...] = ()
    # algorithms the model runs that the text defines twice (name, where the second one is):
    # such a text has no model (E087), so two texts differing only there must not compare equal
    twice: tuple[tuple[str, str], ...] = ()

    @property
    def digest(self) -> str:
        return hashlib.sha256(repr((self.algorithms, self.missing,
                                    tuple(_normal_text(s) for s in self.unknown),
                                    *((self.twice,) if self.twice else ()))).encode()).hexdigest()

    def of(self, name: str) -> Form:
        return dict(self.algorithms).get(name)


def model_form(spec: ir.Spec, host: HostProfile, bounds: Bounds | None = None) -> ModelForm:
    """The form of the model `model.build` makes from `spec` for `host` at `bounds` (only the
    bounds that decide which algorithms and loops run matter: `symbols`, `weakmaps`, `weaksets`)."""
    bounds = bounds or Bounds()
    sel = select_algorithms(spec, host, bounds.weakmaps, bounds.weaksets)
    algs = {name: alg for name, (alg, _) in sel.algorithms.items()}
    total = _Totality(algs)
    forms = tuple(sorted((name, _Normaliser(alg, total, bounds).algorithm()) for name, alg in algs.items()))
    from_text = tuple((name, alg) for name, (alg, source) in sel.algorithms.items() if source == "spec")
    twice = tuple((second.name, str(second.loc)) for _, second in sel.twice)
    return ModelForm(host.name, forms, sel.missing, sel.unknown, from_text, sel.substituted, twice)


def step_form(alg: ir.Algorithm, spec_algs: dict[str, ir.Algorithm]) -> dict[int, Form]:
    """Normal form of each step of `alg` (by id), for a step-level diff that ignores rewording."""
    n = _Normaliser(alg, _Totality(spec_algs))
    return {id(s): n.stmt(s.stmt) for s in alg.walk()}


def _normal_text(s: ir.Step) -> str:
    return " ".join(s.text.split())


class _Totality:
    """Which algorithms always complete normally: no throw, no `?`, no call that may throw."""

    def __init__(self, algs: dict[str, ir.Algorithm]):
        self.algs = algs
        self.memo: dict[str, bool] = {}

    def total(self, name: str) -> bool:
        if name in HOST_CALLS or name in _TOTAL_BUILTINS:
            return True
        alg = self.algs.get(name)
        if alg is None or not alg.steps:
            return False
        if name not in self.memo:
            self.memo[name] = True  # a recursive call does not make it partial by itself
            self.memo[name] = all(self._step_total(s.stmt) for s in alg.walk())
        return self.memo[name]

    def _step_total(self, st: ir.Stmt) -> bool:
        for n in ir.iter_nodes(st):
            if isinstance(n, ir.Throw) or (isinstance(n, ir.Check) and n.op == "?"):
                return False
            if isinstance(n, ir.Call):
                if n.check == "?":
                    return False
                callee = n.callee.name if isinstance(n.callee, ir.Name) else ""
                if n.check != "!" and not self.total(callee):
                    return False
        return True


class _Normaliser:
    def __init__(self, alg: ir.Algorithm, total: _Totality, bounds: Bounds | None = None):
        self.alg = alg
        self.total = total
        self.bounds = bounds or Bounds()
        self.names: dict[str, str] = {}
        for name in [p.name for p in alg.params] + list(alg.captures) + list(alg.binds):
            self._bind(name)

    def _bind(self, name: str) -> str:
        return self.names.setdefault(name, f"v{len(self.names)}")

    def algorithm(self) -> Form:
        a = self.alg
        steps = list(a.steps)
        last = steps[-1] if steps else None
        if (last is not None and isinstance(last.stmt, ir.Return) and not last.substeps
                and isinstance(last.stmt.value, ir.Literal) and last.stmt.value.value == "unused"):
            steps.pop()
        params = tuple(p.optional for p in a.params)
        return (a.kind, params, len(a.captures), len(a.binds), a.atomic, self.steps(tuple(steps)))

    def steps(self, steps: tuple[ir.Step, ...]) -> Form:
        b = self.bounds
        return tuple((self.stmt(s.stmt),
                      () if dead_loop(s.stmt, b.symbols, b.weakmaps, b.weaksets) else self.steps(s.substeps))
                     for s in steps)

    def stmt(self, st: ir.Stmt) -> Form:
        if isinstance(st, ir.Let):
            return ("Let", self._bind(st.var), self.expr(st.value))
        if isinstance(st, ir.Choose):
            return ("Choose", self._bind(st.var))
        if isinstance(st, ir.ForEach):
            b = st.binder
            kind = b.type_name if st.source is None else ""  # a list's element word says nothing
            return ("ForEach", (self._bind(b.var), kind, b.fields), self.expr(st.source),
                    self.expr(st.such_that), st.reverse, st.read_ahead)
        return self.generic(st)

    def expr(self, e: ir.Expr | None) -> Form:
        if e is None:
            return None
        if isinstance(e, ir.Var):
            return ("Var", self.names.get(e.name, "free:" + e.name))
        if isinstance(e, ir.Call):
            callee = e.callee.name if isinstance(e.callee, ir.Name) else ""
            if callee in ("Completion", "NormalCompletion") and len(e.args) == 1 and not e.check:
                return self.expr(e.args[0])
            check = "" if e.check == "!" and self.total.total(callee) else e.check
            return ("Call", self.expr(e.callee), tuple(self.expr(a) for a in e.args), check)
        if isinstance(e, ir.Literal) and e.kind == "code" and e.value[:1] == e.value[-1:] == '"':
            return ("Literal", "string", e.value[1:-1])
        if isinstance(e, ir.Contains) and isinstance(e.element, ir.Binder):
            b = e.element
            return ("Contains", self.expr(e.container), ("Binder", self._bind(b.var), b.fields),
                    self.expr(e.such_that), e.negated)
        if isinstance(e, ir.Binder):
            return ("Binder", self._bind(e.var), e.type_name, e.fields)
        return self.generic(e)

    def generic(self, node: object) -> Form:
        if isinstance(node, tuple):
            return tuple(self.generic(x) if isinstance(x, ir.Stmt) else self.expr(x)
                         if isinstance(x, ir.Expr) else x for x in node)
        if not is_dataclass(node):
            return node
        out: list[Form] = [type(node).__name__]
        for f in fields(node):
            if f.name == "loc":
                continue
            v = getattr(node, f.name)
            if isinstance(v, ir.Stmt):
                out.append(self.stmt(v))
            elif isinstance(v, ir.Expr):
                out.append(self.expr(v))
            elif isinstance(v, tuple):
                out.append(self.generic(v))
            else:
                out.append(v)
        return tuple(out)
