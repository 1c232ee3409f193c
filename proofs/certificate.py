"""Proof certificates: an inductive invariant in SMT-LIB2, and its re-check by a fresh solver.

A PROVED verdict is only printed after the certificate on disk has been read back and
three obligations discharged by solvers that share nothing with the engine that wrote it:

    initiation   Init(x)                 -> Inv(x)
    consecution  Inv(x) and T_c(x, x')  -> Inv(x')     for every command c
    safety       Inv(x)                  -> P(x)

A certificate that fails any obligation, names another model, or cannot be parsed is
refused (`CertificateError`); the verdict then falls back to UNKNOWN with that reason.
Certificates are gzip-compressed (they can run to megabytes as text) and named by a
content hash of spec + host + property + bounds, so a stale file is never mistaken
for the current proof.
"""

from __future__ import annotations

import gzip
import hashlib
import multiprocessing as mp
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import z3

from model.domain import WIDTH, View
from model.program import Program
from model.symbolic import SYMBOLIC, changes, command_terms, state_vars
from proofs.solver import SolverUnknown, is_sat, make_solver

FORMAT = "specmc certificate 1"


class CertificateError(Exception):
    """The certificate does not prove what it claims; never a PROVED."""


@dataclass(frozen=True)
class Subject:
    """What a certificate is about; its digest names the file."""

    spec_digest: str
    host: str
    host_digest: str
    property: str
    bounds: str

    def digest(self) -> str:
        text = "\n".join((FORMAT, self.spec_digest, self.host, self.host_digest, self.property,
                          self.bounds))
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def header(self) -> dict[str, str]:
        return {"format": FORMAT, "spec": self.spec_digest, "host": self.host,
                "host-profile": self.host_digest, "property": self.property, "bounds": self.bounds}


