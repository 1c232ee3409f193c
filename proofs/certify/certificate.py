"""Proof certificates: self-contained SMT-LIB2 files, and their re-check by fresh solvers.

A certificate carries everything a solver needs to confirm the proof without specmc's model
builder: the state variables, the initial condition Init, the transition relation T (one
formula per command), the property P, and either an inductive invariant Inv or the k of a
k-induction proof. The obligations are

    invariant     initiation   Init(x)                 -> Inv(x)
                  consecution  Inv(x) and T_c(x, x')  -> Inv(x')     for every command c
                  safety       Inv(x)                  -> P(x)
    k-induction   base         no run of fewer than k steps from Init reaches not P
                  step         k+1 distinct states linked by T, P in the first k -> P in the last

An engine writes the file and re-checks it in-process (`recheck`, with the Program it built;
PROVED is printed only after that). `recheck_file` (`specmc recheck`) reads nothing but the
file: it is what a reviewer runs on a certificate someone else produced. Anything wrong with a
file is `CertificateError` (refused: exit 1 in `specmc recheck`); a file that cannot even be
read as a certificate is `Unreadable` (exit 2). The text format, and what each check does and
does not establish, is in docs/certificates.md.

Certificates are gzip-compressed and named by a content hash of spec + host + property +
bounds, so a stale file is never mistaken for the current proof.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import multiprocessing as mp
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import z3
from specmc.model.domain import WIDTH
from specmc.model.program import Program
from specmc.model.symbolic import changes, command_terms, input_vars, predicate_term, state_vars
from specmc.proofs.atomic import write_atomic
from specmc.proofs.engines.solver import NO_LIMIT, SolverUnknown, is_sat, make_solver

FORMAT = "specmc certificate 2"
INVARIANT = "invariant"
KIND = "k-induction"
BV = f"(_ BitVec {WIDTH})"
SECTIONS = ("state", "inputs", "next", "init", "transition", "property", "invariant")
MODEL_SECTIONS = SECTIONS[:5]
# header keys every certificate has; `k` only a k-induction one, `origin` only one written by an
# engine that knows where its spec came from (used by `recheck --against`)
REQUIRED = ("format", "spec", "host", "host-profile", "property", "bounds", "method", "variables",
            "claim", "model", "digest")


class CertificateError(Exception):
    """The certificate does not prove what it claims; never a PROVED."""


class Unreadable(CertificateError):
    """The file cannot be read as a certificate at all (not gzip, not text, not the format)."""


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


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- the model as a solver sees it -------------------------------------------------------------


@dataclass
class Model:
    """Init and T as Z3 terms, from a Program (in-process) or parsed from a file (`recheck`).
    Commands are (name, guard, changes): `changes` maps a state index to its next value, and
    every other variable keeps its value. `groups` lists command indices checked together (one
    algorithm at one stack depth): it only affects how fast consecution is checked."""

    xs: tuple[Any, ...]
    inputs: tuple[Any, ...]
    init: Any
    commands: list[tuple[str, Any, dict[int, Any]]]
    groups: list[list[int]]
    digest: str = ""
    init_values: tuple[int, ...] | None = None  # when Init fixes every variable (the usual case)


# the last program's model and its text: every certificate of one engine run shares them, and
# rendering the transition relation as text costs about 1.5 s on the default models
_PROGRAM_MODEL: list[tuple[Program, Model, str]] = []


def program_model(program: Program) -> tuple[Model, str]:
    """The Program's Init and T as terms and as the certificate's model sections (text)."""
    if _PROGRAM_MODEL and _PROGRAM_MODEL[0][0] is program:
        return _PROGRAM_MODEL[0][1], _PROGRAM_MODEL[0][2]
    xs = state_vars(program)
    terms = command_terms(program, xs)
    by_group: dict[tuple[str, int], list[int]] = {}
    for i, cmd in enumerate(program.symbolic_commands):
        by_group.setdefault((cmd.algorithm or cmd.actor, cmd.site[0] if cmd.site else -1), []).append(i)
    group_of = {i: f"{alg}@{depth}" for (alg, depth), idx in by_group.items() for i in idx}
    commands = [(name, guard, changes(writes, xs)) for name, guard, writes in terms]
    init = z3.And(*[x == v for x, v in zip(xs, program.init, strict=True)])
    text = _render_model(xs, input_vars(program), program.init, commands, group_of)
    groups = sorted(by_group.values(), key=len, reverse=True)
    model = Model(xs, input_vars(program), init, commands, groups, _sha(text), tuple(program.init))
    _PROGRAM_MODEL[:] = [(program, model, text)]
    return model, text


def _symbol(name: str) -> str:
    """A quoted SMT-LIB symbol; `|` and `\\` cannot occur inside one."""
    return "|" + name.replace("|", "?").replace("\\", "?") + "|"


def _render_model(xs: tuple[Any, ...], inputs: tuple[Any, ...], init: tuple[int, ...],
                  commands: list[tuple[str, Any, dict[int, Any]]], group_of: dict[int, str]) -> str:
    """The model sections. A command is one conjunction over x, the inputs and x': the guard,
    and `(= |v'| term)` for each variable it changes (the others keep their values). One term
    per command, not one per variable, lets Z3's printer share what the guard and the next
    values have in common: 1.05 MB of text instead of 1.56 MB on the default ecma262 model."""
    hexw = (WIDTH + 3) // 4
    out = [";; state"]
    out += [f"(declare-fun {_symbol(str(x))} () {BV})" for x in xs]
    out.append(";; inputs")
    out += [f"(declare-fun {_symbol(str(i))} () {BV})" for i in inputs]
    out.append(";; next")
    out += [f"(declare-fun {_symbol(str(x) + chr(39))} () {BV})" for x in xs]
    out.append(";; init")
    eqs = " ".join(f"(= {_symbol(str(x))} #x{v:0{hexw}x})" for x, v in zip(xs, init, strict=True))
    out.append(f"(define-fun |init| () Bool (and {eqs}))")
    out.append(";; transition")
    nxt = [z3.BitVec(str(x) + "'", WIDTH) for x in xs]
    for c, (name, guard, writes) in enumerate(commands):
        parts = [guard] + [nxt[i] == v for i, v in sorted(writes.items())]
        body = z3.And(*parts) if len(parts) > 1 else z3.And(guard, z3.BoolVal(True))
        label = group_of.get(c, "-").replace(":", ";")
        out.append(f"(define-fun {_symbol(f'command {c}: {label}: {name}')} () Bool {body.sexpr()})")
    return "\n".join(out) + "\n"


def _property_text(program: Program, holds: Callable[[Program, Any], Any]) -> str:
    term = predicate_term(program, holds, state_vars(program))
    term = z3.BoolVal(term) if isinstance(term, bool) else term
    return f"(define-fun |property| () Bool {term.sexpr()})\n"


# --- writing -----------------------------------------------------------------------------------


def write(folder: str | Path, subject: Subject, program: Program, invariant: Any, method: str, *,
          holds: Callable[[Program, Any], Any] | None = None, origin: Any = None,
          k: int | None = None) -> str:
    """Write a certificate atomically; returns the path.

    `invariant` is a Z3 Bool over the state variables, or SMT-LIB2 text (proofs/certify/invariant.py
    writes diagrams so; its declarations of state variables are dropped, the model section
    declares them), or None with `k` for a k-induction proof. `holds` is the property: without
    it the file can only be re-checked in-process. `origin` is the engine's loaded job
    (proofs/job.py `Loaded`): where the spec, host profile and property files were, so that
    `specmc recheck --against` can rebuild the model."""
    model, model_text = program_model(program)
    if k is None:
        if isinstance(invariant, str):
            inv_text = invariant
        else:
            s = z3.Solver()
            s.add(invariant)
            inv_text = s.sexpr()
        inv_text = _drop_declarations(inv_text, {str(x) for x in model.xs})
    head = dict(subject.header(), method=method, variables=str(program.layout.size),
                claim=INVARIANT if k is None else KIND)
    if k is not None:
        head["k"] = str(k)
    if origin is not None:
        head["origin"] = json.dumps({"specs": list(origin.spec_paths), "host": origin.job.host,
                                     "properties_files": list(origin.job.properties_files)})
    head["model"] = model.digest
    body = model_text
    if holds is not None:
        body += ";; property\n" + _property_text(program, holds)
    if k is None:
        body += ";; invariant\n" + inv_text
    text = _seal(head, body)
    path = Path(folder) / f"{subject.digest()}{'.kind' if k is not None else ''}.smt2.gz"
    write_atomic(path, gzip.compress(text.encode(), compresslevel=6, mtime=0))
    return str(path)


def _seal(head: dict[str, str], body: str) -> str:
    """Header and body with `; digest:` (a SHA-256 of everything else) as the last header line."""
    lines = "".join(f"; {k}: {v}\n" for k, v in head.items() if k != "digest")
    return f"{lines}; digest: {_sha(lines + body)}\n{body}"


_DROPPED: dict[str, str] = {}  # the last invariant text and its stripped form (one per engine run)


def _drop_declarations(text: str, names: set[str]) -> str:
    """The text without its `declare-fun`s of state variables (by name and bit-vector sort);
    any other declaration is kept, for the reader to refuse."""
    key = _sha(text) + _sha("\n".join(sorted(names)))
    if key not in _DROPPED:
        _DROPPED.clear()
        _DROPPED[key] = _strip_declarations(text, names)
    return _DROPPED[key]


def _strip_declarations(text: str, names: set[str]) -> str:
    out, last = [], 0
    for f in _scan(text):
        if f.head == "declare-fun" and f.name in names and f.signature() == ("()", BV):
            out.append(text[last:f.start])
            last = f.end
    out.append(text[last:])
    return re.sub(r"\n\s*\n", "\n", "".join(out)).lstrip("\n")


# --- reading -----------------------------------------------------------------------------------

_TOKEN = re.compile(r'\|[^|]*\||"(?:[^"]|"")*"|;[^\n]*|[()]|[^\s()|";]+')


@dataclass
class Form:
    """One top-level command of the text: its span, its elements' spans, and its section."""

    text: str
    start: int
    end: int
    parts: list[tuple[int, int]]
    section: str = ""

    def part(self, i: int) -> str:
        a, b = self.parts[i]
        return self.text[a:b]

    @property
    def head(self) -> str:
        return self.part(0) if self.parts else ""

    @property
    def name(self) -> str:
        n = self.part(1) if len(self.parts) > 1 else ""
        return n[1:-1] if n.startswith("|") and n.endswith("|") and len(n) > 1 else n

    def signature(self) -> tuple[str, str]:
        """(parameters, sort) of a declare-fun or define-fun, whitespace normalised."""
        if len(self.parts) < 4:
            return "", ""
        norm = [" ".join(self.part(i).replace("(", " ( ").replace(")", " ) ").split())
                .replace("( ", "(").replace(" )", ")") for i in (2, 3)]
        return norm[0], norm[1]

    def body(self) -> str:
        return self.part(4) if len(self.parts) == 5 else ""


