"""The IR: frozen dataclasses, every node located.

Expressions and statements mirror the spec's own vocabulary (ESMeta's `lang`
layer): a `Let` is a Let, a `For each ... such that` over the heap is a
`ForEach` with a `such_that` condition. Text the grammar cannot read is kept as
data (`Opaque` inside an otherwise typed step, `Unknown` for a whole step) so
that coverage can count it and review can diff it; nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from specmc.spec.source import Loc

NOWHERE = Loc("<none>", 0, 0)

# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Expr:
    loc: Loc = field(default=NOWHERE, kw_only=True, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Var(Expr):
    """`_name_`: an alias (local, parameter or captured value)."""

    name: str


@dataclass(frozen=True, slots=True)
class Literal(Expr):
    """`*undefined*`, `*true*`, `*"str"*`, `~empty~`, `0`, `` `code` ``.

    kind is one of: value, string, enum, number, code, error (e.g. *TypeError*).
    """

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Intrinsic(Expr):
    name: str  # without the % signs


@dataclass(frozen=True, slots=True)
class SlotName(Expr):
    """A bare `[[Name]]`, as in `« [[Cells]] »` or RequireInternalSlot(_o_, [[Cells]])."""

    name: str


@dataclass(frozen=True, slots=True)
class Name(Expr):
    """A bare identifier used as a value, e.g. an abstract operation named as a function."""

    name: str


@dataclass(frozen=True, slots=True)
class Special(Expr):
    """A value the spec names in prose.

    kind: new-target, this-value, active-function, agent-record, empty-list,
    global-symbol-registry, running-context, empty-string, ...
    """

    kind: str


@dataclass(frozen=True, slots=True)
class Field(Expr):
    """`base.[[Name]]` (a record field or an internal slot)."""

    base: Expr
    name: str


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """`? F(args)`, `! F(args)`, `F(args)`; check is '?', '!' or ''."""

    callee: Expr
    args: tuple[Expr, ...]
    check: str = ""


@dataclass(frozen=True, slots=True)
class Check(Expr):
    """`? expr` / `! expr` applied to something that is not a call."""

    op: str
    operand: Expr


@dataclass(frozen=True, slots=True)
class ListLit(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class RecordLit(Expr):
    """`the Record { [[A]]: x, ... }` (type_name is 'Record', 'JobCallback Record', ...)."""

    type_name: str
    fields: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True, slots=True)
class Unary(Expr):
    op: str  # '-', 'not'
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary(Expr):
    """Arithmetic: + - × ÷ and the comparisons < > ≤ ≥ = ≠ on mathematical values."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Compare(Expr):
    """`left is right` / `left is not right` (spec identity, sec-identity)."""

    left: Expr
    right: Expr
    negated: bool = False