def file_digest(*paths: str | Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(Path(p).read_bytes())
    return h.hexdigest()


def write(folder: str | Path, subject: Subject, program: Program, invariant: Any, method: str) -> str:
    """Write the invariant atomically; returns the path. `invariant` is a Z3 Bool over the state
    variables, or SMT-LIB2 text already declaring them (proofs/invariant.py writes diagrams so)."""
    if isinstance(invariant, str):
        body = invariant
    else:
        s = z3.Solver()
        s.add(invariant)
        body = s.sexpr()
    head = dict(subject.header(), method=method, variables=str(program.layout.size))
    text = "".join(f"; {k}: {v}\n" for k, v in head.items()) + body
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{subject.digest()}.smt2.gz"
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(gzip.compress(text.encode(), compresslevel=6, mtime=0))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return str(path)


def read(path: str | Path) -> tuple[dict[str, str], str]:
    try:
        text = gzip.decompress(Path(path).read_bytes()).decode()
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as e:
        raise CertificateError(f"{path}: unreadable ({e})") from None
    head = {}
    for line in text.splitlines():
        if not line.startswith("; "):
            break
        k, _, v = line[2:].partition(": ")
        head[k] = v
    return head, text


# consecution depends only on the invariant and the model, not on the property: one check
# per (invariant text, model) per process
_CONSECUTIVE: set[tuple[str, str]] = set()


def recheck(path: str | Path, subject: Subject, program: Program,
            holds: Callable[[Program, Any], Any], timeout_s: float | None = None) -> None:
    """Discharge the three obligations with fresh solvers, or raise CertificateError."""
    head, text = read(path)
    for k, v in subject.header().items():
        if head.get(k) != v:
            raise CertificateError(f"{path}: certificate is for {k} {head.get(k)!r}, not {v!r}")
    xs = state_vars(program)
    body = text.split("\n(", 1)[-1]
    key = (hashlib.sha256(body.encode()).hexdigest(), _model_key(subject))
    try:
        found = _PARSED.get(key)
        if found is None:
            inv = _parse(path, text, xs, program, timeout_s)
            safety = z3.Solver()  # one per invariant: each property is a push/pop on it
            safety.set("random_seed", 0)
            safety.add(inv)
            _PARSED.clear()
            _PARSED[key] = found = (inv, safety)
        inv, safety = found
        if timeout_s is not None:
            safety.set("timeout", max(1, int(timeout_s * 1000)))
        safety.push()
        try:
            safety.add(z3.Not(holds(program, View(SYMBOLIC, program.layout, xs))))
            unsafe = is_sat(safety)
        finally:
            safety.pop()
        if unsafe:
            raise CertificateError("safety fails: the invariant admits a state violating the property")
        if key not in _CONSECUTIVE:
            _consecution(inv, xs, program, timeout_s)
            _CONSECUTIVE.add(key)
    except SolverUnknown as e:
        raise CertificateError(f"the solver could not decide an obligation: {e.reason}") from None


# the last invariant parsed, with its initiation already checked (one per model and text), and
# the solver holding it for the safety obligations
_PARSED: dict[tuple[str, str], tuple[Any, z3.Solver]] = {}


def _parse(path: str | Path, text: str, xs: tuple[Any, ...], program: Program,
           timeout_s: float | None) -> Any:
    try:
        parsed = z3.parse_smt2_string(text)  # constants are identified by name and sort
    except z3.Z3Exception as e:
        first = str(e).strip("b'\"").split("\\n")[0][:200]
        raise CertificateError(f"{path}: not SMT-LIB2 ({first})") from None
    inv = z3.And(*parsed) if len(parsed) != 1 else parsed[0]
    # by name and sort: a Bool named like a state variable is another constant
    free = {(str(v), v.sort().sexpr()) for v in _constants(inv)} - {(str(x), x.sort().sexpr()) for x in xs}
    if free:
        names = sorted(f"{n} ({sort})" for n, sort in free)[:3]
        raise CertificateError(f"{path}: mentions {names}, which are not state variables")
    init = [(x, z3.BitVecVal(v, WIDTH)) for x, v in zip(xs, program.init, strict=True)]
    if _sat(z3.Not(z3.substitute(inv, *init)), timeout_s=timeout_s):
        raise CertificateError("initiation fails: the initial state is not in the invariant")
    return inv


def _model_key(subject: Subject) -> str:
    return "\n".join((subject.spec_digest, subject.host_digest, subject.bounds))


def _consecution(inv: Any, xs: tuple[Any, ...], program: Program, timeout_s: float | None) -> None:
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
    terms = command_terms(program, xs)
    by_group: dict[tuple[str, int], list[int]] = {}
    for i, cmd in enumerate(program.symbolic_commands):
        by_group.setdefault((cmd.algorithm or cmd.actor, cmd.site[0] if cmd.site else -1), []).append(i)
    groups = sorted(by_group.values(), key=len, reverse=True)
    commands = [[terms[i] for i in g] for g in groups]
    workers = max(1, min(os.cpu_count() or 1, 4, len(terms) // 50))
    if workers == 1:
        failure = _consecution_slice(inv, xs, program, commands, None, timeout_s, None)
    else:
        ctx = mp.get_context("fork")  # the children inherit the terms; Z3 objects cannot be pickled
        pipes, procs = [], []
        taken = ctx.Value("i", 0)  # the next group to check: workers take groups as they go
        for _ in range(workers):
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_slice_worker, args=(send, inv, xs, program, commands, taken,
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


def _consecution_slice(inv: Any, xs: tuple[Any, ...], program: Program, groups: list, taken: Any,
                       timeout_s: float | None, parent: int | None = None) -> str | None:
    """Groups taken one by one from the shared counter `taken` (all of them when it is None):
    the name of a command leaving the invariant, or None."""
    solver = z3.Solver()  # the general solver: faster than the QF_BV bit-blaster on these queries
    solver.set("random_seed", 0)
    if timeout_s is not None:
        solver.set("timeout", max(1, int(timeout_s * 1000)))
    solver.add(inv)

    def leaves(commands: list) -> bool:
        solver.push()
        try:
            solver.add(z3.Or(*[z3.And(guard, z3.Not(_after(inv, xs, writes)))
                               for _, guard, writes in commands]))
            return is_sat(solver)
        finally:
            solver.pop()

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
            if leaves(group):
                return next((c[0] for c in group if leaves([c])),
                            f"one of {len(group)} commands of {group[0][0]}'s group")
        except SolverUnknown as e:
            return f"unknown: {e.reason}"
    return None


def _after(inv: Any, xs: tuple[Any, ...], writes: dict[int, Any]) -> Any:
    """The invariant over the next state: each changed variable replaced by its next value."""
    pairs = [(xs[i], v) for i, v in changes(writes, xs).items()]
    return z3.substitute(inv, *pairs) if pairs else inv


def _take(groups: list, taken: Any) -> Any:
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


def _constants(term: Any) -> set[Any]:
    seen: set[int] = set()
    out: set[Any] = set()
    stack = [term]
    while stack:
        t = stack.pop()
        if t.get_id() in seen:
            continue
        seen.add(t.get_id())
        if z3.is_const(t) and t.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            out.add(t)
        stack.extend(t.children())
    return out