def _scan(text: str) -> list[Form]:
    """The top-level forms of SMT-LIB text, each tagged with the `;; name` section comment
    before it. Raises Unreadable on unbalanced parentheses or a stray atom at the top."""
    forms: list[Form] = []
    depth, section, start = 0, "", 0
    parts: list[tuple[int, int]] = []
    elem = -1
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok[0] == ";":
            if depth == 0 and tok.startswith(";; "):
                section = tok[3:].strip()
            continue
        if tok == "(":
            if depth == 0:
                start, parts = m.start(), []
            elif depth == 1:
                elem = m.start()
            depth += 1
        elif tok == ")":
            depth -= 1
            if depth < 0:
                raise Unreadable(f"unbalanced parenthesis at offset {m.start()}")
            if depth == 1:
                parts.append((elem, m.end()))
            elif depth == 0:
                forms.append(Form(text, start, m.end(), parts, section))
        elif depth == 0:
            raise Unreadable(f"not SMT-LIB2: stray {tok[:40]!r} at the top level")
        elif depth == 1:
            parts.append((m.start(), m.end()))
    if depth:
        raise Unreadable("not SMT-LIB2: unbalanced parentheses (truncated?)")
    return forms


_SECTION = re.compile(r"^;; ([a-z-]+)\n", re.M)


