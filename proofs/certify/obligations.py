"""The obligations a certificate must meet, discharged by fresh solvers.

    invariant     initiation   Init(x)                 -> Inv(x)
                  consecution  Inv(x) and T_c(x, x')  -> Inv(x')     for every command c
                  safety       Inv(x)                  -> P(x)
    k-induction   base         no run of fewer than k steps from Init reaches not P
                  step         k+1 distinct states linked by T, P in the first k -> P in the last

A failed obligation, and one the solver cannot decide, is CertificateError: never a PROVED.
What each check does and does not establish is in docs/certificates.md.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Iterator
from typing import Any

import z3
from specmc.model.domain import WIDTH
from specmc.proofs.certify.fileformat import KIND, Certificate, CertificateError, sha
from specmc.proofs.certify.terms import Model, parse_invariant
from specmc.proofs.engines.solver import NO_LIMIT, SolverUnknown, is_sat, make_solver

# consecution depends only on the invariant and the model, not on the property: one check per
# (invariant text, model) per process
_CONSECUTIVE: set[tuple[str, str]] = set()
# the invariants parsed last, each with its initiation already checked and the solver holding it
# for the safety obligations (one push/pop per property)
_PARSED: dict[tuple[str, str], tuple[Any, z3.Solver]] = {}


def discharge(cert: Certificate, model: Model, prop: Any, timeout_s: float | None) -> None:
    """Every obligation of the certificate's claim, over `model` and the property term `prop`;
    raises CertificateError when one fails or the solver cannot decide it."""
    try:
        if cert.claim == KIND:
            _kind(model, prop, int(cert.head["k"]), timeout_s)
            return
        body = cert.section_text("invariant")
        key = (sha(body), model.digest)
        found = _PARSED.get(key)
        if found is None:
            inv = parse_invariant(cert, model.xs)
            _initiation(inv, model, timeout_s)
            safety = z3.Solver()
            safety.set("random_seed", 0)
            safety.add(inv)
            if len(_PARSED) >= 6:  # one invariant per host of a run; keep the newest few
                _PARSED.pop(next(iter(_PARSED)))
            _PARSED[key] = found = (inv, safety)
        inv, safety = found
        if timeout_s is not None:
            safety.set("timeout", max(1, int(timeout_s * 1000)))
        safety.push()
        try:
            safety.add(z3.Not(prop))
            unsafe = is_sat(safety)
        finally:
            safety.pop()
        if unsafe:
            raise CertificateError("safety fails: the invariant admits a state violating the property")
        if key not in _CONSECUTIVE:
            _consecution(inv, model, timeout_s)
            _CONSECUTIVE.add(key)
    except SolverUnknown as e:
        raise CertificateError(f"the solver could not decide an obligation: {e.reason}") from None


def _initiation(inv: Any, model: Model, timeout_s: float | None) -> None:
    if model.init_values is not None:
        pairs = [(x, z3.BitVecVal(v, WIDTH)) for x, v in zip(model.xs, model.init_values, strict=True)]
        bad = _sat(z3.Not(z3.substitute(inv, *pairs)), timeout_s=timeout_s)
    else:
        bad = _sat(model.init, z3.Not(inv), timeout_s=timeout_s)
    if bad:
        raise CertificateError("initiation fails: the initial state is not in the invariant")


def _kind(model: Model, prop: Any, k: int, timeout_s: float | None) -> None:
    """k-induction re-derived from the stored relation: the base case (no violation in fewer
    than k steps from Init) and the step case with simple-path constraints."""
    taken, trans, nxt = _selector(model)

    def link(a: tuple[Any, ...], b: tuple[Any, ...]) -> Any:
        fresh = [(i, z3.FreshConst(i.sort(), "in")) for i in model.inputs + (taken,)]
        return z3.substitute(trans, *zip(model.xs, a, strict=True), *zip(nxt, b, strict=True), *fresh)

    def copy(tag: str) -> tuple[Any, ...]:
        return tuple(z3.BitVec(f"{x}#{tag}", WIDTH) for x in model.xs)

    def at(term: Any, xs: tuple[Any, ...]) -> Any:
        return z3.substitute(term, *zip(model.xs, xs, strict=True))

    base = make_solver(timeout_s)
    frames = [copy("b0")]
    base.add(at(model.init, frames[0]))
    for d in range(k):
        if d:
            frames.append(copy(f"b{d}"))
            base.add(link(frames[-2], frames[-1]))
        base.push()
        base.add(z3.Not(at(prop, frames[-1])))
        bad = is_sat(base)
        base.pop()
        if bad:
            raise CertificateError(f"base case fails: a run of {d} steps from the initial state violates "
                                   "the property")
    step = make_solver(timeout_s)
    sx = [copy(f"s{i}") for i in range(k + 1)]
    for i in range(k):
        step.add(link(sx[i], sx[i + 1]), at(prop, sx[i]))
    for i in range(k + 1):
        for j in range(i):
            step.add(z3.Or(*[a != b for a, b in zip(sx[i], sx[j], strict=True)]))
    step.add(z3.Not(at(prop, sx[k])))
    if is_sat(step):
        raise CertificateError(f"step case fails: the property is not {k}-inductive")


def _selector(model: Model) -> tuple[Any, Any, tuple[Any, ...]]:
    """T(x, taken, inputs, x') with one input naming the command taken (as proofs/engines/kind.py
    unrolls it): the guard of that command, and each variable's next value an if-then-else over
    the commands that change it."""
    nxt = tuple(z3.BitVec(f"{x}'", WIDTH) for x in model.xs)
    taken = z3.BitVec("command taken", max(1, (len(model.commands) - 1).bit_length()))
    after: list[Any] = list(model.xs)
    for c, (_name, _guard, writes) in enumerate(model.commands):
        for i, v in writes.items():
            after[i] = z3.If(taken == c, v, after[i])
    chosen = z3.Or(*[z3.And(taken == c, guard) for c, (_n, guard, _w) in enumerate(model.commands)])
    return taken, z3.And(chosen, *[n == a for n, a in zip(nxt, after, strict=True)]), nxt


def _consecution(inv: Any, model: Model, timeout_s: float | None) -> None:
    """One query per group of commands (one algorithm at one stack depth), split over the
    machine's cores (forked workers, each with its own solver holding the invariant).

    A group whose guards the invariant excludes altogether (Inv and the disjunction of the guards
    is unsat) has nothing to check; on the default models that is most of them (562 of the 817
    commands of ecma262, a family of calls counted once). For the others, one query asks whether
    some command of the group leaves the invariant: Inv(x) and OR over commands (guard(x) and
    not Inv(next(x))), where Inv(next(x)) is the invariant with the written variables replaced
    by their next values. Substituting, rather
    than asserting a copy of the invariant over primed variables with x' = next(x), leaves the
    parts of the diagram below the written variables as the very same terms on both sides, so
    the solver meets them once; with one query per group this halved the check (28.7 s -> 13.9 s
    on one core for ecma262 at the default bounds). Only when a group fails are its commands
    asked one by one, to name the one that leaves."""
    xs = model.xs
    commands = [[model.commands[i] for i in g] for g in model.groups]
    workers = max(1, min(os.cpu_count() or 1, 4, len(model.commands) // 50))
    if workers == 1:
        failure = _consecution_slice(inv, xs, commands, None, timeout_s, None)
    else:
        ctx = mp.get_context("fork")  # the children inherit the terms; Z3 objects cannot be pickled
        pipes, procs = [], []
        taken = ctx.Value("i", 0)  # the next group to check: workers take groups as they go
        for _ in range(workers):
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_slice_worker, args=(send, inv, xs, commands, taken,
                                                           timeout_s, os.getpid()))
            proc.start()
            pipes.append(recv)
            procs.append(proc)
        failures = []
        try:
            for recv in pipes:
                try:
                    failures.append(recv.recv())
                except EOFError:
                    failures.append("unknown: a consecution worker died")
        except BaseException:  # (Ctrl-C, SIGTERM to this process alone: the workers' answers are moot)
            for proc in procs:
                proc.kill()
            raise
        finally:
            for proc in procs:
                proc.join(timeout=5)
                if proc.is_alive():
                    proc.kill()
        failure = next((f for f in failures if f), None)
    if failure:
        if failure.startswith("unknown: "):
            raise SolverUnknown(failure.removeprefix("unknown: "))
        raise CertificateError(f"consecution fails: command '{failure}' leaves the invariant")


def _slice_worker(send: Any, *args: Any) -> None:
    send.send(_consecution_slice(*args))
    send.close()


SPLIT_AFTER_MS = 3000  # a group's one query that takes longer is asked again command by command (0: always)


def _consecution_slice(inv: Any, xs: tuple[Any, ...], groups: list, taken: Any,
                       timeout_s: float | None, parent: int | None = None) -> str | None:
    """Groups taken one by one from the shared counter `taken` (all of them when it is None):
    the name of a command leaving the invariant, or None.

    One query per group is usually cheapest (on ecma262 at the default bounds, 31 queries in
    79 s against 191 one-command queries in 105 s), but not always: the disjunction over the
    15 commands that run user code at the bottom of the stack took 23 s where its commands one
    by one take 3.7 s. So a group query gets SPLIT_AFTER_MS, and when it runs out the group is
    asked command by command (each under the caller's own limit), which bounds the loss."""
    solver = z3.Solver()  # the general solver: faster than the QF_BV bit-blaster on these queries
    solver.set("random_seed", 0)
    limit = NO_LIMIT if timeout_s is None else max(1, int(timeout_s * 1000))
    solver.set("timeout", limit)
    solver.add(inv)

    def leaves(commands: list, soft: int | None = None) -> bool:
        solver.push()
        if soft is not None:
            solver.set("timeout", min(soft, limit))
        try:
            solver.add(z3.Or(*[z3.And(guard, z3.Not(_after(inv, xs, writes)))
                               for _, guard, writes in commands]))
            return is_sat(solver)
        finally:
            solver.pop()
            if soft is not None:
                solver.set("timeout", limit)

    for group in _take(groups, taken):
        if parent is not None and os.getppid() != parent:
            return "unknown: the checking process was stopped"
        try:
            solver.push()
            try:
                solver.add(z3.Or(*[guard for _, guard, _ in group]))
                if not is_sat(solver):
                    continue  # no state of the invariant enables any command of the group
            finally:
                solver.pop()
            whole: bool | None  # the group query's answer; None: too slow, asked command by command
            if len(group) > 1 and SPLIT_AFTER_MS < limit:
                try:
                    whole = leaves(group, SPLIT_AFTER_MS) if SPLIT_AFTER_MS > 0 else None
                except SolverUnknown:
                    whole = None
            else:
                whole = leaves(group)
            if whole is False:
                continue
            left = next((c[0] for c in group if leaves([c])), None)
            if left is not None:
                return left
            if whole:  # the group leaves, yet no command alone does: name the group
                return f"one of {len(group)} commands of {group[0][0]}'s group"
        except SolverUnknown as e:
            return f"unknown: {e.reason}"
    return None


def _after(inv: Any, xs: tuple[Any, ...], writes: dict[int, Any]) -> Any:
    """The invariant over the next state: each changed variable replaced by its next value."""
    pairs = [(xs[i], v) for i, v in writes.items()]
    return z3.substitute(inv, *pairs) if pairs else inv


def _take(groups: list, taken: Any) -> Iterator[list]:
    if taken is None:
        yield from groups
        return
    while True:
        with taken.get_lock():
            i = taken.value
            taken.value += 1
        if i >= len(groups):
            return
        yield groups[i]


def _sat(*terms: Any, timeout_s: float | None) -> bool:
    s = make_solver(timeout_s)
    s.add(*terms)
    return is_sat(s)