@dataclass(frozen=True, slots=True)
class OneOf(Expr):
    """`x is either a or b` / `x is one of a, b, or c` (negated: `is neither ... nor`)."""

    subject: Expr
    options: tuple[Expr, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class TypeTest(Expr):
    """`x is an Object`, `x is not a Symbol`, `Type(x) is Object`, `x is an abrupt completion`."""

    subject: Expr
    type_name: str
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Present(Expr):
    """`x is present` / `x is not present` (optional parameters)."""

    subject: Expr
    negated: bool = False


@dataclass(frozen=True, slots=True)
class HasSlots(Expr):
    """`x has [[A]] and [[B]] internal slots` / `x has an [[A]] internal slot`."""

    subject: Expr
    slots: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Logic(Expr):
    op: str  # 'and' | 'or'
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Binder(Expr):
    """A pattern that names one element: `a Record _cell_`, `WeakRef _ref_`,
    `Record { [[A]], [[B]] } _cell_`, `element _e_`, or just `_e_`."""

    var: str
    type_name: str = ""
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Contains(Expr):
    """`list contains x`, `list contains a Record _r_ such that cond`, negated for `does not`."""

    container: Expr
    element: Expr
    such_that: Expr | None = None
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Count(Expr):
    """`the number of elements in x` / `the length of x`."""

    of: Expr


@dataclass(frozen=True, slots=True)
class Opaque(Expr):
    """An operand the expression grammar could not read; the step is still typed."""

    text: str


# ----------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class Stmt:
    loc: Loc = field(default=NOWHERE, kw_only=True, compare=False, repr=False)

    @property
    def kind(self) -> str:
        return STMT_KINDS[type(self)]


@dataclass(frozen=True, slots=True)
class Let(Stmt):
    var: str
    value: Expr


@dataclass(frozen=True, slots=True)
class Set(Stmt):
    target: Expr
    value: Expr


@dataclass(frozen=True, slots=True)
class Return(Stmt):
    value: Expr | None = None


@dataclass(frozen=True, slots=True)
class Throw(Stmt):
    error: str  # 'TypeError', 'RangeError', ...


@dataclass(frozen=True, slots=True)
class Assert(Stmt):
    cond: Expr


@dataclass(frozen=True, slots=True)
class Perform(Stmt):
    value: Expr


@dataclass(frozen=True, slots=True)
class If(Stmt):
    """`If c, then` (body = substeps) or `If c, <stmt>.` (body = `inline`);
    `If c, <stmt>; otherwise <stmt>.` fills `otherwise` too."""

    cond: Expr
    inline: Stmt | None = None
    otherwise: Stmt | None = None


@dataclass(frozen=True, slots=True)
class ElseIf(Stmt):
    cond: Expr
    inline: Stmt | None = None


@dataclass(frozen=True, slots=True)
class Else(Stmt):
    inline: Stmt | None = None


@dataclass(frozen=True, slots=True)
class Append(Stmt):
    item: Expr
    target: Expr
    front: bool = False  # Prepend / "to the front of"


@dataclass(frozen=True, slots=True)
class Remove(Stmt):
    """`Remove x from L` (item) or `Remove the first element of L` (item is None)."""

    item: Expr | None
    source: Expr


@dataclass(frozen=True, slots=True)
class Replace(Stmt):
    """`Replace the element of L whose value is x with an element whose value is y`."""

    container: Expr
    old: Expr
    new: Expr


@dataclass(frozen=True, slots=True)
class ForEach(Stmt):
    """`For each <binder> of <source>, do` or `For each <binder> such that <cond>, do`.

    With `source` None the loop ranges over every entity of the binder's type
    that satisfies `such_that` (a quantifier over the heap). `read_ahead` is the host-profile
    form `For each <binder> of <list>, reading the next element before the steps run, do`: an
    engine's list_for_each_safe, which fixes each element's successor before the body runs
    (docs/spec-language.md); the plain form walks the list live.
    """

    binder: Binder
    source: Expr | None
    such_that: Expr | None = None
    reverse: bool = False
    read_ahead: bool = False


@dataclass(frozen=True, slots=True)
class While(Stmt):
    """`While c, an implementation may perform the following steps:` (may=True) or
    `Repeat, while c,` (may=False)."""

    cond: Expr
    may: bool = False


@dataclass(frozen=True, slots=True)
class Repeat(Stmt):
    """`Repeat,` (unconditional) or `Repeat, until c,`."""

    until: Expr | None = None


@dataclass(frozen=True, slots=True)
class Choose(Stmt):
    """`Choose any such _cell_.`: a nondeterministic pick among the binder's matches."""

    var: str


@dataclass(frozen=True, slots=True)
class Optionally(Stmt):
    """`Optionally, <stmt>.`: the implementation may or may not perform it."""

    body: Stmt


@dataclass(frozen=True, slots=True)
class HostDefined(Stmt):
    """`Perform any host-defined steps for ...`: an explicit hole the host profile fills."""

    purpose: str


@dataclass(frozen=True, slots=True)
class Free(Stmt):
    """`Free _x_.` (host profiles only): the engine releases the entity's memory; any
    later read or write of it is a use after free."""

    target: Expr


@dataclass(frozen=True, slots=True)
class Note(Stmt):
    text: str


@dataclass(frozen=True, slots=True)
class Prose(Stmt):
    """A recognised imperative whose operands are prose (Push, Suspend, Resume, Sort, ...).

    verb is the leading verb; operands are whatever expressions could be read.
    """

    verb: str
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Unknown(Stmt):
    """A step the grammar does not know. Never skipped: counted, located, diffed."""

    text: str


STMT_KINDS: dict[type, str] = {
    Let: "let", Set: "set", Return: "return", Throw: "throw", Assert: "assert",
    Perform: "perform", If: "if", ElseIf: "else-if", Else: "else", Append: "append",
    Remove: "remove", Replace: "replace", ForEach: "for-each", While: "while",
    Repeat: "repeat", Choose: "choose", Optionally: "optionally",
    HostDefined: "host-defined", Free: "free", Note: "note", Prose: "prose", Unknown: "unknown",
}

# ---------------------------------------------------------------- algorithms


@dataclass(frozen=True, slots=True)
class Step:
    number: str  # as people cite it: 3, 3.b, 3.b.ii
    text: str  # the step's text, whitespace-normalised and entity-decoded
    stmt: Stmt
    substeps: tuple[Step, ...]
    loc: Loc
    attrs: tuple[tuple[str, str], ...] = ()  # ecmarkdown step attributes, e.g. id

    @property
    def kind(self) -> str:
        return self.stmt.kind

    def walk(self):
        yield self
        for s in self.substeps:
            yield from s.walk()


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str = ""
    optional: bool = False


@dataclass(frozen=True, slots=True)
class Algorithm:
    """One `<emu-alg>` with the header that gives it a name.

    kind: abstract-operation, host-defined, host-default, built-in,
    implementation-steps (sec-weakref-execution's "may perform ... atomically"),
    job-closure (an Abstract Closure introduced by a `<p>`), sdo, other.
    """

    clause: str
    name: str
    kind: str
    params: tuple[Param, ...]
    steps: tuple[Step, ...]
    loc: Loc
    return_type: str = ""
    atomic: bool = False
    closure: str = ""  # e.g. "_cleanupJob_" for a job closure
    captures: tuple[str, ...] = ()
    binds: tuple[str, ...] = ()  # free variables the prose binds (e.g. _S_)

    def walk(self):
        for s in self.steps:
            yield from s.walk()


@dataclass(frozen=True, slots=True)
class Clause:
    id: str
    type: str
    title: str
    parent: str
    loc: Loc
    header: tuple[tuple[str, str], ...] = ()  # <dl class="header"> entries: (dt, dd)


@dataclass(frozen=True)
class Spec:
    """What spec/ hands to model/: algorithms, clause tree, warnings."""

    files: tuple[str, ...]
    clauses: tuple[Clause, ...]
    algorithms: tuple[Algorithm, ...]
    warnings: tuple[Any, ...] = ()  # Diagnostic values (warnings only)

    def by_clause(self, clause_id: str) -> tuple[Algorithm, ...]:
        return tuple(a for a in self.algorithms if a.clause == clause_id)

    def by_name(self, name: str) -> tuple[Algorithm, ...]:
        return tuple(a for a in self.algorithms if a.name == name)


def iter_nodes(node: Any):
    """Every IR node below (and including) `node`, depth first."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, tuple):
            stack.extend(reversed(n))
            continue
        if not is_dataclass(n) or isinstance(n, Loc):
            continue
        yield n
        for f in fields(n):
            if f.name != "loc":
                stack.append(getattr(n, f.name))
