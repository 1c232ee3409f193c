"""`specmc recheck`: a certificate re-checked from the file alone. Every certificate an engine
writes is accepted; each kind of tampering is refused with a one-line reason, exit 2 when the
file cannot be read as a certificate, exit 1 when it is read and refused (docs/certificates.md).

Many tamperings below are *re-sealed*: the digests are recomputed as a forger would, so that
what refuses them is the solver's obligations, not the checksum. The few a forger can make
consistent without any proof (a command removed, the property swapped, the bounds edited, all
re-sealed) are shown refused by the file name or by `--against`, which rebuilds the model."""

from __future__ import annotations

import gzip
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from specmc.model.bounds import Bounds
from specmc.model.explore import explore
from specmc.model.symbolic import state_vars
from specmc.proofs.certify import certificate
from specmc.proofs.certify.fileformat import _header, drop_declarations, model_text, seal, sha
from specmc.proofs.certify.invariant import diagram, to_smtlib
from specmc.proofs.cli import main
from specmc.proofs.engines import explicit, kind
from specmc.proofs.run.job import Job, Loaded, load

BOUNDS = Bounds(objects=1, frames=3)


def shallow(prog, S):
    """A property the model violates: the stack never holds two frames."""
    return S.d.lt(S.get("sp"), 2)


@dataclass
class Made:
    folder: Path
    job: Loaded
    certs: dict[str, str]  # property -> path (ecma262, explicit)
    kind_cert: str
    other: str  # quickjs-ng-0.5's held-value-once certificate (another model)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Made:
    folder = tmp_path_factory.mktemp("certs")
    job = load(Job(("embedded",), "ecma262", BOUNDS, ("held-value-once", "spec-asserts"),
                   certificates=str(folder)))
    got = []
    explicit.run(job, got.append)
    certs = {o.property: o.certificate for o in got}
    assert all(certs.values()), got
    kjob = load(Job(("embedded",), "ecma262", BOUNDS, ("cleanup-not-on-free-stack",), timeout=120,
                    certificates=str(folder)))
    kout = []
    kind.run(kjob, kout.append)
    assert kout[0].verdict == "PROVED" and kout[0].certificate.endswith(".kind.smt2.gz"), kout
    other_folder = tmp_path_factory.mktemp("other")
    ojob = load(Job(("embedded",), "quickjs-ng-0.5", BOUNDS, ("held-value-once",),
                    certificates=str(other_folder)))
    oout = []
    explicit.run(ojob, oout.append)
    return Made(folder, job, certs, kout[0].certificate, oout[0].certificate)


def _text(path: str | Path) -> str:
    return gzip.decompress(Path(path).read_bytes()).decode()


def _body(text: str) -> str:
    return text[text.index("\n;; state\n") + 1:]


def reseal(text: str, model: bool = True) -> str:
    """Recompute the seal (and, with `model`, the model digest) as a forger would."""
    head = _header(text)
    body = _body(text)
    if model:
        head["model"] = sha(model_text(body))
    return seal(head, body)


def _recheck(capsys, path: Path, *flags: str) -> tuple[int, str]:
    code = main(["recheck", *flags, str(path)])
    out = capsys.readouterr().out
    return code, out


# --- accepted ------------------------------------------------------------------------------------


def test_every_certificate_an_engine_writes_is_accepted(made, capsys):
    code = main(["recheck", str(made.folder), made.other])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0, lines
    assert len(lines) == 4 and all(": OK (" in line for line in lines), lines
    assert any("k-induction, k=0" in line for line in lines)


def test_against_rebuilds_the_same_model(made, capsys):
    code, out = _recheck(capsys, Path(made.certs["held-value-once"]), "--against")
    assert code == 0 and ": OK (" in out, out


def test_the_file_carries_init_t_property_and_invariant(made):
    text = _text(made.certs["held-value-once"])
    head = _header(text)
    assert head["claim"] == "invariant" and head["origin"] and len(head["model"]) == 64
    for section in ("state", "inputs", "next", "init", "transition", "property", "invariant"):
        assert f"\n;; {section}\n" in text
    assert "(define-fun |init| () Bool" in text and "(define-fun |property| () Bool" in text


