"""Phase 3: step text -> typed IR statement, via the Lark grammar in grammar/steps.lark.

Each step is parsed on its own (the step tree is already built), so a failure
stays local. A step the full grammar rejects gets a second chance from
`spec.shapes`, which recognises the statement form and parses each operand
separately; operands that still fail become `Opaque`. Only a step whose form is
not recognised at all becomes `Unknown`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError
from specmc.spec import ir
from specmc.spec.grammar import STEPS_GRAMMAR
from specmc.spec.source import Loc

Locate = Callable[[int], Loc]

_SPECIAL_NAMES = {
    "NewTarget": "new-target",
    "GlobalSymbolRegistry": "global-symbol-registry",
}


def _nowhere(_: int) -> Loc:
    return ir.NOWHERE


def _loc(x: object) -> Loc:
    return getattr(x, "loc", ir.NOWHERE)


class ToIR(Transformer):
    """Builds IR directly while LALR parses (no intermediate tree)."""

    def __init__(self) -> None:
        super().__init__(visit_tokens=False)
        self.locate: Locate = _nowhere
        self.typos: list[tuple[str, str, int]] = []

    # helpers --------------------------------------------------------------
    def _at(self, tok: Token) -> Loc:
        return self.locate(tok.start_pos or 0)

    @staticmethod
    def _exprs(children: list) -> list:
        return [c for c in children if not isinstance(c, Token)]

    # statements -------------------------------------------------------------
    def start(self, c):
        return c[0]

    def let(self, c):
        return ir.Let(c[0][1:-1], c[1], loc=self._at(c[0]))

    def set(self, c):
        return ir.Set(c[0], c[1], loc=_loc(c[0]))

    def return_(self, c):
        return ir.Return(c[0], loc=_loc(c[0]))

    def return_empty(self, c):
        return ir.Return(None)

    def throw(self, c):
        return ir.Throw(c[0].value.strip("*"), loc=self._at(c[0]))

    def assert_(self, c):
        return ir.Assert(c[0], loc=_loc(c[0]))

    def perform(self, c):
        self._typo(c[0], "Perform")
        return ir.Perform(c[1], loc=_loc(c[1]))

    def _typo(self, tok: Token, meant: str) -> None:
        word = tok.value.strip()
        if word.lower() != meant.lower():
            self.typos.append((word, meant, tok.start_pos or 0))

    def if_block(self, c):
        return ir.If(c[0], loc=_loc(c[0]))

    def if_inline(self, c):
        return ir.If(c[0], c[1], loc=_loc(c[0]))

    def if_inline_else(self, c):
        """`If c, return a; otherwise return b.`: one step, two branches."""
        cond, then, other = self._exprs(c)
        return ir.If(cond, then, other, loc=_loc(cond))

    def else_if_block(self, c):
        return ir.ElseIf(c[1], loc=self._at(c[0]))

    def else_if_inline(self, c):
        return ir.ElseIf(c[1], c[2], loc=self._at(c[0]))

    def else_block(self, c):
        return ir.Else(loc=self._at(c[0]))

    def else_inline(self, c):
        return ir.Else(c[1], loc=self._at(c[0]))

    def append(self, c):
        return ir.Append(c[0], c[1], loc=_loc(c[0]))

    def append_all(self, c):
        return ir.Prose("Append all", (c[0], c[1]), loc=_loc(c[0]))

    def append_all_rev(self, c):
        return ir.Prose("Append each", (c[0], c[1]), loc=_loc(c[0]))

    def prepend(self, c):
        return ir.Append(c[0], c[1], front=True, loc=_loc(c[0]))

    def remove(self, c):
        return ir.Remove(c[0], c[1], loc=_loc(c[0]))

    def remove_first(self, c):
        return ir.Remove(None, c[0], loc=_loc(c[0]))

    def remove_last(self, c):
        return ir.Prose("Remove last", (c[0],), loc=_loc(c[0]))

    def replace(self, c):
        return ir.Replace(c[0], c[1], c[2], loc=_loc(c[0]))

    def for_each_of(self, c):
        return ir.ForEach(c[0], c[1], loc=_loc(c[0]))

    def for_each_rev(self, c):
        return ir.ForEach(c[0], c[1], reverse=True, loc=_loc(c[0]))

    def for_each_ahead(self, c):
        return ir.ForEach(c[0], c[1], read_ahead=True, loc=_loc(c[0]))

    def for_each_such(self, c):
        return ir.ForEach(c[0], None, c[1], loc=_loc(c[0]))

    def for_each_such2(self, c):
        first, second = self._exprs(c[1:])
        return ir.ForEach(c[0], None, _attach_such_that(first, second), loc=_loc(c[0]))

    def for_each_int(self, c):
        binder, start, cond, order = c
        source = ir.Call(ir.Name("IntegersFrom"), (start,), loc=_loc(start))
        return ir.ForEach(binder, source, cond, reverse=order.value == "descending",
                          loc=_loc(binder))

    def binder(self, c):
        if len(c) == 1:
            return ir.Binder(c[0][1:-1], loc=self._at(c[0]))
        return ir.Binder(c[1][1:-1], c[0], loc=self._at(c[1]))

    def binder_fields(self, c):
        return ir.Binder(c[2][1:-1], c[0], c[1], loc=self._at(c[2]))

    def slot_names(self, c):
        return tuple(t.value[2:-2] for t in c)

    def type_name(self, c):
        return " ".join(t.value for t in c)

    def while_(self, c):
        return ir.While(c[0], may=True, loc=_loc(c[0]))

    def repeat(self, c):
        return ir.Repeat()

    def repeat_while(self, c):
        return ir.While(c[0], loc=_loc(c[0]))

    def repeat_until(self, c):
        return ir.Repeat(c[0], loc=_loc(c[0]))

    def choose(self, c):
        return ir.Choose(c[0][1:-1], loc=self._at(c[0]))

    def optionally(self, c):
        return ir.Optionally(c[0], loc=_loc(c[0]))

    def host_defined(self, c):
        self._typo(c[0], "Perform")
        purpose = c[1].value if len(c) > 1 else "steps"
        return ir.HostDefined(purpose, loc=self._at(c[0]))

    def free(self, c):
        return ir.Free(c[0], loc=_loc(c[0]))

    def note(self, c):
        return ir.Note(c[0].value.strip(), loc=self._at(c[0]))

    # expressions ------------------------------------------------------------
    def or_(self, c):
        a, b = self._exprs(c)
        return _distribute(ir.Logic("or", _flat("or", a) + _flat("or", b), loc=_loc(a)))

    def and_(self, c):
        a, b = self._exprs(c)
        return ir.Logic("and", _flat("and", a) + _flat("and", b), loc=_loc(a))

    def is_(self, c):
        return _type_macro(ir.Compare(c[0], c[1], loc=_loc(c[0])))

    def is_not(self, c):
        return _type_macro(ir.Compare(c[0], c[1], True, loc=_loc(c[0])))

    def is_type(self, c):
        return ir.TypeTest(c[0], c[1], loc=_loc(c[0]))

    def is_not_type(self, c):
        return ir.TypeTest(c[0], c[1], True, loc=_loc(c[0]))

    def is_present(self, c):
        return ir.Present(c[0], loc=_loc(c[0]))

    def is_not_present(self, c):
        return ir.Present(c[0], True, loc=_loc(c[0]))

    def is_either(self, c):
        return ir.OneOf(c[0], (c[1], c[2]), loc=_loc(c[0]))

    def is_neither(self, c):
        return ir.OneOf(c[0], (c[1], c[2]), True, loc=_loc(c[0]))

    def contains(self, c):
        return ir.Contains(c[0], c[1], loc=_loc(c[0]))

    def contains_such(self, c):
        container, element, cond = self._exprs(c)
        return ir.Contains(container, element, cond, loc=_loc(container))

    def not_contains(self, c):
        return ir.Contains(c[0], c[1], negated=True, loc=_loc(c[0]))

    def not_contains_entry(self, c):
        return ir.Contains(c[0], c[1], negated=True, loc=_loc(c[0]))

    def has_slots(self, c):
        return ir.HasSlots(c[0], tuple(t.value[2:-2] for t in c[1:]), loc=_loc(c[0]))

    def lacks_slots(self, c):
        return ir.HasSlots(c[0], tuple(t.value[2:-2] for t in c[1:]), True, loc=_loc(c[0]))

    def cmp(self, c):
        return ir.Binary(c[1].value, c[0], c[2], loc=_loc(c[0]))

    def element(self, c):
        return c[0]

    def element_binder(self, c):
        return ir.Binder(c[1][1:-1], c[0], loc=self._at(c[1]))

    def add(self, c):
        return ir.Binary("+", c[0], c[1], loc=_loc(c[0]))

    def sub(self, c):
        return ir.Binary("-", c[0], c[1], loc=_loc(c[0]))

    def mul(self, c):
        return ir.Binary("×", c[0], c[1], loc=_loc(c[0]))

    def div(self, c):
        return ir.Binary("÷", c[0], c[1], loc=_loc(c[0]))

    def neg(self, c):
        return ir.Unary("-", c[0], loc=_loc(c[0]))

    def check_q(self, c):
        return _check("?", c[0])

    def check_bang(self, c):
        return _check("!", c[0])

    def field(self, c):
        return ir.Field(c[0], c[1].value[3:-2], loc=_loc(c[0]))

    def call(self, c):
        return ir.Call(c[0], tuple(c[1]), loc=_loc(c[0]))

    def call0(self, c):
        return ir.Call(c[0], (), loc=_loc(c[0]))

    def args(self, c):
        return tuple(c)

    def var(self, c):
        return ir.Var(c[0][1:-1], loc=self._at(c[0]))

    def value(self, c):
        v = c[0].value
        inner = v[1:v.rindex("*")]
        suffix = v[v.rindex("*") + 1:]
        if inner.startswith('"') and inner.endswith('"'):
            return ir.Literal("string", inner[1:-1], loc=self._at(c[0]))
        kind = "error" if inner.endswith("Error") else "value"
        return ir.Literal(kind, inner + suffix, loc=self._at(c[0]))

    def enum(self, c):
        return ir.Literal("enum", c[0][1:-1], loc=self._at(c[0]))

    def number(self, c):
        return ir.Literal("number", c[0].value, loc=self._at(c[0]))

    def code(self, c):
        return ir.Literal("code", c[0][1:-1], loc=self._at(c[0]))

    def intrinsic(self, c):
        return ir.Intrinsic(c[0][1:-1], loc=self._at(c[0]))

    def slot(self, c):
        return ir.SlotName(c[0][2:-2], loc=self._at(c[0]))

    def name(self, c):
        special = _SPECIAL_NAMES.get(c[0].value)
        if special:
            return ir.Special(special, loc=self._at(c[0]))
        return ir.Name(c[0].value, loc=self._at(c[0]))

    def empty_list_lit(self, c):
        return ir.ListLit(())

    def list_lit(self, c):
        return ir.ListLit(tuple(c[0]), loc=_loc(c[0][0]))

    def record(self, c):
        return ir.RecordLit(c[0], c[1], loc=_loc(c[1][0][1]) if c[1] else ir.NOWHERE)

    def record_anon(self, c):
        return ir.RecordLit("Record", c[0])

    def record_fields(self, c):
        return tuple((c[i].value[2:-2], c[i + 1]) for i in range(0, len(c), 2))

    def this_value(self, c):
        if c[0].value != "*this*":
            raise ValueError("only *this* names a value this way")
        return ir.Special("this-value", loc=self._at(c[0]))

    def active_function(self, c):
        return ir.Special("active-function")

    def agent_record(self, c):
        return ir.Special("agent-record")

    def running_context(self, c):
        return ir.Special("running-context")

    def current_realm(self, c):
        return ir.Special("current-realm")

    def empty_list(self, c):
        return ir.Special("empty-list")

    def empty_string(self, c):
        return ir.Special("empty-string")

    def global_symbol_registry(self, c):
        return ir.Special("global-symbol-registry")

    def value_of(self, c):
        return c[0]

    def method_call(self, c):
        callee = ir.Field(c[0], c[1].value[1:], loc=_loc(c[0]))
        return ir.Call(callee, tuple(c[2]), loc=_loc(c[0]))

    def method_call0(self, c):
        return ir.Call(ir.Field(c[0], c[1].value[1:], loc=_loc(c[0])), (), loc=_loc(c[0]))

    def index(self, c):
        return ir.Call(ir.Name("Index"), (c[0], c[1]), loc=_loc(c[0]))

    def component(self, c):
        return ir.Field(c[0], c[1].value, loc=_loc(c[0]))

    def sdo(self, c):
        """`the BoundNames of X`, `Evaluation of X with arguments a and b`: an SDO call."""
        op, target, *rest = c
        args = (target, *rest[0]) if rest else (target,)
        if isinstance(op, Token):
            return ir.Call(ir.Name(op.value, loc=self._at(op)), args, loc=self._at(op))
        return ir.Call(ir.Name(op, loc=_loc(target)), args, loc=_loc(target))

    def covered_by(self, c):
        nt = self.nonterminal(c[:1])
        return ir.Call(ir.Name("covered by", loc=nt.loc), (nt, c[1]), loc=nt.loc)

    def sdo_nt(self, c):
        nt = self.nonterminal(c[:1])
        return ir.Call(ir.Name("of", loc=nt.loc), (nt, c[1]), loc=nt.loc)

    def clamp(self, c):
        return ir.Call(ir.Name("clamp", loc=_loc(c[0])), tuple(c), loc=_loc(c[0]))

    def copy(self, c):
        return ir.Call(ir.Name("copy", loc=_loc(c[0])), (c[0],), loc=_loc(c[0]))

    def count_of(self, c):
        return ir.Call(ir.Name(f"number of {c[0]}", loc=_loc(c[1])), (c[1],), loc=_loc(c[1]))

    def sdo_contains(self, c):
        return ir.Call(ir.Name("Contains", loc=_loc(c[0])), (c[0], c[1]), loc=_loc(c[0]))

    def matched_by(self, c):
        return ir.Call(ir.Name(f"{c[0]} matched by", loc=_loc(c[1])), (c[1],), loc=_loc(c[1]))

    def substring(self, c):
        return ir.Call(ir.Name("substring", loc=_loc(c[0])), tuple(c), loc=_loc(c[0]))

    def closure(self, c):
        return ir.Literal("closure", c[0].value, loc=self._at(c[0]))

    def modulo(self, c):
        return ir.Binary("modulo", c[0], c[1], loc=_loc(c[0]))

    def with_list(self, c):
        return tuple(c)

    def concat(self, c):
        return ir.Call(ir.Name(c[0].value, loc=self._at(c[0])), c[1], loc=self._at(c[0]))

    def concat_args(self, c):
        return tuple(self._exprs(c))

    def is_one_of(self, c):
        return ir.OneOf(c[0], c[1], loc=_loc(c[0]))

    def one_of_list(self, c):
        return tuple(self._exprs(c))

    def singleton_list(self, c):
        return ir.ListLit((c[0],), loc=_loc(c[0]))

    def new_error(self, c):
        return ir.Call(ir.Name("NewErrorObject"), (self.value(c),), loc=self._at(c[0]))

    def nonterminal(self, c):
        tok = next(t for t in c if isinstance(t, Token) and t.type == "NONTERMINAL")
        return ir.Literal("nonterminal", tok.value.strip("|"), loc=self._at(tok))

    def count(self, c):
        return ir.Count(c[0], loc=_loc(c[0]))


def _flat(op: str, e: ir.Expr) -> tuple[ir.Expr, ...]:
    if isinstance(e, ir.Logic) and e.op == op:
        return e.operands
    return (e,)


_CONDITIONS = (ir.Compare, ir.TypeTest, ir.Present, ir.HasSlots, ir.Contains, ir.Logic, ir.OneOf,
               ir.Call, ir.Binary)


def _subject(e: ir.Expr) -> ir.Expr | None:
    if isinstance(e, ir.Compare):
        return e.left
    if isinstance(e, ir.Present | ir.TypeTest):
        return e.subject
    return None


def _distribute(e: ir.Logic) -> ir.Logic:
    """`x is not present or *undefined*`: a bare value after `or` shares the subject
    of the comparison before it (`x is A or B` means `x is A or x is B`)."""
    out: list[ir.Expr] = []
    for operand in e.operands:
        if out and isinstance(operand, ir.Literal | ir.Special) and _subject(out[-1]) is not None:
            operand = ir.Compare(_subject(out[-1]), operand, loc=operand.loc)
        out.append(operand)
    return ir.Logic(e.op, tuple(out), loc=e.loc)


def _type_macro(e: ir.Compare) -> ir.Expr:
    """`Type(x) is Object` (pre-2022 texts) is the type test `x is an Object`."""
    left, right = e.left, e.right
    if (isinstance(left, ir.Call) and isinstance(left.callee, ir.Name)
            and left.callee.name == "Type" and len(left.args) == 1
            and isinstance(right, ir.Name)):
        return ir.TypeTest(left.args[0], right.name, e.negated, loc=e.loc)
    return e


def _check(op: str, operand: ir.Expr) -> ir.Expr:
    if isinstance(operand, ir.Call) and not operand.check:
        return ir.Call(operand.callee, operand.args, op, loc=operand.loc)
    return ir.Check(op, operand, loc=operand.loc)


def _attach_such_that(first: ir.Expr, second: ir.Expr) -> ir.Expr:
    """`L contains _cell_, such that c` binds _cell_ for c (2020 proposal wording)."""
    if isinstance(first, ir.Contains) and first.such_that is None:
        return ir.Contains(first.container, first.element, second, first.negated, loc=first.loc)
    return ir.Logic("and", (first, second), loc=first.loc)


class StepParser:
    """The one Lark parser; shared, built once per process."""

    def __init__(self) -> None:
        self.transformer = ToIR()
        self.lark = Lark(
            STEPS_GRAMMAR.read_text(encoding="utf-8"),
            parser="lalr",
            lexer="contextual",
            start=["start", "expr"],
            transformer=self.transformer,
            cache=True,  # tables cached in the temp dir, keyed by the grammar's hash
        )

    def parse_stmt(self, text: str, locate: Locate = _nowhere) -> tuple[ir.Stmt, list]:
        """Raises LarkError (or ValueError) if the grammar does not cover `text`."""
        self.transformer.locate = locate
        self.transformer.typos = []
        stmt = self.lark.parse(text, start="start")
        return stmt, self.transformer.typos

    def parse_expr(self, text: str, locate: Locate = _nowhere) -> ir.Expr:
        self.transformer.locate = locate
        return self.lark.parse(text, start="expr")


@lru_cache(maxsize=1)
def step_parser() -> StepParser:
    return StepParser()


PARSE_ERRORS = (LarkError, ValueError)