@dataclass
class Certificate:
    """A read, sealed certificate: header fields, and its body cut at the `;; NAME` lines into
    sections, each scanned into forms only when asked for (an engine's in-process re-check never
    reads the megabyte of model text it has as terms already)."""

    path: str
    head: dict[str, str]
    text: str
    spans: dict[str, tuple[int, int]]
    _forms: dict[str, list[Form]] = field(default_factory=dict)

    def section_text(self, name: str) -> str:
        a, b = self.spans.get(name, (0, 0))
        return self.text[a:b]

    def forms(self, name: str) -> list[Form]:
        if name not in self._forms:
            self._forms[name] = [replace(f, section=name) for f in _scan(self.section_text(name))]
        return self._forms[name]

    @property
    def claim(self) -> str:
        return self.head["claim"]


def read(path: str | Path) -> tuple[dict[str, str], str]:
    """The header fields and the whole text (no check beyond decompression)."""
    text = _decompress(path)
    return _header(text), text


def _decompress(path: str | Path) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise Unreadable(f"unreadable ({e.strerror or e})") from None
    try:
        return gzip.decompress(data).decode()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise Unreadable(f"unreadable (not a complete gzip file: {e or type(e).__name__})") from None
    except UnicodeDecodeError:
        raise Unreadable("unreadable (the gzip content is not UTF-8 text)") from None