# --- tampering -----------------------------------------------------------------------------------

Tamper = Callable[[Made, str], "str | bytes"]


def _flip(text: str) -> str:
    inv = text.index(";; invariant\n")
    at = text.index("(= |sp| #x01)", inv)
    return text[:at] + "(= |sp| #x07)" + text[at + len("(= |sp| #x01)"):]


def _drop_init_clause(text: str) -> str:
    at = text.index("(define-fun |init| () Bool (and ") + len("(define-fun |init| () Bool (and ")
    return text[:at] + text[text.index(") ", at) + 2:]


def _drop_command(text: str) -> str:
    start = text.index("(define-fun |command 1: ")
    end = text.index("\n(define-fun |command 2: ", start)
    rest = text[end + 1:]
    # renumber the commands after it so that the file stays well-formed
    rest = re.sub(r"\(define-fun \|command (\d+): ",
                  lambda m: f"(define-fun |command {int(m.group(1)) - 1}: ", rest)
    return text[:start] + rest


def _swap_property(made: Made, text: str) -> str:
    other = _text(made.certs["spec-asserts"])
    mine = text[text.index(";; property\n"):text.index(";; invariant\n")]
    theirs = other[other.index(";; property\n"):other.index(";; invariant\n")]
    return reseal(text.replace(mine, theirs))


def _with_invariant(text: str, invariant: str) -> str:
    return reseal(text[:text.index(";; invariant\n")] + ";; invariant\n" + invariant)


def _other_models_invariant(made: Made, text: str) -> str:
    other = _text(made.other)
    return _with_invariant(text, other[other.index(";; invariant\n") + len(";; invariant\n"):])


def _foreign_model(made: Made, text: str) -> str:
    other = _text(made.other)
    return reseal(_body_header(text) + _body(other)[:_body(other).index(";; property\n")]
                  + text[text.index(";; property\n"):])


def _body_header(text: str) -> str:
    return text[:text.index("\n;; state\n") + 1]


def _non_inductive(made: Made, text: str) -> str:
    program = made.job.program
    r = explore(program, {"t": lambda S: True}, 10_000, keep=True)
    fewer = [s for s in r.reached if s == program.init or hash(s) % 7]
    names = [str(x) for x in state_vars(program)]
    inv = to_smtlib(diagram(fewer, program.layout.size), names)
    return _with_invariant(text, drop_declarations(inv, set(names)))


def _violated_invariant_cert(made: Made, tmp: Path, minus_bad: bool) -> Path:
    """A certificate claiming `shallow` (which the model violates) with the reachable set, or
    the reachable set without its violating states, as the invariant."""
    program = made.job.program
    r = explore(program, {"t": lambda S: True}, 10_000, keep=True)
    sp = program.layout.where("sp")[0]
    states = [s for s in r.reached if not minus_bad or s[sp] < 2]
    inv = to_smtlib(diagram(states, program.layout.size), [str(x) for x in state_vars(program)])
    subject = replace(made.job.subject(made.job.properties[0]), property="stack-stays-shallow")
    return Path(certificate.write(tmp, subject, program, inv, "test", holds=shallow, origin=made.job))


def _kind_cert(made: Made, tmp: Path, prop: str, holds, k: int) -> Path:
    subject = replace(made.job.subject(made.job.properties[0]), property=prop)
    return Path(certificate.write(tmp, subject, made.job.program, None, "test", holds=holds,
                                  origin=made.job, k=k))


def _spec_asserts(prog, S):
    return S.d.eq(S.get("err_assert"), 0)


H, S = "held-value-once", "spec-asserts"

