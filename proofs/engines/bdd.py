"""Symbolic reachability over binary decision diagrams (CUDD, through the `dd` package).

The explicit engine stores states one by one, so its memory grows with their number, and every
object the mutator may allocate multiplies that number. This engine never lists states: the
reachable set is one decision diagram over the bits of the state variables, and each breadth-
first step computes the image of the whole frontier at once, command by command. The diagram
grows more slowly than the set (ecma262: 994 states in 25,797 nodes at objects=1, 124,275 in
173,265 at objects=2, over 8 million in about 1.7 million at objects=3), so it can finish where
the explorer hits its state cap; it is not faster per state (see docs/engines.md).

The transition relation is not restated here: each command's guard and next-state terms are
the Z3 terms of model/symbolic.py (the ones every other engine uses), translated bit by bit into
diagrams by the walker the explorers' printers share (model/terms.py). Verdicts are checked
like everyone else's: a violation is a concrete path picked out of the frontier layers and
replayed by the reference interpreter; a proof writes the reachable set as an SMT-LIB2
certificate that fresh Z3 solvers re-check before PROVED is reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from types import ModuleType
from typing import TYPE_CHECKING, NamedTuple, TypeAlias

import z3
from specmc.model.domain import WIDTH, View
from specmc.model.explore import CONCRETE
from specmc.model.layout import CUT_NAMES
from specmc.model.program import Program
from specmc.model.slice import LiftError, lift_states
from specmc.model.symbolic import changes, command_terms, input_vars, state_vars
from specmc.model.terms import Node, Untranslatable, Walker
from specmc.model.trace import build_trace
from specmc.proofs.certify import certificate
from specmc.proofs.certify.invariant import variable_order
from specmc.proofs.engines import lasso
from specmc.proofs.engines.solver import SolverUnknown
from specmc.proofs.engines.unrolling import ReplayError, prop_term, replay
from specmc.proofs.properties import Property
from specmc.proofs.properties.liveness import CAP, COUNTER
from specmc.proofs.run.job import Loaded, certificate_dir, sliced_to, slices
from specmc.proofs.verdict import PROVED, UNKNOWN, VIOLATED, Outcome

if TYPE_CHECKING:
    from dd.cudd import BDD, Function

    Diagram: TypeAlias = Function | list[Function]  # a Bool term as one diagram, a bit-vector one per bit


def _bdd_module() -> ModuleType:
    try:
        import dd.cudd as cudd
    except ImportError as e:  # the wheel ships CUDD compiled; a source install may lack it
        raise SolverUnknown(f"the bdd engine needs dd with CUDD ({e})") from None
    return cudd


class Bits(Walker["Diagram"]):
    """Z3 terms over the state variables as diagrams: a Bool as one diagram, a bit-vector as a
    list of WIDTH diagrams, least significant bit first. One translation per term for the whole
    model (commands share most of their subterms)."""

    def __init__(self, bdd: BDD, xs: Sequence[z3.BitVecRef], names: Sequence[Sequence[str]]):
        super().__init__({x.get_id(): [bdd.var(n) for n in reversed(bits)]  # names are MSB first
                          for x, bits in zip(xs, names, strict=True)})
        self.bdd = bdd
        self.keep = list(xs)  # a term's id is only stable while the term is alive

    def boolean(self, t: z3.BoolRef) -> Function:
        """A Bool term as the diagram of the states where it holds."""
        return _one(self.value(t))

    def vector(self, t: z3.BitVecRef | int) -> list[Function]:
        """A bit-vector term (or constant) as one diagram per bit, least significant first."""
        return _bits(self.value(t))

    def const(self, v: int, width: int = WIDTH) -> list[Function]:
        return [self.bdd.true if (v >> b) & 1 else self.bdd.false for b in range(width)]

    def walk_python(self, v: int) -> Diagram:
        if isinstance(v, bool):  # a predicate that does not look at the state
            return self.bdd.true if v else self.bdd.false
        return self.const(v)

    def walk_true(self, node: Node, a: list[Diagram]) -> Diagram:
        return self.bdd.true

    def walk_false(self, node: Node, a: list[Diagram]) -> Diagram:
        return self.bdd.false

    def walk_bnum(self, node: Node, a: list[Diagram]) -> Diagram:
        return self.const(node.term.as_long(), node.term.size())

    def walk_and(self, node: Node, a: list[Diagram]) -> Diagram:
        out = self.bdd.true
        for x in a:
            out &= _one(x)
        return out

    def walk_or(self, node: Node, a: list[Diagram]) -> Diagram:
        out = self.bdd.false
        for x in a:
            out |= _one(x)
        return out

    def walk_not(self, node: Node, a: list[Diagram]) -> Diagram:
        return ~_one(a[0])

    def walk_implies(self, node: Node, a: list[Diagram]) -> Diagram:
        return ~_one(a[0]) | _one(a[1])

    def walk_ite(self, node: Node, a: list[Diagram]) -> Diagram:
        c, p, q = _one(a[0]), a[1], a[2]
        if isinstance(p, list):
            return [self.bdd.ite(c, x, y) for x, y in zip(p, _bits(q), strict=True)]
        return self.bdd.ite(c, p, q)

    def walk_eq(self, node: Node, a: list[Diagram]) -> Diagram:
        return self.eq(a[0], a[1])

    def walk_distinct(self, node: Node, a: list[Diagram]) -> Diagram:
        out = self.bdd.true
        for i in range(len(a)):
            for j in range(i):
                out &= ~self.eq(a[i], a[j])
        return out

    def walk_ult(self, node: Node, a: list[Diagram]) -> Diagram:
        return self._ult(_bits(a[0]), _bits(a[1]))

    def walk_ule(self, node: Node, a: list[Diagram]) -> Diagram:
        return self._ult(_bits(a[0]), _bits(a[1])) | self.eq(a[0], a[1])

    def walk_ugt(self, node: Node, a: list[Diagram]) -> Diagram:
        return self._ult(_bits(a[1]), _bits(a[0]))

    def walk_uge(self, node: Node, a: list[Diagram]) -> Diagram:
        return self._ult(_bits(a[1]), _bits(a[0])) | self.eq(a[1], a[0])

    def walk_add(self, node: Node, a: list[Diagram]) -> Diagram:
        out = _bits(a[0])
        for x in a[1:]:
            out = self._add(out, _bits(x), self.bdd.false)
        return out

    def walk_sub(self, node: Node, a: list[Diagram]) -> Diagram:  # a - b = a + ~b + 1
        return self._add([~x for x in _bits(a[1])], _bits(a[0]), self.bdd.true)

    def walk_extract(self, node: Node, a: list[Diagram]) -> Diagram:
        hi, lo = node.term.params()
        return _bits(a[0])[lo:hi + 1]

    def walk_concat(self, node: Node, a: list[Diagram]) -> Diagram:
        out: list[Function] = []
        for x in reversed(a):
            out.extend(_bits(x))
        return out

    def eq(self, a: Diagram, b: Diagram) -> Function:
        if not isinstance(a, list):
            return self.bdd.apply("<=>", a, _one(b))
        out = self.bdd.true
        for p, q in zip(a, _bits(b), strict=True):
            out &= self.bdd.apply("<=>", p, q)
        return out

    def _ult(self, a: list[Function], b: list[Function]) -> Function:
        lt = self.bdd.false  # from the least significant bit up: a < b on bits 0..i
        for p, q in zip(a, b, strict=True):
            lt = (~p & q) | (self.bdd.apply("<=>", p, q) & lt)
        return lt

    def _add(self, a: list[Function], b: list[Function], carry: Function) -> list[Function]:
        out = []
        for p, q in zip(a, b, strict=True):
            out.append(self.bdd.apply("xor", self.bdd.apply("xor", p, q), carry))
            carry = (p & q) | (carry & (p | q))
        return out


def _one(d: Diagram) -> Function:
    """The diagram of a Bool term (the walker's children are as Z3 typed them)."""
    assert not isinstance(d, list), "a bit-vector where a Bool term was expected"
    return d


def _bits(d: Diagram) -> list[Function]:
    """The bits of a bit-vector term."""
    assert isinstance(d, list), "a Bool term where a bit-vector was expected"
    return d


class Move(NamedTuple):
    """One command as diagrams."""

    written: tuple[int, ...]  # the state variables it changes
    guard: Function
    values: list[Diagram]  # their next values, over the current bits
    nexts: list[list[Function]]  # their next bits
    rename: dict[str, str]  # next bits -> current bits, of the written variables only
    old: frozenset[str]  # the current bits of the written variables and the inputs, quantified away
    inputs: frozenset[str]  # the bits of a family's arguments


class Machine:
    """The model as diagrams: each command's guard and next values over the current bits, and
    next bits for the variables it writes (a command leaves the others alone)."""

    def __init__(self, program: Program):
        cudd = _bdd_module()
        self.program = program
        n = program.layout.size
        # a slice (model/slice.py): the variables it freezes are left out of every diagram
        self.kept = tuple(i for i in range(n) if i not in set(program.dropped))
        self.xs = state_vars(program)
        bdd = cudd.BDD()
        bdd.configure(reordering=False)  # sifting costs more than it saves on these models
        self.xnames = [[f"x{i}_{b}" for b in range(WIDTH - 1, -1, -1)] for i in range(n)]
        self.ynames = [[f"y{i}_{b}" for b in range(WIDTH - 1, -1, -1)] for i in range(n)]
        inputs = input_vars(program)  # the families' arguments, quantified away by each image
        inames = [[f"i{j}_{b}" for b in range(WIDTH - 1, -1, -1)] for j in range(len(inputs))]
        order: dict[str, int] = {name: k for k, name in enumerate(b for bits in inames for b in bits)}
        for i in variable_order(program.layout, outermost_first=True, by_object=True):
            for xb, yb in zip(self.xnames[i], self.ynames[i], strict=True):
                order[xb] = len(order)
                order[yb] = len(order)
        bdd.declare(*order)
        bdd.reorder(order)
        self.bdd = bdd
        self.bits = Bits(bdd, self.xs + inputs, self.xnames + inames)
        self.init = self.state(program.init)
        # site -> (its condition, its moves)
        self.sites: dict[tuple[int, int, int, int] | None, tuple[Function, list[Move]]] = {}
        where = {str(v): bits for v, bits in zip(inputs, inames, strict=True)}
        for cmd, (_name, guard, writes) in zip(program.symbolic_commands, command_terms(program, self.xs),
                                                strict=True):
            written = tuple(sorted(i for i in changes(writes, self.xs) if i not in program.dropped))
            g = self.bits.boolean(guard)
            if g == bdd.false:
                continue
            values = [self.bits.vector(writes[i]) for i in written]
            nexts = [[bdd.var(y) for y in reversed(self.ynames[i])] for i in written]
            rename = {y: x for i in written for x, y in zip(self.xnames[i], self.ynames[i], strict=True)}
            args = frozenset(b for name in cmd.inputs for b in where[name])
            move = Move(written, g, values, nexts, rename, frozenset(rename.values()) | args, args)
            if cmd.site not in self.sites:
                self.sites[cmd.site] = (self._site(cmd.site), [])
            self.sites[cmd.site][1].append(move)

    def _site(self, site: tuple[int, int, int, int] | None) -> Function:
        """The states in which the top frame is at `site`; every guard of a command with that
        site implies it (model/program.py), so a frontier is cut once per site, not per command."""
        if site is None:
            return self.bdd.true
        d, alg, pc, phase = site
        lay = self.program.layout
        out = self.bdd.true
        for name, index, v in (("sp", None, d + 1), ("frame_alg", d, alg), ("frame_pc", d, pc),
                               ("frame_phase", d, phase)):
            out &= self.holds(lay.where(name)[0] + (index or 0), v)
        return out

    def holds(self, i: int, v: int) -> Function:
        """The states in which variable i has the value v."""
        return self.bits.eq(self.bits.vector(self.xs[i]), self.bits.const(v))

    def state(self, values: Sequence[int]) -> Function:
        out = self.bdd.true
        for i in self.kept:
            out &= self.holds(i, values[i])
        return out

    def image(self, frontier: Function) -> Function:
        """Every successor of the set. No relation over all current states is ever built: the
        guard and each next-value equation are conjoined onto the (small) frontier in turn, so
        a value copied between distant variables is only remembered for the states that have it."""
        bdd = self.bdd
        out = bdd.false
        for cond, members in self.sites.values():
            here = frontier & cond
            if here == bdd.false:
                continue
            for move in members:
                step = here & move.guard
                if step == bdd.false:
                    continue
                for v, y in zip(move.values, move.nexts, strict=True):
                    step &= self.bits.eq(y, v)
                step = bdd.exist(move.old, step)
                out |= bdd.let(move.rename, step)
        return out

    def pick(self, u: Function) -> tuple[int, ...]:
        """One state of a non-empty set."""
        care = {x for i in self.kept for x in self.xnames[i]}
        a = self.bdd.pick(u, care_vars=care)
        init = self.program.init
        return tuple(sum(int(a[x]) << (WIDTH - 1 - b) for b, x in enumerate(bits)) if x0 in care else init[i]
                     for i, bits in enumerate(self.xnames) for x0 in bits[:1])

    def predecessor(self, layer: Function, state: tuple[int, ...]) -> tuple[int, ...]:
        """A state of `layer` with a transition to `state` (there is one: `state` was reached
        from it)."""
        bits = self.bits
        for cond, members in self.sites.values():
            here = layer & cond
            if here == self.bdd.false:
                continue
            for move in members:
                cand = here & move.guard
                for i, v in zip(move.written, move.values, strict=True):
                    cand &= bits.eq(v, bits.const(state[i]))
                w = set(move.written)
                for i in self.kept:
                    if cand == self.bdd.false:
                        break
                    if i not in w:
                        cand &= self.holds(i, state[i])
                if cand != self.bdd.false:
                    return self.pick(self.bdd.exist(move.inputs, cand) if move.inputs else cand)
        raise AssertionError("a reached state has no predecessor in the layer before it")

    def to_smtlib(self, u: Function, names: Sequence[str]) -> str:
        """The set as SMT-LIB2: one `define-fun` per diagram node, children first. CUDD stores a
        complemented edge as a flag on the reference (`negated`), with the children belonging to
        the regular node; the text says so with a `not` on the reference."""
        bdd = self.bdd
        sym = [f"|{n}|" for n in names]
        out = [f"(declare-fun {x} () (_ BitVec {WIDTH}))" for x in sym]
        where = {}
        for i, bits in enumerate(self.xnames):
            for b, x in enumerate(bits):
                where[x] = (i, WIDTH - 1 - b)
        ids: dict[int, str] = {}

        def regular(v: Function) -> int:
            return int(~v) if v.negated else int(v)

        def ref(v: Function) -> str:
            if v == bdd.true:
                return "true"
            if v == bdd.false:
                return "false"
            name = ids[regular(v)]
            return f"(not {name})" if v.negated else name

        order: list[Function] = []
        seen: set[int] = set()
        stack = [(u, False)]
        while stack:
            v, done = stack.pop()
            if v == bdd.true or v == bdd.false:
                continue
            key = regular(v)
            if done:
                if key not in ids:
                    ids[key] = f"node!{len(ids)}"
                    order.append(v)
                continue
            if key in seen:
                continue
            seen.add(key)
            stack += [(v, True), (v.high, False), (v.low, False)]
        for v in order:
            i, b = where[v.var]
            test = f"(= ((_ extract {b} {b}) {sym[i]}) #b1)"
            out.append(f"(define-fun {ids[regular(v)]} () Bool (ite {test} {ref(v.high)} {ref(v.low)}))")
        out.append(f"(assert {ref(u)})")
        return "\n".join(out) + "\n"


def reach(m: Machine, bad: dict[str, Function], deadline: float | None,
          max_steps: int = 10_000) -> tuple[Function, list[Function], dict[str, int], bool]:
    """Breadth first from the initial state: (reached, layers, property -> first violating layer,
    complete). Stops early once every property is violated, and incomplete at the deadline or
    after `max_steps` steps (the bounds' `steps`, as in the explorer)."""
    bdd = m.bdd
    reached = frontier = m.init
    layers = [frontier]
    found: dict[str, int] = {}
    while True:
        for pid, b in bad.items():
            if pid not in found and (frontier & b) != bdd.false:
                found[pid] = len(layers) - 1
        if len(found) == len(bad) and bad:
            return reached, layers, found, True
        if len(layers) > max_steps or (deadline is not None and time.monotonic() > deadline):
            return reached, layers, found, False
        new = m.image(frontier) & ~reached
        if new == bdd.false:
            return reached, layers, found, True
        reached |= new
        frontier = new
        layers.append(frontier)


def run(job: Loaded, report: Callable[[Outcome], None]) -> None:
    """One reachable set per group of properties with a common cone of influence (model/slice.py),
    over the variables of that cone only; all under the job's one deadline."""
    started = time.perf_counter()
    deadline = time.monotonic() + job.job.timeout

    def say(o: Outcome) -> None:
        report(o.timed(time.perf_counter() - started))

    job, temporal = lasso.split(job, "bdd", say, supported=True)
    for p in temporal:  # proofs/engines/lasso.py: the monitored model's reachable set
        na = lasso.not_applicable(job, p, "bdd")
        if na is not None:
            say(na)
            continue
        mjob, safety = lasso.monitor_job(job, p)
        ((program, _props),) = slices(mjob, together=True)
        _run_slice(mjob, program, (safety,), deadline, say, temporal=(job, p))
    if not job.properties:
        return
    for program, props in slices(job):
        _run_slice(job, program, props, deadline, say)


def _run_slice(job: Loaded, program: Program, props: tuple[Property, ...], deadline: float,
               say: Callable[[Outcome], None], temporal: tuple[Loaded, Property] | None = None) -> None:
    """With `temporal` (the original job and its temporal property), the slice is of the monitored
    model: a violation becomes a replayed lasso, a proof a k-liveness proof."""
    try:
        m = Machine(program)
        bad = {p.id: ~m.bits.boolean(prop_term(program, p.holds, m.xs)) for p in props}
    except (Untranslatable, SolverUnknown) as e:
        for p in props:
            say(Outcome(p.id, UNKNOWN, "bdd", reason=str(e)))
        return
    reached, layers, found, complete = reach(m, bad, deadline, job.job.bounds.steps)
    states = m.bdd.count(reached, nvars=len(m.kept) * WIDTH)
    size = (f"{int(states):,} states, {len(reached):,} diagram nodes, {len(layers) - 1} steps"
            f"{sliced_to(program)}")
    inv = ""
    for p in props:
        k = found.get(p.id)
        if k is not None:
            say(_violation(job, m, layers, k, bad[p.id], p, size, temporal))
        elif not complete:
            why = "time limit" if len(layers) <= job.job.bounds.steps else "step bound"
            say(Outcome(p.id, UNKNOWN, "bdd", reason=f"{why} reached after {len(layers) - 1} "
                        f"breadth-first steps ({size})"))
        elif time.monotonic() > deadline:  # a certificate check started now would only overrun
            say(Outcome(p.id, UNKNOWN, "bdd", reason=f"time limit reached before the certificate "
                        f"was checked ({size})"))
        else:
            inv = inv or m.to_smtlib(reached, [str(x) for x in m.xs])
            if temporal is not None:
                assert temporal[1].temporal is not None
                size = lasso.proved_method(size, _most_turns(m, reached), temporal[1].temporal)
            proof = _proof(job, inv, p, size, deadline)
            say(replace(proof, cover_reached=_cover_met(m, program, p, reached),
                        bounds_hit=_bounds_hit(m, reached)) if proof.verdict == PROVED else proof)


def _bounds_hit(m: Machine, reached: Function) -> tuple[tuple[str, int], ...] | None:
    """Which bounds ended some run, and in how many reachable states (the explicit engine's
    `bounds_hit`, counted on the diagram). The slices keep `cut` (proofs/run/job.py). Without it
    a bdd PROVED of a text that appends one cell twice (the model's `cells-once` cut, which no
    bound removes) read as a plain PROVED, exit 0, where explicit says undecided (review 7, F2)."""
    at = m.program.layout.where("cut")[0]
    if at not in m.kept:  # (a slice without it would be a slicing bug: not measured, never "none")
        return None
    out = []
    for v, name in sorted(CUT_NAMES.items()):
        n = int(m.bdd.count(reached & m.holds(at, v), nvars=len(m.kept) * WIDTH))
        if n:
            out.append((name, n))
    return tuple(out)


def _cover_met(m: Machine, program: Program, p: Property, reached: Function) -> bool | None:
    """Whether some reachable state meets the property's cover: one conjunction with the whole
    reachable set, which the slice keeps the cover's variables for (proofs/run/job.py `slices`).
    Without it every bdd PROVED said "cover not checked", which `check` counts as undecided (an
    independent review's sixth round). None: no cover, or one the diagrams cannot express."""
    if p.cover is None:
        return None
    try:
        cover = m.bits.boolean(prop_term(program, p.cover, m.xs))
    except Untranslatable:
        return None
    met = reached & cover
    if met == m.bdd.false:
        return False
    # the interpreter reads the cover in one such state too, as the explicit engine does with the
    # C search's (a cover reading past an array's end is E079 at the user's line, not a pass)
    p.cover(program, View(CONCRETE, program.layout, m.pick(met)))
    return True


def _most_turns(m: Machine, reached: Function) -> int:
    """The largest turn counter of a monitored model's reachable set (proofs/properties/liveness.py)."""
    base, n = m.program.layout.where(COUNTER)
    names = {str(x): x for x in m.xs}
    for v in range(CAP, 0, -1):
        cs = [names[str(x)] for x in state_vars(m.program)[base:base + n] if str(x) in names]
        if cs and (reached & m.bits.boolean(z3.Or(*[x == v for x in cs]))) != m.bdd.false:
            return v
    return 0


def _violation(job: Loaded, m: Machine, layers: list[Function], k: int, bad: Function, p: Property,
               size: str, temporal: tuple[Loaded, Property] | None = None) -> Outcome:
    """A shortest path to a violating state, walked back through the layers, run again in the
    whole model (model/slice.py) and replayed by the reference interpreter (which also names each
    step's command)."""
    states = [m.pick(layers[k] & bad)]
    for j in range(k - 1, -1, -1):
        states.append(m.predecessor(layers[j], states[-1]))
    states.reverse()
    try:
        full = [s for _, s in lift_states(m.program, states)]
    except LiftError as e:
        raise ReplayError(str(e)) from None
    path = replay(job.program, full, p.holds)
    if temporal is not None:
        return lasso.lasso_outcome(temporal[0], temporal[1], "bdd", [s for _, s in path], f"; {size}")
    trace = tuple(t.to_json() for t in build_trace(job.program, path))
    return Outcome(p.id, VIOLATED, "bdd", k, reason=size, trace=trace)


def _proof(job: Loaded, inv: str, p: Property, size: str, deadline: float) -> Outcome:
    """The invariant names the slice's variables only; it is checked against the whole model."""
    subject = job.subject(p)
    method = f"bdd reachable set: {size}"
    path = certificate.write(certificate_dir(job.job), subject, job.program, inv, method, holds=p.holds,
                             origin=job)
    try:
        certificate.recheck(path, subject, job.program, p.holds,
                            timeout_s=max(1.0, deadline - time.monotonic()))
    except certificate.CertificateError as e:
        return Outcome(p.id, UNKNOWN, "bdd", reason=f"certificate refused: {e}")
    return Outcome(p.id, PROVED, "bdd", method=method, certificate=path)