def _header(text: str) -> dict[str, str]:
    head: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("; "):
            break
        k, _, v = line[2:].partition(": ")
        head[k] = v
    return head


def load(path: str | Path) -> Certificate:
    """Read, check the format, the header and the seal, and split the body into sections."""
    text = _decompress(path)
    head = _header(text)
    if head.get("format") != FORMAT:
        if head.get("format", "").startswith("specmc certificate"):
            raise Unreadable(f"format {head['format']!r} is not {FORMAT!r} (written by an older "
                             "specmc: it carries no model; run specmc check again)")
        raise Unreadable("not a specmc certificate (no '; format: specmc certificate' line)")
    missing = [k for k in REQUIRED if k not in head]
    if missing:
        raise Unreadable(f"the header lacks {', '.join(missing)}")
    if head["claim"] not in (INVARIANT, KIND):
        raise Unreadable(f"unknown claim {head['claim']!r}")
    if head["claim"] == KIND and not re.fullmatch(r"\d{1,4}", head.get("k", "")):
        raise Unreadable(f"a k-induction certificate needs k, a whole number (got {head.get('k')!r})")
    line = f"; digest: {head['digest']}\n"
    at = text.find(line)
    unsealed = text[:at] + text[at + len(line):] if at >= 0 else text
    if _sha(unsealed) != head["digest"]:
        raise CertificateError("digest mismatch: the file was changed after it was written")
    body = text[at + len(line):]
    marks = list(_SECTION.finditer(body))
    if not marks or body[:marks[0].start()].strip():
        raise Unreadable("the body does not start with a ';; state' section")
    names = [m.group(1) for m in marks]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise Unreadable(f"unknown section {unknown[0]!r}")
    dup = _first_duplicate(names)
    if dup is not None:
        raise Unreadable(f"section {dup} appears twice")
    ends = [m.start() for m in marks[1:]] + [len(body)]
    cert = Certificate(str(path), head, body,
                       {m.group(1): (m.end(), end) for m, end in zip(marks, ends, strict=True)})
    if _sha(_model_sections(body)) != head["model"]:
        raise CertificateError("model digest mismatch: Init or T differs from the model the header names")
    return cert


