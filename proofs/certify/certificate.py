"""Proof certificates: what the engines write after a proof, and the two ways to re-check one.

A certificate carries everything a solver needs to confirm the proof without specmc's model
builder: the state variables, the initial condition Init, the transition relation T (one
formula per command), the property P, and either an inductive invariant Inv or the k of a
k-induction proof. The pieces live beside this module: fileformat.py (the file: header, seal,
sections), terms.py (the model as Z3 terms, built from a Program or parsed from the file) and
obligations.py (initiation, consecution, safety; base and step of k-induction).

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
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import z3
from specmc.model.program import Program
from specmc.model.symbolic import predicate_term
from specmc.proofs.atomic import write_atomic
from specmc.proofs.certify.fileformat import (
    FORMAT,
    INVARIANT,
    KIND,
    Certificate,
    CertificateError,
    Unreadable,
    drop_declarations,
    load,
    seal,
)
from specmc.proofs.certify.obligations import discharge
from specmc.proofs.certify.terms import (
    Model,
    check_layout,
    parse_model,
    parse_property,
    program_model,
    property_text,
)


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


# --- writing -----------------------------------------------------------------------------------


def write(folder: str | Path, subject: Subject, program: Program, invariant: Any, method: str, *,
          holds: Callable[[Program, Any], Any] | None = None, origin: Any = None,
          k: int | None = None) -> str:
    """Write a certificate atomically; returns the path.

    `invariant` is a Z3 Bool over the state variables, or SMT-LIB2 text (proofs/certify/invariant.py
    writes diagrams so; its declarations of state variables are dropped, the model section
    declares them), or None with `k` for a k-induction proof. `holds` is the property: without
    it the file can only be re-checked in-process. `origin` is the engine's loaded job
    (proofs/run/job.py `Loaded`): where the spec, host profile and property files were, so that
    `specmc recheck --against` can rebuild the model."""
    model, model_text = program_model(program)
    if k is None:
        if isinstance(invariant, str):
            inv_text = invariant
        else:
            s = z3.Solver()
            s.add(invariant)
            inv_text = s.sexpr()
        inv_text = drop_declarations(inv_text, {str(x) for x in model.xs})
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
        body += ";; property\n" + property_text(program, holds)
    if k is None:
        body += ";; invariant\n" + inv_text
    text = seal(head, body)
    path = Path(folder) / f"{subject.digest()}{'.kind' if k is not None else ''}.smt2.gz"
    write_atomic(path, gzip.compress(text.encode(), compresslevel=6, mtime=0))
    return str(path)


# --- re-checking -------------------------------------------------------------------------------


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
    discharge(cert, model, z3.BoolVal(prop) if isinstance(prop, bool) else prop, timeout_s)


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


def recheck_file(path: str | Path, timeout_s: float | None = None, against: bool = False,
                 properties_files: tuple[str, ...] = ()) -> Rechecked:
    """Re-check a certificate from the file alone (Init, T, the property and the invariant or k
    as written in it). With `against`, also rebuild the model from the spec, host profile and
    bounds the file records and require the same model and property text; a property that is
    not in the catalogue is looked up in `properties_files`, which the user gives: the
    certificate's own record of its properties files is never run (it is data anyone can write,
    and running it let a certificate switch its own check off: found by an independent review).
    The obligations are discharged before anything is rebuilt. Raises CertificateError (refused)
    or Unreadable."""
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
    # per file, not per cached model: a renamed copy shares the model digest of the original
    check_layout([str(x) for x in model.xs], h["bounds"])
    prop = parse_property(cert, model)
    discharge(cert, model, prop, timeout_s)
    if against:
        _against(cert, properties_files)
    return Rechecked(cert.head, time.perf_counter() - started)


def _against(cert: Certificate, properties_files: tuple[str, ...] = ()) -> None:
    """Rebuild the model the certificate names and compare: spec and profile digests, the model
    digest (Init and T), and the property's text."""
    from specmc.model.bounds import parse_bounds
    from specmc.proofs.run.job import Job
    from specmc.proofs.run.job import load as load_job
    from specmc.spec.diagnostics import SpecError

    if "origin" not in cert.head:
        raise Unreadable("--against: the certificate does not record where its spec came from")
    try:
        origin = json.loads(cert.head["origin"])
        named = [str(f) for f in origin.get("properties_files", ())]
        job = load_job(Job(tuple(origin["specs"]), origin["host"], parse_bounds(cert.head["bounds"]),
                           (cert.head["property"],), tuple(properties_files)))
    except (ValueError, KeyError, TypeError) as e:
        raise Unreadable(f"--against: the recorded origin is unusable ({e})") from None
    except (SpecError, OSError) as e:
        first = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        hint = (f"; the certificate names the properties file(s) {', '.join(named)}: give the one that "
                "defines the property with --properties-file" if named and not properties_files else "")
        raise Unreadable(f"--against: the recorded model cannot be rebuilt ({first}){hint}") from None
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
    if stored != property_text(job.program, job.properties[0].holds).strip():
        raise CertificateError(f"--against: the stored property is not {cert.head['property']} as the "
                               "catalogue defines it")
