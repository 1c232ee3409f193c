"""Second chance for steps the full grammar rejects: recognise the statement form,
parse each operand with the grammar's `expr` start symbol, keep the rest Opaque.

This is what lets a whole spec.html be typed even where its prose expressions
go beyond the grammar: "Let _x_ be <anything>." is still a Let, and review can
still tell that a Let changed. Every shape here names the statement class it
yields; operands that fail to parse are kept verbatim as `Opaque` with their
location, and count against the fully-parsed figure in `specmc coverage`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from specmc.spec import ir
from specmc.spec.parser import PARSE_ERRORS, Locate, StepParser

_INLINE_VERBS = r"(?:return|set|throw|perform|let|append|remove|insert|add|call|suspend|resume)\b"

# (pattern, builder name). Order matters: the first match wins.
_SHAPES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Let (_\w+_) be (.+?)\.?$", re.S), "let"),
    (re.compile(r"Set (.+?) to (.+?)\.?$", re.S), "set"),
    (re.compile(r"Return (.+?)\.?$", re.S), "return"),
    (re.compile(r"Assert: (.+?)\.?$", re.S), "assert"),
    (re.compile(r"Perform (.+?)\.?$", re.S), "perform"),
    (re.compile(r"(?:Else|Otherwise), if (.+?), then$", re.S), "else_if_block"),
    (re.compile(r"(?:Else|Otherwise), if (.+?), (" + _INLINE_VERBS + r".*)$", re.S | re.I),
     "else_if_inline"),
    (re.compile(r"If (.+?), then$", re.S), "if_block"),
    (re.compile(r"If (.+?), then (" + _INLINE_VERBS + r".*)$", re.S | re.I), "if_inline"),
    (re.compile(r"If (.+?), (" + _INLINE_VERBS + r".*)$", re.S | re.I), "if_inline"),
    (re.compile(r"(?:Else|Otherwise),? (.+)$", re.S), "else_inline"),
    (re.compile(r"For each (.+?) (?:of|in) (.+?), (?:in [\w ]+ order, )?do$", re.S), "for_each"),
    (re.compile(r"For each (.+?), do$", re.S), "for_each_prose"),
    (re.compile(r"Repeat, while (.+?),$", re.S), "repeat_while"),
    (re.compile(r"Repeat, until (.+?),$", re.S), "repeat_until"),
    (re.compile(r"Append (.+?) to (.+?)\.?$", re.S), "append"),
    (re.compile(r"Remove (.+?) from (.+?)\.?$", re.S), "remove"),
    (re.compile(r"Throw (.+?)\.?$", re.S), "throw"),
    (re.compile(r"NOTE: (.*)$", re.S), "note"),
    (re.compile(r"(IfAbrupt\w+)\((.*)\)(?=\.?$)", re.S), "macro"),
    (re.compile(r"(Push|Suspend|Resume|Sort|Create|Insert|Store|Add|Prepend|Call|Wait|Notify|"
                r"Leave|Enter|Increment|Decrement|Discard|Evaluate|Reset|Initialize|Choose|"
                r"Remove|Replace|Queue|Advance|Skip|Optionally|Copy|Update|Order|Collect) (.+)$",
                re.S), "prose"),
]


def shape(parser: StepParser, text: str, locate: Locate) -> ir.Stmt | None:
    """The statement form of `text`, with operands parsed where possible; None if no shape fits."""
    for pattern, kind in _SHAPES:
        m = pattern.match(text)
        if m is not None:
            return _BUILD[kind](_Operands(parser, m, locate))
    return None


class _Operands:
    def __init__(self, parser: StepParser, m: re.Match[str], locate: Locate) -> None:
        self.parser, self.m, self.locate = parser, m, locate

    def raw(self, i: int) -> str:
        return self.m.group(i)

    def loc(self, i: int) -> ir.Loc:
        return self.locate(self.m.start(i))

    def expr(self, i: int) -> ir.Expr:
        text = self.m.group(i)
        start = self.m.start(i)
        try:
            return self.parser.parse_expr(text, lambda p: self.locate(start + p))
        except PARSE_ERRORS:
            return ir.Opaque(text, loc=self.locate(start))

    def stmt(self, i: int) -> ir.Stmt:
        text = self.m.group(i)
        start = self.m.start(i)
        text = text[0].upper() + text[1:]

        def locate(p: int) -> ir.Loc:
            return self.locate(start + p)

        try:
            return self.parser.parse_stmt(text, locate)[0]
        except PARSE_ERRORS:
            inner = shape(self.parser, text, locate)
            return inner if inner is not None else ir.Unknown(text, loc=locate(0))


def _var(o: _Operands, i: int) -> str:
    return o.raw(i).strip("_")


def _binder(o: _Operands, i: int) -> ir.Binder:
    """`element _e_` / `String _P_` / `integer _k_ starting with 0`: the last alias is bound."""
    text = o.raw(i)
    names = re.findall(r"_\w+_", text)
    if not names:
        return ir.Binder("", text, loc=o.loc(i))
    head = text[: text.index(names[0])].strip()
    return ir.Binder(names[0].strip("_"), head, loc=o.loc(i))


_BUILD: dict[str, Callable[[_Operands], ir.Stmt]] = {
    "let": lambda o: ir.Let(_var(o, 1), o.expr(2), loc=o.loc(1)),
    "set": lambda o: ir.Set(o.expr(1), o.expr(2), loc=o.loc(1)),
    "return": lambda o: ir.Return(o.expr(1), loc=o.loc(1)),
    "assert": lambda o: ir.Assert(o.expr(1), loc=o.loc(1)),
    "perform": lambda o: ir.Perform(o.expr(1), loc=o.loc(1)),
    "if_block": lambda o: ir.If(o.expr(1), loc=o.loc(1)),
    "if_inline": lambda o: ir.If(o.expr(1), o.stmt(2), loc=o.loc(1)),
    "else_if_block": lambda o: ir.ElseIf(o.expr(1), loc=o.loc(1)),
    "else_if_inline": lambda o: ir.ElseIf(o.expr(1), o.stmt(2), loc=o.loc(1)),
    "else_inline": lambda o: ir.Else(o.stmt(1), loc=o.loc(1)),
    "for_each": lambda o: ir.ForEach(_binder(o, 1), o.expr(2), loc=o.loc(1)),
    "for_each_prose": lambda o: ir.ForEach(_binder(o, 1), ir.Opaque(o.raw(1)), loc=o.loc(1)),
    "repeat_while": lambda o: ir.While(o.expr(1), loc=o.loc(1)),
    "repeat_until": lambda o: ir.Repeat(o.expr(1), loc=o.loc(1)),
    "append": lambda o: ir.Append(o.expr(1), o.expr(2), loc=o.loc(1)),
    "remove": lambda o: ir.Remove(o.expr(1), o.expr(2), loc=o.loc(1)),
    "throw": lambda o: ir.Prose("Throw", (o.expr(1),), loc=o.loc(1)),
    "note": lambda o: ir.Note(o.raw(1), loc=o.loc(1)),
    "macro": lambda o: ir.Perform(o.expr(0), loc=o.loc(1)),
    "prose": lambda o: ir.Prose(o.raw(1), (ir.Opaque(o.raw(2), loc=o.loc(2)),), loc=o.loc(1)),
}