def _model_sections(body: str) -> str:
    """The text the model digest covers: everything before the property or invariant section."""
    cut = min((i for i in (body.find(";; property\n"), body.find(";; invariant\n")) if i >= 0),
              default=len(body))
    return body[:cut]


# --- parsing sections into terms ---------------------------------------------------------------


def _declarations(cert: Certificate, section: str) -> list[str]:
    out = []
    for f in cert.forms(section):
        if f.head != "declare-fun" or len(f.parts) != 4:
            raise Unreadable(f"section {section}: expected only declare-fun, found {f.head or '()'}")
        if f.signature() != ("()", BV):
            raise CertificateError(f"section {section}: {_symbol(f.name)} is declared as "
                                   f"{' '.join(f.signature())}, not a constant of sort {BV}")
        out.append(f.name)
    return out


def parse_model(cert: Certificate) -> Model:
    """The model sections as terms, checked for shape: every variable declared once, Init and
    every command over the declared constants only, next-state variables only on the left of a
    command's `(= |v'| term)` conjuncts."""
    names = _declarations(cert, "state")
    inputs = _declarations(cert, "inputs")
    nexts = _declarations(cert, "next")
    dup = _first_duplicate(names + inputs + nexts)
    if dup is not None:
        raise Unreadable(f"{_symbol(dup)} is declared twice")
    if not names:
        raise Unreadable("the certificate declares no state variables")
    if str(len(names)) != cert.head["variables"]:
        raise CertificateError(f"the header says {cert.head['variables']} state variables, the model "
                               f"declares {len(names)}")
    if nexts != [n + "'" for n in names]:
        raise CertificateError("the next-state variables are not the state variables primed, in order")
    xs = tuple(z3.BitVec(n, WIDTH) for n in names)
    ins = tuple(z3.BitVec(n, WIDTH) for n in inputs)
    nxt = tuple(z3.BitVec(n, WIDTH) for n in nexts)
    decls = {str(v): v for v in xs + ins + nxt}
    defs = cert.forms("init") + cert.forms("transition")
    for f in defs:
        if f.head != "define-fun" or f.signature() != ("()", "Bool") or len(f.parts) != 5:
            raise Unreadable(f"{f.section}: expected (define-fun NAME () Bool TERM), found {f.head}")
    if [f.name for f in cert.forms("init")] != ["init"]:
        raise Unreadable("section init must define exactly |init|")
    terms = _parse_terms([f.body() for f in defs], decls, "the model")
    init, cmd_terms = terms[0], terms[1:]
    state, allowed = {x.get_id() for x in xs}, {v.get_id() for v in xs + ins}
    _only(init, state, "Init")
    index = {v.get_id(): i for i, v in enumerate(nxt)}
    commands: list[tuple[str, Any, dict[int, Any]]] = []
    by_group: dict[str, list[int]] = {}
    seen: set[int] = set()
    for c, (f, term) in enumerate(zip(cert.forms("transition"), cmd_terms, strict=True)):
        label = f.name.split(": ", 2)
        if len(label) != 3 or label[0] != f"command {c}":
            raise Unreadable(f"transition: command {c} is named {f.name!r}, not 'command {c}: GROUP: NAME'")
        conj = term.children() if z3.is_and(term) else [term]
        guard, writes = [], {}
        for part in conj:
            # `(= |v'| term)`, either way round (Z3's printer puts a numeral first)
            sides = (part.arg(0), part.arg(1)) if z3.is_eq(part) else ()
            primed = [j for j, s in enumerate(sides) if s.get_id() in index]
            if len(primed) == 1:
                i = index[sides[primed[0]].get_id()]
                if i in writes:
                    raise CertificateError(f"command '{label[2]}' sets {nxt[i]} twice")
                writes[i] = sides[1 - primed[0]]
            else:
                guard.append(part)
        for t in guard + list(writes.values()):
            _only(t, allowed, f"command '{label[2]}'", seen)
        commands.append((label[2], z3.And(*guard) if len(guard) != 1 else guard[0], writes))
        by_group.setdefault(label[1], []).append(c)
    values = _init_values(init, xs)
    return Model(xs, ins, init, commands, sorted(by_group.values(), key=len, reverse=True),
                 cert.head["model"], values)


