"""The model a certificate carries, as Z3 terms: built from a Program (an engine writing or
re-checking its own certificate) or parsed from the file's sections (`specmc recheck`).

Parsing checks the shape as well as the syntax: every variable declared once, Init, T, the
property and the invariant over the declared constants only and quantifier-free, so that a
certificate cannot smuggle in a constant the solver would be free to choose.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import z3
from specmc.model.domain import WIDTH
from specmc.model.program import Program
from specmc.model.symbolic import changes, command_terms, input_vars, predicate_term, state_vars
from specmc.proofs.certify.fileformat import (
    BV,
    Certificate,
    CertificateError,
    Unreadable,
    first_duplicate,
    sha,
)


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
    model = Model(xs, input_vars(program), init, commands, groups, sha(text), tuple(program.init))
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


def property_text(program: Program, holds: Callable[[Program, Any], Any]) -> str:
    term = predicate_term(program, holds, state_vars(program))
    term = z3.BoolVal(term) if isinstance(term, bool) else term
    return f"(define-fun |property| () Bool {term.sexpr()})\n"


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
    dup = first_duplicate(names + inputs + nexts)
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
    if values is None:
        # (Init `false`, or one variable fixed twice to two values, made every obligation hold of
        # nothing: a certificate with invariant `false` re-checked OK for any property; review 7)
        raise CertificateError("Init does not fix every state variable to one constant, as every "
                               "model's initial state does: `(and (= |v| #xNN) ...)`, each variable once")
    return Model(xs, ins, init, commands, sorted(by_group.values(), key=len, reverse=True),
                 cert.head["model"], values)


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


def parse_property(cert: Certificate, model: Model) -> Any:
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


def parse_invariant(cert: Certificate, xs: tuple[Any, ...]) -> Any:
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



# families a host's profile adds or leaves out (model/layout.py Layout.build's flags): present or
# not, but when present sized by the bounds like every other family
_FLAGGED = {"cycles": True, "cascade": True, "callbacks": "registry and registrations", "weak_lists": True,
            "raw_registry": True}
# the first family of each bound, there whenever the bound is above 0 since the bound exists: a
# file without it cannot be at bounds that give it variables
_CORE = {"obj_status": "objects", "cell_status": "cells", "frame_alg": "frames", "queue": "jobs",
         "prop": "slots", "sym_status": "symbols", "ent_status": "weakmaps", "wse_status": "weaksets"}


def check_layout(names: list[str], bounds_text: str) -> None:
    """The state variables a certificate declares against the bounds its header names, from the
    file alone. Layout.build sizes the families of variables from the bounds (`obj_status` has
    one per object, `cell_status` one per cell, ...), so a header re-sealed to claim other bounds
    than the model was built at shows: a renamed objects=1 certificate whose header said
    objects=3,cells=2 was re-checked "OK ... at objects=3,cells=2" (sixth review).
    Checked: every declared family that today's layout sizes from the bounds has that size, and
    each bound's first family (_CORE) is declared when the bound gives it variables. Not checked:
    families of one variable, and families today's layout does not have (a certificate written
    before `wk_count` existed, or while `wait_turns` did, stays valid: the file carries its own
    model). `frame_local` holds a number of locals per frame only the text decides: it must be a
    whole multiple of `frames`. Raises CertificateError naming the family and both sizes,
    Unreadable for bounds that do not parse."""
    from dataclasses import fields, replace

    from specmc.model.bounds import parse_bounds
    from specmc.model.layout import Layout
    from specmc.spec.diagnostics import SpecError

    try:
        bounds = parse_bounds(bounds_text)
    except SpecError:
        raise Unreadable(f"the header's bounds {bounds_text!r} are not bounds") from None
    sizes = {n: size for n, _b, size in Layout.build(bounds, 1, **_FLAGGED).names}
    # a family is sized by the bounds when one more (or, at a bound's maximum, one less) of some
    # bound changes its size
    sized: set[str] = set()
    for f in fields(bounds):
        for step in (1, -1):
            try:
                other = replace(bounds, **{f.name: getattr(bounds, f.name) + step})
            except SpecError:
                continue
            sized |= {n for n, _b, size in Layout.build(other, 1, **_FLAGGED).names
                      if size != sizes.get(n, 0)}
            break
    declared: dict[str, list[str]] = {}
    for n in names:
        declared.setdefault(n.split("[", 1)[0], []).append(n)
    order = [*sizes, *sorted(sized - set(sizes))]  # the layout's order: obj_status before cell_*
    for family in [f for f in order if f in sized or f in _CORE]:
        got = declared.get(family)
        size = sizes.get(family, 0)
        if family == "frame_local" and got and bounds.frames and len(got) % bounds.frames == 0:
            size = len(got)
        if got is None and not (family in _CORE and size):
            continue
        got = got or []
        want = [f"{family}[{i}]" for i in range(size)] if size > 1 else [family] * size
        if got != want:
            raise CertificateError(f"the header's bounds ({bounds_text}) give {size} {family} "
                                   f"variable{'s' if size != 1 else ''}, the file declares {len(got)}: "
                                   "the header does not describe this model")
