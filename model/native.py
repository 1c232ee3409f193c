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
from specmc.model.terms import Node, Nodes, Untranslatable, Walker

Step = Callable[[tuple[int, ...]], tuple[int, ...] | None]  # state -> successor, or None if disabled

_MASK = (1 << WIDTH) - 1


def state_names(xs: tuple[z3.BitVecRef, ...]) -> dict[int, str]:
    """How the printed functions read each state variable (by AST id): `s[i]`."""
    return {x.get_id(): f"s[{i}]" for i, x in enumerate(xs)}


class Syntax:
    """How a target language writes the operations the printer knows (Python here, C in
    model/cprint.py): one walker over Z3 terms (model/terms.py), two spellings."""

    true, false = "True", "False"
    not_, and_, or_ = "not {0}", " and ", " or "
    ite = "{1} if {0} else {2}"
    mask = f" & {_MASK}"
    temp = "    {0} = {1}"

    def literal(self, v: int) -> str:
        return str(v & _MASK)


def _infix(op: str) -> Callable[[Printer, Node, list[str]], str]:
    def walk(self: Printer, node: Node, a: list[str]) -> str:
        return f"{a[0]} {op} {a[1]}"

    return walk


class Printer(Walker[str]):
    """Prints the terms of one command as assignments to temporaries, each node once: a node
    with children becomes a temporary (`t0`, `t1`, ... in the order they are computed), a
    constant or a state variable is written in place. `nodes` is shared by the printers of one
    program; `state` is `state_names` of its variables."""

    def __init__(self, nodes: Nodes, state: dict[int, str], syntax: Syntax | None = None) -> None:
        super().__init__(state, nodes)
        self.syntax = syntax or Syntax()
        self.lines: list[str] = []
        self.temps = 0

    def walk_python(self, v: int) -> str:
        if isinstance(v, bool):
            return self.syntax.true if v else self.syntax.false
        return self.syntax.literal(v)

    def made(self, node: Node, out: str) -> str:
        if not node.children:
            return out
        name = f"t{self.temps}"
        self.temps += 1
        self.lines.append(self.syntax.temp.format(name, out))
        return name

    def walk_true(self, node: Node, a: list[str]) -> str:
        return self.syntax.true

    def walk_false(self, node: Node, a: list[str]) -> str:
        return self.syntax.false

    def walk_bnum(self, node: Node, a: list[str]) -> str:
        return str(node.term.as_long())

    def walk_distinct(self, node: Node, a: list[str]) -> str:
        if len(a) != 2:
            raise Untranslatable(f"operation distinct of {len(a)} terms")
        return f"{a[0]} != {a[1]}"

    def walk_not(self, node: Node, a: list[str]) -> str:
        return self.syntax.not_.format(a[0])

    def walk_and(self, node: Node, a: list[str]) -> str:
        return self.syntax.and_.join(a)

    def walk_or(self, node: Node, a: list[str]) -> str:
        return self.syntax.or_.join(a)

    def walk_ite(self, node: Node, a: list[str]) -> str:
        return self.syntax.ite.format(*a)

    # comparisons: the same infix operator in Python and in C (unsigned bytes in both)
    walk_eq, walk_ult, walk_ule = _infix("=="), _infix("<"), _infix("<=")
    walk_ugt, walk_uge = _infix(">"), _infix(">=")

    def walk_add(self, node: Node, a: list[str]) -> str:
        return f"({' + '.join(a)}){self.syntax.mask}"

    def walk_sub(self, node: Node, a: list[str]) -> str:
        return f"({a[0]} - {a[1]}){self.syntax.mask}"

    def walk_extract(self, node: Node, a: list[str]) -> str:
        hi, lo = node.term.params()
        return f"({a[0]} >> {lo}) & {(1 << (hi - lo + 1)) - 1}"

    # bytes' wrapping arithmetic, as Z3 reads it: modulo 256, a shift by 8 or more gives 0
    def walk_mul(self, node: Node, a: list[str]) -> str:
        return f"({' * '.join(self._bytes(node, a))}){self.syntax.mask}"

    def walk_band(self, node: Node, a: list[str]) -> str:
        return f"({' & '.join(self._bytes(node, a))})"

    def walk_bor(self, node: Node, a: list[str]) -> str:
        return f"({' | '.join(self._bytes(node, a))})"

    def walk_bxor(self, node: Node, a: list[str]) -> str:
        return f"({' ^ '.join(self._bytes(node, a))})"

    def walk_bnot(self, node: Node, a: list[str]) -> str:
        return f"(~{self._bytes(node, a)[0]}){self.syntax.mask}"

    def walk_neg(self, node: Node, a: list[str]) -> str:
        return f"(-{self._bytes(node, a)[0]}){self.syntax.mask}"

    def walk_shl(self, node: Node, a: list[str]) -> str:
        x, k = self._bytes(node, a)
        shifted = f"({x} << {k}){self.syntax.mask}"
        return "(" + self.syntax.ite.format(f"{k} >= 8", self.syntax.literal(0), shifted) + ")"

    @staticmethod
    def _bytes(node: Node, a: list[str]) -> list[str]:
        """The operands, if the operation is on bytes (the only width the masks above are right for)."""
        if node.term.size() != 8:
            raise Untranslatable(f"operation {node.term.decl().name()} on {node.term.size()} bits")
        return a


def _source(fname: str, guard: z3.BoolRef, writes: dict[int, z3.BitVecRef | int], width: int,
            nodes: Nodes, state: dict[int, str], frozen: frozenset[int] = frozenset()) -> str:
    """`frozen`: variables a slice keeps at their initial values (model/slice.py), never written."""
    p = Printer(nodes, state)
    top = nodes.get(guard)
    for c in top.children if top.kind == z3.Z3_OP_AND else (guard,):
        if nodes.get(c).kind == z3.Z3_OP_TRUE:
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
        self.nodes = Nodes()
        self.state = state_names(self.xs)
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
            source = _source("step", guard, writes, len(self.xs), self.nodes, self.state, self.frozen)
        except Untranslatable:
            self.done[key] = None
            return None
        scope: dict[str, Any] = {}
        exec(compile(source, f"<command of {self.program.host}>", "exec"), scope)  # noqa: S102
        self.done[key] = f = scope["step"]
        return f