def _first_duplicate(names: list[str]) -> str | None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            return n
        seen.add(n)
    return None


def _init_values(init: Any, xs: tuple[Any, ...]) -> tuple[int, ...] | None:
    """Init's value of every variable when it is a conjunction of `x = constant` fixing each
    exactly once; None otherwise (initiation is then checked with a solver, not substitution)."""
    at = {x.get_id(): i for i, x in enumerate(xs)}
    values: dict[int, int] = {}
    for part in init.children() if z3.is_and(init) else [init]:
        if not z3.is_eq(part):
            return None
        a, b = part.arg(0), part.arg(1)
        if a.get_id() not in at or not z3.is_bv_value(b) or at[a.get_id()] in values:
            return None
        values[at[a.get_id()]] = b.as_long()
    return tuple(values[i] for i in range(len(xs))) if len(values) == len(xs) else None


def _parse_terms(bodies: list[str], decls: dict[str, Any], what: str) -> list[Any]:
    text = "".join(f"(assert {b})\n" for b in bodies)
    try:
        parsed = z3.parse_smt2_string(text, decls=decls)
    except z3.Z3Exception as e:
        raise Unreadable(f"{what} is not SMT-LIB2 ({_z3_message(e)})") from None
    if len(parsed) != len(bodies):
        raise Unreadable(f"{what}: {len(bodies)} terms written, {len(parsed)} parsed")
    return list(parsed)


def _z3_message(e: Exception) -> str:
    return str(e).strip("b'\"").split("\\n")[0][:200]


def _only(term: Any, allowed: set[int], what: str, seen: set[int] | None = None) -> None:
    """Every constant of `term` is one of `allowed` (by identity: name and sort), and the term
    is quantifier-free; `seen` (shared between calls) skips subterms already checked.

    Walked through Z3's C interface directly: an invariant of 50,000 diagram nodes is about
    100,000 subterms, and making a Python term object for each child cost 12 s of a 20 s check
    (this walk takes about a second)."""
    from z3 import z3core as c

    ctx = term.ctx_ref()
    seen = set() if seen is None else seen
    stack = [term.as_ast()]
    app, uninterpreted = z3.Z3_APP_AST, z3.Z3_OP_UNINTERPRETED
    while stack:
        t = stack.pop()
        tid = c.Z3_get_ast_id(ctx, t)
        if tid in seen:
            continue
        seen.add(tid)
        if c.Z3_get_ast_kind(ctx, t) != app and c.Z3_get_ast_kind(ctx, t) != z3.Z3_NUMERAL_AST:
            raise CertificateError(f"{what} is not quantifier-free")
        n = c.Z3_get_app_num_args(ctx, t)
        if n == 0:
            if c.Z3_get_decl_kind(ctx, c.Z3_get_app_decl(ctx, t)) == uninterpreted and tid not in allowed:
                bad = z3.z3._to_expr_ref(t, term.ctx)
                raise CertificateError(f"{what} mentions {bad} ({bad.sort().sexpr()}), which is not a "
                                       "variable it may read")
            continue
        stack.extend(c.Z3_get_app_arg(ctx, t, i) for i in range(n))


