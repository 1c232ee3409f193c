"""Certificates: a stored proof is re-checked by fresh solvers, and anything wrong with it is
refused, so a corrupted, foreign or non-inductive certificate never yields PROVED."""

from __future__ import annotations

import gzip
from dataclasses import replace

import pytest
import z3
from specmc.model.bounds import Bounds
from specmc.model.symbolic import state_vars
from specmc.proofs.certify import certificate, obligations
from specmc.proofs.certify.fileformat import CertificateError, read
from specmc.proofs.certify.invariant import diagram, to_smtlib, to_term
from specmc.proofs.engines import explicit
from specmc.proofs.run.job import Job, load

BOUNDS = Bounds(objects=1, frames=3)


@pytest.fixture(scope="module")
def proved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("certs")
    job = load(Job(("embedded",), "ecma262", BOUNDS, ("held-value-once", "spec-asserts"),
                   certificates=str(folder)))
    got = []
    explicit.run(job, got.append)
    return job, {o.property: o for o in got}


def test_explicit_proof_writes_a_certificate_that_rechecks(proved):
    job, out = proved
    o = out["held-value-once"]
    assert o.verdict == "PROVED" and o.certificate and o.certificate.endswith(".smt2.gz")
    p = job.properties[0]
    certificate.recheck(o.certificate, job.subject(p), job.program, p.holds)  # raises if refused
    head, text = read(o.certificate)
    assert head["property"] == "held-value-once" and "(assert" in text


def _rewrite(path: str, change) -> None:
    with open(path, "rb") as f:
        text = gzip.decompress(f.read()).decode()
    with open(path, "wb") as f:
        f.write(gzip.compress(change(text).encode()))


def test_corrupted_certificate_is_refused(proved, tmp_path):
    job, out = proved
    p = job.properties[0]
    path = tmp_path / "c.smt2.gz"
    path.write_bytes(open(out[p.id].certificate, "rb").read())
    # flip one value in the invariant: some reachable state drops out of it
    def flip(text: str) -> str:
        assert "(= |sp| #x01)" in text
        return text.replace("(= |sp| #x01)", "(= |sp| #x07)", 1)

    _rewrite(str(path), flip)
    with pytest.raises(CertificateError):
        certificate.recheck(path, job.subject(p), job.program, p.holds)
    path.write_bytes(b"not gzip at all")
    with pytest.raises(CertificateError, match="unreadable"):
        certificate.recheck(path, job.subject(p), job.program, p.holds)


def test_certificate_for_another_subject_is_refused(proved):
    job, out = proved
    p = job.properties[0]
    other = replace(job.subject(p), property="spec-asserts")
    with pytest.raises(CertificateError, match="property"):
        certificate.recheck(out[p.id].certificate, other, job.program, p.holds)


@pytest.mark.parametrize("split_after_ms", [obligations.SPLIT_AFTER_MS, 0])
def test_non_inductive_invariant_fails_consecution(proved, tmp_path, monkeypatch, split_after_ms):
    """The reachable set minus its deepest states contains the initial state and is safe,
    but it is not closed under the transition relation. With no time for a group's one query
    (0 ms), every group is asked command by command: the same refusal, naming a command."""
    from specmc.model.explore import explore

    monkeypatch.setattr(obligations, "SPLIT_AFTER_MS", split_after_ms)
    monkeypatch.setattr(obligations, "_CONSECUTIVE", set())
    job, _ = proved
    program = job.program
    r = explore(program, {"t": lambda S: True}, 10_000, keep=True)
    init = program.init
    fewer = [s for s in r.reached if s == init or hash(s) % 7]
    inv = to_term(diagram(fewer, program.layout.size), state_vars(program))
    p = job.properties[1]
    subject = replace(job.subject(p), bounds=BOUNDS.describe() + ",test")
    path = certificate.write(tmp_path, subject, program, inv, "test")
    with pytest.raises(CertificateError, match="consecution fails: command '(?!one of)"):
        certificate.recheck(path, subject, program, p.holds)


def test_a_true_invariant_passes_when_every_group_is_split(proved, monkeypatch):
    """The other half of the split: command-by-command queries accept what the group queries do."""
    job, out = proved
    monkeypatch.setattr(obligations, "SPLIT_AFTER_MS", 0)
    monkeypatch.setattr(obligations, "_CONSECUTIVE", set())
    monkeypatch.setattr(obligations, "_PARSED", {})
    p = job.properties[0]
    certificate.recheck(out[p.id].certificate, job.subject(p), job.program, p.holds)


def test_unsafe_invariant_fails_safety(proved, tmp_path):
    job, _ = proved
    program = job.program
    p = job.properties[1]  # spec-asserts: err_assert stays 0
    subject = job.subject(p)
    path = certificate.write(tmp_path, subject, program, z3.BoolVal(True), "test")
    with pytest.raises(CertificateError, match="safety"):
        certificate.recheck(path, subject, program, p.holds)


@pytest.mark.parametrize("declaration", ["(declare-fun |sp| () Bool)", "(declare-fun helper () Bool)"])
def test_a_constant_that_is_not_a_state_variable_is_refused(proved, tmp_path, declaration):
    """A constant the solver is free to choose (another name, or a state variable's name with
    another sort) would let any invariant pass; the certificate naming one is refused."""
    job, _ = proved
    p = job.properties[1]
    name = declaration.split()[1]
    text = (f"(declare-fun |err_assert| () (_ BitVec 8))\n{declaration}\n"
            f"(assert (or {name} (= |err_assert| #x00)))\n")
    path = certificate.write(tmp_path, job.subject(p), job.program, text, "test")
    with pytest.raises(CertificateError, match="not state variables"):
        certificate.recheck(path, job.subject(p), job.program, p.holds)


def test_an_invariant_from_a_slice_that_dropped_a_guard_variable_is_refused(tmp_path):
    """The explicit engine writes invariants over the variables of a cone (model/slice.py); the
    check holds them to the whole model, so a cone that missed a dependency cannot prove."""
    from specmc.model.explore import explore
    from specmc.model.slice import Dependencies, sliced

    loaded = load(Job(("embedded",), "ecma262", BOUNDS, ("spec-asserts",), certificates=str(tmp_path)))
    program = loaded.program
    deps = Dependencies(program)
    base, size = program.layout.where("need_clear")
    keep = deps.cone(()) - set(range(base, base + size))  # the event loop's guards read it
    part = explore(sliced(program, keep), {}, BOUNDS.steps, keep=True)
    assert part.complete
    kept = sorted(keep)
    names = [str(x) for x in state_vars(program)]
    inv = to_smtlib(diagram((tuple(s[i] for i in kept) for s in part.reached), len(kept)),
                    [names[i] for i in kept])
    p = loaded.properties[0]
    path = certificate.write(tmp_path, loaded.subject(p), program, inv, "a slice missing a guard",
                             holds=p.holds, origin=loaded)
    with pytest.raises(CertificateError):
        certificate.recheck(path, loaded.subject(p), program, p.holds)
    # the right cone's invariant is accepted: the refusal is about the missing variable
    keep = deps.cone(deps.of(p.holds))
    part = explore(sliced(program, keep), {}, BOUNDS.steps, keep=True)
    kept = sorted(keep)
    inv = to_smtlib(diagram((tuple(s[i] for i in kept) for s in part.reached), len(kept)),
                    [names[i] for i in kept])
    path = certificate.write(tmp_path / "ok", loaded.subject(p), program, inv, "the property's cone",
                             holds=p.holds, origin=loaded)
    certificate.recheck(path, loaded.subject(p), program, p.holds)
