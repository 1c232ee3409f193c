"""A seventh route to proofs at objects >= 2 (issue 19), measured: bit-level IC3/PDR in ABC.

    python -m bench.abc_bench [--hosts ecma262,quickjs-ng-0.6] [--objects 1,2]
                              [--properties held-value-once,no-dangling-cell] [--budget 120]

Each (host, property, objects) system is translated to AIGER, the input of hardware model
checkers, and given to ABC's `pdr` (IC3 with Een's generalisation) with a time limit; the row
prints latches, gates, ABC's answer and seconds. Debian's berkeley-abc is installed with apt-get
when missing. Figures and what they say: docs/measurements.md ("Bit-level IC3: ABC").

The translation is the model's own terms (model/symbolic.py), bit-blasted through the walker the
C and Python printers share (model/terms.py): a byte is eight AIG literals, least significant
first; equality, unsigned comparison, addition, subtraction, extraction and if-then-else become
AND gates, hashed so that equal gates are made once.
- Latches hold the state variables' bits, each stored as the bit XOR its initial value, so the
  initial state is all zeros (AIGER's reset value). A slice's frozen variables are constants.
- Inputs are the bits of the command taken and of the families' arguments, fresh at every step.
- Next state: the taken command's writes if its guard holds, else the state unchanged (a
  stutter adds self-loops and nothing else, so reachability, and any inductive invariant, is the
  model's).
- One output, the property's negation: the "bad" signal.

It stays in bench/: it proved nothing the k-induction engine does not (the measurements), so no
engine uses it; it is here so the negative result can be re-run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from specmc.model.bounds import Bounds
from specmc.model.domain import WIDTH
from specmc.model.program import Program
from specmc.model.symbolic import command_terms, input_vars, predicate_term, state_vars
from specmc.model.terms import Node, Nodes, Untranslatable, Walker
from specmc.proofs.run.job import Job, load, slices

from bench.parse_bench import machine

FALSE, TRUE = 0, 1
Bits = tuple[int, ...]  # a byte's literals, least significant first; a boolean is one literal


class Graph:
    """An AIG under construction: variables numbered inputs first, then latches, then gates (the
    order AIGER's binary format requires), with constant folding and structural hashing."""

    def __init__(self, inputs: int, latches: int) -> None:
        self.inputs, self.latches = inputs, latches
        self.gates: list[tuple[int, int]] = []  # gate k is variable inputs + latches + 1 + k
        self.hashed: dict[tuple[int, int], int] = {}

    def input(self, i: int) -> int:
        return 2 * (1 + i)

    def latch(self, i: int) -> int:
        return 2 * (1 + self.inputs + i)

    def and_(self, a: int, b: int) -> int:
        if a == FALSE or b == FALSE or a == b ^ 1:
            return FALSE
        if a == TRUE or a == b:
            return b
        if b == TRUE:
            return a
        if a < b:
            a, b = b, a
        found = self.hashed.get((a, b))
        if found is None:
            found = self.hashed[(a, b)] = 2 * (1 + self.inputs + self.latches + len(self.gates))
            self.gates.append((a, b))
        return found

    def or_(self, a: int, b: int) -> int:
        return self.and_(a ^ 1, b ^ 1) ^ 1

    def xor(self, a: int, b: int) -> int:
        return self.or_(self.and_(a, b ^ 1), self.and_(a ^ 1, b))

    def ite(self, c: int, t: int, e: int) -> int:
        if t == e:
            return t
        return self.or_(self.and_(c, t), self.and_(c ^ 1, e))

    def all(self, lits: list[int] | tuple[int, ...]) -> int:
        out = TRUE
        for x in lits:
            out = self.and_(out, x)
        return out

    def any(self, lits: list[int] | tuple[int, ...]) -> int:
        return self.all([x ^ 1 for x in lits]) ^ 1


def _const(v: int, width: int = WIDTH) -> Bits:
    return tuple(TRUE if v >> k & 1 else FALSE for k in range(width))


class _Blaster(Walker[Bits]):
    """Terms into literals: every node is a tuple of literals (one for a boolean)."""

    def __init__(self, g: Graph, leaves: dict[int, Bits], nodes: Nodes) -> None:
        super().__init__(leaves, nodes)
        self.g = g

    def walk_python(self, v: int) -> Bits:
        if isinstance(v, bool):
            return (TRUE if v else FALSE,)
        return _const(v)

    def walk_true(self, node: Node, a: list[Bits]) -> Bits:
        return (TRUE,)

    def walk_false(self, node: Node, a: list[Bits]) -> Bits:
        return (FALSE,)

    def walk_bnum(self, node: Node, a: list[Bits]) -> Bits:
        return _const(node.term.as_long(), node.term.size())

    def walk_not(self, node: Node, a: list[Bits]) -> Bits:
        return (a[0][0] ^ 1,)

    def walk_and(self, node: Node, a: list[Bits]) -> Bits:
        return (self.g.all([x[0] for x in a]),)

    def walk_or(self, node: Node, a: list[Bits]) -> Bits:
        return (self.g.any([x[0] for x in a]),)

    def walk_implies(self, node: Node, a: list[Bits]) -> Bits:
        return (self.g.or_(a[0][0] ^ 1, a[1][0]),)

    def walk_ite(self, node: Node, a: list[Bits]) -> Bits:
        c = a[0][0]
        return tuple(self.g.ite(c, t, e) for t, e in zip(a[1], a[2], strict=True))

    def _eq(self, x: Bits, y: Bits) -> int:
        return self.g.all([self.g.xor(p, q) ^ 1 for p, q in zip(x, y, strict=True)])

    def walk_eq(self, node: Node, a: list[Bits]) -> Bits:
        return (self._eq(a[0], a[1]),)

    def walk_distinct(self, node: Node, a: list[Bits]) -> Bits:
        if len(a) != 2:
            raise Untranslatable(f"operation distinct of {len(a)} terms")
        return (self._eq(a[0], a[1]) ^ 1,)

    def _ult(self, x: Bits, y: Bits) -> int:
        """x < y, unsigned: decided by the most significant bit where they differ."""
        less = FALSE
        for p, q in zip(x, y, strict=True):  # from the least significant bit up
            less = self.g.ite(self.g.xor(p, q), q, less)
        return less

    def walk_ult(self, node: Node, a: list[Bits]) -> Bits:
        return (self._ult(a[0], a[1]),)

    def walk_ule(self, node: Node, a: list[Bits]) -> Bits:
        return (self._ult(a[1], a[0]) ^ 1,)

    def walk_ugt(self, node: Node, a: list[Bits]) -> Bits:
        return (self._ult(a[1], a[0]),)

    def walk_uge(self, node: Node, a: list[Bits]) -> Bits:
        return (self._ult(a[0], a[1]) ^ 1,)

    def _add(self, x: Bits, y: Bits, carry: int) -> Bits:
        out = []
        for p, q in zip(x, y, strict=True):
            s = self.g.xor(p, q)
            out.append(self.g.xor(s, carry))
            carry = self.g.or_(self.g.and_(p, q), self.g.and_(s, carry))
        return tuple(out)

    def walk_add(self, node: Node, a: list[Bits]) -> Bits:
        out = a[0]
        for y in a[1:]:
            out = self._add(out, y, FALSE)
        return out

    def walk_sub(self, node: Node, a: list[Bits]) -> Bits:
        return self._add(a[0], tuple(q ^ 1 for q in a[1]), TRUE)

    def walk_extract(self, node: Node, a: list[Bits]) -> Bits:
        hi, lo = node.term.params()
        return a[0][lo:hi + 1]

    def walk_concat(self, node: Node, a: list[Bits]) -> Bits:
        out: Bits = ()
        for part in reversed(a):  # the first argument is the most significant
            out += part
        return out


def translate(program: Program, holds: object) -> tuple[bytes, int, int]:
    """The program's system with `holds` (a property's state predicate) as its one bad output, in
    AIGER's binary form, with its latch and gate counts. Raises Untranslatable for an operation
    the bit-blaster lacks."""
    xs = state_vars(program)
    frozen = set(program.dropped)
    terms = command_terms(program, xs)
    args = input_vars(program)
    select_bits = max(1, (len(terms) - 1).bit_length())
    kept = [i for i in range(len(xs)) if i not in frozen]
    g = Graph(select_bits + WIDTH * len(args), WIDTH * len(kept))
    latches: list[tuple[int, int, int]] = []
    leaves: dict[int, Bits] = {}
    for i, x in enumerate(xs):
        init = program.init[i]
        if i in frozen:
            leaves[x.get_id()] = _const(init)
            continue
        bits = []
        for b in range(WIDTH):
            bit = init >> b & 1
            bits.append(g.latch(len(latches)) ^ bit)
            latches.append((i, b, bit))
        leaves[x.get_id()] = tuple(bits)
    for j, v in enumerate(args):
        leaves[v.get_id()] = tuple(g.input(select_bits + WIDTH * j + b) for b in range(WIDTH))
    blast = _Blaster(g, leaves, Nodes())
    taken = tuple(g.input(b) for b in range(select_bits))
    nxt = {i: leaves[xs[i].get_id()] for i in kept}
    for c, (_name, guard, writes) in enumerate(terms):
        on = g.and_(blast._eq(taken, _const(c, select_bits)), blast.value(guard)[0])
        if on == FALSE:
            continue
        for i, v in writes.items():
            if i in frozen:
                continue
            new = blast.value(v)
            nxt[i] = tuple(g.ite(on, p, q) for p, q in zip(new, nxt[i], strict=True))
    bad = blast.value(predicate_term(program, holds, xs))[0] ^ 1
    nexts = [nxt[i][b] ^ bit for i, b, bit in latches]
    return _binary(g, nexts, [bad]), len(latches), len(g.gates)


def _delta(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _binary(g: Graph, nexts: list[int], outputs: list[int]) -> bytes:
    """AIGER 1.9's binary form: latches reset to zero, gates delta-encoded."""
    m = g.inputs + g.latches + len(g.gates)
    head = f"aig {m} {g.inputs} {g.latches} {len(outputs)} {len(g.gates)}\n"
    body = bytearray(head.encode())
    for n in nexts:
        body += f"{n}\n".encode()
    for o in outputs:
        body += f"{o}\n".encode()
    for k, (a, b) in enumerate(g.gates):
        lhs = 2 * (1 + g.inputs + g.latches + k)
        body += _delta(lhs - a) + _delta(a - b)
    return bytes(body)


def _abc() -> str | None:
    if not shutil.which("berkeley-abc") and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run("apt-get update -qq && apt-get install -y -qq berkeley-abc", shell=True,
                       capture_output=True)
    return shutil.which("berkeley-abc")


def _pdr(abc: str, aiger: bytes, budget: int) -> tuple[str, float]:
    """ABC's answer ("proved", "violated", "undecided (frame N)") and its seconds."""
    with tempfile.TemporaryDirectory(prefix="specmc-bench-abc-") as w:
        f = Path(w) / "model.aig"
        f.write_bytes(aiger)
        t = time.perf_counter()
        r = subprocess.run([abc, "-c", f"read_aiger {f}; pdr -T {budget}"], capture_output=True, text=True)
        took = time.perf_counter() - t
    out = r.stdout
    if "Property proved" in out:
        return "proved", took
    if "was asserted" in out:
        return "violated", took
    frame = re.search(r"in frame (\d+)", out)
    return f"undecided{f' (frame {frame[1]})' if frame else ''}", took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", default="ecma262,quickjs-ng-0.6")
    ap.add_argument("--objects", default="1,2")
    ap.add_argument("--properties", default="held-value-once,no-dangling-cell")
    ap.add_argument("--budget", type=int, default=120, help="seconds for each pdr run")
    args = ap.parse_args()
    abc = _abc()
    print(f"machine: {machine()}; ABC: {abc or 'not installed (apt-get install berkeley-abc)'}")
    if abc is None:
        return
    print("| host | property | objects | latches | AND gates | pdr | seconds |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for host in args.hosts.split(","):
        for objects in (int(n) for n in args.objects.split(",")):
            for prop in args.properties.split(","):
                job = load(Job(("embedded",), host, Bounds(objects=objects), (prop,)))
                program, _props = slices(job)[0]
                try:
                    aiger, latches, gates = translate(program, job.properties[0].holds)
                except Untranslatable as e:
                    print(f"| {host} | {prop} | {objects} | - | - | untranslatable: {e} | - |")
                    continue
                said, took = _pdr(abc, aiger, args.budget)
                print(f"| {host} | {prop} | {objects} | {latches:,} | {gates:,} | {said} | {took:.1f} |",
                      flush=True)


if __name__ == "__main__":
    main()