def _parse_property(cert: Certificate, model: Model) -> Any:
    forms = cert.forms("property")
    if not forms:
        raise CertificateError("the certificate carries no property (written without one: it can only "
                               "be re-checked in-process)")
    if len(forms) != 1 or forms[0].head != "define-fun" or forms[0].name != "property" \
            or forms[0].signature() != ("()", "Bool") or len(forms[0].parts) != 5:
        raise Unreadable("section property must be exactly (define-fun |property| () Bool TERM)")
    (term,) = _parse_terms([forms[0].body()], {str(x): x for x in model.xs}, "the property")
    _only(term, {x.get_id() for x in model.xs}, "the property")
    return term


def _parse_invariant(cert: Certificate, xs: tuple[Any, ...]) -> Any:
    """The invariant section as one term over the state variables. It may define helper terms
    (`define-fun` without parameters) and must assert the invariant; any declaration in it is a
    constant the solver would be free to choose, and is refused."""
    forms = cert.forms("invariant")
    state = {str(x) for x in xs}
    defined: set[str] = set()
    foreign = []
    for f in forms:
        if f.head == "declare-fun":
            if f.name in state and f.signature() == ("()", BV):
                raise Unreadable(f"{_symbol(f.name)} is declared twice")
            foreign.append(f"{f.name} ({f.signature()[1]})")
        elif f.head == "define-fun":
            if f.signature()[0] != "()" or len(f.parts) != 5:
                raise Unreadable(f"invariant: {_symbol(f.name)} has parameters; only constants may be "
                                 "defined")
            if f.name in defined or f.name in state:
                raise Unreadable(f"{_symbol(f.name)} is defined twice")
            defined.add(f.name)
        elif f.head != "assert":
            raise Unreadable(f"invariant: unexpected command {f.head}")
    if foreign:
        raise CertificateError(f"mentions {sorted(foreign)[:3]}, which are not state variables")
    if not any(f.head == "assert" for f in forms):
        raise Unreadable("the invariant section asserts nothing")
    try:
        parsed = z3.parse_smt2_string(cert.section_text("invariant"), decls={str(x): x for x in xs})
    except z3.Z3Exception as e:
        unknown = re.search(r"unknown constant (\S+?)\)?\\?[\"']", str(e))
        if unknown:  # a name the model does not declare: readable, and refused
            raise CertificateError(f"mentions {unknown.group(1)}, which is not a state variable") from None
        raise Unreadable(f"the invariant is not SMT-LIB2 ({_z3_message(e)})") from None
    inv = z3.And(*parsed) if len(parsed) != 1 else parsed[0]
    _only(inv, {x.get_id() for x in xs}, "the invariant")
    return inv


# --- the obligations ---------------------------------------------------------------------------

# consecution depends only on the invariant and the model, not on the property: one check per
# (invariant text, model) per process
_CONSECUTIVE: set[tuple[str, str]] = set()
# the invariants parsed last, each with its initiation already checked and the solver holding it
# for the safety obligations (one push/pop per property)
_PARSED: dict[tuple[str, str], tuple[Any, z3.Solver]] = {}


def recheck(path: str | Path, subject: Subject, program: Program,
            holds: Callable[[Program, Any], Any], timeout_s: float | None = None) -> None:
    """In-process: the file must be about `subject` and this program's model (by digest); then
    the obligations are discharged with fresh solvers over the program's own terms, and the
    property given here. Raises CertificateError."""
    cert = load(path)
    for k, v in subject.header().items():
        if cert.head.get(k) != v:
            raise CertificateError(f"certificate is for {k} {cert.head.get(k)!r}, not {v!r}")
    model, _text = program_model(program)
    if cert.head["model"] != model.digest:
        raise CertificateError("certificate is for another model (its Init and T differ from this program's)")
    prop = predicate_term(program, holds, model.xs)
    _obligations(cert, model, z3.BoolVal(prop) if isinstance(prop, bool) else prop, timeout_s)