# (name, source certificate, change, extra flags, exit code, reason pattern)
CASES: list[tuple[str, str, Tamper, tuple[str, ...], int, str]] = [
    ("not gzip", H, lambda m, t: b"not gzip at all", (), 2, "not a complete gzip"),
    ("truncated file", H,
     lambda m, t: gzip.compress(t.encode())[: len(gzip.compress(t.encode())) // 2], (), 2,
     "not a complete gzip"),
    ("gzip of binary", H, lambda m, t: gzip.compress(b"\xff\xfe\x00\x81" * 50), (), 2, "not UTF-8"),
    ("not a certificate", H, lambda m, t: "(assert true)\n", (), 2, "not a specmc certificate"),
    ("older format", H,
     lambda m, t: t.replace("specmc certificate 2", "specmc certificate 1", 1), (), 2, "older"),
    ("header field missing", H,
     lambda m, t: "".join(line for line in t.splitlines(True) if not line.startswith("; bounds: ")), (), 2,
     "lacks bounds"),
    ("unbalanced invariant", H, lambda m, t: reseal(t.rstrip("\n")[:-1] + "\n"), (), 2,
     "unbalanced"),
    ("duplicated declarations", H,
     lambda m, t: reseal(t.replace(";; inputs\n", "(declare-fun |sp| () (_ BitVec 8))\n;; inputs\n", 1)),
     (), 2, "declared twice"),
    ("invariant not SMT-LIB", H,
     lambda m, t: reseal(t.replace("(= |sp| #x01)", "(frob |sp|)", 1)), (), 2, "not SMT-LIB2"),
    ("digest edited", H,
     lambda m, t: t.replace("; digest: ", "; digest: 0", 1), (), 1, "digest mismatch"),
    ("edited, not re-sealed", H, lambda m, t: _flip(t), (), 1, "digest mismatch"),
    ("model digest edited", H,
     lambda m, t: reseal(t, model=False).replace("; model: ", "; model: 0", 1), (), 1, "digest mismatch"),
    ("model digest edited, re-sealed", H,
     lambda m, t: seal(dict(_header(t), model="0" * 64), _body(t)), (), 1, "model digest mismatch"),
    ("flipped invariant bit", H, lambda m, t: reseal(_flip(t)), (), 1, "initiation|consecution"),
    ("dropped clause of Init", H, lambda m, t: reseal(_drop_init_clause(t), model=False), (), 1,
     "model digest mismatch"),
    ("dropped clause of Init, re-sealed", H, lambda m, t: reseal(_drop_init_clause(t)), (), 1,
     "Init does not fix every state variable"),
    # review 7, F3: an Init no state meets makes initiation, consecution and safety hold of nothing
    ("Init false, invariant false (re-sealed)", H,
     lambda m, t: _with_invariant(reseal(re.sub(r"\(define-fun \|init\| \(\) Bool \(and [^\n]*\)\)",
                                                "(define-fun |init| () Bool false)", t)), "(assert false)\n"),
     (), 1, "Init does not fix every state variable"),
    ("Init fixing sp twice, invariant false (re-sealed)", H,
     lambda m, t: _with_invariant(reseal(t.replace("(define-fun |init| () Bool (and ",
                                                   "(define-fun |init| () Bool (and (= |sp| #x02) ", 1)),
                                  "(assert false)\n"),
     (), 1, "Init does not fix every state variable"),
    ("transition command removed", H, lambda m, t: reseal(_drop_command(t), model=False), (), 1,
     "model digest mismatch"),
    ("transition command removed, re-sealed", H, lambda m, t: reseal(_drop_command(t)),
     ("--against",), 1, "stored Init and T differ"),
    ("property swapped for another", H, _swap_property, ("--against",), 1,
     "stored property is not held-value-once"),
    ("bounds edited", H,
     lambda m, t: reseal(t.replace("; bounds: objects=1,", "; bounds: objects=2,", 1)), (), 1,
     "file name is not the digest"),
    ("spec digest edited", H,
     lambda m, t: reseal(t.replace("; spec: ", "; spec: 0", 1)), (), 1, "file name is not the digest"),
    ("another model's invariant", H, _other_models_invariant, (), 1,
     "initiation|consecution|safety"),
    ("another model's Init and T", H, _foreign_model, (), 1,
     "not a state variable|initiation|consecution|safety"),
    ("non-inductive invariant", S, _non_inductive, (), 1, "consecution fails"),
    ("safety-violating invariant", S, lambda m, t: _with_invariant(t, "(assert true)\n"), (), 1,
     "safety fails"),
    ("a constant of a wrong sort", S,
     lambda m, t: _with_invariant(t, "(declare-fun |sp| () Bool)\n"
                                     "(assert (or |sp| (= |err_assert| #x00)))\n"),
     (), 1, "not state variables"),
    ("a free helper constant", S,
     lambda m, t: _with_invariant(t, "(declare-fun helper () Bool)\n(assert helper)\n"), (), 1,
     "not state variables"),
    ("a quantifier", S,
     lambda m, t: _with_invariant(t, "(assert (forall ((y (_ BitVec 8))) (= |err_assert| #x00)))\n"), (), 1,
     "not quantifier-free"),
    ("invariant over next-state variables", S,
     lambda m, t: _with_invariant(t, "(assert (= |err_assert'| #x00))\n"), (), 1, "not a state variable"),
    ("guard reads a next-state variable", S,
     lambda m, t: reseal(t.replace("(define-fun |command 0: ", "(define-fun |command 0: ", 1)
                         .replace(" () Bool (and ", " () Bool (and (= |sp'| |sp'|) ", 1)), (), 1,
     "not a variable it may read"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_tampering_is_refused(made, tmp_path, capsys, case):
    _name, source, change, flags, code, reason = case
    path = tmp_path / Path(made.certs[source]).name
    new = change(made, _text(made.certs[source]))
    path.write_bytes(new if isinstance(new, bytes) else gzip.compress(new.encode()))
    got, out = _recheck(capsys, path, *flags)
    assert out.count("\n") == 1 and ": REJECTED: " in out, out
    assert got == code, out
    assert re.search(reason, out), out


def test_a_command_removed_and_resealed_passes_alone_but_not_against(made, tmp_path, capsys):
    """Fewer commands keep a reachable set closed: only the model digest, or a rebuild, tells."""
    path = tmp_path / Path(made.certs["held-value-once"]).name
    path.write_bytes(gzip.compress(reseal(_drop_command(_text(made.certs["held-value-once"]))).encode()))
    assert _recheck(capsys, path)[0] == 0
    assert _recheck(capsys, path, "--against")[0] == 1


def test_a_section_mark_inside_a_comment_does_not_end_the_model(made, tmp_path, capsys):
    """Review 8 (F1): the model digest stopped at the first `;; invariant` anywhere, a comment at
    the end of a command's line too, so it covered part of T; a second file with that digest and
    a command more, one that breaks the property, shared the first file's consecution check and
    was accepted beside it (alone it was refused). The digest now runs to the next section mark."""
    text = _text(made.certs["held-value-once"])
    at = text.index(";; property\n")
    commented = text[:at].rstrip("\n") + " ;; invariant\n\n"
    n = len(re.findall(r"\(define-fun \|command (\d+): ", text))
    evil = (f"(define-fun |command {n}: evil@0: evil| () Bool "
            "(and (= |sp| |sp|) (= |cell_delivered'| #x02)))\n\n")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = tmp_path / "a" / Path(made.certs["held-value-once"]).name
    b = tmp_path / "b" / a.name
    a.write_bytes(gzip.compress(reseal(commented + text[at:]).encode()))
    b.write_bytes(gzip.compress(reseal(commented + evil + text[at:]).encode()))
    code = main(["recheck", str(a), str(b)])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1 and ": OK (" in lines[0], lines
    assert ": REJECTED: " in lines[1] and "consecution" in lines[1], lines


def test_sections_out_of_order_are_refused(made, tmp_path, capsys):
    """The model digest covers the model's sections, which come first: a transition section moved
    after the property would fall outside it."""
    text = _text(made.certs["held-value-once"])
    t0, p0, i0 = (text.index(f";; {n}\n") for n in ("transition", "property", "invariant"))
    moved = text[:t0] + text[p0:i0] + text[t0:p0] + text[i0:]
    path = tmp_path / Path(made.certs["held-value-once"]).name
    path.write_bytes(gzip.compress(reseal(moved).encode()))
    code, out = _recheck(capsys, path)
    assert code == 2 and "section transition comes after property" in out, out


def test_a_certificate_for_a_violated_property(made, tmp_path, capsys):
    """The reachable set admits the violating state (safety); without it, it is not closed."""
    code, out = _recheck(capsys, _violated_invariant_cert(made, tmp_path / "a", minus_bad=False))
    assert code == 1 and "safety fails" in out, out
    code, out = _recheck(capsys, _violated_invariant_cert(made, tmp_path / "b", minus_bad=True))
    assert code == 1 and "consecution fails" in out, out
    code, out = _recheck(capsys, _kind_cert(made, tmp_path / "c", "stack-stays-shallow", shallow, 4))
    assert code == 1 and "base case fails" in out, out


def test_a_k_induction_certificate_with_too_small_k(made, tmp_path, capsys):
    code, out = _recheck(capsys, _kind_cert(made, tmp_path, "spec-asserts", _spec_asserts, 0))
    assert code == 1 and "step case fails" in out, out


def test_a_certificate_without_a_property_is_refused(made, tmp_path, capsys):
    subject = made.job.subject(made.job.properties[0])
    text = _text(made.certs["held-value-once"])
    inv = text[text.index(";; invariant\n") + len(";; invariant\n"):]
    path = certificate.write(tmp_path, subject, made.job.program, inv, "test")
    code, out = _recheck(capsys, Path(path))
    assert code == 1 and "carries no property" in out, out


def test_one_line_per_file_and_the_worst_exit_code(made, tmp_path, capsys):
    bad = tmp_path / "bad.smt2.gz"
    bad.write_bytes(b"junk")
    good = tmp_path / Path(made.certs["spec-asserts"]).name
    shutil.copy(made.certs["spec-asserts"], good)
    code = main(["recheck", str(good), str(bad)])
    lines = capsys.readouterr().out.splitlines()
    assert code == 2 and len(lines) == 2 and ": OK (" in lines[0] and ": REJECTED: " in lines[1]


@pytest.mark.parametrize(("bounds", "family"), [
    ("objects=3,cells=2,frames=3,jobs=1,steps=10000", "3 obj_status variables, the file declares 1"),
    ("objects=1,cells=2,frames=3,jobs=1,steps=10000", "2 cell_status variables, the file declares 1"),
    ("objects=1,cells=1,frames=4,jobs=1,steps=10000", "4 frame_alg variables, the file declares 3"),
    ("objects=1,cells=1,frames=3,jobs=1,steps=10000,symbols=1", "1 sym_status variable, the file declares 0"),
])
def test_a_renamed_certificate_whose_header_claims_other_bounds(made, tmp_path, capsys, bounds, family):
    """Renamed, the file name no longer tells an edited header; the declarations still do: plain
    recheck printed "OK ... at objects=3,cells=2" for an objects=1 certificate (sixth review)."""
    text = _text(made.certs["held-value-once"])
    was = "; bounds: objects=1,cells=1,frames=3,jobs=1,steps=10000\n"
    assert was in text
    path = tmp_path / "renamed.smt2.gz"
    path.write_bytes(gzip.compress(reseal(text).encode()))
    assert _recheck(capsys, path)[0] == 0  # renamed and re-sealed, its header true: accepted
    path.write_bytes(gzip.compress(reseal(text.replace(was, f"; bounds: {bounds}\n", 1)).encode()))
    code, out = _recheck(capsys, path)
    assert code == 1 and ": REJECTED: " in out and family in out, out
