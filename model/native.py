"""Commands as plain Python functions, generated from their Z3 terms: the explorer's fast path.

Running `fire` over the concrete domain costs tens of microseconds per command (a View, a
dict of writes, one Python call per domain operation), and the explorer fires hundreds of
thousands of them. Here each command's guard and next-state terms, the very terms the solvers
reason about (model/symbolic.py), are printed as straight-line Python over the state tuple and
compiled, each command once the explorer has used it often enough to repay the cost. The
explorer then executes exactly the transition relation Z3 sees.

The reference interpreter is not replaced: every counterexample is still replayed by `fire`
over the concrete domain (proofs/engines/unrolling.replay), and tests/model/test_native.py checks
that both give the same successors on every reachable state of small models.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import z3
from specmc.model.domain import WIDTH
from specmc.model.program import Program
from specmc.model.symbolic import command_term, state_vars

Step = Callable[[tuple[int, ...]], tuple[int, ...] | None]  # state -> successor, or None if disabled

_MASK = (1 << WIDTH) - 1
_BINARY = {z3.Z3_OP_ULT: "<", z3.Z3_OP_ULEQ: "<=", z3.Z3_OP_UGT: ">", z3.Z3_OP_UGEQ: ">="}


class Untranslatable(Exception):
    """A term uses an operation this printer does not know; the caller falls back to `fire`."""


class _Nodes:
    """What the printer needs of each Z3 node, asked of the API once per node: commands share
    most of their subterms (Z3 hash-conses them), and each API call costs a microsecond."""

    def __init__(self, index: dict[int, int]) -> None:
        self.index = index  # Z3 id of a state variable -> its position in the state tuple
        self.info: dict[int, tuple[str | None, int, tuple[Any, ...], Any]] = {}

    def get(self, t: Any) -> tuple[str | None, int, tuple[Any, ...], Any]:
        """(atom text or None, operation kind, children, the term) of t."""
        tid = t.get_id()
        found = self.info.get(tid)
        if found is None:
            found = self.info[tid] = self._describe(t, tid)
        return found

    def _describe(self, t: Any, tid: int) -> tuple[str | None, int, tuple[Any, ...], Any]:
        if tid in self.index:
            return f"s[{self.index[tid]}]", 0, (), t
        k = t.decl().kind()
        if k == z3.Z3_OP_TRUE:
            return "True", k, (), t
        if k == z3.Z3_OP_FALSE:
            return "False", k, (), t
        if k == z3.Z3_OP_BNUM:
            return str(t.as_long()), k, (), t
        if z3.is_const(t):
            raise Untranslatable(f"free constant {t}")
        return None, k, tuple(t.children()), t


class Syntax:
    """How a target language writes the operations the printers know (Python here, C in
    model/cexplore.py): one walker over Z3 terms, two spellings."""

    true, false = "True", "False"
    not_, and_, or_ = "not {0}", " and ", " or "
    ite = "{1} if {0} else {2}"
    mask = f" & {_MASK}"
    temp = "    {0} = {1}"

    def literal(self, v: int) -> str:
        return str(v & _MASK)


class _Printer:
    """Prints the terms of one command as assignments to temporaries, each node once."""

    def __init__(self, nodes: _Nodes, syntax: Syntax | None = None) -> None:
        self.nodes = nodes
        self.syntax = syntax or Syntax()
        self.lines: list[str] = []
        self.names: dict[int, str] = {}

    def value(self, t: Any) -> str:
        """An expression for t (an int, or a Z3 term), emitting temporaries as needed."""
        x = self.syntax
        if isinstance(t, bool):
            return x.true if t else x.false
        if isinstance(t, int):
            return x.literal(t)
        tid = t.get_id()
        if tid in self.names:
            return self.names[tid]
        atom, k, children, term = self.nodes.get(t)
        if atom is not None:
            return {"True": x.true, "False": x.false}.get(atom, atom)
        text = self._node(k, [self.value(c) for c in children], term)
        name = f"t{len(self.names)}"
        self.names[tid] = name
        self.lines.append(x.temp.format(name, text))
        return name

    def _node(self, k: int, a: list[str], t: Any) -> str:
        x = self.syntax
        if k == z3.Z3_OP_EQ:
            return f"{a[0]} == {a[1]}"
        if k == z3.Z3_OP_DISTINCT and len(a) == 2:
            return f"{a[0]} != {a[1]}"
        if k == z3.Z3_OP_NOT:
            return x.not_.format(a[0])
        if k == z3.Z3_OP_AND:
            return x.and_.join(a)
        if k == z3.Z3_OP_OR:
            return x.or_.join(a)
        if k == z3.Z3_OP_ITE:
            return x.ite.format(*a)
        if k in _BINARY:
            return f"{a[0]} {_BINARY[k]} {a[1]}"
        if k == z3.Z3_OP_BADD:
            return f"({' + '.join(a)}){x.mask}"
        if k == z3.Z3_OP_BSUB:
            return f"({a[0]} - {a[1]}){x.mask}"
        if k == z3.Z3_OP_EXTRACT:
            hi, lo = t.params()
            return f"({a[0]} >> {lo}) & {(1 << (hi - lo + 1)) - 1}"
        raise Untranslatable(f"operation {t.decl().name()}")


def _source(fname: str, guard: Any, writes: dict[int, Any], width: int, nodes: _Nodes,
            frozen: frozenset[int] = frozenset()) -> str:
    """`frozen`: variables a slice keeps at their initial values (model/slice.py), never written."""
    p = _Printer(nodes)
    _, kind, children, _ = nodes.get(guard)
    for c in children if kind == z3.Z3_OP_AND else (guard,):
        if nodes.get(c)[1] == z3.Z3_OP_TRUE:
            continue
        p.lines.append(f"    if not ({p.value(c)}): return None")
    out = [p.value(writes[i]) if i in writes and i not in frozen else f"s[{i}]" for i in range(width)]
    return "\n".join([f"def {fname}(s):", *p.lines, f"    return ({', '.join(out)},)"])


def compile_commands(program: Program) -> tuple[Step | None, ...]:
    """One function per command of `program`, in order; None where a term could not be printed
    (the explorer then fires that command through the concrete domain)."""
    table = Compiled(program)
    return tuple(table.get(id(c)) for c in program.commands)


class Compiled:
    """id(command) -> its function, printed and compiled once the explorer has asked for it
    `after` times (until then `get` answers None and the command runs through `fire`). Short
    searches, such as the depth-37 seed counterexample, then cost nothing to compile, and long
    ones compile only the commands they keep using: those at sites some reachable state has,
    about a third of them on the default models."""

    def __init__(self, program: Program, after: int = 0) -> None:
        self.program = program
        self.xs = state_vars(program)
        self.nodes = _Nodes({x.get_id(): i for i, x in enumerate(self.xs)})
        self.commands = {id(c): c for c in program.commands}
        self.after = after
        self.asked: dict[int, int] = {}
        self.done: dict[int, Step | None] = {}
        self.frozen = frozenset(program.dropped)

    def get(self, key: int) -> Step | None:
        found = self.done.get(key, self)
        if found is not self:
            return found  # type: ignore[return-value]
        if self.after:
            n = self.asked[key] = self.asked.get(key, 0) + 1
            if n < self.after:
                return None
        guard, writes = command_term(self.program, self.commands[key], self.xs)
        try:
            source = _source("step", guard, writes, len(self.xs), self.nodes, self.frozen)
        except Untranslatable:
            self.done[key] = None
            return None
        scope: dict[str, Any] = {}
        exec(compile(source, f"<command of {self.program.host}>", "exec"), scope)  # noqa: S102
        self.done[key] = f = scope["step"]
        return f