@dataclass(frozen=True)
class Rechecked:
    """What `recheck_file` confirmed, for the one line `specmc recheck` prints."""

    head: dict[str, str]
    seconds: float

    def summary(self) -> str:
        h = self.head
        claim = f"{KIND}, k={h['k']}" if h["claim"] == KIND else INVARIANT
        return f"{h['property']} under {h['host']} at {h['bounds']}: {claim}, {self.seconds:.1f} s"


# parsed models of this process, by digest: the certificates of one run share a few models
_MODELS: dict[str, Model] = {}


def recheck_file(path: str | Path, timeout_s: float | None = None, against: bool = False) -> Rechecked:
    """Re-check a certificate from the file alone (Init, T, the property and the invariant or k
    as written in it). With `against`, also rebuild the model from the spec, host profile and
    bounds the file records and require the same model and property text. Raises
    CertificateError (refused) or Unreadable."""
    started = time.perf_counter()
    cert = load(path)
    named = re.fullmatch(r"([0-9a-f]{24})(\.kind)?\.smt2\.gz", Path(path).name)
    h = cert.head
    subject = Subject(h["spec"], h["host"], h["host-profile"], h["property"], h["bounds"])
    if named and named.group(1) != subject.digest():
        # engines name a certificate by its subject: a header edited and re-sealed still shows
        raise CertificateError(f"the file name is not the digest of the header's spec, host, property "
                               f"and bounds ({subject.digest()}): the header was edited")
    model = _MODELS.get(cert.head["model"])
    if model is None:
        model = parse_model(cert)
        if len(_MODELS) >= 8:  # a run's certificates name a few models; keep the newest
            _MODELS.pop(next(iter(_MODELS)))
        _MODELS[model.digest] = model
    prop = _parse_property(cert, model)
    if against:
        _against(cert)
    _obligations(cert, model, prop, timeout_s)
    return Rechecked(cert.head, time.perf_counter() - started)


def _against(cert: Certificate) -> None:
    """Rebuild the model the certificate names and compare: spec and profile digests, the model
    digest (Init and T), and the property's text."""
    from specmc.model.bounds import parse_bounds
    from specmc.proofs.job import Job
    from specmc.proofs.job import load as load_job
    from specmc.spec.diagnostics import SpecError

    if "origin" not in cert.head:
        raise Unreadable("--against: the certificate does not record where its spec came from")
    try:
        origin = json.loads(cert.head["origin"])
        job = load_job(Job(tuple(origin["specs"]), origin["host"], parse_bounds(cert.head["bounds"]),
                           (cert.head["property"],), tuple(origin.get("properties_files", ()))))
    except (ValueError, KeyError, TypeError) as e:
        raise Unreadable(f"--against: the recorded origin is unusable ({e})") from None
    except (SpecError, OSError) as e:
        first = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise Unreadable(f"--against: the recorded model cannot be rebuilt ({first})") from None
    subject = job.subject(job.properties[0])
    for k, v in subject.header().items():
        if cert.head.get(k) != v:
            raise CertificateError(f"--against: the certificate records {k} {cert.head.get(k)!r}; "
                                   f"the files now give {v!r}")
    model, _text = program_model(job.program)
    if model.digest != cert.head["model"]:
        raise CertificateError("--against: the stored Init and T differ from the model the recorded spec, "
                               "host and bounds build")
    stored = cert.section_text("property").strip()
    if stored != _property_text(job.program, job.properties[0].holds).strip():
        raise CertificateError(f"--against: the stored property is not {cert.head['property']} as the "
                               "catalogue defines it")


def _obligations(cert: Certificate, model: Model, prop: Any, timeout_s: float | None) -> None:
    try:
        if cert.claim == KIND:
            _kind(model, prop, int(cert.head["k"]), timeout_s)
            return
        body = cert.section_text("invariant")
        key = (_sha(body), model.digest)
        found = _PARSED.get(key)
        if found is None:
            inv = _parse_invariant(cert, model.xs)
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
